package fixed

import (
	"math/bits"
)

// Mode is a rounding rule for a value that falls between two units.
type Mode uint8

const (
	// HalfAwayFromZero rounds to the nearest unit, halves away from zero (commercial rounding).
	HalfAwayFromZero Mode = iota
	// HalfEven rounds to the nearest unit, halves to the even unit (banker's rounding).
	HalfEven
	// Down truncates toward zero.
	Down
	// Up rounds away from zero.
	Up
)

// MaxUnits bounds every amount the engine accepts (10^15 units: ten trillion at scale 2),
// so that sums of many lines stay far from int64 overflow.
const MaxUnits int64 = 1_000_000_000_000_000

// MulDiv returns a*b/c rounded by mode, for a, b >= 0 and c > 0.
func MulDiv(a, b, c int64, mode Mode) (int64, bool) {
	if a < 0 || b < 0 || c <= 0 {
		return 0, false
	}
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi >= uint64(c) {
		return 0, false
	}
	q, r := bits.Div64(hi, lo, uint64(c))
	if q > uint64(1<<63-1) {
		return 0, false
	}
	if r != 0 && roundUp(q, r, uint64(c), mode) {
		q++
		if q > uint64(1<<63-1) {
			return 0, false
		}
	}
	return int64(q), true
}

// MulDivRem returns floor(a*b/c) and the remainder, for a, b >= 0 and c > 0.
func MulDivRem(a, b, c int64) (q, r int64, ok bool) {
	if a < 0 || b < 0 || c <= 0 {
		return 0, 0, false
	}
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi >= uint64(c) {
		return 0, 0, false
	}
	uq, ur := bits.Div64(hi, lo, uint64(c))
	if uq > uint64(1<<63-1) {
		return 0, 0, false
	}
	return int64(uq), int64(ur), true
}

// roundUp reports whether quotient q with remainder r of divisor c rounds up (all
// operands non-negative, so "up" is "away from zero").
func roundUp(q, r, c uint64, mode Mode) bool {
	switch mode {
	case Down:
		return false
	case Up:
		return true
	}
	// Compare 2r with c without overflow: r < c <= 2^63, so 2r fits in uint64.
	twice := r * 2
	switch {
	case twice > c:
		return true
	case twice < c:
		return false
	}
	if mode == HalfEven {
		return q%2 == 1
	}
	return true
}

// Pow10 returns 10^n for 0 <= n <= 18.
func Pow10(n int) (int64, bool) {
	if n < 0 || n > 18 {
		return 0, false
	}
	return pow10[n], true
}

var pow10 = [...]int64{1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000,
	100_000_000, 1_000_000_000, 10_000_000_000, 100_000_000_000, 1_000_000_000_000,
	10_000_000_000_000, 100_000_000_000_000, 1_000_000_000_000_000,
	10_000_000_000_000_000, 100_000_000_000_000_000, 1_000_000_000_000_000_000}

// Proportional splits amount over weights in proportion, to the unit: each share is
// rounded down, and the leftover units go one each to the largest remainders, ties to the
// earlier index. Weights must be non-negative with a positive sum, and amount must not
// exceed the sum of weights times 2^62 (it never does in the engine, where amount <= sum).
// The result is written to out (len(out) == len(weights)); shares add up to amount exactly.
// The leftover units are handed out by one selection of the largest remainders (O(n) on
// average, O(n log n) at worst), not by a scan per unit. Splitter.Proportional does the
// same with reusable scratch space.
func Proportional(amount int64, weights []int64, out []int64) bool {
	var s Splitter
	return s.Proportional(amount, weights, out)
}

func zero(out []int64) bool {
	for i := range out {
		out[i] = 0
	}
	return true
}
