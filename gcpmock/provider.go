package gcpmock

import (
	"errors"
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/aiprod/aiprod-pubsub/inventory"
	"github.com/aiprod/aiprod-pubsub/spec"
)

// state is a resource being answered: its inputs, the outputs being filled in, its project.
type state struct {
	r       *inventory.Resource
	project string
	m       *Mocks
}

func (s state) str(k string) string {
	if v, ok := s.r.Inputs[resource.PropertyKey(k)]; ok && v.IsString() {
		return v.StringValue()
	}
	return ""
}

func (s state) set(k string, v any) {
	s.r.Outputs[resource.PropertyKey(k)] = resource.NewPropertyValue(v)
}

// setDefault sets what GCP applies when the request leaves k out.
func (s state) setDefault(k string, v any) {
	if _, ok := s.r.Outputs[resource.PropertyKey(k)]; !ok {
		s.set(k, v)
	}
}

// labels copies the labels to the provider's computed label maps.
func (s state) labels() {
	if l, ok := s.r.Inputs["labels"]; ok {
		s.r.Outputs["effectiveLabels"] = l
		s.r.Outputs["pulumiLabels"] = l
	}
}

// providers answer one type each: they fill in what the provider computes and return the id.
var providers = map[string]func(state) (string, error){
	spec.TopicType:                 topic,
	spec.SchemaType:                schema,
	spec.SubscriptionType:          subscription,
	spec.TopicIAMMemberType:        topicMember,
	spec.SubscriptionIAMMemberType: subscriptionMember,
	spec.ServiceAccountType:        serviceAccount,
	spec.AlertPolicyType:           alertPolicy,
	spec.NotificationChannelType:   notificationChannel,
	spec.DashboardType:             dashboard,
	spec.CryptoKeyIAMMemberType:    cryptoKeyMember,
	// The foundation's.
	spec.ProjectServiceType:               projectService,
	spec.ServiceIdentityType:              serviceIdentity,
	spec.BucketType:                       bucket,
	spec.BucketIAMMemberType:              bucketMember,
	spec.KeyRingType:                      keyRing,
	spec.CryptoKeyType:                    cryptoKey,
	spec.WorkloadIdentityPoolType:         workloadIdentityPool,
	spec.WorkloadIdentityPoolProviderType: workloadIdentityProvider,
	spec.ProjectCustomRoleType:            customRole,
	spec.ProjectIAMMemberType:             projectMember,
	spec.ServiceAccountIAMMemberType:      serviceAccountMember,
}

// projectless are the types that have no project argument: they name their target instead.
var projectless = map[string]bool{
	spec.CryptoKeyType:               true,
	spec.BucketIAMMemberType:         true,
	spec.ServiceAccountIAMMemberType: true,
}

// provide fills in what the provider computes for r and returns its id.
func (m *Mocks) provide(r *inventory.Resource) (string, error) {
	answer, ok := providers[r.Type]
	if !ok {
		return "", fmt.Errorf("resource type %q is not modelled by the mocks; the program does not create it", r.Type)
	}
	s := state{r: r, m: m}
	if s.project = s.str("project"); s.project == "" && !projectless[r.Type] {
		s.project = m.project
		s.set("project", s.project)
	}
	return answer(s)
}

func topic(s state) (string, error) {
	name := s.str("name")
	if name == "" {
		return "", errors.New("a topic needs a name")
	}
	s.labels()
	return spec.TopicID(s.project, name), nil
}

func schema(s state) (string, error) {
	name := s.str("name")
	if name == "" || s.str("definition") == "" {
		return "", errors.New("a schema needs a name and a definition")
	}
	s.setDefault("type", spec.DefaultSchemaType)
	return spec.SchemaID(s.project, name), nil
}

func subscription(s state) (string, error) {
	name, topic := s.str("name"), s.str("topic")
	if name == "" || topic == "" {
		return "", errors.New("a subscription needs a name and a topic")
	}
	if !spec.IsTopicID(topic) {
		s.set("topic", spec.TopicID(s.project, topic))
	}
	s.setDefault("ackDeadlineSeconds", spec.DefaultAckDeadlineSeconds)
	s.setDefault("messageRetentionDuration", spec.Seconds(spec.DefaultRetentionSeconds))
	s.setDefault("expirationPolicy", map[string]any{"ttl": spec.Seconds(spec.DefaultExpirationSeconds)})
	s.setDefault("enableMessageOrdering", spec.DefaultMessageOrdering)
	s.labels()
	return spec.SubscriptionID(s.project, name), nil
}

func topicMember(s state) (string, error) {
	s.set("etag", "BwY"+s.r.Name)
	target := spec.TopicID(s.project, spec.LastSegment(s.str("topic")))
	return spec.MemberID(target, s.str("role"), s.str("member")), nil
}

func subscriptionMember(s state) (string, error) {
	s.set("etag", "BwY"+s.r.Name)
	target := spec.SubscriptionID(s.project, spec.LastSegment(s.str("subscription")))
	return spec.MemberID(target, s.str("role"), s.str("member")), nil
}

func serviceAccount(s state) (string, error) {
	id := s.str("accountId")
	if id == "" {
		return "", errors.New("a service account needs an accountId")
	}
	email := spec.ServiceAccountEmail(id, s.project)
	s.set("email", email)
	s.set("member", spec.ServiceAccountMember(email))
	s.set("name", spec.ServiceAccountName(s.project, email))
	s.set("uniqueId", ProjectNumber(email)+"000000000")
	return spec.ServiceAccountName(s.project, email), nil
}

// monitoringID is a monitoring resource's full name, with a stable number for its id.
func monitoringID(s state, collection string) string {
	return spec.ProjectName(s.project) + "/" + collection + "/" + ProjectNumber(s.r.Name)
}

func alertPolicy(s state) (string, error) {
	if s.str("displayName") == "" {
		return "", errors.New("an alert policy needs a displayName")
	}
	id := monitoringID(s, "alertPolicies")
	s.set("name", id)
	return id, nil
}

func notificationChannel(s state) (string, error) {
	if s.str("type") == "" {
		return "", errors.New("a notification channel needs a type")
	}
	id := monitoringID(s, "notificationChannels")
	s.set("name", id)
	s.setDefault("enabled", true)
	return id, nil
}

func dashboard(s state) (string, error) {
	if s.str("dashboardJson") == "" {
		return "", errors.New("a dashboard needs its dashboardJson")
	}
	return monitoringID(s, "dashboards"), nil
}

func cryptoKeyMember(s state) (string, error) {
	s.set("etag", "BwY"+s.r.Name)
	return spec.MemberID(s.str("cryptoKeyId"), s.str("role"), s.str("member")), nil
}
