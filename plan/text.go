package plan

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/aiprod/aiprod-pubsub/policy/rules"
	"github.com/aiprod/aiprod-pubsub/spec"
)

// kindRank orders the resource table: what others depend on first.
var kindRank = map[string]int{
	spec.ServiceAccountType:        1,
	spec.PipelineType:              2,
	spec.TopicType:                 3,
	spec.SubscriptionType:          4,
	spec.TopicIAMMemberType:        5,
	spec.SubscriptionIAMMemberType: 6,
	spec.AlertPolicyType:           7,
}

// ordered returns the steps in reading order: by kind, then name, then URN.
func ordered(steps []Step) []Step {
	out := slices.Clone(steps)
	slices.SortStableFunc(out, func(a, b Step) int {
		ra, ok := kindRank[a.Resource.Type]
		if !ok {
			ra = len(kindRank) + 1
		}
		rb, ok := kindRank[b.Resource.Type]
		if !ok {
			rb = len(kindRank) + 1
		}
		return cmp.Or(cmp.Compare(ra, rb), strings.Compare(a.Resource.Name, b.Resource.Name),
			strings.Compare(a.Resource.URN, b.Resource.URN))
	})
	return out
}

// WriteText writes the plan for people, what a reviewer must act on first: the engine's
// errors, the message losses and the policy violations; then the resources that change, most
// destructive first, with their key settings; the config, the stack file's values apart from
// Pulumi.yaml's defaults; the outputs; and last the verdict, in one line.
func (p *Plan) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s of %s, stack %s: %s\n", p.title(), p.Project, p.Stack, p.summaryLine())
	fmt.Fprintf(&b, "Critical path: %s\n", p.criticalPathLine())
	fmt.Fprintf(&b, "Policy config: %s\n", p.policyConfigLine())
	p.writeNotDeployableText(&b)
	p.writeErrorsText(&b)
	p.writeLossesText(&b)
	p.writeViolationsText(&b)
	if err := p.writeStepsText(&b); err != nil {
		return err
	}
	p.writeConfigText(&b)
	p.writeOutputsText(&b)
	fmt.Fprintf(&b, "\nverdict: %s\n", p.verdict())
	_, err := io.WriteString(w, b.String())
	return err
}

// writeErrorsText says that the preview failed, and on what: the engine's errors, or its
// policy violations.
func (p *Plan) writeErrorsText(b *strings.Builder) {
	switch {
	case len(p.Errors) > 0:
		fmt.Fprintf(b, "\nThe preview failed: %d engine %s; the changes below may not be all of it\n", len(p.Errors), plural(len(p.Errors), "error", "errors"))
	case p.Failed:
		b.WriteString("\n" + p.failedWithoutErrors() + "\n")
	}
	for _, e := range p.Errors {
		for line := range strings.Lines(e) {
			fmt.Fprintf(b, "  %s\n", strings.TrimRight(line, "\n"))
		}
	}
}

// failedWithoutErrors says on what a preview failed that names no engine error; "" when it did
// not fail.
func (p *Plan) failedWithoutErrors() string {
	switch {
	case !p.Failed:
		return ""
	case p.Mandatory():
		return "The preview failed on the mandatory policy violations below"
	}
	return "The preview failed without an error of its own: the engine's policy pack or config judged otherwise than this review"
}

// writeLossesText lists the changes that drop queued messages.
func (p *Plan) writeLossesText(b *strings.Builder) {
	if len(p.Losses) == 0 {
		return
	}
	fmt.Fprintf(b, "\nMessage loss: %s\n", p.lossCounts())
	for _, l := range p.Losses {
		fmt.Fprintf(b, "  %s\n", l.Message)
		if l.Accepted {
			b.WriteString("    accepted by the reviewer (--accept-loss)\n")
		} else {
			fmt.Fprintf(b, "    not accepted: a reviewer accepts it with --accept-loss %s (the pull-request label accept-loss:%s)\n", l.Name, l.Name)
		}
	}
}

// lossCounts is "2 changes drop queued messages, 1 not accepted".
func (p *Plan) lossCounts() string {
	open := 0
	for _, l := range p.Losses {
		if !l.Accepted {
			open++
		}
	}
	return fmt.Sprintf("%d %s queued messages, %d not accepted", len(p.Losses), plural(len(p.Losses), "change drops", "changes drop"), open)
}

// writeStepsText writes the resource table: every resource of a new stack, or what a preview
// changes, most destructive first, with why; unchanged resources are only counted.
func (p *Plan) writeStepsText(b *strings.Builder) error {
	steps, same := p.reviewSteps()
	title := "Resources"
	if p.isReview() {
		title = fmt.Sprintf("Changes, most destructive first (%d unchanged)", same)
	}
	b.WriteString("\n" + title + "\n")
	var table strings.Builder
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  OP\tTYPE\tNAME\tSETTINGS")
	if !unchanged(p.StackOp) {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t\n", p.StackOp, kind(spec.StackType), p.Project+"-"+p.Stack)
	}
	for _, s := range steps {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", s.Op, kind(s.Resource.Type), s.Resource.Name, strings.Join(rowSettings(s), "; "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(steps) == 0 && unchanged(p.StackOp) {
		b.WriteString("  (nothing changes)\n")
		return nil
	}
	for line := range strings.Lines(table.String()) {
		b.WriteString(strings.TrimRight(line, " \n") + "\n")
	}
	return nil
}

// rowSettings are a step's why, when it has one, then its key settings.
func rowSettings(s Step) []string {
	if w := why(s); w != "" {
		return append([]string{w}, settings(s.Resource)...)
	}
	return settings(s.Resource)
}

// isReview reports whether the plan is a change to a stack that exists, as a preview of it
// shows, rather than a new stack.
func (p *Plan) isReview() bool {
	return p.StackOp != opCreate || slices.ContainsFunc(p.Steps, func(s Step) bool { return s.Op != opCreate })
}

// reviewSteps are the steps a reviewer reads, in order, and how many are left out unchanged.
func (p *Plan) reviewSteps() ([]Step, int) {
	steps := reviewOrder(p.Steps)
	return steps, len(p.Steps) - len(steps)
}

// writeConfigText writes the config: the values the stack file set, then those left to
// Pulumi.yaml's defaults, when the plan knows which are which.
func (p *Plan) writeConfigText(b *strings.Builder) {
	if len(p.Config) == 0 {
		return
	}
	keys := slices.Sorted(maps.Keys(p.Config))
	if p.StackKeys == nil {
		b.WriteString("\nConfig (a preview document does not say which values the stack file set)\n")
		p.writeConfigValues(b, keys)
		return
	}
	set, defaults := []string{}, []string{}
	for _, k := range keys {
		if slices.Contains(p.StackKeys, k) {
			set = append(set, k)
		} else {
			defaults = append(defaults, k)
		}
	}
	fmt.Fprintf(b, "\nConfig set by the stack file (%d)\n", len(set))
	p.writeConfigValues(b, set)
	fmt.Fprintf(b, "\nConfig left to Pulumi.yaml's defaults (%d)\n", len(defaults))
	p.writeConfigValues(b, defaults)
}

// writeConfigValues writes the values of keys, one a line.
func (p *Plan) writeConfigValues(b *strings.Builder, keys []string) {
	if len(keys) == 0 {
		b.WriteString("  (none)\n")
	}
	for _, k := range keys {
		fmt.Fprintf(b, "  %s: %s\n", k, cmp.Or(p.Config[k], `""`))
	}
}

// writeOutputsText writes the stack's outputs.
func (p *Plan) writeOutputsText(b *strings.Builder) {
	b.WriteString("\nOutputs\n")
	outs := flatten(p.Outputs)
	if len(outs) == 0 {
		b.WriteString("  (none)\n")
	}
	for _, kv := range outs {
		fmt.Fprintf(b, "  %s: %s\n", kv[0], kv[1])
	}
}

// writeViolationsText writes the policy violations, mandatory policies first.
func (p *Plan) writeViolationsText(b *strings.Builder) {
	fmt.Fprintf(b, "\nPolicy violations (pack %s): ", rules.PackName)
	switch {
	case len(p.Violations) == 0 && len(p.Errors) > 0:
		b.WriteString("none among the resources the failed preview lists\n")
		return
	case len(p.Violations) == 0:
		b.WriteString("none\n")
		return
	}
	b.WriteString(p.violationCounts() + "\n")
	for _, g := range groupByPolicy(p.Violations) {
		fmt.Fprintf(b, "  %s (%s)\n", g[0].PolicyName, g[0].EnforcementLevel)
		for _, v := range g {
			fmt.Fprintf(b, "    %s\n", v.URN)
			for line := range strings.Lines(v.Message) {
				fmt.Fprintf(b, "      %s\n", strings.TrimRight(line, "\n"))
			}
		}
	}
}

// summaryLine counts the steps by operation: "16 to create".
func (p *Plan) summaryLine() string {
	sum := p.changeSummary()
	var parts []string
	for _, op := range slices.Sorted(maps.Keys(sum)) {
		parts = append(parts, fmt.Sprintf("%d to %s", sum[op], op))
	}
	return strings.Join(parts, ", ") + " (the stack included)"
}

// policyConfigLine names the policy config the plan was judged with.
func (p *Plan) policyConfigLine() string {
	if p.PolicyConfigFile == "" {
		return "none, every policy's defaults"
	}
	return p.PolicyConfigFile
}

// criticalPathLine shows the critical path: "3 steps: topic a -> subscription b -> ...".
func (p *Plan) criticalPathLine() string {
	if len(p.CriticalPath) == 0 {
		return "nothing to create"
	}
	byURN := make(map[string]Step, len(p.Steps))
	for _, s := range p.Steps {
		byURN[s.Resource.URN] = s
	}
	parts := make([]string, len(p.CriticalPath))
	for i, u := range p.CriticalPath {
		r := byURN[u].Resource
		parts[i] = kind(r.Type) + " " + r.Name
	}
	return fmt.Sprintf("%d steps: %s", len(p.CriticalPath), strings.Join(parts, " -> "))
}

// violationCounts is "1 mandatory, 2 advisory".
func (p *Plan) violationCounts() string {
	n := map[string]int{}
	for _, v := range p.Violations {
		n[v.EnforcementLevel]++
	}
	var parts []string
	for _, level := range slices.Sorted(maps.Keys(n)) {
		parts = append(parts, fmt.Sprintf("%d %s", n[level], level))
	}
	return strings.Join(parts, ", ")
}

// groupByPolicy groups violations (sorted by policy) by policy: mandatory policies first.
func groupByPolicy(vs []rules.Violation) [][]rules.Violation {
	var groups [][]rules.Violation
	for _, v := range vs {
		if n := len(groups); n > 0 && groups[n-1][0].PolicyName == v.PolicyName {
			groups[n-1] = append(groups[n-1], v)
			continue
		}
		groups = append(groups, []rules.Violation{v})
	}
	slices.SortStableFunc(groups, func(a, b []rules.Violation) int {
		return cmp.Compare(levelRank(a[0].EnforcementLevel), levelRank(b[0].EnforcementLevel))
	})
	return groups
}

func levelRank(level string) int {
	if level == levelMandatory {
		return 0
	}
	return 1
}

// flatten turns nested outputs into sorted dotted keys and printable values.
func flatten(m map[string]any) [][2]string {
	var out [][2]string
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for _, k := range slices.Sorted(maps.Keys(x)) {
				key := k
				if prefix != "" {
					key = prefix + "." + k
				}
				walk(key, x[k])
			}
		case []any:
			for i, e := range x {
				walk(fmt.Sprintf("%s[%d]", prefix, i), e)
			}
		case string:
			if x == spec.Unknown {
				x = unknownShown
			}
			out = append(out, [2]string{prefix, x})
		default:
			out = append(out, [2]string{prefix, fmt.Sprint(x)})
		}
	}
	walk("", m)
	return out
}

// plural is one or many, as n asks.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
