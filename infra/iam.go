package infra

import (
	"fmt"
	"slices"

	"github.com/pulumi/pulumi-gcp/sdk/v8/go/gcp/pubsub"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/aiprod/aiprod-pubsub/spec"
)

// grant is one additive IAM member: role -> member, on a topic or a subscription. The same
// shape serves both kinds of target.
type grant struct {
	key    string // the short key in the logical name: spec.AppMemberKey or spec.ServiceAgentMemberKey
	role   string
	member pulumi.StringInput
}

// iam declares the application's and the service agent's grants.
//
// The application publishes to every topic and pulls from the subscriptions it is given;
// subscriber on a topic would only let it attach subscriptions. The Pub/Sub service agent
// publishes dead letters to the dlq topic and must be subscriber on every dead-lettering
// subscription; without these grants GCP never forwards a message to the dlq and says nothing.
func (b builder) iam(topics map[spec.Queue]*pubsub.Topic, subs map[spec.Queue]*pubsub.Subscription) error {
	s := b.args.Settings
	app := b.args.AppMember
	agent := b.args.ServiceAgent
	for _, q := range spec.Queues {
		grants := []grant{{spec.AppMemberKey, spec.RolePublisher, app}}
		if q == spec.DLQ {
			grants = append(grants, grant{spec.ServiceAgentMemberKey, spec.RolePublisher, agent})
		}
		if err := b.topicGrants(topics[q], b.topicName(q), grants); err != nil {
			return err
		}
	}
	for _, q := range spec.Queues {
		var grants []grant
		if slices.Contains(s.AppSubscriptions, q) {
			grants = append(grants, grant{spec.AppMemberKey, spec.RoleSubscriber, app})
		}
		if s.Subscriptions[q].DeadLetter {
			grants = append(grants, grant{spec.ServiceAgentMemberKey, spec.RoleSubscriber, agent})
		}
		if err := b.subscriptionGrants(subs[q], spec.SubscriptionName(s.NamePrefix, b.args.Pipeline, q), grants); err != nil {
			return err
		}
	}
	return nil
}

// memberOpts make a member follow its target: GCP drops a resource's IAM when the resource is
// deleted, while the member's inputs stay the same, so without ReplaceWith the engine would keep
// a member whose grant no longer exists.
func (b builder) memberOpts(target pulumi.Resource) []pulumi.ResourceOption {
	return []pulumi.ResourceOption{
		pulumi.Parent(b.parent),
		pulumi.ReplaceWith([]pulumi.Resource{target}),
		pulumi.DeletedWith(target),
	}
}

// topicGrants declares grants on a topic.
func (b builder) topicGrants(t *pubsub.Topic, name string, grants []grant) error {
	return b.declareGrants(t, "topic", name, grants, func(logical string, g grant, opts []pulumi.ResourceOption) error {
		_, err := pubsub.NewTopicIAMMember(b.ctx, logical, &pubsub.TopicIAMMemberArgs{
			Project: pulumi.String(b.args.Project),
			Topic:   t.Name,
			Role:    pulumi.String(g.role),
			Member:  g.member,
		}, opts...)
		return err
	})
}

// subscriptionGrants declares grants on a subscription.
func (b builder) subscriptionGrants(sub *pubsub.Subscription, name string, grants []grant) error {
	return b.declareGrants(sub, "subscription", name, grants, func(logical string, g grant, opts []pulumi.ResourceOption) error {
		_, err := pubsub.NewSubscriptionIAMMember(b.ctx, logical, &pubsub.SubscriptionIAMMemberArgs{
			Project:      pulumi.String(b.args.Project),
			Subscription: sub.Name,
			Role:         pulumi.String(g.role),
			Member:       g.member,
		}, opts...)
		return err
	})
}

// declareGrants declares one member per grant on target with the options every member needs.
func (b builder) declareGrants(target pulumi.Resource, kind, name string, grants []grant,
	declare func(logical string, g grant, opts []pulumi.ResourceOption) error,
) error {
	for _, g := range grants {
		// A member's logical name is <target>-<role>-<who>: aiprod-pipeline-jobs-publisher-app.
		logical := name + "-" + spec.RoleName(g.role) + "-" + g.key
		if err := declare(logical, g, b.memberOpts(target)); err != nil {
			return fmt.Errorf("granting %s on %s %q: %w", g.role, kind, name, err)
		}
	}
	return nil
}
