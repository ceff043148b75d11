package render

import (
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

// Analyzer returns the resource as the engine sends it to a policy pack: type token, inputs
// under the provider's property names, and options.
func (r Resource) Analyzer() policyx.AnalyzerResource {
	return policyx.AnalyzerResource{
		Type:                 r.Type,
		Properties:           resource.FromResourcePropertyMap(r.Inputs),
		URN:                  r.URN,
		Name:                 r.Name,
		Options:              pulumi.ResourceOptions{Protect: r.Protect},
		Parent:               r.Parent,
		Dependencies:         r.Dependencies,
		PropertyDependencies: r.PropertyDependencies,
	}
}

// Analyzer returns every resource as the engine sends it to a policy pack.
func (r *Result) Analyzer() []policyx.AnalyzerResource {
	out := make([]policyx.AnalyzerResource, len(r.Resources))
	for i, res := range r.Resources {
		out[i] = res.Analyzer()
	}
	return out
}
