package rules_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/voucherkit/voucherkit/providers"
	"github.com/voucherkit/voucherkit/rules"
	"github.com/voucherkit/voucherkit/voucher"
)

// These tests check the engine against shared/spec/scenarios.md ("How an order is
// priced", "Errors", and the built-in rule sets). Small inline rule sets isolate one
// rule at a time; the built-in rule sets are used where the spec names them.

// buyerAcct is the account of every test order unless a test says otherwise.
const buyerAcct = "acct-1"

// cstZone is Asia/Shanghai, the zone of the aliyun rule set and of genericRules.
var cstZone = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return loc
}()

// pricedAt is the clock of every test quote unless a test says otherwise.
var pricedAt = time.Date(2026, 3, 2, 10, 0, 0, 0, cstZone)

// genericRules is a neutral rule set: a discount stage, then a deduction stage; every
// order type and payment type by default, never first-purchase-only, proportional
// allocation, never covering marketplace. coupon and voucher allow one per order;
// multi (discount) and gift (deduction, invoiceable) have no per-order limit.
const genericRules = `
name: generic
version: "t"
currency: CNY
scale: 2
rounding: half_away_from_zero
time_zone: Asia/Shanghai
never_covers: [marketplace]
stages:
  - {name: coupons, kind: discount}
  - {name: vouchers, kind: deduction}
types:
  coupon:
    stage: coupons
    per_order_limit: 1
    selection: [discount_desc]
  multi:
    stage: coupons
    selection: [discount_desc]
  voucher:
    stage: vouchers
    per_order_limit: 1
    selection: [balance_desc]
  gift:
    stage: vouchers
    selection: [balance_desc]
    invoiceable: true
`

func amt(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// engineOf parses an inline rule set and compiles it.
func engineOf(t testing.TB, src string) *rules.Engine {
	t.Helper()
	rs, err := rules.Parse(t.Name()+".yaml", []byte(src))
	require.NoError(t, err)
	e, err := rules.NewEngine(rs)
	require.NoError(t, err)
	return e
}

// builtinEngine compiles a built-in rule set (aliyun, aws).
func builtinEngine(t testing.TB, name string) *rules.Engine {
	t.Helper()
	rs, err := providers.Load(name)
	require.NoError(t, err)
	e, err := rules.NewEngine(rs)
	require.NoError(t, err)
	return e
}

func itemOf(id, product, amount string) voucher.Line {
	return voucher.Line{ID: id, Product: product, Amount: amt(amount)}
}

// orderOf is a new subscription order of buyerAcct, selecting automatically.
func orderOf(lines ...voucher.Line) voucher.Order {
	return voucher.Order{ID: "o1", Account: buyerAcct, Type: voucher.OrderNew, Payment: voucher.PaySubscription, Lines: lines}
}

// usageOrderOf is a pay-as-you-go usage bill of buyerAcct (aws).
func usageOrderOf(lines ...voucher.Line) voucher.Order {
	return voucher.Order{ID: "bill", Account: buyerAcct, Type: voucher.OrderUsage, Payment: voucher.PayAsYouGo, Lines: lines}
}

// deductionOf is a deduction instrument of buyerAcct with amount = balance.
func deductionOf(typ, id, balance string) voucher.Instrument {
	return voucher.Instrument{ID: id, Type: typ, Account: buyerAcct, Amount: amt(balance), Balance: voucher.Ptr(amt(balance))}
}

// fixedOf is a fixed-amount discount instrument of buyerAcct.
func fixedOf(typ, id, amount string) voucher.Instrument {
	return voucher.Instrument{ID: id, Type: typ, Account: buyerAcct, Amount: amt(amount)}
}

// percentOf is a percentage discount instrument of buyerAcct.
func percentOf(typ, id, percent string) voucher.Instrument {
	return voucher.Instrument{ID: id, Type: typ, Account: buyerAcct, PercentOff: voucher.Ptr(amt(percent))}
}

// changed returns in after f has changed it.
func changed(in voucher.Instrument, f func(*voucher.Instrument)) voucher.Instrument {
	f(&in)
	return in
}

func boolRef(b bool) *bool { return &b }

// quoteOK prices and checks the spec's invariants on the result.
func quoteOK(t testing.TB, e *rules.Engine, o voucher.Order, insts []voucher.Instrument, at time.Time) *voucher.Quote {
	t.Helper()
	q, err := e.Quote(o, insts, at)
	require.NoError(t, err)
	require.NotNil(t, q)
	assertQuoteBalanced(t, q)
	return q
}

// normAmount writes an amount canonically so that "300" and "300.00" compare equal.
func normAmount(s string) string { return amt(s).String() }

// appliedAmounts is {key: amount} of every application, amounts canonical.
func appliedAmounts(q *voucher.Quote) map[string]string {
	m := make(map[string]string, len(q.Applications))
	for _, a := range q.Applications {
		m[a.Key] = a.Amount.Amount().String()
	}
	return m
}

// amounts canonicalises an expected {key: amount} map.
func amounts(kv ...string) map[string]string {
	m := make(map[string]string, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = normAmount(kv[i+1])
	}
	return m
}

// rejectionReasons is {key: reason} of every rejection.
func rejectionReasons(q *voucher.Quote) map[string]voucher.Reason {
	m := make(map[string]voucher.Reason, len(q.Rejections))
	for _, r := range q.Rejections {
		m[r.Key] = r.Reason
	}
	return m
}

// assertAmount compares money as decimals: "300" equals "300.00".
func assertAmount(t testing.TB, want string, got voucher.Money, msgAndArgs ...any) {
	t.Helper()
	if !amt(want).Equal(got.Amount()) {
		msg := fmt.Sprintf("want %s, got %s", want, got.Format())
		if len(msgAndArgs) > 0 {
			msg = fmt.Sprintf(msgAndArgs[0].(string), msgAndArgs[1:]...) + ": " + msg
		}
		t.Error(msg)
	}
}

// assertFigures checks the figures named in want ("total", "discount", "deducted", "cash",
// "invoiceable", "non_invoiceable").
func assertFigures(t testing.TB, where string, f voucher.Figures, want map[string]string) {
	t.Helper()
	got := map[string]voucher.Money{"total": f.Total, "discount": f.Discount, "deducted": f.Deducted,
		"cash": f.Cash, "invoiceable": f.Invoiceable, "non_invoiceable": f.NonInvoiceable}
	for k, v := range want {
		m, ok := got[k]
		require.True(t, ok, "unknown figure %q", k)
		assertAmount(t, v, m, "%s %s", where, k)
	}
}

// lineFigures checks the figures of line id.
func lineFigures(t testing.TB, q *voucher.Quote, id string, want map[string]string) {
	t.Helper()
	l, ok := q.Line(id)
	require.True(t, ok, "line %s", id)
	assertFigures(t, "line "+id, l.Figures, want)
}

// splitOf is an application's per-line split, {line: amount} canonical, zero shares left out.
func splitOf(t testing.TB, q *voucher.Quote, key string) map[string]string {
	t.Helper()
	a, ok := q.Applied(key)
	require.True(t, ok, "%s did not apply; rejected: %v", key, rejectionReasons(q))
	m := map[string]string{}
	for _, l := range a.Lines {
		if !l.Amount.IsZero() {
			m[l.LineID] = l.Amount.Amount().String()
		}
	}
	return m
}

// assertQuoteBalanced checks what the spec says always holds: total = discount +
// deducted + cash and total − discount = invoiceable + non-invoiceable, per line and per
// order, exactly; nothing negative; lines add up to the order; each application's split
// adds up to its amount, and the applications of each kind add up to the figures.
func assertQuoteBalanced(t testing.TB, q *voucher.Quote) {
	t.Helper()
	check := func(where string, f voucher.Figures) {
		if !f.Discount.Amount().Add(f.Deducted.Amount()).Add(f.Cash.Amount()).Equal(f.Total.Amount()) {
			t.Errorf("%s: discount %s + deducted %s + cash %s != total %s", where, f.Discount.Format(), f.Deducted.Format(), f.Cash.Format(), f.Total.Format())
		}
		if !f.Invoiceable.Amount().Add(f.NonInvoiceable.Amount()).Equal(f.Total.Amount().Sub(f.Discount.Amount())) {
			t.Errorf("%s: invoiceable %s + non-invoiceable %s != total %s - discount %s", where, f.Invoiceable.Format(), f.NonInvoiceable.Format(), f.Total.Format(), f.Discount.Format())
		}
		for name, m := range map[string]voucher.Money{"total": f.Total, "discount": f.Discount, "deducted": f.Deducted,
			"cash": f.Cash, "invoiceable": f.Invoiceable, "non_invoiceable": f.NonInvoiceable} {
			if m.IsNegative() {
				t.Errorf("%s: %s is negative: %s", where, name, m.Format())
			}
		}
	}
	check("order", q.Figures)
	var sum [6]decimal.Decimal
	lineDisc := map[string]decimal.Decimal{}
	lineDed := map[string]decimal.Decimal{}
	for _, l := range q.Lines {
		check("line "+l.LineID, l.Figures)
		for k, m := range []voucher.Money{l.Total, l.Discount, l.Deducted, l.Cash, l.Invoiceable, l.NonInvoiceable} {
			sum[k] = sum[k].Add(m.Amount())
		}
	}
	for k, m := range []voucher.Money{q.Total, q.Discount, q.Deducted, q.Cash, q.Invoiceable, q.NonInvoiceable} {
		if !sum[k].Equal(m.Amount()) {
			t.Errorf("figure %d: lines add up to %s, order says %s", k, sum[k], m.Format())
		}
	}
	var disc, ded decimal.Decimal
	for _, a := range q.Applications {
		var s decimal.Decimal
		for _, l := range a.Lines {
			if l.Amount.IsNegative() {
				t.Errorf("%s: negative share %s on %s", a.Key, l.Amount.Format(), l.LineID)
			}
			s = s.Add(l.Amount.Amount())
			if a.Kind == voucher.Discount {
				lineDisc[l.LineID] = lineDisc[l.LineID].Add(l.Amount.Amount())
			} else {
				lineDed[l.LineID] = lineDed[l.LineID].Add(l.Amount.Amount())
			}
		}
		if !s.Equal(a.Amount.Amount()) {
			t.Errorf("%s: split adds up to %s, amount is %s", a.Key, s, a.Amount.Format())
		}
		if a.Amount.Sign() <= 0 {
			t.Errorf("%s applied with %s: an instrument that takes nothing is rejected nothing_left", a.Key, a.Amount.Format())
		}
		if a.Kind == voucher.Discount {
			disc = disc.Add(a.Amount.Amount())
		} else {
			ded = ded.Add(a.Amount.Amount())
		}
	}
	if !disc.Equal(q.Discount.Amount()) || !ded.Equal(q.Deducted.Amount()) {
		t.Errorf("applications add up to discount %s, deducted %s; figures say %s, %s", disc, ded, q.Discount.Format(), q.Deducted.Format())
	}
	for _, l := range q.Lines {
		if !lineDisc[l.LineID].Equal(l.Discount.Amount()) || !lineDed[l.LineID].Equal(l.Deducted.Amount()) {
			t.Errorf("line %s: applications give discount %s, deducted %s; line says %s, %s", l.LineID,
				lineDisc[l.LineID], lineDed[l.LineID], l.Discount.Format(), l.Deducted.Format())
		}
	}
}

// ---------------------------------------------------------------------------------
// Rejection reasons

// rejectionCase prices one order and checks one instrument's fate.
type rejectionCase struct {
	name   string
	rules  string // "" means genericRules
	order  func(*voucher.Order)
	lines  []voucher.Line // nil means one ecs line of 100
	wallet []voucher.Instrument
	use    []string // nil: automatic selection
	at     time.Time
	key    string
	// want is the rejection reason; "" means the instrument applies and takes wantTake.
	want     voucher.Reason
	wantTake string
	hint     []string // substrings of the hint
	detail   []string // substrings of the detail
	notHint  []string // substrings the hint must not contain
}

func runRejectionCases(t *testing.T, cases []rejectionCase) {
	t.Helper()
	engines := map[string]*rules.Engine{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := tc.rules
			if src == "" {
				src = genericRules
			}
			e, ok := engines[src]
			if !ok {
				e = engineOf(t, src)
				engines[src] = e
			}
			lines := tc.lines
			if lines == nil {
				lines = []voucher.Line{itemOf("l1", "ecs", "100")}
			}
			o := orderOf(lines...)
			o.Use = tc.use
			if tc.order != nil {
				tc.order(&o)
			}
			at := tc.at
			if at.IsZero() {
				at = pricedAt
			}
			q := quoteOK(t, e, o, tc.wallet, at)
			if tc.want == "" {
				_, rejected := q.Rejected(tc.key)
				require.False(t, rejected, "%s rejected: %v", tc.key, rejectionReasons(q))
				a, ok := q.Applied(tc.key)
				require.True(t, ok, "%s did not apply", tc.key)
				assertAmount(t, tc.wantTake, a.Amount, "%s took", tc.key)
				return
			}
			_, applied := q.Applied(tc.key)
			assert.False(t, applied, "%s must not apply", tc.key)
			r, ok := q.Rejected(tc.key)
			require.True(t, ok, "%s is not rejected; rejected: %v, applied: %v", tc.key, rejectionReasons(q), appliedAmounts(q))
			assert.Equal(t, tc.want, r.Reason, "detail: %s", r.Detail)
			for _, h := range tc.hint {
				assert.Contains(t, r.Hint, h, "hint")
			}
			for _, h := range tc.notHint {
				assert.NotContains(t, r.Hint, h, "hint")
			}
			for _, d := range tc.detail {
				assert.Contains(t, r.Detail, d, "detail")
			}
		})
	}
}

// TestRejectionReasons checks every rejection reason, and the boundary just short of
// each, one instrument at a time. The cases are grouped below by what they check; each
// keeps its own subtest name.
func TestRejectionReasons(t *testing.T) {
	runRejectionCases(t, slices.Concat(
		ownerAndUseRejections(),
		expiryRejections(t),
		activationAndHoldRejections(t),
		orderFitRejections(t),
		scopeAndSpendRejections(),
		stackingRejections(),
	))
}

// rejVoucher is a voucher (a deduction) with the given balance, and rejCoupon a coupon
// (a fixed discount) of the given amount: what most rejection cases start from.
func rejVoucher(id, balance string) voucher.Instrument { return deductionOf("voucher", id, balance) }

func rejCoupon(id, amount string) voucher.Instrument { return fixedOf("coupon", id, amount) }

// ownerAndUseRejections: another account's instrument (not_owner), and instruments
// with no balance or redemption left (used_up), against one with a redemption left.
func ownerAndUseRejections() []rejectionCase {
	v, c := rejVoucher, rejCoupon
	return []rejectionCase{
		{name: "not_owner: another account's voucher named in use", key: "v",
			wallet: []voucher.Instrument{changed(v("v", "50"), func(i *voucher.Instrument) { i.Account = "acct-2" })},
			use:    []string{"v"}, want: voucher.ReasonNotOwner},
		{name: "used_up: deduction with zero balance", key: "v",
			wallet: []voucher.Instrument{changed(v("v", "50"), func(i *voucher.Instrument) { i.Balance = voucher.Ptr(decimal.Zero) })},
			use:    []string{"v"}, want: voucher.ReasonUsedUp},
		{name: "used_up: discount with every redemption used", key: "c",
			wallet: []voucher.Instrument{changed(c("c", "10"), func(i *voucher.Instrument) { i.MaxRedemptions = voucher.Ptr(2); i.Redeemed = 2 })},
			use:    []string{"c"}, want: voucher.ReasonUsedUp},
		{name: "used_up: single-use discount redeemed once", key: "c",
			wallet: []voucher.Instrument{changed(c("c", "10"), func(i *voucher.Instrument) { i.Redeemed = 1 })},
			use:    []string{"c"}, want: voucher.ReasonUsedUp},
		{name: "not used_up: discount with one of two redemptions left", key: "c",
			wallet: []voucher.Instrument{changed(c("c", "10"), func(i *voucher.Instrument) { i.MaxRedemptions = voucher.Ptr(2); i.Redeemed = 1 })},
			use:    []string{"c"}, wantTake: "10"},
	}
}

// expiryRejections: expired at expires_at (in any zone) or at the end of the aliyun
// coupon's validity after its claim, and not one nanosecond before; expires_at wins
// over the claim period.
func expiryRejections(t *testing.T) []rejectionCase {
	v := rejVoucher
	return []rejectionCase{
		{name: "expired: at == expires_at", key: "v",
			wallet: []voucher.Instrument{changed(v("v", "50"), func(i *voucher.Instrument) { i.ExpiresAt = voucher.Ptr(pricedAt) })},
			use:    []string{"v"}, want: voucher.ReasonExpired},
		{name: "not expired: one nanosecond before expires_at", key: "v",
			wallet: []voucher.Instrument{changed(v("v", "50"), func(i *voucher.Instrument) { i.ExpiresAt = voucher.Ptr(pricedAt.Add(time.Nanosecond)) })},
			use:    []string{"v"}, wantTake: "50"},
		{name: "expired: expires_at in another zone, same instant", key: "v",
			wallet: []voucher.Instrument{changed(v("v", "50"), func(i *voucher.Instrument) { i.ExpiresAt = voucher.Ptr(pricedAt.UTC()) })},
			use:    []string{"v"}, want: voucher.ReasonExpired},
		{name: "expired: a coupon 30 days after its claim (aliyun validity after claim)", key: "c", rules: aliyunSource(t),
			order: func(o *voucher.Order) { o.FirstPurchase = true },
			wallet: []voucher.Instrument{changed(fixedOf("coupon", "c", "10"), func(i *voucher.Instrument) {
				i.ClaimedAt = voucher.Ptr(pricedAt.Add(-30 * 24 * time.Hour))
			})},
			use: []string{"c"}, want: voucher.ReasonExpired},
		{name: "not expired: a coupon one nanosecond short of 30 days after its claim", key: "c", rules: aliyunSource(t),
			order: func(o *voucher.Order) { o.FirstPurchase = true },
			wallet: []voucher.Instrument{changed(fixedOf("coupon", "c", "10"), func(i *voucher.Instrument) {
				i.ClaimedAt = voucher.Ptr(pricedAt.Add(-30*24*time.Hour + time.Nanosecond))
			})},
			use: []string{"c"}, wantTake: "10"},
		{name: "not expired: expires_at wins over the claim period", key: "c", rules: aliyunSource(t),
			order: func(o *voucher.Order) { o.FirstPurchase = true },
			wallet: []voucher.Instrument{changed(fixedOf("coupon", "c", "10"), func(i *voucher.Instrument) {
				i.ClaimedAt = voucher.Ptr(pricedAt.Add(-60 * 24 * time.Hour))
				i.ExpiresAt = voucher.Ptr(pricedAt.Add(time.Hour))
			})},
			use: []string{"c"}, wantTake: "10"},
	}
}

// activationAndHoldRejections: not yet effective (an aws credit before its activation,
// an instrument before effective_at), pending activation, and held (the whole balance or
// every remaining redemption held by other orders), each against its boundary.
func activationAndHoldRejections(t *testing.T) []rejectionCase {
	v, c := rejVoucher, rejCoupon
	return []rejectionCase{
		{name: "not_yet_effective: an aws credit activated after the charge", key: "c", rules: awsSource(t),
			order:  func(o *voucher.Order) { o.Type, o.Payment = voucher.OrderUsage, voucher.PayAsYouGo },
			wallet: []voucher.Instrument{changed(deductionOf("credit", "c", "25"), func(i *voucher.Instrument) { i.ActivatedAt = voucher.Ptr(pricedAt.Add(time.Nanosecond)) })},
			use:    []string{"c"}, want: voucher.ReasonNotYetEffective},
		{name: "effective: an aws credit from the moment of its activation", key: "c", rules: awsSource(t),
			order:  func(o *voucher.Order) { o.Type, o.Payment = voucher.OrderUsage, voucher.PayAsYouGo },
			wallet: []voucher.Instrument{changed(deductionOf("credit", "c", "25"), func(i *voucher.Instrument) { i.ActivatedAt = voucher.Ptr(pricedAt) })},
			use:    []string{"c"}, wantTake: "25"},
		{name: "pending_activation: untargeted voucher named in use", key: "gift",
			wallet: []voucher.Instrument{changed(v("gift", "50"), func(i *voucher.Instrument) {
				i.Account, i.Code, i.PendingActivation = "", "Q-7F3A91", true
			})},
			use: []string{"gift"}, want: voucher.ReasonPendingActivation},
		{name: "held: whole balance held by other orders", key: "v",
			wallet: []voucher.Instrument{changed(v("v", "50"), func(i *voucher.Instrument) { i.Held = amt("50") })},
			use:    []string{"v"}, want: voucher.ReasonHeld},
		{name: "not held: part of the balance held, the rest applies", key: "v",
			wallet: []voucher.Instrument{changed(v("v", "50"), func(i *voucher.Instrument) { i.Held = amt("30") })},
			use:    []string{"v"}, wantTake: "20"},
		{name: "held: every remaining redemption held", key: "c",
			wallet: []voucher.Instrument{changed(c("c", "10"), func(i *voucher.Instrument) { i.MaxRedemptions = voucher.Ptr(3); i.Redeemed = 1; i.HeldRedemptions = 2 })},
			use:    []string{"c"}, want: voucher.ReasonHeld},
		{name: "not held: one redemption of three neither used nor held", key: "c",
			wallet: []voucher.Instrument{changed(c("c", "10"), func(i *voucher.Instrument) { i.MaxRedemptions = voucher.Ptr(3); i.Redeemed = 1; i.HeldRedemptions = 1 })},
			use:    []string{"c"}, wantTake: "10"},
		{name: "not_yet_effective: one nanosecond before effective_at", key: "v",
			wallet: []voucher.Instrument{changed(v("v", "50"), func(i *voucher.Instrument) { i.EffectiveAt = voucher.Ptr(pricedAt.Add(time.Nanosecond)) })},
			use:    []string{"v"}, want: voucher.ReasonNotYetEffective},
		{name: "effective: at == effective_at", key: "v",
			wallet: []voucher.Instrument{changed(v("v", "50"), func(i *voucher.Instrument) { i.EffectiveAt = voucher.Ptr(pricedAt) })},
			use:    []string{"v"}, wantTake: "50"},
	}
}

// orderFitRejections: whether the instrument fits the order: its currency, the order
// and payment types, and first_purchase_only (the instrument's, or its type's default).
func orderFitRejections(t *testing.T) []rejectionCase {
	v, c := rejVoucher, rejCoupon
	first := boolRef(true)
	return []rejectionCase{
		{name: "currency_mismatch: USD voucher on a CNY order", key: "v",
			wallet: []voucher.Instrument{changed(v("v", "50"), func(i *voucher.Instrument) { i.Currency = "USD" })},
			use:    []string{"v"}, want: voucher.ReasonCurrencyMismatch},
		{name: "same currency spelled out applies", key: "v",
			wallet: []voucher.Instrument{changed(v("v", "50"), func(i *voucher.Instrument) { i.Currency = "CNY" })},
			use:    []string{"v"}, wantTake: "50"},
		{name: "order_type: renewal with a new/upgrade coupon; hint lists the qualifying types", key: "c",
			order: func(o *voucher.Order) { o.Type = voucher.OrderRenewal },
			wallet: []voucher.Instrument{changed(c("c", "10"), func(i *voucher.Instrument) {
				i.OrderTypes = []voucher.OrderType{voucher.OrderNew, voucher.OrderUpgrade}
			})},
			use: []string{"c"}, want: voucher.ReasonOrderType, hint: []string{"new", "upgrade"}, notHint: []string{"renewal", "usage"}},
		{name: "payment_type: pay-as-you-go with a subscription-only coupon", key: "c",
			order: func(o *voucher.Order) { o.Payment = voucher.PayAsYouGo },
			wallet: []voucher.Instrument{changed(c("c", "10"), func(i *voucher.Instrument) {
				i.PaymentTypes = []voucher.PaymentType{voucher.PaySubscription}
			})},
			use: []string{"c"}, want: voucher.ReasonPaymentType},
		{name: "first_purchase_only: new order without first_purchase", key: "c",
			wallet: []voucher.Instrument{changed(c("c", "10"), func(i *voucher.Instrument) { i.FirstPurchaseOnly = first })},
			use:    []string{"c"}, want: voucher.ReasonFirstPurchaseOnly},
		{name: "first_purchase_only: new order with first_purchase applies", key: "c",
			order:  func(o *voucher.Order) { o.FirstPurchase = true },
			wallet: []voucher.Instrument{changed(c("c", "10"), func(i *voucher.Instrument) { i.FirstPurchaseOnly = first })},
			use:    []string{"c"}, wantTake: "10"},
		{name: "first_purchase_only: upgrade applies", key: "c",
			order:  func(o *voucher.Order) { o.Type = voucher.OrderUpgrade },
			wallet: []voucher.Instrument{changed(c("c", "10"), func(i *voucher.Instrument) { i.FirstPurchaseOnly = first })},
			use:    []string{"c"}, wantTake: "10"},
		{name: "first_purchase_only: renewal rejected although order_types allows renewal", key: "c",
			order: func(o *voucher.Order) { o.Type = voucher.OrderRenewal; o.FirstPurchase = true },
			wallet: []voucher.Instrument{changed(c("c", "10"), func(i *voucher.Instrument) {
				i.FirstPurchaseOnly = first
				i.OrderTypes = []voucher.OrderType{voucher.OrderNew, voucher.OrderRenewal, voucher.OrderUpgrade}
			})},
			use: []string{"c"}, want: voucher.ReasonFirstPurchaseOnly},
		{name: "first_purchase_only false on the instrument overrides a first-purchase-only type", key: "c",
			rules: aliyunSource(t),
			order: func(o *voucher.Order) { o.FirstPurchase = false },
			wallet: []voucher.Instrument{changed(fixedOf("coupon", "c", "10"), func(i *voucher.Instrument) {
				i.FirstPurchaseOnly = boolRef(false)
			})},
			use: []string{"c"}, wantTake: "10"},
		{name: "first_purchase_only: the type's default applies when the instrument does not say", key: "c",
			rules:  aliyunSource(t),
			wallet: []voucher.Instrument{fixedOf("coupon", "c", "10")},
			use:    []string{"c"}, want: voucher.ReasonFirstPurchaseOnly},
	}
}

// scopeAndSpendRejections: product_scope (products, exclude_products, never-covered
// products) and min_spend (in-scope lines only, after what earlier instruments took).
func scopeAndSpendRejections() []rejectionCase {
	v, c := rejVoucher, rejCoupon
	return []rejectionCase{
		{name: "product_scope: no line in products", key: "v",
			wallet: []voucher.Instrument{changed(v("v", "50"), func(i *voucher.Instrument) { i.Products = []string{"rds"} })},
			use:    []string{"v"}, want: voucher.ReasonProductScope},
		{name: "product_scope: the only line is in exclude_products", key: "v",
			wallet: []voucher.Instrument{changed(v("v", "50"), func(i *voucher.Instrument) { i.ExcludeProducts = []string{"ecs"} })},
			use:    []string{"v"}, want: voucher.ReasonProductScope},
		{name: "product_scope: products lists it but exclude_products takes it out", key: "v",
			wallet: []voucher.Instrument{changed(v("v", "50"), func(i *voucher.Instrument) {
				i.Products = []string{"ecs", "rds"}
				i.ExcludeProducts = []string{"ecs"}
			})},
			use: []string{"v"}, want: voucher.ReasonProductScope},
		{name: "product_scope: unscoped voucher on a never-covered product", key: "v",
			lines:  []voucher.Line{itemOf("mp", "marketplace", "100")},
			wallet: []voucher.Instrument{v("v", "50")},
			use:    []string{"v"}, want: voucher.ReasonProductScope},
		{name: "product_scope: never-covered product even when products names it", key: "v",
			lines:  []voucher.Line{itemOf("mp", "marketplace", "100")},
			wallet: []voucher.Instrument{changed(v("v", "50"), func(i *voucher.Instrument) { i.Products = []string{"marketplace"} })},
			use:    []string{"v"}, want: voucher.ReasonProductScope},
		{name: "min_spend: 0.01 short; hint says spend 0.01 more", key: "c",
			wallet: []voucher.Instrument{changed(c("c", "10"), func(i *voucher.Instrument) { i.MinSpend = voucher.Ptr(amt("100.01")) })},
			use:    []string{"c"}, want: voucher.ReasonMinSpend, hint: []string{"0.01"}, detail: []string{"100.01", "100.00"}},
		{name: "min_spend: exactly reached applies", key: "c",
			wallet: []voucher.Instrument{changed(c("c", "10"), func(i *voucher.Instrument) { i.MinSpend = voucher.Ptr(amt("100")) })},
			use:    []string{"c"}, wantTake: "10"},
		{name: "min_spend: counts in-scope lines only", key: "c",
			lines: []voucher.Line{itemOf("l1", "ecs", "60"), itemOf("l2", "rds", "50")},
			wallet: []voucher.Instrument{changed(c("c", "10"), func(i *voucher.Instrument) {
				i.MinSpend = voucher.Ptr(amt("100"))
				i.Products = []string{"ecs"}
			})},
			use: []string{"c"}, want: voucher.ReasonMinSpend, hint: []string{"40.00"}},
		{name: "min_spend: after an earlier stage took its part", key: "v",
			wallet: []voucher.Instrument{c("c", "10"), changed(v("v", "50"), func(i *voucher.Instrument) { i.MinSpend = voucher.Ptr(amt("100")) })},
			use:    []string{"c", "v"}, want: voucher.ReasonMinSpend, hint: []string{"10.00"}},
		{name: "min_spend: after an earlier instrument of the same stage", key: "m2",
			wallet: []voucher.Instrument{fixedOf("multi", "m1", "10"), changed(fixedOf("multi", "m2", "10"), func(i *voucher.Instrument) { i.MinSpend = voucher.Ptr(amt("95")) })},
			use:    []string{"m1", "m2"}, want: voucher.ReasonMinSpend, hint: []string{"5.00"}},
		{name: "min_spend: same stage, order of use matters", key: "m2",
			wallet: []voucher.Instrument{fixedOf("multi", "m1", "10"), changed(fixedOf("multi", "m2", "10"), func(i *voucher.Instrument) { i.MinSpend = voucher.Ptr(amt("95")) })},
			use:    []string{"m2", "m1"}, wantTake: "10"},
	}
}

// stackingRejections: what other instruments of the order leave: per_order_limit,
// not_selected, and nothing_left (paid in full, or rounded to zero).
func stackingRejections() []rejectionCase {
	v, c := rejVoucher, rejCoupon
	return []rejectionCase{
		{name: "per_order_limit: second voucher named in use", key: "v2",
			wallet: []voucher.Instrument{v("v1", "10"), v("v2", "10")},
			use:    []string{"v1", "v2"}, want: voucher.ReasonPerOrderLimit},
		{name: "per_order_limit: first named in use wins even if smaller", key: "v1",
			wallet: []voucher.Instrument{v("v1", "10"), v("v2", "90")},
			use:    []string{"v1", "v2"}, wantTake: "10"},
		{name: "not_selected: automatic selection past the limit", key: "small",
			wallet: []voucher.Instrument{v("small", "10"), v("large", "90")},
			want:   voucher.ReasonNotSelected},
		{name: "nothing_left: deduction after the order is paid in full", key: "g2",
			wallet: []voucher.Instrument{deductionOf("gift", "g1", "100"), deductionOf("gift", "g2", "10")},
			use:    []string{"g1", "g2"}, want: voucher.ReasonNothingLeft},
		{name: "nothing_left: a 100 % coupon left nothing for the voucher", key: "v",
			wallet: []voucher.Instrument{percentOf("coupon", "c", "100"), v("v", "10")},
			use:    []string{"c", "v"}, want: voucher.ReasonNothingLeft},
		{name: "nothing_left: in-scope line paid, other line not", key: "v",
			lines: []voucher.Line{itemOf("l1", "ecs", "50"), itemOf("l2", "rds", "50")},
			wallet: []voucher.Instrument{changed(c("c", "50"), func(i *voucher.Instrument) { i.Products = []string{"ecs"} }),
				changed(v("v", "10"), func(i *voucher.Instrument) { i.Products = []string{"ecs"} })},
			use: []string{"c", "v"}, want: voucher.ReasonNothingLeft},
		{name: "nothing_left: in-scope line of zero", key: "v",
			lines:  []voucher.Line{itemOf("l1", "ecs", "0")},
			wallet: []voucher.Instrument{v("v", "10")},
			use:    []string{"v"}, want: voucher.ReasonNothingLeft},
		{name: "nothing_left: 1 % of 0.40 rounds to zero", key: "c",
			lines:  []voucher.Line{itemOf("l1", "ecs", "0.40")},
			wallet: []voucher.Instrument{percentOf("coupon", "c", "1")},
			use:    []string{"c"}, want: voucher.ReasonNothingLeft},
		{name: "not nothing_left: 1 % of 0.50 rounds half away from zero to 0.01", key: "c",
			lines:  []voucher.Line{itemOf("l1", "ecs", "0.50")},
			wallet: []voucher.Instrument{percentOf("coupon", "c", "1")},
			use:    []string{"c"}, wantTake: "0.01"},
	}
}

// aliyunSource is the built-in aliyun rule set's text.
func aliyunSource(t testing.TB) string {
	t.Helper()
	b, err := providers.Source("aliyun")
	require.NoError(t, err)
	return string(b)
}

// awsSource is the built-in aws rule set's text.
func awsSource(t testing.TB) string {
	t.Helper()
	b, err := providers.Source("aws")
	require.NoError(t, err)
	return string(b)
}

// When an instrument fails several checks, the first check in the spec's order is its
// reason. Each row fails two adjacent checks (or a check and a later step).
func TestRejectionCheckOrder(t *testing.T) {
	v := func(id string, f func(*voucher.Instrument)) voucher.Instrument {
		return changed(deductionOf("voucher", id, "50"), f)
	}
	past := pricedAt.Add(-time.Hour)
	future := pricedAt.Add(time.Hour)
	runRejectionCases(t, []rejectionCase{
		{name: "not_owner before used_up", key: "v", use: []string{"v"}, want: voucher.ReasonNotOwner,
			wallet: []voucher.Instrument{v("v", func(i *voucher.Instrument) { i.Account = "acct-2"; i.Balance = voucher.Ptr(decimal.Zero) })}},
		{name: "not_owner before expired", key: "v", use: []string{"v"}, want: voucher.ReasonNotOwner,
			wallet: []voucher.Instrument{v("v", func(i *voucher.Instrument) { i.Account = "acct-2"; i.ExpiresAt = voucher.Ptr(past) })}},
		{name: "used_up before expired", key: "v", use: []string{"v"}, want: voucher.ReasonUsedUp,
			wallet: []voucher.Instrument{v("v", func(i *voucher.Instrument) { i.Balance = voucher.Ptr(decimal.Zero); i.ExpiresAt = voucher.Ptr(past) })}},
		{name: "expired before pending_activation", key: "v", use: []string{"v"}, want: voucher.ReasonExpired,
			wallet: []voucher.Instrument{v("v", func(i *voucher.Instrument) {
				i.Account, i.Code, i.PendingActivation, i.ExpiresAt = "", "Q-1", true, voucher.Ptr(past)
			})}},
		{name: "expired before wrong order type", key: "v", use: []string{"v"}, want: voucher.ReasonExpired,
			wallet: []voucher.Instrument{v("v", func(i *voucher.Instrument) {
				i.ExpiresAt = voucher.Ptr(past)
				i.OrderTypes = []voucher.OrderType{voucher.OrderRenewal}
			})}},
		{name: "pending_activation before held", key: "v", use: []string{"v"}, want: voucher.ReasonPendingActivation,
			wallet: []voucher.Instrument{v("v", func(i *voucher.Instrument) {
				i.Account, i.Code, i.PendingActivation, i.Held = "", "Q-1", true, amt("50")
			})}},
		{name: "held before not_yet_effective", key: "v", use: []string{"v"}, want: voucher.ReasonHeld,
			wallet: []voucher.Instrument{v("v", func(i *voucher.Instrument) { i.Held = amt("50"); i.EffectiveAt = voucher.Ptr(future) })}},
		{name: "not_yet_effective before currency_mismatch", key: "v", use: []string{"v"}, want: voucher.ReasonNotYetEffective,
			wallet: []voucher.Instrument{v("v", func(i *voucher.Instrument) { i.EffectiveAt = voucher.Ptr(future); i.Currency = "USD" })}},
		{name: "currency_mismatch before order_type", key: "v", use: []string{"v"}, want: voucher.ReasonCurrencyMismatch,
			wallet: []voucher.Instrument{v("v", func(i *voucher.Instrument) {
				i.Currency = "USD"
				i.OrderTypes = []voucher.OrderType{voucher.OrderRenewal}
			})}},
		{name: "order_type before payment_type", key: "v", use: []string{"v"}, want: voucher.ReasonOrderType,
			wallet: []voucher.Instrument{v("v", func(i *voucher.Instrument) {
				i.OrderTypes = []voucher.OrderType{voucher.OrderRenewal}
				i.PaymentTypes = []voucher.PaymentType{voucher.PayAsYouGo}
			})}},
		{name: "payment_type before first_purchase_only", key: "v", use: []string{"v"}, want: voucher.ReasonPaymentType,
			wallet: []voucher.Instrument{v("v", func(i *voucher.Instrument) {
				i.PaymentTypes = []voucher.PaymentType{voucher.PayAsYouGo}
				i.FirstPurchaseOnly = boolRef(true)
			})}},
		{name: "first_purchase_only before product_scope", key: "v", use: []string{"v"}, want: voucher.ReasonFirstPurchaseOnly,
			wallet: []voucher.Instrument{v("v", func(i *voucher.Instrument) {
				i.FirstPurchaseOnly = boolRef(true)
				i.Products = []string{"rds"}
			})}},
		{name: "product_scope before min_spend", key: "v", use: []string{"v"}, want: voucher.ReasonProductScope,
			wallet: []voucher.Instrument{v("v", func(i *voucher.Instrument) { i.Products = []string{"rds"}; i.MinSpend = voucher.Ptr(amt("1000")) })}},
		{name: "min_spend before per_order_limit", key: "v2", use: []string{"v1", "v2"}, want: voucher.ReasonMinSpend,
			wallet: []voucher.Instrument{v("v1", func(*voucher.Instrument) {}), v("v2", func(i *voucher.Instrument) { i.MinSpend = voucher.Ptr(amt("1000")) })}},
		{name: "min_spend before not_selected", key: "v2", want: voucher.ReasonMinSpend,
			wallet: []voucher.Instrument{v("v1", func(i *voucher.Instrument) { i.Balance = voucher.Ptr(amt("50")) }),
				v("v2", func(i *voucher.Instrument) { i.Balance = voucher.Ptr(amt("40")); i.MinSpend = voucher.Ptr(amt("1000")) })}},
		{name: "per_order_limit before nothing_left", key: "v2", use: []string{"v1", "v2"}, want: voucher.ReasonPerOrderLimit,
			lines:  []voucher.Line{itemOf("l1", "ecs", "50")},
			wallet: []voucher.Instrument{v("v1", func(*voucher.Instrument) {}), v("v2", func(*voucher.Instrument) {})}},
		{name: "not_selected before nothing_left", key: "v2", want: voucher.ReasonNotSelected,
			lines: []voucher.Line{itemOf("l1", "ecs", "50")},
			wallet: []voucher.Instrument{v("v1", func(i *voucher.Instrument) { i.Amount, i.Balance = amt("60"), voucher.Ptr(amt("60")) }),
				v("v2", func(*voucher.Instrument) {})}},
	})
}

// Rejected instruments never count toward the per-order limit, and automatic selection
// goes on to the next after a rejection (nothing_left included).
func TestRejectedInstrumentsDoNotCountTowardTheLimit(t *testing.T) {
	e := engineOf(t, genericRules)
	t.Run("expired first choice", func(t *testing.T) {
		wallet := []voucher.Instrument{
			changed(deductionOf("voucher", "big", "500"), func(i *voucher.Instrument) { i.ExpiresAt = voucher.Ptr(pricedAt) }),
			deductionOf("voucher", "small", "30"),
		}
		q := quoteOK(t, e, orderOf(itemOf("l1", "ecs", "100")), wallet, pricedAt)
		assert.Equal(t, amounts("small", "30"), appliedAmounts(q))
		assert.Equal(t, voucher.ReasonExpired, rejectionReasons(q)["big"])
	})
	t.Run("nothing_left first choice", func(t *testing.T) {
		wallet := []voucher.Instrument{
			changed(deductionOf("voucher", "big", "500"), func(i *voucher.Instrument) { i.Products = []string{"rds"} }),
			deductionOf("voucher", "small", "30"),
		}
		o := orderOf(itemOf("l1", "ecs", "100"), itemOf("l2", "rds", "0"))
		q := quoteOK(t, e, o, wallet, pricedAt)
		assert.Equal(t, amounts("small", "30"), appliedAmounts(q))
		assert.Equal(t, voucher.ReasonNothingLeft, rejectionReasons(q)["big"])
	})
	t.Run("rejected chosen instrument", func(t *testing.T) {
		wallet := []voucher.Instrument{
			changed(deductionOf("voucher", "v1", "500"), func(i *voucher.Instrument) { i.Currency = "USD" }),
			deductionOf("voucher", "v2", "30"),
		}
		o := orderOf(itemOf("l1", "ecs", "100"))
		o.Use = []string{"v1", "v2"}
		q := quoteOK(t, e, o, wallet, pricedAt)
		assert.Equal(t, amounts("v2", "30"), appliedAmounts(q))
		assert.Equal(t, voucher.ReasonCurrencyMismatch, rejectionReasons(q)["v1"])
	})
}

// A code typed past the per-order limit is rejected per_order_limit.
func TestCodePastTheLimit(t *testing.T) {
	e := builtinEngine(t, "aliyun")
	wallet := []voucher.Instrument{
		{ID: "p1", Type: "promo_code", Code: "TEN", PercentOff: voucher.Ptr(amt("10"))},
		{ID: "p2", Type: "promo_code", Code: "FIVE", Amount: amt("5")},
	}
	o := orderOf(itemOf("l1", "ecs", "1000"))
	o.Codes = []string{"FIVE", "TEN"}
	q := quoteOK(t, e, o, wallet, pricedAt)
	assert.Equal(t, amounts("FIVE", "5"), appliedAmounts(q))
	assert.Equal(t, map[string]voucher.Reason{"TEN": voucher.ReasonPerOrderLimit}, rejectionReasons(q))
	a, _ := q.Applied("FIVE")
	assert.Equal(t, "p2", a.InstrumentID, "a typed code is keyed by the code, and names its instrument")
	r, _ := q.Rejected("TEN")
	assert.Equal(t, "p1", r.InstrumentID)
}

// ---------------------------------------------------------------------------------
// Step errors

func TestStepErrors(t *testing.T) {
	e := builtinEngine(t, "aliyun")
	wallet := []voucher.Instrument{
		{ID: "spring", Type: "promo_code", Code: "SPRING10", PercentOff: voucher.Ptr(amt("10"))},
		deductionOf("voucher", "v300", "300"),
		{ID: "gift", Type: "voucher", Code: "Q-7F3A91", PendingActivation: true, Amount: amt("50"), Balance: voucher.Ptr(amt("50"))},
	}
	ok := func() voucher.Order { return orderOf(itemOf("l1", "ecs", "100"), itemOf("l2", "rds", "50")) }
	cases := []struct {
		name   string
		change func(*voucher.Order)
		want   *voucher.CodeError
		fields []string // field paths an invalid_order must name
	}{
		{"empty item list", func(o *voucher.Order) { o.Lines = nil }, voucher.ErrInvalidOrder, []string{"items"}},
		{"empty, non-nil item list", func(o *voucher.Order) { o.Lines = []voucher.Line{} }, voucher.ErrInvalidOrder, []string{"items"}},
		{"negative amount", func(o *voucher.Order) { o.Lines[1].Amount = amt("-0.01") }, voucher.ErrInvalidOrder, []string{"items[1].amount"}},
		{"two lines with one id", func(o *voucher.Order) { o.Lines[1].ID = "l1" }, voucher.ErrInvalidOrder, []string{"items[1].id"}},
		{"unknown order type", func(o *voucher.Order) { o.Type = "purchase" }, voucher.ErrInvalidOrder, []string{"type"}},
		{"empty order type", func(o *voucher.Order) { o.Type = "" }, voucher.ErrInvalidOrder, []string{"type"}},
		{"unknown payment type", func(o *voucher.Order) { o.Payment = "prepaid" }, voucher.ErrInvalidOrder, []string{"payment"}},
		{"typed-in type named in use", func(o *voucher.Order) { o.Use = []string{"v300", "spring"} }, voucher.ErrInvalidOrder, []string{"use[1]"}},
		{"id named twice in use", func(o *voucher.Order) { o.Use = []string{"v300", "v300"} }, voucher.ErrInvalidOrder, []string{"use[1]"}},
		{"code twice in codes", func(o *voucher.Order) { o.Codes = []string{"SPRING10", "SPRING10"} }, voucher.ErrInvalidOrder, []string{"codes[1]"}},
		{"line in another currency", func(o *voucher.Order) { o.Lines[1].Currency = "USD" }, voucher.ErrCurrencyMismatch, nil},
		{"use names a missing id", func(o *voucher.Order) { o.Use = []string{"v300", "nope"} }, voucher.ErrUnknownInstrument, nil},
		{"use names a missing id, empty otherwise", func(o *voucher.Order) { o.Use = []string{"nope"} }, voucher.ErrUnknownInstrument, nil},
		{"code matching no instrument", func(o *voucher.Order) { o.Codes = []string{"NOSUCHCODE"} }, voucher.ErrCodeNotFound, nil},
		{"codes are case-sensitive", func(o *voucher.Order) { o.Codes = []string{"spring10"} }, voucher.ErrCodeNotFound, nil},
		{"code matching only a voucher's activation code", func(o *voucher.Order) { o.Codes = []string{"Q-7F3A91"} }, voucher.ErrCodeNotFound, nil},
		{"a typed-in instrument's id is not its code", func(o *voucher.Order) { o.Codes = []string{"spring"} }, voucher.ErrCodeNotFound, nil},
		// Precedence: the first in the spec's list is reported.
		{"invalid_order before currency_mismatch", func(o *voucher.Order) { o.Lines[0].Amount = amt("-1"); o.Lines[1].Currency = "USD" }, voucher.ErrInvalidOrder, []string{"items[0].amount"}},
		{"invalid_order (use) before currency_mismatch", func(o *voucher.Order) { o.Use = []string{"spring"}; o.Lines[1].Currency = "USD" }, voucher.ErrInvalidOrder, []string{"use[0]"}},
		{"invalid_order before unknown_instrument", func(o *voucher.Order) { o.Use = []string{"nope", "nope"} }, voucher.ErrInvalidOrder, []string{"use[1]"}},
		{"invalid_order before code_not_found", func(o *voucher.Order) { o.Type = "purchase"; o.Codes = []string{"NOSUCHCODE"} }, voucher.ErrInvalidOrder, []string{"type"}},
		{"currency_mismatch before unknown_instrument", func(o *voucher.Order) { o.Lines[0].Currency = "USD"; o.Use = []string{"nope"} }, voucher.ErrCurrencyMismatch, nil},
		{"currency_mismatch before code_not_found", func(o *voucher.Order) { o.Lines[0].Currency = "USD"; o.Codes = []string{"NOSUCHCODE"} }, voucher.ErrCurrencyMismatch, nil},
		{"unknown_instrument before code_not_found", func(o *voucher.Order) { o.Use = []string{"nope"}; o.Codes = []string{"NOSUCHCODE"} }, voucher.ErrUnknownInstrument, nil},
	}
	sentinels := []*voucher.CodeError{voucher.ErrInvalidOrder, voucher.ErrCurrencyMismatch, voucher.ErrUnknownInstrument, voucher.ErrCodeNotFound}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := ok()
			tc.change(&o)
			q, err := e.Quote(o, wallet, pricedAt)
			require.Error(t, err)
			assert.Nil(t, q, "a step error gives no quote")
			assert.ErrorIs(t, err, tc.want)
			assert.Equal(t, tc.want.Code(), voucher.ErrorCode(err))
			for _, s := range sentinels {
				if s != tc.want {
					assert.NotErrorIs(t, err, s)
				}
			}
			if tc.fields != nil {
				var ve *voucher.ValidationError
				require.True(t, errors.As(err, &ve), "invalid_order is a *voucher.ValidationError: %v", err)
				var got []string
				for _, p := range ve.Problems {
					got = append(got, p.Field)
				}
				for _, f := range tc.fields {
					assert.Contains(t, got, f)
					assert.Contains(t, err.Error(), f, "the message names the field")
				}
			}
		})
	}
	t.Run("the well-formed order prices", func(t *testing.T) {
		quoteOK(t, e, ok(), wallet, pricedAt)
	})
}

// An invalid order reports every problem at once, each with its field path.
func TestInvalidOrderReportsEveryProblem(t *testing.T) {
	e := builtinEngine(t, "aliyun")
	wallet := []voucher.Instrument{{ID: "spring", Type: "promo_code", Code: "SPRING10", PercentOff: voucher.Ptr(amt("10"))}}
	o := orderOf(itemOf("l1", "ecs", "-5"), itemOf("l1", "rds", "10"))
	o.Payment = "cash"
	o.Use = []string{"spring"}
	o.Codes = []string{"X", "X"}
	_, err := e.Quote(o, wallet, pricedAt)
	require.ErrorIs(t, err, voucher.ErrInvalidOrder)
	var ve *voucher.ValidationError
	require.True(t, errors.As(err, &ve))
	var got []string
	for _, p := range ve.Problems {
		got = append(got, p.Field)
	}
	assert.ElementsMatch(t, []string{"items[0].amount", "items[1].id", "payment", "use[0]", "codes[1]"}, got)
}

// ---------------------------------------------------------------------------------
// Stages, stacking, choice

func aliyunStackingWallet() []voucher.Instrument {
	return []voucher.Instrument{
		{ID: "spring", Type: "promo_code", Code: "SPRING10", PercentOff: voucher.Ptr(amt("10")), ExpiresAt: voucher.Ptr(time.Date(2026, 4, 1, 0, 0, 0, 0, cstZone))},
		{ID: "save80", Type: "coupon", Account: buyerAcct, Amount: amt("80"), MinSpend: voucher.Ptr(amt("500")), FirstPurchaseOnly: boolRef(false),
			ExpiresAt: voucher.Ptr(time.Date(2026, 4, 1, 0, 0, 0, 0, cstZone))},
		{ID: "v300", Type: "voucher", Account: buyerAcct, Amount: amt("300"), Balance: voucher.Ptr(amt("300")), ExpiresAt: voucher.Ptr(time.Date(2027, 1, 1, 0, 0, 0, 0, cstZone))},
	}
}

func TestAliyunStacking(t *testing.T) {
	e := builtinEngine(t, "aliyun")
	t.Run("promo code, coupon, voucher on one line", func(t *testing.T) {
		o := orderOf(itemOf("l1", "ecs", "1000"))
		o.FirstPurchase = true
		o.Codes = []string{"SPRING10"}
		q := quoteOK(t, e, o, aliyunStackingWallet(), pricedAt)
		want := map[string]string{"total": "1000", "discount": "180", "deducted": "300", "cash": "520", "invoiceable": "520", "non_invoiceable": "300"}
		assertFigures(t, "order", q.Figures, want)
		lineFigures(t, q, "l1", want)
		assert.Equal(t, amounts("SPRING10", "100", "save80", "80", "v300", "300"), appliedAmounts(q))
		assert.Empty(t, q.Rejections)
		var stages []string
		for _, a := range q.Applications {
			stages = append(stages, a.Stage)
		}
		assert.Equal(t, []string{"promo_code", "coupon", "voucher"}, stages, "stages run in the rule set's order")
	})
	t.Run("two lines: per-line invoiceable", func(t *testing.T) {
		o := orderOf(itemOf("a", "ecs", "600"), itemOf("b", "rds", "400"))
		o.FirstPurchase = true
		o.Codes = []string{"SPRING10"}
		q := quoteOK(t, e, o, aliyunStackingWallet(), pricedAt)
		assertFigures(t, "order", q.Figures, map[string]string{"discount": "180", "deducted": "300", "cash": "520", "invoiceable": "520", "non_invoiceable": "300"})
		// 10 % of 600/400 = 60/40; 80 over 540/360 = 48/32; 300 over 492/328 = 180/120.
		lineFigures(t, q, "a", map[string]string{"discount": "108", "deducted": "180", "cash": "312", "invoiceable": "312", "non_invoiceable": "180"})
		lineFigures(t, q, "b", map[string]string{"discount": "72", "deducted": "120", "cash": "208", "invoiceable": "208", "non_invoiceable": "120"})
	})
	t.Run("coupon min_spend counts what is left after the promo code", func(t *testing.T) {
		o := orderOf(itemOf("l1", "ecs", "550"))
		o.FirstPurchase = true
		o.Codes = []string{"SPRING10"}
		q := quoteOK(t, e, o, aliyunStackingWallet(), pricedAt)
		// 550 - 55 = 495 < 500.
		assert.Equal(t, voucher.ReasonMinSpend, rejectionReasons(q)["save80"])
		r, _ := q.Rejected("save80")
		assert.Contains(t, r.Hint, "5.00")
		assert.Equal(t, amounts("SPRING10", "55", "v300", "300"), appliedAmounts(q))
		assertFigures(t, "order", q.Figures, map[string]string{"cash": "195", "invoiceable": "195"})
	})
}

func TestUseAndCodes(t *testing.T) {
	e := builtinEngine(t, "aliyun")
	base := func() voucher.Order {
		o := orderOf(itemOf("l1", "ecs", "1000"))
		o.FirstPurchase = true
		return o
	}
	cases := []struct {
		name     string
		change   func(*voucher.Order)
		wallet   []voucher.Instrument
		applied  map[string]string
		rejected map[string]voucher.Reason // exactly these
	}{
		{"use: [] means none", func(o *voucher.Order) { o.Use = []string{} }, aliyunStackingWallet(),
			amounts(), map[string]voucher.Reason{}},
		{"use omitted selects automatically (no codes: no promo code)", nil, aliyunStackingWallet(),
			amounts("save80", "80", "v300", "300"), map[string]voucher.Reason{}},
		{"codes apply with use: []", func(o *voucher.Order) { o.Use = []string{}; o.Codes = []string{"SPRING10"} }, aliyunStackingWallet(),
			amounts("SPRING10", "100"), map[string]voucher.Reason{}},
		{"codes apply with use given; nothing automatic", func(o *voucher.Order) { o.Use = []string{"v300"}; o.Codes = []string{"SPRING10"} }, aliyunStackingWallet(),
			amounts("SPRING10", "100", "v300", "300"), map[string]voucher.Reason{}},
		{"typed-in instrument never auto-selected, even with an owner", nil,
			append(aliyunStackingWallet()[1:], voucher.Instrument{ID: "mine", Type: "promo_code", Account: buyerAcct, Code: "MINE", Amount: amt("50")}),
			amounts("save80", "80", "v300", "300"), map[string]voucher.Reason{}},
		{"another account's instruments never auto-selected", nil,
			[]voucher.Instrument{
				changed(deductionOf("voucher", "theirs", "900"), func(i *voucher.Instrument) { i.Account = "acct-2" }),
				changed(fixedOf("coupon", "their-coupon", "500"), func(i *voucher.Instrument) { i.Account = "acct-2"; i.FirstPurchaseOnly = boolRef(false) }),
				deductionOf("voucher", "mine", "100"),
			},
			amounts("mine", "100"), map[string]voucher.Reason{}},
		{"pending instruments never auto-selected", nil,
			[]voucher.Instrument{
				{ID: "gift", Type: "voucher", Code: "Q-1", PendingActivation: true, Amount: amt("900"), Balance: voucher.Ptr(amt("900"))},
				deductionOf("voucher", "mine", "100"),
			},
			amounts("mine", "100"), map[string]voucher.Reason{}},
		{"pending instruments never auto-selected, even naming the buyer", nil,
			[]voucher.Instrument{
				{ID: "gift", Type: "voucher", Account: buyerAcct, Code: "Q-1", PendingActivation: true, Amount: amt("900"), Balance: voucher.Ptr(amt("900"))},
				deductionOf("voucher", "mine", "100"),
			},
			amounts("mine", "100"), map[string]voucher.Reason{}},
		{"unowned instruments never auto-selected", nil,
			[]voucher.Instrument{
				changed(deductionOf("voucher", "nobody", "900"), func(i *voucher.Instrument) { i.Account = "" }),
				deductionOf("voucher", "mine", "100"),
			},
			amounts("mine", "100"), map[string]voucher.Reason{}},
		{"chosen instruments taken in the order use lists them", func(o *voucher.Order) { o.Use = []string{"small", "large"} },
			[]voucher.Instrument{deductionOf("voucher", "large", "300"), deductionOf("voucher", "small", "100")},
			amounts("small", "100"), map[string]voucher.Reason{"large": voucher.ReasonPerOrderLimit}},
		{"the other account's voucher named in use is not_owner", func(o *voucher.Order) { o.Use = []string{"theirs"} },
			[]voucher.Instrument{changed(deductionOf("voucher", "theirs", "900"), func(i *voucher.Instrument) { i.Account = "acct-2" })},
			amounts(), map[string]voucher.Reason{"theirs": voucher.ReasonNotOwner}},
		{"a promo code has no owner: any buyer may type it", func(o *voucher.Order) { o.Codes = []string{"SPRING10"}; o.Use = []string{} },
			[]voucher.Instrument{{ID: "spring", Type: "promo_code", Account: "acct-2", Code: "SPRING10", PercentOff: voucher.Ptr(amt("10"))}},
			amounts("SPRING10", "100"), map[string]voucher.Reason{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := base()
			if tc.change != nil {
				tc.change(&o)
			}
			q := quoteOK(t, e, o, tc.wallet, pricedAt)
			assert.Equal(t, tc.applied, appliedAmounts(q))
			assert.Equal(t, tc.rejected, rejectionReasons(q))
		})
	}
}

// invoiceable = total − discount − non-invoiceable deductions, per line and in total.
func TestInvoiceable(t *testing.T) {
	e := engineOf(t, genericRules)
	wallet := []voucher.Instrument{
		fixedOf("coupon", "c", "20"),
		deductionOf("gift", "g", "30"),      // invoiceable deduction
		deductionOf("voucher", "v", "50.5"), // not invoiceable
	}
	o := orderOf(itemOf("a", "ecs", "100"), itemOf("b", "rds", "100"))
	q := quoteOK(t, e, o, wallet, pricedAt)
	assert.Equal(t, amounts("c", "20", "g", "30", "v", "50.5"), appliedAmounts(q))
	assertFigures(t, "order", q.Figures, map[string]string{"total": "200", "discount": "20", "deducted": "80.5",
		"cash": "99.5", "invoiceable": "129.5", "non_invoiceable": "50.5"})
	// Coupon 10/10; then the vouchers stage: voucher 50.50 over 90/90 = 25.25/25.25 and
	// gift 30 = 15/15 (in either order the shares are the same).
	lineFigures(t, q, "a", map[string]string{"discount": "10", "deducted": "40.25", "cash": "49.75", "invoiceable": "64.75", "non_invoiceable": "25.25"})
	lineFigures(t, q, "b", map[string]string{"discount": "10", "deducted": "40.25", "cash": "49.75", "invoiceable": "64.75", "non_invoiceable": "25.25"})
}

// ---------------------------------------------------------------------------------
// Allocation

func TestProportionalAllocation(t *testing.T) {
	e := engineOf(t, genericRules)
	cases := []struct {
		name   string
		lines  []voucher.Line
		inst   voucher.Instrument
		split  map[string]string
		amount string
	}{
		{"100 over three equal lines", []voucher.Line{itemOf("a", "ecs", "100"), itemOf("b", "ecs", "100"), itemOf("c", "ecs", "100")},
			deductionOf("voucher", "v", "100"), amounts("a", "33.34", "b", "33.33", "c", "33.33"), "100"},
		{"tencent: 90 over 100 + 200", []voucher.Line{itemOf("a", "cvm", "100"), itemOf("b", "cvm", "200")},
			deductionOf("voucher", "v", "90"), amounts("a", "30", "b", "60"), "90"},
		{"one unit over two equal lines goes to the earlier", []voucher.Line{itemOf("a", "ecs", "5"), itemOf("b", "ecs", "5")},
			deductionOf("voucher", "v", "0.01"), amounts("a", "0.01"), "0.01"},
		{"two units over three equal lines", []voucher.Line{itemOf("a", "ecs", "1"), itemOf("b", "ecs", "1"), itemOf("c", "ecs", "1")},
			deductionOf("voucher", "v", "0.02"), amounts("a", "0.01", "b", "0.01"), "0.02"},
		{"largest remainder beats earlier line", []voucher.Line{itemOf("a", "ecs", "1"), itemOf("b", "ecs", "2")},
			deductionOf("voucher", "v", "0.01"), amounts("b", "0.01"), "0.01"},
		{"largest remainder: 0.10 over 1/2", []voucher.Line{itemOf("a", "ecs", "1"), itemOf("b", "ecs", "2")},
			deductionOf("voucher", "v", "0.10"), amounts("a", "0.03", "b", "0.07"), "0.10"},
		{"out-of-scope line gets nothing", []voucher.Line{itemOf("a", "ecs", "100"), itemOf("mp", "marketplace", "900"), itemOf("b", "rds", "300")},
			deductionOf("voucher", "v", "100"), amounts("a", "25", "b", "75"), "100"},
		{"zero line gets nothing", []voucher.Line{itemOf("z", "ecs", "0"), itemOf("a", "ecs", "10")},
			deductionOf("voucher", "v", "5"), amounts("a", "5"), "5"},
		{"a discount spreads the same way", []voucher.Line{itemOf("a", "ecs", "100"), itemOf("b", "ecs", "100"), itemOf("c", "ecs", "100")},
			fixedOf("coupon", "c", "100"), amounts("a", "33.34", "b", "33.33", "c", "33.33"), "100"},
		{"capped by what is payable in scope", []voucher.Line{itemOf("a", "ecs", "10"), itemOf("b", "ecs", "20")},
			deductionOf("voucher", "v", "1000"), amounts("a", "10", "b", "20"), "30"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := quoteOK(t, e, orderOf(tc.lines...), []voucher.Instrument{tc.inst}, pricedAt)
			assert.Equal(t, tc.split, splitOf(t, q, tc.inst.ID))
			assert.Equal(t, amounts(tc.inst.ID, tc.amount), appliedAmounts(q))
		})
	}
	t.Run("in proportion to what is still payable, not the list amounts", func(t *testing.T) {
		wallet := []voucher.Instrument{
			changed(fixedOf("coupon", "c", "100"), func(i *voucher.Instrument) { i.Products = []string{"ecs"} }),
			deductionOf("voucher", "v", "90"),
		}
		// Coupon takes 100 of a (ecs 200): payable 100 and 200, so 90 goes 30/60.
		q := quoteOK(t, e, orderOf(itemOf("a", "ecs", "200"), itemOf("b", "rds", "200")), wallet, pricedAt)
		assert.Equal(t, amounts("a", "30", "b", "60"), splitOf(t, q, "v"))
	})
}

func TestLargestLineFirstAllocation(t *testing.T) {
	aws := builtinEngine(t, "aws")
	feb := time.Date(2026, 2, 28, 23, 0, 0, 0, time.UTC)
	t.Run("AWS docs example", func(t *testing.T) {
		wallet := []voucher.Instrument{
			changed(deductionOf("credit", "c1", "10"), func(i *voucher.Instrument) {
				i.Products = []string{"ec2", "s3"}
				i.ExpiresAt = voucher.Ptr(time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC))
			}),
			changed(deductionOf("credit", "c2", "5"), func(i *voucher.Instrument) {
				i.Products = []string{"ec2"}
				i.ExpiresAt = voucher.Ptr(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
			}),
		}
		q := quoteOK(t, aws, usageOrderOf(itemOf("ec2", "ec2", "100"), itemOf("s3", "s3", "50")), wallet, feb)
		assertFigures(t, "order", q.Figures, map[string]string{"total": "150", "deducted": "15", "cash": "135"})
		lineFigures(t, q, "ec2", map[string]string{"deducted": "15", "cash": "85"})
		lineFigures(t, q, "s3", map[string]string{"deducted": "0", "cash": "50"})
		assert.Equal(t, amounts("c1", "10", "c2", "5"), appliedAmounts(q))
		assert.Equal(t, amounts("ec2", "10"), splitOf(t, q, "c1"), "credit 1 goes to EC2 although it could cover S3")
	})
	cases := []struct {
		name   string
		lines  []voucher.Line
		credit string
		split  map[string]string
	}{
		{"tie goes to the earlier line", []voucher.Line{itemOf("a", "ec2", "50"), itemOf("b", "s3", "50")}, "10", amounts("a", "10")},
		{"tie, then the next", []voucher.Line{itemOf("a", "ec2", "50"), itemOf("b", "s3", "50")}, "60", amounts("a", "50", "b", "10")},
		{"largest first, later line", []voucher.Line{itemOf("a", "ec2", "30"), itemOf("b", "s3", "70")}, "80", amounts("a", "10", "b", "70")},
		{"spills over three lines", []voucher.Line{itemOf("a", "ec2", "5"), itemOf("b", "s3", "7"), itemOf("c", "rds", "6")}, "17.5",
			amounts("a", "4.5", "b", "7", "c", "6")},
		{"never-covered line skipped", []voucher.Line{itemOf("mp", "marketplace", "500"), itemOf("a", "ec2", "20")}, "100", amounts("a", "20")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := quoteOK(t, aws, usageOrderOf(tc.lines...), []voucher.Instrument{deductionOf("credit", "c", tc.credit)}, feb)
			assert.Equal(t, tc.split, splitOf(t, q, "c"))
		})
	}
	t.Run("largest line is by what is still payable", func(t *testing.T) {
		// The first credit leaves a with 40 payable; the second then prefers b (50).
		wallet := []voucher.Instrument{
			changed(deductionOf("credit", "first", "60"), func(i *voucher.Instrument) { i.ExpiresAt = voucher.Ptr(feb.Add(time.Hour)) }),
			deductionOf("credit", "second", "10"),
		}
		q := quoteOK(t, aws, usageOrderOf(itemOf("a", "ec2", "100"), itemOf("b", "s3", "50")), wallet, feb)
		assert.Equal(t, amounts("a", "60"), splitOf(t, q, "first"))
		assert.Equal(t, amounts("b", "10"), splitOf(t, q, "second"))
	})
}

// ---------------------------------------------------------------------------------
// Rounding

func TestRounding(t *testing.T) {
	e := engineOf(t, genericRules)
	cases := []struct {
		name  string
		lines []voucher.Line
		inst  voucher.Instrument
		take  string
	}{
		{"15 % of 33.33 is 4.9995, rounds half away from zero to 5.00", []voucher.Line{itemOf("a", "ecs", "33.33")},
			percentOf("coupon", "c", "15"), "5.00"},
		{"cap applied after rounding: 4.99 caps 5.00", []voucher.Line{itemOf("a", "ecs", "33.33")},
			changed(percentOf("coupon", "c", "15"), func(i *voucher.Instrument) { i.MaxDiscount = voucher.Ptr(amt("4.99")) }), "4.99"},
		{"cap equal to the rounded discount", []voucher.Line{itemOf("a", "ecs", "33.33")},
			changed(percentOf("coupon", "c", "15"), func(i *voucher.Instrument) { i.MaxDiscount = voucher.Ptr(amt("5")) }), "5.00"},
		{"cap above the discount changes nothing", []voucher.Line{itemOf("a", "ecs", "33.33")},
			changed(percentOf("coupon", "c", "15"), func(i *voucher.Instrument) { i.MaxDiscount = voucher.Ptr(amt("100")) }), "5.00"},
		{"20 % of 1000 capped at 150", []voucher.Line{itemOf("a", "ecs", "1000")},
			changed(percentOf("coupon", "c", "20"), func(i *voucher.Instrument) { i.MaxDiscount = voucher.Ptr(amt("150")) }), "150"},
		{"just below half rounds down: 15 % of 33.29 = 4.9935", []voucher.Line{itemOf("a", "ecs", "33.29")},
			percentOf("coupon", "c", "15"), "4.99"},
		{"fractional percent: 12.5 % of 0.20 = 0.025 rounds to 0.03", []voucher.Line{itemOf("a", "ecs", "0.20")},
			percentOf("coupon", "c", "12.5"), "0.03"},
		{"percentage on the in-scope amount only", []voucher.Line{itemOf("a", "ecs", "100"), itemOf("b", "rds", "50"), itemOf("mp", "marketplace", "1000")},
			changed(percentOf("coupon", "c", "10"), func(i *voucher.Instrument) { i.Products = []string{"ecs", "marketplace"} }), "10"},
		{"percentage on the whole in-scope amount, not per line: 15 % of 0.03 + 0.03", []voucher.Line{itemOf("a", "ecs", "0.03"), itemOf("b", "ecs", "0.03")},
			percentOf("coupon", "c", "15"), "0.01"},
		{"100 % takes everything in scope", []voucher.Line{itemOf("a", "ecs", "12.34"), itemOf("b", "rds", "0.01")},
			percentOf("coupon", "c", "100"), "12.35"},
		{"fixed discount larger than the order takes what is payable", []voucher.Line{itemOf("a", "ecs", "12.34")},
			fixedOf("coupon", "c", "50"), "12.34"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := quoteOK(t, e, orderOf(tc.lines...), []voucher.Instrument{tc.inst}, pricedAt)
			assert.Equal(t, amounts(tc.inst.ID, tc.take), appliedAmounts(q))
		})
	}
	t.Run("percentage after an earlier discount: on what is still payable", func(t *testing.T) {
		wallet := []voucher.Instrument{fixedOf("multi", "m", "33.33"), percentOf("multi", "p", "15")}
		o := orderOf(itemOf("a", "ecs", "66.66"))
		o.Use = []string{"m", "p"}
		q := quoteOK(t, e, o, wallet, pricedAt)
		assert.Equal(t, amounts("m", "33.33", "p", "5"), appliedAmounts(q))
	})
	t.Run("line amounts finer than the scale", func(t *testing.T) {
		o := orderOf(itemOf("a", "ecs", "10.005"), itemOf("b", "ecs", "0.004"), itemOf("c", "ecs", "3.3333"))
		q := quoteOK(t, e, o, []voucher.Instrument{deductionOf("voucher", "v", "5")}, pricedAt)
		lineFigures(t, q, "a", map[string]string{"total": "10.01"})
		lineFigures(t, q, "b", map[string]string{"total": "0"})
		lineFigures(t, q, "c", map[string]string{"total": "3.33"})
		assertFigures(t, "order", q.Figures, map[string]string{"total": "13.34", "deducted": "5", "cash": "8.34"})
		for _, l := range q.Lines {
			for _, m := range []voucher.Money{l.Total, l.Discount, l.Deducted, l.Cash, l.Invoiceable} {
				assert.True(t, m.Amount().Equal(m.Amount().Round(2)), "line %s: %s is finer than the scale", l.LineID, m.Amount())
			}
		}
	})
	t.Run("total = discount + deducted + cash on every line of an awkward split", func(t *testing.T) {
		wallet := []voucher.Instrument{percentOf("coupon", "c", "33.3"), deductionOf("voucher", "v", "10.01")}
		o := orderOf(itemOf("a", "ecs", "0.07"), itemOf("b", "ecs", "3.33"), itemOf("c", "rds", "9.99"), itemOf("d", "oss", "0.01"))
		q := quoteOK(t, e, o, wallet, pricedAt) // quoteOK checks every line
		assert.Len(t, q.Applications, 2)
	})
}

// The scale is the rule set's: yen have no decimals, a rule set may ask for four.
func TestRoundingAtOtherScales(t *testing.T) {
	src := func(cur string, scale int) string {
		return fmt.Sprintf(`
name: scaled
currency: %s
scale: %d
time_zone: UTC
stages:
  - {name: coupons, kind: discount}
  - {name: vouchers, kind: deduction}
types:
  coupon:
    stage: coupons
  voucher:
    stage: vouchers
`, cur, scale)
	}
	cases := []struct {
		name, cur string
		scale     int
		lines     []voucher.Line
		wallet    []voucher.Instrument
		applied   map[string]string
		split     map[string]string // of the first instrument
	}{
		{"JPY: 15 % of 333 is 49.95, rounds to 50", "JPY", 0, []voucher.Line{itemOf("a", "x", "333")},
			[]voucher.Instrument{percentOf("coupon", "c", "15")}, amounts("c", "50"), amounts("a", "50")},
		{"JPY: 100 over three equal lines", "JPY", 0, []voucher.Line{itemOf("a", "x", "500"), itemOf("b", "x", "500"), itemOf("c", "x", "500")},
			[]voucher.Instrument{deductionOf("voucher", "v", "100")}, amounts("v", "100"), amounts("a", "34", "b", "33", "c", "33")},
		{"JPY: line amounts finer than the scale round to yen", "JPY", 0, []voucher.Line{itemOf("a", "x", "99.5"), itemOf("b", "x", "0.4")},
			[]voucher.Instrument{deductionOf("voucher", "v", "1000")}, amounts("v", "100"), amounts("a", "100")},
		{"JPY: 2 over three equal lines", "JPY", 0, []voucher.Line{itemOf("a", "x", "10"), itemOf("b", "x", "10"), itemOf("c", "x", "10")},
			[]voucher.Instrument{deductionOf("voucher", "v", "2")}, amounts("v", "2"), amounts("a", "1", "b", "1")},
		{"JPY: 3 % of 10 is 0.3: nothing", "JPY", 0, []voucher.Line{itemOf("a", "x", "10")},
			[]voucher.Instrument{percentOf("coupon", "c", "3"), deductionOf("voucher", "v", "4")}, amounts("v", "4"), nil},
		{"scale 4: 15 % of 33.3333 is 4.999995, rounds to 5.0000", "USD", 4, []voucher.Line{itemOf("a", "x", "33.3333")},
			[]voucher.Instrument{percentOf("coupon", "c", "15")}, amounts("c", "5"), amounts("a", "5")},
		{"scale 4: 1 over three equal lines", "USD", 4, []voucher.Line{itemOf("a", "x", "1"), itemOf("b", "x", "1"), itemOf("c", "x", "1")},
			[]voucher.Instrument{deductionOf("voucher", "v", "1")}, amounts("v", "1"), amounts("a", "0.3334", "b", "0.3333", "c", "0.3333")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := engineOf(t, src(tc.cur, tc.scale))
			q := quoteOK(t, e, orderOf(tc.lines...), tc.wallet, pricedAt)
			assert.Equal(t, tc.applied, appliedAmounts(q))
			if tc.split != nil {
				assert.Equal(t, tc.split, splitOf(t, q, tc.wallet[0].ID))
			}
			assert.Equal(t, tc.cur, q.Total.Currency().Code())
			assert.Equal(t, int32(tc.scale), q.Total.Currency().Scale())
		})
	}
}

// ---------------------------------------------------------------------------------
// Purity and determinism

func purityFixture() (voucher.Order, []voucher.Instrument) {
	o := orderOf(itemOf("a", "ecs", "600"), itemOf("b", "rds", "400.5"), itemOf("mp", "marketplace", "99"))
	o.FirstPurchase = true
	o.Codes = []string{"SPRING10"}
	wallet := aliyunStackingWallet()
	for i := 0; i < 6; i++ {
		wallet = append(wallet, changed(deductionOf("voucher", fmt.Sprintf("v%d", i), fmt.Sprintf("%d.5", 50*i+1)), func(in *voucher.Instrument) {
			in.Products = []string{"ecs", "rds"}[i%2:]
			in.ExpiresAt = voucher.Ptr(pricedAt.AddDate(0, i, 1))
			in.Held = amt("0.5")
		}))
	}
	return o, wallet
}

func TestQuoteIsPure(t *testing.T) {
	e := builtinEngine(t, "aliyun")
	o, wallet := purityFixture()
	before := make([]voucher.Instrument, len(wallet))
	for i := range wallet {
		before[i] = wallet[i].Clone()
	}
	orderBefore := o
	orderBefore.Lines = append([]voucher.Line(nil), o.Lines...)
	orderBefore.Codes = append([]string(nil), o.Codes...)

	q1 := quoteOK(t, e, o, wallet, pricedAt)
	assert.Equal(t, before, wallet, "Quote must not modify the instruments slice")
	assert.Equal(t, orderBefore, o, "Quote must not modify the order")
	q2 := quoteOK(t, e, o, wallet, pricedAt)
	assert.Equal(t, q1, q2, "the same inputs give deeply equal quotes")
	j1, err := json.Marshal(q1)
	require.NoError(t, err)
	j2, err := json.Marshal(q2)
	require.NoError(t, err)
	assert.JSONEq(t, string(j1), string(j2))

	// The quote shares nothing with the next: changing one does not change the other.
	q1.Applications[0].Lines[0].Amount = voucher.MustMoney("999", "CNY")
	q3 := quoteOK(t, e, o, wallet, pricedAt)
	assert.Equal(t, q2, q3)
}

func TestConcurrentQuotes(t *testing.T) {
	e := builtinEngine(t, "aliyun")
	o, wallet := purityFixture()
	want := quoteOK(t, e, o, wallet, pricedAt)
	const workers, each = 8, 25
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				q, err := e.Quote(o, wallet, pricedAt)
				if !assert.NoError(t, err) {
					return
				}
				if !assert.Equal(t, want, q) {
					return
				}
			}
		}()
	}
	wg.Wait()
}

// The decision trace lists each decision in order; the quote text names rejections.
func TestTraceAndText(t *testing.T) {
	e := builtinEngine(t, "aliyun")
	wallet := []voucher.Instrument{deductionOf("voucher", "small", "100"), deductionOf("voucher", "large", "300")}
	q := quoteOK(t, e, orderOf(itemOf("l1", "ecs", "250")), wallet, pricedAt)
	var events []string
	for _, te := range q.Trace {
		if te.Event == "apply" || te.Event == "reject" {
			events = append(events, te.Event+" "+te.Instrument)
		}
	}
	assert.Equal(t, []string{"apply large", "reject small"}, events)
	assert.True(t, strings.Contains(q.Text(), "small") && strings.Contains(q.Text(), "not_selected"), q.Text())

	off, err := rules.NewEngine(e.RuleSet(), rules.WithTrace(false))
	require.NoError(t, err)
	q2 := quoteOK(t, off, orderOf(itemOf("l1", "ecs", "250")), wallet, pricedAt)
	assert.Empty(t, q2.Trace)
	assert.Equal(t, appliedAmounts(q), appliedAmounts(q2))
}

// ---------------------------------------------------------------------------------
// The engine's API around Quote

func TestNewEngineRefusesWhatItCannotPrice(t *testing.T) {
	_, err := rules.NewEngine(nil)
	assert.Error(t, err)
	_, err = rules.NewEngine(&rules.RuleSet{Name: "raw"})
	assert.Error(t, err, "a rule set that was not loaded and validated")
}

// The built-in rule sets' policies, as the spec lists them.
func TestBuiltinPolicies(t *testing.T) {
	ali := builtinEngine(t, "aliyun")
	aws := builtinEngine(t, "aws")
	assert.Equal(t, "CNY", ali.Currency().Code())
	assert.Equal(t, int32(2), ali.Currency().Scale())
	assert.Equal(t, "USD", aws.Currency().Code())
	assert.Equal(t, int32(2), aws.Currency().Scale())

	v, ok := ali.Policy("voucher")
	require.True(t, ok)
	assert.Equal(t, voucher.Deduction, v.Kind)
	assert.True(t, v.CarryOver)
	assert.False(t, v.Invoiceable)
	assert.Equal(t, voucher.RefundForfeit, v.Refund)
	c, ok := ali.Policy("coupon")
	require.True(t, ok)
	assert.Equal(t, voucher.Discount, c.Kind)
	assert.Equal(t, 30*24*time.Hour, c.ClaimValidity)
	p, ok := ali.Policy("promo_code")
	require.True(t, ok)
	assert.True(t, p.TypedCode)
	assert.Equal(t, voucher.Discount, p.Kind)
	cr, ok := aws.Policy("credit")
	require.True(t, ok)
	assert.Equal(t, voucher.Deduction, cr.Kind)
	assert.True(t, cr.EffectiveOnActivation)
	assert.True(t, cr.CarryOver)
	assert.Equal(t, voucher.RefundRestore, cr.Refund)
	_, ok = aws.Policy("voucher")
	assert.False(t, ok)
}

// NewEngine copies the rule set: changing it afterwards changes nothing.
func TestEngineIsImmutable(t *testing.T) {
	rs, err := rules.Parse("generic.yaml", []byte(genericRules))
	require.NoError(t, err)
	e, err := rules.NewEngine(rs)
	require.NoError(t, err)
	for i := range rs.Types {
		rs.Types[i].PerOrderLimit = 0
		rs.Types[i].Selection = []rules.SortKey{rules.SortBalanceAsc, rules.SortID}
	}
	wallet := []voucher.Instrument{deductionOf("voucher", "small", "10"), deductionOf("voucher", "large", "30")}
	q := quoteOK(t, e, orderOf(itemOf("l1", "ecs", "100")), wallet, pricedAt)
	assert.Equal(t, amounts("large", "30"), appliedAmounts(q))
}

// Instruments the engine cannot price at all are an error, not a rejection.
func TestQuoteRefusesMalformedWallets(t *testing.T) {
	e := builtinEngine(t, "aliyun")
	o := orderOf(itemOf("l1", "ecs", "100"))
	_, err := e.Quote(o, []voucher.Instrument{deductionOf("voucher", "v", "10"), deductionOf("voucher", "v", "20")}, pricedAt)
	assert.ErrorIs(t, err, voucher.ErrInvalidInstrument, "two instruments with one id")
	_, err = e.Quote(o, []voucher.Instrument{deductionOf("gift_card", "g", "10")}, pricedAt)
	assert.ErrorIs(t, err, voucher.ErrInvalidInstrument, "a type the rule set does not define, selected automatically")
	// Another account's instrument of an unknown type is never looked at.
	other := changed(deductionOf("gift_card", "g", "10"), func(i *voucher.Instrument) { i.Account = "acct-2" })
	quoteOK(t, e, o, []voucher.Instrument{other}, pricedAt)
}
