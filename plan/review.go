package plan

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/aiprod/aiprod-pubsub/spec"
)

// deleteOps are the operations after which a resource no longer exists.
var deleteOps = []string{"delete", "delete-replaced", "discard", "discard-replaced", "remove-pending-replace"}

// replaceOps are the operations that replace a resource by a new one.
var replaceOps = []string{"replace", "create-replacement"}

func isDelete(op string) bool  { return slices.Contains(deleteOps, op) }
func isReplace(op string) bool { return slices.Contains(replaceOps, op) }

// opRank orders steps for a reviewer, most destructive first: deletes, replaces, updates,
// creates, then the rest (same, read, refresh).
func opRank(op string) int {
	switch {
	case isDelete(op):
		return 0
	case isReplace(op):
		return 1
	case op == "update":
		return 2
	case op == opCreate || op == "import":
		return 3
	}
	return 4
}

// unchanged reports whether a step changes nothing a reviewer must read.
func unchanged(op string) bool { return opRank(op) == 4 }

// Loss is a change that drops queued messages: a topic or a subscription deleted or replaced.
type Loss struct {
	URN  string `json:"urn"`
	Name string `json:"name"`
	// Kind is "topic" or "subscription"; Op the step's operation.
	Kind string `json:"kind"`
	Op   string `json:"op"`
	// Message says what is lost and why.
	Message string `json:"message"`
	// Accepted is true when a reviewer accepted it (Options.AcceptLoss).
	Accepted bool `json:"accepted"`
}

// losses finds the steps that drop messages, in review order.
func losses(steps []Step, accept []string) []Loss {
	var out []Loss
	for _, s := range reviewOrder(steps) {
		r := s.Resource
		if !isDelete(s.Op) && !isReplace(s.Op) || r.Type != spec.TopicType && r.Type != spec.SubscriptionType {
			continue
		}
		name := physical(r.Inputs, r.Name)
		l := Loss{URN: r.URN, Name: name, Kind: kind(r.Type), Op: s.Op,
			Accepted: slices.Contains(accept, name) || slices.Contains(accept, r.Name)}
		verb := "deleting"
		if isReplace(s.Op) {
			verb = "replacing"
		}
		what := "drops its backlog"
		if r.Type == spec.TopicType {
			what = "loses what is published until it exists again and detaches its subscriptions"
		}
		l.Message = fmt.Sprintf("%s %s %s %s", verb, l.Kind, name, what)
		if why := changedProperties(s); why != "" {
			l.Message += ": " + why + " changed"
		}
		out = append(out, l)
	}
	return out
}

// UnusedAcceptances are the names accepted that no loss of the plan has: a stale label.
func (p *Plan) UnusedAcceptances(accept []string) []string {
	var out []string
	for _, a := range accept {
		if !slices.ContainsFunc(p.Losses, func(l Loss) bool { return l.Accepted && (l.Name == a || urnName(l.URN) == a) }) {
			out = append(out, a)
		}
	}
	return out
}

// physical is a resource's name property, or its logical name.
func physical(in resource.PropertyMap, logical string) string {
	return cmp.Or(show(in, "name"), logical)
}

// reviewOrder returns the steps a reviewer reads, most destructive first, then by kind and
// name; unchanged steps are left out.
func reviewOrder(steps []Step) []Step {
	var out []Step
	for _, s := range ordered(steps) {
		if !unchanged(s.Op) {
			out = append(out, s)
		}
	}
	slices.SortStableFunc(out, func(a, b Step) int { return opRank(a.Op) - opRank(b.Op) })
	return out
}

// changedProperties names what a replace or update changes: the replace reasons, else the
// diff reasons; "" when the preview gives none.
func changedProperties(s Step) string {
	reasons := s.ReplaceReasons
	if len(reasons) == 0 {
		reasons = s.DiffReasons
	}
	reasons = slices.DeleteFunc(slices.Clone(reasons), func(r string) bool { return r == "replaceWith" })
	return strings.Join(reasons, ", ")
}

// why says for a reviewer why a step happens: what is replaced with what, which properties
// change from what to what, or that a resource is no longer declared.
func why(s Step) string {
	switch {
	case isDelete(s.Op):
		return "no longer declared: deleted"
	case isReplace(s.Op) && slices.Contains(s.ReplaceReasons, "replaceWith") && changedProperties(s) == "":
		var with []string
		for _, u := range s.Resource.ReplaceWith {
			with = append(with, urnName(u))
		}
		return "replaced with " + strings.Join(with, ", ") + " (replaceWith)"
	case isReplace(s.Op):
		return "replaced: " + changes(s)
	case s.Op == "update":
		return "updated: " + changes(s)
	}
	return ""
}

// changes shows each changed property with its old and new value: "ackDeadlineSeconds 300 ->
// 120".
func changes(s Step) string {
	keys := s.ReplaceReasons
	if len(keys) == 0 {
		keys = s.DiffReasons
	}
	var parts []string
	for _, k := range keys {
		if k == "replaceWith" {
			continue
		}
		part := k
		if s.Old != nil {
			part += " " + change(s.Resource.Type, k, s.Old.Inputs, s.Resource.Inputs)
		}
		parts = append(parts, part)
	}
	if len(parts) == 0 {
		return "the preview gives no reason"
	}
	return strings.Join(parts, ", ")
}

// maxChangeShown is the longest old and new value a change shows; a longer one (a dashboard's
// JSON) is only named.
const maxChangeShown = 120

// change shows how the property key of a resource of type typ changes from old to new: "300 ->
// 120"; an alert policy's conditions as the plan shows them, only those that change.
func change(typ, key string, old, new resource.PropertyMap) string {
	if typ == spec.AlertPolicyType && key == "conditions" {
		before, after := alertConditions(old), alertConditions(new)
		var diffs []string
		for i := range max(len(before), len(after)) {
			b, a := "(none)", "(none)"
			if i < len(before) {
				b = before[i]
			}
			if i < len(after) {
				a = after[i]
			}
			if a != b {
				diffs = append(diffs, b+" -> "+a)
			}
		}
		if len(diffs) > 0 {
			return strings.Join(diffs, ", ")
		}
	}
	b, a := orUnset(showProperty(key, show(old, key))), orUnset(showProperty(key, show(new, key)))
	if len(b) > maxChangeShown || len(a) > maxChangeShown {
		return "(too long to show)"
	}
	return b + " -> " + a
}

func orUnset(v string) string {
	if v == "" {
		return "(unset)"
	}
	return v
}
