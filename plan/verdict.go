package plan

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// levelMandatory is the enforcement level of a violation that blocks the change, as
// rules.Violation spells it.
const levelMandatory = "mandatory"

// Blocked reports whether the change must not go ahead: the preview failed, a mandatory
// policy fails, or a change drops messages that no reviewer accepted. It is true exactly when
// the verdict says so.
func (p *Plan) Blocked() bool { return len(p.blockers()) > 0 }

// verdict is the plan's decision in one line, counted: "must not go ahead: 1 mandatory policy
// violation, 1 unaccepted loss of messages (aiprod-pipeline-jobs-sub)" or "may go ahead: 24
// creates, no violations".
func (p *Plan) verdict() string {
	if why := p.blockers(); len(why) > 0 {
		return "must not go ahead: " + strings.Join(why, ", ")
	}
	parts := []string{p.changeCounts()}
	if n := len(p.Violations); n > 0 {
		parts = append(parts, fmt.Sprintf("%d advisory policy %s", n, plural(n, "violation", "violations")))
	} else {
		parts = append(parts, "no violations")
	}
	if names := p.lossNames(true); len(names) > 0 {
		parts = append(parts, fmt.Sprintf("%d accepted %s of messages (%s)", len(names), plural(len(names), "loss", "losses"), strings.Join(names, ", ")))
	}
	v := "may go ahead: " + strings.Join(parts, ", ")
	if p.NotDeployable != "" {
		// The change passes the gate, but the stack file still holds placeholders: say so on
		// the one line a reader is sure to see.
		v += "; the stack is not deployable yet: " + p.NotDeployable
	}
	return v
}

// blockers are the reasons the change must not go ahead, counted; none when it may.
func (p *Plan) blockers() []string {
	var why []string
	if n := len(p.Errors); n > 0 {
		why = append(why, fmt.Sprintf("%d engine %s", n, plural(n, "error", "errors")))
	}
	mandatory := 0
	for _, v := range p.Violations {
		if v.EnforcementLevel == levelMandatory {
			mandatory++
		}
	}
	if mandatory > 0 {
		why = append(why, fmt.Sprintf("%d mandatory policy %s", mandatory, plural(mandatory, "violation", "violations")))
	}
	if p.Failed && len(why) == 0 {
		// The engine failed the preview and named no error of its own: its policy pack or its
		// config judged otherwise than this review.
		why = append(why, "the preview failed without an error this review can name")
	}
	if names := p.lossNames(false); len(names) > 0 {
		why = append(why, fmt.Sprintf("%d unaccepted %s of messages (%s)", len(names), plural(len(names), "loss", "losses"), strings.Join(names, ", ")))
	}
	return why
}

// lossNames are the names of the topics and subscriptions whose loss of messages a reviewer
// accepted (accepted true) or did not.
func (p *Plan) lossNames(accepted bool) []string {
	var out []string
	for _, l := range p.Losses {
		if l.Accepted == accepted {
			out = append(out, l.Name)
		}
	}
	return out
}

// changeCounts counts what the change does, the stack included, as a preview counts it:
// "24 creates", "20 creates, 20 deletes, 1 update", or "no changes".
func (p *Plan) changeCounts() string {
	sum := p.changeSummary()
	var parts []string
	for _, op := range slices.Sorted(maps.Keys(sum)) {
		if unchanged(op) {
			continue
		}
		parts = append(parts, fmt.Sprintf("%d %s", sum[op], plural(sum[op], op, op+"s")))
	}
	if len(parts) == 0 {
		return "no changes"
	}
	return strings.Join(parts, ", ")
}
