package settletest_test

import (
	"slices"
	"time"

	"github.com/voucherkit/voucherkit/voucher"
)

// never is what aws credits never cover (the spec's list for the aws rule set).
var never = []string{"marketplace", "support_enterprise", "route53_domains", "mechanical_turk", "managed_services",
	"professional_services", "training", "certification", "ri_upfront", "savings_plans_upfront"}

// inScope says whether an aws credit's scope has product.
func inScope(in *voucher.Instrument, product string) bool {
	if slices.Contains(never, product) || slices.Contains(in.ExcludeProducts, product) {
		return false
	}
	return in.Products == nil || slices.Contains(in.Products, product)
}

// reaches says, from the spec alone, whether aws credit in may pay charge c of bill b
// under organization org (nil: one account's bill): rule 2 (which bill the charge is
// on), rule 3 (which bill the credit serves), rule 4 (effective time, owner, sharing
// at the period's last instant, shared flags).
func reaches(b *voucher.Bill, org *voucher.Organization, in *voucher.Instrument, c *voucher.Charge) bool {
	if eff := effective(in); eff != nil && c.IncurredAt.Before(*eff) {
		return false
	}
	if org == nil {
		return c.Account == in.Account
	}
	chargeOnOrg := org.MemberAt(c.Account, c.IncurredAt)
	if !org.MemberAt(in.Account, b.Start) {
		return !chargeOnOrg && c.Account == in.Account
	}
	if !chargeOnOrg {
		return false
	}
	if c.Account == in.Account {
		return true
	}
	pref := org.SharingAt(b.At())
	shareable := in.Shared == nil || *in.Shared
	return shareable && pref.Shares(org, in.Account) && pref.Shares(org, c.Account)
}

// effective is when an aws credit became effective (on activation, or EffectiveAt).
func effective(in *voucher.Instrument) *time.Time {
	if in.EffectiveAt != nil {
		return in.EffectiveAt
	}
	return in.ActivatedAt
}

// spendModel spreads take units over the charges (payable[i] still payable on charge
// i; ok[i] whether the credit reaches it and has it in scope) the way the spec's
// spend_desc says, one line at a time, choosing again from the top after each line:
// the owner's charges first, then the account with the most still payable (ties: its
// first charge earlier in the bill); within the account the product, then the SKU,
// then the line with the most still payable (ties: the group's first line in the bill,
// paid or not). It is quadratic, and independent of the engine's heaps.
func spendModel(charges []voucher.Charge, owner string, payable []int64, ok []bool, take int64) []int64 {
	share := make([]int64, len(charges))
	firstOf := func(same func(j int) bool) int {
		for j := range charges {
			if same(j) {
				return j
			}
		}
		return len(charges)
	}
	for take > 0 {
		live := func(i int) bool { return ok[i] && payable[i]-share[i] > 0 }
		sum := func(same func(i int) bool) int64 {
			var s int64
			for i := range charges {
				if live(i) && same(i) {
					s += payable[i] - share[i]
				}
			}
			return s
		}
		// pick returns the best of the live charges' groups by key: most left, then
		// first line earliest.
		pick := func(cands []int, group func(i, j int) bool) int {
			best, bestSum, bestFirst := -1, int64(-1), 0
			for _, i := range cands {
				s := sum(func(j int) bool { return group(i, j) })
				f := firstOf(func(j int) bool { return group(i, j) })
				if s > bestSum || s == bestSum && f < bestFirst {
					best, bestSum, bestFirst = i, s, f
				}
			}
			return best
		}
		var cands []int
		for i := range charges {
			if live(i) {
				cands = append(cands, i)
			}
		}
		if len(cands) == 0 {
			break
		}
		if sum(func(i int) bool { return charges[i].Account == owner }) > 0 {
			cands = slices.DeleteFunc(cands, func(i int) bool { return charges[i].Account != owner })
		}
		a := charges[pick(cands, func(i, j int) bool { return charges[j].Account == charges[i].Account })].Account
		cands = slices.DeleteFunc(cands, func(i int) bool { return charges[i].Account != a })
		sameProd := func(i, j int) bool {
			return charges[j].Account == a && charges[j].Product == charges[i].Product
		}
		k := charges[pick(cands, sameProd)].Product
		cands = slices.DeleteFunc(cands, func(i int) bool { return charges[i].Product != k })
		sameSKU := func(i, j int) bool {
			if charges[i].SKU == "" {
				return i == j
			}
			return sameProd(i, j) && charges[j].SKU == charges[i].SKU
		}
		s := pick(cands, sameSKU)
		cands = slices.DeleteFunc(cands, func(i int) bool { return !sameSKU(s, i) })
		li := pick(cands, func(i, j int) bool { return i == j })
		t := min(take, payable[li]-share[li])
		share[li] += t
		take -= t
	}
	return share
}
