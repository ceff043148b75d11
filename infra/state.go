package infra

import (
	"fmt"

	"github.com/pulumi/pulumi-gcp/sdk/v8/go/gcp/kms"
	"github.com/pulumi/pulumi-gcp/sdk/v8/go/gcp/storage"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/aiprod/aiprod-pubsub/spec"
)

// stateStore is the pipeline stacks' state bucket and secrets key.
type stateStore struct {
	bucket *storage.Bucket
	key    *kms.CryptoKey
}

// state declares the state bucket and the secrets key, both protected: losing either loses
// every stack's state or secrets.
func (b foundationBuilder) state() (*stateStore, error) {
	name := spec.StateBucketName(b.args.Project)
	bucket, err := storage.NewBucket(b.ctx, name, &storage.BucketArgs{
		Project:                  pulumi.String(b.args.Project),
		Name:                     pulumi.String(name),
		Location:                 pulumi.String(b.args.StateLocation),
		UniformBucketLevelAccess: pulumi.Bool(true),
		PublicAccessPrevention:   pulumi.String("enforced"),
		// Every write of a state file keeps the one before, for StateNoncurrentDays, and the
		// last StateNewerVersions versions whatever their age.
		Versioning: &storage.BucketVersioningArgs{Enabled: pulumi.Bool(true)},
		LifecycleRules: storage.BucketLifecycleRuleArray{&storage.BucketLifecycleRuleArgs{
			Action: &storage.BucketLifecycleRuleActionArgs{Type: pulumi.String("Delete")},
			Condition: &storage.BucketLifecycleRuleConditionArgs{
				WithState:               pulumi.String("ARCHIVED"),
				DaysSinceNoncurrentTime: pulumi.Int(spec.StateNoncurrentDays),
				NumNewerVersions:        pulumi.Int(spec.StateNewerVersions),
			},
		}},
		SoftDeletePolicy: &storage.BucketSoftDeletePolicyArgs{RetentionDurationSeconds: pulumi.Int(spec.StateSoftDeleteSeconds)},
		Encryption:       b.stateEncryption(),
		Labels:           b.labels(),
		ForceDestroy:     pulumi.Bool(false),
	}, b.opts(pulumi.Protect(true))...)
	if err != nil {
		return nil, fmt.Errorf("creating the state bucket %q: %w", name, err)
	}
	ring, err := kms.NewKeyRing(b.ctx, spec.SecretsKeyRingID, &kms.KeyRingArgs{
		Project: pulumi.String(b.args.Project), Name: pulumi.String(spec.SecretsKeyRingID), Location: pulumi.String(spec.KMSLocation),
	}, b.opts(pulumi.Protect(true))...)
	if err != nil {
		return nil, fmt.Errorf("creating the key ring %q: %w", spec.SecretsKeyRingID, err)
	}
	key, err := kms.NewCryptoKey(b.ctx, spec.SecretsKeyID, &kms.CryptoKeyArgs{
		KeyRing:        ring.ID(),
		Name:           pulumi.String(spec.SecretsKeyID),
		Purpose:        pulumi.String("ENCRYPT_DECRYPT"),
		RotationPeriod: pulumi.String(spec.Seconds(spec.SecretsKeyRotationSeconds)),
		Labels:         b.labels(),
	}, b.opts(pulumi.Protect(true))...)
	if err != nil {
		return nil, fmt.Errorf("creating the secrets key %q: %w", spec.SecretsKeyID, err)
	}
	return &stateStore{bucket: bucket, key: key}, nil
}

// stateEncryption is the bucket's customer-managed key, or nil for Google-managed keys.
func (b foundationBuilder) stateEncryption() storage.BucketEncryptionPtrInput {
	if b.args.StateKMSKeyName == "" {
		return nil
	}
	return &storage.BucketEncryptionArgs{DefaultKmsKeyName: pulumi.String(b.args.StateKMSKeyName)}
}

// stateGrants gives an identity its roles on the state bucket and the secrets key. who names
// the identity in the members' logical names.
func (b foundationBuilder) stateGrants(st *stateStore, who string, member pulumi.StringInput, bucketRoles []bucketRole, keyRole string) error {
	for _, r := range bucketRoles {
		logical := spec.StateBucketName(b.args.Project) + "-" + r.key + "-" + who
		args := &storage.BucketIAMMemberArgs{Bucket: st.bucket.Name, Role: pulumi.String(r.role), Member: member}
		if r.condition != nil {
			args.Condition = r.condition
		}
		if _, err := storage.NewBucketIAMMember(b.ctx, logical, args, b.opts()...); err != nil {
			return fmt.Errorf("granting %s on the state bucket to %s: %w", r.role, who, err)
		}
	}
	logical := spec.SecretsKeyID + "-" + who
	if _, err := kms.NewCryptoKeyIAMMember(b.ctx, logical, &kms.CryptoKeyIAMMemberArgs{
		CryptoKeyId: st.key.ID(), Role: pulumi.String(keyRole), Member: member,
	}, b.opts()...); err != nil {
		return fmt.Errorf("granting %s on the secrets key to %s: %w", keyRole, who, err)
	}
	return nil
}

// bucketRole is one role on the state bucket, with its IAM condition when it has one.
type bucketRole struct {
	key, role string
	condition *storage.BucketIAMMemberConditionArgs
}

// lockRole lets an identity that only reads the state take the DIY backend's lock, the only
// object a preview writes: object user on the objects under .pulumi/locks/ alone.
func lockRole(bucket string) bucketRole {
	return bucketRole{key: "locks", role: spec.RoleStorageObjectUser, condition: &storage.BucketIAMMemberConditionArgs{
		Title:       pulumi.String("pulumi-locks-only"),
		Description: pulumi.String("Only the Pulumi backend's lock files"),
		Expression:  pulumi.String(spec.StateLocksCondition(bucket)),
	}}
}
