package storetest

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/voucherkit/voucherkit/voucher"
)

func runConcurrency(t *testing.T, newStore NewStore, load Load) {
	t.Run("SharedLoad", func(t *testing.T) {
		s := newStore(t)
		eng := Engine(t, "aliyun")
		l, err := load.Setup(ctxb, s, eng)
		require.NoError(t, err)
		stats := l.Run(ctxb, s, eng, 0, nil)
		t.Logf("%s", stats.Summary())
		require.NoError(t, l.Check(ctxb, s, eng, stats))
		RequireBusy(t, stats)
	})
	t.Run("WallClockOwnAccounts", func(t *testing.T) { wallClockOwnAccounts(t, newStore(t)) })
}

// RequireBusy fails when a load's run did not exercise what it is for: commits,
// captures, refunds, activations, and steps refused because another step won a race.
func RequireBusy(t testing.TB, stats Stats) {
	t.Helper()
	for _, outcome := range []string{"checkout ok", "reserve ok", "capture ok", "release ok", "refund ok",
		"activate ok", "activate code_already_used", "checkout duplicate_order"} {
		assert.Positive(t, stats.Outcomes[outcome], "no %q in %s", outcome, stats.Summary())
	}
}

// Summary lists the outcomes, one "action outcome: count" per line.
func (s Stats) Summary() string {
	keys := make([]string, 0, len(s.Outcomes))
	for k := range s.Outcomes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "%d steps, %d clock_backwards, %d orders committed, %d codes activated\n",
		s.Steps, s.ClockBackwards, len(s.Committed), len(s.Activated))
	for _, k := range keys {
		fmt.Fprintf(&b, "  %s: %d\n", k, s.Outcomes[k])
	}
	return b.String()
}

// wallClockOwnAccounts: 16 goroutines, each on accounts of its own, stamp every step
// with time.Now(); no step ever fails clock_backwards, whatever the others do.
func wallClockOwnAccounts(t *testing.T, s voucher.Store) {
	const workers, steps = 16, 40
	w := voucher.NewWallet(Engine(t, "aliyun"), s)
	var wg sync.WaitGroup
	errs := make(chan error, workers*steps)
	for k := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := fmt.Sprintf("own-%02d", k)
			if err := w.Grant(ctxb, voucherOf("v-"+a, a, "100000"), time.Now()); err != nil {
				errs <- err
				return
			}
			for n := range steps {
				if err := ownStep(ctxb, w, a, n); err != nil {
					errs <- fmt.Errorf("%s step %d: %w", a, n, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	require.NoError(t, w.Verify(ctxb))
	orders, err := w.Orders(ctxb, "own-00", "", 1000)
	require.NoError(t, err)
	assert.NotEmpty(t, orders)
}

// ownStep is one step of account a, at time.Now(): a checkout, a reservation that is
// captured or released, a refund, a quote or a clock move, in turn.
func ownStep(ctx context.Context, w *voucher.Wallet, a string, n int) error {
	id := fmt.Sprintf("%s-o%d", a, n)
	o := order(id, a, "12.34", "5")
	var err error
	switch n % 5 {
	case 0:
		_, err = w.Checkout(ctx, o, time.Now())
	case 1, 2:
		if _, err = w.Reserve(ctx, o, time.Now(), time.Hour); err != nil {
			return err
		}
		if n%5 == 1 {
			_, err = w.Capture(ctx, id, time.Now())
		} else {
			_, err = w.Release(ctx, id, time.Now())
		}
	case 3:
		_, err = w.Refund(ctx, voucher.RefundRequest{OrderID: fmt.Sprintf("%s-o%d", a, n-3), Key: "k"}, time.Now())
	default:
		if _, err = w.Quote(ctx, o, time.Now()); err == nil {
			_, err = w.Advance(ctx, a, time.Now())
		}
	}
	return err
}
