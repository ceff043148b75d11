package spec

import (
	"maps"
	"slices"
)

// Access is what an identity needs to do with one type of resource: read it (refresh, preview)
// and change it (create, update, delete), as IAM permissions.
type Access struct {
	// Read are the permissions to read the resource and its IAM policy.
	Read []string
	// Write are the permissions to create, update and delete it, beyond Read.
	Write []string
}

// PipelinePermissions maps every type the pipeline program registers, and the invoke it
// calls, to the permissions its identities need; the custom roles are derived from it alone.
// An additive IAM member reads and writes its target's IAM policy. A stack reference reads the
// foundation's state from the state bucket, which the bucket grants cover: it needs none.
var PipelinePermissions = map[string]Access{
	TopicType: {
		Read:  []string{"pubsub.topics.get", "pubsub.topics.getIamPolicy"},
		Write: []string{"pubsub.topics.create", "pubsub.topics.update", "pubsub.topics.delete", "pubsub.topics.attachSubscription"},
	},
	SubscriptionType: {
		Read:  []string{"pubsub.subscriptions.get", "pubsub.subscriptions.getIamPolicy"},
		Write: []string{"pubsub.subscriptions.create", "pubsub.subscriptions.update", "pubsub.subscriptions.delete"},
	},
	SchemaType: {
		Read:  []string{"pubsub.schemas.get"},
		Write: []string{"pubsub.schemas.create", "pubsub.schemas.commit", "pubsub.schemas.delete", "pubsub.schemas.attach"},
	},
	TopicIAMMemberType: {
		Read:  []string{"pubsub.topics.getIamPolicy"},
		Write: []string{"pubsub.topics.setIamPolicy"},
	},
	SubscriptionIAMMemberType: {
		Read:  []string{"pubsub.subscriptions.getIamPolicy"},
		Write: []string{"pubsub.subscriptions.setIamPolicy"},
	},
	ServiceAccountType: {
		Read:  []string{"iam.serviceAccounts.get"},
		Write: []string{"iam.serviceAccounts.create", "iam.serviceAccounts.update", "iam.serviceAccounts.delete"},
	},
	AlertPolicyType: {
		Read:  []string{"monitoring.alertPolicies.get"},
		Write: []string{"monitoring.alertPolicies.create", "monitoring.alertPolicies.update", "monitoring.alertPolicies.delete"},
	},
	NotificationChannelType: {
		Read:  []string{"monitoring.notificationChannels.get"},
		Write: []string{"monitoring.notificationChannels.create", "monitoring.notificationChannels.update", "monitoring.notificationChannels.delete"},
	},
	DashboardType: {
		Read:  []string{"monitoring.dashboards.get"},
		Write: []string{"monitoring.dashboards.create", "monitoring.dashboards.update", "monitoring.dashboards.delete"},
	},
	CryptoKeyIAMMemberType: {
		Read:  []string{"cloudkms.cryptoKeys.getIamPolicy"},
		Write: []string{"cloudkms.cryptoKeys.setIamPolicy"},
	},
	StackReferenceType: {},
	// An adopted stack without the foundation or a configured number looks the number up.
	GetProjectToken: {Read: []string{"resourcemanager.projects.get"}},
}

// PreviewPermissions are the read permissions of every type: the preview role's.
func PreviewPermissions() []string { return permissions(false) }

// DeployerPermissions are the read and write permissions of every type: the deployer role's.
func DeployerPermissions() []string { return permissions(true) }

// permissions collects the table's permissions, sorted and unique.
func permissions(write bool) []string {
	var out []string
	for _, typ := range slices.Sorted(maps.Keys(PipelinePermissions)) {
		a := PipelinePermissions[typ]
		out = append(out, a.Read...)
		if write {
			out = append(out, a.Write...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
