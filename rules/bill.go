package rules

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/voucherkit/voucherkit/voucher"
)

// Settle prices bill b at its period's last instant under organization org (nil for
// one account's bill) against the instruments of its accounts, as the spec's "Bills,
// organizations and credit sharing" says: like a usage order paid as you go, over
// every charge, by every stage, with automatic selection among the instruments of the
// accounts of the bill; an instrument reaches only the charges of the bill it serves
// (the organization's pool, or its owner's own bill), and of those its owner's, and,
// when it may be shared, those of every account that shares. It implements
// voucher.BillPricer; it changes nothing.
//
// Errors: voucher.ErrInvalidOrder (the bill's own problems: no id or charges, a charge
// outside the period or of an account not of the bill, and an order's), then
// ErrCurrencyMismatch.
func (e *Engine) Settle(b voucher.Bill, org *voucher.Organization, insts []voucher.Instrument) (*voucher.Quote, error) {
	at := b.At()
	c := e.at(at)
	bl, o := newBilling(&b, org, at)
	p, err := c.prepare(&o, insts, at, bl)
	if err != nil {
		return nil, err
	}
	for si := range c.stages {
		if err := p.runStage(si); err != nil {
			return nil, err
		}
	}
	return p.done(), nil
}

var _ voucher.BillPricer = (*Engine)(nil)

// billing is what pricing a bill adds to pricing an order: whose each charge is and
// on which bill, and which charges each instrument reaches.
type billing struct {
	b     *voucher.Bill
	org   *voucher.Organization
	start time.Time
	// accts are the accounts of the bill (the payer or the account first), indexed.
	accts   []string
	acctIdx map[string]int32
	// shares says, per account, whether it shares under the preference in force.
	shares []bool
	// probs are the bill's own problems (invalid_order).
	probs []voucher.FieldError

	// Per line: its account, whether it is on the organization's bill (else on its
	// account's own), when it was incurred.
	lineAcct []int32
	onOrg    []bool
	incurred []time.Time
	// Reach groups: one per (account, bill) — index 2*account+onOrg — and the shared
	// group, the organization's charges of the accounts that share (index sharedG).
	// Per group and product, what is still payable and how many lines there are;
	// per group, its lines by product.
	nGroups  int
	groupPay []int64 // [group*np + product]
	groupCnt []int32
	gTotal   []int64
	gCount   []int32
	gStart   []int32 // group g product k: gLines[gStart[g*np+k]:gStart[g*np+k+1]]
	gLines   []int32
	// acctFirst is each account's first charge, for ties between accounts.
	acctFirst []int32
	// member is each account's membership (nil: the payer, or no organization).
	member []*voucher.Member
}

// memberAt reports whether account a is a member of the organization at t, as
// Organization.MemberAt does, without a search.
func (bl *billing) memberAt(a int32, t time.Time) bool {
	if bl.org == nil {
		return false
	}
	m := bl.member[a]
	return m == nil || (m.JoinedAt == nil || !t.Before(*m.JoinedAt)) && (m.LeftAt == nil || t.Before(*m.LeftAt))
}

// newBilling prepares the billing of b and the order it is priced as: a usage order
// paid as you go, of every charge, by the payer (or the account).
func newBilling(b *voucher.Bill, org *voucher.Organization, at time.Time) (*billing, voucher.Order) {
	bl := &billing{b: b, org: org, start: b.Start, acctIdx: map[string]int32{}}
	buyer := b.Account
	if org != nil {
		buyer = org.Payer
		for _, a := range org.MembersDuring(b.Start, b.End) {
			bl.addAccount(a)
		}
		bl.member = make([]*voucher.Member, len(bl.accts))
		for i := range org.Members {
			if a, ok := bl.acctIdx[org.Members[i].Account]; ok {
				bl.member[a] = &org.Members[i]
			}
		}
		pref := org.SharingAt(at)
		bl.shares = make([]bool, len(bl.accts))
		for i, a := range bl.accts {
			bl.shares[i] = pref.Shares(org, a)
		}
	} else {
		bl.addAccount(b.Account)
		bl.shares = []bool{false}
	}
	o := voucher.Order{ID: b.ID, Account: buyer, Type: voucher.OrderUsage, Payment: voucher.PayAsYouGo,
		Lines: make([]voucher.Line, len(b.Charges))}
	n := len(b.Charges)
	bl.lineAcct, bl.onOrg, bl.incurred = make([]int32, n), make([]bool, n), make([]time.Time, n)
	for i := range b.Charges {
		ch := &b.Charges[i]
		o.Lines[i] = ch.Line
		bl.incurred[i] = ch.IncurredAt
		if ch.IncurredAt.Before(b.Start) || !ch.IncurredAt.Before(b.End) {
			bl.probs = append(bl.probs, voucher.FieldError{Field: fmt.Sprintf("items[%d].incurred_at", i),
				Problem: fmt.Sprintf("%s is outside the period %s to %s", ch.IncurredAt.Format(time.RFC3339),
					b.Start.Format(time.RFC3339), b.End.Format(time.RFC3339))})
		}
		k, ok := bl.acctIdx[ch.Account]
		if !ok {
			bl.probs = append(bl.probs, voucher.FieldError{Field: fmt.Sprintf("items[%d].account", i),
				Problem: fmt.Sprintf("%q is not an account of this bill (%s)", ch.Account, strings.Join(bl.accts, ", "))})
		}
		bl.lineAcct[i] = k
		bl.onOrg[i] = ok && bl.memberAt(k, ch.IncurredAt)
	}
	if b.ID == "" {
		bl.probs = append(bl.probs, voucher.FieldError{Field: "id", Problem: "is required"})
	}
	return bl, o
}

func (bl *billing) addAccount(a string) {
	if _, ok := bl.acctIdx[a]; !ok {
		bl.acctIdx[a] = int32(len(bl.accts))
		bl.accts = append(bl.accts, a)
	}
}

// sharedG is the index of the shared group.
func (bl *billing) sharedG() int32 { return int32(2 * len(bl.accts)) }

// group is the (account, bill) group of line li.
func (bl *billing) group(li int) int32 {
	g := 2 * bl.lineAcct[li]
	if bl.onOrg[li] {
		g++
	}
	return g
}

// index groups the lines by reach group and product, once prepare has grouped them by
// product.
func (bl *billing) index(p *pricing) {
	n, np := len(p.o.Lines), len(p.prods)
	bl.nGroups = 2*len(bl.accts) + 1
	bl.groupPay = make([]int64, bl.nGroups*np)
	bl.groupCnt = make([]int32, bl.nGroups*np)
	bl.gTotal = make([]int64, bl.nGroups)
	bl.gCount = make([]int32, bl.nGroups)
	bl.gStart = make([]int32, bl.nGroups*np+1)
	bl.acctFirst = make([]int32, len(bl.accts))
	for i := range bl.acctFirst {
		bl.acctFirst[i] = int32(n)
	}
	members := func(li int, f func(g int32)) {
		f(bl.group(li))
		if bl.onOrg[li] && bl.shares[bl.lineAcct[li]] {
			f(bl.sharedG())
		}
	}
	for li := range n {
		k := p.lineProd[li]
		a := bl.lineAcct[li]
		bl.acctFirst[a] = min(bl.acctFirst[a], int32(li))
		members(li, func(g int32) {
			bl.groupPay[int(g)*np+int(k)] += p.payable[li]
			bl.groupCnt[int(g)*np+int(k)]++
			bl.gTotal[g] += p.payable[li]
			bl.gCount[g]++
			bl.gStart[int(g)*np+int(k)+1]++
		})
	}
	for i := 1; i < len(bl.gStart); i++ {
		bl.gStart[i] += bl.gStart[i-1]
	}
	bl.gLines = make([]int32, bl.gStart[len(bl.gStart)-1])
	next := slices.Clone(bl.gStart[:len(bl.gStart)-1])
	for li := range n {
		k := p.lineProd[li]
		members(li, func(g int32) {
			slot := int(g)*np + int(k)
			bl.gLines[next[slot]] = int32(li)
			next[slot]++
		})
	}
}

// linesOf returns the lines of group g and product k, in line order.
func (bl *billing) linesOf(np int, g, k int32) []int32 {
	slot := int(g)*np + int(k)
	return bl.gLines[bl.gStart[slot]:bl.gStart[slot+1]]
}

// pay records that s more units of line li were paid.
func (bl *billing) pay(p *pricing, li int32, s int64) {
	np := len(p.prods)
	k := p.lineProd[li]
	g := bl.group(int(li))
	bl.groupPay[int(g)*np+int(k)] -= s
	bl.gTotal[g] -= s
	if bl.onOrg[li] && bl.shares[bl.lineAcct[li]] {
		sg := bl.sharedG()
		bl.groupPay[int(sg)*np+int(k)] -= s
		bl.gTotal[sg] -= s
	}
}

// reach is which charges of a bill an instrument reaches: one group's, and, when the
// instrument became effective after the period began, only those incurred since.
type reach struct {
	g   int32 // -1: none
	eff *time.Time
	// why explains a reach narrower than the instrument's owner's charges (not_shared).
	why string
}

// reachOf returns what instrument in of type tp reaches on the bill. It serves the
// organization's pool when its owner was a member at the period's first instant (the
// payer always is), otherwise its owner's own bill.
func (bl *billing) reachOf(in *voucher.Instrument, tp *typePlan) reach {
	a, ok := bl.acctIdx[in.Account]
	if !ok {
		return reach{g: -1, why: "its owner is not an account of this bill"}
	}
	r := reach{}
	if eff := in.EffectiveFrom(tp.policy); eff != nil && eff.After(bl.start) {
		r.eff = eff
	}
	if bl.org == nil || !bl.memberAt(a, bl.start) {
		r.g = 2 * a
		if bl.org != nil {
			r.why = fmt.Sprintf("%s joined organization %s after the period began: its credits pay its own charges from before joining", in.Account, bl.org.ID)
		}
		return r
	}
	r.g = 2*a + 1
	switch {
	case !tp.t.Shared:
		r.why = fmt.Sprintf("type %s is not shared", tp.t.Name)
	case in.Shared != nil && !*in.Shared:
		r.why = "sharing is off for this credit"
	case !bl.shares[a]:
		r.why = fmt.Sprintf("sharing is off for %s's credits in organization %s", in.Account, bl.org.ID)
	default:
		r.g = bl.sharedG()
	}
	return r
}

// reaches reports whether line li is one the candidate's reach covers, given it is in
// the reach group's lists.
func (bl *billing) reachesTime(r reach, li int32) bool {
	return r.eff == nil || !bl.incurred[li].Before(*r.eff)
}

// accountFigures returns each account's figures, in the order of its first charge.
func (bl *billing) accountFigures(p *pricing) []voucher.AccountQuote {
	sums := make([][5]int64, len(bl.accts))
	seen := make([]bool, len(bl.accts))
	var order []int32
	for li := range p.o.Lines {
		a := bl.lineAcct[li]
		if !seen[a] {
			seen[a] = true
			order = append(order, a)
		}
		f := &sums[a]
		f[0] += p.amount[li]
		f[1] += p.discount[li]
		f[2] += p.deducted[li]
		f[3] += p.payable[li]
		f[4] += p.nonInv[li]
	}
	out := make([]voucher.AccountQuote, len(order))
	for i, a := range order {
		out[i] = voucher.AccountQuote{Account: bl.accts[a], Figures: p.figures(sums[a])}
	}
	return out
}

// buyer reports whether account's instruments are the buyer's own: on an order, the
// order's account; on a bill, any account of the bill.
func (p *pricing) buyer(account string) bool {
	if p.bill == nil {
		return account == p.o.Account
	}
	_, ok := p.bill.acctIdx[account]
	return ok
}

// scopeReach is what is still payable on c's in-scope charges that it reaches, and how
// many in-scope charges it reaches (paid or not), s being c's marked scope.
func (bl *billing) scopeReach(p *pricing, c *cand, s scope) (int64, int) {
	r := c.rch
	if r.g < 0 {
		return 0, 0
	}
	np := len(p.prods)
	if r.eff != nil {
		// Effective during the period: only what was incurred since counts, line by line.
		var pay int64
		n := 0
		for k := range np {
			if !s.has(p, int32(k)) {
				continue
			}
			for _, li := range bl.linesOf(np, r.g, int32(k)) {
				if bl.reachesTime(r, li) {
					pay += p.payable[li]
					n++
				}
			}
		}
		return pay, n
	}
	base := int(r.g) * np
	var pay int64
	var n int32
	for _, k := range s.prods {
		pay += bl.groupPay[base+int(k)]
		n += bl.groupCnt[base+int(k)]
	}
	if s.all {
		pay, n = bl.gTotal[r.g]-pay, bl.gCount[r.g]-n
	}
	return pay, int(n)
}

// notShared says why c reaches none of the bill's charges in its scope.
func (p *pricing) notShared(c *cand) string {
	detail := "none of the charges in its scope is one it may pay"
	if c.rch.why != "" {
		detail += ": " + c.rch.why
	} else if why := p.bill.notReached(p, c); why != "" {
		detail += ": " + why
	}
	if c.rch.eff != nil {
		detail += fmt.Sprintf("; it pays only charges incurred from %s on", c.rch.eff.Format(time.RFC3339))
	}
	return detail
}

// scopeLines returns c's in-scope lines on the bill that it reaches and that still have
// something payable, in line order, and what is payable on each (scratch).
func (bl *billing) scopeLines(p *pricing, c *cand) ([]int32, []int64) {
	idx, w := p.gather[:0], p.weights[:0]
	r := c.rch
	if r.g < 0 {
		return idx, w
	}
	s := p.markScope(c)
	np := len(p.prods)
	products := 0
	for k := range np {
		if !s.has(p, int32(k)) {
			continue
		}
		before := len(idx)
		for _, li := range bl.linesOf(np, r.g, int32(k)) {
			if p.payable[li] > 0 && bl.reachesTime(r, li) {
				idx = append(idx, li)
			}
		}
		if len(idx) > before {
			products++
		}
	}
	if products > 1 {
		slices.Sort(idx)
	}
	for _, li := range idx {
		w = append(w, p.payable[li])
	}
	return idx, w
}

// notReached says whose in-scope charges a credit serving the shared pool does not
// reach, and why: an account that does not share, or charges on an account's own bill.
// It names at most three accounts; it runs only for a rejection.
func (bl *billing) notReached(p *pricing, c *cand) string {
	if c.rch.g != bl.sharedG() {
		return ""
	}
	s := p.markScope(c)
	var parts []string
	seen := map[string]bool{}
	for li := range p.o.Lines {
		a := bl.accts[bl.lineAcct[li]]
		if !s.has(p, p.lineProd[li]) || seen[a] {
			continue
		}
		switch {
		case !bl.onOrg[li]:
			parts = append(parts, fmt.Sprintf("%s's charges are on its own bill", a))
		case !bl.shares[bl.lineAcct[li]]:
			parts = append(parts, fmt.Sprintf("sharing is off for %s in organization %s", a, bl.org.ID))
		default:
			continue
		}
		seen[a] = true
		if len(parts) == 3 {
			parts = append(parts, "...")
			break
		}
	}
	return strings.Join(parts, "; ")
}

// spendSource sets where spendDesc finds the lines of instrument c (effective since
// the period began) on the bill: each account's lines of c's reach group in its scope,
// and each account's total from the per-group, per-product sums.
func (bl *billing) spendSource(p *pricing, c *cand, sd *spend) {
	r := c.rch
	s := p.markScope(c)
	prods := slices.Clone(s.prods)
	inScope := make([]bool, len(p.prods))
	for k := range inScope {
		inScope[k] = s.has(p, int32(k))
	}
	np := len(p.prods)
	// group is account a's group that c reaches: its own bill's or its charges on the
	// organization's; -1 when it reaches none of a's charges.
	group := func(a int32) int32 {
		switch {
		case r.g < 0:
			return -1
		case r.g < bl.sharedG():
			if r.g/2 == a {
				return r.g
			}
			return -1
		case bl.shares[a]:
			return 2*a + 1
		}
		return -1
	}
	sd.sum = func(a int32) int64 {
		g := group(a)
		if g < 0 {
			return 0
		}
		var pay int64
		for _, k := range prods {
			pay += bl.groupPay[int(g)*np+int(k)]
		}
		if s.all {
			pay = bl.gTotal[g] - pay
		}
		return pay
	}
	sd.lines = func(a int32) []int32 {
		g := group(a)
		var out []int32
		for k := range np {
			if g < 0 || !inScope[k] {
				continue
			}
			for _, li := range bl.linesOf(np, g, int32(k)) {
				if p.payable[li] > 0 {
					out = append(out, li)
				}
			}
		}
		return out
	}
	sd.reached = func(yield func(int32) bool) {
		for a := range int32(len(bl.accts)) {
			if group(a) >= 0 && !yield(a) {
				return
			}
		}
	}
}
