package spec

import (
	"maps"
	"slices"
)

// The keys of the labels the program puts on every topic and subscription.
const (
	labelApp       = "app"
	labelComponent = "component"
	// LabelEnv is the label that names the environment, the stack.
	LabelEnv       = "env"
	labelManagedBy = "managed-by"
)

// The values of the labels that are the same everywhere: the application, and what manages
// the resources.
const (
	appLabelValue       = "aiprod"
	managedByLabelValue = "pulumi"
)

// StandardLabels are the labels of every topic and subscription of a pipeline in an
// environment: app=aiprod, component=<pipeline>, env=<environment>, managed-by=pulumi.
func StandardLabels(pipeline, environment string) map[string]string {
	return map[string]string{
		labelApp:       appLabelValue,
		labelComponent: pipeline,
		LabelEnv:       environment,
		labelManagedBy: managedByLabelValue,
	}
}

// standardLabelKeys are the keys of StandardLabels, sorted.
func standardLabelKeys() []string { return slices.Sorted(maps.Keys(StandardLabels("", ""))) }

// RequiredLabelKeys are the labels the policy pack requires, by default, of every topic and
// subscription, whoever declared it: the standard labels but component, which names one of the
// program's pipelines and which a queue made by hand has no value for.
func RequiredLabelKeys() []string { return []string{labelApp, LabelEnv, labelManagedBy} }
