package fixed

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

// refFromDecimal is FromDecimal through decimal's own rounding, for amounts finer than
// the scale.
func refFromDecimal(d decimal.Decimal, scale int32, mode Mode) (int64, bool) {
	var r decimal.Decimal
	switch mode {
	case HalfEven:
		r = d.RoundBank(scale)
	case Down:
		r = d.RoundDown(scale)
	case Up:
		r = d.RoundUp(scale)
	default:
		r = d.Round(scale)
	}
	u := r.Shift(scale)
	if !u.IsInteger() || u.Abs().GreaterThan(decimal.NewFromInt(MaxUnits)) {
		return 0, false
	}
	return u.IntPart(), true
}

// Amounts finer than the scale round in integers exactly as decimal rounds them, in
// every mode, for halves, near-halves and the ends of the range.
func TestFromDecimalRoundsAsDecimal(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 9))
	coefs := []int64{1, 4, 5, 6, 15, 25, 35, 45, 49, 50, 51, 99, 100, 149, 150, 151, 999_999_999_999_999_999}
	for range 2000 {
		coefs = append(coefs, r.Int64N(1_000_000_000_000_000_000), r.Int64N(100_000))
	}
	for _, c := range coefs {
		for _, sign := range []int64{1, -1} {
			for _, scale := range []int32{0, 2, 3} {
				for extra := int32(1); extra <= 6; extra++ {
					d := decimal.New(sign*c, -scale-extra)
					for _, mode := range []Mode{HalfAwayFromZero, HalfEven, Down, Up} {
						want, wok := refFromDecimal(d, scale, mode)
						got, ok := FromDecimal(d, scale, mode)
						require.Equal(t, wok, ok, "%s at scale %d, mode %d", d, scale, mode)
						require.Equal(t, want, got, "%s at scale %d, mode %d", d, scale, mode)
					}
				}
			}
		}
	}
}

// AppendUnits writes what decimal's StringFixed writes, at every scale and at the
// edges of int64.
func TestAppendUnitsIsStringFixed(t *testing.T) {
	values := []int64{0, 1, -1, 5, -5, 9, 10, 99, 100, -100, 12345, -12345, 1_000_000_007,
		MaxUnits, -MaxUnits, math.MaxInt64, math.MinInt64, math.MinInt64 + 1}
	r := rand.New(rand.NewPCG(7, 7))
	for i := 0; i < 2000; i++ {
		values = append(values, r.Int64()>>r.IntN(63))
	}
	for _, v := range values {
		for scale := int32(0); scale <= 20; scale++ {
			want := decimal.New(v, -scale).StringFixed(scale)
			if got := string(AppendUnits([]byte("x"), v, scale)); got != "x"+want {
				t.Fatalf("AppendUnits(%d, %d) = %q, want %q", v, scale, got, "x"+want)
			}
		}
	}
}
