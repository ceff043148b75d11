package spec

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Type tokens of the resources the program registers and the pack judges, as the engine sees
// them.
const (
	TopicType                 = "gcp:pubsub/topic:Topic"
	SubscriptionType          = "gcp:pubsub/subscription:Subscription"
	SchemaType                = "gcp:pubsub/schema:Schema"
	TopicIAMMemberType        = "gcp:pubsub/topicIAMMember:TopicIAMMember"
	SubscriptionIAMMemberType = "gcp:pubsub/subscriptionIAMMember:SubscriptionIAMMember"
	ServiceAccountType        = "gcp:serviceaccount/account:Account"
	ServiceAccountKeyType     = "gcp:serviceaccount/key:Key"
	GetProjectToken           = "gcp:organizations/getProject:getProject"
	PipelineType              = "aiprod:messaging:Pipeline"
	StackType                 = "pulumi:pulumi:Stack"
	ProviderTypePrefix        = "pulumi:providers:"
	pubsubRolePrefix          = "roles/pubsub."
	RolePublisher             = pubsubRolePrefix + "publisher"
	RoleSubscriber            = pubsubRolePrefix + "subscriber"
	RoleViewer                = pubsubRolePrefix + "viewer"
)

// RoleName is a Pub/Sub role without its "roles/pubsub." prefix: "publisher".
func RoleName(role string) string { return strings.TrimPrefix(role, pubsubRolePrefix) }

// Range is an inclusive range of whole numbers.
type Range struct{ Min, Max int }

// Contains reports whether v lies in r.
func (r Range) Contains(v int) bool { return v >= r.Min && v <= r.Max }

func (r Range) String() string { return fmt.Sprintf("between %d and %d", r.Min, r.Max) }

// GCP's limits for Pub/Sub settings.
var (
	AckDeadlineRange = Range{10, 600}
	AttemptsRange    = Range{5, 100}
	// RetentionRange is a subscription's or a topic's retention: 10 minutes to 31 days.
	RetentionRange = Range{600, 31 * 24 * 3600}
	backoffRange   = Range{0, 600}
)

// GCP's defaults for what a request leaves unset.
const (
	DefaultAckDeadlineSeconds = 10
	DefaultRetentionSeconds   = 7 * 24 * 3600
	// DefaultExpirationSeconds is the idle time after which GCP deletes a subscription that has
	// no expiration policy; a policy with an empty ttl means never.
	DefaultExpirationSeconds = 31 * 24 * 3600
	DefaultMessageOrdering   = false
	// DefaultSchemaType is what the provider reports for a schema without a type.
	DefaultSchemaType = "TYPE_UNSPECIFIED"
)

// SchemaEncoding is how the publishers encode messages, and so how the topics that enforce a
// contract validate them.
const SchemaEncoding = "JSON"

// What the engine shows in place of a value it cannot print.
const (
	// Unknown is how a preview spells a value known only after deployment.
	Unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
	// Secret is what a secret value reads as when it cannot be decrypted (an offline plan), and
	// how every output prints one.
	Secret = "[secret]"
)

// Seconds formats a duration as the provider takes it: "604800s".
func Seconds(n int) string { return strconv.Itoa(n) + "s" }

var durationRE = regexp.MustCompile(`^[0-9]+(\.[0-9]{1,9})?s$`)

// ParseSeconds reads a duration in the provider's format, seconds with up to nine fractional
// digits and an "s" suffix.
func ParseSeconds(s string) (float64, bool) {
	if !durationRE.MatchString(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(strings.TrimSuffix(s, "s"), 64)
	return f, err == nil
}

// Collections of Pub/Sub ids.
const (
	topics        = "topics"
	subscriptions = "subscriptions"
	schemas       = "schemas"
)

// TopicID is a topic's full id: projects/<project>/topics/<name>.
func TopicID(project, name string) string { return fullID(project, topics, name) }

// SubscriptionID is a subscription's full id: projects/<project>/subscriptions/<name>.
func SubscriptionID(project, name string) string { return fullID(project, subscriptions, name) }

// SchemaID is a schema's full id: projects/<project>/schemas/<name>.
func SchemaID(project, name string) string { return fullID(project, schemas, name) }

func fullID(project, collection, name string) string {
	return ProjectName(project) + "/" + collection + "/" + name
}

// ProjectName is a project's resource name: projects/<project>.
func ProjectName(project string) string { return "projects/" + project }

// Ref is a topic or a subscription named by a full id or by a short name (project unknown).
type Ref struct{ Project, Name string }

// ParseTopic reads a topic's full id or short name.
func ParseTopic(s string) Ref { return parseRef(s, topics) }

// ParseSubscription reads a subscription's full id or short name.
func ParseSubscription(s string) Ref { return parseRef(s, subscriptions) }

func parseRef(s, collection string) Ref {
	parts := strings.Split(s, "/")
	if len(parts) == 4 && parts[0] == "projects" && parts[2] == collection {
		return Ref{Project: parts[1], Name: parts[3]}
	}
	return Ref{Name: s}
}

// IsTopicID reports whether s is a topic's full id, the form GCP requires for a dead-letter
// topic.
func IsTopicID(s string) bool {
	r := ParseTopic(s)
	return r.Project != "" && r.Name != "" && TopicID(r.Project, r.Name) == s
}

// LastSegment is the name in a /-separated id: <name> in projects/p/topics/<name>.
func LastSegment(id string) string { return id[strings.LastIndex(id, "/")+1:] }

// MemberID is the import id of an additive IAM member on a topic or subscription:
// "<full id> <role> <member>".
func MemberID(targetID, role, member string) string { return targetID + " " + role + " " + member }

// ServiceAccountEmail is the email of account id in project.
func ServiceAccountEmail(id, project string) string {
	return id + "@" + project + ".iam.gserviceaccount.com"
}

// ServiceAccountName is a service account's full resource name, also its import id.
func ServiceAccountName(project, email string) string {
	return ProjectName(project) + "/serviceAccounts/" + email
}

// ServiceAccountMember is an account as an IAM member: serviceAccount:<email>.
func ServiceAccountMember(email string) string { return serviceAccountPrefix + email }

const serviceAccountPrefix = "serviceAccount:"

// IsServiceAccountMember reports whether member names a service account.
func IsServiceAccountMember(member string) bool {
	return strings.HasPrefix(member, serviceAccountPrefix)
}

// ServiceAgentDomain is the domain of every project's Pub/Sub service agent, the account
// through which GCP forwards dead letters.
const ServiceAgentDomain = "gcp-sa-pubsub.iam.gserviceaccount.com"

// ServiceAgent is the Pub/Sub service agent of a project as an IAM member:
// serviceAccount:service-<number>@gcp-sa-pubsub.iam.gserviceaccount.com.
func ServiceAgent(projectNumber string) string {
	return ServiceAccountMember("service-" + projectNumber + "@" + ServiceAgentDomain)
}

var serviceAgentRE = regexp.MustCompile(`^serviceAccount:service-[0-9]+@` + regexp.QuoteMeta(ServiceAgentDomain) + `$`)

// IsServiceAgent reports whether member is some project's Pub/Sub service agent.
func IsServiceAgent(member string) bool { return serviceAgentRE.MatchString(member) }

// IsServiceAgentEmail reports whether email is in the service agents' domain.
func IsServiceAgentEmail(email string) bool { return strings.HasSuffix(email, "@"+ServiceAgentDomain) }

// Matches reports whether r and o name the same thing; a missing project matches any project.
func (r Ref) Matches(o Ref) bool {
	return r.Name == o.Name && (r.Project == "" || o.Project == "" || r.Project == o.Project)
}

// MemberEmail is the email of a serviceAccount: member, or the member as it is.
func MemberEmail(member string) string { return strings.TrimPrefix(member, serviceAccountPrefix) }
