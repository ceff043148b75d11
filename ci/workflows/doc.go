// Package workflows checks the GitHub Actions workflows in .github/workflows, the
// repository's CI/CD. It has no code of its own; its tests are the checks:
//
//   - actionlint (github.com/rhysd/actionlint, the Go package) lints every workflow, and runs
//     shellcheck on the run: scripts when shellcheck is on PATH. Under CI=true a missing
//     shellcheck fails the test instead of linting less strictly than a developer's machine.
//   - The project's own rules, each a check function over a workflow parsed by actionlint.Parse
//     that returns its findings: every Pulumi.<stack>.yaml stack is planned, previewed and
//     deployed; every preview and up runs the policy pack; prod is deployed in the production
//     environment after dev; the Pulumi CLI version comes from go.mod; permissions are least
//     privilege; a running preview or up is never cancelled; the pull-request workflow runs
//     .ci/run; jobs that use secrets or a cloud identity skip forks' pull requests. Each check
//     runs on the real workflows, which must pass, and on small bad workflows it must fail.
//
// The package imports neither the Pulumi SDK nor any other package of this module, so
// `go test ./ci/...` builds and runs quickly on its own.
package workflows
