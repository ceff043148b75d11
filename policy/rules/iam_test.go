package rules

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"

	"github.com/aiprod/aiprod-pubsub/testkit"
)

func topicGrant(name, topic, role string, member any) policyx.AnalyzerResource {
	return newResource("dev", typeTopicIAMMember, name, map[string]any{
		"project": testProject, "topic": topic, "role": role, "member": member,
	})
}

func TestNoPublicMembers(t *testing.T) {
	t.Parallel()
	runCases(t, PolicyNoPublicMembers, []ruleCase{
		{name: "service accounts pass"},
		{name: "allUsers publisher on a topic",
			changes: []testkit.Change{testkit.Add(topicGrant("public", stem+"-jobs", rolePublisher, "allUsers"))},
			want:    []string{`TopicIAMMember "public"`, `roles/pubsub.publisher`, `member "allUsers"`},
			wantURN: testURN("dev", typeTopicIAMMember, "public")},
		{name: "allAuthenticatedUsers on a subscription",
			changes: []testkit.Change{testkit.Set(typeSubIAMMember, jobsSub+"-subscriber-app", "allAuthenticatedUsers", "member")},
			want:    []string{`SubscriptionIAMMember "aiprod-pipeline-jobs-sub-subscriber-app"`, `member "allAuthenticatedUsers"`},
			// The application account no longer pulls the jobs subscription.
			also: []string{PolicyPipelineTopology}},
		{name: "allUsers among a binding's members",
			changes: []testkit.Change{testkit.Add(newResource("dev", "gcp:storage/bucketIAMBinding:BucketIAMBinding", "bucket", map[string]any{
				"bucket": "b", "role": "roles/storage.objectViewer", "members": []string{testApp, "allUsers"},
			}))},
			want: []string{`BucketIAMBinding "bucket"`, `"roles/storage.objectViewer"`, `member "allUsers"`},
			also: []string{PolicyAdditiveOnly}},
		{name: "allUsers in a policy document",
			changes: []testkit.Change{testkit.Add(newResource("dev", "gcp:pubsub/topicIAMPolicy:TopicIAMPolicy", "doc", map[string]any{
				"topic": stem + "-jobs", "policyData": `{"bindings":[{"role":"roles/pubsub.subscriber","members":["allUsers"]}]}`,
			}))},
			want: []string{`TopicIAMPolicy "doc"`, `member "allUsers"`},
			also: []string{PolicyAdditiveOnly}},
	})
}

func TestAdditiveOnly(t *testing.T) {
	t.Parallel()
	runCases(t, PolicyAdditiveOnly, []ruleCase{
		{name: "resource-level members pass"},
		{name: "a topic binding",
			changes: []testkit.Change{testkit.Add(newResource("dev", "gcp:pubsub/topicIAMBinding:TopicIAMBinding", "binding", map[string]any{
				"topic": stem + "-jobs", "role": rolePublisher, "members": []string{testApp},
			}))},
			want:    []string{`TopicIAMBinding "binding"`, "gcp:pubsub/topicIAMBinding:TopicIAMBinding", "authoritative"},
			wantURN: testURN("dev", "gcp:pubsub/topicIAMBinding:TopicIAMBinding", "binding")},
		{name: "a subscription policy",
			changes: []testkit.Change{testkit.Add(newResource("dev", "gcp:pubsub/subscriptionIAMPolicy:SubscriptionIAMPolicy", "policy", map[string]any{
				"subscription": jobsSub, "policyData": `{"bindings":[]}`,
			}))},
			want: []string{`SubscriptionIAMPolicy "policy"`, "authoritative"}},
		{name: "another service's binding",
			changes: []testkit.Change{testkit.Add(newResource("dev", "gcp:storage/bucketIAMBinding:BucketIAMBinding", "bucket", map[string]any{
				"bucket": "b", "role": "roles/storage.objectViewer", "members": []string{testApp},
			}))},
			want: []string{`BucketIAMBinding "bucket"`, "authoritative"}},
		{name: "a project member",
			changes: []testkit.Change{testkit.Add(newResource("dev", "gcp:projects/iAMMember:IAMMember", "project-grant", map[string]any{
				"project": testProject, "role": roleSubscriber, "member": testApp,
			}))},
			want: []string{`IAMMember "project-grant"`, "gcp:projects/iAMMember:IAMMember", "project-level"}},
		{name: "a folder member",
			changes: []testkit.Change{testkit.Add(newResource("dev", "gcp:folder/iAMMember:IAMMember", "folder-grant", map[string]any{
				"folder": "folders/1", "role": roleSubscriber, "member": testApp,
			}))},
			want: []string{`IAMMember "folder-grant"`, "folder-level"}},
		{name: "an organization binding",
			changes: []testkit.Change{testkit.Add(newResource("dev", "gcp:organizations/iAMBinding:IAMBinding", "org", map[string]any{
				"orgId": "1", "role": roleSubscriber, "members": []string{testApp},
			}))},
			want: []string{`IAMBinding "org"`, "organization-level"}},
	})
}

func TestPubSubRoles(t *testing.T) {
	t.Parallel()
	runCases(t, PolicyPubSubRoles, []ruleCase{
		{name: "publisher and subscriber pass"},
		{name: "viewer passes", changes: []testkit.Change{testkit.Add(topicGrant("viewer", stem+"-jobs", roleViewer, testApp))}},
		{name: "admin on a topic",
			changes: []testkit.Change{testkit.Add(topicGrant("admin", stem+"-results", "roles/pubsub.admin", testApp))},
			want:    []string{`TopicIAMMember "admin"`, `role "roles/pubsub.admin"`},
			wantURN: testURN("dev", typeTopicIAMMember, "admin")},
		{name: "editor on a subscription",
			changes: []testkit.Change{testkit.Set(typeSubIAMMember, jobsSub+"-subscriber-app", "roles/editor", "role")},
			want:    []string{`SubscriptionIAMMember "aiprod-pipeline-jobs-sub-subscriber-app"`, `role "roles/editor"`},
			also:    []string{PolicyPipelineTopology, PolicyNoBasicRoles}},
		{name: "no role",
			changes: []testkit.Change{testkit.Add(topicGrant("norole", stem+"-results", rolePublisher, testApp)), testkit.Set(typeTopicIAMMember, "norole", nil, "role")},
			want:    []string{`TopicIAMMember "norole"`, "no role"}},
		{name: "other services' roles are not this policy's",
			changes: []testkit.Change{testkit.Add(newResource("dev", "gcp:storage/bucketIAMMember:BucketIAMMember", "bucket", map[string]any{
				"bucket": "b", "role": "roles/storage.admin", "member": testApp,
			}))}},
	})
}

func TestNoServiceAccountKeys(t *testing.T) {
	t.Parallel()
	account := "projects/" + testProject + "/serviceAccounts/aiprod-sa@" + testProject + ".iam.gserviceaccount.com"
	runCases(t, PolicyNoServiceAccountKeys, []ruleCase{
		{name: "no key passes"},
		{name: "a service account passes", changes: []testkit.Change{testkit.Add(newResource("dev", "gcp:serviceaccount/account:Account", "aiprod-sa", map[string]any{
			"accountId": "aiprod-sa", "project": testProject,
		}))}},
		{name: "a key",
			changes: []testkit.Change{testkit.Add(newResource("dev", typeServiceAccountKey, "key", map[string]any{"serviceAccountId": account}))},
			want:    []string{`Key "key"`, "gcp:serviceaccount/key:Key", `serviceAccountId "` + account + `"`},
			wantURN: testURN("dev", typeServiceAccountKey, "key")},
		{name: "a key for an unknown account",
			changes: []testkit.Change{testkit.Add(newResource("dev", typeServiceAccountKey, "key", map[string]any{"serviceAccountId": computed}))},
			want:    []string{`Key "key"`, "serviceAccountId (unknown)"}},
	})
}
