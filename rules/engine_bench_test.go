package rules_test

import (
	"cmp"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/shopspring/decimal"

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
	reportBaseline(b, func() { oneLineFloor(o.Lines[0].Amount, wallet) })
}

// reportBaseline measures floor, a hand-written loop doing the least the benchmark's
// work does, as many times as the benchmark ran, right after it: baseline-µs is its
// time, x-baseline the benchmark's as a multiple of it (the figure to read on a shared
// machine).
func reportBaseline(b *testing.B, floor func()) {
	b.StopTimer()
	elapsed, n := b.Elapsed(), b.N
	start := time.Now()
	for range n {
		floor()
	}
	per := time.Since(start) / time.Duration(n)
	b.ReportMetric(float64(per.Nanoseconds())/1000, "baseline-µs")
	b.ReportMetric(float64(elapsed)/float64(n)/float64(per), "x-baseline")
}

type floorApp struct {
	id     string
	amount decimal.Decimal
}

// oneLineFloor prices one line against a percentage, a fixed amount and a balance, by
// hand: what BenchmarkQuoteOneLineThreeInstruments computes, without rules, checks or
// explanations.
func oneLineFloor(line decimal.Decimal, wallet []voucher.Instrument) []floorApp {
	apps := make([]floorApp, 0, len(wallet))
	left := line
	for _, in := range wallet {
		var take decimal.Decimal
		switch {
		case in.PercentOff != nil:
			take = left.Mul(*in.PercentOff).Div(decimal.NewFromInt(100)).Round(2)
		case in.Balance != nil:
			take = decimal.Min(left, *in.Balance)
		default:
			take = decimal.Min(left, in.Amount)
		}
		left = left.Sub(take)
		apps = append(apps, floorApp{in.ID, take})
	}
	return apps
}

// walletFloor picks, by hand, the soonest-expiring of the wallet's instruments that
// are the buyer's and not expired, and lists the others: the least automatic selection
// over a wallet does.
func walletFloor(account string, wallet []voucher.Instrument, at time.Time) (string, []string) {
	cands := make([]*voucher.Instrument, 0, len(wallet))
	for i := range wallet {
		in := &wallet[i]
		if in.Account == account && (in.ExpiresAt == nil || at.Before(*in.ExpiresAt)) {
			cands = append(cands, in)
		}
	}
	slices.SortFunc(cands, func(a, b *voucher.Instrument) int {
		if c := a.ExpiresAt.Compare(*b.ExpiresAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	others := make([]string, 0, len(cands))
	for _, in := range cands[1:] {
		others = append(others, in.ID)
	}
	return cands[0].ID, others
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
	reportBaseline(b, func() { walletFloor(o.Account, wallet, pricedAt) })
}

// Automatic selection over one account's 1000 vouchers.
func BenchmarkQuoteWallet1000(b *testing.B) { benchWalletQuote(b, 1000) }

// Automatic selection over one account's 10000 vouchers.
func BenchmarkQuoteWallet10000(b *testing.B) { benchWalletQuote(b, 10000) }

// A usage order of n lines against one aws credit, around the size where the engine
// switches from a small order's inline buffers to a big order's (over eight lines):
// a big order's caches are sized by its lines, so nine lines cost about what eight do.
func BenchmarkQuoteLines(b *testing.B) {
	e := builtinEngine(b, "aws")
	for _, n := range []int{8, 9, 20, 100, 1000} {
		o := voucher.Order{ID: "o", Account: "acct-1", Type: voucher.OrderUsage, Payment: voucher.PayAsYouGo}
		for i := range n {
			o.Lines = append(o.Lines, voucher.Line{ID: fmt.Sprint("l", i), Product: []string{"ec2", "s3", "rds"}[i%3],
				Amount: decimal.New(int64(1000+i*37), -2)})
		}
		wallet := []voucher.Instrument{{ID: "c", Type: "credit", Account: "acct-1", Amount: decimal.NewFromInt(5)}}
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.Quote(o, wallet, pricedAt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
