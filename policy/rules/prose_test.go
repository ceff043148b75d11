package rules

import (
	"regexp"
	"slices"
	"strconv"
	"testing"

	"github.com/aiprod/aiprod-pubsub/spec"
)

// TestDescriptionsStateTheSpec: every number a policy's description (or one of its config
// properties' descriptions) states is one the spec gives that policy, and each of those is
// stated, so that the prose shown with every violation cannot drift from what the rule checks.
// A policy whose description gains a number needs a row here.
func TestDescriptionsStateTheSpec(t *testing.T) {
	t.Parallel()
	const day = 24 * 60 * 60
	stated := map[string][]int{
		PolicyAckDeadline:  {spec.AckDeadlineRange.Min, spec.AckDeadlineRange.Max},
		PolicyDeadLetter:   {spec.AttemptsRange.Min, spec.AttemptsRange.Max},
		PolicyNoExpiration: {spec.DefaultExpirationSeconds / day},
		PolicyDLQRetention: {spec.Defaults().Subscriptions[spec.DLQ].MessageRetentionSeconds / day, spec.RetentionRange.Max / day},
	}
	number := regexp.MustCompile(`\b[0-9]+\b`)
	for _, p := range Policies("dev") {
		t.Run(p.Name(), func(t *testing.T) {
			t.Parallel()
			texts := []string{p.Description()}
			if s := p.ConfigSchema(); s != nil {
				for _, prop := range s.Properties {
					if d, ok := prop["description"].(string); ok {
						texts = append(texts, d)
					}
				}
			}
			var got []int
			for _, text := range texts {
				for _, n := range number.FindAllString(text, -1) {
					v, err := strconv.Atoi(n)
					if err != nil {
						t.Fatal(err)
					}
					got = append(got, v)
				}
			}
			want := slices.Clone(stated[p.Name()])
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(slices.Compact(got), slices.Compact(want)) {
				t.Errorf("the description of %s states %v; the spec gives it %v\n%q", p.Name(), got, want, texts)
			}
		})
	}
}

func TestAndList(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   []string
		want string
	}{
		{nil, ""},
		{[]string{"app"}, "app"},
		{[]string{"app", "env"}, "app and env"},
		{[]string{"app", "env", "managed-by"}, "app, env and managed-by"},
	}
	for _, tc := range cases {
		t.Run(tc.want, func(t *testing.T) {
			t.Parallel()
			if got := andList(tc.in); got != tc.want {
				t.Errorf("andList(%q) = %q; want %q", tc.in, got, tc.want)
			}
		})
	}
}
