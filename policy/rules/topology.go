package rules

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"

	"github.com/aiprod/aiprod-pubsub/spec"
)

// The stack policies' names.
const (
	PolicyDeadLetterIAM    = "pubsub-dead-letter-iam"
	PolicyPipelineTopology = "pipeline-topology"
)

// deadLetterIAM: GCP forwards a dead letter as the project's Pub/Sub service agent; without
// subscriber on the subscription and publisher on the dead-letter topic it never forwards and
// says nothing, and a dead-letter topic without a subscription drops what it receives.
func deadLetterIAM() policyx.StackValidationPolicy {
	return policyx.NewStackValidationPolicy(PolicyDeadLetterIAM, policyx.StackValidationPolicyArgs{
		Description:      "Every dead-lettering subscription grants the Pub/Sub service agent subscriber on itself and publisher on its dead-letter topic, which has a subscription.",
		EnforcementLevel: policyx.EnforcementLevelMandatory,
		ValidateStack: func(_ context.Context, args policyx.StackValidationArgs) error {
			v := newStackView(args.Resources)
			for _, s := range v.subs {
				if !s.hasDLP {
					continue
				}
				if !v.unsure(false, s.ref, spec.RoleSubscriber) && !v.granted(false, s.ref, spec.RoleSubscriber, spec.IsServiceAgent) {
					args.Manager.ReportViolation(fmt.Sprintf(
						"subscription %q dead-letters but the Pub/Sub service agent (%s) has no %s on it; GCP will not forward its dead letters",
						s.name, spec.ServiceAgent("<number>"), spec.RoleSubscriber), s.r.URN)
				}
				if !s.deadLetterOK {
					continue
				}
				if !v.unsure(true, s.deadLetter, spec.RolePublisher) && !v.granted(true, s.deadLetter, spec.RolePublisher, spec.IsServiceAgent) {
					args.Manager.ReportViolation(fmt.Sprintf(
						"subscription %q dead-letters to topic %q but the Pub/Sub service agent has no %s on that topic; GCP will not forward its dead letters",
						s.name, s.deadLetter.Name, spec.RolePublisher), s.r.URN)
				}
				subs, uncertain := v.subscriptionsOn(s.deadLetter)
				if len(subs) == 0 && !uncertain {
					args.Manager.ReportViolation(fmt.Sprintf(
						"subscription %q dead-letters to topic %q, which has no subscription; its dead letters would be lost",
						s.name, s.deadLetter.Name), s.r.URN)
				}
			}
			return nil
		},
	})
}

// isAppMember reports whether member is a service account other than the Pub/Sub service
// agent: the application's account, whatever its id.
func isAppMember(member string) bool {
	return spec.IsServiceAccountMember(member) && !spec.IsServiceAgent(member)
}

// pipelineStems returns the stems of the pipelines in the stack: the names of topics
// `<stem>-{jobs,results,dlq}` and subscriptions `<stem>-{jobs,results,dlq}-sub`.
func pipelineStems(v stackView) []string {
	seen := map[string]bool{}
	for _, t := range v.topics {
		if stem, _, ok := spec.TopicQueue(t.ref.Name); ok {
			seen[stem] = true
		}
	}
	for _, s := range v.subs {
		if stem, _, ok := spec.SubscriptionQueue(s.name); ok {
			seen[stem] = true
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

// pipelineTopology: the API and the workers find the pipeline by these names, and the
// application account must be able to publish every message and pull jobs.
func pipelineTopology() policyx.StackValidationPolicy {
	return policyx.NewStackValidationPolicy(PolicyPipelineTopology, policyx.StackValidationPolicyArgs{
		Description:      "Each pipeline has its jobs, results and dlq topics, each with its one " + spec.SubscriptionSuffix + " subscription, and the application service account publishes to the three topics and pulls the jobs subscription.",
		EnforcementLevel: policyx.EnforcementLevelMandatory,
		ValidateStack: func(_ context.Context, args policyx.StackValidationArgs) error {
			v := newStackView(args.Resources)
			for _, stem := range pipelineStems(v) {
				checkPipeline(args.Manager, v, stem)
			}
			return nil
		},
	})
}

// need is one grant the application account must hold.
type need struct {
	onTopic bool
	target  spec.Ref
	role    string
	what    string // for messages: `topic "x"`
	urn     string
}

// checkPipeline reports what a pipeline lacks: a queue's topic or subscription, or a grant of
// the application account.
func checkPipeline(m policyx.PolicyManager, v stackView, stem string) {
	var needs []need
	for _, q := range spec.Queues {
		needs = append(needs, checkQueue(m, v, stem, q)...)
	}
	if !v.uncertain && len(needs) > 0 {
		checkApp(m, v, stem, needs)
	}
}

// checkQueue reports what a queue of a pipeline lacks, and returns the grants the application
// account needs on it.
func checkQueue(m policyx.PolicyManager, v stackView, stem string, q spec.Queue) []need {
	var needs []need
	topicName := spec.StemTopicName(stem, q)
	subName := spec.SubscriptionOf(topicName)
	named := v.subscriptionsNamed(subName)
	t, haveTopic := v.topicByName(topicName)
	if !haveTopic {
		urn := ""
		if len(named) > 0 {
			urn = named[0].r.URN
		}
		m.ReportViolation(fmt.Sprintf("pipeline %q has no topic %q", stem, topicName), urn)
		t = topicView{ref: spec.Ref{Name: topicName}}
	} else {
		needs = append(needs, need{true, t.ref, spec.RolePublisher, fmt.Sprintf("topic %q", topicName), t.r.URN})
	}
	switch len(named) {
	case 0:
		m.ReportViolation(fmt.Sprintf("pipeline %q has no subscription %q on topic %q", stem, subName, topicName), t.r.URN)
	case 1:
		s := named[0]
		if s.topicOK && !s.topic.Matches(t.ref) {
			m.ReportViolation(fmt.Sprintf("subscription %q has topic %q; it belongs on topic %q",
				subName, refText(s.topic), topicName), s.r.URN)
		}
		if q == spec.Jobs {
			needs = append(needs, need{false, s.ref, spec.RoleSubscriber, fmt.Sprintf("subscription %q", subName), s.r.URN})
		}
	default:
		m.ReportViolation(fmt.Sprintf("pipeline %q has %d subscriptions named %q; want one", stem, len(named), subName), named[1].r.URN)
	}
	if haveTopic {
		on, _ := v.subscriptionsOn(t.ref)
		for _, s := range on {
			if s.name != subName {
				m.ReportViolation(fmt.Sprintf("topic %q has subscription %q besides %q; each topic of the pipeline has its one %s subscription",
					topicName, s.name, subName, spec.SubscriptionSuffix), s.r.URN)
			}
		}
	}
	return needs
}

// checkApp reports the grants the application account lacks. The application account is the
// one service account (not the service agent) that holds the most of the needed grants.
func checkApp(m policyx.PolicyManager, v stackView, stem string, needs []need) {
	holds := func(member string, n need) bool {
		return v.granted(n.onTopic, n.target, n.role, func(x string) bool { return x == member })
	}
	best, bestHeld := "", -1
	for _, member := range v.appMembers {
		held := 0
		for _, n := range needs {
			if holds(member, n) {
				held++
			}
		}
		if held > bestHeld {
			best, bestHeld = member, held
		}
	}
	for _, n := range needs {
		switch {
		case best == "" && !v.unsure(n.onTopic, n.target, n.role):
			m.ReportViolation(fmt.Sprintf("pipeline %q: no application service account has %s on %s",
				stem, n.role, n.what), n.urn)
		case !holds(best, n) && !v.unsure(n.onTopic, n.target, n.role):
			m.ReportViolation(fmt.Sprintf("pipeline %q: application service account %q has no %s on %s",
				stem, best, n.role, n.what), n.urn)
		}
	}
}
