package stacks_test

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiprod/aiprod-pubsub/inventory"
	"github.com/aiprod/aiprod-pubsub/offline"
	"github.com/aiprod/aiprod-pubsub/spec"
)

// conditionsOf reads an alert policy's threshold conditions: filter, threshold, duration,
// alignment window and aligner, and the denominator's filter.
func conditionsOf(t *testing.T, r inventory.Resource) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, c := range prop(r, "conditions").([]any) {
		th := c.(map[string]any)["conditionThreshold"].(map[string]any)
		agg := th["aggregations"].([]any)[0].(map[string]any)
		threshold, _ := th["thresholdValue"].(float64) // absent is 0, as GCP reads it back
		out = append(out, map[string]any{
			"filter": th["filter"], "threshold": threshold, "duration": th["duration"],
			"window": agg["alignmentPeriod"], "aligner": agg["perSeriesAligner"], "denominator": th["denominatorFilter"],
		})
	}
	return out
}

// TestAlerts: each pipeline's five alert policies, their thresholds derived from the stack's
// settings, at least five-minute windows, and a runbook in each.
func TestAlerts(t *testing.T) {
	t.Parallel()
	res := loadStack(t, "dev", nil)
	jobs, results, dlq := "aiprod-pipeline-jobs-sub", "aiprod-pipeline-results-sub", "aiprod-pipeline-dlq-sub"
	want := map[string]map[string]float64{ // alert -> subscription or topic -> threshold
		"dead-letters":                 {jobs: 0, results: 0},
		"dead-letter-forward-failures": {jobs: 0, results: 0},
		"stalled":                      {jobs: 5 * (300 + 600), results: 5 * (60 + 600)},
		"retention":                    {jobs: 302400, results: 302400, dlq: 302400},
		"dlq-backlog":                  {dlq: 0},
		"publish-errors":               {"aiprod-pipeline-jobs": 0.01, "aiprod-pipeline-results": 0.01, "aiprod-pipeline-dlq": 0.01},
	}
	holds := map[string]string{"stalled": "600s", "dlq-backlog": "3600s", "retention": "300s"}
	for alert, thresholds := range want {
		r := mustGet(t, res, spec.AlertPolicyType, spec.AlertName("aiprod", "pipeline", alert))
		assert.NotEmpty(t, prop(r, "documentation.content"), "%s: a runbook", r.URN)
		got := map[string]float64{}
		for _, c := range conditionsOf(t, r) {
			_, _, name, ok := spec.ParseFilter(c["filter"].(string))
			require.True(t, ok, "%s: filter %q", r.URN, c["filter"])
			got[name] = c["threshold"].(float64)
			window, _ := spec.ParseSeconds(c["window"].(string))
			assert.GreaterOrEqual(t, window, 300.0, "%s: window of %s", r.URN, name)
			if h, ok := holds[alert]; ok {
				assert.Equal(t, h, c["duration"], "%s: how long the threshold holds for %s", r.URN, name)
			}
		}
		assert.Equal(t, thresholds, got, "%s: thresholds", r.URN)
	}
	stalled := mustGet(t, res, spec.AlertPolicyType, spec.AlertName("aiprod", "pipeline", "stalled"))
	assert.Equal(t, 4500.0, conditionsOf(t, stalled)[0]["threshold"], "the spec's values give 4,500 s for jobs")
	assert.Contains(t, prop(mustGet(t, res, spec.AlertPolicyType, spec.AlertName("aiprod", "pipeline", "dead-letters")), "documentation.content"),
		"go run ./cmd/dlq", "the dead-letter alert's runbook names the redrive")
}

// TestAlertOverrides: config keys override the derived thresholds.
func TestAlertOverrides(t *testing.T) {
	t.Parallel()
	res := loadStack(t, "dev", func(v map[string]string) {
		v["aiprod-pubsub:alertStalledJobsSeconds"] = "1800"
		v["aiprod-pubsub:alertRetentionPercent"] = "25"
		v["aiprod-pubsub:alertDeadLetterBacklogMinutes"] = "15"
		v["aiprod-pubsub:alertPublishErrorPercent"] = "5"
	})
	first := func(alert string) map[string]any {
		return conditionsOf(t, mustGet(t, res, spec.AlertPolicyType, spec.AlertName("aiprod", "pipeline", alert)))[0]
	}
	assert.Equal(t, 1800.0, first("stalled")["threshold"])
	assert.Equal(t, 151200.0, first("retention")["threshold"])
	assert.Equal(t, "900s", first("dlq-backlog")["duration"])
	assert.Equal(t, 0.05, first("publish-errors")["threshold"])
}

// metricInfo is one metric of Google's list: its monitored resource, kind and labels.
type metricInfo struct {
	resource, kind string
	labels         []string
}

// googleMetrics reads Google's list of Pub/Sub metrics, as kept in spec/testdata.
func googleMetrics(t *testing.T) map[string]metricInfo {
	t.Helper()
	out := map[string]metricInfo{}
	for _, cols := range readTSV(t, "pubsub-metrics.tsv", 6) {
		m := metricInfo{resource: cols[1], kind: cols[2]}
		if cols[5] != "-" {
			m.labels = strings.Split(cols[5], ",")
		}
		out[cols[0]] = m
	}
	return out
}

// googleResources reads the labels of Pub/Sub's monitored resources, as kept in spec/testdata.
func googleResources(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, cols := range readTSV(t, "pubsub-resources.tsv", 2) {
		out[cols[0]] = strings.Split(cols[1], ",")
	}
	return out
}

// readTSV reads a table of spec/testdata with n columns, comments left out.
func readTSV(t *testing.T, name string, n int) [][]string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "spec", "testdata", name))
	require.NoError(t, err)
	defer f.Close()
	var out [][]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := sc.Text(); line != "" && !strings.HasPrefix(line, "#") {
			cols := strings.Split(line, "\t")
			require.Len(t, cols, n, line)
			out = append(out, cols)
		}
	}
	require.NoError(t, sc.Err())
	return out
}

// TestMetricTypesAreGoogles: every metric the alerts and the dashboard read is in Google's
// list, on the resource the filter names, with an aligner that fits its kind.
func TestMetricTypesAreGoogles(t *testing.T) {
	t.Parallel()
	known := googleMetrics(t)
	for _, m := range spec.Metrics {
		assert.Contains(t, known, m, "spec.Metrics")
	}
	alignerFor := map[string]string{"DELTA": "ALIGN_SUM", "GAUGE": "ALIGN_MAX"}
	res := loadStack(t, "prod", nil)
	for _, r := range res.ByType(spec.AlertPolicyType) {
		for _, c := range conditionsOf(t, r) {
			for _, f := range []any{c["filter"], c["denominator"]} {
				filter, _ := f.(string)
				if filter == "" {
					continue
				}
				metric, kind, _, ok := spec.ParseFilter(filter)
				require.True(t, ok, filter)
				got, listed := known[metric]
				require.True(t, listed, "%s: %s is not in Google's list of Pub/Sub metrics", r.URN, metric)
				assert.Equal(t, "pubsub_"+kind, got.resource, "%s: %s is a metric of %s", r.URN, metric, got.resource)
				assert.Equal(t, alignerFor[got.kind], c["aligner"], "%s: aligner of the %s metric %s", r.URN, got.kind, metric)
				assert.Equal(t, got.kind, spec.MetricKind(metric), "spec.MetricKind(%s)", metric)
			}
		}
	}
	dash := res.ByType(spec.DashboardType)
	require.Len(t, dash, 1)
	for _, m := range []string{spec.MetricUndelivered, spec.MetricOldestUnackedAge, spec.MetricDeadLetters} {
		assert.Contains(t, prop(dash[0], "dashboardJson"), m)
	}
}

// TestDashboard: one dashboard per stack charts backlog, oldest unacked age and dead letters
// for every subscription of every pipeline.
func TestDashboard(t *testing.T) {
	t.Parallel()
	res := loadStack(t, "dev", func(v map[string]string) { v["aiprod-pubsub:pipelines"] = `["video","audio"]` })
	dash := res.ByType(spec.DashboardType)
	require.Len(t, dash, 1, "one dashboard per stack")
	var doc struct {
		GridLayout struct {
			Widgets []struct {
				Title   string
				XyChart struct {
					DataSets []struct {
						LegendTemplate string
					}
				}
			}
		}
	}
	require.NoError(t, json.Unmarshal([]byte(prop(dash[0], "dashboardJson").(string)), &doc))
	require.Len(t, doc.GridLayout.Widgets, 3)
	for _, w := range doc.GridLayout.Widgets {
		var subs []string
		for _, d := range w.XyChart.DataSets {
			subs = append(subs, d.LegendTemplate)
		}
		assert.Len(t, subs, 6, "%s: every subscription of both pipelines", w.Title)
		assert.Contains(t, subs, "aiprod-audio-dlq-sub", w.Title)
	}
}

// TestNotificationChannels: e-mail addresses become channels, existing ones are referenced,
// and every alert notifies them all; a protected stack without any is a config error.
func TestNotificationChannels(t *testing.T) {
	t.Parallel()
	existing := "projects/aiprod-dev-000000/notificationChannels/42"
	res := loadStack(t, "dev", func(v map[string]string) {
		v["aiprod-pubsub:alertEmails"] = `["oncall@example.com"]`
		v["aiprod-pubsub:alertNotificationChannels"] = `["` + existing + `"]`
	})
	channels := res.ByType(spec.NotificationChannelType)
	require.Len(t, channels, 1)
	assert.Equal(t, "email", prop(channels[0], "type"))
	assert.Equal(t, "oncall@example.com", prop(channels[0], "labels.email_address"))
	for _, r := range res.ByType(spec.AlertPolicyType) {
		assert.Equal(t, []any{existing, channels[0].ID}, prop(r, "notificationChannels"), r.URN)
	}
	assert.Empty(t, loadStack(t, "dev", nil).ByType(spec.NotificationChannelType), "dev may have none")

	_, _, err := offline.Stack("..", "prod", func(v map[string]string) { delete(v, "aiprod-pubsub:alertEmails") })
	require.Error(t, err)
	assert.Contains(t, err.Error(), "aiprod-pubsub:alertEmails is \"[]\"; a protected (production) stack needs a notification channel: set aiprod-pubsub:alertEmails or aiprod-pubsub:alertNotificationChannels")
}

// TestKMSKeyGrant: with a KMS key the service agent gets encrypter/decrypter on it as an
// additive member, and every topic waits for that grant.
func TestKMSKeyGrant(t *testing.T) {
	t.Parallel()
	key := "projects/p/locations/europe-west1/keyRings/r/cryptoKeys/k"
	res := loadStack(t, "dev", func(v map[string]string) { v["aiprod-pubsub:kmsKeyName"] = key })
	grants := res.ByType(spec.CryptoKeyIAMMemberType)
	require.Len(t, grants, 1)
	g := grants[0]
	assert.Equal(t, key, prop(g, "cryptoKeyId"))
	assert.Equal(t, spec.RoleCryptoKeyEncrypterDecrypter, prop(g, "role"))
	assert.True(t, spec.IsServiceAgent(prop(g, "member").(string)), "%s: the Pub/Sub service agent", g.URN)
	for _, topic := range res.ByType(spec.TopicType) {
		assert.Contains(t, topic.Dependencies, g.URN, "%s waits for the key grant", topic.URN)
	}
	assert.Empty(t, loadStack(t, "dev", nil).ByType(spec.CryptoKeyIAMMemberType), "no key, no grant")
}
