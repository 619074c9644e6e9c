package voucher_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/voucherkit/voucherkit/voucher"
)

// TestConcurrentCheckoutsAndActivations races 64 goroutines over the same vouchers,
// coupons and codes: checkouts, reservations and their captures and releases,
// activations, quotes and accounts' clocks moving on. No balance is ever overspent, no
// code is activated or redeemed twice, and the ledger adds up to the balances.
func TestConcurrentCheckoutsAndActivations(t *testing.T) {
	const (
		goroutines = 64
		iterations = 60
		accounts   = 4
		codes      = 8
	)
	w := newTestWallet(t)
	initial := grantRaceWallet(t, w, accounts, codes)
	rec := &raceRecord{taken: map[string]decimal.Decimal{}, redeemed: map[string]int{},
		activatedBy: map[string][]string{}, outcomes: map[int]int{}}
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			raceSteps(w.Wallet, rec, g, iterations, fmt.Sprintf("acct-%d", g%accounts), codes)
		}(g)
	}
	wg.Wait()
	require.Empty(t, rec.unexpected)

	// Let every reservation run out: the sweep ends each account's holds.
	latest := wt0
	for a := 0; a < accounts; a++ {
		if c := clockOf(t, w.Wallet, fmt.Sprintf("acct-%d", a)); c.After(latest) {
			latest = c
		}
	}
	_, err := w.Expire(ctx, latest.Add(time.Hour))
	require.NoError(t, err)
	verifyLedger(t, w.Wallet)
	resv := w.snapshot(t).resv
	assert.Empty(t, resv, "no reservation outlives the sweep past its hold")
	checkRaceOutcome(t, w, rec, initial)
}

// grantRaceWallet grants TestConcurrentCheckoutsAndActivations' instruments: a voucher
// of 500 for each account, a voucher of 50 waiting for activation for each code, a
// single-use promo code and a coupon of account acct-0 with three redemptions. It
// returns the balance each deduction starts with.
func grantRaceWallet(t *testing.T, w *testWallet, accounts, codes int) map[string]decimal.Decimal {
	t.Helper()
	initial := map[string]decimal.Decimal{}
	for a := 0; a < accounts; a++ {
		id := fmt.Sprintf("v%d", a)
		require.NoError(t, w.Grant(ctx, vch(id, fmt.Sprintf("acct-%d", a), "500"), wt0))
		initial[id] = wdec("500")
	}
	for c := 0; c < codes; c++ {
		id := fmt.Sprintf("gift%d", c)
		require.NoError(t, w.Grant(ctx, voucher.Instrument{ID: id, Type: "voucher", Code: fmt.Sprintf("CODE-%d", c), PendingActivation: true, Amount: wdec("50")}, wt0))
		initial[id] = wdec("50")
	}
	require.NoError(t, w.Grant(ctx, voucher.Instrument{ID: "once", Type: "promo", Code: "ONCE", PercentOff: voucher.Ptr(wdec("10"))}, wt0))
	require.NoError(t, w.Grant(ctx, voucher.Instrument{ID: "c3", Type: "coupon", Account: "acct-0", Amount: wdec("1"), MaxRedemptions: voucher.Ptr(3)}, wt0))
	return initial
}

// raceRecord is what the goroutines of TestConcurrentCheckoutsAndActivations did,
// under mu: what committed orders took and redeemed, who activated each code, the
// unexpected errors, and how many steps of each op were done.
type raceRecord struct {
	mu          sync.Mutex
	taken       map[string]decimal.Decimal // by committed orders
	redeemed    map[string]int
	activatedBy map[string][]string
	unexpected  []error
	outcomes    map[int]int
}

// commit records what the committed quote q took and redeemed.
func (rec *raceRecord) commit(q *voucher.Quote) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, a := range q.Applications {
		if a.Kind == voucher.Deduction {
			rec.taken[a.InstrumentID] = rec.taken[a.InstrumentID].Add(a.Amount.Amount())
		} else {
			rec.redeemed[a.InstrumentID]++
		}
	}
}

// fail records err of op as unexpected, unless it is nil, clock_backwards or one of ok.
func (rec *raceRecord) fail(op string, err error, ok ...*voucher.CodeError) {
	if err == nil || errors.Is(err, voucher.ErrClockBackwards) {
		return
	}
	for _, e := range ok {
		if errors.Is(err, e) {
			return
		}
	}
	rec.mu.Lock()
	rec.unexpected = append(rec.unexpected, fmt.Errorf("%s: %w", op, err))
	rec.mu.Unlock()
}

// activated records that acct activated code.
func (rec *raceRecord) activated(code, acct string) {
	rec.mu.Lock()
	rec.activatedBy[code] = append(rec.activatedBy[code], acct)
	rec.mu.Unlock()
}

// raceSteps is goroutine g of TestConcurrentCheckoutsAndActivations: iterations random
// steps on account acct, each retried while another goroutine on the same account
// moves its clock between reading it and the step.
func raceSteps(w *voucher.Wallet, rec *raceRecord, g, iterations int, acct string, codes int) {
	rng := rand.New(rand.NewPCG(uint64(g), 42))
	for i := 0; i < iterations; i++ {
		id := fmt.Sprintf("g%d-%d", g, i)
		o := buy(id, acct, fmt.Sprintf("%d.%02d", 1+rng.IntN(30), rng.IntN(100)))
		if rng.IntN(4) == 0 {
			o.Codes = []string{"ONCE"}
		}
		op := rng.IntN(10)
		hold := time.Duration(1+rng.IntN(3)) * time.Minute
		capture := rng.IntN(2) == 0
		code := fmt.Sprintf("CODE-%d", rng.IntN(codes))
		step := time.Duration(rng.IntN(90)) * time.Second
		// Another goroutine on the same account may move its clock between
		// reading it and the step: retry.
		for try := 0; try < 10; try++ {
			err := raceStep(w, op, o, hold, capture, code, step, rec.commit, rec.fail, rec.activated)
			if !errors.Is(err, voucher.ErrClockBackwards) {
				rec.mu.Lock()
				rec.outcomes[op]++
				rec.mu.Unlock()
				break
			}
		}
	}
}

// checkRaceOutcome checks, after the race and the sweep, that nothing is held, no
// balance is overspent and each is what it started with less what committed orders
// took; that each code was activated once; and that the single-use code and the coupon
// were redeemed no more often than they may be, as many times as stored.
func checkRaceOutcome(t *testing.T, w *testWallet, rec *raceRecord, initial map[string]decimal.Decimal) {
	t.Helper()
	taken, redeemed, activatedBy := rec.taken, rec.redeemed, rec.activatedBy
	for id, start := range initial {
		in := w.inst(t, id).Instrument
		assert.True(t, in.Held.IsZero(), "%s still held", id)
		assert.False(t, in.CurrentBalance().IsNegative(), "%s overspent: %s", id, in.CurrentBalance())
		assert.True(t, start.Sub(taken[id]).Equal(in.CurrentBalance()), "%s: %s - %s taken != balance %s", id, start, taken[id], in.CurrentBalance())
	}
	for code, by := range activatedBy {
		assert.Len(t, by, 1, "code %s activated by %v", code, by)
	}
	assert.LessOrEqual(t, redeemed["once"], 1, "a single-use code redeemed twice")
	assert.LessOrEqual(t, redeemed["c3"], 3)
	assert.Equal(t, redeemed["once"], w.inst(t, "once").Instrument.Redeemed)
	assert.Equal(t, redeemed["c3"], w.inst(t, "c3").Instrument.Redeemed)
	t.Logf("steps done by op %v; taken %v; redeemed %v; %d codes activated; %d ledger entries",
		rec.outcomes, taken, redeemed, len(activatedBy), ledgerLen(t, w.Wallet))
	assert.Positive(t, len(taken), "some checkouts succeeded")
	assert.NotEmpty(t, activatedBy)
}

// raceStep runs one random step of TestConcurrentCheckoutsAndActivations at the
// account's clock and returns the error of its first call.
func raceStep(w *voucher.Wallet, op int, o voucher.Order, hold time.Duration, capture bool, code string, step time.Duration,
	commit func(*voucher.Quote), fail func(string, error, ...*voucher.CodeError), activated func(code, acct string)) error {
	now := func() time.Time {
		c, ok, err := w.Clock(ctx, o.Account)
		if err != nil || !ok {
			fail("clock", fmt.Errorf("account %s: ok %t, %v", o.Account, ok, err))
		}
		return c
	}
	at := now()
	switch {
	case op < 4:
		q, err := w.Checkout(ctx, o, at)
		fail("checkout", err, voucher.ErrCodeNotFound)
		if err != nil {
			return err
		}
		commit(q)
		// The same id again is always a duplicate.
		if _, err := w.Checkout(ctx, o, now()); !errors.Is(err, voucher.ErrDuplicateOrder) && !errors.Is(err, voucher.ErrClockBackwards) {
			fail("checkout again", fmt.Errorf("want duplicate_order, got %v", err))
		}
		return nil
	case op < 6:
		_, err := w.Reserve(ctx, o, at, hold)
		fail("reserve", err)
		if err != nil {
			return err
		}
		if capture {
			q, err := w.Capture(ctx, o.ID, now())
			fail("capture", err, voucher.ErrNotReserved)
			if err == nil {
				commit(q)
			}
		} else {
			_, err := w.Release(ctx, o.ID, now())
			fail("release", err, voucher.ErrNotReserved)
		}
		return nil
	case op < 8:
		in, err := w.Activate(ctx, code, o.Account, at)
		fail("activate", err, voucher.ErrCodeAlreadyUsed)
		if err == nil {
			activated(code, o.Account)
			if in.Account != o.Account {
				fail("activate", fmt.Errorf("activated for %q, got %q", o.Account, in.Account))
			}
		}
		return err
	case op < 9:
		_, err := w.Quote(ctx, o, at)
		fail("quote", err)
		return err
	default:
		_, err := w.Advance(ctx, o.Account, at.Add(step))
		fail("advance", err)
		return err
	}
}

// TestConcurrentReadersAndWriters reads instruments, the ledger and orders, and
// verifies the whole wallet, while steps run: every read sees one consistent state.
func TestConcurrentReadersAndWriters(t *testing.T) {
	w := newTestWallet(t, vch("v", "a", "1000"))
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, 16)
	for r := 0; r < 4; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				si, ok, err := w.Instrument(ctx, "v")
				if err != nil || !ok || si.Instrument.CurrentBalance().IsNegative() {
					errs <- fmt.Errorf("instrument v: %v %v %v", si.Instrument.CurrentBalance(), ok, err)
					return
				}
				if _, err := w.Instruments(ctx, "a", wt0); err != nil {
					errs <- err
					return
				}
				if _, err := w.Status(ctx, "v", wt0); err != nil {
					errs <- err
					return
				}
				if _, err := w.Ledger(ctx, voucher.LedgerQuery{Instrument: "v"}); err != nil {
					errs <- err
					return
				}
				if _, _, err := w.Order(ctx, "o1"); err != nil {
					errs <- err
					return
				}
				if err := w.Verify(ctx); err != nil {
					errs <- fmt.Errorf("verify while steps run: %w", err)
					return
				}
			}
		}()
	}
	for i := 0; i < 200; i++ {
		_, err := w.Checkout(ctx, buy(fmt.Sprintf("o%d", i), "a", "1"), wt0)
		require.NoError(t, err)
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	b, _ := balHeld(t, w, "v")
	assert.Equal(t, "800.00", b)
	verifyLedger(t, w.Wallet)
}

// Racing checkouts on the real engine, four accounts for sixteen goroutines, while a
// reader reads orders as they are committed: every order keeps the quote its checkout
// returned, and the ledger adds up.
func TestConcurrentCheckoutsKeepTheirQuotes(t *testing.T) {
	w, orders, now := benchWallet(t)
	const goroutines, each = 16, 100
	got := make([][]*voucher.Quote, goroutines)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	reading := make(chan struct{})
	go func() { // reads orders as they are committed
		defer close(reading)
		for k := 0; ; {
			select {
			case <-stop:
				return
			default:
			}
			rec, ok, err := w.Order(ctx, fmt.Sprintf("g0-%d", k))
			if err != nil {
				t.Error(err)
				return
			}
			if ok {
				if rec.Quote == nil || rec.Quote.OrderID != rec.ID {
					t.Errorf("order %s reads as %+v", rec.ID, rec.Quote)
				}
				k++
			}
		}
	}()
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				o := orders[(g+i)%4] // four accounts: contention
				o.ID = fmt.Sprintf("g%d-%d", g, i)
				q, err := w.Checkout(ctx, o, now)
				if err != nil {
					t.Error(err)
					return
				}
				got[g] = append(got[g], q)
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-reading
	for g := range got {
		for i, q := range got[g] {
			id := fmt.Sprintf("g%d-%d", g, i)
			if len(q.Trace) == 0 {
				t.Fatalf("order %s: the quote Checkout returned has no trace", id)
			}
			want := *q
			want.Trace = nil // a record keeps the quote without its trace
			if rec, ok := order(t, w, id); !ok || !reflect.DeepEqual(rec.Quote, &want) {
				t.Fatalf("order %s: %+v, committed %+v", id, rec.Quote, &want)
			}
		}
	}
	verifyLedger(t, w)
}
