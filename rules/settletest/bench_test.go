package settletest_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/voucherkit/voucherkit/voucher"
)

// bigOrg is an organization of accounts accounts, each with perAccount charges over a
// few products and SKUs, and credits credits of mixed sizes owned by random accounts,
// some scoped to a product, some not shared.
func bigOrg(accounts, perAccount, credits int) (voucher.Organization, voucher.Bill, []voucher.Instrument) {
	r := rand.New(rand.NewPCG(1, 2))
	org := voucher.Organization{ID: "big", Payer: "a0000"}
	names := []string{"a0000"}
	for i := 1; i < accounts; i++ {
		names = append(names, fmt.Sprintf("a%04d", i))
		org.Members = append(org.Members, voucher.Member{Account: names[i]})
	}
	prods := []string{"ec2", "s3", "rds", "lambda", "cloudfront", "marketplace"}
	skus := []string{"", "std", "ia", "m5", "c6"}
	b := voucher.Bill{ID: "big", Start: start, End: end, Organization: org.ID}
	b.Charges = make([]voucher.Charge, 0, accounts*perAccount)
	for i := range accounts * perAccount {
		b.Charges = append(b.Charges, voucher.Charge{
			Line: voucher.Line{ID: fmt.Sprintf("l%d", i), Product: prods[r.IntN(len(prods))], SKU: skus[r.IntN(len(skus))],
				Amount: decimal.New(int64(r.IntN(100000)), -3)},
			Account: names[r.IntN(accounts)], IncurredAt: start.Add(time.Duration(r.IntN(30*24)) * time.Hour)})
	}
	insts := make([]voucher.Instrument, credits)
	off := false
	for i := range insts {
		size := []int64{100, 1000, 10000, 100000}[r.IntN(4)]
		insts[i] = voucher.Instrument{ID: fmt.Sprintf("c%04d", i), Type: "credit", Account: names[r.IntN(accounts)],
			Amount: decimal.New(1+r.Int64N(size), -2)}
		if r.IntN(3) == 0 {
			insts[i].Products = []string{prods[r.IntN(len(prods))]}
		}
		if r.IntN(10) == 0 {
			insts[i].Shared = &off
		}
		if r.IntN(2) == 0 {
			t := end.AddDate(0, r.IntN(12), 0)
			insts[i].ExpiresAt = &t
		}
	}
	return org, b, insts
}

func benchSettle(b *testing.B, perAccount int) {
	e := awsEngine(b)
	org, bill, insts := bigOrg(1000, perAccount, 500)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if _, err := e.Settle(bill, &org, insts); err != nil {
			b.Fatal(err)
		}
		n++
	}
	// The yardstick, measured in the same run: a hand-written loop doing the least any
	// settle does (each charge read to cents, summed per account, listed with one
	// figure; each credit taken from its owner's total). x-baseline is the ratio.
	start := time.Now()
	for range n {
		settleFloor(bill, insts)
	}
	floor := time.Since(start) / time.Duration(n)
	b.ReportMetric(float64(floor.Microseconds())/1000, "baseline-ms")
	b.ReportMetric(float64(b.Elapsed())/float64(n)/float64(floor), "x-baseline")
}

type floorRow struct {
	charge string
	cash   decimal.Decimal
}

// settleFloor is BenchmarkSettle's yardstick: see benchSettle.
func settleFloor(bill voucher.Bill, insts []voucher.Instrument) []floorRow {
	sums := map[string]int64{}
	rows := make([]floorRow, len(bill.Charges))
	for i, c := range bill.Charges {
		cents := c.Amount.Shift(2).Round(0).IntPart()
		sums[c.Account] += cents
		rows[i] = floorRow{c.ID, decimal.New(cents, -2)}
	}
	for _, in := range insts {
		left := in.Amount.Shift(2).IntPart()
		take := min(left, sums[in.Account])
		sums[in.Account] -= take
	}
	return rows
}

// BenchmarkSettle1000x50: 1,000 accounts x 50 charges, 500 credits (target: under
// 50 ms on one core, go test -bench Settle -cpu 1).
func BenchmarkSettle1000x50(b *testing.B) { benchSettle(b, 50) }

// BenchmarkSettle1000x500: ten times the charges, to show the cost near-linear in them.
func BenchmarkSettle1000x500(b *testing.B) { benchSettle(b, 500) }
