package voucher

import (
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

const benchAccounts = 64

// benchWallet has benchAccounts accounts, each with a large voucher, a spent one and a
// coupon, so that every checkout sees a few instruments.
func benchWallet(b *testing.B) (*Wallet, []Order) {
	b.Helper()
	w := NewWallet(newFakePricer(), wt0)
	orders := make([]Order, benchAccounts)
	for a := 0; a < benchAccounts; a++ {
		acct := fmt.Sprintf("acct-%d", a)
		for _, in := range []Instrument{
			vch(fmt.Sprintf("big-%d", a), acct, "1000000000"),
			{ID: fmt.Sprintf("spent-%d", a), Type: "voucher", Account: acct, Amount: wdec("10"), Balance: wdec("0")},
			{ID: fmt.Sprintf("coupon-%d", a), Type: "coupon", Account: acct, Amount: wdec("5"), ExpiresAt: wt0.Add(time.Hour)},
		} {
			if err := w.Grant(in); err != nil {
				b.Fatal(err)
			}
		}
		orders[a] = buy("", acct, "3.00", "2.50")
	}
	return w, orders
}

// BenchmarkCheckout is checkout throughput from one goroutine: price through the
// (fake) Pricer, commit, record in the ledger.
func BenchmarkCheckout(b *testing.B) {
	w, orders := benchWallet(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		o := orders[i%benchAccounts]
		o.ID = strconv.Itoa(i)
		if _, err := w.Checkout(o, wt0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheckoutParallel is checkout throughput from GOMAXPROCS goroutines on one
// wallet (steps are serialised by the wallet's lock).
func BenchmarkCheckoutParallel(b *testing.B) {
	w, orders := benchWallet(b)
	var n atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			o := orders[i%benchAccounts]
			o.ID = strconv.FormatInt(i, 10)
			if _, err := w.Checkout(o, wt0); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkQuote prices without committing.
func BenchmarkQuote(b *testing.B) {
	w, orders := benchWallet(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		o := orders[i%benchAccounts]
		o.ID = "q"
		if _, err := w.Quote(o, wt0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReserveCapture is a reservation and its capture.
func BenchmarkReserveCapture(b *testing.B) {
	w, orders := benchWallet(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		o := orders[i%benchAccounts]
		o.ID = strconv.Itoa(i)
		if _, err := w.Reserve(o, wt0, time.Minute); err != nil {
			b.Fatal(err)
		}
		if _, err := w.Capture(o.ID, wt0); err != nil {
			b.Fatal(err)
		}
	}
}
