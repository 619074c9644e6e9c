package storetest

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/voucherkit/voucherkit/voucher"
)

// runWallet runs wallet steps on the store, each check on a new store, each ending
// with Wallet.Verify.
func runWallet(t *testing.T, newStore NewStore) {
	for _, c := range []struct {
		name string
		fn   func(t *testing.T, w *voucher.Wallet, s voucher.Store)
	}{
		{"GrantBalance", walletGrantBalance},
		{"RefundIdempotency", walletRefundIdempotency},
		{"PerAccountClocks", walletPerAccountClocks},
		{"QuoteWritesNothing", walletQuoteWritesNothing},
		{"ExpireSweep", walletExpireSweep},
		{"OperatorChanges", walletOperatorChanges},
		{"ReserveCaptureRelease", walletReserveCaptureRelease},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newStore(t)
			w := voucher.NewWallet(Engine(t, "aliyun"), s)
			c.fn(t, w, s)
			require.NoError(t, w.Verify(ctxb), "Wallet.Verify after the test")
		})
	}
}

func grant(t *testing.T, w *voucher.Wallet, in voucher.Instrument, at time.Time) {
	t.Helper()
	require.NoError(t, w.Grant(ctxb, in, at), "grant %s", in.ID)
}

func voucherOf(id, account, amount string) voucher.Instrument {
	return voucher.Instrument{ID: id, Type: "voucher", Account: account, Amount: dec(amount)}
}

func order(id, account string, amounts ...string) voucher.Order {
	o := voucher.Order{ID: id, Account: account, Type: voucher.OrderRenewal, Payment: voucher.PaySubscription}
	products := []string{"ecs", "oss", "rds"}
	for i, a := range amounts {
		o.Lines = append(o.Lines, voucher.Line{ID: "l" + string(rune('1'+i)), Product: products[i%len(products)], Amount: dec(a)})
	}
	return o
}

func instrument(t *testing.T, w *voucher.Wallet, id string) voucher.StoredInstrument {
	t.Helper()
	si, ok, err := w.Instrument(ctxb, id)
	require.NoError(t, err)
	require.True(t, ok, "instrument %s", id)
	return si
}

func ledger(t *testing.T, w *voucher.Wallet, q voucher.LedgerQuery) []voucher.LedgerEntry {
	t.Helper()
	es, err := w.Ledger(ctxb, q)
	require.NoError(t, err)
	return es
}

func walletGrantBalance(t *testing.T, w *voucher.Wallet, _ voucher.Store) {
	grant(t, w, voucherOf("face", "a", "100"), t0)
	zero := voucherOf("zero", "a", "100")
	zero.Balance = voucher.Ptr(decimal.Zero)
	grant(t, w, zero, t0)
	part := voucherOf("part", "a", "100")
	part.Balance = voucher.Ptr(dec("40.5"))
	grant(t, w, part, t0)
	for id, want := range map[string]string{"face": "100", "zero": "0", "part": "40.5"} {
		si := instrument(t, w, id)
		require.NotNil(t, si.Instrument.Balance, "%s: a granted deduction has a balance", id)
		assert.True(t, si.Instrument.Balance.Equal(dec(want)), "%s: balance %s, want %s", id, si.Instrument.Balance, want)
	}
	q, err := w.Checkout(ctxb, order("o1", "a", "150"), t0.Add(time.Minute))
	require.NoError(t, err)
	a, ok := q.Applied("face")
	require.True(t, ok, "the voucher with the largest balance pays")
	assert.True(t, a.Amount.Amount().Equal(dec("100")))
	assert.True(t, instrument(t, w, "zero").Instrument.Balance.IsZero(), "an explicit zero balance stays zero")
	assert.True(t, instrument(t, w, "part").Instrument.Balance.Equal(dec("40.5")))
	es := ledger(t, w, voucher.LedgerQuery{Instrument: "zero"})
	require.Len(t, es, 1)
	assert.Equal(t, voucher.EntryGrant, es[0].Kind)
	assert.True(t, es[0].Delta.Amount().Equal(dec("-100")), "the grant of a zero balance records the opening difference")
}

func walletRefundIdempotency(t *testing.T, w *voucher.Wallet, _ voucher.Store) {
	grant(t, w, voucherOf("v", "a", "100"), t0)
	_, err := w.Checkout(ctxb, order("o1", "a", "30", "20"), t0.Add(time.Minute))
	require.NoError(t, err)
	req := voucher.RefundRequest{OrderID: "o1", Lines: []string{"l1"}, Key: "k1", Consumed: voucher.Ptr(dec("1.50"))}
	first, err := w.Refund(ctxb, req, t0.Add(2*time.Minute))
	require.NoError(t, err)
	assert.Equal(t, []string{"l1"}, first.Lines)
	entries := ledger(t, w, voucher.LedgerQuery{})
	clock, _, err := w.Clock(ctxb, "a")
	require.NoError(t, err)
	rec, _, err := w.Order(ctxb, "o1")
	require.NoError(t, err)
	inst := instrument(t, w, "v")

	again, err := w.Refund(ctxb, req, t0.Add(3*time.Minute))
	require.NoError(t, err, "the same key and request again")
	requireSame(t, first, again, "the repeated refund's result")
	requireSame(t, entries, ledger(t, w, voucher.LedgerQuery{}), "the ledger after a repeated refund")
	clock2, _, err := w.Clock(ctxb, "a")
	require.NoError(t, err)
	requireSame(t, clock, clock2, "the clock after a repeated refund")
	rec2, _, err := w.Order(ctxb, "o1")
	require.NoError(t, err)
	requireSame(t, rec, rec2, "the order after a repeated refund")
	requireSame(t, inst, instrument(t, w, "v"), "the voucher after a repeated refund")

	for name, other := range map[string]voucher.RefundRequest{
		"every line":     {OrderID: "o1", Key: "k1", Consumed: req.Consumed},
		"other consumed": {OrderID: "o1", Key: "k1", Lines: []string{"l1"}},
		"other lines":    {OrderID: "o1", Key: "k1", Lines: []string{"l2"}, Consumed: req.Consumed},
	} {
		_, err := w.Refund(ctxb, other, t0.Add(4*time.Minute))
		require.ErrorIs(t, err, voucher.ErrInvalidRefund, "the same key for %s", name)
	}
	requireSame(t, entries, ledger(t, w, voucher.LedgerQuery{}), "the ledger after refused refunds")

	rest, err := w.Refund(ctxb, voucher.RefundRequest{OrderID: "o1", Key: "k2"}, t0.Add(5*time.Minute))
	require.NoError(t, err, "another key refunds the rest")
	assert.Equal(t, []string{"l2"}, rest.Lines)
	_, err = w.Refund(ctxb, voucher.RefundRequest{OrderID: "o1", Key: "k3"}, t0.Add(6*time.Minute))
	require.ErrorIs(t, err, voucher.ErrAlreadyRefunded)
	rec, _, err = w.Order(ctxb, "o1")
	require.NoError(t, err)
	assert.Equal(t, []string{"l1", "l2"}, rec.Refunded)
	again, err = w.Refund(ctxb, voucher.RefundRequest{OrderID: "o1", Key: "k2"}, t0.Add(7*time.Minute))
	require.NoError(t, err, "k2 again, after the order is fully refunded")
	requireSame(t, rest, again, "k2's result")
}

func walletPerAccountClocks(t *testing.T, w *voucher.Wallet, _ voucher.Store) {
	grant(t, w, voucherOf("va", "a", "100"), t0)
	grant(t, w, voucherOf("vb", "b", "100"), t0)
	_, err := w.Checkout(ctxb, order("oa1", "a", "10"), t0.Add(2*time.Hour))
	require.NoError(t, err)
	_, err = w.Checkout(ctxb, order("ob1", "b", "10"), t0.Add(time.Hour))
	require.NoError(t, err, "a step on b before a's clock")
	entries := ledger(t, w, voucher.LedgerQuery{})
	_, err = w.Checkout(ctxb, order("oa2", "a", "10"), t0.Add(time.Hour))
	require.ErrorIs(t, err, voucher.ErrClockBackwards, "a step on a before a's clock")
	requireSame(t, entries, ledger(t, w, voucher.LedgerQuery{}), "the ledger after clock_backwards")
	_, ok, err := w.Order(ctxb, "oa2")
	require.NoError(t, err)
	assert.False(t, ok)
	for a, want := range map[string]time.Time{"a": t0.Add(2 * time.Hour), "b": t0.Add(time.Hour)} {
		clock, ok, err := w.Clock(ctxb, a)
		require.NoError(t, err)
		require.True(t, ok)
		requireSame(t, want, clock, "clock of "+a)
	}
	_, err = w.Checkout(ctxb, order("oa2", "a", "10"), t0.Add(2*time.Hour))
	require.NoError(t, err, "at the account's clock itself")
}

func walletQuoteWritesNothing(t *testing.T, w *voucher.Wallet, s voucher.Store) {
	grant(t, w, voucher.Instrument{ID: "v", Type: "voucher", Account: "a", Amount: dec("100"), ExpiresAt: voucher.Ptr(t0.Add(72 * time.Hour))}, t0)
	grant(t, w, voucherOf("w", "a", "10"), t0)
	_, err := w.Reserve(ctxb, order("r1", "a", "5"), t0, time.Hour)
	require.NoError(t, err)
	before := takeSnapshot(t, s, []string{"r1", "q1"}, nil)
	q, err := w.Quote(ctxb, order("q1", "a", "50"), t0.Add(7*24*time.Hour))
	require.NoError(t, err)
	_, used := q.Applied("v")
	assert.False(t, used, "a week ahead, v has expired")
	r, ok := q.Rejected("v")
	require.True(t, ok)
	assert.Equal(t, voucher.ReasonExpired, r.Reason)
	views, err := w.Instruments(ctxb, "a", t0.Add(7*24*time.Hour))
	require.NoError(t, err)
	require.Len(t, views, 2)
	assert.Equal(t, voucher.StatusExpired, views[0].Status)
	requireSame(t, before, takeSnapshot(t, s, []string{"r1", "q1"}, nil), "the store after a quote and a read a week ahead")
	q, err = w.Checkout(ctxb, order("o1", "a", "50"), t0.Add(time.Hour))
	require.NoError(t, err, "the next checkout, before the quote's time")
	a, ok := q.Applied("v")
	require.True(t, ok)
	assert.True(t, a.Amount.Amount().Equal(dec("50")))
}

func walletExpireSweep(t *testing.T, w *voucher.Wallet, _ voucher.Store) {
	day := func(n int) time.Time { return t0.Add(time.Duration(n) * 24 * time.Hour) }
	for _, in := range []voucher.Instrument{
		{ID: "va", Type: "voucher", Account: "a", Amount: dec("10"), ExpiresAt: voucher.Ptr(day(1))},
		{ID: "vb", Type: "voucher", Account: "b", Amount: dec("20"), ExpiresAt: voucher.Ptr(day(1))},
		{ID: "vc", Type: "voucher", Account: "c", Amount: dec("30"), ExpiresAt: voucher.Ptr(day(5))},
		{ID: "vd", Type: "voucher", Account: "d", Amount: dec("40"), ExpiresAt: voucher.Ptr(day(1))},
		{ID: "cd", Type: "coupon", Account: "d", Amount: dec("5"), ClaimedAt: voucher.Ptr(t0)},
		{ID: "gift", Type: "voucher", Code: "G-1", PendingActivation: true, Amount: dec("50"), ExpiresAt: voucher.Ptr(day(1))},
	} {
		grant(t, w, in, t0)
	}
	_, err := w.Reserve(ctxb, order("rb", "b", "5"), t0, time.Hour)
	require.NoError(t, err, "b holds 5 of vb for an hour")
	_, err = w.Advance(ctxb, "d", day(3))
	require.NoError(t, err, "d's clock is past the sweep")
	res, err := w.Expire(ctxb, day(2))
	require.NoError(t, err)
	assert.Len(t, res.Forfeited, 3, "va, vb and the unowned gift; vd was recorded by d's own step: %v", res.Forfeited)
	for id, want := range map[string]string{"va": "10", "vb": "20", "gift": "50"} {
		m, ok := res.Forfeited[id]
		if assert.True(t, ok, "%s forfeited", id) {
			assert.True(t, m.Amount().Equal(dec(want)), "%s forfeited %s, want %s", id, m, want)
		}
	}
	for _, id := range []string{"va", "vb", "gift", "vd"} {
		assert.True(t, instrument(t, w, id).Expired, "%s is recorded expired", id)
	}
	assert.False(t, instrument(t, w, "vc").Expired)
	_, ok, err := w.Reservation(ctxb, "rb")
	require.NoError(t, err)
	assert.False(t, ok, "b's hold has ended")
	// The sweep moves an account's clock only to the latest moment it recorded for it
	// (va's and vb's expiry), so that a step of the account's own between that and
	// the sweep's time is not refused; d's clock was already past it.
	for a, want := range map[string]time.Time{"a": day(1), "b": day(1), "d": day(3)} {
		clock, _, err := w.Clock(ctxb, a)
		require.NoError(t, err)
		requireSame(t, want, clock, "clock of "+a)
	}
	_, ok, err = w.Clock(ctxb, "c")
	require.NoError(t, err)
	require.True(t, ok)
	es := ledger(t, w, voucher.LedgerQuery{Instrument: "gift"})
	require.Len(t, es, 2)
	assert.Equal(t, voucher.EntryExpire, es[1].Kind)
	assert.True(t, es[1].At.Equal(day(1)), "recorded at its expiry")
	n := len(ledger(t, w, voucher.LedgerQuery{}))
	res, err = w.Expire(ctxb, day(2))
	require.NoError(t, err)
	assert.Empty(t, res.Forfeited, "a second sweep finds nothing")
	assert.Len(t, ledger(t, w, voucher.LedgerQuery{}), n)
}

func walletOperatorChanges(t *testing.T, w *voucher.Wallet, _ voucher.Store) {
	grant(t, w, voucherOf("v1", "a", "100"), t0)
	grant(t, w, voucherOf("v2", "a", "100"), t0)
	grant(t, w, voucher.Instrument{ID: "v3", Type: "voucher", Account: "a", Amount: dec("100"), ExpiresAt: voucher.Ptr(t0.Add(time.Hour))}, t0)
	require.NoError(t, w.Revoke(ctxb, "v1", t0.Add(time.Minute), "fraud"))
	require.NoError(t, w.Adjust(ctxb, "v2", dec("-12.34"), t0.Add(2*time.Minute), "goodwill reversal"))
	require.NoError(t, w.Extend(ctxb, "v3", t0.Add(48*time.Hour), t0.Add(3*time.Minute), "support ticket 7"))
	for id, want := range map[string]struct {
		kind   voucher.EntryKind
		reason string
		delta  string
	}{"v1": {voucher.EntryRevoke, "fraud", "-100"}, "v2": {voucher.EntryAdjust, "goodwill reversal", "-12.34"}, "v3": {voucher.EntryExtend, "support ticket 7", "0"}} {
		es := ledger(t, w, voucher.LedgerQuery{Instrument: id})
		require.Len(t, es, 2, "%s: grant and the operator's entry", id)
		assert.Equal(t, want.kind, es[1].Kind, id)
		assert.Equal(t, want.reason, es[1].Reason, id)
		assert.Equal(t, "a", es[1].Account, id)
		assert.True(t, es[1].Delta.Amount().Equal(dec(want.delta)), "%s: delta %s", id, es[1].Delta)
	}
	assert.True(t, instrument(t, w, "v1").Instrument.Revoked)
	assert.True(t, instrument(t, w, "v2").Instrument.Balance.Equal(dec("87.66")))
	requireSame(t, voucher.Ptr(t0.Add(48*time.Hour)), instrument(t, w, "v3").Expires, "the extended expiry")
	n := len(ledger(t, w, voucher.LedgerQuery{}))
	require.ErrorIs(t, w.Revoke(ctxb, "v2", t0.Add(4*time.Minute), ""), voucher.ErrInvalidInstrument, "no reason")
	require.ErrorIs(t, w.Adjust(ctxb, "v2", dec("50"), t0.Add(4*time.Minute), "too much"), voucher.ErrInvalidInstrument, "above face value")
	require.ErrorIs(t, w.Revoke(ctxb, "v1", t0.Add(4*time.Minute), "again"), voucher.ErrInvalidInstrument, "already revoked")
	require.ErrorIs(t, w.Revoke(ctxb, "nope", t0.Add(4*time.Minute), "x"), voucher.ErrUnknownInstrument)
	assert.Len(t, ledger(t, w, voucher.LedgerQuery{}), n, "refused changes write nothing")
}

func walletReserveCaptureRelease(t *testing.T, w *voucher.Wallet, _ voucher.Store) {
	grant(t, w, voucherOf("v", "a", "100"), t0)
	grant(t, w, voucher.Instrument{ID: "p", Type: "promo_code", Code: "P10", PercentOff: dec10(), MaxRedemptions: voucher.Ptr(1)}, t0)
	r1 := order("r1", "a", "40")
	r1.Codes = []string{"P10"}
	_, err := w.Reserve(ctxb, r1, t0.Add(time.Minute), time.Hour)
	require.NoError(t, err)
	assert.Equal(t, 1, instrument(t, w, "p").Instrument.HeldRedemptions, "the reservation holds the promo code")
	r2 := order("r2", "b", "40")
	r2.Codes = []string{"P10"}
	q, err := w.Checkout(ctxb, r2, t0.Add(2*time.Minute))
	require.NoError(t, err)
	_, used := q.Applied("P10")
	assert.False(t, used, "the promo code is held by a's reservation")
	_, err = w.Checkout(ctxb, order("r1", "a", "1"), t0.Add(3*time.Minute))
	require.ErrorIs(t, err, voucher.ErrDuplicateOrder, "the id of a live reservation")
	_, err = w.Capture(ctxb, "r1", t0.Add(4*time.Minute))
	require.NoError(t, err)
	_, err = w.Capture(ctxb, "r1", t0.Add(5*time.Minute))
	require.ErrorIs(t, err, voucher.ErrNotReserved, "captured once")
	_, err = w.Reserve(ctxb, order("r3", "a", "10"), t0.Add(6*time.Minute), time.Minute)
	require.NoError(t, err)
	_, err = w.Release(ctxb, "r3", t0.Add(6*time.Minute+time.Second))
	require.NoError(t, err)
	_, err = w.Checkout(ctxb, order("r3", "a", "10"), t0.Add(7*time.Minute))
	require.NoError(t, err, "a released id is free")
	p := instrument(t, w, "p")
	assert.Equal(t, 1, p.Instrument.Redeemed)
	assert.Equal(t, 0, p.Instrument.HeldRedemptions)
	assert.True(t, instrument(t, w, "v").Instrument.Balance.Equal(dec("100").Sub(dec("36")).Sub(dec("10"))))
}

func dec10() *decimal.Decimal { return voucher.Ptr(dec("10")) }
