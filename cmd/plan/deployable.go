package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/aiprod/aiprod-pubsub/offline"
	"github.com/aiprod/aiprod-pubsub/stacks"
)

// deployable reads the stack's config as the engine does (its file over Pulumi.yaml's
// defaults) and returns exitOK when the stack may be deployed (deployable unset or true),
// exitBlocked when it sets deployable to false, and exitError when it cannot tell.
func (o options) deployable(stdout, stderr io.Writer) int {
	files, err := offline.Load(o.projectDir, o.stack, o.config)
	if err != nil {
		fmt.Fprintf(stderr, "plan: %v\n", err)
		return exitError
	}
	key := stacks.Namespace + ":" + stacks.DeployableKey
	value, set := files.Config.Values[key]
	switch {
	case !set:
		fmt.Fprintf(stdout, "stack %q is deployable: %s is not set\n", o.stack, key)
		return exitOK
	case slices.Contains(files.Config.Secret, key):
		fmt.Fprintf(stderr, "plan: %s: %s is a secret; must be a plain true or false\n", o.stackFile(), key)
		return exitError
	}
	source := "the stack file"
	if !slices.Contains(files.StackKeys, key) {
		source = "is not set in the stack file; Pulumi.yaml's default"
	}
	deployable, err := strconv.ParseBool(value)
	switch {
	case err != nil:
		fmt.Fprintf(stderr, "plan: %s: %s is %q; must be true or false\n", o.stackFile(), key, value)
		return exitError
	case !deployable:
		fmt.Fprintf(stderr, "plan: stack %q is not deployable yet: %s sets %s to false (%s); replace its placeholder values with real ones, then set %s to true or remove it\n",
			o.stack, o.stackFile(), key, source, key)
		return exitBlocked
	}
	fmt.Fprintf(stdout, "stack %q is deployable: %s is true (%s)\n", o.stack, key, source)
	return exitOK
}
