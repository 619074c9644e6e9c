package voucher_test

import (
	"strconv"
	"testing"

	"github.com/voucherkit/voucherkit/store/memory"
)

// BenchmarkCheckout is checkout throughput of a Wallet on the in-memory store with the
// real aliyun engine, from one goroutine: benchAccounts accounts, orders of one or two
// lines, each iteration a new order id, so that the wallet grows as it would (orders,
// ledger). orders/s is b.N over the wall time. "history" keeps every committed order
// and ledger entry, as a wallet that refunds must; "without-history" is
// memory.WithoutHistory, the store a simulation runs on, whose memory does not grow
// with the orders. The target is 50,000 orders/s. With history the figure depends on
// how much history the garbage collector marks, so it is read at a given size too:
//
//	go test -run '^$' -bench Checkout -benchmem -count 5 ./voucher
//	go test -run '^$' -bench Checkout -benchmem -benchtime 100000x ./voucher
func BenchmarkCheckout(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts []memory.Option
	}{{"history", nil}, {"without-history", []memory.Option{memory.WithoutHistory()}}} {
		b.Run(bc.name, func(b *testing.B) {
			w, orders, now := benchWallet(b, bc.opts...)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				o := orders[i%len(orders)]
				o.ID = strconv.Itoa(i)
				if _, err := w.Checkout(ctx, o, now); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "orders/s")
		})
	}
}
