package rules

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/voucherkit/voucherkit/internal/fixed"
	"github.com/voucherkit/voucherkit/voucher"
)

// pricing is the scratch state of one Quote call; it never escapes Quote.
type pricing struct {
	e     *compiled
	o     *voucher.Order
	insts []voucher.Instrument
	at    time.Time
	byID  map[string]int // nil for a small wallet: find scans
	tps   []*typePlan    // each instrument's type (nil: not in the rule set)
	// nIndexed is how many instruments find may return (all, once prepared).
	nIndexed int

	amount   []int64 // list amount per line, in units
	payable  []int64 // still payable per line
	discount []int64
	deducted []int64
	nonInv   []int64

	useIdx  []int // instruments named in use, in order
	codeIdx []int // instruments matched by codes, in order

	apps  []voucher.Application
	rejs  []voucher.Rejection
	trace []voucher.TraceEntry
	share []int64 // scratch: per-line split
	cands []cand  // scratch: the candidates of the current stage
	order []int32 // scratch: the order they are visited in
	memo  []memoMoney
	nRejs int // capacity for rejections, allocated at the first
	buf   [8]memoMoney
}

// cand is one instrument as the engine sees it during a stage.
type cand struct {
	idx      int
	tp       *typePlan
	key      string
	explicit bool
	avail    int64 // deduction: balance − held; discount: fixed amount
	balance  int64
	held     int64
	amount   int64
	pctNum   int64 // percent as pctNum/pctDen of the payable
	pctDen   int64
	maxDisc  int64
	minSpend int64
	expires  time.Time
	scope    int   // products in scope; math.MaxInt when unscoped
	take     int64 // what it would take at the start of its stage (sort keys)
}

func (e *compiled) prepare(o *voucher.Order, insts []voucher.Instrument, at time.Time) (*pricing, error) {
	// invalid_order: Validate's problems, a typed-in type named in use, an amount the
	// engine cannot hold; all reported together.
	var probs []voucher.FieldError
	if err := o.Validate(); err != nil {
		var ve *voucher.ValidationError
		if !errors.As(err, &ve) {
			return nil, err
		}
		probs = append(probs, ve.Problems...)
	}
	p := &pricing{e: e, o: o, insts: insts, at: at,
		cands: make([]cand, 0, len(insts)), order: make([]int32, 0, len(insts))}
	p.memo = p.buf[:0]
	n0 := len(insts) + len(o.Codes)
	p.nRejs = n0
	if e.trace {
		p.trace = make([]voucher.TraceEntry, 0, n0+len(e.stages))
	}
	if len(insts) > smallWallet {
		p.byID = make(map[string]int, len(insts))
	}
	for i := range insts {
		id := insts[i].ID
		if _, dup := p.find(id); dup {
			return nil, fmt.Errorf("%w: instrument id %q is given twice", voucher.ErrInvalidInstrument, id)
		}
		if p.byID != nil {
			p.byID[id] = i
		}
		p.nIndexed = i + 1
	}
	for k, id := range o.Use {
		if i, ok := p.find(id); ok {
			if tp, ok := e.types[insts[i].Type]; ok && tp.t.TypedCode {
				probs = append(probs, voucher.FieldError{Field: fmt.Sprintf("use[%d]", k),
					Problem: fmt.Sprintf("%q is a %s, which is typed in as a code: put its code in codes", id, tp.t.Name)})
			}
		}
	}
	n := len(o.Lines)
	buf := make([]int64, 6*n)
	p.amount, p.payable, p.discount = buf[0:n], buf[n:2*n], buf[2*n:3*n]
	p.deducted, p.nonInv, p.share = buf[3*n:4*n], buf[4*n:5*n], buf[5*n:6*n]
	var total int64
	for i, l := range o.Lines {
		u, ok := fixed.FromDecimal(l.Amount, e.scale, e.mode)
		if l.Amount.IsNegative() {
			continue // Validate reported it
		}
		if !ok {
			probs = append(probs, voucher.FieldError{Field: fmt.Sprintf("items[%d].amount", i),
				Problem: fmt.Sprintf("%s is out of range", l.Amount.String())})
			continue
		}
		p.amount[i], p.payable[i] = u, u
		total += u
	}
	if total > fixed.MaxUnits*1000 {
		probs = append(probs, voucher.FieldError{Field: "items", Problem: "total is out of range"})
	}
	if len(probs) > 0 {
		return nil, &voucher.ValidationError{Sentinel: voucher.ErrInvalidOrder, Problems: probs}
	}
	for i, l := range o.Lines {
		if l.Currency != "" && l.Currency != e.cur.Code() {
			return nil, fmt.Errorf("%w: items[%d] %q is in %s; rule set %s prices in %s",
				voucher.ErrCurrencyMismatch, i, l.ID, l.Currency, e.rs.Name, e.cur.Code())
		}
	}
	for _, id := range o.Use {
		i, ok := p.find(id)
		if !ok {
			return nil, fmt.Errorf("%w: use names %q, which is not in the wallet", voucher.ErrUnknownInstrument, id)
		}
		p.useIdx = append(p.useIdx, i)
	}
	for _, code := range o.Codes {
		i := p.findCode(code)
		if i < 0 {
			return nil, fmt.Errorf("%w: no promo code %q", voucher.ErrCodeNotFound, code)
		}
		p.codeIdx = append(p.codeIdx, i)
	}
	p.tps = make([]*typePlan, len(insts))
	for i := range insts {
		tp, ok := e.types[insts[i].Type]
		p.tps[i] = tp
		if !ok {
			if p.mayConsider(i) {
				return nil, fmt.Errorf("%w: instrument %q has type %q, which rule set %s does not define",
					voucher.ErrInvalidInstrument, insts[i].ID, insts[i].Type, e.rs.Name)
			}
		}
	}
	return p, nil
}

// smallWallet is the size up to which instruments are found by scanning, not a map.
const smallWallet = 16

// find returns the index of the instrument with id among those indexed so far (all of
// them once prepare has indexed the wallet).
func (p *pricing) find(id string) (int, bool) {
	if p.byID != nil {
		i, ok := p.byID[id]
		return i, ok
	}
	for i := range p.insts {
		if p.insts[i].ID == id {
			if p.indexed(i) {
				return i, true
			}
			return 0, false
		}
	}
	return 0, false
}

// indexed reports whether instrument i has been indexed: during prepare's duplicate
// check only the earlier ones are; afterwards all are.
func (p *pricing) indexed(i int) bool { return i < p.nIndexed }

// mayConsider reports whether instrument i could enter this order at all.
func (p *pricing) mayConsider(i int) bool {
	if slices.Contains(p.useIdx, i) || slices.Contains(p.codeIdx, i) {
		return true
	}
	return p.o.AutoSelect() && p.insts[i].Account == p.o.Account
}

// findCode returns the typed-in instrument whose code is code (case-sensitive); among
// several, the smallest id. -1 when none.
func (p *pricing) findCode(code string) int {
	best := -1
	for i := range p.insts {
		in := &p.insts[i]
		if in.Code != code {
			continue
		}
		tp, ok := p.e.types[in.Type]
		if !ok || !tp.t.TypedCode {
			continue
		}
		if best < 0 || in.ID < p.insts[best].ID {
			best = i
		}
	}
	return best
}

func (p *pricing) units(id, field string, d decimal.Decimal) (int64, error) {
	u, ok := fixed.FromDecimal(d, p.e.scale, p.e.mode)
	if !ok {
		return 0, fmt.Errorf("%w: instrument %q: %s %s is out of range", voucher.ErrInvalidInstrument, id, field, d.String())
	}
	return u, nil
}

func (p *pricing) newCand(i int, tp *typePlan, explicit bool) (cand, error) {
	in := &p.insts[i]
	c := cand{idx: i, tp: tp, key: in.ID, explicit: explicit, scope: math.MaxInt}
	var err error
	if c.balance, err = p.units(in.ID, "balance", in.Balance); err != nil {
		return c, err
	}
	if c.held, err = p.units(in.ID, "held", in.Held); err != nil {
		return c, err
	}
	if c.amount, err = p.units(in.ID, "amount", in.Amount); err != nil {
		return c, err
	}
	if c.maxDisc, err = p.units(in.ID, "max_discount", in.MaxDiscount); err != nil {
		return c, err
	}
	if c.minSpend, err = p.units(in.ID, "min_spend", in.MinSpend); err != nil {
		return c, err
	}
	if c.balance < 0 || c.held < 0 || c.amount < 0 || c.maxDisc < 0 || c.minSpend < 0 || in.PercentOff.IsNegative() {
		return c, fmt.Errorf("%w: instrument %q has a negative amount", voucher.ErrInvalidInstrument, in.ID)
	}
	if !in.PercentOff.IsZero() {
		num, den, ok := percent(in.PercentOff)
		if !ok {
			return c, fmt.Errorf("%w: instrument %q: percent_off %s is out of range", voucher.ErrInvalidInstrument, in.ID, in.PercentOff)
		}
		c.pctNum, c.pctDen = num, den
	}
	if tp.t.Kind == voucher.Deduction {
		c.avail = max(c.balance-c.held, 0)
	} else {
		c.avail = c.amount
	}
	c.expires = in.ExpiresOn(tp.policy)
	if len(in.Products) > 0 {
		c.scope = 0
		for k, prod := range in.Products {
			if !tp.never[prod] && !slices.Contains(in.ExcludeProducts, prod) && !slices.Contains(in.Products[:k], prod) {
				c.scope++
			}
		}
	}
	return c, nil
}

// percent returns pct/100 as a fraction num/den of integers.
func percent(pct decimal.Decimal) (int64, int64, bool) {
	if pct.NumDigits() > 18 || pct.Exponent() > 2 || pct.Exponent() < -16 {
		return 0, 0, false
	}
	c := pct.CoefficientInt64()
	if e := pct.Exponent(); e >= 0 {
		m, _ := fixed.Pow10(int(e))
		if c > math.MaxInt64/m {
			return 0, 0, false
		}
		return c * m, 100, true
	}
	m, ok := fixed.Pow10(int(-pct.Exponent()) + 2)
	return c, m, ok
}

// inScope reports whether line li is in c's scope.
func (p *pricing) inScope(c *cand, li int) bool {
	prod := p.o.Lines[li].Product
	if c.tp.never[prod] {
		return false
	}
	in := &p.insts[c.idx]
	if len(in.Products) > 0 && !slices.Contains(in.Products, prod) {
		return false
	}
	return !slices.Contains(in.ExcludeProducts, prod)
}

// scopePayable is what is still payable on c's in-scope lines, and how many lines are in scope.
func (p *pricing) scopePayable(c *cand) (int64, int) {
	var sum int64
	n := 0
	for li := range p.payable {
		if p.inScope(c, li) {
			sum += p.payable[li]
			n++
		}
	}
	return sum, n
}

// wouldTake is what c would take from scopePay: the spec's rules 4 and 7.
func (p *pricing) wouldTake(c *cand, scopePay int64) int64 {
	var take int64
	switch {
	case c.tp.t.Kind == voucher.Deduction:
		take = c.avail
	case c.pctDen != 0:
		v, ok := fixed.MulDiv(scopePay, c.pctNum, c.pctDen, p.e.mode)
		if !ok {
			v = scopePay
		}
		take = v
		if c.maxDisc > 0 {
			take = min(take, c.maxDisc)
		}
	default:
		take = c.amount
	}
	return max(min(take, scopePay), 0)
}

// money returns u units as Money. Decimals are immutable, so one quote shares one value
// per distinct amount (most figures repeat: a line's and the order's, an application's
// amount and its split).
func (p *pricing) money(u int64) voucher.Money {
	if u == 0 {
		return voucher.MoneyFromUnits(0, p.e.cur)
	}
	for i := range p.memo {
		if p.memo[i].units == u {
			return p.memo[i].m
		}
	}
	m := voucher.MoneyFromUnits(u, p.e.cur)
	if len(p.memo) < cap(p.memo) {
		p.memo = append(p.memo, memoMoney{u, m})
	}
	return m
}

type memoMoney struct {
	units int64
	m     voucher.Money
}

func (p *pricing) fmtUnits(u int64) string { return p.money(u).Format() }

func (p *pricing) runStage(si int) error {
	st := &p.e.stages[si]
	inStage := func(i int) (*typePlan, bool) {
		tp := p.tps[i]
		return tp, tp != nil && tp.stage == si
	}
	cands := p.cands[:0]
	for _, i := range p.useIdx {
		if tp, ok := inStage(i); ok {
			c, err := p.newCand(i, tp, true)
			if err != nil {
				return err
			}
			cands = append(cands, c)
		}
	}
	for k, i := range p.codeIdx {
		if tp, ok := inStage(i); ok {
			c, err := p.newCand(i, tp, true)
			if err != nil {
				return err
			}
			c.key = p.o.Codes[k]
			cands = append(cands, c)
		}
	}
	explicit := len(cands)
	if p.o.AutoSelect() {
		for i := range p.insts {
			in := &p.insts[i]
			tp, ok := inStage(i)
			if !ok || tp.t.TypedCode || in.PendingActivation || in.Account == "" || in.Account != p.o.Account {
				continue
			}
			c, err := p.newCand(i, tp, false)
			if err != nil {
				return err
			}
			cands = append(cands, c)
		}
	}
	p.cands = cands
	// Candidates are visited through order: explicit ones as chosen, automatic ones
	// sorted by their type's selection keys (sorting indices, not the structs).
	order := p.order[:0]
	for k := range cands {
		order = append(order, int32(k))
	}
	p.order = order
	if autos := order[explicit:]; len(autos) > 1 {
		for _, k := range autos {
			c := &cands[k]
			if c.tp.needTake {
				sp, _ := p.scopePayable(c)
				c.take = p.wouldTake(c, sp)
			}
		}
		slices.SortFunc(autos, func(a, b int32) int { return p.compare(&cands[a], &cands[b]) })
	}
	if p.e.trace {
		note := "chosen by the buyer"
		if p.o.AutoSelect() {
			note = "automatic selection"
		}
		p.trace = append(p.trace, voucher.TraceEntry{Stage: st.name, Event: "stage", Note: st.kind.String() + ", " + note})
	}
	var appliedBuf [8]int
	applied := appliedBuf[:] // per type of this stage: how many applied
	if len(st.types) > len(appliedBuf) {
		applied = make([]int, len(st.types))
	}
	for _, k := range order {
		c := &cands[k]
		ti := slices.Index(st.types, c.tp)
		reason, detail, hint := p.check(c)
		if reason == "" && c.tp.t.PerOrderLimit > 0 && ti < len(applied) && applied[ti] >= c.tp.t.PerOrderLimit {
			reason, detail = voucher.ReasonNotSelected, c.tp.limitDetail
			if c.explicit {
				reason = voucher.ReasonPerOrderLimit
			}
		}
		var take int64
		if reason == "" {
			sp, _ := p.scopePayable(c)
			take = p.wouldTake(c, sp)
			if take == 0 {
				reason, detail = voucher.ReasonNothingLeft, "nothing left to pay in its scope"
			}
		}
		if reason != "" {
			p.reject(st, c, reason, detail, hint)
			continue
		}
		if err := p.apply(st, c, take); err != nil {
			return err
		}
		if ti < len(applied) {
			applied[ti]++
		}
	}
	return nil
}

// compare orders automatic candidates by their type's declaration order in the stage,
// then the type's selection keys; ties end on the id, byte by byte.
func (p *pricing) compare(a, b *cand) int {
	if a.tp != b.tp {
		return p.e.stages[a.tp.stage].typeIndex(a.tp) - p.e.stages[b.tp.stage].typeIndex(b.tp)
	}
	ia, ib := &p.insts[a.idx], &p.insts[b.idx]
	for _, k := range a.tp.t.Selection {
		var r int
		switch k {
		case SortBalanceDesc:
			r = cmpInt(b.avail, a.avail)
		case SortBalanceAsc:
			r = cmpInt(a.avail, b.avail)
		case SortExpiresAsc:
			r = cmpExpiry(a.expires, b.expires)
		case SortIssuedAsc:
			r = ia.IssuedAt.Compare(ib.IssuedAt)
		case SortScopeSizeAsc:
			r = cmpInt(int64(a.scope), int64(b.scope))
		case SortDiscountDesc, SortDeductibleDesc:
			r = cmpInt(b.take, a.take)
		case SortID:
			r = strings.Compare(ia.ID, ib.ID)
		}
		if r != 0 {
			return r
		}
	}
	return strings.Compare(ia.ID, ib.ID)
}

func (s *stagePlan) typeIndex(tp *typePlan) int { return slices.Index(s.types, tp) }

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// cmpExpiry puts earlier expiries first and instruments that never expire last.
func cmpExpiry(a, b time.Time) int {
	switch {
	case a.IsZero() && b.IsZero():
		return 0
	case a.IsZero():
		return 1
	case b.IsZero():
		return -1
	}
	return a.Compare(b)
}

// check runs the spec's checks in order; the first that fails is the reason.
func (p *pricing) check(c *cand) (voucher.Reason, string, string) {
	in := &p.insts[c.idx]
	tp := c.tp
	o := p.o
	if in.Account != "" && in.Account != o.Account && !tp.t.TypedCode {
		return voucher.ReasonNotOwner, "belongs to another account", ""
	}
	deduction := tp.t.Kind == voucher.Deduction
	if deduction && c.balance <= 0 || !deduction && in.Redeemed >= in.Redemptions() {
		if deduction {
			return voucher.ReasonUsedUp, "balance is " + p.fmtUnits(c.balance), ""
		}
		return voucher.ReasonUsedUp, fmt.Sprintf("all %d redemptions used", in.Redemptions()), ""
	}
	if !c.expires.IsZero() && !p.at.Before(c.expires) {
		return voucher.ReasonExpired, "expired at " + c.expires.Format(time.RFC3339), ""
	}
	if in.PendingActivation {
		return voucher.ReasonPendingActivation, "activate its code first", "activate code " + in.Code + " on this account"
	}
	if deduction && c.avail <= 0 || !deduction && in.Redeemed+in.HeldRedemptions >= in.Redemptions() {
		return voucher.ReasonHeld, "what is left is held by other orders' reservations", ""
	}
	if eff := in.EffectiveFrom(tp.policy); !eff.IsZero() && p.at.Before(eff) {
		return voucher.ReasonNotYetEffective, "effective from " + eff.Format(time.RFC3339), ""
	}
	if in.Currency != "" && in.Currency != p.e.cur.Code() {
		return voucher.ReasonCurrencyMismatch, fmt.Sprintf("instrument is in %s, the order in %s", in.Currency, p.e.cur.Code()), ""
	}
	orderSet := tp.orderSet
	if in.OrderTypes != nil {
		orderSet = orderBits(in.OrderTypes)
	}
	if orderSet&orderBit(o.Type) == 0 {
		ok := joinOrderTypes(orderSet)
		return voucher.ReasonOrderType, fmt.Sprintf("order type %s is not one of %s", o.Type, ok), "qualifying order types: " + ok
	}
	paySet := tp.paySet
	if in.PaymentTypes != nil {
		paySet = payBits(in.PaymentTypes)
	}
	if paySet&payBit(o.Payment) == 0 {
		ok := joinPayTypes(paySet)
		return voucher.ReasonPaymentType, fmt.Sprintf("payment %s is not one of %s", o.Payment, ok), "pay by " + ok
	}
	fpo := tp.t.FirstPurchaseOnly
	if in.FirstPurchaseOnly != nil {
		fpo = *in.FirstPurchaseOnly
	}
	if fpo && !(o.Type == voucher.OrderUpgrade || o.Type == voucher.OrderNew && o.FirstPurchase) {
		return voucher.ReasonFirstPurchaseOnly, "only for a first purchase or an upgrade", ""
	}
	sp, n := p.scopePayable(c)
	if n == 0 {
		scope := "every product"
		if len(in.Products) > 0 {
			scope = strings.Join(in.Products, ", ")
		}
		return voucher.ReasonProductScope, "no line is in its scope (" + scope + ")", ""
	}
	if c.minSpend > 0 && sp < c.minSpend {
		return voucher.ReasonMinSpend, "needs " + p.fmtUnits(c.minSpend) + ", has " + p.fmtUnits(sp),
			"spend " + p.fmtUnits(c.minSpend-sp) + " more on eligible products"
	}
	return "", "", ""
}

func (p *pricing) reject(st *stagePlan, c *cand, reason voucher.Reason, detail, hint string) {
	in := &p.insts[c.idx]
	if p.rejs == nil {
		p.rejs = make([]voucher.Rejection, 0, p.nRejs)
	}
	p.rejs = append(p.rejs, voucher.Rejection{InstrumentID: in.ID, Key: c.key, Type: in.Type,
		Stage: st.name, Reason: reason, Detail: detail, Hint: hint})
	if p.e.trace {
		p.trace = append(p.trace, voucher.TraceEntry{Stage: st.name, Instrument: c.key, Event: "reject", Reason: reason, Note: detail})
	}
}

// apply spreads take over c's in-scope lines by its type's allocation rule and records it.
func (p *pricing) apply(st *stagePlan, c *cand, take int64) error {
	share := p.share
	for i := range share {
		share[i] = 0
	}
	switch c.tp.t.Allocation {
	case AllocLargestLineFirst:
		left := take
		for left > 0 {
			best := -1
			for li := range p.payable {
				if p.payable[li]-share[li] > 0 && p.inScope(c, li) && (best < 0 || p.payable[li]-share[li] > p.payable[best]-share[best]) {
					best = li
				}
			}
			if best < 0 {
				break
			}
			t := min(left, p.payable[best]-share[best])
			share[best] += t
			left -= t
		}
	default:
		weights := make([]int64, len(p.payable))
		for li := range p.payable {
			if p.inScope(c, li) {
				weights[li] = p.payable[li]
			}
		}
		if !fixed.Proportional(take, weights, share) {
			return fmt.Errorf("rules: cannot allocate %d units over %v", take, weights)
		}
	}
	in := &p.insts[c.idx]
	deduction := c.tp.t.Kind == voucher.Deduction
	lines := make([]voucher.LineAmount, len(share))
	for li, s := range share {
		p.payable[li] -= s
		if deduction {
			p.deducted[li] += s
			if !c.tp.t.Invoiceable {
				p.nonInv[li] += s
			}
		} else {
			p.discount[li] += s
		}
		lines[li] = voucher.LineAmount{LineID: p.o.Lines[li].ID, Amount: p.money(s)}
	}
	if p.apps == nil {
		p.apps = make([]voucher.Application, 0, min(len(p.cands), 8))
	}
	p.apps = append(p.apps, voucher.Application{InstrumentID: in.ID, Key: c.key, Type: in.Type, Stage: st.name,
		Kind: c.tp.t.Kind, Amount: p.money(take), Lines: lines, Invoiceable: c.tp.t.Invoiceable, Refund: c.tp.refundRule()})
	if p.e.trace {
		// Points into apps: if apps grows later, the old array keeps the same value.
		p.trace = append(p.trace, voucher.TraceEntry{Stage: st.name, Instrument: c.key, Event: "apply", Amount: &p.apps[len(p.apps)-1].Amount})
	}
	return nil
}

func (tp *typePlan) refundRule() voucher.RefundRule {
	if tp.t.Kind != voucher.Deduction {
		return ""
	}
	return tp.t.Refund
}

func (p *pricing) quote() *voucher.Quote {
	q := &voucher.Quote{OrderID: p.o.ID, Account: p.o.Account, RuleSet: p.e.id, Currency: p.e.cur.Code(),
		At: p.at, Applications: p.apps, Rejections: p.rejs, Trace: p.trace}
	if q.Applications == nil {
		q.Applications = []voucher.Application{}
	}
	if q.Rejections == nil {
		q.Rejections = []voucher.Rejection{}
	}
	q.Lines = make([]voucher.LineQuote, len(p.o.Lines))
	var tot [5]int64
	for li, l := range p.o.Lines {
		f := [5]int64{p.amount[li], p.discount[li], p.deducted[li], p.payable[li], p.nonInv[li]}
		q.Lines[li] = voucher.LineQuote{LineID: l.ID, Product: l.Product, Figures: p.figures(f)}
		for k := range tot {
			tot[k] += f[k]
		}
	}
	q.Figures = p.figures(tot)
	return q
}

// figures turns {total, discount, deducted, cash, non-invoiceable} units into Figures.
func (p *pricing) figures(f [5]int64) voucher.Figures {
	return voucher.Figures{Total: p.money(f[0]), Discount: p.money(f[1]), Deducted: p.money(f[2]),
		Cash: p.money(f[3]), Invoiceable: p.money(f[0] - f[1] - f[4]), NonInvoiceable: p.money(f[4])}
}
