package render

import "github.com/aiprod/aiprod-pubsub/infra"

// Type tokens of the resources the program registers, as the engine sees them. The mocks, the
// offline plan and the emulator read resources by these; the policy pack keeps its own on
// purpose, since it must not depend on the program it judges.
const (
	TopicType              = "gcp:pubsub/topic:Topic"
	SubscriptionType       = "gcp:pubsub/subscription:Subscription"
	SchemaType             = "gcp:pubsub/schema:Schema"
	TopicMemberType        = "gcp:pubsub/topicIAMMember:TopicIAMMember"
	SubscriptionMemberType = "gcp:pubsub/subscriptionIAMMember:SubscriptionIAMMember"
	ServiceAccountType     = "gcp:serviceaccount/account:Account"
	PipelineType           = infra.PipelineType
)
