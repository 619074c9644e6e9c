package voucher

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConcurrentCheckoutsAndActivations races 64 goroutines over the same vouchers,
// coupons and codes: checkouts, reservations and their captures and releases,
// activations, quotes and the clock moving on. No balance is ever overspent, no code
// is activated or redeemed twice, and the ledger adds up to the balances.
func TestConcurrentCheckoutsAndActivations(t *testing.T) {
	const (
		goroutines = 64
		iterations = 60
		accounts   = 4
		codes      = 8
	)
	w := NewWallet(newFakePricer(), wt0)
	initial := map[string]decimal.Decimal{}
	for a := 0; a < accounts; a++ {
		id := fmt.Sprintf("v%d", a)
		require.NoError(t, w.Grant(vch(id, fmt.Sprintf("acct-%d", a), "500")))
		initial[id] = wdec("500")
	}
	for c := 0; c < codes; c++ {
		id := fmt.Sprintf("gift%d", c)
		require.NoError(t, w.Grant(Instrument{ID: id, Type: "voucher", Code: fmt.Sprintf("CODE-%d", c), PendingActivation: true, Amount: wdec("50"), Balance: wdec("50")}))
		initial[id] = wdec("50")
	}
	require.NoError(t, w.Grant(Instrument{ID: "once", Type: "promo", Code: "ONCE", PercentOff: wdec("10")}))
	require.NoError(t, w.Grant(Instrument{ID: "c3", Type: "coupon", Account: "acct-0", Amount: wdec("1"), MaxRedemptions: 3}))

	var (
		mu          sync.Mutex
		taken       = map[string]decimal.Decimal{} // by committed orders
		redeemed    = map[string]int{}
		activatedBy = map[string][]string{}
		unexpected  []error
		outcomes    = map[int]int{}
	)
	commit := func(q *Quote) {
		mu.Lock()
		defer mu.Unlock()
		for _, a := range q.Applications {
			if a.Kind == Deduction {
				taken[a.InstrumentID] = taken[a.InstrumentID].Add(a.Amount.Amount())
			} else {
				redeemed[a.InstrumentID]++
			}
		}
	}
	fail := func(op string, err error, ok ...*CodeError) {
		if err == nil || errors.Is(err, ErrClockBackwards) {
			return
		}
		for _, e := range ok {
			if errors.Is(err, e) {
				return
			}
		}
		mu.Lock()
		unexpected = append(unexpected, fmt.Errorf("%s: %w", op, err))
		mu.Unlock()
	}

	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 42))
			acct := fmt.Sprintf("acct-%d", g%accounts)
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
				// Another goroutine may move the clock between Now and the step: retry.
				for try := 0; try < 10; try++ {
					err := raceStep(w, op, o, hold, capture, code, step, commit, fail, func(code, acct string) {
						mu.Lock()
						activatedBy[code] = append(activatedBy[code], acct)
						mu.Unlock()
					})
					if !errors.Is(err, ErrClockBackwards) {
						mu.Lock()
						outcomes[op]++
						mu.Unlock()
						break
					}
				}
			}
		}(g)
	}
	wg.Wait()
	require.Empty(t, unexpected)

	// Let every reservation run out.
	_, err := w.Advance(w.Now().Add(time.Hour))
	require.NoError(t, err)
	require.NoError(t, w.Ledger().Verify())

	for id, start := range initial {
		in, ok := w.Instrument(id)
		require.True(t, ok)
		assert.True(t, in.Held.IsZero(), "%s still held", id)
		assert.False(t, in.Balance.IsNegative(), "%s overspent: %s", id, in.Balance)
		assert.True(t, start.Sub(taken[id]).Equal(in.Balance), "%s: %s - %s taken != balance %s", id, start, taken[id], in.Balance)
	}
	for code, by := range activatedBy {
		assert.Len(t, by, 1, "code %s activated by %v", code, by)
	}
	assert.LessOrEqual(t, redeemed["once"], 1, "a single-use code redeemed twice")
	assert.LessOrEqual(t, redeemed["c3"], 3)
	once, _ := w.Instrument("once")
	assert.Equal(t, redeemed["once"], once.Redeemed)
	c3, _ := w.Instrument("c3")
	assert.Equal(t, redeemed["c3"], c3.Redeemed)
	t.Logf("steps done by op %v; taken %v; redeemed %v; %d codes activated; %d ledger entries",
		outcomes, taken, redeemed, len(activatedBy), w.Ledger().Len())
	assert.Positive(t, len(taken), "some checkouts succeeded")
	assert.NotEmpty(t, activatedBy)
}

// TestConcurrentReadersAndWriters reads snapshots and the ledger while steps run.
func TestConcurrentReadersAndWriters(t *testing.T) {
	w := newTestWallet(t, vch("v", "a", "1000"))
	var wg sync.WaitGroup
	stop := make(chan struct{})
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
				in, ok := w.Instrument("v")
				if ok && in.Balance.IsNegative() {
					t.Error("negative balance")
				}
				_ = w.Instruments()
				_, _ = w.Status("v")
				_ = w.Ledger().ByInstrument("v")
				_, _ = w.Order("o1")
			}
		}()
	}
	for i := 0; i < 200; i++ {
		_, err := w.Checkout(buy(fmt.Sprintf("o%d", i), "a", "1"), wt0)
		require.NoError(t, err)
	}
	close(stop)
	wg.Wait()
	b, _ := balHeld(t, w, "v")
	assert.Equal(t, "800.00", b)
	require.NoError(t, w.Ledger().Verify())
}

// raceStep runs one random step of TestConcurrentCheckoutsAndActivations at the
// current clock and returns the error of its first call.
func raceStep(w *Wallet, op int, o Order, hold time.Duration, capture bool, code string, step time.Duration,
	commit func(*Quote), fail func(string, error, ...*CodeError), activated func(code, acct string)) error {
	at := w.Now()
	switch {
	case op < 4:
		q, err := w.Checkout(o, at)
		fail("checkout", err, ErrCodeNotFound)
		if err != nil {
			return err
		}
		commit(q)
		// The same id again is always a duplicate.
		if _, err := w.Checkout(o, w.Now()); !errors.Is(err, ErrDuplicateOrder) && !errors.Is(err, ErrClockBackwards) {
			fail("checkout again", fmt.Errorf("want duplicate_order, got %v", err))
		}
		return nil
	case op < 6:
		_, err := w.Reserve(o, at, hold)
		fail("reserve", err)
		if err != nil {
			return err
		}
		if capture {
			q, err := w.Capture(o.ID, w.Now())
			fail("capture", err, ErrNotReserved)
			if err == nil {
				commit(q)
			}
		} else {
			_, err := w.Release(o.ID, w.Now())
			fail("release", err, ErrNotReserved)
		}
		return nil
	case op < 8:
		in, err := w.Activate(code, o.Account, at)
		fail("activate", err, ErrCodeAlreadyUsed)
		if err == nil {
			activated(code, o.Account)
			if in.Account != o.Account {
				fail("activate", fmt.Errorf("activated for %q, got %q", o.Account, in.Account))
			}
		}
		return err
	case op < 9:
		_, err := w.Quote(o, at)
		fail("quote", err)
		return err
	default:
		_, err := w.Advance(at.Add(step))
		fail("advance", err)
		return err
	}
}
