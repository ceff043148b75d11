package plan

import (
	"fmt"
	"strings"
)

// writeNotDeployableText warns, right under the plan's title, that the stack may be planned
// but not deployed, and why.
func (p *Plan) writeNotDeployableText(b *strings.Builder) {
	if p.NotDeployable != "" {
		fmt.Fprintf(b, "\nNOT DEPLOYABLE: %s. This plan shows the stack; `pulumi up` and the deploy refuse it.\n", p.NotDeployable)
	}
}

// writeNotDeployableMarkdown is writeNotDeployableText for a pull-request comment.
func (p *Plan) writeNotDeployableMarkdown(b *strings.Builder) {
	if p.NotDeployable != "" {
		fmt.Fprintf(b, "> [!WARNING]\n> **Not deployable:** %s. This plan shows the stack; `pulumi up` and the deploy refuse it.\n\n", p.NotDeployable)
	}
}
