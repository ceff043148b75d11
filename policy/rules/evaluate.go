package rules

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

// Violation is one policy finding.
type Violation struct {
	PolicyPack       string `json:"policyPack"`
	PolicyName       string `json:"policyName"`
	EnforcementLevel string `json:"enforcementLevel"` // "mandatory" or "advisory"
	URN              string `json:"urn"`
	Message          string `json:"message"`
}

// Evaluate runs every resource policy on every resource and every stack policy on all of them,
// as the engine does (config may override a policy's enforcement level, including "disabled", and
// set its properties), and returns the violations sorted (policy name, URN, message).
//
// As in the engine, a policy present in config takes config's EnforcementLevel, whose zero value
// is advisory: give the level explicitly (a policy's own level when config gives none). A
// resource policy's message is its description, a newline, and the finding; a resource
// policy's violation without a URN is about the resource it looked at.
func Evaluate(stack string, resources []policyx.AnalyzerResource, config map[string]policyx.PolicyConfig) ([]Violation, error) {
	pack, err := newPack(stack)
	if err != nil {
		return nil, err
	}
	for name := range config {
		if !slices.ContainsFunc(pack.Policies(), func(p policyx.Policy) bool { return p.Name() == name }) {
			return nil, fmt.Errorf("policy config names %q, which is not a policy of pack %s", name, PackName)
		}
	}
	var out []Violation
	for _, p := range pack.Policies() {
		level := p.EnforcementLevel()
		cfg, hasConfig := config[p.Name()]
		if hasConfig {
			level = cfg.EnforcementLevel
		}
		if level == policyx.EnforcementLevelDisabled {
			continue
		}
		report := func(urn, message string) {
			text := p.Description()
			if message != "" {
				text += "\n" + message
			}
			out = append(out, Violation{PolicyPack: pack.Name(), PolicyName: p.Name(),
				EnforcementLevel: levelName(level), URN: urn, Message: text})
		}
		if err := validate(p, resources, cfg.Properties, report); err != nil {
			return nil, err
		}
	}
	slices.SortStableFunc(out, func(a, b Violation) int {
		return cmp.Or(cmp.Compare(a.PolicyName, b.PolicyName), cmp.Compare(a.URN, b.URN), cmp.Compare(a.Message, b.Message))
	})
	return out, nil
}

// validate runs one policy: a resource policy on every resource, a stack policy on all of them.
func validate(p policyx.Policy, resources []policyx.AnalyzerResource, config map[string]any, report func(urn, message string)) error {
	ctx := context.Background()
	switch p := p.(type) {
	case policyx.ResourceValidationPolicy:
		for _, r := range resources {
			m := &manager{report: func(message, urn string) { report(cmp.Or(urn, r.URN), message) }}
			args := policyx.ResourceValidationArgs{Manager: m, Resource: r, Config: config}
			if err := p.Validate(ctx, args); err != nil {
				return fmt.Errorf("validating resource %q with policy %q: %w", r.URN, p.Name(), err)
			}
		}
	case policyx.StackValidationPolicy:
		m := &manager{report: func(message, urn string) { report(urn, message) }}
		if err := p.Validate(ctx, policyx.StackValidationArgs{Manager: m, Resources: resources}); err != nil {
			return fmt.Errorf("validating stack with policy %q: %w", p.Name(), err)
		}
	}
	return nil
}

// Mandatory reports whether any violation is mandatory.
func Mandatory(vs []Violation) bool {
	return slices.ContainsFunc(vs, func(v Violation) bool { return v.EnforcementLevel == "mandatory" })
}

func levelName(l policyx.EnforcementLevel) string {
	switch l {
	case policyx.EnforcementLevelAdvisory:
		return "advisory"
	case policyx.EnforcementLevelMandatory:
		return "mandatory"
	case policyx.EnforcementLevelDisabled:
		return "disabled"
	case policyx.EnforcementLevelRemediate:
		return "remediate"
	}
	return fmt.Sprintf("level %d", l)
}

// manager collects what a policy reports.
type manager struct {
	report func(message, urn string)
}

// ReportViolation implements policyx.PolicyManager.
func (m *manager) ReportViolation(message, urn string) { m.report(message, urn) }
