package fixed

import "github.com/shopspring/decimal"

// FromDecimal converts d to units at scale (d × 10^scale), rounding by mode when d has
// more decimal places than scale. It reports false when |d| exceeds MaxUnits units or
// the exponent is out of the ±30 range; it never allocates for amounts already at or
// above the scale whose coefficient fits in 18 digits.
func FromDecimal(d decimal.Decimal, scale int32, mode Mode) (int64, bool) {
	if d.IsZero() {
		return 0, true
	}
	exp := d.Exponent()
	if exp > 30 || exp < -30 || scale < 0 || scale > 18 {
		return 0, false
	}
	if exp >= -scale && d.NumDigits() <= 18 {
		c := d.CoefficientInt64()
		p, ok := Pow10(int(exp + scale))
		if !ok {
			return 0, false
		}
		neg := c < 0
		if neg {
			c = -c
		}
		if c != 0 && p > MaxUnits/c {
			return 0, false
		}
		u := c * p
		if u > MaxUnits {
			return 0, false
		}
		if neg {
			u = -u
		}
		return u, true
	}
	if d.NumDigits() <= 18 {
		// Finer than scale, with a coefficient that fits: rounded in integers.
		if p, ok := Pow10(int(-scale - exp)); ok {
			return roundUnits(d.CoefficientInt64(), p, mode)
		}
	}
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
	if r.NumDigits() > 18 {
		return 0, false
	}
	if r.Exponent() < -scale {
		// Round leaves the exponent at -scale; anything finer is a bug elsewhere.
		return 0, false
	}
	if r.Exponent() != -scale {
		return FromDecimal(r, scale, mode)
	}
	u := r.CoefficientInt64()
	if u > MaxUnits || u < -MaxUnits {
		return 0, false
	}
	return u, true
}

// ToDecimal returns units at scale as a decimal; zero does not allocate.
func ToDecimal(units int64, scale int32) decimal.Decimal {
	if units == 0 {
		return decimal.Decimal{}
	}
	return decimal.New(units, -scale)
}

// Exact converts d to units at scale like FromDecimal, but refuses (false) an amount
// finer than scale instead of rounding it: an amount given in full that the engine
// would otherwise change.
func Exact(d decimal.Decimal, scale int32) (int64, bool) {
	if exp := d.Exponent(); exp < -scale && !d.IsZero() {
		if exp < -30 || !d.Truncate(scale).Equal(d) {
			return 0, false
		}
	}
	return FromDecimal(d, scale, Down)
}

// roundUnits is c / p rounded by mode (p a power of ten above 1), if it is within
// MaxUnits.
func roundUnits(c, p int64, mode Mode) (int64, bool) {
	neg := c < 0
	if neg {
		c = -c
	}
	q, r := c/p, c%p
	var up bool
	switch mode {
	case HalfEven:
		up = 2*r > p || 2*r == p && q%2 == 1
	case Down:
	case Up:
		up = r != 0
	default:
		up = 2*r >= p
	}
	if up {
		q++
	}
	if q > MaxUnits {
		return 0, false
	}
	if neg {
		q = -q
	}
	return q, true
}

// AppendUnits appends units at scale (0 to 18) as a decimal with exactly scale places
// ("-0.05" for -5 at scale 2), as decimal's StringFixed writes it.
func AppendUnits(b []byte, units int64, scale int32) []byte {
	if scale < 0 || scale > 18 {
		return append(b, ToDecimal(units, scale).StringFixed(scale)...)
	}
	var buf [24]byte // 20 digits, a point and a sign; or 18 places, "0." and a sign
	u := uint64(units)
	if units < 0 {
		u = -u
	}
	i := len(buf)
	for k := int32(0); k < scale; k++ {
		i--
		buf[i] = byte('0' + u%10)
		u /= 10
	}
	if scale > 0 {
		i--
		buf[i] = '.'
	}
	for {
		i--
		buf[i] = byte('0' + u%10)
		if u /= 10; u == 0 {
			break
		}
	}
	if units < 0 {
		i--
		buf[i] = '-'
	}
	return append(b, buf[i:]...)
}
