// Package scenario reads and runs scenario files: YAML that describes a wallet, a clock
// and a sequence of steps (quotes, checkouts, reservations, refunds, activations, the
// clock moving on, bills) with the outcome expected after each step. docs/scenarios.md
// describes the format; it is what users write to unit-test their voucher policies and
// the format of the conformance suite. Every key is declared once, in model.go, from
// which the parser, its "known keys" messages and schema/scenario.json come.
//
//	s, err := scenario.Load("testdata/ecs-refund.yaml") // positioned errors, all at once
//	res := scenario.Run(s)                              // every mismatch, step by step
//	fmt.Print(res.Report())
//
// From a Go test, scenariotest.RunFiles runs files matching patterns, one subtest per
// file (it lives in package scenario/scenariotest so that this package does not link
// the testing package):
//
//	func TestPolicies(t *testing.T) { scenariotest.RunFiles(t, "testdata/*.yaml") }
//
// Invariants:
//   - Parse is strict: an unknown or duplicate key anywhere (scenario, wallet entry,
//     order, item, step, expectation, wallet expectation) makes the file invalid, with
//     file:line:col and the key path; so do a step without exactly one action, an
//     expectation that does not apply to its step's action, an unknown provider, and
//     balance or held expected of a discount instrument. Every problem is reported at
//     once, as yamlx.Errors wrapping ErrInvalid (voucher.ErrorCode: "invalid_file").
//   - What the spec makes a step error (an empty item list, a negative amount, a
//     duplicate line id, a clock moving backwards, ...) is not a file error: the file
//     parses and the step fails at run time with that code, so scenarios can test it.
//   - A provider path is relative to the scenario file and stays inside a root
//     directory (WithRoot; default the file's own directory; scenariotest.RunFiles and voucherkit
//     test give the directory each argument names): an absolute path, a path leading outside,
//     lexically or through a symbolic link, or one that is not a .yaml or .yml file is
//     refused before anything is read (WithAnyProviderPath lifts this).
//   - No error prints a file it was pointed at: a value is quoted as at most 40 escaped
//     characters; names and ids are at most 200 characters (longer is a file error), and
//     reports show one that holds a control character quoted and escaped.
//   - Money is read as decimals, never through a float, and compared as decimals:
//     "300" equals "300.00".
//   - Run never reads the wall clock and never panics on a parsed scenario: each file
//     gets a fresh engine and wallet, so files are independent of each other and of the
//     order they run in. A step expected to fail must fail with that code and leave the
//     wallet's instruments, statuses and clock exactly as they were.
//   - A Result lists every mismatch of every step, in step order, each with its step
//     number, key, expected and actual value; it never stops at the first.
//   - The package does not import testing: a service that decodes orders and wallets
//     with it links no test code.
package scenario
