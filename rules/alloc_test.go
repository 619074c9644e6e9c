package rules_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/voucherkit/voucherkit/rules"
	"github.com/voucherkit/voucherkit/voucher"
)

// The engine's allocation and scope checks against the straightforward way the engine
// did them before issue 9 (a scan over every line per candidate, a rescan per leftover
// unit, a rescan per line taken): generated orders are priced, then the quote's trace
// is replayed with the reference, decision by decision.

// replayRules has both allocation rules in both kinds of stage, type-level never_covers
// next to the rule set's, and selection keys that look at what an instrument takes.
const replayRules = `
name: replay
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
    selection: [discount_desc, id]
    allocation: largest_line_first
    never_covers: [z]
  pct:
    stage: coupons
    selection: [discount_desc, id]
  credit:
    stage: credits
    selection: [deductible_desc, id]
  grant:
    stage: credits
    selection: [balance_asc, id]
    allocation: largest_line_first
    never_covers: [z]
`

// replayProducts: a case draws from the first few (scopes cover much of the order) or
// from all (scopes cover little of it), so that the engine gathers the lines in scope
// both ways.
var replayProducts = []string{"marketplace", "z", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j",
	"k", "l", "m", "n", "o", "p", "q", "r", "s", "t"}

// replayCase draws an order and a wallet: amounts from a short list (ties), zero,
// finer than a cent or anything; scopes with repeats, unknown products, exclusions.
func replayCase(r *rand.Rand) (voucher.Order, []voucher.Instrument) {
	n := 1 + r.IntN(12)
	if r.IntN(5) == 0 {
		n = 1 + r.IntN(400)
	}
	ties := []string{"0", "1", "2", "2.5", "10", "10"}
	products := replayProducts[:4+r.IntN(2)*(len(replayProducts)-4)]
	lines := make([]voucher.Line, n)
	for i := range lines {
		var a decimal.Decimal
		switch r.IntN(4) {
		case 0:
			a = amt(ties[r.IntN(len(ties))])
		case 1:
			a = decimal.New(r.Int64N(100_000), -3)
		default:
			a = decimal.New(r.Int64N(10_000), -2)
		}
		lines[i] = voucher.Line{ID: fmt.Sprintf("l%03d", i), Product: products[r.IntN(len(products))], Amount: a}
	}
	pick := func() []string {
		var ps []string
		for range 1 + r.IntN(3) {
			if r.IntN(6) == 0 {
				ps = append(ps, "nope")
			} else {
				ps = append(ps, products[r.IntN(len(products))])
			}
		}
		return ps
	}
	m := 1 + r.IntN(10)
	if r.IntN(5) == 0 {
		m = 1 + r.IntN(80)
	}
	insts := make([]voucher.Instrument, m)
	for i := range insts {
		in := voucher.Instrument{ID: fmt.Sprintf("i%02d", i), Account: buyerAcct}
		money := decimal.New(1+r.Int64N(int64(n)*3000+2), -2) // above zero: the engine refuses an empty instrument
		switch r.IntN(4) {
		case 0:
			in.Type, in.Amount = "coupon", money
		case 1:
			in.Type, in.PercentOff = "pct", voucher.Ptr(decimal.New(1+r.Int64N(1000), -1))
			if r.IntN(2) == 0 {
				in.MaxDiscount = voucher.Ptr(decimal.New(1+r.Int64N(5000), -2))
			}
		case 2:
			in.Type, in.Amount, in.Balance = "credit", money, voucher.Ptr(money)
		default:
			in.Type, in.Amount, in.Balance = "grant", money, voucher.Ptr(money)
		}
		if in.Type == "credit" || in.Type == "grant" {
			if r.IntN(5) == 0 {
				in.Held = decimal.New(r.Int64N(in.CurrentBalance().Shift(2).IntPart()+1), -2)
			}
		}
		if r.IntN(3) != 0 {
			in.Products = pick()
		}
		if r.IntN(4) == 0 {
			in.ExcludeProducts = pick()
		}
		if r.IntN(6) == 0 {
			in.MinSpend = voucher.Ptr(decimal.New(r.Int64N(int64(n)*2000+1), -2))
		}
		insts[i] = in
	}
	return orderOf(lines...), insts
}

func units2(d decimal.Decimal) int64 { return d.Shift(2).IntPart() }

// refScope is the old inScope, line by line.
func refScope(rs *rules.RuleSet, in voucher.Instrument, product string) bool {
	it, _ := rs.Type(in.Type)
	return !slices.Contains(it.NeverCovers, product) && !slices.Contains(in.ExcludeProducts, product) &&
		(len(in.Products) == 0 || slices.Contains(in.Products, product))
}

// refLargestLineFirst is largest_line_first as the engine did it before issue 9.
func refLargestLineFirst(take int64, weights, out []int64) {
	left := take
	for left > 0 {
		best := -1
		for li := range weights {
			if weights[li]-out[li] > 0 && (best < 0 || weights[li]-out[li] > weights[best]-out[best]) {
				best = li
			}
		}
		if best < 0 {
			break
		}
		t := min(left, weights[best]-out[best])
		out[best] += t
		left -= t
	}
}

// refProportionalSplit is the proportional split as it was before issue 9.
func refProportionalSplit(amount int64, weights, out []int64) {
	var sum int64
	for _, w := range weights {
		sum += w
	}
	if sum == 0 {
		return
	}
	var given int64
	rems := make([]int64, len(weights))
	for i, w := range weights {
		q := decimal.NewFromInt(amount).Mul(decimal.NewFromInt(w)) // exact, as the engine's 128 bits
		out[i] = q.Div(decimal.NewFromInt(sum)).Floor().IntPart()
		rems[i] = q.Sub(decimal.NewFromInt(out[i]).Mul(decimal.NewFromInt(sum))).IntPart()
		given += out[i]
	}
	for left := amount - given; left > 0; left-- {
		best := -1
		for i, r := range rems {
			if r > 0 && (best < 0 || r > rems[best]) {
				best = i
			}
		}
		out[best]++
		rems[best] = 0
	}
}

func TestAllocationMatchesReference(t *testing.T) {
	rs, err := rules.Parse("replay.yaml", []byte(replayRules))
	require.NoError(t, err)
	e, err := rules.NewEngine(rs)
	require.NoError(t, err)
	applied := 0
	rejected := map[voucher.Reason]int{}
	for seed := range uint64(1500) {
		r := rand.New(rand.NewPCG(seed, 7))
		o, insts := replayCase(r)
		q, err := e.Quote(o, insts, pricedAt)
		require.NoError(t, err, "seed %d", seed)
		applied += replay(t, rs, o, insts, q, seed, rejected)
	}
	require.Greater(t, applied, 2000, "the generator stopped producing applications")
	for _, reason := range []voucher.Reason{voucher.ReasonProductScope, voucher.ReasonMinSpend, voucher.ReasonNothingLeft} {
		require.Greater(t, rejected[reason], 50, "the generator stopped producing %s", reason)
	}
}

// replay walks q's trace with the reference and fails at the first decision it does not
// reproduce; it returns the number of applications and counts rejections by reason.
func replay(t *testing.T, rs *rules.RuleSet, o voucher.Order, insts []voucher.Instrument, q *voucher.Quote, seed uint64, rejected map[voucher.Reason]int) int {
	t.Helper()
	byID := make(map[string]voucher.Instrument, len(insts))
	for _, in := range insts {
		byID[in.ID] = in
	}
	payable := make([]int64, len(o.Lines))
	for li, l := range o.Lines {
		payable[li] = units2(l.Amount.Round(2))
	}
	next := 0 // the next application of q
	for _, ev := range q.Trace {
		if ev.Event != "apply" && ev.Event != "reject" {
			continue
		}
		in := byID[ev.Instrument]
		at := fmt.Sprintf("seed %d: %s %s", seed, ev.Event, in.ID)
		weights := make([]int64, len(o.Lines))
		var scopePay int64
		inScope := 0
		for li, l := range o.Lines {
			if refScope(rs, in, l.Product) {
				weights[li] = payable[li]
				scopePay += payable[li]
				inScope++
			}
		}
		deduction := in.Type == "credit" || in.Type == "grant"
		if ev.Event == "reject" {
			rejected[ev.Reason]++
			switch ev.Reason {
			case voucher.ReasonProductScope:
				require.Zero(t, inScope, at)
			case voucher.ReasonMinSpend:
				require.Positive(t, inScope, at)
				require.Less(t, scopePay, units2(optional(in.MinSpend)), at)
			case voucher.ReasonNothingLeft:
				if in.PercentOff == nil {
					require.Zero(t, scopePay, at)
				}
			}
			continue
		}
		a := q.Applications[next]
		next++
		require.Equal(t, in.ID, a.InstrumentID, at)
		require.Positive(t, inScope, at)
		require.GreaterOrEqual(t, scopePay, units2(optional(in.MinSpend)), at)
		take := units2(a.Amount.Amount())
		switch {
		case deduction:
			require.Equal(t, min(units2(in.Available()), scopePay), take, at)
		case in.PercentOff == nil:
			require.Equal(t, min(units2(in.Amount), scopePay), take, at)
		}
		share := make([]int64, len(o.Lines))
		if it, _ := rs.Type(in.Type); it.Allocation == rules.AllocLargestLineFirst {
			refLargestLineFirst(take, weights, share)
		} else {
			refProportionalSplit(take, weights, share)
		}
		var want []string
		for li, s := range share {
			if s != 0 {
				want = append(want, fmt.Sprintf("%s %d", o.Lines[li].ID, s))
				payable[li] -= s
			}
		}
		got := make([]string, 0, len(a.Lines))
		for _, la := range a.Lines {
			got = append(got, fmt.Sprintf("%s %d", la.LineID, units2(la.Amount.Amount())))
		}
		require.Equal(t, want, got, at)
	}
	require.Equal(t, len(q.Applications), next, "seed %d: every application is in the trace", seed)
	for li, l := range q.Lines {
		require.Equal(t, payable[li], units2(l.Cash.Amount()), "seed %d: cash of line %s", seed, l.LineID)
	}
	return next
}

// TestBigGCPBillAddsUp prices the reported shape, 19,000 lines and 9,000 credits under
// gcp, with credits of 1.00 to 6.00: every credit applies its whole balance (the bill is
// far larger than the credits), each spread over its scope, and the figures add up on
// every line and in total. Before issue 9 this took minutes; it is not timed here
// (BenchmarkAllocGCP19000Lines9000Credits is). Under the race detector it prices a
// tenth of it (see race_test.go).
func TestBigGCPBillAddsUp(t *testing.T) {
	if testing.Short() {
		t.Skip("prices 19,000 lines against 9,000 credits")
	}
	nLines, nCredits := 19_000, 9_000
	if raceEnabled {
		nLines, nCredits = 1_900, 900
	}
	bill := newBigBill(3, gcpBillProducts, nLines, nCredits, 600)
	e := builtinEngine(t, "gcp")
	q, err := e.Quote(bill.order, bill.wallet, pricedAt)
	require.NoError(t, err)
	require.Len(t, q.Applications, len(bill.wallet), "every credit applies")
	require.Empty(t, q.Rejections)

	// Units, not decimals: millions of shares are checked.
	n := len(bill.order.Lines)
	lineIndex := make(map[string]int, n)
	total := make([]int64, n) // each line's total, from the order
	var orderTotal, balances int64
	for li, l := range bill.order.Lines {
		lineIndex[l.ID] = li
		total[li] = units2(l.Amount.Round(2))
		orderTotal += total[li]
	}
	byID := make(map[string]voucher.Instrument, len(bill.wallet))
	for _, in := range bill.wallet {
		byID[in.ID] = in
		balances += units2(in.CurrentBalance())
	}
	deducted := make([]int64, n) // each line's shares, from the applications
	shares := 0
	for _, a := range q.Applications {
		in := byID[a.InstrumentID]
		var sum int64
		prev := -1
		for _, la := range a.Lines {
			li, ok := lineIndex[la.LineID]
			u := mustUnits(la.Amount)
			if !ok || li <= prev || u <= 0 || !refScope(e.RuleSet(), in, bill.order.Lines[li].Product) {
				t.Fatalf("%s lists %s %s: want lines in scope, in line order, each with a positive share", in.ID, la.LineID, la.Amount.Format())
			}
			prev = li
			sum += u
			deducted[li] += u
		}
		if mustUnits(a.Amount) != units2(in.CurrentBalance()) || sum != units2(in.CurrentBalance()) {
			t.Fatalf("%s took %s, its lines %d units, of a balance of %s", in.ID, a.Amount.Format(), sum, in.CurrentBalance())
		}
		shares += len(a.Lines)
	}
	var lineSums [3]int64
	for li, l := range q.Lines {
		f := [...]int64{mustUnits(l.Total), mustUnits(l.Discount), mustUnits(l.Deducted), mustUnits(l.Cash)}
		if l.LineID != bill.order.Lines[li].ID || f[0] != total[li] || f[1] != 0 || f[2] != deducted[li] || f[0] != f[1]+f[2]+f[3] || f[3] < 0 {
			t.Fatalf("line %s: total %d, discount %d, deducted %d, cash %d; want total %d, deducted %d (its shares), total = discount + deducted + cash",
				l.LineID, f[0], f[1], f[2], f[3], total[li], deducted[li])
		}
		lineSums[0] += f[0]
		lineSums[1] += f[2]
		lineSums[2] += f[3]
	}
	want := [3]int64{orderTotal, balances, orderTotal - balances}
	got := [3]int64{mustUnits(q.Total), mustUnits(q.Deducted), mustUnits(q.Cash)}
	require.Equal(t, want, got, "order total, deducted, cash")
	require.Equal(t, want, lineSums, "the lines' total, deducted, cash")
	require.Zero(t, mustUnits(q.Discount))
	t.Logf("%d applications list %d line shares", len(q.Applications), shares)
}

// mustUnits is m in smallest units; the amounts of these tests always fit.
func mustUnits(m voucher.Money) int64 {
	u, ok := m.Units()
	if !ok {
		panic("amount beyond int64 units: " + m.String())
	}
	return u
}

// optional is an optional amount's value, zero when absent.
func optional(d *decimal.Decimal) decimal.Decimal {
	if d == nil {
		return decimal.Zero
	}
	return *d
}
