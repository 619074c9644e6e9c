package rules_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/voucherkit/voucherkit/voucher"
)

// Automatic selection (spec, "How an order is priced" 1 and 5): instruments are taken in
// the type's selection order, ties end on the id byte by byte. Each rule set below has one
// type, one per order, so the instrument that applies is the first in selection order.

// selectionRules is a one-stage rule set whose only type, "v", has the given kind and
// selection keys and allows one per order.
func selectionRules(kind, keys string) string {
	return fmt.Sprintf(`
name: selection
currency: CNY
scale: 2
time_zone: Asia/Shanghai
never_covers: [marketplace, training]
stages:
  - {name: s, kind: %s}
types:
  v:
    stage: s
    per_order_limit: 1
    selection: [%s]
`, kind, keys)
}

// winnerOf prices o automatically and returns the one instrument that applied; every
// other instrument of the wallet must be rejected not_selected (or the reason in others).
func winnerOf(t *testing.T, q *voucher.Quote) string {
	t.Helper()
	require.Len(t, q.Applications, 1, "applied: %v, rejected: %v", appliedAmounts(q), rejectionReasons(q))
	return q.Applications[0].Key
}

// considered is the instrument keys of the trace's apply and reject events, in order.
func considered(q *voucher.Quote) []string {
	var keys []string
	for _, e := range q.Trace {
		if e.Event == "apply" || e.Event == "reject" {
			keys = append(keys, e.Instrument)
		}
	}
	return keys
}

// sortKeyCase is a wallet priced automatically under selectionRules(kind, keys); want
// is the one instrument that applies.
type sortKeyCase struct {
	name   string
	kind   string // deduction unless "discount"
	keys   string
	lines  []voucher.Line // nil: one ecs line of 100
	wallet []voucher.Instrument
	want   string
}

// TestSortKeys checks each selection key, alone and as a tie-break, and the id
// tie-break; the cases are grouped below by the keys they check.
func TestSortKeys(t *testing.T) {
	cases := slices.Concat(balanceAndTimeSortCases(), scopeSortCases(), takeSortCases(), tieBreakSortCases())
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { checkSortKeyCase(t, tc) })
	}
}

// checkSortKeyCase checks that tc.want is the one instrument that applies, that every
// other is rejected not_selected, and that reversing the wallet changes nothing.
func checkSortKeyCase(t *testing.T, tc sortKeyCase) {
	kind := tc.kind
	src := ""
	switch kind {
	case "", "deduction":
		src = selectionRules("deduction", tc.keys)
	case "discount":
		src = selectionRules("discount", tc.keys)
	case "claim":
		src = selectionRules("deduction", tc.keys) + "    validity_after_claim: 30d\n"
	}
	e := engineOf(t, src)
	lines := tc.lines
	if lines == nil {
		lines = []voucher.Line{itemOf("l1", "ecs", "100")}
	}
	q := quoteOK(t, e, orderOf(lines...), tc.wallet, pricedAt)
	assert.Equal(t, tc.want, winnerOf(t, q))
	for _, in := range tc.wallet {
		if in.ID != tc.want {
			assert.Equal(t, voucher.ReasonNotSelected, rejectionReasons(q)[in.ID], in.ID)
		}
	}
	// Reversing the wallet changes nothing.
	rev := make([]voucher.Instrument, len(tc.wallet))
	for i, in := range tc.wallet {
		rev[len(rev)-1-i] = in
	}
	q2 := quoteOK(t, e, orderOf(lines...), rev, pricedAt)
	assert.Equal(t, q, q2)
}

// sortVoucher is a deduction of type "v" with the given balance.
func sortVoucher(id, balance string) voucher.Instrument { return deductionOf("v", id, balance) }

// balanceAndTimeSortCases: balance_desc and balance_asc (balance less held),
// expires_asc (never-expiring last; a claimed coupon's expiry) and issued_asc.
func balanceAndTimeSortCases() []sortKeyCase {
	bal := sortVoucher
	later, sooner := pricedAt.AddDate(0, 2, 0), pricedAt.AddDate(0, 1, 0)
	return []sortKeyCase{
		{name: "balance_desc", keys: "balance_desc",
			wallet: []voucher.Instrument{bal("a", "10"), bal("b", "30"), bal("c", "20")}, want: "b"},
		{name: "balance_desc uses balance minus held", keys: "balance_desc",
			wallet: []voucher.Instrument{changed(bal("a", "100"), func(i *voucher.Instrument) { i.Held = amt("90") }), bal("z", "50")}, want: "z"},
		{name: "balance_asc", keys: "balance_asc",
			wallet: []voucher.Instrument{bal("a", "30"), bal("z", "10"), bal("m", "20")}, want: "z"},
		{name: "balance_asc uses balance minus held", keys: "balance_asc",
			wallet: []voucher.Instrument{bal("a", "5"), changed(bal("z", "10"), func(i *voucher.Instrument) { i.Held = amt("8") })}, want: "z"},
		{name: "expires_asc", keys: "expires_asc",
			wallet: []voucher.Instrument{
				changed(bal("a", "10"), func(i *voucher.Instrument) { i.ExpiresAt = voucher.Ptr(later) }),
				changed(bal("z", "10"), func(i *voucher.Instrument) { i.ExpiresAt = voucher.Ptr(sooner) }),
			}, want: "z"},
		{name: "expires_asc: never-expiring last", keys: "expires_asc",
			wallet: []voucher.Instrument{
				bal("a", "10"),
				changed(bal("z", "10"), func(i *voucher.Instrument) { i.ExpiresAt = voucher.Ptr(time.Date(2099, 1, 1, 0, 0, 0, 0, cstZone)) }),
			}, want: "z"},
		{name: "expires_asc: a claimed coupon's expiry is claim + validity", kind: "claim", keys: "expires_asc",
			wallet: []voucher.Instrument{
				changed(bal("a", "10"), func(i *voucher.Instrument) { i.ExpiresAt = voucher.Ptr(pricedAt.AddDate(0, 0, 20)) }),
				changed(bal("z", "10"), func(i *voucher.Instrument) { i.ClaimedAt = voucher.Ptr(pricedAt.AddDate(0, 0, -20)) }), // expires in 10 days
			}, want: "z"},
		{name: "issued_asc", keys: "issued_asc",
			wallet: []voucher.Instrument{
				changed(bal("a", "10"), func(i *voucher.Instrument) { i.IssuedAt = voucher.Ptr(pricedAt.Add(-time.Hour)) }),
				changed(bal("z", "10"), func(i *voucher.Instrument) { i.IssuedAt = voucher.Ptr(pricedAt.Add(-2 * time.Hour)) }),
			}, want: "z"},
	}
}

// scopeSortCases: scope_size_asc counts the products an instrument may cover.
func scopeSortCases() []sortKeyCase {
	bal := sortVoucher
	return []sortKeyCase{
		{name: "scope_size_asc", keys: "scope_size_asc",
			wallet: []voucher.Instrument{
				changed(bal("a", "10"), func(i *voucher.Instrument) { i.Products = []string{"ecs", "rds", "oss"} }),
				changed(bal("z", "10"), func(i *voucher.Instrument) { i.Products = []string{"ecs"} }),
			}, want: "z"},
		{name: "scope_size_asc: unscoped sorts last", keys: "scope_size_asc",
			wallet: []voucher.Instrument{
				bal("a", "10"),
				changed(bal("z", "10"), func(i *voucher.Instrument) { i.Products = []string{"ecs", "rds", "oss", "slb", "cdn", "nas"} }),
			}, want: "z"},
		{name: "scope_size_asc: unscoped with exclusions still sorts last", keys: "scope_size_asc",
			wallet: []voucher.Instrument{
				changed(bal("a", "10"), func(i *voucher.Instrument) { i.ExcludeProducts = []string{"rds", "oss"} }),
				changed(bal("z", "10"), func(i *voucher.Instrument) { i.Products = []string{"ecs", "slb", "cdn"} }),
			}, want: "z"},
		{name: "scope_size_asc: never-covered products do not count", keys: "scope_size_asc",
			wallet: []voucher.Instrument{
				changed(bal("a", "10"), func(i *voucher.Instrument) { i.Products = []string{"ecs", "rds"} }),
				changed(bal("z", "10"), func(i *voucher.Instrument) { i.Products = []string{"ecs", "marketplace", "training"} }),
			}, want: "z"},
		{name: "scope_size_asc: excluded products are out of the scope", keys: "scope_size_asc",
			wallet: []voucher.Instrument{
				changed(bal("a", "10"), func(i *voucher.Instrument) { i.Products = []string{"ecs", "rds"} }),
				changed(bal("z", "10"), func(i *voucher.Instrument) {
					i.Products = []string{"ecs", "rds", "oss"}
					i.ExcludeProducts = []string{"rds", "oss"}
				}),
			}, want: "z"},
		{name: "scope_size_asc: counts products, not list entries", keys: "scope_size_asc",
			wallet: []voucher.Instrument{
				changed(bal("a", "10"), func(i *voucher.Instrument) { i.Products = []string{"ecs", "rds"} }),
				changed(bal("z", "10"), func(i *voucher.Instrument) { i.Products = []string{"ecs", "ecs", "ecs"} }),
			}, want: "z"},
	}
}

// takeSortCases: deductible_desc and discount_desc rank by what the instrument would
// take from this order.
func takeSortCases() []sortKeyCase {
	bal := sortVoucher
	return []sortKeyCase{
		{name: "deductible_desc: what it would take from this order, not its balance", keys: "deductible_desc",
			lines: []voucher.Line{itemOf("l1", "ecs", "100"), itemOf("l2", "rds", "20")},
			wallet: []voucher.Instrument{
				changed(bal("a", "100"), func(i *voucher.Instrument) { i.Products = []string{"rds"} }), // takes 20
				bal("z", "50"), // takes 50
			}, want: "z"},
		{name: "deductible_desc: held value is not deductible", keys: "deductible_desc",
			wallet: []voucher.Instrument{changed(bal("a", "100"), func(i *voucher.Instrument) { i.Held = amt("90") }), bal("z", "40")}, want: "z"},
		{name: "deductible_desc: ties on what it takes fall to the next key", keys: "deductible_desc, balance_asc",
			lines:  []voucher.Line{itemOf("l1", "ecs", "4")},
			wallet: []voucher.Instrument{bal("a", "10"), bal("z", "5")}, want: "z"},
		{name: "discount_desc: a percentage that takes more wins", kind: "discount", keys: "discount_desc",
			lines:  []voucher.Line{itemOf("l1", "ecs", "1000")},
			wallet: []voucher.Instrument{fixedOf("v", "a", "50"), percentOf("v", "z", "10")}, want: "z"},
		{name: "discount_desc: a capped percentage takes less", kind: "discount", keys: "discount_desc",
			lines: []voucher.Line{itemOf("l1", "ecs", "1000")},
			wallet: []voucher.Instrument{changed(percentOf("v", "a", "10"), func(i *voucher.Instrument) { i.MaxDiscount = voucher.Ptr(amt("30")) }),
				fixedOf("v", "z", "50")}, want: "z"},
		{name: "discount_desc: a fixed discount takes at most what is payable in scope", kind: "discount", keys: "discount_desc",
			lines: []voucher.Line{itemOf("l1", "ecs", "100"), itemOf("l2", "rds", "20")},
			wallet: []voucher.Instrument{changed(fixedOf("v", "a", "80"), func(i *voucher.Instrument) { i.Products = []string{"rds"} }),
				fixedOf("v", "z", "30")}, want: "z"},
	}
}

// tieBreakSortCases: the id tie-break, byte by byte, and a second key.
func tieBreakSortCases() []sortKeyCase {
	bal := sortVoucher
	later, sooner := pricedAt.AddDate(0, 2, 0), pricedAt.AddDate(0, 1, 0)
	return []sortKeyCase{
		{name: "id tie-break is byte by byte: B < a < b", keys: "balance_desc",
			wallet: []voucher.Instrument{bal("a", "10"), bal("b", "10"), bal("B", "10")}, want: "B"},
		{name: "id tie-break is byte by byte: z < é", keys: "balance_desc",
			wallet: []voucher.Instrument{bal("é", "10"), bal("z", "10")}, want: "z"},
		{name: "id tie-break is byte by byte: a < a0 < b", keys: "expires_asc",
			wallet: []voucher.Instrument{bal("b", "10"), bal("a0", "10"), bal("a", "10")}, want: "a"},
		{name: "second key decides when the first ties", keys: "balance_desc, expires_asc",
			wallet: []voucher.Instrument{
				changed(bal("a", "10"), func(i *voucher.Instrument) { i.ExpiresAt = voucher.Ptr(later) }),
				changed(bal("z", "10"), func(i *voucher.Instrument) { i.ExpiresAt = voucher.Ptr(sooner) }),
				changed(bal("y", "9"), func(i *voucher.Instrument) { i.ExpiresAt = voucher.Ptr(pricedAt.Add(time.Hour)) }),
			}, want: "z"},
		{name: "first key wins over the second", keys: "expires_asc, balance_desc",
			wallet: []voucher.Instrument{
				changed(bal("a", "90"), func(i *voucher.Instrument) { i.ExpiresAt = voucher.Ptr(later) }),
				changed(bal("z", "10"), func(i *voucher.Instrument) { i.ExpiresAt = voucher.Ptr(sooner) }),
			}, want: "z"},
	}
}

// Tencent Cloud's official worked example (TC-ORD-1): a 4 CNY hourly charge; vouchers
// are taken by earliest expiry, then most deductible, then smallest balance:
// C, B, A, D, E, so C is used.
func TestTencentWorkedExample(t *testing.T) {
	e := engineOf(t, `
name: tencent-example
currency: CNY
scale: 2
time_zone: Asia/Shanghai
never_covers: [marketplace]
stages:
  - {name: voucher, kind: deduction}
types:
  voucher:
    stage: voucher
    per_order_limit: 1
    selection: [expires_asc, deductible_desc, balance_asc]
    allocation: proportional
`)
	endOf := func(day int) time.Time { return time.Date(2026, 3, day+1, 0, 0, 0, 0, cstZone) } // valid through that day
	all := map[string]voucher.Instrument{
		"A": changed(deductionOf("voucher", "A", "10"), func(i *voucher.Instrument) { i.ExpiresAt = voucher.Ptr(endOf(9)) }),
		"B": changed(deductionOf("voucher", "B", "8"), func(i *voucher.Instrument) { i.ExpiresAt = voucher.Ptr(endOf(9)) }),
		"C": changed(deductionOf("voucher", "C", "5"), func(i *voucher.Instrument) { i.ExpiresAt = voucher.Ptr(endOf(9)) }),
		"D": changed(deductionOf("voucher", "D", "2"), func(i *voucher.Instrument) { i.ExpiresAt = voucher.Ptr(endOf(9)) }),
		"E": changed(deductionOf("voucher", "E", "4"), func(i *voucher.Instrument) { i.ExpiresAt = voucher.Ptr(endOf(10)) }),
	}
	charge := voucher.Order{ID: "hour-1", Account: buyerAcct, Type: voucher.OrderUsage, Payment: voucher.PayAsYouGo,
		Lines: []voucher.Line{itemOf("cvm", "cvm", "4")}}
	wallet := func(ids ...string) []voucher.Instrument {
		var w []voucher.Instrument
		for _, id := range ids {
			w = append(w, all[id])
		}
		return w
	}
	t.Run("C is used", func(t *testing.T) {
		q := quoteOK(t, e, charge, wallet("A", "B", "C", "D", "E"), pricedAt)
		assert.Equal(t, amounts("C", "4"), appliedAmounts(q))
		assertFigures(t, "order", q.Figures, map[string]string{"deducted": "4", "cash": "0"})
		assert.Equal(t, []string{"C", "B", "A", "D", "E"}, considered(q), "selection order")
	})
	cases := []struct {
		wallet []string
		want   string
		take   string
	}{
		{[]string{"A", "B", "D", "E"}, "B", "4"},
		{[]string{"A", "D", "E"}, "A", "4"},
		{[]string{"D", "E"}, "D", "2"}, // D expires first although it deducts less
		{[]string{"E", "A"}, "A", "4"},
		{[]string{"E"}, "E", "4"},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.wallet), func(t *testing.T) {
			q := quoteOK(t, e, charge, wallet(tc.wallet...), pricedAt)
			assert.Equal(t, amounts(tc.want, tc.take), appliedAmounts(q))
		})
	}
}

// AWS-ORD-1: soonest to expire, then fewest eligible services, then oldest.
func TestAWSCreditOrder(t *testing.T) {
	aws := builtinEngine(t, "aws")
	at := time.Date(2026, 2, 28, 23, 0, 0, 0, time.UTC)
	sameDay := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	credit := func(id, amount string, products ...string) voucher.Instrument {
		return changed(deductionOf("credit", id, amount), func(i *voucher.Instrument) {
			i.Products = products
			i.ExpiresAt = voucher.Ptr(sameDay)
			i.IssuedAt = voucher.Ptr(time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC))
		})
	}
	bill := usageOrderOf(itemOf("ec2", "ec2", "100"), itemOf("s3", "s3", "50"))
	t.Run("docs example, both expiring the same day: the EC2-only credit first", func(t *testing.T) {
		q := quoteOK(t, aws, bill, []voucher.Instrument{credit("c1", "10", "ec2", "s3"), credit("c2", "5", "ec2")}, at)
		assert.Equal(t, []string{"c2", "c1"}, considered(q))
		assert.Equal(t, amounts("c1", "10", "c2", "5"), appliedAmounts(q))
		assertFigures(t, "order", q.Figures, map[string]string{"deducted": "15", "cash": "135"})
	})
	t.Run("fewer eligible services first, visibly", func(t *testing.T) {
		// c2 first takes all of EC2; c1 is left with S3. The other way round c1 would take
		// 10 of EC2 and c2 only 90.
		q := quoteOK(t, aws, bill, []voucher.Instrument{credit("c1", "10", "ec2", "s3"), credit("c2", "100", "ec2")}, at)
		assert.Equal(t, amounts("c1", "10", "c2", "100"), appliedAmounts(q))
		assert.Equal(t, amounts("s3", "10"), splitOf(t, q, "c1"))
		assertFigures(t, "order", q.Figures, map[string]string{"deducted": "110", "cash": "40"})
	})
	t.Run("never-covered services do not count as eligible", func(t *testing.T) {
		q := quoteOK(t, aws, bill, []voucher.Instrument{
			credit("c1", "10", "ec2", "s3"),
			credit("c2", "100", "ec2", "marketplace", "training", "ri_upfront"),
		}, at)
		assert.Equal(t, []string{"c2", "c1"}, considered(q))
	})
	t.Run("soonest to expire beats fewer services", func(t *testing.T) {
		c1 := credit("c1", "10", "ec2", "s3")
		c1.ExpiresAt = voucher.Ptr(sameDay.Add(-time.Nanosecond))
		q := quoteOK(t, aws, bill, []voucher.Instrument{c1, credit("c2", "100", "ec2")}, at)
		assert.Equal(t, []string{"c1", "c2"}, considered(q))
		assert.Equal(t, amounts("c1", "10", "c2", "90"), appliedAmounts(q))
	})
	t.Run("then the oldest", func(t *testing.T) {
		older := credit("z", "100", "ec2")
		older.IssuedAt = voucher.Ptr(older.IssuedAt.Add(-time.Second))
		q := quoteOK(t, aws, bill, []voucher.Instrument{credit("a", "100", "ec2"), older}, at)
		assert.Equal(t, []string{"z", "a"}, considered(q))
		assert.Equal(t, amounts("z", "100"), appliedAmounts(q))
		assert.Equal(t, voucher.ReasonNothingLeft, rejectionReasons(q)["a"])
	})
	t.Run("then the id", func(t *testing.T) {
		q := quoteOK(t, aws, bill, []voucher.Instrument{credit("b", "100", "ec2"), credit("B", "100", "ec2"), credit("a", "100", "ec2")}, at)
		assert.Equal(t, []string{"B", "a", "b"}, considered(q))
	})
	t.Run("an unscoped credit comes after every scoped one", func(t *testing.T) {
		q := quoteOK(t, aws, bill, []voucher.Instrument{credit("a", "100"), credit("z", "100", "ec2", "s3", "rds", "lambda", "ebs")}, at)
		assert.Equal(t, []string{"z", "a"}, considered(q))
	})
}

// The built-in aliyun selection orders (spec, "What the scenarios rely on").
func TestAliyunSelection(t *testing.T) {
	e := builtinEngine(t, "aliyun")
	issued := pricedAt.AddDate(0, -1, 0)
	v := func(id, b string, exp time.Time, iss time.Time) voucher.Instrument {
		return changed(deductionOf("voucher", id, b), func(i *voucher.Instrument) { i.ExpiresAt, i.IssuedAt = voucher.Ptr(exp), voucher.Ptr(iss) })
	}
	o := orderOf(itemOf("l1", "ecs", "1000"))
	o.FirstPurchase = true
	cases := []struct {
		name   string
		wallet []voucher.Instrument
		want   string
	}{
		{"voucher: largest balance first", []voucher.Instrument{
			v("a", "100", pricedAt.AddDate(0, 0, 1), issued), v("z", "300", pricedAt.AddDate(1, 0, 0), issued)}, "z"},
		{"voucher: then earliest expiry", []voucher.Instrument{
			v("a", "300", pricedAt.AddDate(0, 2, 0), issued), v("z", "300", pricedAt.AddDate(0, 1, 0), issued)}, "z"},
		{"voucher: then earliest issued", []voucher.Instrument{
			v("a", "300", pricedAt.AddDate(0, 1, 0), issued), v("z", "300", pricedAt.AddDate(0, 1, 0), issued.Add(-time.Minute))}, "z"},
		{"voucher: then id", []voucher.Instrument{
			v("b", "300", pricedAt.AddDate(0, 1, 0), issued), v("B", "300", pricedAt.AddDate(0, 1, 0), issued)}, "B"},
		{"coupon: earliest expiry before a larger discount", []voucher.Instrument{
			changed(fixedOf("coupon", "a", "100"), func(i *voucher.Instrument) { i.ExpiresAt = voucher.Ptr(pricedAt.AddDate(0, 1, 0)) }),
			changed(fixedOf("coupon", "z", "10"), func(i *voucher.Instrument) { i.ExpiresAt = voucher.Ptr(pricedAt.AddDate(0, 0, 7)) }),
		}, "z"},
		{"coupon: then the larger discount", []voucher.Instrument{
			changed(fixedOf("coupon", "a", "100"), func(i *voucher.Instrument) { i.ExpiresAt = voucher.Ptr(pricedAt.AddDate(0, 1, 0)) }),
			changed(percentOf("coupon", "z", "15"), func(i *voucher.Instrument) { i.ExpiresAt = voucher.Ptr(pricedAt.AddDate(0, 1, 0)) }),
		}, "z"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := quoteOK(t, e, o, tc.wallet, pricedAt)
			assert.Equal(t, tc.want, winnerOf(t, q))
		})
	}
}
