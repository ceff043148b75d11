// Package workflows checks the GitHub Actions workflows in .github/workflows, the
// repository's CI/CD. It has no code of its own; its tests are the checks:
//
//   - actionlint (github.com/rhysd/actionlint, the Go package) lints every workflow, and runs
//     shellcheck on the run: scripts when shellcheck is on PATH. Under CI=true a missing
//     shellcheck fails the test instead of linting less strictly than a developer's machine.
//   - The project's own rules, each a check function over a workflow parsed by actionlint.Parse
//     that returns its findings: every Pulumi.<stack>.yaml stack is planned, previewed, reviewed
//     and deployed; every preview and up runs the policy pack with the stack's policy config
//     (policy/config/<stack>.json); prod is deployed in the production environment after dev;
//     the Pulumi CLI version comes from go.mod; permissions are least privilege; a running
//     preview or up is never cancelled; the pull-request workflow runs .ci/run; jobs that use
//     secrets, a cloud identity or a pull-request comment skip forks' pull requests; the offline
//     plan runs as the binary go build -o bin/plan ./cmd/plan makes, never through go run; each
//     preview is reviewed by ./bin/plan --from, posted as one sticky comment per stack and gated
//     on the preview's and the review's exit statuses; --accept-loss comes only from the pull
//     request's accept-loss:<name> labels, which re-run the workflow when they change; a
//     step passes an action only the inputs it declares; and the drift workflow (drift.yml,
//     drift_checks_test.go) runs on a schedule and on main only, runs
//     `pulumi preview --refresh --expect-no-changes` per stack keeping its output and exit
//     status, opens, updates and closes one issue per stack labelled drift (the gh commands
//     and github-script calls it recognises are listed there), grants issues: write only to
//     the job that does so, ends with a gate that fails the run on drift, and looks for runs of
//     deploy.yml before and after its preview (a preview takes no lock). One identity per job
//     (identity_checks_test.go): no workflow reads PULUMI_CONFIG_PASSPHRASE; no job of a
//     workflow that runs on pull_request, pull_request_target or schedule references a
//     deployer variable or names a deployer environment (dev, production); a job that reads
//     the deployer environments' variables runs in the environment of the stack it deploys; a
//     job authenticates once, as its stack's preview identity or as the environment's
//     deployer; one stack's variables serve that stack only. A deploy applies only what was
//     reviewed (deploy_checks_test.go): each up follows ./bin/plan --check-deployable and a
//     `pulumi preview --json` of its stack, reviewed in its job and gated, or compared with
//     the preview a job it needs reviewed and uploaded. Each check runs on the real workflows,
//     which must pass, and on small bad workflows it must fail.
//   - Tests over the workflow files together: every workflow file is a known one with pinned
//     triggers; each stack's drift check shares the concurrency group of that stack's up in
//     deploy.yml; each job of deploy.yml names its stack, "... (<stack>)", which the drift
//     check looks for; TestDriftJobRuns runs the drift job's real scripts with stub pulumi and
//     gh commands for a clean stack, drift, a failed preview and deploys that overlap the
//     check; and TestDeployJobsRun runs the deploy jobs' real scripts with stub pulumi, gh and
//     plan binary: an unaccepted loss, an accepted one, a prod change other than the
//     reviewed one, a stack not deployable yet.
//
// The package imports neither the Pulumi SDK nor any other package of this module, so
// `go test ./ci/...` builds and runs quickly on its own.
package workflows
