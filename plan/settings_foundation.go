package plan

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/aiprod/aiprod-pubsub/spec"
)

// foundationKinds are the short names of the foundation's types.
var foundationKinds = map[string]string{
	spec.FoundationType:                   "foundation",
	spec.ProjectServiceType:               "API",
	spec.ServiceIdentityType:              "service identity",
	spec.BucketType:                       "bucket",
	spec.BucketIAMMemberType:              "bucket IAM member",
	spec.KeyRingType:                      "KMS key ring",
	spec.CryptoKeyType:                    "KMS key",
	spec.WorkloadIdentityPoolType:         "workload identity pool",
	spec.WorkloadIdentityPoolProviderType: "workload identity provider",
	spec.ProjectCustomRoleType:            "custom role",
	spec.ProjectIAMMemberType:             "project IAM member",
	spec.ServiceAccountIAMMemberType:      "service account IAM member",
}

// foundationSettings are the key settings of a foundation resource; nil for any other.
func foundationSettings(typ string, in resource.PropertyMap) []string {
	switch typ {
	case spec.ProjectServiceType:
		return []string{"disable on destroy " + show(in, "disableOnDestroy")}
	case spec.ServiceIdentityType:
		return []string{"service agent of " + show(in, "service")}
	case spec.BucketType:
		return []string{show(in, "location"), "versioning " + show(in, "versioning.enabled"),
			"noncurrent versions deleted after " + show(in, "lifecycleRules[0].condition.daysSinceNoncurrentTime") + " d, " +
				show(in, "lifecycleRules[0].condition.numNewerVersions") + " newest kept",
			"soft delete " + duration(show(in, "softDeletePolicy.retentionDurationSeconds")+"s"),
			"public access " + show(in, "publicAccessPrevention")}
	case spec.BucketIAMMemberType, spec.ServiceAccountIAMMemberType, spec.ProjectIAMMemberType:
		out := []string{show(in, "role"), "member " + show(in, "member")}
		if c := show(in, "condition.expression"); c != "" {
			out = append(out, "if "+c)
		}
		return out
	case spec.CryptoKeyType:
		return []string{"rotation " + duration(show(in, "rotationPeriod"))}
	case spec.WorkloadIdentityPoolProviderType:
		return []string{"issuer " + show(in, "oidc.issuerUri"), "condition " + show(in, "attributeCondition")}
	case spec.ProjectCustomRoleType:
		if v, ok := lookup(in, "permissions"); ok && v.IsArray() {
			return []string{fmt.Sprintf("%d permissions from spec.PipelinePermissions", len(v.ArrayValue()))}
		}
	}
	return nil
}
