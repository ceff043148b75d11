package spec_test

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aiprod/aiprod-pubsub/spec"
)

// TestMetricInSeconds: MetricInSeconds agrees with the unit of each metric the program uses
// in Google's list (testdata/pubsub-metrics.tsv, unit "s" for seconds).
func TestMetricInSeconds(t *testing.T) {
	t.Parallel()
	f, err := os.Open(filepath.Join("testdata", "pubsub-metrics.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	unit := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := sc.Text(); line != "" && !strings.HasPrefix(line, "#") {
			cols := strings.Split(line, "\t")
			if len(cols) < 5 {
				t.Fatalf("pubsub-metrics.tsv: %q has no unit column", line)
			}
			unit[cols[0]] = cols[4] // metric type, resource, kind, value type, unit, labels
		}
	}
	for _, m := range spec.Metrics {
		t.Run(spec.MetricName(m), func(t *testing.T) {
			t.Parallel()
			u, ok := unit[m]
			if !ok {
				t.Fatalf("%s is not in Google's list", m)
			}
			if got := spec.MetricInSeconds(m); got != (u == "s") {
				t.Errorf("MetricInSeconds(%q) = %v; Google's unit is %q", m, got, u)
			}
		})
	}
}
