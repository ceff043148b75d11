package rules

import (
	"testing"

	"github.com/aiprod/aiprod-pubsub/spec"
	"github.com/aiprod/aiprod-pubsub/testkit"
)

func TestBucketVersionedPrivate(t *testing.T) {
	t.Parallel()
	set := func(v any, path ...string) []testkit.Change {
		return []testkit.Change{testkit.Set(typeBucket, stateBucket, v, path...)}
	}
	bucket := `bucket "` + testBucket + `"`
	runCases(t, PolicyBucketVersionedPrivate, []ruleCase{
		{name: "the state bucket passes", foundation: true},
		{name: "the state bucket passes in prod", foundation: true, stack: "prod"},
		{name: "soft delete 90 days passes", foundation: true, changes: set(7776000, "softDeletePolicy", "retentionDurationSeconds")},
		{name: "forceDestroy false passes", foundation: true, changes: set(false, "forceDestroy")},
		{name: "versioning off", foundation: true, changes: set(false, "versioning", "enabled"),
			want: []string{bucket, "versioning.enabled false", "must be true"}, wantURN: foundationURN("dev", typeBucket, stateBucket)},
		{name: "no versioning", foundation: true, changes: set(nil, "versioning"),
			want: []string{bucket, "does not set versioning.enabled"}},
		{name: "public access prevention inherited", foundation: true, changes: set("inherited", "publicAccessPrevention"),
			want: []string{bucket, `publicAccessPrevention "inherited"`, `must be "enforced"`}},
		{name: "no public access prevention", foundation: true, changes: set(nil, "publicAccessPrevention"),
			want: []string{bucket, "does not set publicAccessPrevention"}},
		{name: "fine-grained access", foundation: true, changes: set(false, "uniformBucketLevelAccess"),
			want: []string{bucket, "uniformBucketLevelAccess false"}},
		{name: "no uniform bucket-level access", foundation: true, changes: set(nil, "uniformBucketLevelAccess"),
			want: []string{bucket, "does not set uniformBucketLevelAccess"}},
		{name: "no soft delete policy", foundation: true, changes: set(nil, "softDeletePolicy"),
			want: []string{bucket, "does not set softDeletePolicy.retentionDurationSeconds", spec.SoftDeleteRetentionRange.String()}},
		{name: "soft delete off", foundation: true, changes: set(0, "softDeletePolicy", "retentionDurationSeconds"),
			want: []string{bucket, "softDeletePolicy.retentionDurationSeconds 0"}},
		{name: "soft delete 100 days", foundation: true, changes: set(8640000, "softDeletePolicy", "retentionDurationSeconds"),
			want: []string{bucket, "softDeletePolicy.retentionDurationSeconds 8640000"}},
		{name: "force destroy", foundation: true, changes: set(true, "forceDestroy"),
			want: []string{bucket, "forceDestroy true", "false or unset"}},
		{name: "every setting wrong", foundation: true, changes: []testkit.Change{
			testkit.Set(typeBucket, stateBucket, nil, "versioning"), testkit.Set(typeBucket, stateBucket, "inherited", "publicAccessPrevention"),
			testkit.Set(typeBucket, stateBucket, false, "uniformBucketLevelAccess"), testkit.Set(typeBucket, stateBucket, nil, "softDeletePolicy"),
			testkit.Set(typeBucket, stateBucket, true, "forceDestroy"),
		}, want: []string{bucket}, count: 5},
		{name: "a bucket in a pipeline stack is judged too",
			changes: []testkit.Change{testkit.Add(newResource("dev", typeBucket, "scratch", map[string]any{
				"name": "scratch", "labels": map[string]any{"app": "aiprod", "env": "dev", "managed-by": "pulumi"},
				"versioning": map[string]any{"enabled": true}, "publicAccessPrevention": "enforced", "uniformBucketLevelAccess": true,
			}))},
			want: []string{`bucket "scratch" does not set softDeletePolicy.retentionDurationSeconds`}},
	})
}
