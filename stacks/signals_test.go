package stacks_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiprod/aiprod-pubsub/gcpmock"
	"github.com/aiprod/aiprod-pubsub/inventory"
	"github.com/aiprod/aiprod-pubsub/offline"
	"github.com/aiprod/aiprod-pubsub/spec"
	"github.com/aiprod/aiprod-pubsub/stacks"
)

// realStacks are the stacks of the checked-in stack files, as the offline plan runs them.
func realStacks(t *testing.T) map[string]*offline.Result {
	t.Helper()
	out := map[string]*offline.Result{}
	for _, stack := range []string{"dev", "prod"} {
		out[stack] = loadStack(t, stack, nil)
	}
	return out
}

// thresholds are the threshold conditions of an alert policy, as plain values.
func thresholds(r inventory.Resource) []map[string]any {
	var out []map[string]any
	conds, _ := prop(r, "conditions").([]any)
	for _, c := range conds {
		th, _ := c.(map[string]any)["conditionThreshold"].(map[string]any)
		out = append(out, th)
	}
	return out
}

// TestRatioConditionsGroupAlike: every ratio condition of every alert policy of both stacks
// aggregates numerator and denominator alike, across series, grouped by the topic: after
// aggregation both sides have the same labels, so the ratio is failures over all requests,
// not each failing series over itself.
func TestRatioConditionsGroupAlike(t *testing.T) {
	t.Parallel()
	ratios := 0
	for stack, res := range realStacks(t) {
		for _, r := range res.ByType(spec.AlertPolicyType) {
			for _, th := range thresholds(r) {
				if th["denominatorFilter"] == nil {
					continue
				}
				ratios++
				num, _ := th["aggregations"].([]any)
				den, _ := th["denominatorAggregations"].([]any)
				require.Len(t, num, 1, "%s %s: one numerator aggregation", stack, r.URN)
				require.Equal(t, num, den, "%s %s: numerator and denominator aggregate alike", stack, r.URN)
				agg := num[0].(map[string]any)
				assert.Equal(t, spec.ReduceSum, agg["crossSeriesReducer"], "%s %s: summed across series", stack, r.URN)
				assert.Equal(t, []any{spec.GroupByTopic}, agg["groupByFields"], "%s %s: grouped by topic", stack, r.URN)
				nm, nk, nn, ok1 := spec.ParseFilter(th["filter"].(string))
				dm, dk, dn, ok2 := spec.ParseFilter(th["denominatorFilter"].(string))
				assert.True(t, ok1 && ok2 && nm == dm && nk == dk && nn == dn, "%s %s: both sides read one metric of one topic", stack, r.URN)
			}
		}
	}
	assert.Positive(t, ratios, "the publish-error alerts are ratios")
}

// TestDeclaredValuesAreReadBackForms: every declared property of every resource of both real
// stacks is already in the form GCP reads it back (spec.ReadBackRules), so that a deploy
// followed by `pulumi preview --refresh --expect-no-changes` reports nothing.
func TestDeclaredValuesAreReadBackForms(t *testing.T) {
	t.Parallel()
	for stack, res := range realStacks(t) {
		for _, r := range res.Resources {
			if !r.Custom {
				continue
			}
			declared := r.Inputs.Mappable()
			assert.Equal(t, spec.ReadBack(r.Type, declared), declared, "%s %s: GCP reads back another value", stack, r.URN)
		}
	}
	dash := realStacks(t)["prod"].ByType(spec.DashboardType)
	require.Len(t, dash, 1)
	var doc struct{ GridLayout map[string]any }
	require.NoError(t, json.Unmarshal([]byte(prop(dash[0], "dashboardJson").(string)), &doc))
	assert.Equal(t, "1", doc.GridLayout["columns"], "an int64 is a string in the API's JSON")
}

var labelRefRE = regexp.MustCompile(`\b(metric|resource)\.labels?\.([A-Za-z0-9_]+)`)

// labelProblems lists the labels a filter and its groupByFields name that neither the filter's
// metric (Google's list) nor its monitored resource has.
func labelProblems(metrics map[string]metricInfo, resources map[string][]string, filter string, groupBy []any) []string {
	metric, _, _, ok := spec.ParseFilter(filter)
	info, listed := metrics[metric]
	if !ok || !listed {
		return []string{fmt.Sprintf("%q reads no metric of Google's list", filter)}
	}
	refs := []string{filter}
	for _, g := range groupBy {
		refs = append(refs, fmt.Sprint(g))
	}
	var out []string
	for _, ref := range refs {
		for _, m := range labelRefRE.FindAllStringSubmatch(ref, -1) {
			has := info.labels
			if m[1] == "resource" {
				has = resources[info.resource]
			}
			if !slices.Contains(has, m[2]) {
				out = append(out, fmt.Sprintf("%s has no %s label %s (%q)", metric, m[1], m[2], ref))
			}
		}
	}
	return out
}

// TestFiltersUseTheMetricsLabels: every filter and every groupByFields of every alert policy
// and dashboard chart names only labels that its metric (Google's list) or its monitored
// resource has.
func TestFiltersUseTheMetricsLabels(t *testing.T) {
	t.Parallel()
	metrics, resources := googleMetrics(t), googleResources(t)
	// The check itself: dead_letter_message_count has a response_code, no response_class, and
	// a subscription no topic_id.
	wrong := spec.SubscriptionFilter(spec.MetricDeadLetters, "s") + ` AND metric.labels.response_class = "success"`
	require.Len(t, labelProblems(metrics, resources, wrong, []any{"resource.label.topic_id"}), 2)
	require.Empty(t, labelProblems(metrics, resources, spec.DeadLetterFilter("s", true), []any{"resource.label.subscription_id"}))
	check := func(where, filter string, groupBy []any) {
		assert.Empty(t, labelProblems(metrics, resources, filter, groupBy), where)
	}
	for stack, res := range realStacks(t) {
		for _, r := range res.ByType(spec.AlertPolicyType) {
			for _, th := range thresholds(r) {
				for _, side := range [][2]string{{"filter", "aggregations"}, {"denominatorFilter", "denominatorAggregations"}} {
					f, _ := th[side[0]].(string)
					if f == "" {
						continue
					}
					aggs, _ := th[side[1]].([]any)
					for _, a := range aggs {
						g, _ := a.(map[string]any)["groupByFields"].([]any)
						check(stack+" "+r.URN, f, g)
					}
				}
			}
		}
		for _, r := range res.ByType(spec.DashboardType) {
			var doc struct {
				GridLayout struct {
					Widgets []struct {
						XyChart struct {
							DataSets []struct {
								TimeSeriesQuery struct {
									TimeSeriesFilter struct {
										Filter      string
										Aggregation struct{ GroupByFields []any }
									}
								}
							}
						}
					}
				}
			}
			require.NoError(t, json.Unmarshal([]byte(prop(r, "dashboardJson").(string)), &doc))
			for _, w := range doc.GridLayout.Widgets {
				for _, d := range w.XyChart.DataSets {
					f := d.TimeSeriesQuery.TimeSeriesFilter
					check(stack+" "+r.URN, f.Filter, f.Aggregation.GroupByFields)
				}
			}
		}
	}
}

// TestMissingDataAndAutoClose: every alert policy closes its incidents on its own and says how
// its conditions treat missing data, by the kind of its metric: a count has no points when
// nothing happens (inactive), a gauge's gaps change nothing (no-op).
func TestMissingDataAndAutoClose(t *testing.T) {
	t.Parallel()
	metrics := googleMetrics(t)
	want := map[string]string{"DELTA": "EVALUATION_MISSING_DATA_INACTIVE", "GAUGE": "EVALUATION_MISSING_DATA_NO_OP"}
	for stack, res := range realStacks(t) {
		policies := res.ByType(spec.AlertPolicyType)
		require.NotEmpty(t, policies)
		for _, r := range policies {
			kinds := map[string]bool{}
			for _, th := range thresholds(r) {
				metric, _, _, _ := spec.ParseFilter(th["filter"].(string))
				kind := metrics[metric].kind
				kinds[kind] = true
				assert.Equal(t, want[kind], th["evaluationMissingData"], "%s %s: missing data of the %s metric %s", stack, r.URN, kind, metric)
			}
			require.Len(t, kinds, 1, "%s %s: one kind of metric per policy", stack, r.URN)
			for kind := range kinds {
				assert.Equal(t, spec.Seconds(spec.AutoCloseSeconds[kind]), prop(r, "alertStrategy.autoClose"), "%s %s: auto-close", stack, r.URN)
			}
		}
	}
}

// TestDeadLetterAlertsSplitByOutcome: the dead-letter alert counts only the messages Pub/Sub
// forwarded; the forward-failures alert the rest, with a runbook on the service agent's grants.
func TestDeadLetterAlertsSplitByOutcome(t *testing.T) {
	t.Parallel()
	res := loadStack(t, "dev", nil)
	cases := []struct {
		alert            string
		success, failure bool
		runbook          []string
	}{
		{"dead-letters", true, false, []string{"go run ./cmd/dlq"}},
		{"dead-letter-forward-failures", false, true, []string{spec.RolePublisher, spec.RoleSubscriber, "aiprod-pipeline-dlq", "gcp-sa-pubsub.iam.gserviceaccount.com"}},
	}
	for _, tc := range cases {
		t.Run(tc.alert, func(t *testing.T) {
			r := mustGet(t, res, spec.AlertPolicyType, spec.AlertName("aiprod", "pipeline", tc.alert))
			ths := thresholds(r)
			require.Len(t, ths, 2, "%s: jobs and results", r.URN)
			for _, th := range ths {
				success, failure := spec.SelectsResponse(th["filter"].(string))
				assert.Equal(t, [2]bool{tc.success, tc.failure}, [2]bool{success, failure}, "%s: %s", r.URN, th["filter"])
			}
			for _, s := range tc.runbook {
				assert.Contains(t, prop(r, "documentation.content"), s, "%s: runbook", r.URN)
			}
		})
	}
}

// realAddress is an address outside the reserved domains.
const realAddress = "aiprod-oncall@aiprod.io"

// TestPlaceholderAddresses: a protected stack that may be deployed refuses addresses in
// reserved domains, naming the key, the value and the command that sets a real one; with
// deployable false, or unprotected, they are accepted.
func TestPlaceholderAddresses(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, stack, emails, deployable string
		refused                         bool
	}{
		{"prod as shipped", "prod", "", "", false},
		{"prod made deployable", "prod", "", "true", true},
		{"a subdomain of example.com", "prod", `["a@team.example.com"]`, "true", true},
		{".example", "prod", `["a@corp.example"]`, "true", true},
		{".invalid", "prod", `["a@x.invalid"]`, "true", true},
		{".test", "prod", `["a@x.test"]`, "true", true},
		{".localhost", "prod", `["root@localhost"]`, "true", true},
		{"a real address", "prod", `["` + realAddress + `"]`, "true", false},
		{"example.community is not reserved", "prod", `["a@example.community"]`, "true", false},
		{"unprotected dev", "dev", `["a@example.com"]`, "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := offline.Stack("..", tc.stack, func(v map[string]string) {
				if tc.emails != "" {
					v["aiprod-pubsub:alertEmails"] = tc.emails
				}
				if tc.deployable != "" {
					v["aiprod-pubsub:deployable"] = tc.deployable
				}
			})
			if !tc.refused {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Regexp(t, `aiprod-pubsub:alertEmails is "[^"]+"; a protected stack's alerts must reach someone`, err.Error())
			assert.Contains(t, err.Error(), "pulumi config set --stack prod --path 'aiprod-pubsub:alertEmails[0]' <on-call address>")
			assert.Contains(t, err.Error(), "or set aiprod-pubsub:deployable to false")
		})
	}
}

// TestNotDeployableRefusesUp: the program refuses a real update of a stack whose config says
// it is not deployable, before it registers anything; a preview runs.
func TestNotDeployableRefusesUp(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		dryRun  bool
		edit    map[string]string
		refused bool
	}{
		{"up of prod as shipped", false, nil, true},
		{"preview of prod as shipped", true, nil, false},
		{"up of prod with a real address", false, map[string]string{"aiprod-pubsub:deployable": "true", "aiprod-pubsub:alertEmails": `["` + realAddress + `"]`}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			files, err := offline.Load("..", "prod", "")
			require.NoError(t, err)
			for k, v := range tc.edit {
				files.Config.Values[k] = v
			}
			mocks := gcpmock.New(files.Project, "prod")
			err = pulumi.RunErr(func(ctx *pulumi.Context) error {
				_, err := stacks.Deploy(ctx, files.Config)
				return err
			}, pulumi.WithMocks(files.Project, "prod", mocks), func(info *pulumi.RunInfo) {
				info.Config, info.ConfigSecretKeys, info.DryRun = files.Config.Values, files.Config.Secret, tc.dryRun
			})
			if !tc.refused {
				require.NoError(t, err)
				assert.NotEmpty(t, mocks.Resources())
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), `stack "prod" is not deployable (aiprod-pubsub:deployable is false; aiprod-pubsub:alertEmails holds the placeholder "aiprod-oncall@example.com"`)
			assert.Empty(t, mocks.Resources(), "nothing registered")
			cfg, err := stacks.Parse("prod", files.Config)
			require.NoError(t, err)
			assert.NotEmpty(t, cfg.NotDeployable(), "the offline plan says why")
		})
	}
}
