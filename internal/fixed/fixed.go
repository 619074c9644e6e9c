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
func Proportional(amount int64, weights []int64, out []int64) bool {
	if amount < 0 || len(out) != len(weights) {
		return false
	}
	var sum int64
	for _, w := range weights {
		if w < 0 {
			return false
		}
		s, carry := bits.Add64(uint64(sum), uint64(w), 0)
		if carry != 0 || s > uint64(1<<63-1) {
			return false
		}
		sum = int64(s)
	}
	if sum == 0 {
		return amount == 0 && zero(out)
	}
	var given int64
	// Remainders are kept in a small stack buffer for the common few-line case.
	var remBuf [8]int64
	rems := remBuf[:0]
	if len(weights) > len(remBuf) {
		rems = make([]int64, 0, len(weights))
	}
	for i, w := range weights {
		q, r, ok := MulDivRem(amount, w, sum)
		if !ok {
			return false
		}
		out[i] = q
		rems = append(rems, r)
		given += q
	}
	for left := amount - given; left > 0; left-- {
		best := -1
		for i, r := range rems {
			if r > 0 && (best < 0 || r > rems[best]) {
				best = i
			}
		}
		if best < 0 {
			return false
		}
		out[best]++
		rems[best] = 0
	}
	return true
}

func zero(out []int64) bool {
	for i := range out {
		out[i] = 0
	}
	return true
}
