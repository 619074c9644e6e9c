package voucher_test

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/voucherkit/voucherkit/internal/fixed"
	"github.com/voucherkit/voucherkit/store/memory"
	"github.com/voucherkit/voucherkit/voucher"
)

// The wallet's unit tests run on the in-memory store and a small fake engine; the
// tests with the real engines are in wallet_engine_test.go and property_test.go.

// fakePricer is a small engine for the wallet's tests: discounts (typed codes first,
// then chosen ones) and then deductions, each allocated in proportion over the in-scope
// lines still payable; no per-order limits. It checks instruments in the spec's order.
type fakePricer struct {
	cur      voucher.Currency
	policies map[string]voucher.TypePolicy
	// seen records the instrument ids of the last Quote call, when not nil.
	seen *[]string
	// overdraw makes every deduction take one unit more than it may (a broken pricer).
	overdraw bool
}

func newFakePricer() *fakePricer {
	return &fakePricer{cur: voucher.MustCurrency("CNY"), policies: map[string]voucher.TypePolicy{
		"voucher": {Name: "voucher", Kind: voucher.Deduction, CarryOver: true, Refund: voucher.RefundForfeit},
		"credit":  {Name: "credit", Kind: voucher.Deduction, CarryOver: true, Refund: voucher.RefundRestore, EffectiveOnActivation: true},
		"oneshot": {Name: "oneshot", Kind: voucher.Deduction, Refund: voucher.RefundRestore},
		"coupon":  {Name: "coupon", Kind: voucher.Discount, ClaimValidity: 30 * 24 * time.Hour},
		"promo":   {Name: "promo", Kind: voucher.Discount, TypedCode: true},
	}}
}

func (f *fakePricer) Currency() voucher.Currency { return f.cur }

func (f *fakePricer) Policy(t string) (voucher.TypePolicy, bool) {
	p, ok := f.policies[t]
	return p, ok
}

func (f *fakePricer) Quote(o voucher.Order, insts []voucher.Instrument, at time.Time) (*voucher.Quote, error) {
	if f.seen != nil {
		ids := make([]string, len(insts))
		for i := range insts {
			ids[i] = insts[i].ID
		}
		*f.seen = ids
	}
	cands, err := f.candidates(o, insts)
	if err != nil {
		return nil, err
	}
	p := &fakePricing{f: f, o: &o, at: at,
		rem:  make([]decimal.Decimal, len(o.Lines)),
		disc: make([]decimal.Decimal, len(o.Lines)),
		ded:  make([]decimal.Decimal, len(o.Lines)),
		q:    &voucher.Quote{OrderID: o.ID, Account: o.Account, RuleSet: "fake@1", Currency: f.cur.Code(), At: at}}
	for i, l := range o.Lines {
		p.rem[i] = l.Amount
	}
	for _, kind := range []voucher.Kind{voucher.Discount, voucher.Deduction} {
		for _, in := range cands {
			if f.policies[in.Type].Kind != kind {
				continue
			}
			if err := p.apply(in); err != nil {
				return nil, err
			}
		}
	}
	p.figures()
	return p.q, nil
}

// checkOrder refuses what the engine refuses before pricing, in its order: an invalid
// order, a typed-in instrument named in use, a line in another currency, an unknown
// instrument named in use.
func (f *fakePricer) checkOrder(o voucher.Order, byID map[string]*voucher.Instrument) error {
	if err := o.Validate(); err != nil {
		return err
	}
	for _, id := range o.Use {
		if in, ok := byID[id]; ok && f.policies[in.Type].TypedCode {
			return fmt.Errorf("%w: %q is typed in", voucher.ErrInvalidOrder, id)
		}
	}
	for _, l := range o.Lines {
		if l.Currency != "" && l.Currency != f.cur.Code() {
			return fmt.Errorf("%w: line %s", voucher.ErrCurrencyMismatch, l.ID)
		}
	}
	for _, id := range o.Use {
		if _, ok := byID[id]; !ok {
			return fmt.Errorf("%w: %q", voucher.ErrUnknownInstrument, id)
		}
	}
	return nil
}

// candidates checks o (see checkOrder) and returns the instruments of insts it
// considers: those of its codes (code_not_found when one has none), then those it
// names in use, or else, without use, its account's own that are not typed in.
func (f *fakePricer) candidates(o voucher.Order, insts []voucher.Instrument) ([]*voucher.Instrument, error) {
	byID := make(map[string]*voucher.Instrument, len(insts))
	for i := range insts {
		byID[insts[i].ID] = &insts[i]
	}
	if err := f.checkOrder(o, byID); err != nil {
		return nil, err
	}
	var cands []*voucher.Instrument
	for _, code := range o.Codes {
		var hit *voucher.Instrument
		for i := range insts {
			if insts[i].Code == code && f.policies[insts[i].Type].TypedCode {
				hit = &insts[i]
			}
		}
		if hit == nil {
			return nil, fmt.Errorf("%w: %q", voucher.ErrCodeNotFound, code)
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
	return cands, nil
}

// fakePricing is one quote of the fake pricer in the making: what is left to pay of
// each line (rem), and what discounts and deductions took of it.
type fakePricing struct {
	f              *fakePricer
	o              *voucher.Order
	at             time.Time
	rem, disc, ded []decimal.Decimal
	q              *voucher.Quote
}

// apply applies instrument in, or rejects it: when a check fails, when no line is in
// its products, or when it would take nothing. What it takes is split in proportion
// over the in-scope lines still payable.
func (p *fakePricing) apply(in *voucher.Instrument) error {
	f, o := p.f, p.o
	pol := f.policies[in.Type]
	kind := pol.Kind
	key := in.ID
	if pol.TypedCode {
		key = in.Code
	}
	reject := func(r voucher.Reason) {
		p.q.Rejections = append(p.q.Rejections, voucher.Rejection{InstrumentID: in.ID, Key: key, Type: in.Type, Stage: in.Type, Reason: r})
	}
	if r := f.check(in, pol, o, p.at); r != "" {
		reject(r)
		return nil
	}
	weights := make([]decimal.Decimal, len(o.Lines))
	scope := decimal.Zero
	for i, l := range o.Lines {
		if len(in.Products) == 0 || slices.Contains(in.Products, l.Product) {
			weights[i] = p.rem[i]
			scope = scope.Add(p.rem[i])
		}
	}
	if len(in.Products) > 0 && !slices.ContainsFunc(o.Lines, func(l voucher.Line) bool { return slices.Contains(in.Products, l.Product) }) {
		reject(voucher.ReasonProductScope)
		return nil
	}
	take := f.take(in, kind, scope)
	if take.Sign() <= 0 {
		reject(voucher.ReasonNothingLeft)
		return nil
	}
	a := voucher.Application{InstrumentID: in.ID, Key: key, Account: in.Account, Type: in.Type, Stage: in.Type, Kind: kind,
		Amount: voucher.NewMoney(take, f.cur), Refund: pol.Refund}
	if scope.Sign() > 0 {
		shares, err := f.split(decimal.Min(take, scope), weights)
		if err != nil {
			return err
		}
		for i, s := range shares {
			a.Lines = append(a.Lines, voucher.LineAmount{LineID: o.Lines[i].ID, Amount: voucher.NewMoney(s, f.cur)})
			p.rem[i] = p.rem[i].Sub(s)
			if kind == voucher.Discount {
				p.disc[i] = p.disc[i].Add(s)
			} else {
				p.ded[i] = p.ded[i].Add(s)
			}
		}
	}
	p.q.Applications = append(p.q.Applications, a)
	return nil
}

// take is what instrument in, of kind, takes of scope, the in-scope lines still
// payable: a deduction what it has available (one unit more when the pricer
// overdraws), a fixed discount its amount, a percentage its share; never more than
// scope, unless overdrawing.
func (f *fakePricer) take(in *voucher.Instrument, kind voucher.Kind, scope decimal.Decimal) decimal.Decimal {
	switch {
	case kind == voucher.Deduction:
		if f.overdraw {
			return in.Available().Add(decimal.New(1, -f.cur.Scale()))
		}
		return decimal.Min(in.Available(), scope)
	case in.PercentOff == nil:
		return decimal.Min(in.Amount, scope)
	default:
		return decimal.Min(scope.Mul(*in.PercentOff).Div(decimal.NewFromInt(100)).Round(f.cur.Scale()), scope)
	}
}

// figures fills in the quote's figures, for each line and in total: its cash is what
// is left to pay, invoiceable; what deductions took is not.
func (p *fakePricing) figures() {
	f, q := p.f, p.q
	m := func(d decimal.Decimal) voucher.Money { return voucher.NewMoney(d, f.cur) }
	sum := func(a, b voucher.Money) voucher.Money { s, _ := a.Add(b); return s }
	tot := voucher.Figures{Total: m(decimal.Zero), Discount: m(decimal.Zero), Deducted: m(decimal.Zero), Cash: m(decimal.Zero), Invoiceable: m(decimal.Zero), NonInvoiceable: m(decimal.Zero)}
	for i, l := range p.o.Lines {
		fg := voucher.Figures{Total: m(l.Amount), Discount: m(p.disc[i]), Deducted: m(p.ded[i]), Cash: m(p.rem[i]), Invoiceable: m(p.rem[i]), NonInvoiceable: m(p.ded[i])}
		q.Lines = append(q.Lines, voucher.LineQuote{LineID: l.ID, Product: l.Product, Figures: fg})
		tot = voucher.Figures{Total: sum(tot.Total, fg.Total), Discount: sum(tot.Discount, fg.Discount), Deducted: sum(tot.Deducted, fg.Deducted),
			Cash: sum(tot.Cash, fg.Cash), Invoiceable: sum(tot.Invoiceable, fg.Invoiceable), NonInvoiceable: sum(tot.NonInvoiceable, fg.NonInvoiceable)}
	}
	q.Figures = tot
}

// split allocates amount over weights in proportion, to the cent (the engine's
// allocator, internal/fixed.Proportional).
func (f *fakePricer) split(amount decimal.Decimal, weights []decimal.Decimal) ([]decimal.Decimal, error) {
	units, ok := fixed.Exact(amount, f.cur.Scale())
	ws := make([]int64, len(weights))
	for i, w := range weights {
		var wok bool
		ws[i], wok = fixed.Exact(w, f.cur.Scale())
		ok = ok && wok
	}
	out := make([]int64, len(ws))
	if !ok || !fixed.Proportional(units, ws, out) {
		return nil, fmt.Errorf("%w: cannot split %s over %v", voucher.ErrInvalidMoney, amount, weights)
	}
	shares := make([]decimal.Decimal, len(out))
	for i, u := range out {
		shares[i] = fixed.ToDecimal(u, f.cur.Scale())
	}
	return shares, nil
}

func (f *fakePricer) check(in *voucher.Instrument, pol voucher.TypePolicy, o *voucher.Order, at time.Time) voucher.Reason {
	exp, eff := in.ExpiresOn(pol), in.EffectiveFrom(pol)
	switch {
	case in.Account != "" && in.Account != o.Account:
		return voucher.ReasonNotOwner
	case in.UsedUp(pol):
		return voucher.ReasonUsedUp
	case exp != nil && !at.Before(*exp):
		return voucher.ReasonExpired
	case in.PendingActivation:
		return voucher.ReasonPendingActivation
	case pol.Kind == voucher.Deduction && in.Available().Sign() <= 0,
		pol.Kind == voucher.Discount && in.Redeemed+in.HeldRedemptions >= in.Redemptions():
		return voucher.ReasonHeld
	case eff != nil && at.Before(*eff):
		return voucher.ReasonNotYetEffective
	case in.Currency != "" && in.Currency != f.cur.Code():
		return voucher.ReasonCurrencyMismatch
	}
	return ""
}

// ---- helpers ----

var (
	wt0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	ctx = context.Background()
)

func wdec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func wcny(s string) voucher.Money { return voucher.MustMoney(s, "CNY") }

// newDeduction is a deduction instrument with no Balance: it starts at its face value.
func newDeduction(typ, id, acct, amount string) voucher.Instrument {
	return voucher.Instrument{ID: id, Type: typ, Account: acct, Amount: wdec(amount)}
}

func vch(id, acct, amount string) voucher.Instrument {
	return newDeduction("voucher", id, acct, amount)
}

// buy is a new subscription order of acct with lines l1, l2, ... of product ecs.
func buy(id, acct string, amounts ...string) voucher.Order {
	o := voucher.Order{ID: id, Account: acct, Type: voucher.OrderNew, Payment: voucher.PaySubscription}
	for i, a := range amounts {
		o.Lines = append(o.Lines, voucher.Line{ID: "l" + strconv.Itoa(i+1), Product: "ecs", Amount: wdec(a)})
	}
	return o
}

// testWallet is a wallet on the in-memory store with the fake pricer; st is the same
// store, for reading what the wallet wrote and for breaking it on purpose.
type testWallet struct {
	*voucher.Wallet
	st *memory.Store
	p  *fakePricer
}

// newTestWallet grants insts at wt0.
func newTestWallet(t testing.TB, insts ...voucher.Instrument) *testWallet {
	t.Helper()
	tw := &testWallet{st: memory.New(), p: newFakePricer()}
	tw.Wallet = voucher.NewWallet(tw.p, tw.st)
	for _, in := range insts {
		require.NoError(t, tw.Grant(ctx, in, wt0))
	}
	return tw
}

// testAccounts are the accounts the tests use; a snapshot reads each one's clock.
var testAccounts = []string{"", "a", "b", "x", "y", "z", "acct-0", "acct-1", "acct-2", "acct-3"}

// walletState is everything a failed step must leave as it was, read through the
// Store interface in one view.
type walletState struct {
	clocks map[string]time.Time
	insts  []voucher.StoredInstrument
	ledger []voucher.LedgerEntry
	resv   []voucher.Reservation
	orders []voucher.OrderRecord
}

func snapshotOf(t testing.TB, st voucher.Store) walletState {
	t.Helper()
	s := walletState{clocks: map[string]time.Time{}}
	err := st.View(ctx, func(ctx context.Context, tx voucher.Tx) error {
		var err error
		for _, a := range testAccounts {
			c, ok, err := tx.Account(ctx, a)
			if err != nil {
				return err
			}
			if ok {
				s.clocks[a] = c
			}
			orders, err := tx.AccountOrders(ctx, a, "", 0)
			if err != nil {
				return err
			}
			s.orders = append(s.orders, orders...)
		}
		if s.insts, err = tx.Instruments(ctx, "", 0); err != nil {
			return err
		}
		if s.resv, err = tx.Reservations(ctx, "", 0); err != nil {
			return err
		}
		s.ledger, err = tx.Entries(ctx, voucher.LedgerQuery{})
		return err
	})
	require.NoError(t, err)
	return s
}

func (w *testWallet) snapshot(t testing.TB) walletState { t.Helper(); return snapshotOf(t, w.st) }

func assertUnchanged(t *testing.T, w *testWallet, before walletState) {
	t.Helper()
	after := w.snapshot(t)
	assert.Equal(t, len(before.clocks), len(after.clocks), "accounts with a clock")
	for a, c := range before.clocks {
		assert.True(t, c.Equal(after.clocks[a]), "account %q's clock moved from %s to %s", a, c, after.clocks[a])
	}
	assert.Equal(t, before.insts, after.insts, "instruments changed")
	assert.Equal(t, before.ledger, after.ledger, "ledger changed")
	assert.Equal(t, before.resv, after.resv, "reservations changed")
	assert.Equal(t, before.orders, after.orders, "orders changed")
}

// assertStepErr checks that err carries code and that the wallet is as before.
func assertStepErr(t *testing.T, w *testWallet, before walletState, err error, want *voucher.CodeError) {
	t.Helper()
	require.Error(t, err)
	assert.ErrorIs(t, err, want)
	assert.Equal(t, want.Code(), voucher.ErrorCode(err), "error %v", err)
	assertUnchanged(t, w, before)
}

func (w *testWallet) inst(t testing.TB, id string) voucher.StoredInstrument {
	t.Helper()
	si, ok, err := w.Instrument(ctx, id)
	require.NoError(t, err)
	require.True(t, ok, "instrument %s", id)
	return si
}

func balHeld(t testing.TB, w *testWallet, id string) (balance, held string) {
	t.Helper()
	in := w.inst(t, id).Instrument
	return in.CurrentBalance().StringFixed(2), in.Held.StringFixed(2)
}

// statusOf is the status of instrument id at at, as stored.
func statusOf(t testing.TB, w *testWallet, id string, at time.Time) voucher.Status {
	t.Helper()
	s, err := w.Status(ctx, id, at)
	require.NoError(t, err, "instrument %s", id)
	return s
}

// clockOf is account's clock; it fails the test when the account has never stepped.
func clockOf(t testing.TB, w *voucher.Wallet, account string) time.Time {
	t.Helper()
	c, ok, err := w.Clock(ctx, account)
	require.NoError(t, err)
	require.True(t, ok, "account %q has no clock", account)
	return c
}

func ledger(t testing.TB, w *voucher.Wallet, q voucher.LedgerQuery) []voucher.LedgerEntry {
	t.Helper()
	es, err := w.Ledger(ctx, q)
	require.NoError(t, err)
	return es
}

func ledgerLen(t testing.TB, w *voucher.Wallet) int {
	t.Helper()
	return len(ledger(t, w, voucher.LedgerQuery{}))
}

func byInstrument(t testing.TB, w *voucher.Wallet, id string) []voucher.LedgerEntry {
	t.Helper()
	return ledger(t, w, voucher.LedgerQuery{Instrument: id})
}

func byOrder(t testing.TB, w *voucher.Wallet, id string) []voucher.LedgerEntry {
	t.Helper()
	return ledger(t, w, voucher.LedgerQuery{Order: id})
}

func between(t testing.TB, w *voucher.Wallet, from, to time.Time) []voucher.LedgerEntry {
	t.Helper()
	return ledger(t, w, voucher.LedgerQuery{From: &from, To: &to})
}

func order(t testing.TB, w *voucher.Wallet, id string) (voucher.OrderRecord, bool) {
	t.Helper()
	rec, ok, err := w.Order(ctx, id)
	require.NoError(t, err)
	return rec, ok
}

func reservation(t testing.TB, w *voucher.Wallet, id string) (voucher.Reservation, bool) {
	t.Helper()
	r, ok, err := w.Reservation(ctx, id)
	require.NoError(t, err)
	return r, ok
}

func moneyMap(kv ...string) map[string]voucher.Money {
	m := map[string]voucher.Money{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = wcny(kv[i+1])
	}
	return m
}

func assertMoneyMap(t *testing.T, want, got map[string]voucher.Money) {
	t.Helper()
	require.NotNil(t, got)
	norm := func(m map[string]voucher.Money) map[string]string {
		out := map[string]string{}
		for k, v := range m {
			out[k] = v.String()
		}
		return out
	}
	assert.Equal(t, norm(want), norm(got))
}

func verifyLedger(t testing.TB, w *voucher.Wallet) {
	t.Helper()
	require.NoError(t, w.Verify(ctx))
}

func kindsOf(es []voucher.LedgerEntry) []voucher.EntryKind {
	out := make([]voucher.EntryKind, len(es))
	for i, e := range es {
		out[i] = e.Kind
	}
	return out
}

func idsOf(views []voucher.InstrumentView) []string {
	out := make([]string, len(views))
	for i := range views {
		out[i] = views[i].ID()
	}
	return out
}

func instruments(t testing.TB, w *voucher.Wallet, account string, at time.Time) []voucher.InstrumentView {
	t.Helper()
	vs, err := w.Instruments(ctx, account, at)
	require.NoError(t, err)
	return vs
}

// ---- Grant ----

// assertInvalidGrantsRefused checks that w refuses, with invalid_instrument and
// changing nothing, instruments of an unknown type, with a balance above the face
// value, finer than the currency, held, revoked or redeemed, and a typed-in type
// without a code; and a grant after the year 9999 with invalid_time.
func assertInvalidGrantsRefused(t *testing.T, w *testWallet) {
	t.Helper()
	before := w.snapshot(t)
	err := w.Grant(ctx, voucher.Instrument{ID: "x", Type: "gift_card", Amount: wdec("1")}, wt0)
	require.ErrorIs(t, err, voucher.ErrInvalidInstrument)
	assert.Contains(t, err.Error(), `"gift_card"`)
	assertUnchanged(t, w, before)

	err = w.Grant(ctx, voucher.Instrument{ID: "x", Type: "voucher", Amount: wdec("10"), Balance: voucher.Ptr(wdec("20"))}, wt0)
	require.ErrorIs(t, err, voucher.ErrInvalidInstrument)
	assert.Contains(t, err.Error(), "balance")
	err = w.Grant(ctx, voucher.Instrument{ID: "x", Type: "voucher", Amount: wdec("10.005")}, wt0)
	require.ErrorIs(t, err, voucher.ErrInvalidInstrument)
	assert.Contains(t, err.Error(), "decimal places")
	err = w.Grant(ctx, voucher.Instrument{ID: "x", Type: "voucher", Amount: wdec("10"), Held: wdec("1")}, wt0)
	require.ErrorIs(t, err, voucher.ErrInvalidInstrument)
	assert.Contains(t, err.Error(), "held")
	err = w.Grant(ctx, voucher.Instrument{ID: "x", Type: "voucher", Amount: wdec("10"), Revoked: true}, wt0)
	require.ErrorIs(t, err, voucher.ErrInvalidInstrument)
	assert.Contains(t, err.Error(), "revoked")
	err = w.Grant(ctx, voucher.Instrument{ID: "x", Type: "coupon", Amount: wdec("10"), Redeemed: 2}, wt0)
	require.ErrorIs(t, err, voucher.ErrInvalidInstrument)
	err = w.Grant(ctx, voucher.Instrument{ID: "x", Type: "promo", PercentOff: voucher.Ptr(wdec("10"))}, wt0)
	require.ErrorIs(t, err, voucher.ErrInvalidInstrument, "a typed-in type needs a code")
	err = w.Grant(ctx, vch("x", "a", "10"), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC))
	require.ErrorIs(t, err, voucher.ErrInvalidTime, "a time after 9999")
	assertUnchanged(t, w, before)
}

func TestGrant(t *testing.T) {
	w := newTestWallet(t)
	assertInvalidGrantsRefused(t, w)

	require.NoError(t, w.Grant(ctx, voucher.Instrument{ID: "v", Type: "voucher", Account: "a", Code: "V-1", Amount: wdec("100"), Balance: voucher.Ptr(wdec("60"))}, wt0))
	before := w.snapshot(t)
	err := w.Grant(ctx, vch("v", "b", "5"), wt0)
	require.ErrorIs(t, err, voucher.ErrInvalidInstrument)
	assert.Contains(t, err.Error(), "already exists")
	err = w.Grant(ctx, voucher.Instrument{ID: "w", Type: "voucher", Code: "V-1", Amount: wdec("5")}, wt0)
	require.ErrorIs(t, err, voucher.ErrInvalidInstrument)
	assert.Contains(t, err.Error(), `"V-1"`)
	assertUnchanged(t, w, before)

	si := w.inst(t, "v")
	in := si.Instrument
	assert.Equal(t, "CNY", in.Currency, "empty currency means the pricer's")
	require.NotNil(t, in.IssuedAt)
	assert.True(t, in.IssuedAt.Equal(wt0), "issued_at defaults to the grant's time")
	assert.Equal(t, voucher.Deduction, si.Kind)
	assert.Nil(t, si.Expires)
	assert.True(t, clockOf(t, w.Wallet, "a").Equal(wt0), "a grant is a step on its owner's account")
	es := byInstrument(t, w.Wallet, "v")
	require.Len(t, es, 1)
	assert.Equal(t, voucher.EntryGrant, es[0].Kind)
	assert.Positive(t, es[0].Seq)
	assert.Equal(t, "a", es[0].Account)
	assert.True(t, es[0].Amount.Equal(wcny("100")))
	assert.True(t, es[0].Delta.Equal(wcny("-40")), "opening difference is the grant's delta, got %s", es[0].Delta)
	assert.True(t, es[0].BalanceAfter.Equal(wcny("60")))

	require.NoError(t, w.Grant(ctx, voucher.Instrument{ID: "p", Type: "promo", Account: "a", Code: "SPRING", PercentOff: voucher.Ptr(wdec("10"))}, wt0))
	require.NoError(t, w.Grant(ctx, voucher.Instrument{ID: "g", Type: "voucher", Account: "a", Code: "G-1", PendingActivation: true, Amount: wdec("5")}, wt0))
	for _, id := range []string{"p", "g"} {
		assert.Empty(t, w.inst(t, id).Instrument.Account, "%s has no owner", id)
	}
	assert.Equal(t, voucher.StatusPendingActivation, statusOf(t, w, "g", wt0))
	assert.Equal(t, []string{"v"}, idsOf(instruments(t, w.Wallet, "a", wt0)))

	// Reads are copies.
	in.Products = append(in.Products, "ecs")
	*in.Balance = wdec("1")
	in2 := w.inst(t, "v").Instrument
	assert.Empty(t, in2.Products)
	assert.Equal(t, "60", in2.CurrentBalance().String())

	// Granted already expired: its balance is lost from the start.
	require.NoError(t, w.Grant(ctx, voucher.Instrument{ID: "old", Type: "voucher", Account: "a", Amount: wdec("7"), ExpiresAt: voucher.Ptr(wt0)}, wt0))
	assert.Equal(t, voucher.StatusExpired, statusOf(t, w, "old", wt0))
	assert.Equal(t, []voucher.EntryKind{voucher.EntryGrant, voucher.EntryExpire}, kindsOf(byInstrument(t, w.Wallet, "old")))
	assert.True(t, w.inst(t, "old").Expired)

	// A grant on an account is a step at its time: not before the account's clock.
	before = w.snapshot(t)
	err = w.Grant(ctx, vch("late", "a", "1"), wt0.Add(-time.Second))
	assertStepErr(t, w, before, err, voucher.ErrClockBackwards)
	require.NoError(t, w.Grant(ctx, vch("other", "b", "1"), wt0.Add(-time.Second)), "another account's clock is its own")
	verifyLedger(t, w.Wallet)
}

// ---- Quote and Checkout ----

func TestQuoteMatchesCheckout(t *testing.T) {
	w := newTestWallet(t,
		vch("v", "a", "120"),
		voucher.Instrument{ID: "c", Type: "coupon", Account: "a", Amount: wdec("30")},
		voucher.Instrument{ID: "p", Type: "promo", Code: "TEN", PercentOff: voucher.Ptr(wdec("10"))})
	o := buy("o1", "a", "200", "100")
	o.Codes = []string{"TEN"}
	q, err := w.Quote(ctx, o, wt0)
	require.NoError(t, err)
	before := w.snapshot(t)
	q2, err := w.Quote(ctx, o, wt0)
	require.NoError(t, err)
	assertUnchanged(t, w, before)
	assert.Equal(t, q, q2, "quoting twice gives the same quote")

	c, err := w.Checkout(ctx, o, wt0)
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
	assert.Equal(t, voucher.StatusUsedUp, statusOf(t, w, "v", wt0))
	assert.Equal(t, voucher.StatusUsedUp, statusOf(t, w, "c", wt0))
	assert.Equal(t, voucher.StatusUsedUp, statusOf(t, w, "p", wt0))
	es := byOrder(t, w.Wallet, "o1")
	assert.Equal(t, []voucher.EntryKind{voucher.EntryRedeem, voucher.EntryRedeem, voucher.EntryDeduct}, kindsOf(es))
	assert.Equal(t, "p", es[0].Instrument)
	assert.Equal(t, 1, es[0].RedeemedAfter)
	assert.True(t, es[2].Delta.Equal(wcny("-120")))
	assert.True(t, es[2].BalanceAfter.Equal(wcny("0")))
	assert.Equal(t, "a", es[0].Account)

	rec, ok := order(t, w.Wallet, "o1")
	require.True(t, ok)
	assert.Equal(t, "a", rec.Account)
	assert.True(t, rec.At.Equal(wt0))
	assert.Equal(t, c.Figures, rec.Quote.Figures)
	// The returned quote is the caller's own: changing it changes nothing stored.
	c.Applications[0].Lines[0].Amount = wcny("999")
	rec2, _ := order(t, w.Wallet, "o1")
	assert.Equal(t, rec.Quote.Applications, rec2.Quote.Applications)
	recs, err := w.Orders(ctx, "a", "", 0)
	require.NoError(t, err)
	require.Len(t, recs, 1)
	assert.Equal(t, "o1", recs[0].ID)
	verifyLedger(t, w.Wallet)
}

// A quote writes nothing: not the clock, not what expires or ends by its time. The
// next step on the account records those, at the moments they happened.
func TestQuoteWritesNothing(t *testing.T) {
	w := newTestWallet(t, voucher.Instrument{ID: "v", Type: "voucher", Account: "a", Amount: wdec("50"), ExpiresAt: voucher.Ptr(wt0.Add(time.Hour))})
	before := w.snapshot(t)
	_, err := w.Quote(ctx, buy("", "a", "10"), wt0.Add(2*time.Hour))
	assertStepErr(t, w, before, err, voucher.ErrInvalidOrder)

	q, err := w.Quote(ctx, buy("q", "a", "10"), wt0.Add(30*time.Minute))
	require.NoError(t, err)
	assert.Equal(t, "10.00", q.Deducted.Format())
	assertUnchanged(t, w, before)

	// Past the expiry: the quote sees it expired, and still writes nothing.
	q, err = w.Quote(ctx, buy("q", "a", "10"), wt0.Add(2*time.Hour))
	require.NoError(t, err)
	r, ok := q.Rejected("v")
	require.True(t, ok)
	assert.Equal(t, voucher.ReasonExpired, r.Reason)
	assertUnchanged(t, w, before)
	assert.True(t, clockOf(t, w.Wallet, "a").Equal(wt0), "a quote does not move the clock")
	// So an earlier step on the account still succeeds.
	_, err = w.Checkout(ctx, buy("o1", "a", "5"), wt0.Add(time.Minute))
	require.NoError(t, err)

	_, err = w.Advance(ctx, "a", wt0.Add(2*time.Hour))
	require.NoError(t, err)
	assert.Equal(t, voucher.StatusExpired, statusOf(t, w, "v", wt0.Add(2*time.Hour)))
	es := byInstrument(t, w.Wallet, "v")
	require.Equal(t, []voucher.EntryKind{voucher.EntryGrant, voucher.EntryDeduct, voucher.EntryExpire}, kindsOf(es))
	assert.True(t, es[2].At.Equal(wt0.Add(time.Hour)), "the expiry is recorded when it happened")
	assert.True(t, es[2].Amount.Equal(wcny("45")))
	assert.True(t, es[2].Delta.IsZero())
	verifyLedger(t, w.Wallet)
}

// orderStepErrCase is an order step that must fail with want at at.
type orderStepErrCase struct {
	o    voucher.Order
	at   time.Time
	want *voucher.CodeError
}

// orderStepErrCases are the steps on an order that fail on TestOrderStepErrors'
// wallet (account a's clock at now, order done checked out, order held reserved):
// before the clock, at a time before the year 1, and with orders that are invalid,
// name a typed-in instrument in use or an unknown one, are in another currency or have
// a code that is not found. With duplicates (checkout and reserve, not quote), also
// the ids of orders that exist, of either account.
func orderStepErrCases(now time.Time, duplicates bool) []orderStepErrCase {
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
	noAccount := buy("na", "", "10")

	cases := []orderStepErrCase{
		{buy("new", "a", "1"), now.Add(-time.Nanosecond), voucher.ErrClockBackwards},
		{dupInvalid, now.Add(-time.Nanosecond), voucher.ErrClockBackwards},
		{invalid, now, voucher.ErrInvalidOrder},
		{typedInUse, now, voucher.ErrInvalidOrder},
		{invalidUnknown, now, voucher.ErrInvalidOrder},
		{noAccount, now, voucher.ErrInvalidOrder},
		{foreign, now, voucher.ErrCurrencyMismatch},
		{unknown, now, voucher.ErrUnknownInstrument},
		{noCode, now, voucher.ErrCodeNotFound},
		{buy("new", "a", "1"), time.Date(0, 12, 31, 0, 0, 0, 0, time.UTC), voucher.ErrInvalidTime},
	}
	if duplicates {
		cases = append(cases,
			orderStepErrCase{buy("done", "a", "1"), now, voucher.ErrDuplicateOrder},
			orderStepErrCase{buy("held", "a", "1"), now.Add(time.Hour), voucher.ErrDuplicateOrder},
			orderStepErrCase{dupInvalid, now.Add(time.Hour), voucher.ErrDuplicateOrder},
			// The ids are one namespace: another account's order may not reuse one.
			orderStepErrCase{buy("done", "b", "1"), now, voucher.ErrDuplicateOrder},
			orderStepErrCase{buy("held", "b", "1"), now, voucher.ErrDuplicateOrder})
	}
	return cases
}

func TestOrderStepErrors(t *testing.T) {
	w := newTestWallet(t, vch("v", "a", "100"), vch("other", "b", "10"),
		voucher.Instrument{ID: "p", Type: "promo", Code: "TEN", PercentOff: voucher.Ptr(wdec("10"))})
	now := wt0.Add(time.Minute)
	_, err := w.Checkout(ctx, buy("done", "a", "10"), now)
	require.NoError(t, err)
	_, err = w.Reserve(ctx, buy("held", "a", "10"), now, 10*time.Hour)
	require.NoError(t, err)

	type op func(voucher.Order, time.Time) (*voucher.Quote, error)
	ops := map[string]op{
		"quote":    func(o voucher.Order, at time.Time) (*voucher.Quote, error) { return w.Quote(ctx, o, at) },
		"checkout": func(o voucher.Order, at time.Time) (*voucher.Quote, error) { return w.Checkout(ctx, o, at) },
		"reserve":  func(o voucher.Order, at time.Time) (*voucher.Quote, error) { return w.Reserve(ctx, o, at, time.Minute) },
	}
	for name, f := range ops {
		cases := orderStepErrCases(now, name != "quote")
		for i, c := range cases {
			t.Run(fmt.Sprintf("%s/%d-%s", name, i, c.want.Code()), func(t *testing.T) {
				before := w.snapshot(t)
				q, err := f(c.o, c.at)
				assert.Nil(t, q)
				assertStepErr(t, w, before, err, c.want)
			})
		}
		// Each account has its own clock: account b (last step at wt0) may step before
		// account a's clock, and each op then gets a new id.
		q, err := f(buy(name+"-b", "b", "1"), now.Add(-time.Nanosecond))
		require.NoError(t, err, name)
		assert.Equal(t, name+"-b", q.OrderID)
	}
	// A quote may reuse any order id.
	q, err := w.Quote(ctx, buy("done", "a", "1"), now)
	require.NoError(t, err)
	assert.Equal(t, "done", q.OrderID)
	q, err = w.Quote(ctx, buy("held", "a", "1"), now)
	require.NoError(t, err)
	assert.Equal(t, "held", q.OrderID)
	verifyLedger(t, w.Wallet)
}

func TestCheckoutDoesNotSpendOtherAccounts(t *testing.T) {
	w := newTestWallet(t, vch("mine", "a", "10"), vch("theirs", "b", "50"),
		voucher.Instrument{ID: "gift", Type: "voucher", Code: "G", PendingActivation: true, Amount: wdec("50")},
		voucher.Instrument{ID: "p", Type: "promo", Code: "TEN", PercentOff: voucher.Ptr(wdec("10"))},
		voucher.Instrument{ID: "q", Type: "promo", Code: "TWENTY", PercentOff: voucher.Ptr(wdec("20"))})
	var seen []string
	w.p.seen = &seen

	o := buy("o1", "a", "100")
	o.Use = []string{"theirs", "gift", "mine", "ghost", "mine", "theirs"}
	o.Codes = []string{"TEN", "G", "TEN"}
	_, err := w.Quote(ctx, o, wt0)
	require.Error(t, err) // "mine" twice
	assert.Equal(t, []string{"gift", "mine", "p", "theirs"}, seen,
		"own + named in use + typed-in by code; unknown names stay absent; each once")

	o = buy("o2", "a", "100")
	q, err := w.Checkout(ctx, o, wt0)
	require.NoError(t, err)
	assert.Equal(t, []string{"mine"}, seen, "automatic selection sees only the buyer's own")
	assert.Equal(t, "10.00", q.Deducted.Format())

	o = buy("o3", "a", "100")
	o.Use = []string{"theirs"}
	q, err = w.Checkout(ctx, o, wt0)
	require.NoError(t, err)
	r, ok := q.Rejected("theirs")
	require.True(t, ok)
	assert.Equal(t, voucher.ReasonNotOwner, r.Reason)
	b, _ := balHeld(t, w, "theirs")
	assert.Equal(t, "50.00", b)
	verifyLedger(t, w.Wallet)
}

func TestCarryOverFalseForfeitsLeftover(t *testing.T) {
	w := newTestWallet(t, newDeduction("oneshot", "once", "a", "100"))
	_, err := w.Reserve(ctx, buy("r1", "a", "30"), wt0, time.Hour)
	require.NoError(t, err)
	_, err = w.Checkout(ctx, buy("o1", "a", "20"), wt0)
	require.NoError(t, err)
	// 20 deducted; the 50 neither used nor held is forfeited; 30 stays held.
	b, h := balHeld(t, w, "once")
	assert.Equal(t, []string{"30.00", "30.00"}, []string{b, h})
	assert.True(t, w.inst(t, "once").Used)
	es := byOrder(t, w.Wallet, "o1")
	require.Equal(t, []voucher.EntryKind{voucher.EntryDeduct, voucher.EntryForfeit}, kindsOf(es))
	assert.True(t, es[1].Amount.Equal(wcny("50")))
	assert.True(t, es[1].Delta.Equal(wcny("-50")))
	// The hold ends: a used one-shot instrument keeps nothing.
	res, err := w.Release(ctx, "r1", wt0.Add(time.Minute))
	require.NoError(t, err)
	assertMoneyMap(t, moneyMap("once", "30"), res.Forfeited)
	b, h = balHeld(t, w, "once")
	assert.Equal(t, []string{"0.00", "0.00"}, []string{b, h})
	verifyLedger(t, w.Wallet)
}

func TestOverdrawingPricerIsRefused(t *testing.T) {
	w := newTestWallet(t, vch("v", "a", "10"))
	w.p.overdraw = true
	before := w.snapshot(t)
	_, err := w.Checkout(ctx, buy("o1", "a", "100"), wt0.Add(time.Minute))
	assertStepErr(t, w, before, err, voucher.ErrOverdraw)
	_, err = w.Reserve(ctx, buy("o1", "a", "100"), wt0.Add(time.Minute), 0)
	assertStepErr(t, w, before, err, voucher.ErrOverdraw)
}

// ---- Reservations ----

func TestReserveCaptureRelease(t *testing.T) {
	w := newTestWallet(t, vch("v", "a", "100"), voucher.Instrument{ID: "c", Type: "coupon", Account: "a", Amount: wdec("5")})
	q, err := w.Reserve(ctx, buy("o1", "a", "85"), wt0, 15*time.Minute)
	require.NoError(t, err)
	assert.Equal(t, "80.00", q.Deducted.Format())
	b, h := balHeld(t, w, "v")
	assert.Equal(t, []string{"100.00", "80.00"}, []string{b, h})
	c := w.inst(t, "c").Instrument
	assert.Equal(t, 1, c.HeldRedemptions)
	assert.Equal(t, 0, c.Redeemed)
	r, ok := reservation(t, w.Wallet, "o1")
	require.True(t, ok)
	assert.True(t, r.Until.Equal(wt0.Add(15*time.Minute)))
	assert.True(t, r.At.Equal(wt0))
	assert.Equal(t, "a", r.Account)

	// Other orders and quotes see only the rest, whatever their id.
	q2, err := w.Quote(ctx, buy("o1", "a", "50"), wt0)
	require.NoError(t, err)
	assert.Equal(t, "20.00", q2.Deducted.Format())
	rej, ok := q2.Rejected("c")
	require.True(t, ok)
	assert.Equal(t, voucher.ReasonHeld, rej.Reason)

	now := wt0.Add(10 * time.Minute)
	cq, err := w.Capture(ctx, "o1", now)
	require.NoError(t, err)
	assert.Equal(t, q.Figures, cq.Figures, "captured exactly as priced")
	b, h = balHeld(t, w, "v")
	assert.Equal(t, []string{"20.00", "0.00"}, []string{b, h})
	c = w.inst(t, "c").Instrument
	assert.Equal(t, []int{1, 0}, []int{c.Redeemed, c.HeldRedemptions})
	assert.Equal(t, []voucher.EntryKind{voucher.EntryReserve, voucher.EntryReserve, voucher.EntryCapture, voucher.EntryCapture}, kindsOf(byOrder(t, w.Wallet, "o1")))
	_, ok = reservation(t, w.Wallet, "o1")
	assert.False(t, ok)
	_, ok = order(t, w.Wallet, "o1")
	assert.True(t, ok)

	before := w.snapshot(t)
	_, err = w.Capture(ctx, "o1", now)
	assertStepErr(t, w, before, err, voucher.ErrNotReserved)
	_, err = w.Release(ctx, "o1", now)
	assertStepErr(t, w, before, err, voucher.ErrNotReserved)
	_, err = w.Release(ctx, "never", now)
	assertStepErr(t, w, before, err, voucher.ErrNotReserved)
	// An id never reserved has no account whose clock the time could be before.
	_, err = w.Capture(ctx, "never", now.Add(-time.Second))
	assertStepErr(t, w, before, err, voucher.ErrNotReserved)
	_, err = w.Reserve(ctx, buy("o1", "a", "1"), now, 0)
	assertStepErr(t, w, before, err, voucher.ErrDuplicateOrder)

	// Reserve then release: what it held is free again, and the id may be reused.
	_, err = w.Reserve(ctx, buy("o2", "a", "15"), now, 0)
	require.NoError(t, err)
	_, h = balHeld(t, w, "v")
	assert.Equal(t, "15.00", h)
	before = w.snapshot(t)
	_, err = w.Release(ctx, "o2", now.Add(-time.Second))
	assertStepErr(t, w, before, err, voucher.ErrClockBackwards)
	_, err = w.Capture(ctx, "o2", now.Add(-time.Second))
	assertStepErr(t, w, before, err, voucher.ErrClockBackwards)
	res, err := w.Release(ctx, "o2", now)
	require.NoError(t, err)
	assert.Empty(t, res.Forfeited)
	assert.NotNil(t, res.Forfeited)
	assert.True(t, res.At.Equal(now))
	b, h = balHeld(t, w, "v")
	assert.Equal(t, []string{"20.00", "0.00"}, []string{b, h})
	before = w.snapshot(t)
	_, err = w.Capture(ctx, "o2", now)
	assertStepErr(t, w, before, err, voucher.ErrNotReserved)
	_, err = w.Checkout(ctx, buy("o2", "a", "5"), now)
	require.NoError(t, err, "a released id may be reused")
	verifyLedger(t, w.Wallet)
}

func TestReservationTimesOut(t *testing.T) {
	w := newTestWallet(t, vch("v", "a", "100"))
	_, err := w.Reserve(ctx, buy("o1", "a", "80"), wt0, -1) // default hold: 30m
	require.NoError(t, err)
	r, ok := reservation(t, w.Wallet, "o1")
	require.True(t, ok)
	assert.True(t, r.Until.Equal(wt0.Add(voucher.DefaultHold)))

	// Still live one instant before its deadline.
	_, err = w.Advance(ctx, "a", wt0.Add(voucher.DefaultHold-time.Nanosecond))
	require.NoError(t, err)
	_, h := balHeld(t, w, "v")
	assert.Equal(t, "80.00", h)
	before := w.snapshot(t)
	_, err = w.Checkout(ctx, buy("o1", "a", "1"), wt0.Add(voucher.DefaultHold-time.Nanosecond))
	assertStepErr(t, w, before, err, voucher.ErrDuplicateOrder)

	// At its deadline (exclusive) it holds nothing; capture fails and changes nothing,
	// so the timeout is recorded by the next step on the account that succeeds.
	end := wt0.Add(voucher.DefaultHold)
	_, err = w.Capture(ctx, "o1", end)
	assertStepErr(t, w, before, err, voucher.ErrNotReserved)
	// A quote sees it ended, and writes nothing.
	q, err := w.Quote(ctx, buy("q", "a", "100"), end)
	require.NoError(t, err)
	assert.Equal(t, "100.00", q.Deducted.Format(), "a reservation past its deadline holds nothing")
	assertUnchanged(t, w, before)
	_, err = w.Advance(ctx, "a", end)
	require.NoError(t, err)
	_, h = balHeld(t, w, "v")
	assert.Equal(t, "0.00", h)
	_, ok = reservation(t, w.Wallet, "o1")
	assert.False(t, ok)
	rel := byOrder(t, w.Wallet, "o1")
	require.Equal(t, []voucher.EntryKind{voucher.EntryReserve, voucher.EntryRelease}, kindsOf(rel))
	assert.True(t, rel[1].At.Equal(end), "released when the hold ended")

	// A timed-out id may be reused.
	_, err = w.Reserve(ctx, buy("o1", "a", "10"), end, time.Minute)
	require.NoError(t, err)
	verifyLedger(t, w.Wallet)
}

func TestExpiryDuringHold(t *testing.T) {
	exp := wt0.Add(time.Hour)
	mk := func(t *testing.T) *testWallet {
		w := newTestWallet(t, voucher.Instrument{ID: "v", Type: "voucher", Account: "a", Amount: wdec("100"), ExpiresAt: voucher.Ptr(exp)})
		_, err := w.Reserve(ctx, buy("o1", "a", "80"), wt0, 2*time.Hour)
		require.NoError(t, err)
		return w
	}

	t.Run("timeout", func(t *testing.T) {
		w := mk(t)
		res, err := w.Advance(ctx, "a", exp)
		require.NoError(t, err)
		assertMoneyMap(t, moneyMap("v", "20"), res.Forfeited)
		assert.Equal(t, voucher.StatusExpired, statusOf(t, w, "v", exp))
		b, h := balHeld(t, w, "v")
		assert.Equal(t, []string{"100.00", "80.00"}, []string{b, h})
		res, err = w.Advance(ctx, "a", wt0.Add(2*time.Hour))
		require.NoError(t, err)
		assertMoneyMap(t, moneyMap("v", "80"), res.Forfeited)
		b, h = balHeld(t, w, "v")
		assert.Equal(t, []string{"100.00", "0.00"}, []string{b, h}, "an expired instrument keeps showing its balance")
		verifyLedger(t, w.Wallet)
	})
	t.Run("one step passes both", func(t *testing.T) {
		w := mk(t)
		res, err := w.Advance(ctx, "a", wt0.Add(3*time.Hour))
		require.NoError(t, err)
		assertMoneyMap(t, moneyMap("v", "100"), res.Forfeited)
		es := byInstrument(t, w.Wallet, "v")
		require.Equal(t, []voucher.EntryKind{voucher.EntryGrant, voucher.EntryReserve, voucher.EntryExpire, voucher.EntryRelease, voucher.EntryExpire}, kindsOf(es))
		assert.True(t, es[2].At.Equal(exp))
		assert.True(t, es[4].At.Equal(wt0.Add(2*time.Hour)))
		verifyLedger(t, w.Wallet)
	})
	t.Run("release", func(t *testing.T) {
		w := mk(t)
		res, err := w.Release(ctx, "o1", exp.Add(time.Minute))
		require.NoError(t, err)
		assertMoneyMap(t, moneyMap("v", "100"), res.Forfeited) // 20 at expiry, 80 at release
		verifyLedger(t, w.Wallet)
	})
	t.Run("capture", func(t *testing.T) {
		w := mk(t)
		q, err := w.Capture(ctx, "o1", exp.Add(time.Minute))
		require.NoError(t, err)
		assert.Equal(t, "80.00", q.Deducted.Format(), "captured as priced though expired since")
		b, h := balHeld(t, w, "v")
		assert.Equal(t, []string{"20.00", "0.00"}, []string{b, h})
		assert.Equal(t, voucher.StatusExpired, statusOf(t, w, "v", exp.Add(time.Minute)))
		verifyLedger(t, w.Wallet)
	})
}

// ---- Advance and expiry ----

func TestAdvanceExpiresInTimeOrder(t *testing.T) {
	w := newTestWallet(t,
		voucher.Instrument{ID: "late", Type: "voucher", Account: "a", Amount: wdec("30"), ExpiresAt: voucher.Ptr(wt0.Add(3 * time.Hour))},
		voucher.Instrument{ID: "early", Type: "voucher", Amount: wdec("40"), Code: "E", PendingActivation: true, ExpiresAt: voucher.Ptr(wt0.Add(time.Hour))},
		voucher.Instrument{ID: "soon", Type: "voucher", Account: "a", Amount: wdec("20"), ExpiresAt: voucher.Ptr(wt0.Add(2 * time.Hour))},
		voucher.Instrument{ID: "empty", Type: "voucher", Account: "a", Amount: wdec("40"), Balance: voucher.Ptr(decimal.Zero), ExpiresAt: voucher.Ptr(wt0.Add(time.Hour))},
		voucher.Instrument{ID: "never", Type: "voucher", Account: "a", Amount: wdec("5")},
		voucher.Instrument{ID: "claimed", Type: "coupon", Account: "a", Amount: wdec("5"), ClaimedAt: voucher.Ptr(wt0)})
	before := w.snapshot(t)
	_, err := w.Advance(ctx, "a", wt0.Add(-time.Second))
	assertStepErr(t, w, before, err, voucher.ErrClockBackwards)

	res, err := w.Advance(ctx, "a", wt0.Add(time.Hour-time.Nanosecond))
	require.NoError(t, err)
	assert.Empty(t, res.Forfeited)
	assert.Equal(t, voucher.StatusPendingActivation, statusOf(t, w, "early", wt0.Add(time.Hour-time.Nanosecond)))

	far := wt0.Add(40 * 24 * time.Hour)
	res, err = w.Advance(ctx, "a", far)
	require.NoError(t, err)
	assert.True(t, res.At.Equal(far))
	assertMoneyMap(t, moneyMap("soon", "20", "late", "30"), res.Forfeited)
	for id, want := range map[string]voucher.Status{"early": voucher.StatusExpired, "late": voucher.StatusExpired, "soon": voucher.StatusExpired,
		"empty": voucher.StatusUsedUp, "never": voucher.StatusAvailable, "claimed": voucher.StatusExpired} {
		assert.Equal(t, want, statusOf(t, w, id, far), id)
	}
	exp := between(t, w.Wallet, wt0.Add(time.Second), wt0.Add(41*24*time.Hour))
	require.Len(t, exp, 2, "a discount instrument expires with nothing recorded; nothing for a zero balance")
	assert.Equal(t, "soon", exp[0].Instrument)
	assert.Equal(t, "late", exp[1].Instrument)
	assert.True(t, exp[0].At.Before(exp[1].At))
	assert.True(t, exp[0].At.Equal(wt0.Add(2*time.Hour)))
	// Advancing account a moves a alone: the instrument with no owner is left to the
	// sweep, and another account may still step earlier.
	assert.Equal(t, []voucher.EntryKind{voucher.EntryGrant}, kindsOf(byInstrument(t, w.Wallet, "early")))
	_, err = w.Advance(ctx, "b", wt0.Add(time.Minute))
	require.NoError(t, err)
	assert.True(t, clockOf(t, w.Wallet, "b").Equal(wt0.Add(time.Minute)))
	assert.True(t, clockOf(t, w.Wallet, "a").Equal(far))

	res, err = w.Expire(ctx, far)
	require.NoError(t, err)
	assertMoneyMap(t, moneyMap("early", "40"), res.Forfeited)
	es := byInstrument(t, w.Wallet, "early")
	require.Equal(t, []voucher.EntryKind{voucher.EntryGrant, voucher.EntryExpire}, kindsOf(es))
	assert.True(t, es[1].At.Equal(wt0.Add(time.Hour)), "recorded when it happened")

	res, err = w.Advance(ctx, "a", far)
	require.NoError(t, err)
	assert.Empty(t, res.Forfeited)
	assert.NotNil(t, res.Forfeited)
	verifyLedger(t, w.Wallet)
}

// ---- Refunds ----

func TestRefund(t *testing.T) {
	t.Run("forfeit and restore", testRefundForfeitAndRestore)
	t.Run("partial lines and consumed", testRefundPartialLinesAndConsumed)
	t.Run("zero consumed given is none", testRefundZeroConsumed)
	t.Run("restore to an expired instrument is forfeited", testRefundToExpiredInstrument)
	t.Run("includes what expired on the account's way", testRefundIncludesWhatExpired)
	t.Run("errors", testRefundErrors)
}

// refundExp is when the credit of refundWallet expires.
var refundExp = wt0.Add(24 * time.Hour)

// refundWallet is the wallet most subtests of TestRefund start from: account a's
// voucher v (60), credit cr (90, restored on refund, expiring at refundExp) and coupon c
// (50), all taken by order o1 of two lines, 300 and 200, checked out at wt0.
func refundWallet(t *testing.T) *testWallet {
	t.Helper()
	w := newTestWallet(t,
		voucher.Instrument{ID: "v", Type: "voucher", Account: "a", Amount: wdec("60")},
		voucher.Instrument{ID: "cr", Type: "credit", Account: "a", Amount: wdec("90"), ExpiresAt: voucher.Ptr(refundExp)},
		voucher.Instrument{ID: "c", Type: "coupon", Account: "a", Amount: wdec("50")})
	// 300 + 200: coupon 50 -> 270 + 180; voucher 60 (36/24) -> 234 + 156;
	// credit 90 (54/36) -> cash 180 + 120.
	q, err := w.Checkout(ctx, buy("o1", "a", "300", "200"), wt0)
	require.NoError(t, err)
	require.Equal(t, "300.00", q.Cash.Format())
	l1, _ := q.Line("l1")
	require.Equal(t, "180.00", l1.Cash.Format())
	return w
}

// testRefundForfeitAndRestore: a refund of the whole order returns its cash, forfeits
// the voucher's share and restores the credit's; discounts stay used, and a second
// refund of any line is already_refunded.
func testRefundForfeitAndRestore(t *testing.T) {
	w := refundWallet(t)
	now := wt0.Add(time.Hour)
	res, err := w.Refund(ctx, voucher.RefundRequest{OrderID: "o1"}, now)
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
	assert.Equal(t, voucher.StatusUsedUp, statusOf(t, w, "c", now), "discount instruments stay used")
	assert.ElementsMatch(t, []voucher.EntryKind{voucher.EntryRefundForfeit, voucher.EntryRefundRestore},
		kindsOf(between(t, w.Wallet, now, wt0.Add(2*time.Hour))))

	before := w.snapshot(t)
	_, err = w.Refund(ctx, voucher.RefundRequest{OrderID: "o1"}, now)
	assertStepErr(t, w, before, err, voucher.ErrAlreadyRefunded)
	_, err = w.Refund(ctx, voucher.RefundRequest{OrderID: "o1", Lines: []string{"l2"}}, now)
	assertStepErr(t, w, before, err, voucher.ErrAlreadyRefunded)
	verifyLedger(t, w.Wallet)
}

// testRefundPartialLinesAndConsumed: a refund of some lines returns their cash less
// what was consumed (never below zero), with each deduction's share of those lines; a
// refund without lines then refunds the lines not yet refunded.
func testRefundPartialLinesAndConsumed(t *testing.T) {
	w := refundWallet(t)
	res, err := w.Refund(ctx, voucher.RefundRequest{OrderID: "o1", Lines: []string{"l2"}, Consumed: voucher.Ptr(wdec("40"))}, wt0)
	require.NoError(t, err)
	assert.Equal(t, []string{"l2"}, res.Lines)
	assert.Equal(t, "80.00", res.CashRefund.Format()) // 120 - 40
	assertMoneyMap(t, moneyMap("v", "24"), res.Forfeited)
	assertMoneyMap(t, moneyMap("cr", "36"), res.Restored)
	b, _ := balHeld(t, w, "cr")
	assert.Equal(t, "36.00", b)

	res, err = w.Refund(ctx, voucher.RefundRequest{OrderID: "o1", Consumed: voucher.Ptr(wdec("1000"))}, wt0)
	require.NoError(t, err)
	assert.Equal(t, []string{"l1"}, res.Lines, "without lines: every line not yet refunded")
	assert.True(t, res.CashRefund.IsZero(), "never below zero")
	assertMoneyMap(t, moneyMap("v", "36"), res.Forfeited)
	assertMoneyMap(t, moneyMap("cr", "54"), res.Restored)
	rec, _ := order(t, w.Wallet, "o1")
	assert.Equal(t, []string{"l2", "l1"}, rec.Refunded)
	verifyLedger(t, w.Wallet)
}

// testRefundZeroConsumed: a consumed of zero given keeps nothing back.
func testRefundZeroConsumed(t *testing.T) {
	w := refundWallet(t)
	res, err := w.Refund(ctx, voucher.RefundRequest{OrderID: "o1", Lines: []string{"l2"}, Consumed: voucher.Ptr(decimal.Zero)}, wt0)
	require.NoError(t, err)
	assert.Equal(t, "120.00", res.CashRefund.Format())
}

// testRefundToExpiredInstrument: what would be restored to an instrument that has
// expired by the refund's time is forfeited, and its balance stays as it was.
func testRefundToExpiredInstrument(t *testing.T) {
	w := refundWallet(t)
	res, err := w.Refund(ctx, voucher.RefundRequest{OrderID: "o1", Lines: []string{"l1"}}, refundExp.Add(time.Hour))
	require.NoError(t, err)
	assertMoneyMap(t, moneyMap("v", "36", "cr", "54"), res.Forfeited)
	assertMoneyMap(t, moneyMap(), res.Restored)
	b, _ := balHeld(t, w, "cr")
	assert.Equal(t, "0.00", b, "its balance stays as it was")
	verifyLedger(t, w.Wallet)
}

// testRefundIncludesWhatExpired: a refund that moves the account's clock also forfeits
// what of the account expired on the way, and nothing of another account's.
func testRefundIncludesWhatExpired(t *testing.T) {
	w := newTestWallet(t, vch("v", "a", "50"),
		voucher.Instrument{ID: "y", Type: "voucher", Account: "a", Amount: wdec("9"), Products: []string{"oss"}, ExpiresAt: voucher.Ptr(wt0.Add(time.Hour))},
		voucher.Instrument{ID: "x", Type: "voucher", Account: "z", Amount: wdec("7"), ExpiresAt: voucher.Ptr(wt0.Add(time.Hour))})
	_, err := w.Checkout(ctx, buy("o1", "a", "30"), wt0)
	require.NoError(t, err)
	res, err := w.Refund(ctx, voucher.RefundRequest{OrderID: "o1"}, wt0.Add(2*time.Hour))
	require.NoError(t, err)
	assertMoneyMap(t, moneyMap("v", "30", "y", "9"), res.Forfeited)
	// Another account's instrument is that account's to expire.
	assert.Equal(t, []voucher.EntryKind{voucher.EntryGrant}, kindsOf(byInstrument(t, w.Wallet, "x")))
	verifyLedger(t, w.Wallet)
}

// testRefundErrors: each refund refused (before the clock, an unknown or reserved
// order, no lines, an unknown or repeated line, consumed negative or finer than the
// currency, a time past 9999) fails with its code and changes nothing; invalid_refund
// comes before already_refunded.
func testRefundErrors(t *testing.T) {
	w := refundWallet(t)
	_, err := w.Reserve(ctx, buy("r1", "a", "10"), wt0, 0)
	require.NoError(t, err)
	before := w.snapshot(t)
	now, later := wt0, wt0.Add(time.Hour)
	cases := []struct {
		r    voucher.RefundRequest
		at   time.Time
		want *voucher.CodeError
	}{
		{voucher.RefundRequest{OrderID: "o1", Lines: []string{}}, now.Add(-time.Second), voucher.ErrClockBackwards},
		{voucher.RefundRequest{OrderID: "nope", Lines: []string{}}, later, voucher.ErrUnknownOrder},
		{voucher.RefundRequest{OrderID: "r1"}, later, voucher.ErrUnknownOrder},
		{voucher.RefundRequest{OrderID: "o1", Lines: []string{}}, later, voucher.ErrInvalidRefund},
		{voucher.RefundRequest{OrderID: "o1", Lines: []string{"l9"}}, later, voucher.ErrInvalidRefund},
		{voucher.RefundRequest{OrderID: "o1", Lines: []string{"l1", "l1"}}, later, voucher.ErrInvalidRefund},
		{voucher.RefundRequest{OrderID: "o1", Consumed: voucher.Ptr(wdec("-0.01"))}, later, voucher.ErrInvalidRefund},
		{voucher.RefundRequest{OrderID: "o1", Consumed: voucher.Ptr(wdec("0.001"))}, later, voucher.ErrInvalidRefund},
		{voucher.RefundRequest{OrderID: "o1"}, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), voucher.ErrInvalidTime},
	}
	for i, c := range cases {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			res, err := w.Refund(ctx, c.r, c.at)
			assert.Nil(t, res)
			assertStepErr(t, w, before, err, c.want)
		})
	}
	_, err = w.Refund(ctx, voucher.RefundRequest{OrderID: "o1", Lines: []string{"l1"}}, now)
	require.NoError(t, err)
	before = w.snapshot(t)
	// invalid_refund comes before already_refunded.
	_, err = w.Refund(ctx, voucher.RefundRequest{OrderID: "o1", Lines: []string{"l1", "l1"}}, now)
	assertStepErr(t, w, before, err, voucher.ErrInvalidRefund)
	_, err = w.Refund(ctx, voucher.RefundRequest{OrderID: "o1", Lines: []string{"l2", "l1"}}, now)
	assertStepErr(t, w, before, err, voucher.ErrAlreadyRefunded)
	verifyLedger(t, w.Wallet)
}

// ---- Activation ----

func TestActivate(t *testing.T) {
	w := newTestWallet(t,
		voucher.Instrument{ID: "gift", Type: "voucher", Code: "Q-7F3A91", PendingActivation: true, Amount: wdec("50"), ExpiresAt: voucher.Ptr(wt0.Add(48 * time.Hour))},
		voucher.Instrument{ID: "promo", Type: "credit", Code: "PC-25", PendingActivation: true, Amount: wdec("25")},
		voucher.Instrument{ID: "stale", Type: "voucher", Code: "OLD", PendingActivation: true, Amount: wdec("5"), ExpiresAt: voucher.Ptr(wt0.Add(time.Hour))},
		voucher.Instrument{ID: "p", Type: "promo", Code: "SPRING", PercentOff: voucher.Ptr(wdec("10"))},
		voucher.Instrument{ID: "owned", Type: "voucher", Account: "a", Code: "OWNED", Amount: wdec("5")})

	q, err := w.Quote(ctx, voucher.Order{ID: "q", Account: "a", Type: voucher.OrderNew, Payment: voucher.PaySubscription, Use: []string{"gift"},
		Lines: []voucher.Line{{ID: "l1", Product: "oss", Amount: wdec("80")}}}, wt0)
	require.NoError(t, err)
	r, _ := q.Rejected("gift")
	assert.Equal(t, voucher.ReasonPendingActivation, r.Reason)

	before := w.snapshot(t)
	_, err = w.Activate(ctx, "Q-7F3A91", "a", wt0.Add(-time.Second))
	assertStepErr(t, w, before, err, voucher.ErrClockBackwards)
	for _, code := range []string{"Q-0000000", "q-7f3a91", "SPRING", "OWNED", ""} {
		_, err = w.Activate(ctx, code, "a", wt0)
		assertStepErr(t, w, before, err, voucher.ErrCodeNotFound)
	}
	_, err = w.Activate(ctx, "OLD", "a", wt0.Add(time.Hour))
	assertStepErr(t, w, before, err, voucher.ErrCodeExpired)
	_, err = w.Activate(ctx, "Q-7F3A91", "", wt0)
	assertStepErr(t, w, before, err, voucher.ErrInvalidInstrument)

	now := wt0.Add(time.Minute)
	in, err := w.Activate(ctx, "Q-7F3A91", "a", now)
	require.NoError(t, err)
	assert.Equal(t, "a", in.Account)
	assert.False(t, in.PendingActivation)
	require.NotNil(t, in.ActivatedAt)
	assert.True(t, in.ActivatedAt.Equal(now))
	assert.Equal(t, voucher.StatusAvailable, statusOf(t, w, "gift", now))
	assert.Equal(t, []string{"gift", "owned"}, idsOf(instruments(t, w.Wallet, "a", now)))
	es := byInstrument(t, w.Wallet, "gift")
	require.Equal(t, []voucher.EntryKind{voucher.EntryGrant, voucher.EntryActivate}, kindsOf(es))
	assert.Equal(t, "a", es[1].Account)
	assert.True(t, es[1].Amount.Equal(wcny("50")))

	before = w.snapshot(t)
	for _, acct := range []string{"b", "a"} {
		_, err = w.Activate(ctx, "Q-7F3A91", acct, now)
		assertStepErr(t, w, before, err, voucher.ErrCodeAlreadyUsed)
	}
	// Already used comes before expired.
	_, err = w.Activate(ctx, "Q-7F3A91", "b", wt0.Add(72*time.Hour))
	assertStepErr(t, w, before, err, voucher.ErrCodeAlreadyUsed)

	o := buy("o1", "b", "80")
	o.Use = []string{"gift"}
	q, err = w.Checkout(ctx, o, now)
	require.NoError(t, err)
	r, _ = q.Rejected("gift")
	assert.Equal(t, voucher.ReasonNotOwner, r.Reason)
	q, err = w.Checkout(ctx, buy("o2", "a", "80"), now)
	require.NoError(t, err)
	a, ok := q.Applied("gift")
	require.True(t, ok)
	assert.Equal(t, "50.00", a.Amount.Format())

	// A type effective on activation covers charges from then on.
	at := now.Add(time.Hour)
	in, err = w.Activate(ctx, "PC-25", "b", at)
	require.NoError(t, err)
	pol, _ := w.p.Policy("credit")
	require.NotNil(t, in.EffectiveFrom(pol))
	assert.True(t, in.EffectiveFrom(pol).Equal(at))
	assert.Equal(t, voucher.StatusAvailable, statusOf(t, w, "promo", at))
	q, err = w.Checkout(ctx, buy("o3", "b", "7.25"), at)
	require.NoError(t, err)
	assert.Equal(t, "7.25", q.Deducted.Format())
	b, _ := balHeld(t, w, "promo")
	assert.Equal(t, "17.75", b)
	assert.Len(t, ledger(t, w.Wallet, voucher.LedgerQuery{Account: "b"}), 2)
	verifyLedger(t, w.Wallet)
}

func TestDiscountHeldAndRedemptions(t *testing.T) {
	w := newTestWallet(t, voucher.Instrument{ID: "c", Type: "coupon", Account: "a", Amount: wdec("10"), MaxRedemptions: voucher.Ptr(2)})
	_, err := w.Reserve(ctx, buy("r1", "a", "50"), wt0, time.Minute)
	require.NoError(t, err)
	_, err = w.Checkout(ctx, buy("o1", "a", "50"), wt0)
	require.NoError(t, err)
	q, err := w.Quote(ctx, buy("q", "a", "50"), wt0)
	require.NoError(t, err)
	r, ok := q.Rejected("c")
	require.True(t, ok)
	assert.Equal(t, voucher.ReasonHeld, r.Reason)
	_, err = w.Advance(ctx, "a", wt0.Add(time.Minute))
	require.NoError(t, err)
	q, err = w.Checkout(ctx, buy("o2", "a", "50"), wt0.Add(time.Minute))
	require.NoError(t, err)
	assert.Equal(t, "10.00", q.Discount.Format())
	assert.Equal(t, voucher.StatusUsedUp, statusOf(t, w, "c", wt0.Add(time.Minute)))
	es := byInstrument(t, w.Wallet, "c")
	got := make([]string, len(es))
	for i, e := range es {
		got[i] = fmt.Sprintf("%s %d/%d", e.Kind, e.RedeemedAfter, e.HeldRedemptionsAfter)
	}
	assert.Equal(t, []string{"grant 0/0", "reserve 0/1", "redeem 1/1", "release 1/0", "redeem 2/0"}, got)
	verifyLedger(t, w.Wallet)
}

func TestInstrumentsSorted(t *testing.T) {
	w := newTestWallet(t, vch("b", "x", "1"), vch("a", "x", "1"), vch("c", "y", "1"))
	got := idsOf(instruments(t, w.Wallet, "x", wt0))
	assert.True(t, sort.StringsAreSorted(got))
	assert.Equal(t, []string{"a", "b"}, got)
	assert.Equal(t, []string{"c"}, idsOf(instruments(t, w.Wallet, "y", wt0)))
	assert.Empty(t, instruments(t, w.Wallet, "nobody", wt0))
	_, ok, err := w.Instrument(ctx, "zz")
	require.NoError(t, err)
	assert.False(t, ok)
	_, err = w.Status(ctx, "zz", wt0)
	assert.ErrorIs(t, err, voucher.ErrUnknownInstrument)
	_, err = w.Instruments(ctx, "x", wt0.Add(-time.Second))
	assert.ErrorIs(t, err, voucher.ErrClockBackwards, "read at a time before the account's clock")
}
