package plan

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/aiprod/aiprod-pubsub/policy/rules"
)

// WriteMarkdown writes a summary fit for a pull-request comment: the verdict, the policy
// violations, the counts, then the resources.
func (p *Plan) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "### Offline plan: `%s` stack `%s`\n\n", p.Project, p.Stack)
	switch {
	case p.Mandatory():
		fmt.Fprintf(&b, "**Mandatory policy violations: the stack would not deploy.** (%s)\n\n", p.violationCounts())
	case len(p.Violations) > 0:
		fmt.Fprintf(&b, "**No mandatory policy violation.** (%s)\n\n", p.violationCounts())
	default:
		b.WriteString("**No policy violation.**\n\n")
	}
	if len(p.Violations) > 0 {
		fmt.Fprintf(&b, "#### Policy violations (pack `%s`)\n\n", rules.PackName)
		b.WriteString("| level | policy | resource | message |\n| --- | --- | --- | --- |\n")
		for _, g := range groupByPolicy(p.Violations) {
			for _, v := range g {
				fmt.Fprintf(&b, "| %s | `%s` | `%s` | %s |\n", v.EnforcementLevel, v.PolicyName,
					urnName(v.URN), cell(v.Message))
			}
		}
		b.WriteString("\n#### Changes\n\n")
	}
	b.WriteString("| operation | count |\n| --- | ---: |\n")
	sum := p.changeSummary()
	for _, op := range slices.Sorted(maps.Keys(sum)) {
		fmt.Fprintf(&b, "| %s | %d |\n", op, sum[op])
	}
	byKind := map[string]int{}
	for _, s := range p.Steps {
		byKind[kind(s.Resource.Type)]++
	}
	b.WriteString("\n| resource type | count |\n| --- | ---: |\n")
	for _, k := range slices.Sorted(maps.Keys(byKind)) {
		fmt.Fprintf(&b, "| %s | %d |\n", k, byKind[k])
	}
	fmt.Fprintf(&b, "\nCritical path: %s.\n", p.criticalPathLine())

	b.WriteString("\n#### Resources\n\n| op | type | name | settings |\n| --- | --- | --- | --- |\n")
	for _, s := range ordered(p.Steps) {
		fmt.Fprintf(&b, "| %s | %s | `%s` | %s |\n", s.Op, kind(s.Resource.Type), s.Resource.Name,
			cell(strings.Join(settings(s.Resource), "; ")))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// urnName is the name part of a URN, or the URN when it has none.
func urnName(urn string) string {
	if i := strings.LastIndex(urn, "::"); i >= 0 {
		return urn[i+2:]
	}
	return urn
}

// cell escapes text for a Markdown table cell.
func cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", "<br>")
}
