// Command aiprod-pubsub is the Pulumi program that declares the AIPROD pipeline's Pub/Sub
// topology. Run it with `pulumi up --stack <name>`.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/aiprod/aiprod-pubsub/stacks"
)

func main() {
	pulumi.Run(stacks.Program)
}
