package rules_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/voucherkit/voucherkit/providers"
	"github.com/voucherkit/voucherkit/rules"
	"github.com/voucherkit/voucherkit/voucher"
)

// The engine validates each instrument it may use and never takes more than an
// instrument has (issue 9, item 7): an instrument it cannot price is a clear
// ErrInvalidInstrument naming it and the field, never a figure.
func TestEngineRefusesMalformedInstruments(t *testing.T) {
	rs, err := providers.Load("aliyun")
	require.NoError(t, err)
	e, err := rules.NewEngine(rs)
	require.NoError(t, err)
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, rs.Location)
	dec := decimal.RequireFromString
	order := voucher.Order{ID: "o1", Account: "a", Type: voucher.OrderNew, Payment: voucher.PaySubscription,
		Lines: []voucher.Line{{ID: "l1", Product: "ecs", Amount: dec("100")}}}
	voucherOf := func(f func(*voucher.Instrument)) voucher.Instrument {
		in := voucher.Instrument{ID: "v", Type: "voucher", Account: "a", Amount: dec("50")}
		f(&in)
		return in
	}
	promoOf := func(f func(*voucher.Instrument)) voucher.Instrument {
		in := voucher.Instrument{ID: "p", Type: "promo_code", Code: "P"}
		f(&in)
		return in
	}
	cases := []struct {
		name  string
		in    voucher.Instrument
		codes []string
		want  string // in the error
	}{
		{"percent above 100", promoOf(func(i *voucher.Instrument) { i.PercentOff = voucher.Ptr(dec("250")) }), []string{"P"}, "percent_off 250"},
		{"percent and amount", promoOf(func(i *voucher.Instrument) { i.PercentOff = voucher.Ptr(dec("10")); i.Amount = dec("5") }), []string{"P"}, "not together with an amount"},
		{"zero percent", promoOf(func(i *voucher.Instrument) { i.PercentOff = voucher.Ptr(dec("0")) }), []string{"P"}, "percent_off 0"},
		{"zero cap", promoOf(func(i *voucher.Instrument) {
			i.PercentOff, i.MaxDiscount = voucher.Ptr(dec("10")), voucher.Ptr(dec("0"))
		}), []string{"P"}, "max_discount 0"},
		{"negative redeemed", promoOf(func(i *voucher.Instrument) { i.Amount = dec("5"); i.Redeemed = -1 }), []string{"P"}, "must not be negative"},
		{"balance above amount", voucherOf(func(i *voucher.Instrument) { i.Balance = voucher.Ptr(dec("60")) }), nil, "held <= balance <= amount"},
		{"held above balance", voucherOf(func(i *voucher.Instrument) { i.Held = dec("51") }), nil, "held <= balance <= amount"},
		{"balance finer than the scale", voucherOf(func(i *voucher.Instrument) { i.Balance = voucher.Ptr(dec("1.005")) }), nil, "balance 1.005"},
		{"negative balance", voucherOf(func(i *voucher.Instrument) { i.Balance = voucher.Ptr(dec("-1")) }), nil, "balance -1"},
		{"amount beyond range", voucherOf(func(i *voucher.Instrument) {
			i.Amount = dec("100000000000000000000")
			i.Balance = voucher.Ptr(dec("1"))
		}), nil, "amount 100000000000000000000"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := order
			o.Codes = tc.codes
			q, err := e.Quote(o, []voucher.Instrument{tc.in}, at)
			require.Error(t, err, "quote %+v", q)
			assert.True(t, errors.Is(err, voucher.ErrInvalidInstrument), "%v", err)
			assert.Contains(t, err.Error(), `instrument "`+tc.in.ID+`"`)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// An empty typed code never matches a promo instrument without a code: the order is
// invalid (issue 9, item 7).
func TestEmptyCodeIsInvalidOrder(t *testing.T) {
	rs, err := providers.Load("aliyun")
	require.NoError(t, err)
	e, err := rules.NewEngine(rs)
	require.NoError(t, err)
	order := voucher.Order{ID: "o1", Account: "a", Type: voucher.OrderNew, Payment: voucher.PaySubscription,
		Lines: []voucher.Line{{ID: "l1", Product: "ecs", Amount: decimal.NewFromInt(100)}}, Codes: []string{""}}
	noCode := voucher.Instrument{ID: "p", Type: "promo_code", Amount: decimal.NewFromInt(5)}
	_, err = e.Quote(order, []voucher.Instrument{noCode}, time.Date(2026, 3, 2, 0, 0, 0, 0, rs.Location))
	require.ErrorIs(t, err, voucher.ErrInvalidOrder)
	assert.Contains(t, err.Error(), "codes[0]: is empty")
}

// A balance that is exactly representable at a finer exponent ("1.500") is not
// finer than the scale: it prices, and a 1.50 voucher never takes more than 1.50.
func TestExactBalanceAtFinerExponent(t *testing.T) {
	rs, err := providers.Load("aliyun")
	require.NoError(t, err)
	e, err := rules.NewEngine(rs)
	require.NoError(t, err)
	dec := decimal.RequireFromString
	order := voucher.Order{ID: "o1", Account: "a", Type: voucher.OrderNew, Payment: voucher.PaySubscription,
		Lines: []voucher.Line{{ID: "l1", Product: "ecs", Amount: dec("100")}}}
	v := voucher.Instrument{ID: "v", Type: "voucher", Account: "a", Amount: dec("2"), Balance: voucher.Ptr(dec("1.500"))}
	q, err := e.Quote(order, []voucher.Instrument{v}, time.Date(2026, 3, 2, 0, 0, 0, 0, rs.Location))
	require.NoError(t, err)
	require.Len(t, q.Applications, 1)
	assert.Equal(t, "1.50", q.Applications[0].Amount.Format())
	assert.False(t, strings.Contains(q.Text(), "1.51"))
}
