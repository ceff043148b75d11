package rules

import (
	"context"
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"

	"github.com/aiprod/aiprod-pubsub/spec"
)

// PolicyDeadLetterAlert is the name of the policy on dead-letter alerts.
const PolicyDeadLetterAlert = "monitoring-dead-letter-alert"

// deadLetterAlert: a dead letter is a job or a result that failed every delivery; without an
// alert it waits in the dlq, unseen, until its retention deletes it.
func deadLetterAlert() policyx.StackValidationPolicy {
	return policyx.NewStackValidationPolicy(PolicyDeadLetterAlert, policyx.StackValidationPolicyArgs{
		Description:      "Every dead-lettering subscription has an alert policy on " + spec.MetricName(spec.MetricDeadLetters) + ", so that a dead letter does not go unseen.",
		EnforcementLevel: policyx.EnforcementLevelMandatory,
		ValidateStack: func(_ context.Context, args policyx.StackValidationArgs) error {
			watched, uncertain := deadLetterAlerts(args.Resources)
			if uncertain {
				return nil
			}
			for _, s := range newStackView(args.Resources).subs {
				if s.hasDLP && !watched[s.name] {
					args.Manager.ReportViolation(fmt.Sprintf(
						"subscription %q dead-letters, but no alert policy watches its %s; add one (the pipeline component declares it)",
						s.name, spec.MetricName(spec.MetricDeadLetters)), s.r.URN)
				}
			}
			return nil
		},
	})
}

// deadLetterAlerts returns the subscriptions whose dead letters some alert policy watches, and
// whether some alert policy's conditions are not known yet.
func deadLetterAlerts(resources []policyx.AnalyzerResource) (map[string]bool, bool) {
	watched := map[string]bool{}
	for _, r := range resources {
		if r.Type != spec.AlertPolicyType {
			continue
		}
		conds := get(r.Properties, "conditions")
		if conds.Unknown {
			return nil, true
		}
		if !conds.Set || !conds.IsArray() {
			continue
		}
		for _, c := range conds.AsArray().AsSlice() {
			if !c.IsMap() {
				continue
			}
			f := get(c.AsMap(), "conditionThreshold", "filter")
			if f.Unknown {
				return nil, true
			}
			if metric, kind, name, ok := spec.ParseFilter(f.AsString()); f.IsString() && ok && metric == spec.MetricDeadLetters && kind == "subscription" {
				watched[name] = true
			}
		}
	}
	return watched, false
}
