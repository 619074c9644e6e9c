package voucher

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakePricer is a small engine for the wallet's tests: discounts (typed codes first,
// then chosen ones) and then deductions, each allocated in proportion over the in-scope
// lines still payable; no per-order limits. It checks instruments in the spec's order.
type fakePricer struct {
	cur      Currency
	policies map[string]TypePolicy
	// seen records the instrument ids of the last Quote call, when not nil.
	seen *[]string
	// overdraw makes every deduction take one unit more than it may (a broken pricer).
	overdraw bool
}

func newFakePricer() *fakePricer {
	return &fakePricer{cur: MustCurrency("CNY"), policies: map[string]TypePolicy{
		"voucher": {Name: "voucher", Kind: Deduction, CarryOver: true, Refund: RefundForfeit},
		"credit":  {Name: "credit", Kind: Deduction, CarryOver: true, Refund: RefundRestore, EffectiveOnActivation: true},
		"oneshot": {Name: "oneshot", Kind: Deduction, Refund: RefundRestore},
		"coupon":  {Name: "coupon", Kind: Discount, ClaimValidity: 30 * 24 * time.Hour},
		"promo":   {Name: "promo", Kind: Discount, TypedCode: true},
	}}
}

func (f *fakePricer) Currency() Currency { return f.cur }

func (f *fakePricer) Policy(t string) (TypePolicy, bool) {
	p, ok := f.policies[t]
	return p, ok
}

func (f *fakePricer) Quote(o Order, insts []Instrument, at time.Time) (*Quote, error) {
	if f.seen != nil {
		ids := make([]string, len(insts))
		for i := range insts {
			ids[i] = insts[i].ID
		}
		*f.seen = ids
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	byID := make(map[string]*Instrument, len(insts))
	for i := range insts {
		byID[insts[i].ID] = &insts[i]
	}
	for _, id := range o.Use {
		if in, ok := byID[id]; ok && f.policies[in.Type].TypedCode {
			return nil, fmt.Errorf("%w: %q is typed in", ErrInvalidOrder, id)
		}
	}
	for _, l := range o.Lines {
		if l.Currency != "" && l.Currency != f.cur.Code() {
			return nil, fmt.Errorf("%w: line %s", ErrCurrencyMismatch, l.ID)
		}
	}
	for _, id := range o.Use {
		if _, ok := byID[id]; !ok {
			return nil, fmt.Errorf("%w: %q", ErrUnknownInstrument, id)
		}
	}
	var cands []*Instrument
	for _, code := range o.Codes {
		var hit *Instrument
		for i := range insts {
			if insts[i].Code == code && f.policies[insts[i].Type].TypedCode {
				hit = &insts[i]
			}
		}
		if hit == nil {
			return nil, fmt.Errorf("%w: %q", ErrCodeNotFound, code)
		}
		cands = append(cands, hit)
	}
	if o.Use != nil {
		for _, id := range o.Use {
			cands = append(cands, byID[id])
		}
	} else {
		for i := range insts {
			if in := &insts[i]; o.Account != "" && in.Account == o.Account && !f.policies[in.Type].TypedCode {
				cands = append(cands, in)
			}
		}
	}
	sc := f.cur.Scale()
	rem := make([]decimal.Decimal, len(o.Lines))
	disc := make([]decimal.Decimal, len(o.Lines))
	ded := make([]decimal.Decimal, len(o.Lines))
	for i, l := range o.Lines {
		rem[i] = l.Amount
	}
	q := &Quote{OrderID: o.ID, Account: o.Account, RuleSet: "fake@1", Currency: f.cur.Code(), At: at}
	for _, kind := range []Kind{Discount, Deduction} {
		for _, in := range cands {
			pol := f.policies[in.Type]
			if pol.Kind != kind {
				continue
			}
			key := in.ID
			if pol.TypedCode {
				key = in.Code
			}
			reject := func(r Reason) {
				q.Rejections = append(q.Rejections, Rejection{InstrumentID: in.ID, Key: key, Type: in.Type, Stage: in.Type, Reason: r})
			}
			if r := f.check(in, pol, &o, at); r != "" {
				reject(r)
				continue
			}
			weights := make([]decimal.Decimal, len(o.Lines))
			scope := decimal.Zero
			for i, l := range o.Lines {
				if len(in.Products) == 0 || slices.Contains(in.Products, l.Product) {
					weights[i] = rem[i]
					scope = scope.Add(rem[i])
				}
			}
			if len(in.Products) > 0 && !slices.ContainsFunc(o.Lines, func(l Line) bool { return slices.Contains(in.Products, l.Product) }) {
				reject(ReasonProductScope)
				continue
			}
			var take decimal.Decimal
			switch {
			case kind == Deduction:
				take = decimal.Min(in.Balance.Sub(in.Held), scope)
				if f.overdraw {
					take = in.Balance.Sub(in.Held).Add(decimal.New(1, -sc))
				}
			case in.PercentOff.IsZero():
				take = decimal.Min(in.Amount, scope)
			default:
				take = decimal.Min(scope.Mul(in.PercentOff).Div(decimal.NewFromInt(100)).Round(sc), scope)
			}
			if take.Sign() <= 0 {
				reject(ReasonNothingLeft)
				continue
			}
			a := Application{InstrumentID: in.ID, Key: key, Type: in.Type, Stage: in.Type, Kind: kind,
				Amount: NewMoney(take, f.cur), Refund: pol.Refund}
			if scope.Sign() > 0 {
				shares, err := Allocate(NewMoney(decimal.Min(take, scope), f.cur), weights)
				if err != nil {
					return nil, err
				}
				for i, s := range shares {
					a.Lines = append(a.Lines, LineAmount{LineID: o.Lines[i].ID, Amount: s})
					rem[i] = rem[i].Sub(s.Amount())
					if kind == Discount {
						disc[i] = disc[i].Add(s.Amount())
					} else {
						ded[i] = ded[i].Add(s.Amount())
					}
				}
			}
			q.Applications = append(q.Applications, a)
		}
	}
	var tot Figures
	m := func(d decimal.Decimal) Money { return NewMoney(d, f.cur) }
	sum := func(a, b Money) Money { s, _ := a.Add(b); return s }
	tot = Figures{Total: m(decimal.Zero), Discount: m(decimal.Zero), Deducted: m(decimal.Zero), Cash: m(decimal.Zero), Invoiceable: m(decimal.Zero), NonInvoiceable: m(decimal.Zero)}
	for i, l := range o.Lines {
		fg := Figures{Total: m(l.Amount), Discount: m(disc[i]), Deducted: m(ded[i]), Cash: m(rem[i]), Invoiceable: m(rem[i]), NonInvoiceable: m(ded[i])}
		q.Lines = append(q.Lines, LineQuote{LineID: l.ID, Product: l.Product, Figures: fg})
		tot = Figures{Total: sum(tot.Total, fg.Total), Discount: sum(tot.Discount, fg.Discount), Deducted: sum(tot.Deducted, fg.Deducted),
			Cash: sum(tot.Cash, fg.Cash), Invoiceable: sum(tot.Invoiceable, fg.Invoiceable), NonInvoiceable: sum(tot.NonInvoiceable, fg.NonInvoiceable)}
	}
	q.Figures = tot
	return q, nil
}

func (f *fakePricer) check(in *Instrument, pol TypePolicy, o *Order, at time.Time) Reason {
	switch {
	case in.Account != "" && in.Account != o.Account:
		return ReasonNotOwner
	case in.UsedUp(pol):
		return ReasonUsedUp
	case !in.ExpiresOn(pol).IsZero() && !at.Before(in.ExpiresOn(pol)):
		return ReasonExpired
	case in.PendingActivation:
		return ReasonPendingActivation
	case pol.Kind == Deduction && in.Balance.Sub(in.Held).Sign() <= 0,
		pol.Kind == Discount && in.Redeemed+in.HeldRedemptions >= in.Redemptions():
		return ReasonHeld
	case !in.EffectiveFrom(pol).IsZero() && at.Before(in.EffectiveFrom(pol)):
		return ReasonNotYetEffective
	case in.Currency != "" && in.Currency != f.cur.Code():
		return ReasonCurrencyMismatch
	}
	return ""
}

// ---- helpers ----

var wt0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func wdec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func wcny(s string) Money { return MustMoney(s, "CNY") }

func newDeduction(typ, id, acct, amount string) Instrument {
	return Instrument{ID: id, Type: typ, Account: acct, Amount: wdec(amount), Balance: wdec(amount)}
}

func vch(id, acct, amount string) Instrument { return newDeduction("voucher", id, acct, amount) }

// buy is a new subscription order of acct with lines l1, l2, ... of product ecs.
func buy(id, acct string, amounts ...string) Order {
	o := Order{ID: id, Account: acct, Type: OrderNew, Payment: PaySubscription}
	for i, a := range amounts {
		o.Lines = append(o.Lines, Line{ID: "l" + strconv.Itoa(i+1), Product: "ecs", Amount: wdec(a)})
	}
	return o
}

func newTestWallet(t testing.TB, insts ...Instrument) *Wallet {
	t.Helper()
	w := NewWallet(newFakePricer(), wt0)
	for _, in := range insts {
		require.NoError(t, w.Grant(in))
	}
	return w
}

// walletState is everything a failed step must leave as it was.
type walletState struct {
	now      time.Time
	insts    []Instrument
	ledger   []LedgerEntry
	resv     []string
	orders   map[string][]string
	statuses map[string]Status
}

func snapshotOf(w *Wallet) walletState {
	s := walletState{now: w.Now(), insts: w.Instruments(), ledger: w.Ledger().Entries(), orders: map[string][]string{}, statuses: map[string]Status{}}
	for _, r := range w.store.Reservations() {
		s.resv = append(s.resv, r.OrderID+"@"+r.Until.String())
	}
	for _, e := range s.ledger {
		if rec, ok := w.Order(e.Order); ok {
			s.orders[e.Order] = rec.Refunded
		}
	}
	for _, in := range s.insts {
		s.statuses[in.ID], _ = w.Status(in.ID)
	}
	return s
}

func assertUnchanged(t *testing.T, w *Wallet, before walletState) {
	t.Helper()
	after := snapshotOf(w)
	assert.True(t, before.now.Equal(after.now), "clock moved from %s to %s", before.now, after.now)
	assert.Equal(t, before.insts, after.insts, "instruments changed")
	assert.Equal(t, len(before.ledger), len(after.ledger), "ledger grew")
	assert.Equal(t, before.resv, after.resv, "reservations changed")
	assert.Equal(t, before.orders, after.orders, "orders changed")
	assert.Equal(t, before.statuses, after.statuses, "statuses changed")
}

// assertStepErr checks that err carries code and that the wallet is as before.
func assertStepErr(t *testing.T, w *Wallet, before walletState, err error, want *CodeError) {
	t.Helper()
	require.Error(t, err)
	assert.ErrorIs(t, err, want)
	assert.Equal(t, want.Code(), ErrorCode(err), "error %v", err)
	assertUnchanged(t, w, before)
}

func balHeld(t *testing.T, w *Wallet, id string) (balance, held string) {
	t.Helper()
	in, ok := w.Instrument(id)
	require.True(t, ok, "instrument %s", id)
	return in.Balance.StringFixed(2), in.Held.StringFixed(2)
}

func statusOf(t *testing.T, w *Wallet, id string) Status {
	t.Helper()
	s, ok := w.Status(id)
	require.True(t, ok, "instrument %s", id)
	return s
}

func moneyMap(kv ...string) map[string]Money {
	m := map[string]Money{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = wcny(kv[i+1])
	}
	return m
}

func assertMoneyMap(t *testing.T, want, got map[string]Money) {
	t.Helper()
	require.NotNil(t, got)
	norm := func(m map[string]Money) map[string]string {
		out := map[string]string{}
		for k, v := range m {
			out[k] = v.String()
		}
		return out
	}
	assert.Equal(t, norm(want), norm(got))
}

func verifyLedger(t *testing.T, w *Wallet) {
	t.Helper()
	require.NoError(t, w.Ledger().Verify())
}

func kindsOf(es []LedgerEntry) []EntryKind {
	out := make([]EntryKind, len(es))
	for i, e := range es {
		out[i] = e.Kind
	}
	return out
}

// ---- Grant ----

func TestGrant(t *testing.T) {
	w := newTestWallet(t)
	before := snapshotOf(w)

	err := w.Grant(Instrument{ID: "x", Type: "gift_card", Amount: wdec("1"), Balance: wdec("1")})
	require.ErrorIs(t, err, ErrInvalidInstrument)
	assert.Contains(t, err.Error(), `"gift_card"`)
	assertUnchanged(t, w, before)

	err = w.Grant(Instrument{ID: "x", Type: "voucher", Amount: wdec("10"), Balance: wdec("20")})
	require.ErrorIs(t, err, ErrInvalidInstrument)
	assert.Contains(t, err.Error(), "balance")
	err = w.Grant(Instrument{ID: "x", Type: "voucher", Amount: wdec("10.005"), Balance: wdec("10")})
	require.ErrorIs(t, err, ErrInvalidInstrument)
	assert.Contains(t, err.Error(), "decimal places")
	err = w.Grant(Instrument{ID: "x", Type: "voucher", Amount: wdec("10"), Balance: wdec("10"), Held: wdec("1")})
	require.ErrorIs(t, err, ErrInvalidInstrument)
	err = w.Grant(Instrument{ID: "x", Type: "coupon", Amount: wdec("10"), Redeemed: 2})
	require.ErrorIs(t, err, ErrInvalidInstrument)
	err = w.Grant(Instrument{ID: "x", Type: "promo", PercentOff: wdec("10")})
	require.ErrorIs(t, err, ErrInvalidInstrument, "a typed-in type needs a code")
	assertUnchanged(t, w, before)

	require.NoError(t, w.Grant(Instrument{ID: "v", Type: "voucher", Account: "a", Code: "V-1", Amount: wdec("100"), Balance: wdec("60")}))
	before = snapshotOf(w)
	err = w.Grant(vch("v", "b", "5"))
	require.ErrorIs(t, err, ErrInvalidInstrument)
	assert.Contains(t, err.Error(), "already exists")
	err = w.Grant(Instrument{ID: "w", Type: "voucher", Code: "V-1", Amount: wdec("5"), Balance: wdec("5")})
	require.ErrorIs(t, err, ErrInvalidInstrument)
	assert.Contains(t, err.Error(), `"V-1"`)
	assertUnchanged(t, w, before)

	in, ok := w.Instrument("v")
	require.True(t, ok)
	assert.Equal(t, "CNY", in.Currency, "empty currency means the pricer's")
	assert.True(t, in.IssuedAt.Equal(wt0), "issued_at defaults to the clock")
	es := w.Ledger().ByInstrument("v")
	require.Len(t, es, 1)
	assert.Equal(t, EntryGrant, es[0].Kind)
	assert.Equal(t, int64(1), es[0].Seq)
	assert.Equal(t, "a", es[0].Account)
	assert.True(t, es[0].Amount.Equal(wcny("100")))
	assert.True(t, es[0].Delta.Equal(wcny("-40")), "opening difference is the grant's delta, got %s", es[0].Delta)
	assert.True(t, es[0].BalanceAfter.Equal(wcny("60")))

	require.NoError(t, w.Grant(Instrument{ID: "p", Type: "promo", Account: "a", Code: "SPRING", PercentOff: wdec("10")}))
	require.NoError(t, w.Grant(Instrument{ID: "g", Type: "voucher", Account: "a", Code: "G-1", PendingActivation: true, Amount: wdec("5"), Balance: wdec("5")}))
	for _, id := range []string{"p", "g"} {
		in, _ := w.Instrument(id)
		assert.Empty(t, in.Account, "%s has no owner", id)
	}
	assert.Equal(t, StatusPendingActivation, statusOf(t, w, "g"))
	assert.Equal(t, []string{"g", "p", "v"}, idsOf(w.Instruments()))

	// Snapshots are copies.
	in.Products = append(in.Products, "ecs")
	in2, _ := w.Instrument("v")
	assert.Empty(t, in2.Products)

	// Granted already expired: its balance is lost from the start.
	require.NoError(t, w.Grant(Instrument{ID: "old", Type: "voucher", Account: "a", Amount: wdec("7"), Balance: wdec("7"), ExpiresAt: wt0}))
	assert.Equal(t, StatusExpired, statusOf(t, w, "old"))
	assert.Equal(t, []EntryKind{EntryGrant, EntryExpire}, kindsOf(w.Ledger().ByInstrument("old")))
	verifyLedger(t, w)
}

func idsOf(insts []Instrument) []string {
	out := make([]string, len(insts))
	for i := range insts {
		out[i] = insts[i].ID
	}
	return out
}

// ---- Quote and Checkout ----

func TestQuoteMatchesCheckout(t *testing.T) {
	w := newTestWallet(t,
		vch("v", "a", "120"),
		Instrument{ID: "c", Type: "coupon", Account: "a", Amount: wdec("30")},
		Instrument{ID: "p", Type: "promo", Code: "TEN", PercentOff: wdec("10")})
	o := buy("o1", "a", "200", "100")
	o.Codes = []string{"TEN"}
	q, err := w.Quote(o, wt0)
	require.NoError(t, err)
	before := snapshotOf(w)
	q2, err := w.Quote(o, wt0)
	require.NoError(t, err)
	assertUnchanged(t, w, before)
	assert.Equal(t, q, q2, "quoting twice gives the same quote")

	c, err := w.Checkout(o, wt0)
	require.NoError(t, err)
	assert.Equal(t, q.Figures, c.Figures)
	assert.Equal(t, q.Lines, c.Lines)
	assert.Equal(t, q.Applications, c.Applications)
	assert.Equal(t, "300.00", c.Total.Format())
	assert.Equal(t, "60.00", c.Discount.Format()) // 30 (10 %) + 30
	assert.Equal(t, "120.00", c.Deducted.Format())
	assert.Equal(t, "120.00", c.Cash.Format())
	a, ok := c.Applied("TEN")
	require.True(t, ok)
	assert.Equal(t, "p", a.InstrumentID)

	b, h := balHeld(t, w, "v")
	assert.Equal(t, []string{"0.00", "0.00"}, []string{b, h})
	assert.Equal(t, StatusUsedUp, statusOf(t, w, "v"))
	assert.Equal(t, StatusUsedUp, statusOf(t, w, "c"))
	assert.Equal(t, StatusUsedUp, statusOf(t, w, "p"))
	es := w.Ledger().ByOrder("o1")
	assert.Equal(t, []EntryKind{EntryRedeem, EntryRedeem, EntryDeduct}, kindsOf(es))
	assert.Equal(t, "p", es[0].Instrument)
	assert.Equal(t, 1, es[0].RedeemedAfter)
	assert.True(t, es[2].Delta.Equal(wcny("-120")))
	assert.True(t, es[2].BalanceAfter.Equal(wcny("0")))
	assert.Equal(t, "a", es[0].Account)

	rec, ok := w.Order("o1")
	require.True(t, ok)
	assert.Equal(t, c.Figures, rec.Quote.Figures)
	// The returned quote is the caller's own: changing it changes nothing stored.
	c.Applications[0].Lines[0].Amount = wcny("999")
	rec2, _ := w.Order("o1")
	assert.Equal(t, rec.Quote.Applications, rec2.Quote.Applications)
	verifyLedger(t, w)
}

func TestQuoteChangesNothingButTheClock(t *testing.T) {
	w := newTestWallet(t, Instrument{ID: "v", Type: "voucher", Account: "a", Amount: wdec("50"), Balance: wdec("50"), ExpiresAt: wt0.Add(time.Hour)})
	before := snapshotOf(w)
	// A failing quote does not move the clock, nor expire anything.
	_, err := w.Quote(buy("", "a", "10"), wt0.Add(2*time.Hour))
	assertStepErr(t, w, before, err, ErrInvalidOrder)

	q, err := w.Quote(buy("q", "a", "10"), wt0.Add(30*time.Minute))
	require.NoError(t, err)
	assert.Equal(t, "10.00", q.Deducted.Format())
	b, _ := balHeld(t, w, "v")
	assert.Equal(t, "50.00", b, "a quote commits nothing")
	assert.True(t, w.Now().Equal(wt0.Add(30*time.Minute)))
	assert.Equal(t, 1, w.Ledger().Len())

	_, err = w.Quote(buy("q", "a", "10"), wt0.Add(2*time.Hour))
	require.NoError(t, err)
	assert.Equal(t, StatusExpired, statusOf(t, w, "v"))
	es := w.Ledger().ByInstrument("v")
	require.Equal(t, []EntryKind{EntryGrant, EntryExpire}, kindsOf(es))
	assert.True(t, es[1].At.Equal(wt0.Add(time.Hour)), "the expiry is recorded when it happened")
	assert.True(t, es[1].Amount.Equal(wcny("50")))
	assert.True(t, es[1].Delta.IsZero())
	verifyLedger(t, w)
}

func TestOrderStepErrors(t *testing.T) {
	w := newTestWallet(t, vch("v", "a", "100"), vch("other", "b", "10"),
		Instrument{ID: "p", Type: "promo", Code: "TEN", PercentOff: wdec("10")})
	_, err := w.Checkout(buy("done", "a", "10"), wt0.Add(time.Minute))
	require.NoError(t, err)
	_, err = w.Reserve(buy("held", "a", "10"), wt0.Add(time.Minute), 10*time.Hour)
	require.NoError(t, err)
	now := w.Now()

	invalid := buy("bad", "a", "10")
	invalid.Lines = append(invalid.Lines, invalid.Lines[0])
	foreign := buy("fx", "a", "10")
	foreign.Lines[0].Currency = "USD"
	unknown := buy("unk", "a", "10")
	unknown.Use = []string{"nope"}
	noCode := buy("nc", "a", "10")
	noCode.Codes = []string{"ten"} // case-sensitive
	typedInUse := buy("tu", "a", "10")
	typedInUse.Use = []string{"p"}
	dupInvalid := invalid
	dupInvalid.ID = "done"
	invalidUnknown := unknown
	invalidUnknown.Lines = nil

	type op func(Order, time.Time) (*Quote, error)
	ops := map[string]op{
		"quote":    w.Quote,
		"checkout": w.Checkout,
		"reserve":  func(o Order, at time.Time) (*Quote, error) { return w.Reserve(o, at, time.Minute) },
	}
	for name, f := range ops {
		cases := []struct {
			o    Order
			at   time.Time
			want *CodeError
		}{
			{buy("new", "a", "1"), now.Add(-time.Nanosecond), ErrClockBackwards},
			{dupInvalid, now.Add(-time.Nanosecond), ErrClockBackwards},
			{invalid, now, ErrInvalidOrder},
			{typedInUse, now, ErrInvalidOrder},
			{invalidUnknown, now, ErrInvalidOrder},
			{foreign, now, ErrCurrencyMismatch},
			{unknown, now, ErrUnknownInstrument},
			{noCode, now, ErrCodeNotFound},
		}
		if name != "quote" {
			cases = append(cases,
				struct {
					o    Order
					at   time.Time
					want *CodeError
				}{buy("done", "a", "1"), now, ErrDuplicateOrder},
				struct {
					o    Order
					at   time.Time
					want *CodeError
				}{buy("held", "a", "1"), now.Add(time.Hour), ErrDuplicateOrder},
				struct {
					o    Order
					at   time.Time
					want *CodeError
				}{dupInvalid, now.Add(time.Hour), ErrDuplicateOrder})
		}
		for i, c := range cases {
			t.Run(fmt.Sprintf("%s/%d-%s", name, i, c.want.Code()), func(t *testing.T) {
				before := snapshotOf(w)
				q, err := f(c.o, c.at)
				assert.Nil(t, q)
				assertStepErr(t, w, before, err, c.want)
			})
		}
	}
	// A quote may reuse any order id.
	q, err := w.Quote(buy("done", "a", "1"), now)
	require.NoError(t, err)
	assert.Equal(t, "done", q.OrderID)
	verifyLedger(t, w)
}

func TestCheckoutDoesNotSpendOtherAccounts(t *testing.T) {
	w := newTestWallet(t, vch("mine", "a", "10"), vch("theirs", "b", "50"),
		Instrument{ID: "gift", Type: "voucher", Code: "G", PendingActivation: true, Amount: wdec("50"), Balance: wdec("50")},
		Instrument{ID: "p", Type: "promo", Code: "TEN", PercentOff: wdec("10")},
		Instrument{ID: "q", Type: "promo", Code: "TWENTY", PercentOff: wdec("20")})
	var seen []string
	w.p.(*fakePricer).seen = &seen

	o := buy("o1", "a", "100")
	o.Use = []string{"theirs", "gift", "mine", "ghost", "mine", "theirs"}
	o.Codes = []string{"TEN", "G", "TEN"}
	_, err := w.Quote(o, wt0)
	require.Error(t, err) // "mine" twice
	assert.Equal(t, []string{"gift", "mine", "p", "theirs"}, seen,
		"own + named in use + typed-in by code; unknown names stay absent; each once")

	o = buy("o2", "a", "100")
	q, err := w.Checkout(o, wt0)
	require.NoError(t, err)
	assert.Equal(t, []string{"mine"}, seen, "automatic selection sees only the buyer's own")
	assert.Equal(t, "10.00", q.Deducted.Format())

	o = buy("o3", "a", "100")
	o.Use = []string{"theirs"}
	q, err = w.Checkout(o, wt0)
	require.NoError(t, err)
	r, ok := q.Rejected("theirs")
	require.True(t, ok)
	assert.Equal(t, ReasonNotOwner, r.Reason)
	b, _ := balHeld(t, w, "theirs")
	assert.Equal(t, "50.00", b)
	verifyLedger(t, w)
}

func TestCarryOverFalseForfeitsLeftover(t *testing.T) {
	w := newTestWallet(t, newDeduction("oneshot", "once", "a", "100"))
	_, err := w.Reserve(buy("r1", "a", "30"), wt0, time.Hour)
	require.NoError(t, err)
	_, err = w.Checkout(buy("o1", "a", "20"), wt0)
	require.NoError(t, err)
	// 20 deducted; the 50 neither used nor held is forfeited; 30 stays held.
	b, h := balHeld(t, w, "once")
	assert.Equal(t, []string{"30.00", "30.00"}, []string{b, h})
	es := w.Ledger().ByOrder("o1")
	require.Equal(t, []EntryKind{EntryDeduct, EntryForfeit}, kindsOf(es))
	assert.True(t, es[1].Amount.Equal(wcny("50")))
	assert.True(t, es[1].Delta.Equal(wcny("-50")))
	// The hold ends: a used one-shot instrument keeps nothing.
	res, err := w.Release("r1", wt0.Add(time.Minute))
	require.NoError(t, err)
	assertMoneyMap(t, moneyMap("once", "30"), res.Forfeited)
	b, h = balHeld(t, w, "once")
	assert.Equal(t, []string{"0.00", "0.00"}, []string{b, h})
	verifyLedger(t, w)
}

func TestOverdrawingPricerIsRefused(t *testing.T) {
	w := newTestWallet(t, vch("v", "a", "10"))
	w.p.(*fakePricer).overdraw = true
	before := snapshotOf(w)
	_, err := w.Checkout(buy("o1", "a", "100"), wt0.Add(time.Minute))
	assertStepErr(t, w, before, err, ErrOverdraw)
	_, err = w.Reserve(buy("o1", "a", "100"), wt0.Add(time.Minute), 0)
	assertStepErr(t, w, before, err, ErrOverdraw)
}

// ---- Reservations ----

func TestReserveCaptureRelease(t *testing.T) {
	w := newTestWallet(t, vch("v", "a", "100"), Instrument{ID: "c", Type: "coupon", Account: "a", Amount: wdec("5")})
	q, err := w.Reserve(buy("o1", "a", "85"), wt0, 15*time.Minute)
	require.NoError(t, err)
	assert.Equal(t, "80.00", q.Deducted.Format())
	b, h := balHeld(t, w, "v")
	assert.Equal(t, []string{"100.00", "80.00"}, []string{b, h})
	c, _ := w.Instrument("c")
	assert.Equal(t, 1, c.HeldRedemptions)
	assert.Equal(t, 0, c.Redeemed)
	r, ok := w.Reservation("o1")
	require.True(t, ok)
	assert.True(t, r.Until.Equal(wt0.Add(15*time.Minute)))

	// Other orders and quotes see only the rest, whatever their id.
	q2, err := w.Quote(buy("o1", "a", "50"), wt0)
	require.NoError(t, err)
	assert.Equal(t, "20.00", q2.Deducted.Format())
	rej, ok := q2.Rejected("c")
	require.True(t, ok)
	assert.Equal(t, ReasonHeld, rej.Reason)

	cq, err := w.Capture("o1", wt0.Add(10*time.Minute))
	require.NoError(t, err)
	assert.Equal(t, q.Figures, cq.Figures, "captured exactly as priced")
	b, h = balHeld(t, w, "v")
	assert.Equal(t, []string{"20.00", "0.00"}, []string{b, h})
	c, _ = w.Instrument("c")
	assert.Equal(t, []int{1, 0}, []int{c.Redeemed, c.HeldRedemptions})
	assert.Equal(t, []EntryKind{EntryReserve, EntryReserve, EntryCapture, EntryCapture}, kindsOf(w.Ledger().ByOrder("o1")))
	_, ok = w.Reservation("o1")
	assert.False(t, ok)
	_, ok = w.Order("o1")
	assert.True(t, ok)

	before := snapshotOf(w)
	_, err = w.Capture("o1", w.Now())
	assertStepErr(t, w, before, err, ErrNotReserved)
	_, err = w.Release("o1", w.Now())
	assertStepErr(t, w, before, err, ErrNotReserved)
	_, err = w.Release("never", w.Now())
	assertStepErr(t, w, before, err, ErrNotReserved)
	_, err = w.Capture("never", w.Now().Add(-time.Second))
	assertStepErr(t, w, before, err, ErrClockBackwards)
	_, err = w.Reserve(buy("o1", "a", "1"), w.Now(), 0)
	assertStepErr(t, w, before, err, ErrDuplicateOrder)

	// Reserve then release: what it held is free again, and the id may be reused.
	_, err = w.Reserve(buy("o2", "a", "15"), w.Now(), 0)
	require.NoError(t, err)
	_, h = balHeld(t, w, "v")
	assert.Equal(t, "15.00", h)
	before = snapshotOf(w)
	_, err = w.Release("o2", w.Now().Add(-time.Second))
	assertStepErr(t, w, before, err, ErrClockBackwards)
	res, err := w.Release("o2", w.Now())
	require.NoError(t, err)
	assert.Empty(t, res.Forfeited)
	assert.NotNil(t, res.Forfeited)
	b, h = balHeld(t, w, "v")
	assert.Equal(t, []string{"20.00", "0.00"}, []string{b, h})
	before = snapshotOf(w)
	_, err = w.Capture("o2", w.Now())
	assertStepErr(t, w, before, err, ErrNotReserved)
	_, err = w.Checkout(buy("o2", "a", "5"), w.Now())
	require.NoError(t, err, "a released id may be reused")
	verifyLedger(t, w)
}

func TestReservationTimesOut(t *testing.T) {
	w := newTestWallet(t, vch("v", "a", "100"))
	_, err := w.Reserve(buy("o1", "a", "80"), wt0, -1) // default hold: 30m
	require.NoError(t, err)
	r, ok := w.Reservation("o1")
	require.True(t, ok)
	assert.True(t, r.Until.Equal(wt0.Add(DefaultHold)))

	// Still live one instant before its deadline.
	_, err = w.Advance(wt0.Add(DefaultHold - time.Nanosecond))
	require.NoError(t, err)
	_, h := balHeld(t, w, "v")
	assert.Equal(t, "80.00", h)
	before := snapshotOf(w)
	_, err = w.Checkout(buy("o1", "a", "1"), w.Now())
	assertStepErr(t, w, before, err, ErrDuplicateOrder)

	// At its deadline (exclusive) it holds nothing; capture fails and changes nothing,
	// so the timeout is processed by the next step that succeeds.
	_, err = w.Capture("o1", wt0.Add(DefaultHold))
	assertStepErr(t, w, before, err, ErrNotReserved)
	q, err := w.Quote(buy("q", "a", "100"), wt0.Add(DefaultHold))
	require.NoError(t, err)
	assert.Equal(t, "100.00", q.Deducted.Format(), "a reservation past its deadline holds nothing")
	_, h = balHeld(t, w, "v")
	assert.Equal(t, "0.00", h)
	_, ok = w.Reservation("o1")
	assert.False(t, ok)
	rel := w.Ledger().ByOrder("o1")
	require.Equal(t, []EntryKind{EntryReserve, EntryRelease}, kindsOf(rel))
	assert.True(t, rel[1].At.Equal(wt0.Add(DefaultHold)), "released when the hold ended")

	// A timed-out id may be reused.
	_, err = w.Reserve(buy("o1", "a", "10"), w.Now(), time.Minute)
	require.NoError(t, err)
	verifyLedger(t, w)
}

func TestExpiryDuringHold(t *testing.T) {
	exp := wt0.Add(time.Hour)
	mk := func() *Wallet {
		w := newTestWallet(t, Instrument{ID: "v", Type: "voucher", Account: "a", Amount: wdec("100"), Balance: wdec("100"), ExpiresAt: exp})
		_, err := w.Reserve(buy("o1", "a", "80"), wt0, 2*time.Hour)
		require.NoError(t, err)
		return w
	}

	t.Run("timeout", func(t *testing.T) {
		w := mk()
		res, err := w.Advance(exp)
		require.NoError(t, err)
		assertMoneyMap(t, moneyMap("v", "20"), res.Forfeited)
		assert.Equal(t, StatusExpired, statusOf(t, w, "v"))
		b, h := balHeld(t, w, "v")
		assert.Equal(t, []string{"100.00", "80.00"}, []string{b, h})
		res, err = w.Advance(wt0.Add(2 * time.Hour))
		require.NoError(t, err)
		assertMoneyMap(t, moneyMap("v", "80"), res.Forfeited)
		b, h = balHeld(t, w, "v")
		assert.Equal(t, []string{"100.00", "0.00"}, []string{b, h}, "an expired instrument keeps showing its balance")
		verifyLedger(t, w)
	})
	t.Run("one step passes both", func(t *testing.T) {
		w := mk()
		res, err := w.Advance(wt0.Add(3 * time.Hour))
		require.NoError(t, err)
		assertMoneyMap(t, moneyMap("v", "100"), res.Forfeited)
		es := w.Ledger().ByInstrument("v")
		require.Equal(t, []EntryKind{EntryGrant, EntryReserve, EntryExpire, EntryRelease, EntryExpire}, kindsOf(es))
		assert.True(t, es[2].At.Equal(exp))
		assert.True(t, es[4].At.Equal(wt0.Add(2*time.Hour)))
		verifyLedger(t, w)
	})
	t.Run("release", func(t *testing.T) {
		w := mk()
		res, err := w.Release("o1", exp.Add(time.Minute))
		require.NoError(t, err)
		assertMoneyMap(t, moneyMap("v", "100"), res.Forfeited) // 20 at expiry, 80 at release
		verifyLedger(t, w)
	})
	t.Run("capture", func(t *testing.T) {
		w := mk()
		q, err := w.Capture("o1", exp.Add(time.Minute))
		require.NoError(t, err)
		assert.Equal(t, "80.00", q.Deducted.Format(), "captured as priced though expired since")
		b, h := balHeld(t, w, "v")
		assert.Equal(t, []string{"20.00", "0.00"}, []string{b, h})
		assert.Equal(t, StatusExpired, statusOf(t, w, "v"))
		verifyLedger(t, w)
	})
}

// ---- Advance and expiry ----

func TestAdvanceExpiresInTimeOrder(t *testing.T) {
	w := newTestWallet(t,
		Instrument{ID: "late", Type: "voucher", Account: "a", Amount: wdec("30"), Balance: wdec("30"), ExpiresAt: wt0.Add(3 * time.Hour)},
		Instrument{ID: "early", Type: "voucher", Amount: wdec("40"), Balance: wdec("40"), Code: "E", PendingActivation: true, ExpiresAt: wt0.Add(time.Hour)},
		Instrument{ID: "empty", Type: "voucher", Account: "a", Amount: wdec("40"), Balance: wdec("0"), ExpiresAt: wt0.Add(time.Hour)},
		Instrument{ID: "never", Type: "voucher", Account: "a", Amount: wdec("5"), Balance: wdec("5")},
		Instrument{ID: "claimed", Type: "coupon", Account: "a", Amount: wdec("5"), ClaimedAt: wt0})
	before := snapshotOf(w)
	_, err := w.Advance(wt0.Add(-time.Second))
	assertStepErr(t, w, before, err, ErrClockBackwards)

	res, err := w.Advance(wt0.Add(time.Hour - time.Nanosecond))
	require.NoError(t, err)
	assert.Empty(t, res.Forfeited)
	assert.Equal(t, StatusPendingActivation, statusOf(t, w, "early"))

	res, err = w.Advance(wt0.Add(40 * 24 * time.Hour))
	require.NoError(t, err)
	assert.True(t, res.At.Equal(wt0.Add(40*24*time.Hour)))
	assertMoneyMap(t, moneyMap("early", "40", "late", "30"), res.Forfeited)
	for id, want := range map[string]Status{"early": StatusExpired, "late": StatusExpired, "empty": StatusUsedUp, "never": StatusAvailable, "claimed": StatusExpired} {
		assert.Equal(t, want, statusOf(t, w, id), id)
	}
	exp := w.Ledger().Between(wt0.Add(time.Second), wt0.Add(41*24*time.Hour))
	require.Len(t, exp, 2, "a discount instrument expires with nothing recorded; nothing for a zero balance")
	assert.Equal(t, "early", exp[0].Instrument)
	assert.Equal(t, "late", exp[1].Instrument)
	assert.True(t, exp[0].At.Before(exp[1].At))

	res, err = w.Advance(w.Now())
	require.NoError(t, err)
	assert.Empty(t, res.Forfeited)
	assert.NotNil(t, res.Forfeited)
	verifyLedger(t, w)
}

// ---- Refunds ----

func TestRefund(t *testing.T) {
	exp := wt0.Add(24 * time.Hour)
	mk := func(t *testing.T) *Wallet {
		w := newTestWallet(t,
			Instrument{ID: "v", Type: "voucher", Account: "a", Amount: wdec("60"), Balance: wdec("60")},
			Instrument{ID: "cr", Type: "credit", Account: "a", Amount: wdec("90"), Balance: wdec("90"), ExpiresAt: exp},
			Instrument{ID: "c", Type: "coupon", Account: "a", Amount: wdec("50")})
		// 300 + 200: coupon 50 -> 270 + 180; voucher 60 (36/24) -> 234 + 156;
		// credit 90 (54/36) -> cash 180 + 120.
		q, err := w.Checkout(buy("o1", "a", "300", "200"), wt0)
		require.NoError(t, err)
		require.Equal(t, "300.00", q.Cash.Format())
		l1, _ := q.Line("l1")
		require.Equal(t, "180.00", l1.Cash.Format())
		return w
	}

	t.Run("forfeit and restore", func(t *testing.T) {
		w := mk(t)
		res, err := w.Refund(RefundRequest{OrderID: "o1"}, wt0.Add(time.Hour))
		require.NoError(t, err)
		assert.Equal(t, "o1", res.OrderID)
		assert.Equal(t, []string{"l1", "l2"}, res.Lines)
		assert.Equal(t, "300.00", res.CashRefund.Format())
		assertMoneyMap(t, moneyMap("v", "60"), res.Forfeited)
		assertMoneyMap(t, moneyMap("cr", "90"), res.Restored)
		b, _ := balHeld(t, w, "cr")
		assert.Equal(t, "90.00", b)
		b, _ = balHeld(t, w, "v")
		assert.Equal(t, "0.00", b)
		assert.Equal(t, StatusUsedUp, statusOf(t, w, "c"), "discount instruments stay used")
		assert.ElementsMatch(t, []EntryKind{EntryRefundForfeit, EntryRefundRestore},
			kindsOf(w.Ledger().Between(wt0.Add(time.Hour), wt0.Add(2*time.Hour))))

		before := snapshotOf(w)
		_, err = w.Refund(RefundRequest{OrderID: "o1"}, w.Now())
		assertStepErr(t, w, before, err, ErrAlreadyRefunded)
		_, err = w.Refund(RefundRequest{OrderID: "o1", Lines: []string{"l2"}}, w.Now())
		assertStepErr(t, w, before, err, ErrAlreadyRefunded)
		verifyLedger(t, w)
	})

	t.Run("partial lines and consumed", func(t *testing.T) {
		w := mk(t)
		res, err := w.Refund(RefundRequest{OrderID: "o1", Lines: []string{"l2"}, Consumed: wdec("40")}, wt0)
		require.NoError(t, err)
		assert.Equal(t, []string{"l2"}, res.Lines)
		assert.Equal(t, "80.00", res.CashRefund.Format()) // 120 - 40
		assertMoneyMap(t, moneyMap("v", "24"), res.Forfeited)
		assertMoneyMap(t, moneyMap("cr", "36"), res.Restored)
		b, _ := balHeld(t, w, "cr")
		assert.Equal(t, "36.00", b)

		res, err = w.Refund(RefundRequest{OrderID: "o1", Consumed: wdec("1000")}, wt0)
		require.NoError(t, err)
		assert.Equal(t, []string{"l1"}, res.Lines, "without lines: every line not yet refunded")
		assert.True(t, res.CashRefund.IsZero(), "never below zero")
		assertMoneyMap(t, moneyMap("v", "36"), res.Forfeited)
		assertMoneyMap(t, moneyMap("cr", "54"), res.Restored)
		rec, _ := w.Order("o1")
		assert.Equal(t, []string{"l2", "l1"}, rec.Refunded)
		verifyLedger(t, w)
	})

	t.Run("restore to an expired instrument is forfeited", func(t *testing.T) {
		w := mk(t)
		res, err := w.Refund(RefundRequest{OrderID: "o1", Lines: []string{"l1"}}, exp.Add(time.Hour))
		require.NoError(t, err)
		assertMoneyMap(t, moneyMap("v", "36", "cr", "54"), res.Forfeited)
		assertMoneyMap(t, moneyMap(), res.Restored)
		b, _ := balHeld(t, w, "cr")
		assert.Equal(t, "0.00", b, "its balance stays as it was")
		verifyLedger(t, w)
	})

	t.Run("includes what expired on the way", func(t *testing.T) {
		w := newTestWallet(t, vch("v", "a", "50"),
			Instrument{ID: "x", Type: "voucher", Account: "z", Amount: wdec("7"), Balance: wdec("7"), ExpiresAt: wt0.Add(time.Hour)})
		_, err := w.Checkout(buy("o1", "a", "30"), wt0)
		require.NoError(t, err)
		res, err := w.Refund(RefundRequest{OrderID: "o1"}, wt0.Add(2*time.Hour))
		require.NoError(t, err)
		assertMoneyMap(t, moneyMap("v", "30", "x", "7"), res.Forfeited)
		verifyLedger(t, w)
	})

	t.Run("errors", func(t *testing.T) {
		w := mk(t)
		_, err := w.Reserve(buy("r1", "a", "10"), wt0, 0)
		require.NoError(t, err)
		before := snapshotOf(w)
		now, later := w.Now(), w.Now().Add(time.Hour)
		cases := []struct {
			r    RefundRequest
			at   time.Time
			want *CodeError
		}{
			{RefundRequest{OrderID: "nope", Lines: []string{}}, now.Add(-time.Second), ErrClockBackwards},
			{RefundRequest{OrderID: "nope", Lines: []string{}}, later, ErrUnknownOrder},
			{RefundRequest{OrderID: "r1"}, later, ErrUnknownOrder},
			{RefundRequest{OrderID: "o1", Lines: []string{}}, later, ErrInvalidRefund},
			{RefundRequest{OrderID: "o1", Lines: []string{"l9"}}, later, ErrInvalidRefund},
			{RefundRequest{OrderID: "o1", Lines: []string{"l1", "l1"}}, later, ErrInvalidRefund},
			{RefundRequest{OrderID: "o1", Consumed: wdec("-0.01")}, later, ErrInvalidRefund},
		}
		for i, c := range cases {
			t.Run(strconv.Itoa(i), func(t *testing.T) {
				res, err := w.Refund(c.r, c.at)
				assert.Nil(t, res)
				assertStepErr(t, w, before, err, c.want)
			})
		}
		_, err = w.Refund(RefundRequest{OrderID: "o1", Lines: []string{"l1"}}, w.Now())
		require.NoError(t, err)
		before = snapshotOf(w)
		// invalid_refund comes before already_refunded.
		_, err = w.Refund(RefundRequest{OrderID: "o1", Lines: []string{"l1", "l1"}}, w.Now())
		assertStepErr(t, w, before, err, ErrInvalidRefund)
		_, err = w.Refund(RefundRequest{OrderID: "o1", Lines: []string{"l2", "l1"}}, w.Now())
		assertStepErr(t, w, before, err, ErrAlreadyRefunded)
		verifyLedger(t, w)
	})
}

// ---- Activation ----

func TestActivate(t *testing.T) {
	w := newTestWallet(t,
		Instrument{ID: "gift", Type: "voucher", Code: "Q-7F3A91", PendingActivation: true, Amount: wdec("50"), Balance: wdec("50"), ExpiresAt: wt0.Add(48 * time.Hour)},
		Instrument{ID: "promo", Type: "credit", Code: "PC-25", PendingActivation: true, Amount: wdec("25"), Balance: wdec("25")},
		Instrument{ID: "stale", Type: "voucher", Code: "OLD", PendingActivation: true, Amount: wdec("5"), Balance: wdec("5"), ExpiresAt: wt0.Add(time.Hour)},
		Instrument{ID: "p", Type: "promo", Code: "SPRING", PercentOff: wdec("10")},
		Instrument{ID: "owned", Type: "voucher", Account: "a", Code: "OWNED", Amount: wdec("5"), Balance: wdec("5")})

	q, err := w.Quote(Order{ID: "q", Account: "a", Type: OrderNew, Payment: PaySubscription, Use: []string{"gift"},
		Lines: []Line{{ID: "l1", Product: "oss", Amount: wdec("80")}}}, wt0)
	require.NoError(t, err)
	r, _ := q.Rejected("gift")
	assert.Equal(t, ReasonPendingActivation, r.Reason)

	before := snapshotOf(w)
	_, err = w.Activate("Q-7F3A91", "a", wt0.Add(-time.Second))
	assertStepErr(t, w, before, err, ErrClockBackwards)
	for _, code := range []string{"Q-0000000", "q-7f3a91", "SPRING", "OWNED", ""} {
		_, err = w.Activate(code, "a", wt0)
		assertStepErr(t, w, before, err, ErrCodeNotFound)
	}
	_, err = w.Activate("OLD", "a", wt0.Add(time.Hour))
	assertStepErr(t, w, before, err, ErrCodeExpired)

	in, err := w.Activate("Q-7F3A91", "a", wt0.Add(time.Minute))
	require.NoError(t, err)
	assert.Equal(t, "a", in.Account)
	assert.False(t, in.PendingActivation)
	assert.True(t, in.ActivatedAt.Equal(wt0.Add(time.Minute)))
	assert.Equal(t, StatusAvailable, statusOf(t, w, "gift"))
	es := w.Ledger().ByInstrument("gift")
	require.Equal(t, []EntryKind{EntryGrant, EntryActivate}, kindsOf(es))
	assert.Equal(t, "a", es[1].Account)
	assert.True(t, es[1].Amount.Equal(wcny("50")))

	before = snapshotOf(w)
	for _, acct := range []string{"b", "a"} {
		_, err = w.Activate("Q-7F3A91", acct, w.Now())
		assertStepErr(t, w, before, err, ErrCodeAlreadyUsed)
	}
	// Already used comes before expired.
	_, err = w.Activate("Q-7F3A91", "b", wt0.Add(72*time.Hour))
	assertStepErr(t, w, before, err, ErrCodeAlreadyUsed)

	o := buy("o1", "b", "80")
	o.Use = []string{"gift"}
	q, err = w.Checkout(o, w.Now())
	require.NoError(t, err)
	r, _ = q.Rejected("gift")
	assert.Equal(t, ReasonNotOwner, r.Reason)
	q, err = w.Checkout(buy("o2", "a", "80"), w.Now())
	require.NoError(t, err)
	a, ok := q.Applied("gift")
	require.True(t, ok)
	assert.Equal(t, "50.00", a.Amount.Format())

	// A type effective on activation covers charges from then on.
	at := w.Now().Add(time.Hour)
	in, err = w.Activate("PC-25", "b", at)
	require.NoError(t, err)
	pol, _ := w.p.Policy("credit")
	assert.True(t, in.EffectiveFrom(pol).Equal(at))
	assert.Equal(t, StatusAvailable, statusOf(t, w, "promo"))
	q, err = w.Checkout(buy("o3", "b", "7.25"), at)
	require.NoError(t, err)
	assert.Equal(t, "7.25", q.Deducted.Format())
	b, _ := balHeld(t, w, "promo")
	assert.Equal(t, "17.75", b)
	assert.Len(t, w.Ledger().ByAccount("b"), 2)
	verifyLedger(t, w)
}

func TestDiscountHeldAndRedemptions(t *testing.T) {
	w := newTestWallet(t, Instrument{ID: "c", Type: "coupon", Account: "a", Amount: wdec("10"), MaxRedemptions: 2})
	_, err := w.Reserve(buy("r1", "a", "50"), wt0, time.Minute)
	require.NoError(t, err)
	_, err = w.Checkout(buy("o1", "a", "50"), wt0)
	require.NoError(t, err)
	q, err := w.Quote(buy("q", "a", "50"), wt0)
	require.NoError(t, err)
	r, ok := q.Rejected("c")
	require.True(t, ok)
	assert.Equal(t, ReasonHeld, r.Reason)
	_, err = w.Advance(wt0.Add(time.Minute))
	require.NoError(t, err)
	q, err = w.Checkout(buy("o2", "a", "50"), w.Now())
	require.NoError(t, err)
	assert.Equal(t, "10.00", q.Discount.Format())
	assert.Equal(t, StatusUsedUp, statusOf(t, w, "c"))
	es := w.Ledger().ByInstrument("c")
	got := make([]string, len(es))
	for i, e := range es {
		got[i] = fmt.Sprintf("%s %d/%d", e.Kind, e.RedeemedAfter, e.HeldRedemptionsAfter)
	}
	assert.Equal(t, []string{"grant 0/0", "reserve 0/1", "redeem 1/1", "release 1/0", "redeem 2/0"}, got)
	verifyLedger(t, w)
}

func TestInstrumentsSorted(t *testing.T) {
	w := newTestWallet(t, vch("b", "x", "1"), vch("a", "x", "1"), vch("c", "y", "1"))
	got := idsOf(w.Instruments())
	assert.True(t, sort.StringsAreSorted(got))
	assert.Equal(t, []string{"a", "b", "c"}, got)
	_, ok := w.Instrument("zz")
	assert.False(t, ok)
	_, ok = w.Status("zz")
	assert.False(t, ok)
}
