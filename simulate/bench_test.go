package simulate_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/voucherkit/voucherkit/rules"
	"github.com/voucherkit/voucherkit/simulate"
	"github.com/voucherkit/voucherkit/voucher"
)

// benchWallet is n aliyun vouchers over n/5 accounts (five each), of 100 to 1,000 CNY,
// expiring on days spread over 2026.
func benchWallet(n int) []voucher.Instrument {
	out := make([]voucher.Instrument, n)
	year := time.Date(2026, 1, 1, 0, 0, 0, 0, shanghai)
	for i := range out {
		exp := year.AddDate(0, 0, 30+(i*37)%335)
		out[i] = voucher.Instrument{ID: fmt.Sprintf("v%05d", i), Type: "voucher", Account: fmt.Sprintf("acct-%04d", i/5),
			Amount: decimal.New(int64(100+(i*7919)%901), 0), ExpiresAt: &exp}
	}
	return out
}

// benchOrders is n orders over 2026 from the accounts of benchWallet(instruments),
// one or two lines of 1.00 to 60.00 CNY each; built one at a time.
func benchOrders(n, instruments int) simulate.Source {
	accounts := instruments / 5
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, shanghai)
	step := 365 * 24 * time.Hour / time.Duration(n)
	return simulate.Generate(n, func(i int) simulate.Item {
		o := voucher.Order{ID: "o" + strconv.Itoa(i), Account: fmt.Sprintf("acct-%04d", (i*7919)%accounts),
			Type: voucher.OrderRenewal, Payment: voucher.PaySubscription,
			Lines: []voucher.Line{{ID: "1", Product: "ecs", Amount: decimal.New(int64(100+(i*31)%5901), -2)}}}
		if i%3 == 0 {
			o.Lines = append(o.Lines, voucher.Line{ID: "2", Product: "oss", Amount: decimal.New(int64(100+(i*17)%901), -2)})
		}
		return simulate.Item{Order: &o, At: start.Add(time.Duration(i) * step), Pos: "order " + o.ID}
	})
}

// BenchmarkSimulate1MOrders10kInstruments simulates 1,000,000 orders against 10,000
// instruments under aliyun (no decision trace), and reports orders/s and the
// process's peak resident memory (VmHWM). Run it alone, so the peak is its own:
//
//	go test -run '^$' -bench Simulate1M -benchtime 1x ./simulate
func BenchmarkSimulate1MOrders10kInstruments(b *testing.B) {
	const orders, instruments = 1_000_000, 10_000
	sets := []simulate.RuleSet{{Name: "aliyun", Pricer: engine(b, "aliyun", rules.WithTrace(false)), Instruments: benchWallet(instruments)}}
	b.ResetTimer()
	cpu := cpuTime(b)
	for range b.N {
		rep, err := simulate.Run(context.Background(), benchOrders(orders, instruments), sets, simulate.Options{Location: shanghai})
		if err != nil {
			b.Fatal(err)
		}
		if rep.RuleSets[0].Priced != orders {
			b.Fatalf("priced %d of %d", rep.RuleSets[0].Priced, orders)
		}
	}
	b.ReportMetric(float64(orders*b.N)/b.Elapsed().Seconds(), "orders/s")
	b.ReportMetric((cpuTime(b)-cpu).Seconds()/float64(b.N), "cpu-s/op")
	b.ReportMetric(float64(peakRSS(b))/(1<<20), "peak-MB")
}

// BenchmarkSimulate1MOrdersTwoRuleSets is the same under aliyun and tencentcloud side
// by side.
func BenchmarkSimulate1MOrdersTwoRuleSets(b *testing.B) {
	const orders, instruments = 1_000_000, 10_000
	w := benchWallet(instruments)
	sets := []simulate.RuleSet{
		{Name: "aliyun", Pricer: engine(b, "aliyun", rules.WithTrace(false)), Instruments: w},
		{Name: "tencentcloud", Pricer: engine(b, "tencentcloud", rules.WithTrace(false)), Instruments: w},
	}
	b.ResetTimer()
	cpu := cpuTime(b)
	for range b.N {
		if _, err := simulate.Run(context.Background(), benchOrders(orders, instruments), sets, simulate.Options{Location: shanghai}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(orders*b.N)/b.Elapsed().Seconds(), "orders/s")
	b.ReportMetric((cpuTime(b)-cpu).Seconds()/float64(b.N), "cpu-s/op")
	b.ReportMetric(float64(peakRSS(b))/(1<<20), "peak-MB")
}

// cpuTime is the CPU time (user and system) the process has used: on a machine that
// other work shares, the wall time of a run says less than this.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakRSS is the process's peak resident set size in bytes (VmHWM of
// /proc/self/status, Linux).
func peakRSS(b *testing.B) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		b.Fatalf("peak memory: %v (VmHWM needs Linux's /proc)", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb << 10
		}
	}
	b.Fatal("peak memory: no VmHWM in /proc/self/status")
	return 0
}
