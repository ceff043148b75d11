// Command aiprod-foundation is the Pulumi program of the foundation: the APIs, the Pub/Sub
// service agent, the state bucket, the secrets key, Workload Identity Federation and the CI
// identities the pipeline stacks stand on. A person runs it once per GCP project with
// `pulumi up --stack <name>` from this directory.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/aiprod/aiprod-pubsub/stacks"
)

func main() {
	pulumi.Run(stacks.FoundationProgram)
}
