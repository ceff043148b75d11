package rules

import (
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"

	"github.com/aiprod/aiprod-pubsub/spec"
)

// The pack is one binary for two Pulumi projects: the pipeline's and the foundation's
// (spec.FoundationProject), and a few facts differ between them: only the foundation holds
// project-level grants. A rule tells them apart by the project of the resource it judges.

// inFoundation reports whether r belongs to a stack of the foundation's Pulumi project. The
// project is the one in r's URN, which the engine builds from the project's name (the name
// Pack's ctx.Project() holds), and which every resource it sends has. There is no fallback on
// the presence of a foundation component: a pipeline stack could register one and escape its
// own rules.
func inFoundation(r policyx.AnalyzerResource) bool {
	u := resource.URN(r.URN)
	return u.IsValid() && string(u.Project()) == spec.FoundationProject
}
