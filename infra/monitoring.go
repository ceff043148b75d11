package infra

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/pulumi/pulumi-gcp/sdk/v8/go/gcp/kms"
	"github.com/pulumi/pulumi-gcp/sdk/v8/go/gcp/monitoring"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/aiprod/aiprod-pubsub/spec"
)

// NotificationChannels declares an e-mail channel per address, and returns every channel the
// alerts notify: the existing ones by id, then the created ones.
func NotificationChannels(ctx *pulumi.Context, project string, alerts spec.Alerts, opts ...pulumi.ResourceOption) (pulumi.StringArray, error) {
	var out pulumi.StringArray
	for _, id := range alerts.NotificationChannels {
		out = append(out, pulumi.String(id))
	}
	for _, email := range alerts.Emails {
		ch, err := monitoring.NewNotificationChannel(ctx, "email-"+email, &monitoring.NotificationChannelArgs{
			Project:     pulumi.String(project),
			Type:        pulumi.String("email"),
			DisplayName: pulumi.String("AIPROD pipeline alerts to " + email),
			Labels:      pulumi.StringMap{"email_address": pulumi.String(email)},
		}, opts...)
		if err != nil {
			return nil, fmt.Errorf("creating the notification channel of %q: %w", email, err)
		}
		out = append(out, ch.Name)
	}
	return out, nil
}

// DashboardArgs are the inputs of NewDashboard.
type DashboardArgs struct {
	// Project is the GCP project id. Required.
	Project string
	// Stack names the dashboard. Required.
	Stack string
	// Subscriptions are the physical names of the subscriptions to chart. Required.
	Subscriptions []string
}

// NewDashboard declares the stack's dashboard: per subscription, its backlog, its oldest
// unacked message's age and the dead letters it forwards. The JSON is in the form the API
// returns it (spec.ReadBackRules): int64 fields as strings, no empty lists, compact with sorted
// keys, so that a refresh finds nothing to change.
func NewDashboard(ctx *pulumi.Context, args DashboardArgs, opts ...pulumi.ResourceOption) error {
	charts := []struct{ title, metric string }{
		{"Backlog (undelivered messages)", spec.MetricUndelivered},
		{"Oldest unacked message age (s)", spec.MetricOldestUnackedAge},
		{"Dead letters forwarded", spec.MetricDeadLetters},
	}
	var widgets []any
	for _, c := range charts {
		var series []any
		for _, sub := range slices.Sorted(slices.Values(args.Subscriptions)) {
			filter := spec.SubscriptionFilter(c.metric, sub)
			if c.metric == spec.MetricDeadLetters {
				filter = spec.DeadLetterFilter(sub, true)
			}
			series = append(series, map[string]any{"timeSeriesQuery": map[string]any{"timeSeriesFilter": map[string]any{
				"filter":      filter,
				"aggregation": map[string]any{"alignmentPeriod": spec.Seconds(spec.AlertWindowSeconds), "perSeriesAligner": aligners[spec.MetricKind(c.metric)]},
			}}, "legendTemplate": sub})
		}
		widgets = append(widgets, map[string]any{"title": c.title, "xyChart": map[string]any{"dataSets": series}})
	}
	doc, err := json.Marshal(map[string]any{
		"displayName": "AIPROD pipeline messaging (" + args.Stack + ")",
		// columns is an int64: the API returns it as a string.
		"gridLayout": map[string]any{"columns": strconv.Itoa(dashboardColumns), "widgets": widgets},
	})
	if err != nil {
		return err
	}
	name := "aiprod-pubsub-" + args.Stack + "-dashboard"
	if _, err := monitoring.NewDashboard(ctx, name, &monitoring.DashboardArgs{
		Project: pulumi.String(args.Project), DashboardJson: pulumi.String(string(doc)),
	}, opts...); err != nil {
		return fmt.Errorf("creating dashboard %q: %w", name, err)
	}
	return nil
}

// dashboardColumns is the dashboard grid's width: one chart a row.
const dashboardColumns = 1

// KeyGrant grants the project's Pub/Sub service agent (an IAM member) encrypt and decrypt on the
// topics' Cloud KMS key, as an additive member: without it GCP refuses to create a topic with
// that key. The topics depend on the grant it returns.
func KeyGrant(ctx *pulumi.Context, key, serviceAgent pulumi.StringInput, opts ...pulumi.ResourceOption) (pulumi.Resource, error) {
	m, err := kms.NewCryptoKeyIAMMember(ctx, "pubsub-agent-kms-encrypter-decrypter", &kms.CryptoKeyIAMMemberArgs{
		CryptoKeyId: key,
		Role:        pulumi.String(spec.RoleCryptoKeyEncrypterDecrypter),
		Member:      serviceAgent,
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("granting the Pub/Sub service agent %s on the KMS key: %w", spec.RoleCryptoKeyEncrypterDecrypter, err)
	}
	return m, nil
}
