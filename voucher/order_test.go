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

func validOrder() voucher.Order {
	return voucher.Order{
		ID: "o1", Account: "acct-1", Type: voucher.OrderNew, Payment: voucher.PaySubscription,
		Lines: []voucher.Line{
			{ID: "l1", Product: "ecs", Amount: decimal.RequireFromString("100")},
			{ID: "l2", Product: "rds", Amount: decimal.RequireFromString("0"), Currency: "CNY"},
		},
		Use:   []string{"v1", "v2"},
		Codes: []string{"A", "B"},
	}
}

// problemFields is the field path of every problem err reports.
func problemFields(t *testing.T, err error) []string {
	t.Helper()
	var ve *voucher.ValidationError
	require.True(t, errors.As(err, &ve), "want a *voucher.ValidationError, got %T: %v", err, err)
	var fields []string
	for _, p := range ve.Problems {
		fields = append(fields, p.Field)
		assert.NotEmpty(t, p.Problem, p.Field)
	}
	return fields
}

func TestOrderValidate(t *testing.T) {
	cases := []struct {
		name   string
		change func(*voucher.Order)
		fields []string // nil: valid
	}{
		{"valid", func(*voucher.Order) {}, nil},
		{"valid with use: [] and no codes", func(o *voucher.Order) { o.Use = []string{}; o.Codes = nil }, nil},
		{"every order type", func(o *voucher.Order) { o.Type = voucher.OrderTrialConversion }, nil},
		{"missing id", func(o *voucher.Order) { o.ID = "" }, []string{"id"}},
		{"unknown order type", func(o *voucher.Order) { o.Type = "purchase" }, []string{"type"}},
		{"missing order type", func(o *voucher.Order) { o.Type = "" }, []string{"type"}},
		{"order type in the wrong case", func(o *voucher.Order) { o.Type = "New" }, []string{"type"}},
		{"unknown payment type", func(o *voucher.Order) { o.Payment = "prepaid" }, []string{"payment"}},
		{"no items", func(o *voucher.Order) { o.Lines = nil }, []string{"items"}},
		{"empty items", func(o *voucher.Order) { o.Lines = []voucher.Line{} }, []string{"items"}},
		{"negative amount", func(o *voucher.Order) { o.Lines[1].Amount = decimal.RequireFromString("-0.01") }, []string{"items[1].amount"}},
		{"two lines with one id", func(o *voucher.Order) { o.Lines[1].ID = "l1" }, []string{"items[1].id"}},
		{"line without id", func(o *voucher.Order) { o.Lines[0].ID = "" }, []string{"items[0].id"}},
		{"line without product", func(o *voucher.Order) { o.Lines[1].Product = "" }, []string{"items[1].product"}},
		{"line currency not an ISO code", func(o *voucher.Order) { o.Lines[0].Currency = "rmb" }, []string{"items[0].currency"}},
		{"id twice in use", func(o *voucher.Order) { o.Use = []string{"v1", "v2", "v1"} }, []string{"use[2]"}},
		{"code twice in codes", func(o *voucher.Order) { o.Codes = []string{"A", "A"} }, []string{"codes[1]"}},
		{"every problem at once", func(o *voucher.Order) {
			o.ID = ""
			o.Type = "x"
			o.Payment = "y"
			o.Lines = append(o.Lines, voucher.Line{ID: "l1", Product: "", Amount: decimal.RequireFromString("-1")})
			o.Use = []string{"v", "v"}
			o.Codes = []string{"C", "C"}
		}, []string{"id", "type", "payment", "items[2].id", "items[2].product", "items[2].amount", "use[1]", "codes[1]"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := validOrder()
			tc.change(&o)
			err := o.Validate()
			if tc.fields == nil {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, voucher.ErrInvalidOrder)
			assert.Equal(t, "invalid_order", voucher.ErrorCode(err))
			assert.ElementsMatch(t, tc.fields, problemFields(t, err))
			for _, f := range tc.fields {
				assert.Contains(t, err.Error(), f+": ", "the message names every field")
			}
		})
	}
}

// The duplicate names the earlier position, so the buyer can find both.
func TestOrderValidateNamesTheFirstOccurrence(t *testing.T) {
	o := validOrder()
	o.Lines[1].ID = "l1"
	o.Use = []string{"v1", "v2", "v1"}
	err := o.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "items[0]")
	assert.Contains(t, err.Error(), "use[0]")
}

func TestOrderAutoSelect(t *testing.T) {
	o := validOrder()
	o.Use = nil
	assert.True(t, o.AutoSelect(), "use omitted: every stage selects automatically")
	o.Use = []string{}
	assert.False(t, o.AutoSelect(), "use: [] means none")
	o.Use = []string{"v1"}
	assert.False(t, o.AutoSelect())
}

func TestOrderAndPaymentTypes(t *testing.T) {
	assert.Equal(t, []voucher.OrderType{"new", "renewal", "upgrade", "os_change", "trial_conversion", "usage"}, voucher.OrderTypes())
	for _, ot := range voucher.OrderTypes() {
		assert.True(t, ot.Valid(), ot)
	}
	assert.False(t, voucher.OrderType("").Valid())
	assert.False(t, voucher.OrderType("purchase").Valid())
	assert.Equal(t, []voucher.PaymentType{"subscription", "pay_as_you_go"}, voucher.PaymentTypes())
	for _, p := range voucher.PaymentTypes() {
		assert.True(t, p.Valid(), p)
	}
	assert.False(t, voucher.PaymentType("payg").Valid())
}

func TestOrderZeroValue(t *testing.T) {
	var o voucher.Order
	assert.True(t, o.AutoSelect())
	err := o.Validate()
	require.Error(t, err)
	assert.ElementsMatch(t, []string{"id", "type", "payment", "items"}, problemFields(t, err))
}

// An order's JSON uses the order file's names (lines are "items"), and keeps the
// difference between an absent use (automatic selection) and an empty one (nothing).
func TestOrderJSON(t *testing.T) {
	o := validOrder()
	o.Lines[0].SKU = "ecs.g7.large"
	b, err := json.Marshal(o)
	require.NoError(t, err)
	assert.JSONEq(t, `{"id":"o1","account":"acct-1","type":"new","payment":"subscription",
		"items":[{"id":"l1","product":"ecs","sku":"ecs.g7.large","amount":"100"},{"id":"l2","product":"rds","amount":"0","currency":"CNY"}],
		"use":["v1","v2"],"codes":["A","B"]}`, string(b))
	var back voucher.Order
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, o.Lines[0].SKU, back.Lines[0].SKU)
	assert.True(t, o.Lines[0].Amount.Equal(back.Lines[0].Amount))

	for _, c := range []struct {
		use  []string
		json string
		auto bool
	}{{nil, `absent`, true}, {[]string{}, `"use":[]`, false}} {
		o.Use = c.use
		b, err := json.Marshal(o)
		require.NoError(t, err)
		if c.use == nil {
			assert.NotContains(t, string(b), `"use"`)
		} else {
			assert.Contains(t, string(b), c.json)
		}
		var back voucher.Order
		require.NoError(t, json.Unmarshal(b, &back))
		assert.Equal(t, c.auto, back.AutoSelect(), c.json)
	}
}
