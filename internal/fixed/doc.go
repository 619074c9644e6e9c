// Package fixed is the integer arithmetic behind voucherkit's engine: amounts are int64
// counts of the smallest unit at a rule set's scale (cents at scale 2), so addition and
// subtraction are exact and allocation-free. Products and quotients go through 128-bit
// intermediates (math/bits) and are rounded by an explicit Mode; nothing here uses
// floating point.
//
// Invariants: every function either returns an exact result or reports ok=false
// (overflow, division by zero, negative input where none is allowed); none panics.
package fixed
