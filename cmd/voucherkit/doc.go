// Command voucherkit runs scenario files, prices orders, checks rule sets and scenarios,
// lists the built-in rule sets and walks through a worked example.
//
//	voucherkit demo
//	voucherkit test FILE|DIR...
//	voucherkit quote --provider NAME|FILE --wallet FILE --order FILE [--at TIME] [--json]
//	voucherkit lint FILE...
//	voucherkit compare --providers NAME|FILE,... --order FILE [--wallet FILE] [--at TIME]
//	voucherkit providers [--yaml] [NAME]
//
// Results go to standard output, errors to standard error. Exit status: 0 success, 1 a
// failure (a scenario that does not pass, a lint problem, a refused order), 2 a usage
// error or a file that cannot be read or is not valid.
//
// Invariants: the command adds no rules of its own: it prices through rules.Engine and
// voucher.Wallet, reads scenarios through package scenario and rule sets through
// providers, so what it prints is what the library computes. Only here is the wall
// clock read (the default of quote's and compare's --at).
package main
