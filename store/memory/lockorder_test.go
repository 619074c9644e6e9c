package memory_test

import (
	"context"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voucherkit/voucherkit/store/memory"
	"github.com/voucherkit/voucherkit/store/storetest"
	"github.com/voucherkit/voucherkit/voucher"
)

// lockOrder is a store that records every Update's lock order: a step must lock its
// accounts before any instrument (Tx.Account never after Tx.Instrument or
// Tx.InstrumentByCode), or two steps on a database store can deadlock.
type lockOrder struct {
	voucher.Store
	mu   sync.Mutex
	late map[string]int // where an account was locked after an instrument: count
}

type lockOrderTx struct {
	voucher.Tx
	s          *lockOrder
	instLocked bool
}

func (s *lockOrder) Update(ctx context.Context, fn func(context.Context, voucher.Tx) error) error {
	return s.Store.Update(ctx, func(ctx context.Context, tx voucher.Tx) error {
		return fn(ctx, &lockOrderTx{Tx: tx, s: s})
	})
}

func (t *lockOrderTx) Account(ctx context.Context, a string) (time.Time, bool, error) {
	if t.instLocked {
		t.s.mu.Lock()
		t.s.late[caller()]++
		t.s.mu.Unlock()
	}
	return t.Tx.Account(ctx, a)
}

func (t *lockOrderTx) Instrument(ctx context.Context, id string) (voucher.StoredInstrument, bool, error) {
	t.instLocked = true
	return t.Tx.Instrument(ctx, id)
}

func (t *lockOrderTx) InstrumentByCode(ctx context.Context, code string) (voucher.StoredInstrument, bool, error) {
	t.instLocked = true
	return t.Tx.InstrumentByCode(ctx, code)
}

// caller names the wallet's functions on the stack.
func caller() string {
	pcs := make([]uintptr, 32)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(3, pcs)])
	var out []string
	for {
		f, more := frames.Next()
		if strings.Contains(f.Function, "/voucher.") {
			out = append(out, f.Function[strings.LastIndex(f.Function, "/")+1:])
		}
		if !more {
			return strings.Join(out, " < ")
		}
	}
}

// TestWalletLockOrder: under storetest's concurrent load (promo code held by
// reservations, holds ending, refunds, activations), no step locks an account after an
// instrument. (Checkouts that ended other accounts' holds on a promo code once did.)
func TestWalletLockOrder(t *testing.T) {
	s := &lockOrder{late: map[string]int{}}
	eng := storetest.Engine(t, "aliyun")
	for seed := range uint64(4) {
		s.Store = memory.New()
		l, err := storetest.Load{Workers: 16, Steps: 100, Seed: seed}.Setup(context.Background(), s, eng)
		if err != nil {
			t.Fatal(err)
		}
		stats := l.Run(context.Background(), s, eng, 0, nil)
		if stats.Outcomes["checkout ok"] == 0 || stats.Outcomes["reserve ok"] == 0 {
			t.Fatalf("the load did little: %s", stats.Summary())
		}
	}
	for where, n := range s.late {
		t.Errorf("%d steps locked an account after an instrument: %s", n, where)
	}
}
