package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiprod/aiprod-pubsub/offline"
	"github.com/aiprod/aiprod-pubsub/plan"
	"github.com/aiprod/aiprod-pubsub/spec"
	"github.com/aiprod/aiprod-pubsub/stacks"
)

// The plan of the program with configs the stack files do not hold: n pipelines, schemas off,
// alerts and a KMS key. They live here, beside the command's goldens, because only a test
// binary that holds the program can run it: the plan package's own tests read documents.

const programProject = "aiprod-pubsub"

// raw is a dev-like config (the stack creates its service account) with n pipelines.
func raw(n int) stacks.Raw {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("p%03d", i)
	}
	b, err := json.Marshal(names)
	if err != nil {
		panic(err)
	}
	return stacks.Raw{Values: map[string]string{
		"gcp:project":                          "aiprod-dev-000000",
		"aiprod-pubsub:createServiceAccount":   "true",
		"aiprod-pubsub:pipelines":              string(b),
		"aiprod-pubsub:projectNumber":          "123456789012",
		"aiprod-pubsub:jobsAckDeadlineSeconds": "300",
	}}
}

// planOf runs the program with r and plans it.
func planOf(tb testing.TB, r stacks.Raw) (*plan.Plan, *offline.Result) {
	tb.Helper()
	res, err := offline.Program(programProject, "dev", r)
	require.NoError(tb, err)
	p, err := plan.FromResult(&res.Stack, plan.StackConfig{Values: r.Values, Secret: r.Secret}, plan.Options{})
	require.NoError(tb, err)
	return p, res
}

// TestGrowsLinearly checks that each pipeline adds the same number of resources and that the
// deploy critical path does not grow with the number of pipelines.
func TestGrowsLinearly(t *testing.T) {
	t.Parallel()
	counts := map[int]int{}
	for _, n := range []int{1, 2, 5, 10} {
		p, _ := planOf(t, raw(n))
		counts[n] = len(p.Steps)
		// schema, topic, subscription, IAM member on it: a topic that enforces a contract
		// needs its schema first.
		assert.Len(t, p.CriticalPath, 4, "%d pipelines: critical path %v", n, p.CriticalPath)
		assert.False(t, p.Mandatory(), "%d pipelines: %v", n, p.Violations)
	}
	perPipeline := counts[2] - counts[1]
	fixed := counts[1] - perPipeline
	assert.Equal(t, 22, perPipeline, "resources per pipeline: component, 2 schemas, 3 topics, 3 subscriptions, 7 members, 6 alert policies")
	for n, c := range counts {
		assert.Equal(t, fixed+perPipeline*n, c, "%d pipelines", n)
	}
}

// TestCriticalPathWithoutSchemas: without contracts the path is the topology's minimum, 3.
func TestCriticalPathWithoutSchemas(t *testing.T) {
	t.Parallel()
	r := raw(3)
	r.Values["aiprod-pubsub:enforceSchemas"] = "false"
	p, _ := planOf(t, r)
	assert.Len(t, p.CriticalPath, 3, "topic, subscription, IAM member on it: %v", p.CriticalPath)
}

// TestCriticalPathWithAlertsAndKey: the alerts wait only for their notification channels, and
// the topics for the KMS key's grant as they do for their schemas: the path stays 4.
func TestCriticalPathWithAlertsAndKey(t *testing.T) {
	t.Parallel()
	r := raw(2)
	r.Values["aiprod-pubsub:alertEmails"] = `["oncall@aiprod.io"]`
	r.Values["aiprod-pubsub:kmsKeyName"] = "projects/p/locations/europe-west1/keyRings/r/cryptoKeys/k"
	p, res := planOf(t, r)
	assert.Len(t, p.CriticalPath, 4, "%v", p.CriticalPath)
	require.NotEmpty(t, res.ByType(spec.CryptoKeyIAMMemberType))
	require.NotEmpty(t, res.ByType(spec.NotificationChannelType))
}

// TestImportNeedsKnownInputs: a member whose target is known only after deployment cannot be
// imported, and the error names the resource; one whose member is known only then (the
// service agent without the project's number) is left out, and ImportOmissions says why.
func TestImportNeedsKnownInputs(t *testing.T) {
	t.Parallel()
	unknown := resource.MakeComputed(resource.NewProperty(""))
	for _, key := range []string{"topic", "member"} {
		p, _ := planOf(t, raw(1))
		i := slices.IndexFunc(p.Steps, func(s plan.Step) bool { return s.Resource.Type == spec.TopicIAMMemberType })
		require.GreaterOrEqual(t, i, 0, "no topic member planned")
		r := &p.Steps[i].Resource
		r.Inputs = r.Inputs.Copy()
		r.Inputs[resource.PropertyKey(key)] = unknown
		var out bytes.Buffer
		err := p.WriteImport(&out)
		if key == "topic" {
			require.Error(t, err)
			assert.Contains(t, err.Error(), r.URN)
			assert.Contains(t, err.Error(), "topic is not known before deployment")
			continue
		}
		require.NoError(t, err)
		var omitted []string
		for _, o := range p.ImportOmissions() {
			omitted = append(omitted, o.Name)
		}
		assert.Equal(t, []string{r.Name}, omitted)
		var f struct{ Resources []struct{ Name string } }
		require.NoError(t, json.Unmarshal(out.Bytes(), &f))
		require.NotEmpty(t, f.Resources)
		assert.False(t, slices.ContainsFunc(f.Resources, func(e struct{ Name string }) bool { return e.Name == r.Name }), "%s is left out", r.Name)
	}
}

// BenchmarkPlan times the whole offline plan: the program under mocks, the policy pack and
// the JSON document, for 1 and 100 pipelines.
func BenchmarkPlan(b *testing.B) {
	for _, n := range []int{1, 100} {
		r := raw(n)
		b.Run(fmt.Sprintf("pipelines=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p, _ := planOf(b, r)
				if err := p.WriteJSON(io.Discard); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n), "pipelines")
		})
	}
}

// BenchmarkPlanStages times each stage of the plan on its own, to show which one grows
// faster than the number of pipelines: the program under mocks, the plan with the policy
// pack, and the four formats and the import file.
func BenchmarkPlanStages(b *testing.B) {
	for _, n := range []int{1, 100} {
		r := raw(n)
		p, res := planOf(b, r)
		b.Run(fmt.Sprintf("program/pipelines=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := offline.Program(programProject, "dev", r); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("policy/pipelines=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := plan.FromResult(&res.Stack, plan.StackConfig{Values: r.Values, Secret: r.Secret}, plan.Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("output/pipelines=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for _, write := range []func(io.Writer) error{p.WriteText, p.WriteJSON, p.WriteMarkdown, p.WriteMermaid, p.WriteImport} {
					if err := write(io.Discard); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
