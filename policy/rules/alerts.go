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
// alert it waits in the dlq, unseen, until its retention deletes it. A dead letter Pub/Sub
// fails to forward (the service agent lost its grants, the dlq topic is gone) stays in its
// subscription and is delivered again and again: that needs an alert of its own.
func deadLetterAlert() policyx.StackValidationPolicy {
	metric := spec.MetricName(spec.MetricDeadLetters)
	return policyx.NewStackValidationPolicy(PolicyDeadLetterAlert, policyx.StackValidationPolicyArgs{
		Description: "Every dead-lettering subscription has alert policies on " + metric +
			", both on the messages forwarded (response_code success) and on the forwards that failed, so that neither goes unseen.",
		EnforcementLevel: policyx.EnforcementLevelMandatory,
		ValidateStack: func(_ context.Context, args policyx.StackValidationArgs) error {
			watched, uncertain := deadLetterAlerts(args.Resources)
			if uncertain {
				return nil
			}
			for _, s := range newStackView(args.Resources).subs {
				if !s.hasDLP {
					continue
				}
				w := watched[s.name]
				if !w.forwarded {
					args.Manager.ReportViolation(fmt.Sprintf(
						"subscription %q dead-letters, but no alert policy watches its %s; add one (the pipeline component declares it)",
						s.name, metric), s.r.URN)
				}
				if !w.failed {
					args.Manager.ReportViolation(fmt.Sprintf(
						"subscription %q dead-letters, but no alert policy watches the dead letters Pub/Sub fails to forward (%s with response_code other than success); "+
							"add one (the pipeline component declares it), or a failed forward redelivers the message forever, unseen", s.name, metric), s.r.URN)
				}
			}
			return nil
		},
	})
}

// watch is what the alert policies watch of a subscription's dead letters: the messages
// forwarded, and the forwards that failed.
type watch struct{ forwarded, failed bool }

// deadLetterAlerts returns what the alert policies watch of each subscription's dead letters,
// and whether some alert policy's conditions are not known yet.
func deadLetterAlerts(resources []policyx.AnalyzerResource) (map[string]watch, bool) {
	watched := map[string]watch{}
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
				success, failed := spec.SelectsResponse(f.AsString())
				w := watched[name]
				watched[name] = watch{forwarded: w.forwarded || success, failed: w.failed || failed}
			}
		}
	}
	return watched, false
}
