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

// WriteText writes the plan for people: resources and their key settings, the critical path,
// config, outputs and the policy violations grouped by policy.
func (p *Plan) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Offline plan of %s, stack %s: %s\n", p.Project, p.Stack, p.summaryLine())
	fmt.Fprintf(&b, "Critical path: %s\n", p.criticalPathLine())

	b.WriteString("\nResources\n")
	var table strings.Builder
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  OP\tTYPE\tNAME\tSETTINGS")
	fmt.Fprintf(tw, "  %s\t%s\t%s\t\n", p.StackOp, kind(spec.StackType), p.Project+"-"+p.Stack)
	for _, s := range ordered(p.Steps) {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", s.Op, kind(s.Resource.Type), s.Resource.Name,
			strings.Join(settings(s.Resource), "; "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for line := range strings.Lines(table.String()) {
		b.WriteString(strings.TrimRight(line, " \n") + "\n")
	}

	if len(p.Config) > 0 {
		b.WriteString("\nConfig\n")
		for _, k := range slices.Sorted(maps.Keys(p.Config)) {
			v := p.Config[k]
			if v == "" {
				v = `""`
			}
			fmt.Fprintf(&b, "  %s: %s\n", k, v)
		}
	}

	b.WriteString("\nOutputs\n")
	outs := flatten(p.Outputs)
	if len(outs) == 0 {
		b.WriteString("  (none)\n")
	}
	for _, kv := range outs {
		fmt.Fprintf(&b, "  %s: %s\n", kv[0], kv[1])
	}

	fmt.Fprintf(&b, "\nPolicy violations (pack %s): ", rules.PackName)
	if len(p.Violations) == 0 {
		b.WriteString("none\n")
	} else {
		b.WriteString(p.violationCounts() + "\n")
		for _, g := range groupByPolicy(p.Violations) {
			fmt.Fprintf(&b, "  %s (%s)\n", g[0].PolicyName, g[0].EnforcementLevel)
			for _, v := range g {
				fmt.Fprintf(&b, "    %s\n", v.URN)
				for line := range strings.Lines(v.Message) {
					fmt.Fprintf(&b, "      %s\n", strings.TrimRight(line, "\n"))
				}
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
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
	if level == "mandatory" {
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
		default:
			out = append(out, [2]string{prefix, fmt.Sprint(x)})
		}
	}
	walk("", m)
	return out
}
