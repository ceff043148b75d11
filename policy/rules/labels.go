package rules

import (
	"context"
	"fmt"
	"slices"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"

	"github.com/aiprod/aiprod-pubsub/spec"
)

// The policies on every topic and subscription.
const (
	PolicyRequiredLabels = "required-labels"
	PolicyProdProtect    = "prod-protect"
)

const configRequiredLabels = "labels"

// labelledTypes are the resources that carry the required labels: the queues, and the
// foundation's state bucket.
var labelledTypes = []string{spec.TopicType, spec.SubscriptionType, spec.BucketType}

// protectedTypes are the resources a production stack protects: deleting a topic or a
// subscription drops its messages, deleting a schema makes its topics reject every message,
// deleting the application's account stops every worker (and a foundation's account, every
// deploy), deleting the state bucket loses every stack's state, and deleting the secrets key
// every stack's secrets.
var protectedTypes = []string{spec.TopicType, spec.SubscriptionType, spec.SchemaType, spec.ServiceAccountType,
	spec.BucketType, spec.CryptoKeyType}

// requiredLabels: labels are how billing, alerts and the inventory find the pipeline's queues
// and tell a stack's from a hand-made one.
func requiredLabels() policyx.ResourceValidationPolicy {
	return policyx.NewResourceValidationPolicy(PolicyRequiredLabels, policyx.ResourceValidationPolicyArgs{
		Description:      "Topics, subscriptions and buckets carry the labels " + andList(spec.RequiredLabelKeys()) + ".",
		EnforcementLevel: policyx.EnforcementLevelMandatory,
		ConfigSchema: &policyx.ConfigSchema{Properties: map[string]map[string]any{
			configRequiredLabels: {
				"type":        "array",
				"items":       map[string]any{"type": "string"},
				"description": "the label keys every topic, subscription and bucket must carry",
				"default":     anyList(spec.RequiredLabelKeys()),
			},
		}},
		ValidateResource: func(_ context.Context, args policyx.ResourceValidationArgs) error {
			r := args.Resource
			if !slices.Contains(labelledTypes, r.Type) {
				return nil
			}
			want, err := configStrings(PolicyRequiredLabels, args.Config, configRequiredLabels, spec.RequiredLabelKeys())
			if err != nil {
				return err
			}
			labels := get(r.Properties, "labels")
			if labels.Unknown {
				return nil
			}
			var missing []string
			for _, k := range want {
				v := get(r.Properties, "labels", k)
				if v.Unknown {
					continue
				}
				if !v.Set || !v.IsString() || v.AsString() == "" {
					missing = append(missing, k)
				}
			}
			if len(missing) > 0 {
				slices.Sort(missing)
				args.Manager.ReportViolation(fmt.Sprintf("%s has labels %s without %q; required are %q",
					describe(r), showLabels(labels), missing, want), "")
			}
			return nil
		},
	})
}

// showLabels formats a labels property for a message.
func showLabels(v value) string {
	if !v.Set {
		return "(none)"
	}
	if !v.IsMap() {
		return show(v.Value)
	}
	var out []string
	for k, x := range v.AsMap().AllStable {
		out = append(out, k+"="+show(x))
	}
	if len(out) == 0 {
		return "(none)"
	}
	return fmt.Sprint(out)
}

const (
	configProduction       = "production"
	configProductionStacks = "productionStacks"
)

var defaultProductionStacks = []string{"prod"}

// prodProtect: in production a destroy or an accidental replacement of a topic or subscription
// drops the messages queued in it.
func prodProtect(stack string) policyx.ResourceValidationPolicy {
	return policyx.NewResourceValidationPolicy(PolicyProdProtect, policyx.ResourceValidationPolicyArgs{
		Description:      "In a production stack, topics, subscriptions, schemas, service accounts, buckets and crypto keys are protected so that no destroy or replacement drops queued messages, state or secrets.",
		EnforcementLevel: policyx.EnforcementLevelMandatory,
		ConfigSchema: &policyx.ConfigSchema{Properties: map[string]map[string]any{
			configProduction: {
				"type":        "boolean",
				"description": "whether this stack is a production stack; when absent, the stack's name decides (productionStacks)",
			},
			configProductionStacks: {
				"type":        "array",
				"items":       map[string]any{"type": "string"},
				"description": "the names of the production stacks",
				"default":     anyList(defaultProductionStacks),
			},
		}},
		ValidateResource: func(_ context.Context, args policyx.ResourceValidationArgs) error {
			r := args.Resource
			if !slices.Contains(protectedTypes, r.Type) {
				return nil
			}
			production, set, err := configBool(PolicyProdProtect, args.Config, configProduction)
			if err != nil {
				return err
			}
			if !set {
				stacks, err := configStrings(PolicyProdProtect, args.Config, configProductionStacks, defaultProductionStacks)
				if err != nil {
					return err
				}
				production = slices.Contains(stacks, stack)
			}
			if production && !r.Options.Protect {
				how := "set the protect option (config aiprod-pubsub:protect)"
				if inFoundation(r) {
					how = "set the protect option"
				}
				args.Manager.ReportViolation(fmt.Sprintf("%s has protect false in production stack %q; %s%s",
					describe(r), stack, how, allowWith(PolicyProdProtect, configProduction+": false")), "")
			}
			return nil
		},
	})
}
