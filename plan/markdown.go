package plan

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/aiprod/aiprod-pubsub/policy/rules"
)

// WriteMarkdown writes a review fit for a pull-request comment: the verdict (verdict), the engine's
// errors, the message losses and the policy violations, then the counts and the resources
// that change, most destructive first.
func (p *Plan) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "### %s: `%s` stack `%s`\n\n", p.title(), p.Project, p.Stack)
	fmt.Fprintf(&b, "**verdict: %s**\n\n", p.verdict())
	p.writeNotDeployableMarkdown(&b)
	p.writeErrorsMarkdown(&b)
	p.writeLossesMarkdown(&b)
	if len(p.Violations) > 0 {
		fmt.Fprintf(&b, "#### Policy violations (pack `%s`)\n\n", rules.PackName)
		b.WriteString("| level | policy | resource | message |\n| --- | --- | --- | --- |\n")
		for _, g := range groupByPolicy(p.Violations) {
			for _, v := range g {
				fmt.Fprintf(&b, "| %s | `%s` | `%s` | %s |\n", v.EnforcementLevel, v.PolicyName,
					urnName(v.URN), cell(v.Message))
			}
		}
		b.WriteString("\n#### Counts\n\n")
	}
	p.writeCountsMarkdown(&b)
	p.writeStepsMarkdown(&b)
	_, err := io.WriteString(w, b.String())
	return err
}

// writeErrorsMarkdown lists the engine's errors.
func (p *Plan) writeErrorsMarkdown(b *strings.Builder) {
	if len(p.Errors) == 0 {
		if why := p.failedWithoutErrors(); why != "" {
			b.WriteString(why + ".\n\n")
		}
		return
	}
	b.WriteString("#### Engine errors: the preview failed\n\nThe changes below may not be all of it.\n\n```\n")
	for _, e := range p.Errors {
		b.WriteString(strings.TrimRight(e, "\n") + "\n")
	}
	b.WriteString("```\n\n")
}

// writeLossesMarkdown lists the changes that drop queued messages.
func (p *Plan) writeLossesMarkdown(b *strings.Builder) {
	if len(p.Losses) == 0 {
		return
	}
	fmt.Fprintf(b, "#### Message loss: %s\n\n| resource | finding | accepted |\n| --- | --- | --- |\n", p.lossCounts())
	for _, l := range p.Losses {
		accepted := "no: label the pull request `accept-loss:" + l.Name + "` to accept it"
		if l.Accepted {
			accepted = "yes"
		}
		fmt.Fprintf(b, "| `%s` | %s | %s |\n", l.Name, cell(l.Message), accepted)
	}
	b.WriteString("\n")
}

// writeCountsMarkdown writes the counts by operation and by kind of resource, and the
// critical path.
func (p *Plan) writeCountsMarkdown(b *strings.Builder) {
	b.WriteString("| operation | count |\n| --- | ---: |\n")
	sum := p.changeSummary()
	for _, op := range slices.Sorted(maps.Keys(sum)) {
		fmt.Fprintf(b, "| %s | %d |\n", op, sum[op])
	}
	byKind := map[string]int{}
	for _, s := range p.Steps {
		byKind[kind(s.Resource.Type)]++
	}
	b.WriteString("\n| resource type | count |\n| --- | ---: |\n")
	for _, k := range slices.Sorted(maps.Keys(byKind)) {
		fmt.Fprintf(b, "| %s | %d |\n", k, byKind[k])
	}
	fmt.Fprintf(b, "\nCritical path: %s.\n", p.criticalPathLine())
	fmt.Fprintf(b, "\nPolicy config: %s.\n", p.policyConfigLine())
}

// writeStepsMarkdown writes the resources a reviewer reads, most destructive first.
func (p *Plan) writeStepsMarkdown(b *strings.Builder) {
	steps, same := p.reviewSteps()
	if p.isReview() {
		fmt.Fprintf(b, "\n#### Changes, most destructive first (%d unchanged)\n\n", same)
	} else {
		b.WriteString("\n#### Resources\n\n")
	}
	b.WriteString("| op | type | name | settings |\n| --- | --- | --- | --- |\n")
	for _, s := range steps {
		fmt.Fprintf(b, "| %s | %s | `%s` | %s |\n", s.Op, kind(s.Resource.Type), s.Resource.Name,
			cell(strings.Join(rowSettings(s), "; ")))
	}
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
