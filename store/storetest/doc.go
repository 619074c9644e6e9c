// Package storetest is the conformance suite of voucher.Store: every implementation
// (store/memory, store/sqlite, store/postgres) runs it from its own tests.
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) voucher.Store { return memory.New() })
//	}
//
// Run checks the Tx contract method by method (values round-trip exactly, as Diff
// compares them), runs every scenario file of the project on the store, runs wallet
// steps on it, and races goroutines on it (Load). For stores shared by several OS
// processes, Processes runs a Load in helper processes re-executing the test binary
// (the helper test calls HelperProcess), optionally killing one mid-run, and
// Load.Check then checks what they left.
//
// Invariants of the suite itself:
//   - every check starts from a store of its own, from NewStore;
//   - it reads the wall clock only in the concurrent loads (as a caller of the wallet
//     would), never to decide whether a check passes: no check is timed;
//   - it skips nothing: a pattern that names no scenario file fails.
package storetest
