package voucher_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/voucherkit/voucherkit/store/memory"
	"github.com/voucherkit/voucherkit/voucher"
)

// Tests of what the Store-based wallet does that the one before it did not: per-account
// clocks, quotes that write nothing, optional fields that are pointers, refunds with an
// idempotency key, operators' changes, the expiry sweep, and the stronger ledger check.

// A hold that ends at the very instant its instrument expires: what was not held (20)
// is forfeited at the expiry, what was held (80) when the hold ends, at the same
// instant; 100 in all, each unit once.
func TestHoldEndingAtExpiryForfeitsOnce(t *testing.T) {
	exp := wt0.Add(time.Hour)
	mk := func(t *testing.T) *testWallet {
		w := newTestWallet(t, voucher.Instrument{ID: "v", Type: "voucher", Account: "a", Amount: wdec("100"), ExpiresAt: &exp})
		_, err := w.Reserve(ctx, buy("r1", "a", "50"), wt0, exp.Sub(wt0))
		require.NoError(t, err)
		_, err = w.Reserve(ctx, buy("r2", "a", "30"), wt0.Add(30*time.Minute), exp.Sub(wt0.Add(30*time.Minute)))
		require.NoError(t, err)
		for _, id := range []string{"r1", "r2"} {
			r, ok := reservation(t, w.Wallet, id)
			require.True(t, ok)
			require.True(t, r.Until.Equal(exp), "%s holds until the expiry", id)
		}
		return w
	}
	check := func(t *testing.T, w *testWallet, forfeited map[string]voucher.Money) {
		t.Helper()
		assertMoneyMap(t, moneyMap("v", "100"), forfeited)
		es := byInstrument(t, w.Wallet, "v")
		var lost decimal.Decimal
		var got []string
		for _, e := range es {
			if e.Kind == voucher.EntryExpire {
				lost = lost.Add(e.Amount.Amount())
				assert.True(t, e.At.Equal(exp), "forfeited at the expiry, not %s", e.At)
			}
			got = append(got, fmt.Sprintf("%s %s %s", e.Kind, e.Order, e.Amount.Format()))
		}
		assert.Equal(t, "100", lost.String(), "20 + 50 + 30, each once")
		assert.Equal(t, []string{"grant  100.00", "reserve r1 50.00", "reserve r2 30.00", "expire  20.00",
			"release r1 50.00", "expire r1 50.00", "release r2 30.00", "expire r2 30.00"}, got)
		b, h := balHeld(t, w, "v")
		assert.Equal(t, []string{"100.00", "0.00"}, []string{b, h}, "an expired instrument keeps showing its balance")
		_, ok := reservation(t, w.Wallet, "r1")
		assert.False(t, ok)
		verifyLedger(t, w.Wallet)
	}
	t.Run("advance to the instant", func(t *testing.T) {
		w := mk(t)
		res, err := w.Advance(ctx, "a", exp)
		require.NoError(t, err)
		check(t, w, res.Forfeited)
	})
	t.Run("advance past it", func(t *testing.T) {
		w := mk(t)
		res, err := w.Advance(ctx, "a", exp.Add(time.Hour))
		require.NoError(t, err)
		check(t, w, res.Forfeited)
	})
	t.Run("sweep", func(t *testing.T) {
		w := mk(t)
		res, err := w.Expire(ctx, exp)
		require.NoError(t, err)
		check(t, w, res.Forfeited)
	})
	t.Run("one instant before, nothing", func(t *testing.T) {
		w := mk(t)
		res, err := w.Advance(ctx, "a", exp.Add(-time.Nanosecond))
		require.NoError(t, err)
		assert.Empty(t, res.Forfeited)
		_, h := balHeld(t, w, "v")
		assert.Equal(t, "80.00", h)
		_, err = w.Capture(ctx, "r1", exp.Add(-time.Nanosecond))
		require.NoError(t, err, "still live one instant before")
	})
}

// VerifyLedger replays each instrument's entries; ledgers built by hand that take a
// unit twice, give back more than an order took, or deduct more than was there are
// refused, with the entry named.
func TestVerifyLedgerCatchesDoubleSpending(t *testing.T) {
	cny := voucher.MustCurrency("CNY")
	inst, entry := ledgerInst, ledgerEntry
	grant := entry(1, voucher.EntryGrant, "", "100", "0", "100", "0")
	cases := []struct {
		name    string
		entries []voucher.LedgerEntry
		inst    voucher.StoredInstrument
		want    string // "" : valid
	}{
		{"expiry of what was left", []voucher.LedgerEntry{grant,
			entry(2, voucher.EntryExpire, "", "100", "0", "100", "0"),
		}, inst("100", "0"), ""},
		{"a doubled expire entry", []voucher.LedgerEntry{grant,
			entry(2, voucher.EntryExpire, "", "100", "0", "100", "0"),
			entry(3, voucher.EntryExpire, "", "100", "0", "100", "0"),
		}, inst("100", "0"), `entry 3 expire 100, more than the 0 left it had`},
		{"an expire of a hold's 80 after the 20 not held (the hold ending at the expiry)", []voucher.LedgerEntry{grant,
			entry(2, voucher.EntryReserve, "r", "80", "0", "100", "80"),
			entry(3, voucher.EntryExpire, "", "20", "0", "100", "80"),
			entry(4, voucher.EntryRelease, "r", "80", "0", "100", "0"),
			entry(5, voucher.EntryExpire, "r", "80", "0", "100", "0"),
		}, inst("100", "0"), ""},
		{"the same, forfeiting the whole balance again when the hold ends (180)", []voucher.LedgerEntry{grant,
			entry(2, voucher.EntryReserve, "r", "80", "0", "100", "80"),
			entry(3, voucher.EntryRelease, "r", "80", "0", "100", "0"),
			entry(4, voucher.EntryExpire, "r", "80", "0", "100", "0"),
			entry(5, voucher.EntryExpire, "", "100", "0", "100", "0"),
		}, inst("100", "0"), `entry 5 expire 100, more than the 20 left it had`},
		{"a restore of what the order took", []voucher.LedgerEntry{grant,
			entry(2, voucher.EntryDeduct, "o", "30", "-30", "70", "0"),
			entry(3, voucher.EntryRefundRestore, "o", "30", "30", "100", "0"),
		}, inst("100", "0"), ""},
		{"a restore above what the order took", []voucher.LedgerEntry{grant,
			entry(2, voucher.EntryDeduct, "o", "30", "-30", "70", "0"),
			entry(3, voucher.EntryRefundRestore, "o", "30.01", "30.01", "100.01", "0"),
		}, inst("100.01", "0"), `entry 3 refund_restore 30.01, more than the 30 its order o took`},
		{"two restores that add up to more than the order took", []voucher.LedgerEntry{grant,
			entry(2, voucher.EntryDeduct, "o", "30", "-30", "70", "0"),
			entry(3, voucher.EntryDeduct, "p", "50", "-50", "20", "0"),
			entry(4, voucher.EntryRefundRestore, "o", "20", "20", "40", "0"),
			entry(5, voucher.EntryRefundForfeit, "o", "20", "0", "40", "0"),
		}, inst("40", "0"), `entry 5 refund_forfeit 20, more than the 10 its order o took`},
		{"a deduct above what was available", []voucher.LedgerEntry{grant,
			entry(2, voucher.EntryReserve, "r", "60", "0", "100", "60"),
			entry(3, voucher.EntryDeduct, "o", "50", "-50", "50", "60"),
		}, inst("50", "60"), `entry 3 deduct 50, more than the 40 available it had`},
		{"a deduct that drives the balance below zero", []voucher.LedgerEntry{grant,
			entry(2, voucher.EntryDeduct, "o", "100.01", "-100.01", "-0.01", "0"),
		}, inst("-0.01", "0"), `outside 0 <= held <= balance <= 100`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var resv []voucher.Reservation
			if !c.inst.Instrument.Held.IsZero() {
				resv = []voucher.Reservation{{OrderID: "r", Account: "a", Quote: &voucher.Quote{Applications: []voucher.Application{
					{InstrumentID: "v", Kind: voucher.Deduction, Amount: voucher.NewMoney(c.inst.Instrument.Held, cny)}}}}}
			}
			err := voucher.VerifyLedger(c.entries, []voucher.StoredInstrument{c.inst}, resv)
			if c.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
	// Seq must increase strictly.
	es := []voucher.LedgerEntry{grant, entry(2, voucher.EntryExpire, "", "100", "0", "100", "0")}
	es[1].Seq = 1
	err := voucher.VerifyLedger(es, []voucher.StoredInstrument{inst("100", "0")}, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "entry 1 follows entry 1")
}

// ledgerInst is the instrument of TestVerifyLedgerCatchesDoubleSpending's ledgers:
// voucher v of account a, face value 100, expired at wt0, with the given balance and
// held.
func ledgerInst(balance, held string) voucher.StoredInstrument {
	return voucher.StoredInstrument{Kind: voucher.Deduction, Expires: &wt0,
		Instrument: voucher.Instrument{ID: "v", Type: "voucher", Account: "a", Amount: wdec("100"),
			Balance: voucher.Ptr(wdec(balance)), Held: wdec(held), ExpiresAt: &wt0}}
}

// ledgerEntry is entry seq of voucher v of account a, seq minutes after wt0, with the
// given amounts in CNY.
func ledgerEntry(seq int64, kind voucher.EntryKind, order, amount, delta, balance, held string) voucher.LedgerEntry {
	m := func(s string) voucher.Money { return voucher.NewMoney(wdec(s), voucher.MustCurrency("CNY")) }
	return voucher.LedgerEntry{Seq: seq, At: wt0.Add(time.Duration(seq) * time.Minute), Kind: kind, Account: "a", Instrument: "v",
		Order: order, Amount: m(amount), Delta: m(delta), BalanceAfter: m(balance), HeldAfter: m(held)}
}

// Each account has its own clock: sixteen goroutines, each stepping its own account at
// time.Now(), never see clock_backwards, however their steps interleave.
func TestPerAccountClocksUnderConcurrency(t *testing.T) {
	const goroutines, steps = 16, 50
	w := newTestWallet(t)
	start := time.Now()
	for g := 0; g < goroutines; g++ {
		require.NoError(t, w.Grant(ctx, vch(fmt.Sprintf("v%d", g), fmt.Sprintf("g%d", g), "100000"), start))
	}
	errs := make(chan error, goroutines*steps)
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			acct := fmt.Sprintf("g%d", g)
			for i := 0; i < steps; i++ {
				id := fmt.Sprintf("%s-%d", acct, i)
				var err error
				switch i % 5 {
				case 0, 1:
					_, err = w.Checkout(ctx, buy(id, acct, "1"), time.Now())
				case 2:
					if _, err = w.Reserve(ctx, buy(id, acct, "1"), time.Now(), time.Hour); err == nil {
						_, err = w.Release(ctx, id, time.Now())
					}
				case 3:
					_, err = w.Quote(ctx, buy(id, acct, "1"), time.Now())
				default:
					_, err = w.Advance(ctx, acct, time.Now())
				}
				if err != nil {
					errs <- fmt.Errorf("%s step %d: %w", acct, i, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for g := 0; g < goroutines; g++ {
		b, h := balHeld(t, w, fmt.Sprintf("v%d", g))
		assert.Equal(t, []string{"99980.00", "0.00"}, []string{b, h}, "twenty checkouts of 1")
	}
	verifyLedger(t, w.Wallet)
}

// The same, step by step: a step on one account at a time before another account's
// clock succeeds; on the same account it is clock_backwards and changes nothing.
func TestClocksArePerAccount(t *testing.T) {
	w := newTestWallet(t, vch("va", "a", "100"), vch("vb", "b", "100"))
	later := wt0.Add(24 * time.Hour)
	_, err := w.Checkout(ctx, buy("o1", "a", "10"), later)
	require.NoError(t, err)
	assert.True(t, clockOf(t, w.Wallet, "a").Equal(later))
	assert.True(t, clockOf(t, w.Wallet, "b").Equal(wt0), "b's clock is its own")

	_, err = w.Checkout(ctx, buy("o2", "b", "10"), wt0.Add(time.Hour))
	require.NoError(t, err, "b steps before a's clock")
	_, err = w.Reserve(ctx, buy("r2", "b", "10"), wt0.Add(time.Hour), time.Minute)
	require.NoError(t, err)
	_, err = w.Advance(ctx, "b", wt0.Add(2*time.Hour))
	require.NoError(t, err)
	_, err = w.Advance(ctx, "c", wt0) // an account that has never stepped
	require.NoError(t, err)

	before := w.snapshot(t)
	_, err = w.Checkout(ctx, buy("o3", "a", "10"), wt0.Add(time.Hour))
	assertStepErr(t, w, before, err, voucher.ErrClockBackwards)
	_, err = w.Advance(ctx, "a", later.Add(-time.Nanosecond))
	assertStepErr(t, w, before, err, voucher.ErrClockBackwards)
	assert.Contains(t, err.Error(), `account "a"`)
	verifyLedger(t, w.Wallet)
}

// A quote a week ahead sees what will have expired and ended by then, and writes none
// of it: not the ledger, not a clock, not an instrument or a reservation. The next
// checkout at the account's own time then succeeds as if the quote had not happened.
func TestQuoteAWeekAheadChangesNothing(t *testing.T) {
	w := newTestWallet(t,
		voucher.Instrument{ID: "v", Type: "voucher", Account: "a", Amount: wdec("100"), ExpiresAt: voucher.Ptr(wt0.Add(48 * time.Hour))},
		vch("w", "a", "30"))
	_, err := w.Reserve(ctx, buy("r1", "a", "20"), wt0, 2*time.Hour)
	require.NoError(t, err)
	before := w.snapshot(t)

	q, err := w.Quote(ctx, buy("q", "a", "500"), wt0.Add(7*24*time.Hour))
	require.NoError(t, err)
	r, ok := q.Rejected("v")
	require.True(t, ok)
	assert.Equal(t, voucher.ReasonExpired, r.Reason)
	assert.Equal(t, "30.00", q.Deducted.Format(), "only w is left a week ahead")
	views := instruments(t, w.Wallet, "a", wt0.Add(7*24*time.Hour))
	require.Len(t, views, 2)
	assert.Equal(t, voucher.StatusExpired, views[0].Status, "reads a week ahead too")
	assertUnchanged(t, w, before)
	assert.True(t, clockOf(t, w.Wallet, "a").Equal(wt0))

	q, err = w.Checkout(ctx, buy("o1", "a", "150"), wt0.Add(time.Minute))
	require.NoError(t, err)
	assert.Equal(t, "110.00", q.Deducted.Format(), "80 of v not held, and w's 30")
	b, h := balHeld(t, w, "v")
	assert.Equal(t, []string{"20.00", "20.00"}, []string{b, h})
	verifyLedger(t, w.Wallet)
}

// A deduction granted without a Balance starts at its face value; one granted with an
// explicit zero balance stays at zero (it is used up), and the ledger shows why.
func TestGrantBalanceAbsentOrZero(t *testing.T) {
	w := newTestWallet(t,
		voucher.Instrument{ID: "face", Type: "voucher", Account: "a", Amount: wdec("50")},
		voucher.Instrument{ID: "zero", Type: "voucher", Account: "a", Amount: wdec("50"), Balance: voucher.Ptr(decimal.Zero)},
		voucher.Instrument{ID: "part", Type: "voucher", Account: "a", Amount: wdec("50"), Balance: voucher.Ptr(wdec("0.01"))})
	for id, want := range map[string]string{"face": "50", "zero": "0", "part": "0.01"} {
		si := w.inst(t, id)
		require.NotNil(t, si.Instrument.Balance, "%s: the wallet stores the balance", id)
		assert.Equal(t, want, si.Instrument.Balance.String(), id)
		es := byInstrument(t, w.Wallet, id)
		require.Len(t, es, 1)
		assert.Equal(t, want, es[0].BalanceAfter.Amount().String(), id)
		assert.Equal(t, wdec(want).Sub(wdec("50")).String(), es[0].Delta.Amount().String(), "%s: the opening difference", id)
	}
	assert.Equal(t, voucher.StatusUsedUp, statusOf(t, w, "zero", wt0))
	assert.Equal(t, voucher.StatusAvailable, statusOf(t, w, "face", wt0))
	q, err := w.Checkout(ctx, buy("o1", "a", "100"), wt0)
	require.NoError(t, err)
	assert.Equal(t, "50.01", q.Deducted.Format())
	_, ok := q.Applied("zero")
	assert.False(t, ok, "a zero balance given pays nothing")
	verifyLedger(t, w.Wallet)

	// A discount has no balance: given one, even zero, it is refused.
	err = w.Grant(ctx, voucher.Instrument{ID: "c", Type: "coupon", Account: "a", Amount: wdec("5"), Balance: voucher.Ptr(decimal.Zero)}, wt0)
	require.ErrorIs(t, err, voucher.ErrInvalidInstrument)
	assert.Contains(t, err.Error(), "balance")
}

// A refund with an idempotency key is made once: asked again, the same request returns
// the first result and changes nothing, at any time; another request with the key is
// refused; the result returned is the caller's own.
func TestRefundIdempotencyKey(t *testing.T) {
	w := newTestWallet(t, voucher.Instrument{ID: "cr", Type: "credit", Account: "a", Amount: wdec("90")})
	_, err := w.Checkout(ctx, buy("o1", "a", "60", "40"), wt0)
	require.NoError(t, err)
	req := voucher.RefundRequest{OrderID: "o1", Lines: []string{"l1"}, Consumed: voucher.Ptr(wdec("10")), Key: "refund-1"}
	first, err := w.Refund(ctx, req, wt0.Add(time.Hour))
	require.NoError(t, err)
	assert.Equal(t, "0.00", first.CashRefund.Format())
	assertMoneyMap(t, moneyMap("cr", "54"), first.Restored)
	want := fmt.Sprintf("%+v", *first)
	// The caller may do what it likes with its result.
	first.Restored["cr"] = wcny("1")
	first.Lines[0] = "changed"
	delete(first.Forfeited, "x")

	before := w.snapshot(t)
	for _, at := range []time.Time{wt0.Add(time.Hour), wt0.Add(2 * time.Hour), wt0} {
		again, err := w.Refund(ctx, req, at)
		require.NoError(t, err, "asked again at %s", at)
		assert.Equal(t, want, fmt.Sprintf("%+v", *again), "the first result")
		assertUnchanged(t, w, before)
		again.Restored["cr"] = wcny("2")
		again.Lines[0] = "changed again"
	}
	b, _ := balHeld(t, w, "cr")
	assert.Equal(t, "54.00", b, "restored once")

	for _, other := range []voucher.RefundRequest{
		{OrderID: "o1", Lines: []string{"l2"}, Key: "refund-1"},
		{OrderID: "o1", Lines: []string{"l1"}, Key: "refund-1"},             // no consumed
		{OrderID: "o1", Key: "refund-1", Consumed: voucher.Ptr(wdec("10"))}, // every line left
	} {
		_, err = w.Refund(ctx, other, wt0.Add(time.Hour))
		assertStepErr(t, w, before, err, voucher.ErrInvalidRefund)
		assert.Contains(t, err.Error(), `idempotency key "refund-1" was used for another refund`)
	}
	// Without a key, the same request is a new refund: l1 was refunded already.
	noKey := req
	noKey.Key = ""
	_, err = w.Refund(ctx, noKey, wt0.Add(time.Hour))
	assertStepErr(t, w, before, err, voucher.ErrAlreadyRefunded)
	// The same key on another order is another refund.
	_, err = w.Checkout(ctx, buy("o2", "a", "10"), wt0.Add(time.Hour))
	require.NoError(t, err)
	res, err := w.Refund(ctx, voucher.RefundRequest{OrderID: "o2", Key: "refund-1"}, wt0.Add(time.Hour))
	require.NoError(t, err)
	assert.Equal(t, []string{"l1"}, res.Lines)
	verifyLedger(t, w.Wallet)
}

// Revoke, Adjust and Extend are operators' changes: each writes a ledger entry with its
// reason, and each refuses what it cannot do with an error that says why.
func TestOperatorChanges(t *testing.T) {
	t.Run("revoke", testOperatorRevoke)
	t.Run("adjust", testOperatorAdjust)
	t.Run("extend", testOperatorExtend)
	t.Run("refused", testOperatorRefusals)
}

// operatorWallet is the wallet each subtest of TestOperatorChanges starts from:
// account a's voucher v (100, expiring a day after wt0), coupon c (5, two
// redemptions) and voucher old (5, expiring an hour after wt0), and gift, with no
// owner, waiting for activation.
func operatorWallet(t *testing.T) *testWallet {
	return newTestWallet(t,
		voucher.Instrument{ID: "v", Type: "voucher", Account: "a", Amount: wdec("100"), ExpiresAt: voucher.Ptr(wt0.Add(24 * time.Hour))},
		voucher.Instrument{ID: "c", Type: "coupon", Account: "a", Amount: wdec("5"), MaxRedemptions: voucher.Ptr(2)},
		voucher.Instrument{ID: "old", Type: "voucher", Account: "a", Amount: wdec("5"), ExpiresAt: voucher.Ptr(wt0.Add(time.Hour))},
		voucher.Instrument{ID: "gift", Type: "voucher", Code: "G", PendingActivation: true, Amount: wdec("5")})
}

// operatorAt is when TestOperatorChanges makes its changes: after old expired.
var operatorAt = wt0.Add(2 * time.Hour)

// fromV is an order of account a paid from v alone.
func fromV(id, amount string) voucher.Order {
	o := buy(id, "a", amount)
	o.Use = []string{"v"}
	return o
}

// lastEntry is the last ledger entry of instrument id.
func lastEntry(t *testing.T, w *testWallet, id string) voucher.LedgerEntry {
	t.Helper()
	es := byInstrument(t, w.Wallet, id)
	require.NotEmpty(t, es)
	return es[len(es)-1]
}

// testOperatorRevoke: a revoke writes an entry with its reason, of what was not held;
// the instrument is used up, what was held is forfeited when its hold ends; discounts
// and instruments with no owner are revoked too, and a second revoke is refused.
func testOperatorRevoke(t *testing.T) {
	w := operatorWallet(t)
	at := operatorAt
	_, err := w.Reserve(ctx, fromV("r1", "30"), wt0, 3*time.Hour)
	require.NoError(t, err)
	require.NoError(t, w.Revoke(ctx, "v", at, "fraud report #12"))
	e := lastEntry(t, w, "v")
	assert.Equal(t, voucher.EntryRevoke, e.Kind)
	assert.Equal(t, "fraud report #12", e.Reason)
	assert.Contains(t, e.String(), "(fraud report #12)")
	assert.Equal(t, "a", e.Account)
	assert.True(t, e.At.Equal(at))
	assert.Equal(t, "70.00", e.Amount.Format(), "what was not held")
	assert.Equal(t, "-70.00", e.Delta.Format())
	si := w.inst(t, "v")
	assert.True(t, si.Instrument.Revoked)
	assert.Equal(t, voucher.StatusUsedUp, statusOf(t, w, "v", at))
	q, err := w.Quote(ctx, buy("q", "a", "10"), at)
	require.NoError(t, err)
	r, ok := q.Rejected("v")
	require.True(t, ok)
	assert.Equal(t, voucher.ReasonUsedUp, r.Reason)
	// What was held is forfeited when its hold ends.
	res, err := w.Release(ctx, "r1", at)
	require.NoError(t, err)
	assertMoneyMap(t, moneyMap("v", "30"), res.Forfeited)
	b, h := balHeld(t, w, "v")
	assert.Equal(t, []string{"0.00", "0.00"}, []string{b, h})

	require.NoError(t, w.Revoke(ctx, "c", at, "campaign withdrawn"))
	assert.Equal(t, voucher.StatusUsedUp, statusOf(t, w, "c", at))
	assert.Equal(t, "campaign withdrawn", lastEntry(t, w, "c").Reason)
	require.NoError(t, w.Revoke(ctx, "gift", at, "unsold"), "an instrument with no owner")
	assert.Equal(t, "", lastEntry(t, w, "gift").Account)
	verifyLedger(t, w.Wallet)

	before := w.snapshot(t)
	err = w.Revoke(ctx, "v", at, "again")
	assertStepErr(t, w, before, err, voucher.ErrInvalidInstrument)
	assert.Contains(t, err.Error(), "already revoked")
}

// testOperatorAdjust: an adjustment up or down writes an entry with its reason and
// moves the balance, down to what is held.
func testOperatorAdjust(t *testing.T) {
	w := operatorWallet(t)
	at := operatorAt
	_, err := w.Checkout(ctx, fromV("o1", "40"), wt0)
	require.NoError(t, err)
	_, err = w.Reserve(ctx, fromV("r1", "10"), wt0, 3*time.Hour)
	require.NoError(t, err)
	require.NoError(t, w.Adjust(ctx, "v", wdec("25.5"), at, "goodwill"))
	e := lastEntry(t, w, "v")
	assert.Equal(t, voucher.EntryAdjust, e.Kind)
	assert.Equal(t, "goodwill", e.Reason)
	assert.Equal(t, "25.50", e.Amount.Format())
	assert.Equal(t, "25.50", e.Delta.Format())
	require.NoError(t, w.Adjust(ctx, "v", wdec("-75.5"), at, "correction"))
	e = lastEntry(t, w, "v")
	assert.Equal(t, "75.50", e.Amount.Format())
	assert.Equal(t, "-75.50", e.Delta.Format())
	b, h := balHeld(t, w, "v")
	assert.Equal(t, []string{"10.00", "10.00"}, []string{b, h}, "down to what is held")
	verifyLedger(t, w.Wallet)
}

// testOperatorExtend: an extension writes an entry with its reason and moves the
// expiry, so the instrument no longer expires at the old time; one that never expired
// can be given an expiry.
func testOperatorExtend(t *testing.T) {
	w := operatorWallet(t)
	at := operatorAt
	newExp := wt0.Add(30 * 24 * time.Hour)
	require.NoError(t, w.Extend(ctx, "v", newExp, at, "customer request"))
	e := lastEntry(t, w, "v")
	assert.Equal(t, voucher.EntryExtend, e.Kind)
	assert.Equal(t, "customer request", e.Reason)
	assert.True(t, e.Amount.IsZero())
	si := w.inst(t, "v")
	require.NotNil(t, si.Expires)
	assert.True(t, si.Expires.Equal(newExp))
	assert.True(t, si.Instrument.ExpiresAt.Equal(newExp))
	// It no longer expires at the old time.
	res, err := w.Advance(ctx, "a", wt0.Add(48*time.Hour))
	require.NoError(t, err)
	assert.Empty(t, res.Forfeited)
	assert.Equal(t, voucher.StatusAvailable, statusOf(t, w, "v", wt0.Add(48*time.Hour)))
	require.NoError(t, w.Extend(ctx, "c", newExp, wt0.Add(48*time.Hour), "no expiry before"), "an instrument that never expired")
	verifyLedger(t, w.Wallet)
}

// testOperatorRefusals: each change refused (no reason, an unknown instrument, a time
// before the owner's clock or past 9999, an amount out of range, a discount, an expired
// instrument, an expiry not later) fails with its code and message and changes nothing.
func testOperatorRefusals(t *testing.T) {
	w := operatorWallet(t)
	at := operatorAt
	_, err := w.Reserve(ctx, fromV("r1", "10"), wt0, 3*time.Hour)
	require.NoError(t, err)
	_, err = w.Advance(ctx, "a", at) // old expires
	require.NoError(t, err)
	before := w.snapshot(t)
	cases := []struct {
		name string
		do   func() error
		want *voucher.CodeError
		msg  string
	}{
		{"revoke without a reason", func() error { return w.Revoke(ctx, "v", at, "") }, voucher.ErrInvalidInstrument, "needs a reason"},
		{"adjust without a reason", func() error { return w.Adjust(ctx, "v", wdec("1"), at, "") }, voucher.ErrInvalidInstrument, "needs a reason"},
		{"extend without a reason", func() error { return w.Extend(ctx, "v", at.Add(time.Hour), at, "") }, voucher.ErrInvalidInstrument, "needs a reason"},
		{"revoke an unknown instrument", func() error { return w.Revoke(ctx, "nope", at, "x") }, voucher.ErrUnknownInstrument, `no instrument "nope"`},
		{"adjust an unknown instrument", func() error { return w.Adjust(ctx, "nope", wdec("1"), at, "x") }, voucher.ErrUnknownInstrument, `no instrument "nope"`},
		{"extend an unknown instrument", func() error { return w.Extend(ctx, "nope", at.Add(time.Hour), at, "x") }, voucher.ErrUnknownInstrument, `no instrument "nope"`},
		{"revoke before the owner's clock", func() error { return w.Revoke(ctx, "v", at.Add(-time.Second), "x") }, voucher.ErrClockBackwards, `account "a"`},
		{"adjust before the owner's clock", func() error { return w.Adjust(ctx, "v", wdec("1"), at.Add(-time.Second), "x") }, voucher.ErrClockBackwards, `account "a"`},
		{"extend before the owner's clock", func() error { return w.Extend(ctx, "v", at.Add(time.Hour), at.Add(-time.Second), "x") }, voucher.ErrClockBackwards, `account "a"`},
		{"adjust by zero", func() error { return w.Adjust(ctx, "v", decimal.Zero, at, "x") }, voucher.ErrInvalidInstrument, "within held 10 and face value 100"},
		{"adjust above the face value", func() error { return w.Adjust(ctx, "v", wdec("0.01"), at, "x") }, voucher.ErrInvalidInstrument, "adjusting balance 100 by 0.01"},
		{"adjust below what is held", func() error { return w.Adjust(ctx, "v", wdec("-90.01"), at, "x") }, voucher.ErrInvalidInstrument, "within held 10"},
		{"adjust finer than the currency", func() error { return w.Adjust(ctx, "v", wdec("-0.001"), at, "x") }, voucher.ErrInvalidInstrument, "at the scale of CNY"},
		{"adjust a discount", func() error { return w.Adjust(ctx, "c", wdec("1"), at, "x") }, voucher.ErrInvalidInstrument, "only a deduction instrument"},
		{"adjust an expired instrument", func() error { return w.Adjust(ctx, "old", wdec("-1"), at, "x") }, voucher.ErrInvalidInstrument, "not expired or revoked"},
		{"extend an expired instrument", func() error { return w.Extend(ctx, "old", at.Add(time.Hour), at, "x") }, voucher.ErrInvalidInstrument, "has expired and cannot be extended"},
		{"extend to an earlier expiry", func() error { return w.Extend(ctx, "v", wt0.Add(23*time.Hour), at, "x") }, voucher.ErrInvalidInstrument, "after the current one"},
		{"extend to the step's time", func() error { return w.Extend(ctx, "c", at, at, "x") }, voucher.ErrInvalidInstrument, "must be after"},
		{"extend past 9999", func() error { return w.Extend(ctx, "v", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), at, "x") }, voucher.ErrInvalidInstrument, "outside the years 1 to 9999"},
		{"revoke at a time past 9999", func() error { return w.Revoke(ctx, "v", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), "x") }, voucher.ErrInvalidTime, "outside the years 1 to 9999"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.do()
			assertStepErr(t, w, before, err, c.want)
			assert.Contains(t, err.Error(), c.msg)
		})
	}
}

// Expire sweeps every account with something due by its time — instruments that
// expire, holds that end, instruments with no owner — recording each when it
// happened, and moves each swept account's clock to the latest moment it recorded for
// it (not to the sweep's time: a step of its own in between is not refused); it leaves
// an account whose clock is already later as it is. It reads the due accounts a page
// at a time: more accounts than a page are all swept.
func TestExpireSweep(t *testing.T) {
	w := newTestWallet(t,
		voucher.Instrument{ID: "va", Type: "voucher", Account: "a", Amount: wdec("10"), ExpiresAt: voucher.Ptr(wt0.Add(time.Hour))},
		voucher.Instrument{ID: "vb", Type: "voucher", Account: "b", Amount: wdec("20"), ExpiresAt: voucher.Ptr(wt0.Add(2 * time.Hour))},
		voucher.Instrument{ID: "vx", Type: "voucher", Account: "x", Amount: wdec("7"), ExpiresAt: voucher.Ptr(wt0.Add(30 * time.Minute))},
		voucher.Instrument{ID: "code", Type: "voucher", Code: "C", PendingActivation: true, Amount: wdec("40"), ExpiresAt: voucher.Ptr(wt0.Add(time.Hour))},
		voucher.Instrument{ID: "later", Type: "voucher", Account: "y", Amount: wdec("5"), ExpiresAt: voucher.Ptr(wt0.Add(48 * time.Hour))},
		vch("keep", "z", "5"))
	_, err := w.Reserve(ctx, buy("rz", "z", "5"), wt0, time.Hour)
	require.NoError(t, err)
	_, err = w.Advance(ctx, "x", wt0.Add(10*time.Hour)) // x is past the sweep's time already
	require.NoError(t, err)

	upTo := wt0.Add(3 * time.Hour)
	res, err := w.Expire(ctx, upTo)
	require.NoError(t, err)
	assert.True(t, res.At.Equal(upTo))
	assertMoneyMap(t, moneyMap("va", "10", "vb", "20", "code", "40"), res.Forfeited)
	for a, want := range map[string]time.Time{"a": wt0.Add(time.Hour), "b": wt0.Add(2 * time.Hour), "": wt0.Add(time.Hour),
		"z": wt0.Add(time.Hour), "x": wt0.Add(10 * time.Hour), "y": wt0} {
		assert.True(t, clockOf(t, w.Wallet, a).Equal(want), "account %q at %s", a, clockOf(t, w.Wallet, a))
	}
	_, ok := reservation(t, w.Wallet, "rz")
	assert.False(t, ok, "a hold that ended is ended")
	_, h := balHeld(t, w, "keep")
	assert.Equal(t, "0.00", h)
	es := byInstrument(t, w.Wallet, "vb")
	require.Equal(t, []voucher.EntryKind{voucher.EntryGrant, voucher.EntryExpire}, kindsOf(es))
	assert.True(t, es[1].At.Equal(wt0.Add(2*time.Hour)), "recorded when it happened")
	verifyLedger(t, w.Wallet)

	n := ledgerLen(t, w.Wallet)
	res, err = w.Expire(ctx, upTo)
	require.NoError(t, err)
	assert.Empty(t, res.Forfeited)
	assert.NotNil(t, res.Forfeited)
	assert.Equal(t, n, ledgerLen(t, w.Wallet), "nothing twice")

	// More due accounts than one page.
	const accounts = 600
	w2 := newTestWallet(t)
	for i := 0; i < accounts; i++ {
		require.NoError(t, w2.Grant(ctx, voucher.Instrument{ID: fmt.Sprintf("v%03d", i), Type: "voucher", Account: fmt.Sprintf("acct-%03d", i),
			Amount: wdec("1"), ExpiresAt: voucher.Ptr(wt0.Add(time.Minute))}, wt0))
	}
	res, err = w2.Expire(ctx, wt0.Add(time.Hour))
	require.NoError(t, err)
	assert.Len(t, res.Forfeited, accounts)
	assert.Len(t, ledger(t, w2.Wallet, voucher.LedgerQuery{}), 2*accounts)
	verifyLedger(t, w2.Wallet)
}

// The zero time (0001-01-01T00:00:00Z) is a time like any other: given, it is kept,
// compared and refused as one, never taken for "absent".
func TestZeroTimesAreTimes(t *testing.T) {
	zero := time.Time{}
	t.Run("issued_at given as the zero time stays it, and sorts oldest", func(t *testing.T) {
		w := voucher.NewWallet(engine(t, "aws"), memory.New())
		at := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
		// Same expiry (none) and scope: issued_asc decides; the ids would pick "a-new".
		require.NoError(t, w.Grant(ctx, voucher.Instrument{ID: "a-new", Type: "credit", Account: "acct", Amount: wdec("5"),
			IssuedAt: voucher.Ptr(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))}, at))
		require.NoError(t, w.Grant(ctx, voucher.Instrument{ID: "z-old", Type: "credit", Account: "acct", Amount: wdec("5"),
			IssuedAt: &zero}, at))
		require.NoError(t, w.Grant(ctx, voucher.Instrument{ID: "m-now", Type: "credit", Account: "acct", Amount: wdec("5")}, at))
		si, _, err := w.Instrument(ctx, "z-old")
		require.NoError(t, err)
		require.NotNil(t, si.Instrument.IssuedAt)
		assert.True(t, si.Instrument.IssuedAt.IsZero(), "kept as given, got %s", si.Instrument.IssuedAt)
		si, _, err = w.Instrument(ctx, "m-now")
		require.NoError(t, err)
		assert.True(t, si.Instrument.IssuedAt.Equal(at), "absent: the grant's time")
		q, err := w.Checkout(ctx, voucher.Order{ID: "bill", Account: "acct", Type: voucher.OrderUsage, Payment: voucher.PayAsYouGo,
			Lines: []voucher.Line{line("ec2", "ec2", "7")}}, at)
		require.NoError(t, err)
		var order []string
		for _, a := range q.Applications {
			order = append(order, a.InstrumentID+" "+a.Amount.Format())
		}
		assert.Equal(t, []string{"z-old 5.00", "a-new 2.00"}, order)
	})
	t.Run("expires_at 0001-01-01T08:00:00+08:00 is expired", func(t *testing.T) {
		w := newTestWallet(t)
		exp := time.Date(1, 1, 1, 8, 0, 0, 0, time.FixedZone("UTC+8", 8*3600))
		require.True(t, exp.Equal(zero))
		require.NoError(t, w.Grant(ctx, voucher.Instrument{ID: "v", Type: "voucher", Account: "a", Amount: wdec("10"), ExpiresAt: &exp}, wt0))
		si := w.inst(t, "v")
		require.NotNil(t, si.Expires)
		assert.True(t, si.Expires.Equal(zero))
		assert.True(t, si.Expired, "granted already expired")
		assert.Equal(t, voucher.StatusExpired, statusOf(t, w, "v", wt0))
		assert.Equal(t, []voucher.EntryKind{voucher.EntryGrant, voucher.EntryExpire}, kindsOf(byInstrument(t, w.Wallet, "v")))
		q, err := w.Quote(ctx, buy("q", "a", "5"), wt0)
		require.NoError(t, err)
		r, ok := q.Rejected("v")
		require.True(t, ok)
		assert.Equal(t, voucher.ReasonExpired, r.Reason)
		verifyLedger(t, w.Wallet)
	})
	t.Run("a step at 0001-01-01T00:00:00Z after the clock is clock_backwards", func(t *testing.T) {
		w := newTestWallet(t, vch("v", "a", "10"))
		before := w.snapshot(t)
		_, err := w.Checkout(ctx, buy("o1", "a", "5"), zero)
		assertStepErr(t, w, before, err, voucher.ErrClockBackwards)
		_, err = w.Advance(ctx, "a", zero)
		assertStepErr(t, w, before, err, voucher.ErrClockBackwards)
		// On an account that has never stepped it is a time like any other.
		_, err = w.Advance(ctx, "b", zero)
		require.NoError(t, err)
		c, ok, err := w.Clock(ctx, "b")
		require.NoError(t, err)
		require.True(t, ok, "an account whose clock is the zero time has a clock")
		assert.True(t, c.IsZero())
		_, err = w.Advance(ctx, "b", zero.Add(-time.Nanosecond))
		require.ErrorIs(t, err, voucher.ErrInvalidTime)
	})
}

// Times outside the years 1 to 9999 cannot be written; every step refuses them with
// invalid_time and changes nothing, and no step stores one (a hold that would end
// after 9999, an expiry derived from a claim).
func TestTimesOutsideTheYearsAreRefused(t *testing.T) {
	w := newTestWallet(t, vch("v", "a", "100"), voucher.Instrument{ID: "g", Type: "voucher", Code: "G", PendingActivation: true, Amount: wdec("5")})
	_, err := w.Checkout(ctx, buy("o1", "a", "10"), wt0)
	require.NoError(t, err)
	_, err = w.Reserve(ctx, buy("r1", "a", "10"), wt0, time.Hour)
	require.NoError(t, err)
	before := w.snapshot(t)
	for _, bad := range []time.Time{time.Date(0, 12, 31, 23, 59, 59, 0, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)} {
		steps := map[string]func() error{
			"grant":    func() error { return w.Grant(ctx, vch("n", "a", "1"), bad) },
			"quote":    func() error { _, err := w.Quote(ctx, buy("q", "a", "1"), bad); return err },
			"read":     func() error { _, err := w.Instruments(ctx, "a", bad); return err },
			"checkout": func() error { _, err := w.Checkout(ctx, buy("o2", "a", "1"), bad); return err },
			"reserve":  func() error { _, err := w.Reserve(ctx, buy("r2", "a", "1"), bad, time.Minute); return err },
			"capture":  func() error { _, err := w.Capture(ctx, "r1", bad); return err },
			"release":  func() error { _, err := w.Release(ctx, "r1", bad); return err },
			"refund":   func() error { _, err := w.Refund(ctx, voucher.RefundRequest{OrderID: "o1"}, bad); return err },
			"activate": func() error { _, err := w.Activate(ctx, "G", "a", bad); return err },
			"advance":  func() error { _, err := w.Advance(ctx, "a", bad); return err },
			"sweep":    func() error { _, err := w.Expire(ctx, bad); return err },
			"revoke":   func() error { return w.Revoke(ctx, "v", bad, "x") },
			"adjust":   func() error { return w.Adjust(ctx, "v", wdec("-1"), bad, "x") },
			"extend":   func() error { return w.Extend(ctx, "v", wt0.Add(time.Hour), bad, "x") },
		}
		for name, step := range steps {
			t.Run(fmt.Sprintf("%s at year %d", name, bad.Year()), func(t *testing.T) {
				assertStepErr(t, w, before, step(), voucher.ErrInvalidTime)
			})
		}
	}
	// Regression: with nothing due, the sweep accepted a time after 9999.
	empty := newTestWallet(t)
	_, err = empty.Expire(ctx, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC))
	require.ErrorIs(t, err, voucher.ErrInvalidTime)

	// Regression: a hold ending after 9999 was stored, and could not be written.
	late := time.Date(9999, 12, 31, 23, 0, 0, 0, time.UTC)
	w2 := newTestWallet(t)
	require.NoError(t, w2.Grant(ctx, vch("v", "a", "100"), late))
	before = w2.snapshot(t)
	_, err = w2.Reserve(ctx, buy("r", "a", "1"), late, 2*time.Hour)
	assertStepErr(t, w2, before, err, voucher.ErrInvalidTime)
	assert.Contains(t, err.Error(), "the hold would end")
	_, err = w2.Reserve(ctx, buy("r", "a", "1"), late, 59*time.Minute)
	require.NoError(t, err, "a hold that ends within 9999")

	// Regression: a coupon claimed near the end of 9999 expired, by its type's 30 days'
	// validity, in 10000, and that expiry was stored.
	before = w2.snapshot(t)
	err = w2.Grant(ctx, voucher.Instrument{ID: "c", Type: "coupon", Account: "a", Amount: wdec("5"), ClaimedAt: voucher.Ptr(late.Add(-24 * time.Hour))}, late)
	assertStepErr(t, w2, before, err, voucher.ErrInvalidInstrument)
	assert.Contains(t, err.Error(), "claimed_at + validity")
	require.NoError(t, w2.Grant(ctx, voucher.Instrument{ID: "c", Type: "coupon", Account: "a", Amount: wdec("5"),
		ClaimedAt: voucher.Ptr(late.Add(-30 * 24 * time.Hour))}, late), "expires within 9999")
	verifyLedger(t, w2.Wallet)
}
