package rules

import (
	"context"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"

	"github.com/aiprod/aiprod-pubsub/spec"
)

// PolicyBucketVersionedPrivate is the name of the policy on buckets.
const PolicyBucketVersionedPrivate = "storage-bucket-versioned-private"

// bucketCheck is one setting every bucket must have.
type bucketCheck struct {
	path []string
	// unsetOK is true when leaving the property unset is right.
	unsetOK bool
	ok      func(value) bool
	want    string
	why     string
}

// bucketChecks: the buckets hold the stacks' state, whose loss or disclosure loses or leaks
// every stack (and its secrets' ciphertext).
var bucketChecks = []bucketCheck{
	{path: []string{"versioning", "enabled"}, ok: isTrue, want: "true",
		why: "a state file overwritten or deleted by mistake could not be restored"},
	{path: []string{"publicAccessPrevention"}, ok: isString(spec.PublicAccessPreventionEnforced), want: `"` + spec.PublicAccessPreventionEnforced + `"`,
		why: `"inherited" lets a grant to allUsers make the state public`},
	{path: []string{"uniformBucketLevelAccess"}, ok: isTrue, want: "true",
		why: "object ACLs could grant access that the bucket's IAM does not show"},
	{path: []string{"softDeletePolicy", "retentionDurationSeconds"}, ok: isNumberIn(spec.SoftDeleteRetentionRange),
		want: "a number of seconds " + spec.SoftDeleteRetentionRange.String(),
		why:  "a deleted state object must stay restorable (0 turns soft delete off)"},
	{path: []string{"forceDestroy"}, unsetOK: true, ok: func(v value) bool { return !isTrue(v) }, want: "false or unset",
		why: "a destroy or a replacement would delete every object in it"},
}

func isTrue(v value) bool { return v.IsBool() && v.AsBool() }

func isString(s string) func(value) bool {
	return func(v value) bool { return v.IsString() && v.AsString() == s }
}

func isNumberIn(r spec.Range) func(value) bool {
	return func(v value) bool { return v.IsNumber() && inRange(v.AsNumber(), r) }
}

// bucketVersionedPrivate: the foundation's bucket holds every stack's state.
func bucketVersionedPrivate() policyx.ResourceValidationPolicy {
	return policyx.NewResourceValidationPolicy(PolicyBucketVersionedPrivate, policyx.ResourceValidationPolicyArgs{
		Description:      "Buckets keep versions and cannot be public: versioning on, publicAccessPrevention enforced, uniform bucket-level access, a soft delete policy, no forceDestroy.",
		EnforcementLevel: policyx.EnforcementLevelMandatory,
		ValidateResource: func(_ context.Context, args policyx.ResourceValidationArgs) error {
			r := args.Resource
			if r.Type != spec.BucketType {
				return nil
			}
			for _, c := range bucketChecks {
				v := get(r.Properties, c.path...)
				name := strings.Join(c.path, ".")
				switch {
				case v.Unknown, !v.Set && c.unsetOK:
				case !v.Set:
					args.Manager.ReportViolation(fmt.Sprintf("%s does not set %s; must be %s: %s", describe(r), name, c.want, c.why), "")
				case !c.ok(v):
					args.Manager.ReportViolation(fmt.Sprintf("%s has %s %s; must be %s: %s", describe(r), name, show(v.Value), c.want, c.why), "")
				}
			}
			return nil
		},
	})
}
