// Package imports holds the test that keeps the module's package graph one-way, tests
// included; see TestGraph. It has no code of its own.
package imports
