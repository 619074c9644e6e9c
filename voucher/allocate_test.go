package voucher_test

import (
	"math/rand"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/voucherkit/voucherkit/voucher"
)

func weightsOf(ws ...string) []decimal.Decimal {
	out := make([]decimal.Decimal, len(ws))
	for i, w := range ws {
		out[i] = decimal.RequireFromString(w)
	}
	return out
}

func TestAllocate(t *testing.T) {
	cases := []struct {
		name    string
		amount  string
		cur     string
		weights []string
		want    []string
	}{
		{"100 over three equal lines", "100", "CNY", []string{"100", "100", "100"}, []string{"33.34", "33.33", "33.33"}},
		{"tencent: 90 over 100 and 200", "90", "CNY", []string{"100", "200"}, []string{"30", "60"}},
		{"one unit, tie to the earlier", "0.01", "CNY", []string{"1", "1"}, []string{"0.01", "0"}},
		{"two units over three, ties to the earlier", "0.02", "CNY", []string{"5", "5", "5"}, []string{"0.01", "0.01", "0"}},
		{"largest remainder beats the earlier", "0.01", "CNY", []string{"1", "2"}, []string{"0", "0.01"}},
		{"largest remainder: 0.10 over 1 and 2", "0.10", "CNY", []string{"1", "2"}, []string{"0.03", "0.07"}},
		{"largest remainders get the leftover units", "1.00", "USD", []string{"1", "1", "1", "1", "1", "1", "1"},
			[]string{"0.15", "0.15", "0.14", "0.14", "0.14", "0.14", "0.14"}},
		{"zero weight gets nothing", "5", "CNY", []string{"0", "1", "0"}, []string{"0", "5", "0"}},
		{"zero amount", "0", "CNY", []string{"3", "7"}, []string{"0", "0"}},
		{"zero amount over zero weights", "0", "CNY", []string{"0", "0"}, []string{"0", "0"}},
		{"decimal weights", "1", "CNY", []string{"0.5", "0.25", "0.25"}, []string{"0.5", "0.25", "0.25"}},
		{"weights at different scales", "10", "CNY", []string{"1", "0.001"}, []string{"9.99", "0.01"}},
		{"whole amount to one weight", "12.34", "CNY", []string{"42"}, []string{"12.34"}},
		{"scale 0", "10", "JPY", []string{"1", "1", "1"}, []string{"4", "3", "3"}},
		{"scale 3", "1", "BHD", []string{"1", "1", "1"}, []string{"0.334", "0.333", "0.333"}},
		{"amount larger than the weights", "1000", "CNY", []string{"0.01", "0.02"}, []string{"333.33", "666.67"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			amount := voucher.MustMoney(tc.amount, tc.cur)
			got, err := voucher.Allocate(amount, weightsOf(tc.weights...))
			require.NoError(t, err)
			require.Len(t, got, len(tc.want))
			sum := voucher.MoneyFromUnits(0, amount.Currency())
			for i, m := range got {
				assert.True(t, decimal.RequireFromString(tc.want[i]).Equal(m.Amount()), "share %d: want %s, got %s", i, tc.want[i], m.Format())
				assert.Equal(t, tc.cur, m.Currency().Code())
				sum, err = sum.Add(m)
				require.NoError(t, err)
			}
			assert.True(t, sum.Equal(amount), "shares add up to %s, not %s", sum, amount)
		})
	}
}

func TestAllocateErrors(t *testing.T) {
	cny := func(s string) voucher.Money { return voucher.MustMoney(s, "CNY") }
	cases := []struct {
		name    string
		amount  voucher.Money
		weights []decimal.Decimal
	}{
		{"no currency", voucher.Money{}, weightsOf("1")},
		{"negative amount", cny("-1"), weightsOf("1", "1")},
		{"no weights", cny("1"), nil},
		{"empty weights", cny("1"), []decimal.Decimal{}},
		{"negative weight", cny("1"), weightsOf("2", "-1")},
		{"weights summing to zero", cny("1"), weightsOf("0", "0")},
		{"weight out of range", cny("1"), weightsOf("1e40")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := voucher.Allocate(tc.amount, tc.weights)
			assert.ErrorIs(t, err, voucher.ErrInvalidMoney)
			assert.Nil(t, got)
		})
	}
}

// For any amount and weights: shares add up exactly, none is negative, each is its exact
// proportion rounded down or one unit more, and the same input gives the same split.
func TestAllocateProperties(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	cny := voucher.MustCurrency("CNY")
	for k := 0; k < 2000; k++ {
		amount := voucher.MoneyFromUnits(r.Int63n(1_000_000_00), cny)
		n := 1 + r.Intn(8)
		ws := make([]decimal.Decimal, n)
		sumW := decimal.Zero
		for i := range ws {
			if r.Intn(5) > 0 {
				ws[i] = decimal.New(r.Int63n(1_000_000), -int32(r.Intn(4)))
			}
			sumW = sumW.Add(ws[i])
		}
		if sumW.IsZero() {
			ws[0] = decimal.NewFromInt(1)
			sumW = ws[0]
		}
		got, err := voucher.Allocate(amount, ws)
		require.NoError(t, err)
		again, err := voucher.Allocate(amount, ws)
		require.NoError(t, err)
		require.Equal(t, got, again)
		total := decimal.Zero
		for i, m := range got {
			require.False(t, m.IsNegative())
			exact := amount.Amount().Mul(ws[i]).DivRound(sumW, 16)
			floor := exact.RoundDown(2)
			require.True(t, m.Amount().GreaterThanOrEqual(floor) && m.Amount().LessThanOrEqual(floor.Add(decimal.New(1, -2))),
				"case %d share %d: %s is not within a unit of %s", k, i, m.Amount(), exact)
			total = total.Add(m.Amount())
		}
		require.True(t, total.Equal(amount.Amount()), "case %d: %s != %s", k, total, amount.Amount())
	}
}
