package rules_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/voucherkit/voucherkit/rules"
	"github.com/voucherkit/voucherkit/voucher"
)

// spendRules has one credit type allocated by spend_desc.
const spendRules = `
name: spend
version: "t"
currency: USD
scale: 2
rounding: half_away_from_zero
time_zone: UTC
stages:
  - {name: credits, kind: deduction}
types:
  credit:
    stage: credits
    selection: [id]
    allocation: spend_desc
`

// refSpendDesc is spend_desc on an order as the spec words it, one choice at a time:
// the product with the most left (ties: its first line earlier), in it the SKU with the
// most left (a line without a SKU is a SKU of its own; ties: its first line earlier),
// in it the line with the most left (ties: the earlier line); the line takes what it
// owes, up to what is left to give.
func refSpendDesc(take int64, products, skus []string, left []int64) []int64 {
	share := make([]int64, len(left))
	skuKey := func(i int) string {
		if skus[i] == "" {
			return fmt.Sprintf("#%d", i)
		}
		return products[i] + "/" + skus[i]
	}
	first := map[string]int{} // the first line of each product and each SKU
	for i := range left {
		for _, k := range []string{"p:" + products[i], "s:" + skuKey(i)} {
			if _, ok := first[k]; !ok {
				first[k] = i
			}
		}
	}
	// best picks, among keys with something left, the one with the most, then the
	// earliest first line.
	best := func(sums map[string]int64) string {
		var out string
		for k, s := range sums {
			if s > 0 && (out == "" || s > sums[out] || s == sums[out] && first[k] < first[out]) {
				out = k
			}
		}
		return out
	}
	for take > 0 {
		prods, skuSums := map[string]int64{}, map[string]int64{}
		for i, l := range left {
			prods["p:"+products[i]] += l
		}
		p := best(prods)
		if p == "" {
			break
		}
		for i, l := range left {
			if "p:"+products[i] == p {
				skuSums["s:"+skuKey(i)] += l
			}
		}
		s := best(skuSums)
		line := -1
		for i, l := range left {
			if "s:"+skuKey(i) == s && l > 0 && (line < 0 || l > left[line]) {
				line = i
			}
		}
		t := min(take, left[line])
		left[line] -= t
		share[line] += t
		take -= t
	}
	return share
}

// spend_desc on orders against the reference: amounts from a short list (ties at every
// level), SKUs shared within and across products, lines without a SKU.
func TestSpendDescMatchesReference(t *testing.T) {
	rs, err := rules.Parse("spend.yaml", []byte(spendRules))
	require.NoError(t, err)
	e, err := rules.NewEngine(rs)
	require.NoError(t, err)
	r := rand.New(rand.NewPCG(3, 5))
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	amounts := []int64{0, 1, 5, 5, 10, 10, 25, 100, 333}
	for trial := range 3000 {
		n := 1 + r.IntN(40)
		o := voucher.Order{ID: "o", Account: "acct", Type: voucher.OrderUsage, Payment: voucher.PayAsYouGo}
		products, skus, left := make([]string, n), make([]string, n), make([]int64, n)
		var total int64
		for i := range n {
			products[i] = []string{"a", "b", "c", "d"}[r.IntN(1+r.IntN(4))]
			skus[i] = []string{"", "x", "y", "z"}[r.IntN(4)]
			left[i] = amounts[r.IntN(len(amounts))]
			if r.IntN(4) == 0 {
				left[i] = r.Int64N(1000)
			}
			total += left[i]
			o.Lines = append(o.Lines, voucher.Line{ID: fmt.Sprintf("l%d", i), Product: products[i], SKU: skus[i],
				Amount: decimal.New(left[i], -2)})
		}
		take := 1 + r.Int64N(total+10)
		credit := voucher.Instrument{ID: "c", Type: "credit", Account: "acct", Amount: decimal.New(take, -2)}
		q, err := e.Quote(o, []voucher.Instrument{credit}, at)
		require.NoError(t, err)
		want := refSpendDesc(take, products, skus, left)
		got := make([]int64, n)
		for _, a := range q.Applications {
			for _, la := range a.Lines {
				var i int
				_, err := fmt.Sscanf(la.LineID, "l%d", &i)
				require.NoError(t, err)
				got[i] = la.Amount.Amount().Shift(2).IntPart()
			}
		}
		require.Equal(t, want, got, "trial %d: %d lines, credit %d", trial, n, take)
	}
}
