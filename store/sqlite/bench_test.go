package sqlite_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/voucherkit/voucherkit/store/storetest"
	"github.com/voucherkit/voucherkit/voucher"
)

const benchAccounts = 1000

// benchWallet is a wallet on a new database file with 1,000 accounts that each own a
// voucher and a coupon (aliyun).
func benchWallet(b *testing.B) (*voucher.Wallet, time.Time) {
	db := open(b, filepath.Join(b.TempDir(), "bench.db"))
	w := voucher.NewWallet(storetest.Engine(b, "aliyun"), db.Wallet("bench"))
	start := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	var g errgroup
	for i := range benchAccounts {
		a := benchAccount(i)
		g.Go(func() error { // in parallel: the grants commit together
			if err := w.Grant(ctxb, voucher.Instrument{ID: "v-" + a, Type: "voucher", Account: a, Amount: decimal.New(1e9, 0)}, start); err != nil {
				return err
			}
			return w.Grant(ctxb, voucher.Instrument{ID: "c-" + a, Type: "coupon", Account: a, Amount: decimal.New(5, 0),
				ClaimedAt: voucher.Ptr(start), MaxRedemptions: voucher.Ptr(1 << 30)}, start)
		})
	}
	require.NoError(b, g.Wait())
	return w, start
}

func benchAccount(i int) string { return fmt.Sprintf("acct-%04d", i) }

// benchOrders are orders of one or two lines; one in four is a first purchase, which
// the coupon applies to besides the voucher.
func benchOrders() []voucher.Order {
	orders := make([]voucher.Order, 64)
	for k := range orders {
		o := voucher.Order{Type: voucher.OrderRenewal, Payment: voucher.PaySubscription,
			Lines: []voucher.Line{{ID: "l1", Product: "ecs", Amount: decimal.New(int64(1000+k*37), -2)}}}
		if k%2 == 1 {
			o.Lines = append(o.Lines, voucher.Line{ID: "l2", Product: "oss", Amount: decimal.New(int64(500+k*11), -2)})
		}
		if k%4 == 0 {
			o.Type, o.FirstPurchase = voucher.OrderNew, true
		}
		orders[k] = o
	}
	return orders
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkCheckout commits checkouts of one or two lines, on the aliyun rule set, for
// 1,000 accounts that each own a voucher and a coupon, into a database file. serial:
// one goroutine, one checkout per transaction; parallel: 16 goroutines, whose
// checkouts the store commits several to a transaction. It reports checkouts/s (wall
// clock) and the process's CPU time per checkout.
func BenchmarkCheckout(b *testing.B) {
	b.Run("serial", func(b *testing.B) {
		w, start := benchWallet(b)
		orders := benchOrders()
		b.ReportAllocs()
		cpu := cpuTime()
		n := 0
		for b.Loop() {
			o := orders[n%len(orders)]
			o.ID, o.Account = fmt.Sprintf("o%d", n), benchAccount(n%benchAccounts)
			if _, err := w.Checkout(ctxb, o, start.Add(time.Duration(n+1)*time.Millisecond)); err != nil {
				b.Fatal(err)
			}
			n++
		}
		report(b, n, cpuTime()-cpu)
	})
	b.Run("parallel", func(b *testing.B) {
		const goroutines = 16
		w, start := benchWallet(b)
		orders := benchOrders()
		b.SetParallelism((goroutines + 1) / 2) // × GOMAXPROCS (2)
		var next, done atomic.Int64
		b.ReportAllocs()
		b.ResetTimer()
		cpu := cpuTime()
		b.RunParallel(func(pb *testing.PB) {
			// Goroutine g owns the accounts g, g+16, ...: its times per account increase.
			g := int(next.Add(1) - 1)
			for k := 0; pb.Next(); k++ {
				n := g + k*goroutines
				o := orders[n%len(orders)]
				o.ID, o.Account = fmt.Sprintf("o%d", n), benchAccount(g+goroutines*(k%(benchAccounts/goroutines)))
				if _, err := w.Checkout(ctxb, o, start.Add(time.Duration(k+1)*time.Millisecond)); err != nil {
					b.Error(err)
					return
				}
				done.Add(1)
			}
		})
		report(b, int(done.Load()), cpuTime()-cpu)
	})
}

func report(b *testing.B, n int, cpu time.Duration) {
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "checkouts/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(n), "cpu-µs/checkout")
}

// errgroup runs functions in goroutines and returns their errors joined.
type errgroup struct {
	wg   sync.WaitGroup
	mu   sync.Mutex
	errs []error
}

func (g *errgroup) Go(fn func() error) {
	g.wg.Go(func() {
		if err := fn(); err != nil {
			g.mu.Lock()
			g.errs = append(g.errs, err)
			g.mu.Unlock()
		}
	})
}

func (g *errgroup) Wait() error {
	g.wg.Wait()
	return errors.Join(g.errs...)
}
