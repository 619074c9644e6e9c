package rules_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/voucherkit/voucherkit/voucher"
)

// go test -run '^$' -bench . -benchmem ./rules

// A checkout page's quote: one line, a promo code, a coupon and a voucher (aliyun).
func BenchmarkQuoteOneLineThreeInstruments(b *testing.B) {
	e := builtinEngine(b, "aliyun")
	o := orderOf(itemOf("l1", "ecs", "1000"))
	o.FirstPurchase = true
	o.Codes = []string{"SPRING10"}
	wallet := aliyunStackingWallet()
	q, err := e.Quote(o, wallet, pricedAt)
	if err != nil || len(q.Applications) != 3 {
		b.Fatalf("setup: %v, %v", err, q)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.Quote(o, wallet, pricedAt); err != nil {
			b.Fatal(err)
		}
	}
}

// benchWallet is n vouchers of one account with distinct balances and expiries.
func benchWallet(n int) []voucher.Instrument {
	w := make([]voucher.Instrument, n)
	for i := range w {
		w[i] = changed(deductionOf("voucher", fmt.Sprintf("v%05d", i), fmt.Sprintf("%d.%02d", 1+i%500, i%100)), func(in *voucher.Instrument) {
			in.ExpiresAt = voucher.Ptr(pricedAt.Add(time.Duration(1+i%97) * 24 * time.Hour))
			in.IssuedAt = voucher.Ptr(pricedAt.Add(-time.Duration(i) * time.Minute))
			if i%3 == 0 {
				in.Products = []string{"ecs", "rds"}
			}
		})
	}
	return w
}

func benchWalletQuote(b *testing.B, n int) {
	e := builtinEngine(b, "aliyun")
	o := orderOf(itemOf("l1", "ecs", "800"), itemOf("l2", "oss", "120.50"))
	wallet := benchWallet(n)
	q, err := e.Quote(o, wallet, pricedAt)
	if err != nil || len(q.Applications) != 1 || len(q.Rejections) != n-1 {
		b.Fatalf("setup: %v, %d applied, %d rejected", err, len(q.Applications), len(q.Rejections))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.Quote(o, wallet, pricedAt); err != nil {
			b.Fatal(err)
		}
	}
}

// Automatic selection over one account's 1000 vouchers.
func BenchmarkQuoteWallet1000(b *testing.B) { benchWalletQuote(b, 1000) }

// Automatic selection over one account's 10000 vouchers.
func BenchmarkQuoteWallet10000(b *testing.B) { benchWalletQuote(b, 10000) }
