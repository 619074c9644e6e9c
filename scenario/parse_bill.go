package scenario

import (
	"slices"
	"strings"

	"github.com/voucherkit/voucherkit/internal/excerpt"
	"github.com/voucherkit/voucherkit/internal/yamlx"
	"github.com/voucherkit/voucherkit/rules"
	"github.com/voucherkit/voucherkit/voucher"
)

// organizations gives the top-level organizations their meaning: each valid on its
// own, ids unique, and an account in at most one of them.
func (p *parser) organizations(files []organizationFile, path string) []voucher.Organization {
	var out []voucher.Organization
	ids := map[string]string{}      // organization id: its path
	accounts := map[string]string{} // account: the organization that has it
	for i, f := range files {
		op := yamlx.Index(path, i)
		org, ok := p.organization(f, op)
		if !ok {
			continue
		}
		if other, dup := ids[org.ID]; dup {
			p.ctx.Errorf(yamlx.Join(op, "id"), "%s is also the id of %s", excerpt.Quote(org.ID), other)
			continue
		}
		ids[org.ID] = op
		clash := false
		for k, a := range org.Accounts() {
			if other, dup := accounts[a]; dup {
				key := "payer"
				if k > 0 {
					key = yamlx.Index("members", k-1)
				}
				p.ctx.Errorf(yamlx.Join(op, key), "account %s is already in organization %s: an account belongs to at most one", excerpt.Quote(a), excerpt.Quote(other))
				clash = true
			}
		}
		if clash {
			continue
		}
		for _, a := range org.Accounts() {
			accounts[a] = org.ID
		}
		out = append(out, org)
	}
	return out
}

// organization turns one decoded organization into the domain's, which then checks
// itself: its problems are reported where their fields were given.
func (p *parser) organization(f organizationFile, path string) (voucher.Organization, bool) {
	org := voucher.Organization{ID: f.ID, Payer: f.Payer}
	for _, m := range f.Members {
		org.Members = append(org.Members, voucher.Member{Account: m.Account, JoinedAt: m.JoinedAt, LeftAt: m.LeftAt})
	}
	if f.CreditSharing != nil {
		org.Sharing = []voucher.SharingChange{{Sharing: voucher.Sharing(*f.CreditSharing)}}
	}
	if p.d.FailedUnder(path) {
		return org, false
	}
	p.positioned(sharingAsGiven(org.Validate()), path)
	return org, !p.d.FailedUnder(path)
}

// sharingAsGiven names the problems of the preference the file gave as its key does:
// the organization's first sharing change is credit_sharing.
func sharingAsGiven(err error) error {
	ve, ok := err.(*voucher.ValidationError)
	if !ok {
		return err
	}
	for i, pr := range ve.Problems {
		if rest, ok := strings.CutPrefix(pr.Field, "sharing[0].accounts"); ok {
			ve.Problems[i].Field = "credit_sharing" + rest
		}
	}
	return ve
}

// org returns the scenario's organization id, or nil.
func (p *parser) org(id string) *voucher.Organization {
	for i := range p.orgs {
		if p.orgs[i].ID == id {
			return &p.orgs[i]
		}
	}
	return nil
}

// bill reads a settle step. What the spec makes a step error (a charge outside the
// period or of another account) is read as given, for the step to fail.
func (p *parser) bill(f settleFile, path string) voucher.Bill {
	b := voucher.Bill{ID: f.ID}
	if f.Period != "" {
		var err error
		if b.Start, b.End, err = voucher.MonthPeriod(f.Period, p.ctx.Loc); err != nil {
			p.ctx.Errorf(yamlx.Join(path, "period"), "%s is not a month such as 2026-02", excerpt.Quote(f.Period))
		}
	}
	defaultAccount := p.billOwner(&b, f, path)
	itemsPath := yamlx.Join(path, "items")
	lines := make([]voucher.Line, 0, len(f.Items))
	for i, c := range f.Items {
		ch := voucher.Charge{Account: defaultAccount, IncurredAt: b.Start,
			Line: voucher.Line{ID: c.ID, Product: c.Product, SKU: c.SKU, Amount: c.Amount, Currency: c.Currency}}
		if c.Account != nil {
			ch.Account = *c.Account
		}
		if c.IncurredAt != nil {
			ch.IncurredAt = *c.IncurredAt
		}
		p.inRange(yamlx.Join(yamlx.Index(itemsPath, i), "amount"), c.Amount)
		b.Charges = append(b.Charges, ch)
		lines = append(lines, ch.Line)
	}
	if f.Items != nil {
		p.totalInRange(itemsPath, lines)
	}
	return b
}

// billOwner reads whose bill it is (an organization, or an account in none) and
// returns the default account of its charges: the payer, or the account.
func (p *parser) billOwner(b *voucher.Bill, f settleFile, path string) string {
	orgPath, acctPath := yamlx.Join(path, "organization"), yamlx.Join(path, "account")
	if p.ctx.Has(orgPath) && p.ctx.Has(acctPath) {
		p.ctx.KeyErrorf(acctPath, "a settle names an organization or an account, not both")
		return ""
	}
	if f.Organization != nil {
		b.Organization = *f.Organization
		org := p.org(b.Organization)
		if org == nil {
			p.ctx.Errorf(orgPath, "unknown organization %s; the file defines %s", excerpt.Quote(b.Organization), p.orgNames())
			return ""
		}
		return org.Payer
	}
	b.Account = p.account
	at := path
	if f.Account != nil {
		b.Account, at = *f.Account, acctPath
	}
	// A member at some time in the period is on the organization's bill; before it
	// joins or after it leaves, it settles alone.
	for _, org := range p.orgs {
		if org.Has(b.Account) && (b.End.IsZero() || slices.Contains(org.MembersDuring(b.Start, b.End), b.Account)) {
			p.ctx.Errorf(at, "account %s is a member of organization %s during the period: settle the organization's bill", excerpt.Quote(b.Account), excerpt.Quote(org.ID))
		}
	}
	return b.Account
}

func (p *parser) orgNames() string {
	if len(p.orgs) == 0 {
		return "none"
	}
	names := make([]string, len(p.orgs))
	for i := range p.orgs {
		names[i] = p.orgs[i].ID
	}
	return strings.Join(names, ", ")
}

// sharingStep reads a sharing step: {organization, credit_sharing}.
func (p *parser) sharingStep(f sharingFile, path string) (string, voucher.Sharing) {
	s := voucher.Sharing(f.CreditSharing)
	if f.Organization == "" {
		return "", s
	}
	org := p.org(f.Organization)
	if org == nil {
		p.ctx.Errorf(yamlx.Join(path, "organization"), "unknown organization %s; the file defines %s", excerpt.Quote(f.Organization), p.orgNames())
		return f.Organization, s
	}
	for _, a := range s.Accounts {
		if !org.Has(a) {
			p.ctx.Errorf(yamlx.Join(path, "credit_sharing"), "%s is not a member of organization %s", excerpt.Quote(a), excerpt.Quote(f.Organization))
		}
	}
	return f.Organization, s
}

// accountsExpect reads a settle's per-account figures. An entry for an account without
// a charge in the settle is the run's mismatch, not the file's error (the spec: "naming
// another is a mismatch").
func (p *parser) accountsExpect(entries yamlx.Entries[accountExpectFile]) map[string]AccountExpect {
	out := make(map[string]AccountExpect, len(entries))
	for _, g := range entries {
		out[g.Key] = AccountExpect(g.Value)
	}
	return out
}

// ParseOrganizations reads an organizations file: a YAML list of organizations in the
// scenario syntax (id, payer, members, credit_sharing), dates read in rs's time zone.
func ParseOrganizations(file string, data []byte, rs *rules.RuleSet) ([]voucher.Organization, error) {
	d, root, err := yamlx.Parse(file, data)
	if err != nil {
		d.Tag(ErrInvalid)
		return nil, d.Err()
	}
	p := &parser{d: d, ctx: yamlx.NewCtx(d), rs: rs}
	p.ctx.Loc = rs.Location
	var files []organizationFile
	yamlx.Decode(p.ctx, root, "organizations", &files)
	orgs := p.organizations(files, "organizations")
	if d.Failed() {
		d.Tag(ErrInvalid)
		return nil, d.Err()
	}
	return orgs, nil
}

// ParseBill reads a bill file: one settle in the scenario syntax (id, period,
// organization or account, items), for account when it names neither; orgs are the
// organizations it may name. Dates are read in rs's time zone.
func ParseBill(file string, data []byte, rs *rules.RuleSet, orgs []voucher.Organization, account string) (voucher.Bill, error) {
	d, root, err := yamlx.Parse(file, data)
	if err != nil {
		d.Tag(ErrInvalid)
		return voucher.Bill{}, d.Err()
	}
	p := &parser{d: d, ctx: yamlx.NewCtx(d), rs: rs, account: account, orgs: orgs}
	p.ctx.Loc = rs.Location
	var f settleFile
	yamlx.Decode(p.ctx, root, "settle", &f)
	b := p.bill(f, "settle")
	if d.Failed() {
		d.Tag(ErrInvalid)
		return voucher.Bill{}, d.Err()
	}
	return b, nil
}
