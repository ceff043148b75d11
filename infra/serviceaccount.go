package infra

import (
	"fmt"

	"github.com/pulumi/pulumi-gcp/sdk/v8/go/gcp/serviceaccount"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/aiprod/aiprod-pubsub/spec"
)

// AppAccount is the application's service account, created by the stack or referenced.
type AppAccount struct {
	// Email is the account's email address.
	Email pulumi.StringOutput
	// Member is the account as an IAM member, serviceAccount:<email>.
	Member pulumi.StringOutput
}

// AppAccountArgs are the inputs of NewAppAccount.
type AppAccountArgs struct {
	// AccountID is the part of the email before the @. Required.
	AccountID string
	// Project is the GCP project id. Required.
	Project string
	// Create makes the stack create the account; otherwise it must already exist. Optional;
	// defaults to false.
	Create bool
	// Protect protects a created account. Optional; defaults to false.
	Protect bool
}

// NewAppAccount creates the application's service account, or references an existing one by
// its email. A created account's member comes from the provider, so that every grant waits for
// the account to exist.
func NewAppAccount(ctx *pulumi.Context, args AppAccountArgs) (*AppAccount, error) {
	if err := spec.CheckServiceAccountID(args.AccountID); err != nil {
		return nil, fmt.Errorf("service account id %q: %w", args.AccountID, err)
	}
	email := spec.ServiceAccountEmail(args.AccountID, args.Project)
	if !args.Create {
		return &AppAccount{
			Email:  pulumi.String(email).ToStringOutput(),
			Member: pulumi.String(spec.ServiceAccountMember(email)).ToStringOutput(),
		}, nil
	}
	acct, err := serviceaccount.NewAccount(ctx, args.AccountID, &serviceaccount.AccountArgs{
		AccountId:   pulumi.String(args.AccountID),
		Project:     pulumi.String(args.Project),
		DisplayName: pulumi.String("AIPROD pipeline application"),
		Description: pulumi.String("Publishes jobs and results and pulls jobs; managed by aiprod-pubsub"),
	}, pulumi.Protect(args.Protect))
	if err != nil {
		return nil, fmt.Errorf("creating service account %q: %w", args.AccountID, err)
	}
	return &AppAccount{Email: acct.Email, Member: acct.Member}, nil
}
