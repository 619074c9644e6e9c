// Command voucherkit runs scenario files, prices orders, checks rule sets and scenarios,
// lists the built-in rule sets and walks through a worked example.
//
//	voucherkit demo
//	voucherkit test [--provider-root DIR] [--allow-any-provider-path] FILE|DIR...
//	voucherkit quote --provider NAME|FILE --wallet FILE --order FILE [--at TIME] [--json]
//	voucherkit lint [--provider-root DIR] [--allow-any-provider-path] FILE|DIR...
//	voucherkit compare --providers NAME|FILE,... --order FILE [--wallet FILE] [--at TIME]
//	voucherkit providers [--yaml] [NAME]
//	voucherkit reconcile --provider NAME|FILE --focus FILE [--wallet FILE] [--by sku|service|account] [--export FILE] [--json]
//	voucherkit simulate --providers NAME|FILE,... --input FILE [--format auto|focus|csv|jsonl] [--wallet FILE] [--json] [--csv DIR] [--html FILE]
//
// Results go to standard output, errors to standard error. Exit status: 0 success, 1 a
// failure (a scenario that does not pass, a lint problem, a refused order, credits that
// do not reconcile), 2 a usage
// error or a file that cannot be read or is not valid.
//
// A scenario's provider path (test, lint) is relative to the scenario file and must stay
// inside the working directory (for a scenario named outside it: inside the directory
// named on the command line, for a file its own directory): a scenario cannot make the
// command read, and print, a file outside the tree it was given.
// --provider-root widens the tree, --allow-any-provider-path lifts the limit. quote's
// and compare's --provider is the user's own choice and may name any file.
//
// Invariants: the command adds no rules of its own: it prices through rules.Engine and
// voucher.Wallet, reads scenarios through package scenario and rule sets through
// providers, so what it prints is what the library computes. Only here is the wall
// clock read (the default of quote's and compare's --at, and when simulate's progress
// bar appears).
package main
