package rules

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"

	"github.com/aiprod/aiprod-pubsub/spec"
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
		{name: "allUsers reading the state bucket", foundation: true,
			changes: []testkit.Change{testkit.Set(spec.BucketIAMMemberType, "preview-state", "allUsers", "member")},
			want:    []string{`BucketIAMMember "preview-state"`, `"roles/storage.objectUser"`, `member "allUsers"`},
			wantURN: foundationURN("dev", spec.BucketIAMMemberType, "preview-state")},
		{name: "allAuthenticatedUsers in the state bucket's policy", foundation: true,
			changes: []testkit.Change{testkit.Add(newFoundationResource("dev", spec.BucketIAMPolicyType, "state-policy", map[string]any{
				"bucket": testBucket, "policyData": `{"bindings":[{"role":"roles/storage.objectViewer","members":["allAuthenticatedUsers"]}]}`,
			}))},
			want: []string{`BucketIAMPolicy "state-policy"`, `member "allAuthenticatedUsers"`},
			also: []string{PolicyAdditiveOnly}},
		{name: "allUsers decrypting the secrets", foundation: true,
			changes: []testkit.Change{testkit.Set(spec.CryptoKeyIAMMemberType, "deployer-secrets", "allUsers", "member")},
			want:    []string{`CryptoKeyIAMMember "deployer-secrets"`, `member "allUsers"`}},
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
		{name: "the foundation's own project grant in a pipeline stack",
			changes: []testkit.Change{testkit.Add(newResource("dev", typeProjectIAM, "project-grant", map[string]any{
				"project": testProject, "role": spec.CustomRoleName(testProject, spec.DeployerRoleID), "member": accountMember(spec.DeployerAccountID),
			}))},
			want: []string{`IAMMember "project-grant"`, "project-level IAM, which a pipeline stack never holds"}},
		{name: "a folder member",
			changes: []testkit.Change{testkit.Add(newResource("dev", "gcp:folder/iAMMember:IAMMember", "folder-grant", map[string]any{
				"folder": "folders/1", "role": roleSubscriber, "member": testApp,
			}))},
			want: []string{`IAMMember "folder-grant"`, "folder-level"}},
		{name: "a custom role in a pipeline stack",
			changes: []testkit.Change{testkit.Add(newResource("dev", spec.ProjectCustomRoleType, "role", map[string]any{"roleId": "x", "project": testProject}))},
			want:    []string{`IAMCustomRole "role"`, "project-level IAM, which a pipeline stack never holds"}},
		{name: "the foundation's project members and custom roles pass", foundation: true},
		{name: "the foundation's project member passes in prod", foundation: true, stack: "prod"},
		{name: "a project binding in the foundation", foundation: true,
			changes: []testkit.Change{testkit.Add(newFoundationResource("dev", spec.ProjectIAMBindingType, "binding", map[string]any{
				"project": testProject, "role": spec.CustomRoleName(testProject, spec.PreviewRoleID), "members": []string{accountMember(spec.PreviewAccountID)},
			}))},
			want:    []string{`IAMBinding "binding"`, spec.ProjectIAMBindingType, "the foundation holds project-level IAM only as additive IAMMember grants"},
			wantURN: foundationURN("dev", spec.ProjectIAMBindingType, "binding")},
		{name: "a project policy in the foundation", foundation: true,
			changes: []testkit.Change{testkit.Add(newFoundationResource("dev", spec.ProjectIAMPolicyType, "policy", map[string]any{
				"project": testProject, "policyData": `{"bindings":[]}`,
			}))},
			want: []string{`IAMPolicy "policy"`, "only as additive IAMMember grants"}},
		{name: "a folder member in the foundation", foundation: true,
			changes: []testkit.Change{testkit.Add(newFoundationResource("dev", "gcp:folder/iAMMember:IAMMember", "folder-grant", map[string]any{
				"folder": "folders/1", "role": "roles/resourcemanager.folderViewer", "member": accountMember(spec.PreviewAccountID),
			}))},
			want: []string{`IAMMember "folder-grant"`, "folder-level IAM"}},
		{name: "a service account binding in the foundation", foundation: true,
			changes: []testkit.Change{testkit.Add(newFoundationResource("dev", spec.ServiceAccountIAMBindingType, "sa-binding", map[string]any{
				"serviceAccountId": "projects/" + testProject + "/serviceAccounts/x", "role": spec.RoleWorkloadIdentityUser,
				"members": []string{principalSetPfx + "/attribute.repository/" + testRepository},
			}))},
			want: []string{`IAMBinding "sa-binding"`, spec.ServiceAccountIAMBindingType, "authoritative"}},
		{name: "a crypto key policy in the foundation", foundation: true,
			changes: []testkit.Change{testkit.Add(newFoundationResource("dev", spec.CryptoKeyIAMPolicyType, "key-policy", map[string]any{
				"cryptoKeyId": "k", "policyData": `{"bindings":[]}`,
			}))},
			want: []string{`CryptoKeyIAMPolicy "key-policy"`, "authoritative"}},
		{name: "a bucket binding in the foundation", foundation: true,
			changes: []testkit.Change{testkit.Add(newFoundationResource("dev", spec.BucketIAMBindingType, "bucket-binding", map[string]any{
				"bucket": testBucket, "role": "roles/storage.objectViewer", "members": []string{accountMember(spec.PreviewAccountID)},
			}))},
			want: []string{`BucketIAMBinding "bucket-binding"`, "authoritative"}},
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

func TestNoBasicRoles(t *testing.T) {
	t.Parallel()
	runCases(t, PolicyNoBasicRoles, []ruleCase{
		{name: "the pipeline's roles pass"},
		{name: "the foundation's roles pass", foundation: true},
		{name: "pubsub viewer is not basic", changes: []testkit.Change{testkit.Add(topicGrant("viewer", stem+"-jobs", roleViewer, testApp))}},
		{name: "owner of the project", foundation: true,
			changes: []testkit.Change{testkit.Set(typeProjectIAM, deployerGrant, "roles/owner", "role")},
			want:    []string{`IAMMember "` + deployerGrant + `"`, `basic role "roles/owner"`},
			wantURN: foundationURN("dev", typeProjectIAM, deployerGrant),
			also:    []string{PolicyProjectCustomRoles}},
		{name: "viewer of the state bucket", foundation: true,
			changes: []testkit.Change{testkit.Set(spec.BucketIAMMemberType, "preview-state", "roles/viewer", "role")},
			want:    []string{`BucketIAMMember "preview-state"`, `basic role "roles/viewer"`}},
		{name: "editor of the secrets key", foundation: true,
			changes: []testkit.Change{testkit.Set(spec.CryptoKeyIAMMemberType, "deployer-secrets", "roles/editor", "role")},
			want:    []string{`CryptoKeyIAMMember "deployer-secrets"`, `basic role "roles/editor"`}},
		{name: "owner of a service account", foundation: true,
			changes: []testkit.Change{testkit.Set(typeSAIAM, deployerWIF, "roles/owner", "role")},
			want:    []string{`IAMMember "` + deployerWIF + `"`, `basic role "roles/owner"`}},
		{name: "editor in a topic's policy document",
			changes: []testkit.Change{testkit.Add(newResource("dev", "gcp:pubsub/topicIAMPolicy:TopicIAMPolicy", "doc", map[string]any{
				"topic": stem + "-jobs", "policyData": `{"bindings":[{"role":"roles/editor","members":["` + testApp + `"]}]}`,
			}))},
			want: []string{`TopicIAMPolicy "doc"`, `basic policyData role "roles/editor"`},
			also: []string{PolicyAdditiveOnly, PolicyPubSubRoles}},
		{name: "owner of a crypto key in a pipeline stack",
			changes: []testkit.Change{testkit.Add(newResource("dev", spec.CryptoKeyIAMMemberType, "kms", map[string]any{
				"cryptoKeyId": "k", "role": "roles/owner", "member": testAgent,
			}))},
			want: []string{`CryptoKeyIAMMember "kms"`, `"roles/owner"`}},
	})
}
