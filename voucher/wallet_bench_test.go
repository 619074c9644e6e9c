package voucher_test

import (
	"strconv"
	"testing"
)

// BenchmarkCheckout is checkout throughput of a Wallet on the in-memory store with the
// real aliyun engine, from one goroutine: benchAccounts accounts, orders of one or two
// lines, each iteration a new order id, so that the wallet grows as it would (orders,
// ledger). orders/s is b.N over the wall time.
//
//	go test -run x -bench Checkout -benchmem ./voucher
func BenchmarkCheckout(b *testing.B) {
	w, orders, now := benchWallet(b)
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
}
