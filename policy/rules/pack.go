// Package rules is the aiprod-pubsub policy pack's rules. The pack binary (policy/main.go),
// the tests and the offline plan all run them. The rules read resources as the engine sends
// them, by type token and properties, so they also judge resources added by hand; values not
// known during a preview are skipped, never guessed.
package rules

import (
	"github.com/blang/semver"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

// PackName is the policy pack's name.
const PackName = "aiprod-pubsub"

// Version is the policy pack's version.
var Version = semver.MustParse("0.3.0")

// Pack is the policy pack for the stack that ctx runs; policy/main.go passes it to policyx.Main.
// The pack is the same for both Pulumi projects: a rule reads the project it judges from the
// resource's URN (inFoundation), the very name ctx.Project() holds, so that Evaluate, which
// has no context, judges alike.
func Pack(ctx *pulumi.Context) (policyx.PolicyPack, error) {
	return newPack(ctx.Stack())
}

// newPack returns the policy pack for the named stack.
func newPack(stack string) (policyx.PolicyPack, error) {
	return policyx.NewPolicyPack(PackName, Version, policyx.EnforcementLevelMandatory, Policies(stack))
}

// Policies returns the pack's policies for the named stack, in the order the spec lists them:
// the pipeline's, then the foundation's; the README's table of their config properties is
// generated from them. Both Pulumi projects get the same pack; a rule whose
// fact differs between them tells them apart by the resource's project (inFoundation).
func Policies(stack string) []policyx.Policy {
	return []policyx.Policy{
		ackDeadline(),
		deadLetter(),
		deadLetterIAM(),
		messageOrdering(),
		noExpiration(),
		dlqRetention(),
		noPublicMembers(),
		additiveOnly(),
		pubsubRolesPolicy(),
		noServiceAccountKeys(),
		requiredLabels(),
		prodProtect(stack),
		pipelineTopology(),
		topicSchema(),
		deadLetterAlert(),
		bucketVersionedPrivate(),
		wifRepository(),
		wifPrincipalsOnly(stack),
		noBasicRoles(),
		projectCustomRoles(),
	}
}
