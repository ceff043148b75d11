package spec

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// ReadBackRule is one way GCP, or the google provider reading GCP's answer back, rewrites a
// value a program declares. A declared value already in its read-back form shows no change on
// `pulumi preview --refresh`; any other value shows a change on every refresh, and drift
// detection cries wolf.
type ReadBackRule struct {
	// Name says what is rewritten.
	Name string
	// Source is where the rule comes from: Google's API reference or the provider's function.
	Source string
	// Where are the properties it applies to, "<type token> <path>": a path joins keys with
	// "." and array elements as "[]"; "*" as the type token is any resource, "**." in a path
	// any prefix.
	Where []string
	// Except are properties, in the same form, that it leaves alone.
	Except []string
	// rewrite returns the read-back form of a value, and false when GCP drops it.
	rewrite func(v any) (any, bool)
}

// dashboardDocumentType is the type under which ReadBackRules name the properties of a dashboard's
// JSON document (a dashboard's dashboardJson, as the Monitoring API's Dashboard).
const dashboardDocumentType = "monitoring.v1.Dashboard"

// ReadBackRules are the normalisations the program relies on: it declares every value in the
// form the rules give, and a test keeps every declared value a fixed point of ReadBack.
var ReadBackRules = []ReadBackRule{
	{
		Name: "durations in their canonical form: whole seconds as \"300s\", fractions with 3, 6 or 9 digits (\"1.500s\")",
		Source: "the Duration JSON form of the protobuf JSON mapping (google.protobuf.Duration), which Pub/Sub and Cloud Monitoring return; " +
			"the provider stores it unchanged (flattenPubsubSubscriptionMessageRetentionDuration, flattenPubsubSubscriptionRetryPolicyMinimumBackoff, " +
			"flattenMonitoringAlertPolicyConditionsConditionThresholdDuration, flattenMonitoringAlertPolicyAlertStrategyAutoClose); an empty ttl is an " +
			"expiration policy that never expires, read back as \"\" (flattenPubsubSubscriptionExpirationPolicyTtl)",
		Where: []string{
			SubscriptionType + " messageRetentionDuration", SubscriptionType + " retryPolicy.minimumBackoff",
			SubscriptionType + " retryPolicy.maximumBackoff", SubscriptionType + " expirationPolicy.ttl",
			TopicType + " messageRetentionDuration",
			AlertPolicyType + " conditions[].conditionThreshold.duration", AlertPolicyType + " alertStrategy.autoClose",
			AlertPolicyType + " conditions[].conditionThreshold.aggregations[].alignmentPeriod",
			AlertPolicyType + " conditions[].conditionThreshold.denominatorAggregations[].alignmentPeriod",
			dashboardDocumentType + " **.alignmentPeriod",
		},
		rewrite: canonicalDuration,
	},
	{
		Name: "a field at its default (0, false, \"\", an empty list or map) is not there",
		Source: "the protobuf JSON mapping omits fields at their default value, so the API never returns them; the provider never sends " +
			"them either (tpgresource.IsEmptyValue in every expand function) and reads an absent field back as absent",
		Where:   []string{"* **", dashboardDocumentType + " **"},
		Except:  []string{SubscriptionType + " expirationPolicy.ttl"},
		rewrite: func(v any) (any, bool) { return v, !isDefault(v) },
	},
	{
		Name:    "crossSeriesReducer REDUCE_NONE is not there",
		Source:  "the provider's crossSeriesReducerDiffSuppress: \"API does not return a value for REDUCE_NONE\"",
		Where:   []string{AlertPolicyType + " **.crossSeriesReducer", dashboardDocumentType + " **.crossSeriesReducer"},
		rewrite: func(v any) (any, bool) { return v, v != "REDUCE_NONE" },
	},
	{
		Name: "groupByFields name a label as resource.label.<key> or metric.label.<key>",
		Source: "Cloud Monitoring's Aggregation.groupByFields as GCP writes it (the console, Google's sample policies in JSON); " +
			"the provider stores the API's list unchanged (flattenMonitoringAlertPolicyConditionsConditionThresholdAggregationsGroupByFields)",
		Where:   []string{AlertPolicyType + " **.groupByFields[]", dashboardDocumentType + " **.groupByFields[]"},
		rewrite: singularLabel,
	},
	{
		Name: "int64 fields of a JSON document are strings: gridLayout.columns \"1\"",
		Source: "GridLayout.columns is an int64 (google/monitoring/dashboard/v1/layouts.proto), which the protobuf JSON mapping writes as a " +
			"string; the provider compares documents with reflect.DeepEqual (monitoringDashboardDiffSuppress), so 1 differs from \"1\"",
		Where:   []string{dashboardDocumentType + " gridLayout.columns"},
		rewrite: int64String,
	},
}

func init() {
	// The rule of a whole document applies the others inside it, so it joins the table here.
	ReadBackRules = append(ReadBackRules, documentRule)
}

// documentRule rewrites a dashboard's JSON document.
var documentRule = ReadBackRule{
	Name: "a JSON document is stored compact, keys sorted, as the API returns it",
	Source: "the provider's StateFunc of dashboard_json (structure.NormalizeJsonString) and monitoringDashboardDiffSuppress, which drops " +
		"only the keys the declaration leaves out (removeComputedKeys) before comparing",
	Where:   []string{DashboardType + " dashboardJson"},
	rewrite: dashboardDocument,
}

// ReadBack returns a resource's properties (type token, properties as JSON values) as GCP
// reads them back: every rule of ReadBackRules applied.
func ReadBack(typ string, props map[string]any) map[string]any {
	out, _ := readBack(typ, "", props)
	m, _ := out.(map[string]any)
	return m
}

// readBack rewrites v, at path, and what it holds; false when GCP drops it.
func readBack(typ, path string, v any) (any, bool) {
	switch x := v.(type) {
	case map[string]any:
		m := map[string]any{}
		for _, k := range slices.Sorted(maps.Keys(x)) {
			if r, keep := readBack(typ, join(path, k), x[k]); keep {
				m[k] = r
			}
		}
		v = m
	case []any:
		var a []any
		for _, e := range x {
			if r, keep := readBack(typ, path+"[]", e); keep {
				a = append(a, r)
			}
		}
		v = a
	}
	if path == "" {
		return v, true
	}
	for _, r := range ReadBackRules {
		if r.applies(typ, path) {
			var keep bool
			if v, keep = r.rewrite(v); !keep {
				return nil, false
			}
		}
	}
	return v, true
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// applies reports whether the rule rewrites the property at path of a resource of type typ.
func (r ReadBackRule) applies(typ, path string) bool {
	match := func(where string) bool {
		t, p, _ := strings.Cut(where, " ")
		if t != typ && (t != "*" || typ == dashboardDocumentType) {
			return false
		}
		if rest, ok := strings.CutPrefix(p, "**"); ok {
			return rest == "" || strings.HasSuffix("."+path, rest)
		}
		return p == path
	}
	return slices.ContainsFunc(r.Where, match) && !slices.ContainsFunc(r.Except, match)
}

// isDefault reports whether v is a protobuf default: 0, false, "", an empty list or map.
func isDefault(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case bool:
		return !x
	case float64:
		return x == 0
	case int:
		return x == 0
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

var durationPartsRE = regexp.MustCompile(`^([0-9]+)(?:\.([0-9]{1,9}))?s$`)

// canonicalDuration writes a duration as the protobuf JSON mapping does.
func canonicalDuration(v any) (any, bool) {
	s, ok := v.(string)
	m := durationPartsRE.FindStringSubmatch(s)
	if !ok || m == nil {
		return v, true // "" or not a duration: GCP refuses it, nothing to rewrite
	}
	secs, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return v, true
	}
	nanos, _ := strconv.Atoi((m[2] + "000000000")[:9])
	switch {
	case nanos == 0:
		return fmt.Sprintf("%ds", secs), true
	case nanos%1_000_000 == 0:
		return fmt.Sprintf("%d.%03ds", secs, nanos/1_000_000), true
	case nanos%1_000 == 0:
		return fmt.Sprintf("%d.%06ds", secs, nanos/1_000), true
	}
	return fmt.Sprintf("%d.%09ds", secs, nanos), true
}

// singularLabel spells a label reference in groupByFields as GCP does.
func singularLabel(v any) (any, bool) {
	s, ok := v.(string)
	if !ok {
		return v, true
	}
	for _, scope := range []string{"resource", "metric"} {
		if rest, found := strings.CutPrefix(s, scope+".labels."); found {
			return scope + ".label." + rest, true
		}
	}
	return s, true
}

// int64String writes a whole number as the protobuf JSON mapping writes an int64.
func int64String(v any) (any, bool) {
	if f, ok := v.(float64); ok && f == float64(int64(f)) {
		return strconv.FormatInt(int64(f), 10), true
	}
	return v, true
}

// dashboardDocument is a dashboard's JSON as the API returns it and the provider stores it.
func dashboardDocument(v any) (any, bool) {
	s, ok := v.(string)
	var doc map[string]any
	if !ok || json.Unmarshal([]byte(s), &doc) != nil {
		return v, true
	}
	b, err := json.Marshal(ReadBack(dashboardDocumentType, doc))
	if err != nil {
		return v, true
	}
	return string(b), true
}
