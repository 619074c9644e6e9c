package voucher_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/voucherkit/voucherkit/voucher"
)

var (
	instAt = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

	deductionPolicy = voucher.TypePolicy{Name: "voucher", Kind: voucher.Deduction, CarryOver: true, Refund: voucher.RefundForfeit}
	discountPolicy  = voucher.TypePolicy{Name: "coupon", Kind: voucher.Discount, ClaimValidity: 30 * 24 * time.Hour}
	creditPolicy    = voucher.TypePolicy{Name: "credit", Kind: voucher.Deduction, EffectiveOnActivation: true, Refund: voucher.RefundRestore}
	promoPolicy     = voucher.TypePolicy{Name: "promo_code", Kind: voucher.Discount, TypedCode: true}
)

func instAmt(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func TestInstrumentStatusAt(t *testing.T) {
	ded := func(f func(*voucher.Instrument)) voucher.Instrument {
		in := voucher.Instrument{ID: "v", Type: "voucher", Account: "a", Amount: instAmt("50"), Balance: voucher.Ptr(instAmt("50"))}
		f(&in)
		return in
	}
	disc := func(f func(*voucher.Instrument)) voucher.Instrument {
		in := voucher.Instrument{ID: "c", Type: "coupon", Account: "a", Amount: instAmt("10")}
		f(&in)
		return in
	}
	none := func(*voucher.Instrument) {}
	cases := []struct {
		name   string
		in     voucher.Instrument
		policy voucher.TypePolicy
		at     time.Time
		want   voucher.Status
	}{
		{"available", ded(none), deductionPolicy, instAt, voucher.StatusAvailable},
		{"used_up: zero balance", ded(func(i *voucher.Instrument) { i.Balance = voucher.Ptr(decimal.Zero) }), deductionPolicy, instAt, voucher.StatusUsedUp},
		{"used_up: discount redeemed", disc(func(i *voucher.Instrument) { i.Redeemed = 1 }), discountPolicy, instAt, voucher.StatusUsedUp},
		{"available: discount with redemptions left", disc(func(i *voucher.Instrument) { i.MaxRedemptions = voucher.Ptr(3); i.Redeemed = 2 }), discountPolicy, instAt, voucher.StatusAvailable},
		{"a discount's zero balance does not use it up", disc(none), discountPolicy, instAt, voucher.StatusAvailable},
		{"expired: at == expires_at", ded(func(i *voucher.Instrument) { i.ExpiresAt = voucher.Ptr(instAt) }), deductionPolicy, instAt, voucher.StatusExpired},
		{"available: one nanosecond before expires_at", ded(func(i *voucher.Instrument) { i.ExpiresAt = voucher.Ptr(instAt.Add(time.Nanosecond)) }), deductionPolicy, instAt, voucher.StatusAvailable},
		{"expired: claim + 30 days passed", disc(func(i *voucher.Instrument) { i.ClaimedAt = voucher.Ptr(instAt.Add(-30 * 24 * time.Hour)) }), discountPolicy, instAt, voucher.StatusExpired},
		{"available: claim + 30 days not yet passed", disc(func(i *voucher.Instrument) { i.ClaimedAt = voucher.Ptr(instAt.Add(-30*24*time.Hour + time.Nanosecond)) }), discountPolicy, instAt, voucher.StatusAvailable},
		{"pending_activation", ded(func(i *voucher.Instrument) { i.Account, i.Code, i.PendingActivation = "", "Q-1", true }), deductionPolicy, instAt, voucher.StatusPendingActivation},
		{"not_yet_effective: one nanosecond before effective_at", ded(func(i *voucher.Instrument) { i.EffectiveAt = voucher.Ptr(instAt.Add(time.Nanosecond)) }), deductionPolicy, instAt, voucher.StatusNotYetEffective},
		{"available: at == effective_at", ded(func(i *voucher.Instrument) { i.EffectiveAt = voucher.Ptr(instAt) }), deductionPolicy, instAt, voucher.StatusAvailable},
		{"not_yet_effective: activated later, effective on activation", ded(func(i *voucher.Instrument) { i.ActivatedAt = voucher.Ptr(instAt.Add(time.Second)) }), creditPolicy, instAt, voucher.StatusNotYetEffective},
		{"available: activation ignored when the type is not effective on activation", ded(func(i *voucher.Instrument) { i.ActivatedAt = voucher.Ptr(instAt.Add(time.Second)) }), deductionPolicy, instAt, voucher.StatusAvailable},
		// First match wins: used_up, expired, pending_activation, not_yet_effective.
		{"used_up before expired", ded(func(i *voucher.Instrument) { i.Balance = voucher.Ptr(decimal.Zero); i.ExpiresAt = voucher.Ptr(instAt) }), deductionPolicy, instAt, voucher.StatusUsedUp},
		{"expired before pending_activation", ded(func(i *voucher.Instrument) { i.PendingActivation, i.Code, i.ExpiresAt = true, "Q", voucher.Ptr(instAt) }), deductionPolicy, instAt, voucher.StatusExpired},
		{"pending_activation before not_yet_effective", ded(func(i *voucher.Instrument) {
			i.PendingActivation, i.Code, i.EffectiveAt = true, "Q", voucher.Ptr(instAt.Add(time.Hour))
		}), deductionPolicy, instAt, voucher.StatusPendingActivation},
		{"expired before not_yet_effective", ded(func(i *voucher.Instrument) {
			i.EffectiveAt, i.ExpiresAt = voucher.Ptr(instAt.Add(-time.Hour)), voucher.Ptr(instAt.Add(-time.Minute))
		}), deductionPolicy, instAt, voucher.StatusExpired},
		{"held value does not change the status", ded(func(i *voucher.Instrument) { i.Held = i.CurrentBalance() }), deductionPolicy, instAt, voucher.StatusAvailable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.in.StatusAt(tc.policy, tc.at))
			assert.True(t, tc.want.Valid())
		})
	}
}

func TestInstrumentExpiresOn(t *testing.T) {
	exp := instAt.AddDate(0, 1, 0)
	claim := instAt.AddDate(0, 0, -3)
	cases := []struct {
		name   string
		in     voucher.Instrument
		policy voucher.TypePolicy
		want   *time.Time // nil: never
	}{
		{"expires_at", voucher.Instrument{ExpiresAt: voucher.Ptr(exp)}, deductionPolicy, &exp},
		{"never", voucher.Instrument{}, deductionPolicy, nil},
		{"claimed_at + validity", voucher.Instrument{ClaimedAt: voucher.Ptr(claim)}, discountPolicy, voucher.Ptr(claim.Add(30 * 24 * time.Hour))},
		{"expires_at wins over the claim period", voucher.Instrument{ClaimedAt: voucher.Ptr(claim), ExpiresAt: voucher.Ptr(exp)}, discountPolicy, &exp},
		{"no claim period without claimed_at", voucher.Instrument{}, discountPolicy, nil},
		{"claimed_at without a claim period", voucher.Instrument{ClaimedAt: voucher.Ptr(claim)}, deductionPolicy, nil},
		// The zero time is a time: given, it is when the instrument expires.
		{"expires_at 0001-01-01 given", voucher.Instrument{ExpiresAt: voucher.Ptr(time.Time{})}, deductionPolicy, &time.Time{}},
		{"claimed_at 0001-01-01 given", voucher.Instrument{ClaimedAt: voucher.Ptr(time.Time{})}, discountPolicy, voucher.Ptr(time.Time{}.Add(30 * 24 * time.Hour))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assertSameTime(t, tc.want, tc.in.ExpiresOn(tc.policy))
		})
	}
}

func TestInstrumentEffectiveFrom(t *testing.T) {
	eff := instAt.Add(-time.Hour)
	act := instAt.Add(time.Hour)
	cases := []struct {
		name   string
		in     voucher.Instrument
		policy voucher.TypePolicy
		want   *time.Time // nil: from the start
	}{
		{"from the start", voucher.Instrument{}, deductionPolicy, nil},
		{"effective_at", voucher.Instrument{EffectiveAt: voucher.Ptr(eff)}, deductionPolicy, &eff},
		{"activation, for a type effective on activation", voucher.Instrument{ActivatedAt: voucher.Ptr(act)}, creditPolicy, &act},
		{"activation ignored otherwise", voucher.Instrument{ActivatedAt: voucher.Ptr(act)}, deductionPolicy, nil},
		{"effective_at wins over activation", voucher.Instrument{EffectiveAt: voucher.Ptr(eff), ActivatedAt: voucher.Ptr(act)}, creditPolicy, &eff},
		{"never activated", voucher.Instrument{}, creditPolicy, nil},
		{"effective_at 0001-01-01 given", voucher.Instrument{EffectiveAt: voucher.Ptr(time.Time{})}, deductionPolicy, &time.Time{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assertSameTime(t, tc.want, tc.in.EffectiveFrom(tc.policy))
		})
	}
}

// assertSameTime checks that got is absent when want is, and the same instant otherwise.
func assertSameTime(t *testing.T, want, got *time.Time) {
	t.Helper()
	if want == nil {
		assert.Nil(t, got, "want absent")
		return
	}
	if assert.NotNil(t, got, "want %v", want) {
		assert.True(t, want.Equal(*got), "want %v, got %v", want, got)
	}
}

func TestInstrumentRedemptions(t *testing.T) {
	assert.Equal(t, 1, (&voucher.Instrument{}).Redemptions(), "default 1")
	assert.Equal(t, 3, (&voucher.Instrument{MaxRedemptions: voucher.Ptr(3)}).Redemptions())
	in := voucher.Instrument{MaxRedemptions: voucher.Ptr(2), Redeemed: 1}
	assert.False(t, in.UsedUp(discountPolicy))
	in.Redeemed = 2
	assert.True(t, in.UsedUp(discountPolicy))
	assert.True(t, (&voucher.Instrument{Balance: voucher.Ptr(decimal.Zero)}).UsedUp(deductionPolicy))
	assert.False(t, (&voucher.Instrument{Balance: voucher.Ptr(instAmt("0.01"))}).UsedUp(deductionPolicy))
	// A balance not given is the face value; a zero balance given stays zero.
	face := voucher.Instrument{Amount: instAmt("50")}
	assert.Equal(t, "50", face.CurrentBalance().String())
	assert.False(t, face.UsedUp(deductionPolicy))
	face.Balance = voucher.Ptr(decimal.Zero)
	assert.Equal(t, "0", face.CurrentBalance().String())
	assert.True(t, face.UsedUp(deductionPolicy))
	held := voucher.Instrument{Amount: instAmt("50"), Held: instAmt("20")}
	assert.Equal(t, "30", held.Available().String())
	// A revoked instrument is used up, whatever is left.
	assert.True(t, (&voucher.Instrument{Amount: instAmt("5"), Revoked: true}).UsedUp(deductionPolicy))
	assert.True(t, (&voucher.Instrument{Amount: instAmt("5"), Revoked: true}).UsedUp(discountPolicy))
	assert.Equal(t, voucher.StatusUsedUp, (&voucher.Instrument{Amount: instAmt("5"), Revoked: true}).StatusAt(discountPolicy, instAt))
}

func TestInstrumentClone(t *testing.T) {
	fpo := true
	in := voucher.Instrument{ID: "v", Products: []string{"ecs"}, ExcludeProducts: []string{"rds"},
		OrderTypes: []voucher.OrderType{voucher.OrderNew}, PaymentTypes: []voucher.PaymentType{voucher.PaySubscription},
		FirstPurchaseOnly: &fpo, Shared: voucher.Ptr(false), Balance: voucher.Ptr(instAmt("3")), PercentOff: voucher.Ptr(instAmt("10")),
		MaxDiscount: voucher.Ptr(instAmt("4")), MinSpend: voucher.Ptr(instAmt("5")), IssuedAt: voucher.Ptr(instAt),
		EffectiveAt: voucher.Ptr(instAt), ExpiresAt: voucher.Ptr(instAt), ClaimedAt: voucher.Ptr(instAt),
		ActivatedAt: voucher.Ptr(instAt), MaxRedemptions: voucher.Ptr(2)}
	c := in.Clone()
	assert.Equal(t, in, c)
	c.Products[0] = "x"
	c.ExcludeProducts[0] = "x"
	c.OrderTypes[0] = voucher.OrderUsage
	c.PaymentTypes[0] = voucher.PayAsYouGo
	*c.FirstPurchaseOnly = false
	assert.Equal(t, []string{"ecs"}, in.Products)
	assert.Equal(t, []string{"rds"}, in.ExcludeProducts)
	assert.Equal(t, []voucher.OrderType{voucher.OrderNew}, in.OrderTypes)
	assert.Equal(t, []voucher.PaymentType{voucher.PaySubscription}, in.PaymentTypes)
	assert.True(t, *in.FirstPurchaseOnly)
	// No pointer is shared either.
	*c.Shared = true
	*c.Balance, *c.PercentOff, *c.MaxDiscount, *c.MinSpend = decimal.Zero, decimal.Zero, decimal.Zero, decimal.Zero
	later := instAt.Add(time.Hour)
	*c.IssuedAt, *c.EffectiveAt, *c.ExpiresAt, *c.ClaimedAt, *c.ActivatedAt = later, later, later, later, later
	*c.MaxRedemptions = 9
	assert.False(t, *in.Shared)
	for _, d := range []*decimal.Decimal{in.Balance, in.PercentOff, in.MaxDiscount, in.MinSpend} {
		assert.False(t, d.IsZero(), "a decimal pointer is shared")
	}
	for _, tm := range []*time.Time{in.IssuedAt, in.EffectiveAt, in.ExpiresAt, in.ClaimedAt, in.ActivatedAt} {
		assert.True(t, tm.Equal(instAt), "a time pointer is shared")
	}
	assert.Equal(t, 2, *in.MaxRedemptions)
}

// validateCase is an instrument to validate under the policy of its type, and the
// fields Validate must name (nil: valid).
type validateCase struct {
	name   string
	in     voucher.Instrument
	policy voucher.TypePolicy
	fields []string // nil: valid
}

// TestInstrumentValidate checks that Validate accepts each valid instrument, and
// refuses each invalid one with an invalid_instrument error naming exactly its
// problem fields.
func TestInstrumentValidate(t *testing.T) {
	for _, tc := range slices.Concat(validateValueCases(), validateGivenFieldCases()) {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.in.Validate(tc.policy, voucher.MustCurrency("CNY"))
			if tc.fields == nil {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, voucher.ErrInvalidInstrument)
			assert.Equal(t, "invalid_instrument", voucher.ErrorCode(err))
			var ve *voucher.ValidationError
			require.True(t, errors.As(err, &ve))
			var got []string
			for _, p := range ve.Problems {
				got = append(got, p.Field)
			}
			assert.ElementsMatch(t, tc.fields, got)
		})
	}
}

// validDeduction is a valid voucher, partly spent and partly held; validDiscount a
// valid percentage coupon with a cap and a threshold: most cases change one of them.
func validDeduction() voucher.Instrument {
	return voucher.Instrument{ID: "v", Type: "voucher", Account: "a", Amount: instAmt("100"), Balance: voucher.Ptr(instAmt("60")), Held: instAmt("10"),
		ExpiresAt: voucher.Ptr(instAt.AddDate(0, 1, 0)), EffectiveAt: voucher.Ptr(instAt)}
}

func validDiscount() voucher.Instrument {
	return voucher.Instrument{ID: "c", Type: "coupon", Account: "a", PercentOff: voucher.Ptr(instAmt("12.5")), MaxDiscount: voucher.Ptr(instAmt("30")), MinSpend: voucher.Ptr(instAmt("100"))}
}

// validateValueCases: valid instruments of each kind, and instruments missing an id
// or a type, with a bad currency, or with values that are negative, out of range or
// of the wrong kind.
func validateValueCases() []validateCase {
	ded, disc := validDeduction, validDiscount
	return []validateCase{
		{"valid deduction", ded(), deductionPolicy, nil},
		{"valid discount", disc(), discountPolicy, nil},
		{"valid fixed discount", voucher.Instrument{ID: "c", Type: "coupon", Amount: instAmt("5")}, discountPolicy, nil},
		{"valid promo code", voucher.Instrument{ID: "p", Type: "promo_code", Code: "SPRING10", PercentOff: voucher.Ptr(instAmt("10"))}, promoPolicy, nil},
		{"valid pending", voucher.Instrument{ID: "g", Type: "voucher", Code: "Q", PendingActivation: true, Amount: instAmt("5"), Balance: voucher.Ptr(instAmt("5"))}, deductionPolicy, nil},
		{"missing id", func() voucher.Instrument { i := ded(); i.ID = ""; return i }(), deductionPolicy, []string{"id"}},
		{"missing type", func() voucher.Instrument { i := ded(); i.Type = ""; return i }(), deductionPolicy, []string{"type"}},
		{"bad currency", func() voucher.Instrument { i := ded(); i.Currency = "usd"; return i }(), deductionPolicy, []string{"currency"}},
		{"negative amount", voucher.Instrument{ID: "c", Type: "coupon", Amount: instAmt("-1")}, discountPolicy, []string{"amount"}},
		{"negative balance", func() voucher.Instrument {
			i := ded()
			i.Balance = voucher.Ptr(instAmt("-1"))
			i.Held = decimal.Zero
			return i
		}(), deductionPolicy, []string{"balance", "held"}}, // held 0 exceeds balance -1
		{"negative held", func() voucher.Instrument { i := ded(); i.Held = instAmt("-1"); return i }(), deductionPolicy, []string{"held"}},
		{"negative min_spend", func() voucher.Instrument { i := disc(); i.MinSpend = voucher.Ptr(instAmt("-1")); return i }(), discountPolicy, []string{"min_spend"}},
		{"negative max_discount", func() voucher.Instrument { i := disc(); i.MaxDiscount = voucher.Ptr(instAmt("-1")); return i }(), discountPolicy, []string{"max_discount"}},
		{"negative percent_off", func() voucher.Instrument { i := disc(); i.PercentOff = voucher.Ptr(instAmt("-1")); return i }(), discountPolicy, []string{"percent_off"}},
		{"percent_off with amount", func() voucher.Instrument { i := disc(); i.Amount = instAmt("5"); return i }(), discountPolicy, []string{"percent_off"}},
		{"percent_off over 100", func() voucher.Instrument { i := disc(); i.PercentOff = voucher.Ptr(instAmt("100.01")); return i }(), discountPolicy, []string{"percent_off"}},
		{"percent_off on a deduction", func() voucher.Instrument {
			i := ded()
			i.PercentOff = voucher.Ptr(instAmt("10"))
			i.Amount, i.Balance, i.Held = decimal.Zero, voucher.Ptr(decimal.Zero), decimal.Zero
			return i
		}(), deductionPolicy, []string{"percent_off", "amount"}}, // a deduction also needs a face value above zero
		{"percent_off on a deduction with a face value", func() voucher.Instrument {
			i := ded()
			i.PercentOff = voucher.Ptr(instAmt("10"))
			return i
		}(), deductionPolicy, []string{"percent_off"}},
		{"max_discount without percent_off", voucher.Instrument{ID: "c", Type: "coupon", Amount: instAmt("5"), MaxDiscount: voucher.Ptr(instAmt("3"))}, discountPolicy, []string{"max_discount"}},
		{"balance above amount", func() voucher.Instrument { i := ded(); i.Balance = voucher.Ptr(instAmt("100.01")); return i }(), deductionPolicy, []string{"balance"}},
		{"held above balance", func() voucher.Instrument { i := ded(); i.Held = instAmt("60.01"); return i }(), deductionPolicy, []string{"held"}},
		{"discount without amount or percent", voucher.Instrument{ID: "c", Type: "coupon"}, discountPolicy, []string{"amount"}},
	}
}

// validateGivenFieldCases: optional fields given as zero (checked as given), fields
// of the other kind, times outside the years 1 to 9999, unknown order and payment types,
// an expiry not after the effective time, codes missing, and every problem at once.
func validateGivenFieldCases() []validateCase {
	ded, disc := validDeduction, validDiscount
	return []validateCase{
		// Given fields are checked as given: zero is not "absent".
		{"zero max_redemptions given", func() voucher.Instrument { i := disc(); i.MaxRedemptions = voucher.Ptr(0); return i }(), discountPolicy, []string{"max_redemptions"}},
		{"zero max_discount given", func() voucher.Instrument { i := disc(); i.MaxDiscount = voucher.Ptr(decimal.Zero); return i }(), discountPolicy, []string{"max_discount"}},
		{"zero percent_off given", func() voucher.Instrument { i := disc(); i.PercentOff = voucher.Ptr(decimal.Zero); return i }(), discountPolicy, []string{"percent_off"}},
		{"zero min_spend given is a threshold of zero", func() voucher.Instrument { i := disc(); i.MinSpend = voucher.Ptr(decimal.Zero); return i }(), discountPolicy, nil},
		{"zero balance given is valid (used up)", func() voucher.Instrument {
			i := ded()
			i.Balance, i.Held = voucher.Ptr(decimal.Zero), decimal.Zero
			return i
		}(), deductionPolicy, nil},
		{"balance on a discount", func() voucher.Instrument { i := disc(); i.Balance = voucher.Ptr(decimal.Zero); return i }(), discountPolicy, []string{"balance"}},
		{"max_redemptions on a deduction", func() voucher.Instrument { i := ded(); i.MaxRedemptions = voucher.Ptr(2); return i }(), deductionPolicy, []string{"max_redemptions"}},
		{"balance finer than the currency", func() voucher.Instrument { i := ded(); i.Balance = voucher.Ptr(instAmt("60.001")); return i }(), deductionPolicy, []string{"balance"}},
		{"issued_at 0001-01-01 given is a time", func() voucher.Instrument { i := ded(); i.IssuedAt = voucher.Ptr(time.Time{}); return i }(), deductionPolicy, nil},
		{"times outside the years 1 to 9999", func() voucher.Instrument {
			i := ded()
			i.IssuedAt = voucher.Ptr(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC))
			i.ClaimedAt = voucher.Ptr(time.Time{}.Add(-time.Nanosecond))
			i.ActivatedAt = voucher.Ptr(time.Date(0, 12, 31, 0, 0, 0, 0, time.UTC))
			return i
		}(), deductionPolicy, []string{"issued_at", "claimed_at", "activated_at"}},
		{"negative max_redemptions", func() voucher.Instrument { i := disc(); i.MaxRedemptions = voucher.Ptr(-1); return i }(), discountPolicy, []string{"max_redemptions"}},
		{"unknown order type", func() voucher.Instrument {
			i := ded()
			i.OrderTypes = []voucher.OrderType{voucher.OrderNew, "purchase"}
			return i
		}(), deductionPolicy, []string{"order_types[1]"}},
		{"unknown payment type", func() voucher.Instrument { i := ded(); i.PaymentTypes = []voucher.PaymentType{"cash"}; return i }(), deductionPolicy, []string{"payment_types[0]"}},
		{"expires_at not after effective_at", func() voucher.Instrument { i := ded(); i.ExpiresAt = i.EffectiveAt; return i }(), deductionPolicy, []string{"expires_at"}},
		{"pending without a code", voucher.Instrument{ID: "g", Type: "voucher", PendingActivation: true, Amount: instAmt("5"), Balance: voucher.Ptr(instAmt("5"))}, deductionPolicy, []string{"status"}},
		{"typed-in type without a code", voucher.Instrument{ID: "p", Type: "promo_code", PercentOff: voucher.Ptr(instAmt("10"))}, promoPolicy, []string{"code"}},
		{"every problem at once", voucher.Instrument{Currency: "x", MaxRedemptions: voucher.Ptr(-1), OrderTypes: []voucher.OrderType{"x"},
			PaymentTypes: []voucher.PaymentType{"y"}, PendingActivation: true}, discountPolicy,
			[]string{"id", "type", "currency", "amount", "max_redemptions", "order_types[0]", "payment_types[0]", "status"}},
	}
}

func TestReasonsAreInCheckOrder(t *testing.T) {
	assert.Equal(t, []voucher.Reason{"not_owner", "used_up", "expired", "pending_activation", "held", "not_yet_effective",
		"currency_mismatch", "order_type", "payment_type", "first_purchase_only", "product_scope", "not_shared", "min_spend",
		"per_order_limit", "not_selected", "nothing_left"}, voucher.Reasons())
}

func TestInstrumentZeroValue(t *testing.T) {
	var in voucher.Instrument
	assert.Equal(t, voucher.StatusUsedUp, in.StatusAt(deductionPolicy, instAt), "a deduction with no balance is used up")
	assert.Equal(t, voucher.StatusAvailable, in.StatusAt(discountPolicy, instAt))
	assert.Nil(t, in.ExpiresOn(discountPolicy))
	assert.Nil(t, in.EffectiveFrom(creditPolicy))
	assert.Error(t, in.Validate(deductionPolicy, voucher.MustCurrency("CNY")))
}
