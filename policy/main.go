// Command policy is the aiprod-pubsub policy pack. The rules live in package rules so that the
// tests and the offline plan run the very same rules.
package main

import (
	"fmt"
	"os"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"

	"github.com/aiprod/aiprod-pubsub/policy/rules"
)

func main() {
	if err := policyx.Main(rules.Pack); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
