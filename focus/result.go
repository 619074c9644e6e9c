package focus

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/shopspring/decimal"
	"github.com/voucherkit/voucherkit/internal/excerpt"
	"github.com/voucherkit/voucherkit/rules"
	"github.com/voucherkit/voucherkit/voucher"
)

// result turns the running sums into bills, organizations and credits.
func (im *importer) result() (*Result, error) {
	res := &Result{Rows: im.rows}
	if len(res.Rows.Skipped) == 0 {
		res.Rows.Skipped = nil
	}
	slices.SortStableFunc(im.billOrder, func(a, b *billAcc) int {
		if c := a.start.Compare(b.start); c != 0 {
			return c
		}
		return cmp.Compare(a.billing, b.billing)
	})
	orgs := map[string]*voucher.Organization{}
	var orgOrder []string
	for _, b := range im.billOrder {
		if len(b.order) == 0 {
			continue // only credits in this period
		}
		bill := im.makeBill(b)
		org, err := im.organization(orgs, &orgOrder, b)
		if err != nil {
			return nil, err
		}
		bill.Organization = org.ID
		res.Bills = append(res.Bills, bill)
	}
	if err := checkOrgs(orgs, orgOrder); err != nil {
		return nil, err
	}
	for _, id := range orgOrder {
		res.Organizations = append(res.Organizations, orgs[id].Clone())
	}
	for _, c := range im.creditOrd {
		cr := *c
		cr.Amount = im.round(c.Exact, im.scaleOf(c.Currency))
		res.Credits = append(res.Credits, cr)
	}
	return res, nil
}

// makeBill rounds each charge once and builds the bill.
func (im *importer) makeBill(b *billAcc) *Bill {
	bill := &Bill{BillingAccountID: b.billing, BillingAccountName: b.billingName, Currency: b.currency}
	bill.ID = b.billing + "@" + b.start.Format("2006-01-02")
	bill.Start, bill.End = b.start, b.end
	idx := map[string]int{}
	for _, cs := range b.order {
		c := *cs
		c.Amount = im.round(c.Exact, b.currency.Scale())
		c.IncurredAt = clampTime(c.IncurredAt, b.start, b.end)
		i, ok := idx[c.Account]
		if !ok {
			i = len(bill.Accounts)
			idx[c.Account] = i
			bill.Accounts = append(bill.Accounts, AccountTotal{Account: c.Account})
		}
		a := &bill.Accounts[i]
		a.Exact, a.Rounded = a.Exact.Add(c.Exact), a.Rounded.Add(c.Amount)
		if c.Amount.IsNegative() {
			bill.Adjustments = append(bill.Adjustments, c)
			continue
		}
		bill.Sources = append(bill.Sources, c)
		bill.Charges = append(bill.Charges, voucher.Charge{
			Line:    voucher.Line{ID: c.ID, Product: c.Product, SKU: c.SKU, Amount: c.Amount, Currency: b.currency.Code()},
			Account: c.Account, IncurredAt: c.IncurredAt})
	}
	return bill
}

// checkOrgs validates each organization and that no account is in two.
func checkOrgs(orgs map[string]*voucher.Organization, order []string) error {
	in := map[string]string{}
	for _, id := range order {
		o := orgs[id]
		if err := o.Validate(); err != nil {
			return fmt.Errorf("%w: organization of billing account %s: %w", ErrInvalid, excerpt.Quote(id), err)
		}
		for _, a := range o.Accounts() {
			if other, ok := in[a]; ok {
				return fmt.Errorf("%w: account %s is in the organizations of billing accounts %s and %s: an account is in one organization (name each billing account's payer)",
					ErrInvalid, excerpt.Quote(a), excerpt.Quote(other), excerpt.Quote(id))
			}
			in[a] = id
		}
	}
	return nil
}

// clampTime returns t within [start, end).
func clampTime(t, start, end time.Time) time.Time {
	if t.Before(start) {
		return start
	}
	if !t.Before(end) {
		return end.Add(-time.Nanosecond)
	}
	return t
}

// organization returns the organization of bill b's billing account: a given one
// (Options.Organizations), which must have every account of b, or the default one
// (payer: Options.Payers, else the billing account; every other account a member
// throughout), extended by b's accounts.
func (im *importer) organization(orgs map[string]*voucher.Organization, order *[]string, b *billAcc) (*voucher.Organization, error) {
	var given *voucher.Organization
	for i := range im.opts.Organizations {
		if im.opts.Organizations[i].ID == b.billing {
			given = &im.opts.Organizations[i]
		}
	}
	o, ok := orgs[b.billing]
	if !ok {
		if given != nil {
			c := given.Clone()
			o = &c
		} else {
			payer := b.billing
			if p := im.opts.Payers[b.billing]; p != "" {
				payer = p
			} else if im.opts.Payer != "" {
				payer = im.opts.Payer
			}
			o = &voucher.Organization{ID: b.billing, Payer: payer}
		}
		orgs[b.billing] = o
		*order = append(*order, b.billing)
	}
	return o, im.addMembers(o, b, given == nil)
}

// addMembers makes every account with a charge on b a member of o (a default
// organization), or checks that it is one (a given organization).
func (im *importer) addMembers(o *voucher.Organization, b *billAcc, extend bool) error {
	for _, c := range b.order {
		if o.Has(c.Account) {
			continue
		}
		if !extend {
			return fmt.Errorf("%w: account %s has charges on billing account %s's bill for %s but is not in organization %s",
				ErrInvalid, excerpt.Quote(c.Account), excerpt.Quote(b.billing), b.start.Format("2006-01-02"), excerpt.Quote(o.ID))
		}
		o.Members = append(o.Members, voucher.Member{Account: c.Account})
	}
	return nil
}

func (im *importer) scaleOf(code string) int32 {
	if rs := im.opts.RuleSet; rs != nil {
		return rs.Currency.Scale()
	}
	cur, err := voucher.LookupCurrency(code)
	if err != nil {
		return 2 // not reached: a bill's currency was looked up when it was created
	}
	return cur.Scale()
}

// round rounds d to scale by the rule set's rounding (half away from zero without one).
func (im *importer) round(d decimal.Decimal, scale int32) decimal.Decimal {
	mode := rules.RoundHalfAwayFromZero
	if im.opts.RuleSet != nil {
		mode = im.opts.RuleSet.Rounding
	}
	return Round(d, scale, mode)
}

// Round rounds d to scale decimal places by mode (a rule set's rounding; an unknown
// or empty one is half away from zero, the rule sets' default).
func Round(d decimal.Decimal, scale int32, mode rules.Rounding) decimal.Decimal {
	var r decimal.Decimal
	switch mode {
	case rules.RoundHalfEven:
		r = d.RoundBank(scale)
	case rules.RoundDown:
		r = d.RoundDown(scale)
	case rules.RoundUp:
		r = d.RoundUp(scale)
	default:
		r = d.Round(scale)
	}
	if r.IsZero() {
		return decimal.Zero // no "-0.00" from a negative amount that rounds to zero
	}
	return r
}
