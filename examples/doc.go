// Package examples holds runnable examples of voucherkit: each Example function in
// example_test.go is compiled and its output checked by go test, so they cannot drift
// from the code.
package examples
