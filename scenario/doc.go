// Package scenario reads and runs scenario files: YAML that describes a wallet, a clock
// and a sequence of steps (quotes, checkouts, reservations, refunds, activations, the
// clock moving on) with the outcome expected after each step. The format is the one of
// shared/spec/scenarios.md; it is what users write to unit-test their voucher policies
// and the format of the conformance suite.
//
//	s, err := scenario.Load("testdata/ecs-refund.yaml") // positioned errors, all at once
//	res := scenario.Run(s)                              // every mismatch, step by step
//	fmt.Print(res.Report())
//
// From a Go test, RunFiles runs files matching patterns, one subtest per file:
//
//	func TestPolicies(t *testing.T) { scenario.RunFiles(t, "testdata/*.yaml") }
//
// Invariants:
//   - Parse is strict: an unknown or duplicate key anywhere (scenario, wallet entry,
//     order, item, step, expectation, wallet expectation) makes the file invalid, with
//     file:line:col and the key path; so do a step without exactly one action, an
//     expectation that does not apply to its step's action, an unknown provider, and
//     balance or held expected of a discount instrument. Every problem is reported at
//     once, as yamlx.Errors wrapping ErrInvalid.
//   - What the spec makes a step error (an empty item list, a negative amount, a
//     duplicate line id, a clock moving backwards, ...) is not a file error: the file
//     parses and the step fails at run time with that code, so scenarios can test it.
//   - Money is read as decimals, never through a float, and compared as decimals:
//     "300" equals "300.00".
//   - Run never reads the wall clock and never panics on a parsed scenario: each file
//     gets a fresh engine and wallet, so files are independent of each other and of the
//     order they run in. A step expected to fail must fail with that code and leave the
//     wallet's instruments, statuses and clock exactly as they were.
//   - A Result lists every mismatch of every step, in step order, each with its step
//     number, key, expected and actual value; it never stops at the first.
package scenario
