package voucher_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/voucherkit/voucherkit/voucher"
)

func TestParseMoney(t *testing.T) {
	cases := []struct {
		in, cur string
		want    string // Format(); "" means an error
	}{
		{"12.50", "CNY", "12.50"},
		{"12.5", "CNY", "12.50"},
		{"0", "CNY", "0.00"},
		{"0.01", "CNY", "0.01"},
		{"-3", "CNY", "-3.00"},
		{"1e3", "CNY", "1000.00"},
		{"1.5e1", "CNY", "15.00"},
		{"12345678901234567890.12", "CNY", "12345678901234567890.12"},
		{"100", "JPY", "100"},
		{"1.234", "BHD", "1.234"},
		// More decimal places than the scale: an error, never rounded.
		{"1.005", "CNY", ""},
		{"0.001", "USD", ""},
		{"1.5", "JPY", ""},
		{"1.2345", "BHD", ""},
		// Not decimals.
		{"", "CNY", ""},
		{"abc", "CNY", ""},
		{"1,50", "CNY", ""},
		{"0x10", "CNY", ""},
		{"12.50 CNY", "CNY", ""},
		// Floats' spellings it cannot represent exactly.
		{"NaN", "CNY", ""},
		{"nan", "CNY", ""},
		{"Inf", "CNY", ""},
		{"+Inf", "CNY", ""},
		{"-Inf", "CNY", ""},
		{"Infinity", "CNY", ""},
		{"-infinity", "CNY", ""},
		// Exponents that would expand into a million digits.
		{"1e999999", "CNY", ""},
		{"-1e999999", "CNY", ""},
		{"1e-999999", "CNY", ""},
		{"1e2147483647", "CNY", ""},
		{"1e9223372036854775807", "CNY", ""},
	}
	for _, tc := range cases {
		t.Run(tc.cur+" "+tc.in, func(t *testing.T) {
			m, err := voucher.ParseMoney(tc.in, voucher.MustCurrency(tc.cur))
			if tc.want == "" {
				require.Error(t, err, "got %s", m)
				assert.ErrorIs(t, err, voucher.ErrInvalidMoney)
				assert.Equal(t, "invalid_money", voucher.ErrorCode(err))
				assert.True(t, m.IsUnset(), "a failed parse gives the zero Money")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, m.Format())
			assert.Equal(t, tc.cur, m.Currency().Code())
		})
	}
}

// Decimal strings are exact: 0.1 + 0.2 is 0.3, which floats cannot say.
func TestMoneyIsExact(t *testing.T) {
	a := voucher.MustMoney("0.1", "USD")
	b := voucher.MustMoney("0.2", "USD")
	sum, err := a.Add(b)
	require.NoError(t, err)
	assert.True(t, sum.Amount().Equal(decimal.RequireFromString("0.3")), "got %s", sum.Amount())
	assert.True(t, sum.Equal(voucher.MustMoney("0.30", "USD")))

	big := voucher.MustMoney("9007199254740993.01", "USD") // 2^53 + 1: not a float64
	assert.Equal(t, "9007199254740993.01", big.Format())
}

func TestParseMoneyNeedsACurrency(t *testing.T) {
	_, err := voucher.ParseMoney("1", voucher.Currency{})
	assert.ErrorIs(t, err, voucher.ErrInvalidMoney)
}

func TestNewMoneyRoundsHalfAwayFromZero(t *testing.T) {
	cny := voucher.MustCurrency("CNY")
	for in, want := range map[string]string{
		"1.005": "1.01", "-1.005": "-1.01", "2.675": "2.68", "4.9995": "5.00", "4.9949": "4.99", "0.004": "0.00", "7": "7.00",
	} {
		assert.Equal(t, want, voucher.NewMoney(decimal.RequireFromString(in), cny).Format(), in)
	}
	assert.Equal(t, "3", voucher.NewMoney(decimal.RequireFromString("2.5"), voucher.MustCurrency("JPY")).Format())
}

func TestMoneyFromUnits(t *testing.T) {
	assert.Equal(t, "12.34", voucher.MoneyFromUnits(1234, voucher.MustCurrency("CNY")).Format())
	assert.Equal(t, "-0.05", voucher.MoneyFromUnits(-5, voucher.MustCurrency("USD")).Format())
	assert.Equal(t, "1234", voucher.MoneyFromUnits(1234, voucher.MustCurrency("JPY")).Format())
	assert.Equal(t, "1.234", voucher.MoneyFromUnits(1234, voucher.MustCurrency("BHD")).Format())
	z := voucher.MoneyFromUnits(0, voucher.MustCurrency("CNY"))
	assert.True(t, z.IsZero())
	assert.Equal(t, "CNY", z.Currency().Code())
	units, ok := voucher.MustMoney("12.34", "CNY").Units()
	assert.True(t, ok)
	assert.Equal(t, int64(1234), units)
	units, ok = voucher.MustMoney("-0.01", "CNY").Units()
	assert.True(t, ok)
	assert.Equal(t, int64(-1), units)
	// The story of zero: unset, zero and positive are three questions.
	zeroCNY := voucher.MustMoney("0", "CNY")
	assert.True(t, zeroCNY.IsZero())
	assert.False(t, zeroCNY.IsUnset(), "zero in a currency is set")
	assert.True(t, voucher.Money{}.IsUnset())
	assert.True(t, voucher.Money{}.IsZero())
	assert.True(t, voucher.MustMoney("0.01", "CNY").IsPositive())
	assert.False(t, zeroCNY.IsPositive())
	assert.False(t, voucher.MustMoney("-0.01", "CNY").IsPositive())
	// Beyond an int64 of units: not silently dropped.
	big, err := voucher.ParseMoney("99999999999999999999", voucher.MustCurrency("CNY"))
	require.NoError(t, err)
	units, ok = big.Units()
	assert.False(t, ok, "%d units", units)
	assert.Equal(t, int64(0), units)
}

func TestMoneyArithmetic(t *testing.T) {
	m := func(s string) voucher.Money { return voucher.MustMoney(s, "CNY") }
	sum, err := m("12.34").Add(m("0.66"))
	require.NoError(t, err)
	assert.Equal(t, "13.00", sum.Format())
	diff, err := m("1").Sub(m("2.5"))
	require.NoError(t, err)
	assert.Equal(t, "-1.50", diff.Format())
	assert.True(t, diff.IsNegative())
	assert.Equal(t, -1, diff.Sign())
	c, err := m("1").Cmp(m("1.00"))
	require.NoError(t, err)
	assert.Equal(t, 0, c)
	c, err = m("1").Cmp(m("0.99"))
	require.NoError(t, err)
	assert.Equal(t, 1, c)

	assert.True(t, m("300").Equal(m("300.00")), `"300" equals "300.00"`)
	assert.False(t, m("300").Equal(m("300.01")))
	assert.False(t, m("300").Equal(voucher.MustMoney("300", "USD")), "same amount, another currency")
}

func TestMoneyCurrencyMismatch(t *testing.T) {
	cny := voucher.MustMoney("1", "CNY")
	usd := voucher.MustMoney("1", "USD")
	for name, op := range map[string]func() error{
		"Add": func() error { _, err := cny.Add(usd); return err },
		"Sub": func() error { _, err := usd.Sub(cny); return err },
		"Cmp": func() error { _, err := cny.Cmp(usd); return err },
	} {
		t.Run(name, func(t *testing.T) {
			err := op()
			require.Error(t, err)
			assert.ErrorIs(t, err, voucher.ErrCurrencyMismatch)
			assert.Equal(t, "currency_mismatch", voucher.ErrorCode(err))
			assert.Contains(t, err.Error(), "CNY")
			assert.Contains(t, err.Error(), "USD")
		})
	}
}

func TestMoneyText(t *testing.T) {
	assert.Equal(t, "300.00 CNY", voucher.MustMoney("300", "CNY").String())
	assert.Equal(t, "300.00", voucher.MustMoney("300", "CNY").Format())
	assert.Equal(t, "100 JPY", voucher.MustMoney("100", "JPY").String())
	assert.Equal(t, "1.500 BHD", voucher.MustMoney("1.5", "BHD").String())
}

func TestMoneyJSON(t *testing.T) {
	for _, tc := range []struct{ amount, cur, json string }{
		{"12.5", "CNY", `{"amount":"12.50","currency":"CNY"}`},
		{"0", "USD", `{"amount":"0.00","currency":"USD"}`},
		{"-7.25", "USD", `{"amount":"-7.25","currency":"USD"}`},
		{"1000", "JPY", `{"amount":"1000","currency":"JPY"}`},
		{"1.5", "BHD", `{"amount":"1.500","currency":"BHD"}`},
		{"12345678901234567890.12", "CNY", `{"amount":"12345678901234567890.12","currency":"CNY"}`},
	} {
		t.Run(tc.cur+" "+tc.amount, func(t *testing.T) {
			m := voucher.MustMoney(tc.amount, tc.cur)
			b, err := json.Marshal(m)
			require.NoError(t, err)
			assert.JSONEq(t, tc.json, string(b))
			var raw map[string]any
			require.NoError(t, json.Unmarshal(b, &raw))
			assert.IsType(t, "", raw["amount"], "the amount is a JSON string, never a number")

			var back voucher.Money
			require.NoError(t, json.Unmarshal(b, &back))
			assert.True(t, m.Equal(back), "round trip: %s became %s", m, back)
			assert.Equal(t, m.Format(), back.Format())
		})
	}
	t.Run("inside a struct", func(t *testing.T) {
		type doc struct {
			Price voucher.Money  `json:"price"`
			Fee   *voucher.Money `json:"fee"`
		}
		fee := voucher.MustMoney("0.30", "USD")
		in := doc{Price: voucher.MustMoney("9.99", "USD"), Fee: &fee}
		b, err := json.Marshal(in)
		require.NoError(t, err)
		var out doc
		require.NoError(t, json.Unmarshal(b, &out))
		assert.True(t, in.Price.Equal(out.Price))
		require.NotNil(t, out.Fee)
		assert.True(t, fee.Equal(*out.Fee))
	})
}

func TestMoneyJSONRefusesBadInput(t *testing.T) {
	for _, in := range []string{
		`{"amount":12.5,"currency":"CNY"}`, // a number: would pass through a float
		`{"amount":"NaN","currency":"CNY"}`,
		`{"amount":"Inf","currency":"CNY"}`,
		`{"amount":"1e999999","currency":"CNY"}`,
		`{"amount":"abc","currency":"CNY"}`,
		`{"amount":"1","currency":"cny"}`,
		`{"amount":"1","currency":"CNYY"}`,
		`"12.50 CNY"`,
	} {
		t.Run(in, func(t *testing.T) {
			var m voucher.Money
			assert.Error(t, json.Unmarshal([]byte(in), &m))
		})
	}
}

// Scale enforcement holds for JSON too: ParseMoney refuses an amount finer than the
// currency's scale instead of rounding it, and so must decoding.
func TestMoneyJSONRefusesAmountFinerThanScale(t *testing.T) {
	for _, in := range []string{
		`{"amount":"1.005","currency":"CNY"}`,
		`{"amount":"1.5","currency":"JPY"}`,
	} {
		t.Run(in, func(t *testing.T) {
			var m voucher.Money
			err := json.Unmarshal([]byte(in), &m)
			assert.ErrorIs(t, err, voucher.ErrInvalidMoney, "decoded as %s", m)
		})
	}
}

// A rule set may give its currency another scale than ISO's ("currency: USD, scale: 4"
// for sub-cent prices); such money must survive JSON too.
func TestMoneyJSONRoundTripRuleSetScale(t *testing.T) {
	usd4, err := voucher.NewCurrency("USD", 4)
	require.NoError(t, err)
	m, err := voucher.ParseMoney("1.2345", usd4)
	require.NoError(t, err)
	b, err := json.Marshal(m)
	require.NoError(t, err)
	var back voucher.Money
	require.NoError(t, json.Unmarshal(b, &back), "decoding %s", b)
	assert.True(t, m.Equal(back), "round trip: %s became %s", m, back)
}

func TestMoneyZeroValue(t *testing.T) {
	var m voucher.Money
	assert.True(t, m.IsZero())
	assert.True(t, m.IsUnset())
	assert.False(t, m.IsNegative())
	assert.Equal(t, 0, m.Sign())
	assert.True(t, m.Currency().IsZero())
	assert.Equal(t, "0", m.String())
	units, ok := m.Units()
	assert.True(t, ok)
	assert.Equal(t, int64(0), units)

	// The zero Money is "nothing": adding it changes nothing, in any currency.
	x := voucher.MustMoney("12.34", "CNY")
	sum, err := m.Add(x)
	require.NoError(t, err)
	assert.True(t, sum.Equal(x))
	assert.Equal(t, "CNY", sum.Currency().Code())
	sum, err = x.Add(m)
	require.NoError(t, err)
	assert.True(t, sum.Equal(x))
	diff, err := m.Sub(x)
	require.NoError(t, err)
	assert.Equal(t, "-12.34", diff.Format())

	// A real zero has a currency.
	z := voucher.MustMoney("0", "CNY")
	assert.True(t, z.IsZero())
	assert.False(t, z.IsUnset())

	var c voucher.Currency
	assert.True(t, c.IsZero())
	assert.Equal(t, "", c.Code())
	assert.Equal(t, int32(0), c.Scale())
}

// UnmarshalJSON reads what MarshalJSON writes, the zero Money included.
func TestMoneyZeroValueJSONRoundTrip(t *testing.T) {
	var zero voucher.Money
	b, err := json.Marshal(zero)
	require.NoError(t, err)
	var back voucher.Money
	require.NoError(t, json.Unmarshal(b, &back), "decoding %s", b)
	assert.True(t, back.IsUnset())
}

func TestCurrency(t *testing.T) {
	c, err := voucher.NewCurrency("XTS", 4)
	require.NoError(t, err)
	assert.Equal(t, "XTS", c.Code())
	assert.Equal(t, int32(4), c.Scale())
	assert.Equal(t, "XTS", c.String())
	for _, bad := range []struct {
		code  string
		scale int32
	}{{"cny", 2}, {"CN", 2}, {"CNYY", 2}, {"", 2}, {"C1Y", 2}, {"CNY", -1}, {"CNY", 9}} {
		_, err := voucher.NewCurrency(bad.code, bad.scale)
		assert.ErrorIs(t, err, voucher.ErrInvalidMoney, "%q scale %d", bad.code, bad.scale)
	}
	for code, scale := range map[string]int32{"CNY": 2, "USD": 2, "JPY": 0, "KRW": 0, "BHD": 3, "XYZ": 2} {
		c, err := voucher.LookupCurrency(code)
		require.NoError(t, err)
		assert.Equal(t, scale, c.Scale(), code)
	}
	_, err = voucher.LookupCurrency("usd")
	assert.ErrorIs(t, err, voucher.ErrInvalidMoney)
	assert.Panics(t, func() { voucher.MustCurrency("usd") })
	assert.Panics(t, func() { voucher.MustMoney("1.001", "USD") })
	assert.Panics(t, func() { voucher.MustMoney("NaN", "USD") })
}

func TestErrorCode(t *testing.T) {
	wrapped := errors.Join(errors.New("context"), voucher.ErrCodeNotFound)
	assert.Equal(t, "code_not_found", voucher.ErrorCode(wrapped))
	assert.Equal(t, "", voucher.ErrorCode(errors.New("plain")))
	assert.Equal(t, "", voucher.ErrorCode(nil))
	for code, err := range map[string]*voucher.CodeError{
		"clock_backwards": voucher.ErrClockBackwards, "duplicate_order": voucher.ErrDuplicateOrder,
		"invalid_order": voucher.ErrInvalidOrder, "currency_mismatch": voucher.ErrCurrencyMismatch,
		"unknown_instrument": voucher.ErrUnknownInstrument, "code_not_found": voucher.ErrCodeNotFound,
		"not_reserved": voucher.ErrNotReserved, "unknown_order": voucher.ErrUnknownOrder,
		"invalid_refund": voucher.ErrInvalidRefund, "already_refunded": voucher.ErrAlreadyRefunded,
		"code_already_used": voucher.ErrCodeAlreadyUsed, "code_expired": voucher.ErrCodeExpired,
	} {
		assert.Equal(t, code, err.Code())
		assert.Equal(t, code, voucher.ErrorCode(err))
		assert.Contains(t, err.Error(), "voucher: ")
	}
}

// Money in units and Money beyond MaxAmount (a decimal) behave as the decimals they
// are: sums, differences, negation, comparison, formatting and JSON agree with
// decimal arithmetic on both sides of the boundary, and one amount has one form
// whichever way it was made.
func TestMoneyAcrossMaxAmount(t *testing.T) {
	for _, cur := range []voucher.Currency{voucher.MustCurrency("CNY"), voucher.MustCurrency("JPY"), mustCurrency(t, "USD", 8)} {
		max := cur.MaxAmount()
		unit := decimal.New(1, -cur.Scale())
		values := []decimal.Decimal{decimal.Zero, unit, unit.Neg(), max, max.Neg(), max.Add(unit), max.Add(unit).Neg(),
			max.Mul(decimal.NewFromInt(3)), max.Sub(unit), decimal.NewFromInt(42)}
		for _, a := range values {
			ma := voucher.NewMoney(a, cur)
			assert.True(t, ma.Amount().Equal(a), "%s: NewMoney(%s).Amount()", cur, a)
			assert.Equal(t, a.StringFixed(cur.Scale()), ma.Format(), "%s: Format of %s", cur, a)
			parsed, err := voucher.ParseMoney(a.String(), cur)
			require.NoError(t, err)
			assert.Equal(t, ma, parsed, "%s: %s made by NewMoney and by ParseMoney", cur, a)
			assert.Equal(t, ma, ma.Neg().Neg(), "%s: -(-%s)", cur, a)
			assert.True(t, ma.Neg().Amount().Equal(a.Neg()), "%s: -%s", cur, a)
			u, ok := ma.Units()
			assert.Equal(t, a.Abs().LessThanOrEqual(max), ok, "%s: Units of %s", cur, a)
			if ok {
				assert.Equal(t, ma, voucher.MoneyFromUnits(u, cur), "%s: %s from its units", cur, a)
			}
			var back voucher.Money
			b, err := json.Marshal(ma)
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(b, &back))
			assert.Equal(t, ma, back, "%s: %s through JSON", cur, a)
			for _, b := range values {
				mb := voucher.NewMoney(b, cur)
				sum, err := ma.Add(mb)
				require.NoError(t, err)
				assert.Equal(t, voucher.NewMoney(a.Add(b), cur), sum, "%s: %s + %s", cur, a, b)
				diff, err := ma.Sub(mb)
				require.NoError(t, err)
				assert.Equal(t, voucher.NewMoney(a.Sub(b), cur), diff, "%s: %s - %s", cur, a, b)
				c, err := ma.Cmp(mb)
				require.NoError(t, err)
				assert.Equal(t, a.Cmp(b), c, "%s: %s cmp %s", cur, a, b)
				assert.Equal(t, a.Equal(b), ma.Equal(mb), "%s: %s equal %s", cur, a, b)
			}
		}
	}
}

func mustCurrency(t *testing.T, code string, scale int32) voucher.Currency {
	t.Helper()
	c, err := voucher.NewCurrency(code, scale)
	require.NoError(t, err)
	return c
}

// Currency's code is kept as an index: every code of three letters comes back as it
// went in.
func TestCurrencyCodes(t *testing.T) {
	for _, code := range []string{"AAA", "AAZ", "AZA", "ZAA", "ZZZ", "CNY", "USD", "JPY", "XTS"} {
		c, err := voucher.NewCurrency(code, 2)
		require.NoError(t, err)
		assert.Equal(t, code, c.Code())
		assert.Equal(t, code, c.String())
		assert.False(t, c.IsZero())
	}
	assert.Equal(t, "", voucher.Currency{}.Code())
}
