package rules_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/voucherkit/voucherkit/rules"
	"github.com/voucherkit/voucherkit/voucher"
)

// Allocation at scale (issue 9): one usage bill of many lines against many credits of
// the buyer, under the built-in gcp (proportional) and aws (largest_line_first) rule
// sets. Run them with
//
//	go test -run '^$' -bench BenchmarkAlloc -benchmem -benchtime 3x ./rules
//
// What a quote costs is now bounded by what it says: a proportional split lists every
// line that gets a unit, so a credit of u units over n lines in scope lists up to
// min(u, n) of them (an Application.Lines entry is 56 bytes). Credits of a few dollars
// over 19,000 lines list a few hundred lines each; credits of hundreds of dollars list
// most of the lines each (BenchmarkAllocGCP19000Lines9000LargeCredits: some 63 million
// entries, 3.5 GB).

// bigBill is a generated usage bill and wallet: lines of 0.01 to 500.00 (every seventh
// finer than a cent) of products drawn from products, one in forty of the last, which the
// rule set never covers; credits with balances from 1.00 to maxCredit cents, every third
// scoped to one to three products.
type bigBill struct {
	order  voucher.Order
	wallet []voucher.Instrument
}

var (
	gcpBillProducts = []string{"compute_engine", "cloud_storage", "bigquery", "cloud_sql", "gke", "cloud_run",
		"networking", "logging", "pubsub", "vertex_ai", "spanner", "marketplace"}
	awsBillProducts = []string{"ec2", "s3", "rds", "lambda", "cloudfront", "dynamodb", "ebs", "eks",
		"sagemaker", "cloudwatch", "support_enterprise", "marketplace"}
)

// newBigBill draws nLines lines and nCredits credits from seed.
func newBigBill(seed uint64, products []string, nLines, nCredits int, maxCredit int64) bigBill {
	r := rand.New(rand.NewPCG(seed, 9))
	lines := make([]voucher.Line, nLines)
	for i := range lines {
		p := products[r.IntN(len(products)-1)]
		if r.IntN(40) == 0 {
			p = products[len(products)-1]
		}
		a := decimal.New(1+r.Int64N(50_000), -2)
		if i%7 == 3 {
			a = decimal.New(1+r.Int64N(500_000), -3) // finer than a cent: rounded per line
		}
		lines[i] = voucher.Line{ID: fmt.Sprintf("l%06d", i), Product: p, Amount: a}
	}
	wallet := make([]voucher.Instrument, nCredits)
	for i := range wallet {
		b := decimal.New(100+r.Int64N(maxCredit-99), -2)
		in := voucher.Instrument{ID: fmt.Sprintf("c%05d", i), Type: "credit", Account: buyerAcct, Amount: b,
			IssuedAt:  voucher.Ptr(pricedAt.Add(-time.Duration(1+r.IntN(10_000)) * time.Hour)),
			ExpiresAt: voucher.Ptr(pricedAt.Add(time.Duration(1+r.IntN(500)) * 24 * time.Hour))}
		if i%3 == 0 {
			n := 1 + r.IntN(3)
			for range n {
				in.Products = append(in.Products, products[r.IntN(len(products)-1)])
			}
		}
		wallet[i] = in
	}
	return bigBill{order: usageOrderOf(lines...), wallet: wallet}
}

func benchBigBill(b *testing.B, provider string, bill bigBill) {
	e := builtinEngine(b, provider)
	q, err := e.Quote(bill.order, bill.wallet, pricedAt)
	if err != nil || len(q.Applications) == 0 {
		b.Fatalf("setup: %v, %v", err, q)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.Quote(bill.order, bill.wallet, pricedAt); err != nil {
			b.Fatal(err)
		}
	}
}

// The Go API report: 5,000 lines, 200 credits (gcp).
func BenchmarkAllocGCP5000Lines200Credits(b *testing.B) {
	benchBigBill(b, "gcp", newBigBill(1, gcpBillProducts, 5_000, 200, 20_000))
}

// One aws credit over 25,000 lines, large enough to pay most of them one by one.
func BenchmarkAllocAWS25000Lines1Credit(b *testing.B) {
	bill := newBigBill(2, awsBillProducts, 25_000, 1, 200)
	bill.wallet[0].Products = nil
	bill.wallet[0].Balance = nil
	bill.wallet[0].Amount = decimal.New(5_000_000, 0)
	benchBigBill(b, "aws", bill)
}

// The reported shape: 19,000 lines, 9,000 credits (gcp), of 1.00 to 6.00 each: every
// credit applies, each spread over every line in its scope.
func BenchmarkAllocGCP19000Lines9000Credits(b *testing.B) {
	benchBigBill(b, "gcp", newBigBill(3, gcpBillProducts, 19_000, 9_000, 600))
}

// The reported shape with credits of 1.00 to 200.00: the quote lists most lines under
// every credit, and making that list is most of the cost.
func BenchmarkAllocGCP19000Lines9000LargeCredits(b *testing.B) {
	benchBigBill(b, "gcp", newBigBill(3, gcpBillProducts, 19_000, 9_000, 20_000))
}

// The reported shape under aws's spend_desc: each credit pays the lines it reaches
// largest first, and most are paid out by the first line they reach.
func BenchmarkAllocAWS19000Lines9000Credits(b *testing.B) {
	benchBigBill(b, "aws", newBigBill(3, awsBillProducts, 19_000, 9_000, 600))
}

// 100,000 lines, 1,000 credits, proportional (gcp).
func BenchmarkAllocGCP100000Lines1000Credits(b *testing.B) {
	benchBigBill(b, "gcp", newBigBill(4, gcpBillProducts, 100_000, 1_000, 20_000))
}

// 100,000 lines, 1,000 credits, largest line first (aws).
func BenchmarkAllocAWS100000Lines1000Credits(b *testing.B) {
	benchBigBill(b, "aws", newBigBill(5, awsBillProducts, 100_000, 1_000, 20_000))
}

// 100,000 lines, 1,000 instruments under an inline rule set: a discount stage (every
// tenth instrument a 1 % coupon, largest line first) before the credits (proportional),
// both sorted by what they would take.
func BenchmarkAllocInline100000Lines1000Instruments(b *testing.B) {
	rs, err := rules.Parse("inline.yaml", []byte(inlineBigRules))
	if err != nil {
		b.Fatal(err)
	}
	e, err := rules.NewEngine(rs)
	if err != nil {
		b.Fatal(err)
	}
	bill := newBigBill(6, gcpBillProducts, 100_000, 1_000, 20_000)
	for i := range bill.wallet {
		if i%10 == 0 {
			in := &bill.wallet[i]
			in.Type, in.Balance, in.Amount, in.PercentOff, in.MaxRedemptions = "coupon", nil, decimal.Zero, voucher.Ptr(decimal.New(1, 0)), voucher.Ptr(1)
		}
	}
	q, err := e.Quote(bill.order, bill.wallet, pricedAt)
	if err != nil || len(q.Applications) == 0 {
		b.Fatalf("setup: %v, %v", err, q)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.Quote(bill.order, bill.wallet, pricedAt); err != nil {
			b.Fatal(err)
		}
	}
}

const inlineBigRules = `
name: inline-big
version: "t"
currency: USD
scale: 2
rounding: half_away_from_zero
time_zone: UTC
never_covers: [marketplace]
stages:
  - {name: coupons, kind: discount}
  - {name: credits, kind: deduction}
types:
  coupon:
    stage: coupons
    per_order_limit: 0
    selection: [discount_desc, id]
    allocation: largest_line_first
  credit:
    stage: credits
    per_order_limit: 0
    selection: [deductible_desc, expires_asc, id]
    allocation: proportional
`
