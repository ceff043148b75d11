package spec_test

import (
	"reflect"
	"testing"

	"github.com/aiprod/aiprod-pubsub/spec"
)

// TestReadBack: each rule rewrites what GCP rewrites and leaves the rest alone.
func TestReadBack(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		typ      string
		in, want map[string]any
	}{
		{"durations are canonical", spec.SubscriptionType,
			map[string]any{"messageRetentionDuration": "604800.000s", "retryPolicy": map[string]any{"minimumBackoff": "1.5s", "maximumBackoff": "600s"}},
			map[string]any{"messageRetentionDuration": "604800s", "retryPolicy": map[string]any{"minimumBackoff": "1.500s", "maximumBackoff": "600s"}}},
		{"a never-expiring ttl stays empty", spec.SubscriptionType,
			map[string]any{"expirationPolicy": map[string]any{"ttl": ""}, "labels": map[string]any{}},
			map[string]any{"expirationPolicy": map[string]any{"ttl": ""}}},
		{"defaults are dropped", spec.AlertPolicyType,
			map[string]any{"conditions": []any{map[string]any{"conditionThreshold": map[string]any{
				"thresholdValue": 0.0, "duration": "0s", "aggregations": []any{map[string]any{"crossSeriesReducer": "REDUCE_NONE", "alignmentPeriod": "300.0s"}},
			}}}, "notificationChannels": []any{}, "alertStrategy": map[string]any{"autoClose": "1800.000000s"}},
			map[string]any{"conditions": []any{map[string]any{"conditionThreshold": map[string]any{
				"duration": "0s", "aggregations": []any{map[string]any{"alignmentPeriod": "300s"}},
			}}}, "alertStrategy": map[string]any{"autoClose": "1800s"}}},
		{"groupByFields spell label", spec.AlertPolicyType,
			map[string]any{"conditions": []any{map[string]any{"conditionThreshold": map[string]any{"denominatorAggregations": []any{map[string]any{
				"groupByFields": []any{"resource.labels.topic_id", "metric.labels.response_code", "resource.label.project_id"}}}}}}},
			map[string]any{"conditions": []any{map[string]any{"conditionThreshold": map[string]any{"denominatorAggregations": []any{map[string]any{
				"groupByFields": []any{"resource.label.topic_id", "metric.label.response_code", "resource.label.project_id"}}}}}}}},
		{"a dashboard as the API returns it", spec.DashboardType,
			map[string]any{"dashboardJson": `{"gridLayout": {"columns": 2, "widgets": [{"xyChart": {"dataSets": [{"timeSeriesQuery": {"timeSeriesFilter": {"aggregation": {"alignmentPeriod": "60.000s"}}}}]}}]}, "dashboardFilters": [], "displayName": "d"}`},
			map[string]any{"dashboardJson": `{"displayName":"d","gridLayout":{"columns":"2","widgets":[{"xyChart":{"dataSets":[{"timeSeriesQuery":{"timeSeriesFilter":{"aggregation":{"alignmentPeriod":"60s"}}}}]}}]}}`}},
		{"other resources keep their values", spec.TopicType,
			map[string]any{"name": "t", "labels": map[string]any{"app": "aiprod"}, "messageRetentionDuration": "86400s"},
			map[string]any{"name": "t", "labels": map[string]any{"app": "aiprod"}, "messageRetentionDuration": "86400s"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := spec.ReadBack(tc.typ, tc.in); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ReadBack(%s) =\n%#v\nwant\n%#v", tc.typ, got, tc.want)
			}
		})
	}
	for _, r := range spec.ReadBackRules {
		if r.Name == "" || r.Source == "" || len(r.Where) == 0 {
			t.Errorf("rule %q: every rule names what it rewrites, its source and where it applies", r.Name)
		}
	}
}
