package settletest_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/voucherkit/voucherkit/voucher"
)

// This file checks Engine.Settle's spend_desc on organizations' bills against a
// reference written from the spec alone ("How an order is priced", rule 6, and "Bills,
// organizations and credit sharing", rules 4 and 5), one credit per settle, so that
// only spend_desc's order decides how the credit is split. The reference makes one
// choice at a time and recomputes every sum for each choice: plain maps and loops,
// nothing shared with the engine or with spendModel.
//
// Every case keeps its members throughout the period and its credit effective for the
// whole period, so that reach depends only on scope, the owner and sharing.

// refCases is how many generated settles TestSettleSpendDescMatchesSpecReference sees.
const refCases = 4000

// Amounts are drawn from short lists, so that accounts, products, SKUs and lines often
// owe the same and every tie-break is exercised (refTies counts that they are).
var (
	refChargeCents = []int64{0, 50, 100, 100, 200, 200, 300, 500}
	refCreditCents = []int64{50, 100, 150, 200, 300, 500, 700, 1000, 2000, 100000}
	refProducts    = []string{"ec2", "ec2", "s3", "s3", "rds", "marketplace"}
	refSKUs        = []string{"", "", "a", "b"}
	refScopes      = []string{"ec2", "s3", "rds"}
)

// refCase is one settle: an organization, its March bill and one credit.
type refCase struct {
	org    voucher.Organization
	bill   voucher.Bill
	credit voucher.Instrument
}

// refGenCase generates a case: an organization of 1 to 5 accounts (all members
// throughout), 1 to 14 charges over products and SKUs (some without), and one credit
// of a random account, sometimes scoped, sometimes not shared, effective all period.
func refGenCase(r *rand.Rand) refCase {
	var c refCase
	c.org = voucher.Organization{ID: "org", Payer: "payer"}
	accts := []string{"payer"}
	for i := range r.IntN(5) {
		m := fmt.Sprintf("m%d", i+1)
		accts = append(accts, m)
		c.org.Members = append(c.org.Members, voucher.Member{Account: m})
	}
	c.org.Sharing = refGenSharing(r, c.org)
	c.bill = voucher.Bill{ID: "bill", Start: start, End: end, Organization: c.org.ID}
	for i := range 1 + r.IntN(14) {
		c.bill.Charges = append(c.bill.Charges, voucher.Charge{
			Line: voucher.Line{ID: fmt.Sprintf("l%d", i), Product: refProducts[r.IntN(len(refProducts))],
				SKU: refSKUs[r.IntN(len(refSKUs))], Amount: decimal.New(refChargeCents[r.IntN(len(refChargeCents))], -2)},
			Account:    accts[r.IntN(len(accts))],
			IncurredAt: start.Add(time.Duration(r.IntN(31*24)) * time.Hour),
		})
	}
	c.credit = voucher.Instrument{ID: "credit", Type: "credit", Account: accts[r.IntN(len(accts))],
		Amount: decimal.New(refCreditCents[r.IntN(len(refCreditCents))], -2)}
	if r.IntN(3) == 0 {
		for _, p := range refScopes {
			if r.IntN(2) == 0 {
				c.credit.Products = append(c.credit.Products, p)
			}
		}
		if c.credit.Products == nil {
			c.credit.Products = []string{refScopes[r.IntN(len(refScopes))]}
		}
	}
	if r.IntN(6) == 0 {
		off := false
		c.credit.Shared = &off
	}
	if r.IntN(4) == 0 {
		at := start // effective from the period's first instant: still the whole period
		c.credit.EffectiveAt = &at
	}
	return c
}

// refGenSharing returns the preference, in force all period: mostly the default
// (every member shares), sometimes every member explicitly, the payer and a non-empty
// list of members, or no one.
func refGenSharing(r *rand.Rand, org voucher.Organization) []voucher.SharingChange {
	switch r.IntN(8) {
	case 5:
		return []voucher.SharingChange{{Sharing: voucher.Sharing{All: true}}}
	case 6:
		var list []string
		for _, m := range org.Members {
			if r.IntN(2) == 0 {
				list = append(list, m.Account)
			}
		}
		if len(list) > 0 {
			return []voucher.SharingChange{{Sharing: voucher.Sharing{Accounts: list}}}
		}
	case 7:
		return []voucher.SharingChange{{Sharing: voucher.Sharing{}}}
	}
	return nil
}

// refShares says whether account shares under c's preference (the spec's
// credit_sharing: true, the default; false; or a list: the payer and the listed).
func refShares(c *refCase, account string) bool {
	if len(c.org.Sharing) == 0 || c.org.Sharing[0].Sharing.All {
		return true
	}
	list := c.org.Sharing[0].Sharing.Accounts
	if len(list) == 0 {
		return false
	}
	return account == c.org.Payer || slices.Contains(list, account)
}

// refReaches says whether c's credit may pay charge ch: in its scope (aws credits
// never cover marketplace), and its owner's, or, when the credit may be shared (its
// type is shared, it is not shared: false, its owner shares), of an account that
// shares.
func refReaches(c *refCase, ch *voucher.Charge) bool {
	in := &c.credit
	if ch.Product == "marketplace" || in.Products != nil && !slices.Contains(in.Products, ch.Product) {
		return false
	}
	if ch.Account == in.Account {
		return true
	}
	shared := in.Shared == nil || *in.Shared
	return shared && refShares(c, in.Account) && refShares(c, ch.Account)
}

// refTies counts, over all cases, the choices the reference made between groups that
// owed the same, per level: the test is worth little if one of them never happens.
type refTies struct {
	account, product, sku, line int
}

// refBest returns the key of sums with the most, ties to the smallest first[key];
// tied reports whether another key had as much.
func refBest(sums map[string]int64, first func(key string) int) (best string, tied bool) {
	var bestSum int64 = -1
	for k, s := range sums {
		switch {
		case s > bestSum:
			best, bestSum, tied = k, s, false
		case s == bestSum:
			tied = true
			if first(k) < first(best) {
				best = k
			}
		}
	}
	return best, tied
}

// refSKU is charge i's SKU within its product: its sku, or, without one, a SKU of its
// own.
func refSKU(charges []voucher.Charge, i int) string {
	if charges[i].SKU == "" {
		return fmt.Sprintf("line %d", i)
	}
	return "sku " + charges[i].SKU
}

// refFirst is the first charge of the bill (whatever is payable on it) for which
// same holds.
func refFirst(charges []voucher.Charge, same func(i int) bool) int {
	for i := range charges {
		if same(i) {
			return i
		}
	}
	return len(charges)
}

// refSpendDesc is spend_desc from the spec: it spreads amount over the charges the
// credit reaches (reach[i]; cents[i] payable on charge i) and returns what each
// charge took. Each round makes one choice: the owner's charges while any is still
// payable, else the account with the most still payable among the reached charges
// (tie: its first charge earlier in items); in it the product with the most still
// payable (tie: its first line earlier), in it the SKU (absent: one of its own) with
// the most (tie: its first line earlier), in it the line with the most (tie: the
// earlier); the line takes what it owes, up to what is left; then all again.
func refSpendDesc(charges []voucher.Charge, owner string, reach []bool, cents []int64, amount int64, ties *refTies) []int64 {
	paid := make([]int64, len(charges))
	owes := func(i int) int64 {
		if !reach[i] {
			return 0
		}
		return cents[i] - paid[i]
	}
	sumBy := func(in func(i int) bool, key func(i int) string) map[string]int64 {
		sums := map[string]int64{}
		for i := range charges {
			if owes(i) > 0 && in(i) {
				sums[key(i)] += owes(i)
			}
		}
		return sums
	}
	count := func(n *int, tied bool) {
		if tied {
			*n++
		}
	}
	for left := amount; left > 0; {
		accts := sumBy(func(int) bool { return true }, func(i int) string { return charges[i].Account })
		if len(accts) == 0 {
			break
		}
		acct := owner
		if accts[owner] == 0 {
			var tied bool
			acct, tied = refBest(accts, func(a string) int {
				return refFirst(charges, func(i int) bool { return charges[i].Account == a })
			})
			count(&ties.account, tied)
		}
		ofAcct := func(i int) bool { return charges[i].Account == acct }
		prod, tied := refBest(sumBy(ofAcct, func(i int) string { return charges[i].Product }), func(p string) int {
			return refFirst(charges, func(i int) bool { return ofAcct(i) && charges[i].Product == p })
		})
		count(&ties.product, tied)
		ofProd := func(i int) bool { return ofAcct(i) && charges[i].Product == prod }
		sku, tied := refBest(sumBy(ofProd, func(i int) string { return refSKU(charges, i) }), func(s string) int {
			return refFirst(charges, func(i int) bool { return ofProd(i) && refSKU(charges, i) == s })
		})
		count(&ties.sku, tied)
		ofSKU := func(i int) bool { return ofProd(i) && refSKU(charges, i) == sku }
		li, tied := -1, false // in items order, so that a tie stays with the earlier line
		for i := range charges {
			switch {
			case !ofSKU(i) || owes(i) == 0:
			case li < 0 || owes(i) > owes(li):
				li, tied = i, false
			case owes(i) == owes(li):
				tied = true
			}
		}
		count(&ties.line, tied)
		t := min(left, owes(li))
		paid[li] += t
		left -= t
	}
	return paid
}

// TestSettleSpendDescMatchesSpecReference: on generated organizations' bills with one
// credit each, the credit takes from each charge exactly what refSpendDesc gives it,
// and every tie-break (account, product, SKU, line) decides some choice.
func TestSettleSpendDescMatchesSpecReference(t *testing.T) {
	e := awsEngine(t)
	r := rand.New(rand.NewPCG(20260301, 7))
	var ties refTies
	for n := range refCases {
		c := refGenCase(r)
		reach := make([]bool, len(c.bill.Charges))
		cents := make([]int64, len(c.bill.Charges))
		for i := range c.bill.Charges {
			reach[i] = refReaches(&c, &c.bill.Charges[i])
			cents[i] = c.bill.Charges[i].Amount.Shift(2).IntPart()
		}
		want := refSpendDesc(c.bill.Charges, c.credit.Account, reach, cents, c.credit.Amount.Shift(2).IntPart(), &ties)
		q, err := e.Settle(c.bill, &c.org, []voucher.Instrument{c.credit})
		require.NoError(t, err, "case %d", n)
		got := make([]int64, len(c.bill.Charges))
		require.LessOrEqual(t, len(q.Applications), 1, "case %d: one credit", n)
		for _, a := range q.Applications {
			require.Equal(t, c.credit.ID, a.InstrumentID, "case %d", n)
			for _, l := range a.Lines {
				i := slices.IndexFunc(c.bill.Charges, func(ch voucher.Charge) bool { return ch.ID == l.LineID })
				require.GreaterOrEqual(t, i, 0, "case %d: line %s", n, l.LineID)
				got[i] += units(l.Amount)
			}
		}
		require.Equal(t, want, got, "case %d: per charge, what the credit took (want: the spec's spend_desc)\n%s", n, refDescribe(&c, reach))
	}
	t.Logf("ties decided: account %d, product %d, SKU %d, line %d", ties.account, ties.product, ties.sku, ties.line)
	for level, n := range map[string]int{"account": ties.account, "product": ties.product, "sku": ties.sku, "line": ties.line} {
		require.GreaterOrEqual(t, n, 100, "too few %s ties decided for the test to mean much", level)
	}
}

// refDescribe renders a case for a failure message.
func refDescribe(c *refCase, reach []bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "accounts %v, sharing %+v\n", c.org.Accounts(), c.org.Sharing)
	shared := "default"
	if c.credit.Shared != nil {
		shared = fmt.Sprint(*c.credit.Shared)
	}
	fmt.Fprintf(&b, "credit of %s: %s, products %v, shared %s\n", c.credit.Account, c.credit.Amount, c.credit.Products, shared)
	for i, ch := range c.bill.Charges {
		fmt.Fprintf(&b, "  %-3s %-6s %-11s sku %-1q %6s reached %v\n", ch.ID, ch.Account, ch.Product, ch.SKU, ch.Amount.StringFixed(2), reach[i])
	}
	return b.String()
}
