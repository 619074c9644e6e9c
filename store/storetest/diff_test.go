package storetest

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/voucherkit/voucherkit/voucher"
)

func TestDiff(t *testing.T) {
	base := fullInstrument("i")
	for name, c := range map[string]struct {
		change func(si *voucher.StoredInstrument)
		want   string // a piece of the one difference; "" for none
	}{
		"same":                  {func(*voucher.StoredInstrument) {}, ""},
		"zone only":             {func(si *voucher.StoredInstrument) { si.Expires = voucher.Ptr(si.Expires.UTC()) }, ""},
		"trailing zeros":        {func(si *voucher.StoredInstrument) { si.Instrument.Amount = dec("123456789012.340") }, ""},
		"a nanosecond":          {func(si *voucher.StoredInstrument) { si.Expires = voucher.Ptr(si.Expires.Add(-1)) }, "Expires: want 9999-12-31T23:59:59.999999999-05:00, got 9999-12-31T23:59:59.999999998-05:00 (-1ns apart)"},
		"a decimal digit":       {func(si *voucher.StoredInstrument) { si.Instrument.Held = dec("0.000000002") }, "Instrument.Held: want 0.000000001, got 0.000000002"},
		"nil pointer":           {func(si *voucher.StoredInstrument) { si.Instrument.Balance = nil }, "Instrument.Balance: want non-nil, got nil"},
		"nil scope":             {func(si *voucher.StoredInstrument) { si.Instrument.Products = nil }, "Instrument.Products: want a non-nil slice of 2, got nil"},
		"empty order types":     {func(si *voucher.StoredInstrument) { si.Instrument.OrderTypes = []voucher.OrderType{} }, "Instrument.OrderTypes: want 1 elements"},
		"a bool":                {func(si *voucher.StoredInstrument) { si.Used = false }, "Used: want true, got false"},
		"an int behind pointer": {func(si *voucher.StoredInstrument) { si.Instrument.MaxRedemptions = voucher.Ptr(8) }, "Instrument.MaxRedemptions: want 7, got 8"},
	} {
		got := base.Clone()
		c.change(&got)
		d := Diff(base, got)
		if c.want == "" {
			assert.Empty(t, d, name)
		} else {
			assert.Contains(t, d, c.want, name)
			assert.Equal(t, 1, strings.Count(d, "\n")+1, "%s: one difference: %s", name, d)
		}
	}
	// nil and empty differ only where the JSON tag says omitzero.
	assert.Contains(t, Diff(voucher.RefundRequest{Lines: nil}, voucher.RefundRequest{Lines: []string{}}), "Lines: want nil, got a non-nil slice of 0")
	assert.Contains(t, Diff(emptySlices("e"), discount("e", "acct-1", nil)), "Instrument.Products: want a non-nil slice of 0, got nil")
	assert.Empty(t, Diff(voucher.OrderRecord{Refunded: nil}, voucher.OrderRecord{Refunded: []string{}}), "Refunded: nil and empty mean the same")
	usd4, err := voucher.NewCurrency("USD", 4)
	require.NoError(t, err)
	assert.Contains(t, Diff(voucher.MustMoney("1", "USD"), voucher.NewMoney(dec("1"), usd4)), "want 1.00 USD (scale 2), got 1.0000 USD (scale 4)")
	assert.Contains(t, Diff(map[string]int{"a": 1}, map[string]int{"b": 1}), "[a]: want 1, missing")
}

// TestJSONRoundTrip: every value the suite stores survives encoding/json, as a store
// that keeps values as JSON (store/sqlite, store/postgres) needs.
func TestJSONRoundTrip(t *testing.T) {
	for name, v := range map[string]any{
		"full instrument":  fullInstrument("i"),
		"empty slices":     emptySlices("e"),
		"order":            orderRecord(t, "o1", "a", time.Date(1, 1, 1, 0, 0, 0, 1, shanghai)),
		"reservation":      reservation(t, "r1", "a", t0, time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.FixedZone("", -14*3600))),
		"entry":            entry(voucher.EntryAdjust, "a", "i", "o", time.Date(1900, 1, 1, 0, 0, 0, 1, mustZone("America/New_York"))),
		"refund nil lines": voucher.RefundRecord{OrderID: "o", Key: "k", At: t0, Request: voucher.RefundRequest{OrderID: "o"}},
		"refund no lines":  voucher.RefundRecord{OrderID: "o", Key: "k", At: t0, Request: voucher.RefundRequest{OrderID: "o", Lines: []string{}}},
	} {
		b, err := json.Marshal(v)
		require.NoError(t, err, name)
		back := reflect.New(reflect.TypeOf(v))
		require.NoError(t, json.Unmarshal(b, back.Interface()), name)
		requireSame(t, v, back.Elem().Interface(), name)
	}
}
