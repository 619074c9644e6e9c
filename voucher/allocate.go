package voucher

import (
	"fmt"
	"math/big"

	"github.com/shopspring/decimal"
)

// Allocate splits amount over weights in proportion, to the smallest unit of its
// currency: each share is rounded down, and the leftover units go one each to the
// largest remainders, ties to the earlier weight. The shares add up to amount exactly.
// Weights must be non-negative with a positive sum (or amount must be zero).
func Allocate(amount Money, weights []decimal.Decimal) ([]Money, error) {
	cur := amount.Currency()
	if cur.IsZero() {
		return nil, fmt.Errorf("%w: allocate needs an amount with a currency", ErrInvalidMoney)
	}
	if amount.IsNegative() {
		return nil, fmt.Errorf("%w: cannot allocate negative amount %s", ErrInvalidMoney, amount)
	}
	if len(weights) == 0 {
		return nil, fmt.Errorf("%w: allocate needs at least one weight", ErrInvalidMoney)
	}
	// Bring every weight to integers at a common exponent, exactly.
	minExp := int32(0)
	for i, w := range weights {
		if w.IsNegative() {
			return nil, fmt.Errorf("%w: weight %d is negative (%s)", ErrInvalidMoney, i, w)
		}
		if e := w.Exponent(); e < -maxExponent || e > maxExponent {
			return nil, fmt.Errorf("%w: weight %d (%s) is out of range", ErrInvalidMoney, i, w)
		}
		if e := w.Exponent(); e < minExp {
			minExp = e
		}
	}
	ints := make([]*big.Int, len(weights))
	sum := new(big.Int)
	for i, w := range weights {
		ints[i] = w.Shift(-minExp).BigInt()
		sum.Add(sum, ints[i])
	}
	units := amount.Amount().Shift(cur.Scale()).BigInt()
	out := make([]Money, len(weights))
	if sum.Sign() == 0 {
		if units.Sign() != 0 {
			return nil, fmt.Errorf("%w: cannot allocate %s over weights that sum to zero", ErrInvalidMoney, amount)
		}
		for i := range out {
			out[i] = MoneyFromUnits(0, cur)
		}
		return out, nil
	}
	shares := make([]*big.Int, len(weights))
	rems := make([]*big.Int, len(weights))
	given := new(big.Int)
	for i := range ints {
		q, r := new(big.Int).QuoRem(new(big.Int).Mul(units, ints[i]), sum, new(big.Int))
		shares[i], rems[i] = q, r
		given.Add(given, q)
	}
	left := new(big.Int).Sub(units, given).Int64() // < len(weights)
	for ; left > 0; left-- {
		best := -1
		for i, r := range rems {
			if r.Sign() > 0 && (best < 0 || r.Cmp(rems[best]) > 0) {
				best = i
			}
		}
		shares[best].Add(shares[best], big.NewInt(1))
		rems[best].SetInt64(0)
	}
	for i, s := range shares {
		out[i] = NewMoney(decimal.NewFromBigInt(s, -cur.Scale()), cur)
	}
	return out, nil
}
