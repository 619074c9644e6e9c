package rules

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
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
	// bill is what a settle adds: whose each charge is, what each instrument reaches;
	// nil for an order.
	bill *billing
	// sk are the groups spend_desc chooses among (nil until an instrument uses it).
	sk *spendKeys
	// spendOpened is spendDesc's per-account table, all nil between instruments.
	spendOpened []*spendAccount
	// skuLocal is spendDesc's map of SKU groups to an account's, all -1 between uses.
	skuLocal []int32
	// prodLeft, skuLeft are spendDesc's sums per product and SKU group, all 0 between
	// uses.
	prodLeft, skuLeft []int64

	amount   []int64 // list amount per line, in units
	payable  []int64 // still payable per line
	discount []int64
	deducted []int64
	nonInv   []int64

	// The lines grouped by product, once per quote, so that a scope costs what its
	// product lists cost, not a pass over the lines.
	lineProd  []int32          // each line's product: an index into prods
	prods     []string         // the order's products, in the order they first appear
	prodIdx   map[string]int32 // nil for a small order: prodOf scans prods
	prodStart []int32          // product k's lines are prodLines[prodStart[k]:prodStart[k+1]]
	prodLines []int32          // line indices by product, in line order within one
	prodPay   []int64          // still payable per product
	totalPay  int64            // still payable on the whole order
	mark      []uint32         // scratch: products marked with gen (see markScope)
	gen       uint32
	scopeBuf  []int32 // scratch: the products of a scope
	gather    []int32 // scratch: the lines an application spreads over
	weights   []int64 // scratch: what is payable on them
	split     fixed.Splitter

	useIdx  []int // instruments named in use, in order
	codeIdx []int // instruments matched by codes, in order

	apps  []voucher.Application
	rejs  []voucher.Rejection
	trace []voucher.TraceEntry
	share []int64 // scratch: the split over gather
	cands []cand  // scratch: the candidates of the current stage
	// lineBuf backs the per-line figures (amount to prodPay).
	lineBuf []int64
	order   []int32 // scratch: the order they are visited in
	nRejs   int     // capacity for rejections, allocated at the first
	// A small order's product index lives here (see groupLines).
	i32Buf  [5*smallOrder + 1]int32
	markBuf [smallOrder]uint32
	prodBuf [smallOrder]string
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
	expires  *time.Time
	scope    int   // products in scope; math.MaxInt when unscoped
	take     int64 // what it would take at the start of its stage (sort keys)
	// foreign: the instrument is in another currency than the rule set's; its amounts
	// are not read in units.
	foreign bool
	// rch is which charges of a bill it reaches (bills only).
	rch reach
}

func (e *compiled) prepare(o *voucher.Order, insts []voucher.Instrument, at time.Time, bill *billing) (*pricing, error) {
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
	p := e.newPricing(o, insts, at, bill)
	if bill != nil {
		probs = append(probs, bill.probs...)
	}
	if err := p.indexInstruments(); err != nil {
		return nil, err
	}
	probs = append(probs, p.typedInUse()...)
	total, lineProbs := p.lineUnits()
	probs = append(probs, lineProbs...)
	if len(probs) > 0 {
		return nil, &voucher.ValidationError{Sentinel: voucher.ErrInvalidOrder, Problems: probs}
	}
	p.totalPay = total
	p.groupLines()
	if bill != nil {
		bill.index(p)
	}
	if err := p.resolve(); err != nil {
		return nil, err
	}
	return p, nil
}

// newPricing allocates the pricing of o against insts at at.
// pricings keeps pricings between quotes: one is a few kilobytes of buffers, which a
// busy wallet would otherwise allocate, and collect, for every step.
var pricings = sync.Pool{New: func() any { return new(pricing) }}

func (e *compiled) newPricing(o *voucher.Order, insts []voucher.Instrument, at time.Time, bill *billing) *pricing {
	p := pricings.Get().(*pricing) // zero: see done
	p.e, p.o, p.insts, p.at, p.bill = e, o, insts, at, bill
	p.cands, p.order = slices.Grow(p.cands[:0], len(insts)), slices.Grow(p.order[:0], len(insts))
	n0 := len(insts) + len(o.Codes)
	p.nRejs = n0
	if e.trace {
		p.trace = make([]voucher.TraceEntry, 0, n0+len(e.stages))
	}
	if len(insts) > smallWallet {
		p.byID = make(map[string]int, len(insts))
	}
	n := len(o.Lines)
	p.lineBuf = slices.Grow(p.lineBuf[:0], 8*n)[:8*n]
	buf := p.lineBuf
	clear(buf)
	p.amount, p.payable, p.discount = buf[0:n], buf[n:2*n], buf[2*n:3*n]
	p.deducted, p.nonInv, p.share = buf[3*n:4*n], buf[4*n:5*n], buf[5*n:6*n]
	p.weights, p.prodPay = buf[6*n:6*n:7*n], buf[7*n:8*n]
	return p
}

// indexInstruments indexes the instruments by id, refusing an id given twice.
func (p *pricing) indexInstruments() error {
	for i := range p.insts {
		id := p.insts[i].ID
		if _, dup := p.find(id); dup {
			return fmt.Errorf("%w: instrument id %q is given twice", voucher.ErrInvalidInstrument, id)
		}
		if p.byID != nil {
			p.byID[id] = i
		}
		p.nIndexed = i + 1
	}
	return nil
}

// typedInUse reports each use entry that names a typed-in instrument.
func (p *pricing) typedInUse() []voucher.FieldError {
	var probs []voucher.FieldError
	for k, id := range p.o.Use {
		if i, ok := p.find(id); ok {
			if tp, ok := p.e.types[p.insts[i].Type]; ok && tp.t.TypedCode {
				probs = append(probs, voucher.FieldError{Field: fmt.Sprintf("use[%d]", k),
					Problem: fmt.Sprintf("%q is a %s, which is typed in as a code: put its code in codes", id, tp.t.Name)})
			}
		}
	}
	return probs
}

// lineUnits reads the lines' amounts in units and returns their total, reporting those
// the engine cannot hold.
func (p *pricing) lineUnits() (int64, []voucher.FieldError) {
	var probs []voucher.FieldError
	var total int64
	for i, l := range p.o.Lines {
		u, ok := fixed.FromDecimal(l.Amount, p.e.scale, p.e.mode)
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
	return total, probs
}

// resolve checks the lines' currencies and finds what use and codes name and each
// instrument's type, in the spec's order of errors.
func (p *pricing) resolve() error {
	e, o, insts := p.e, p.o, p.insts
	for i, l := range o.Lines {
		if l.Currency != "" && l.Currency != e.cur.Code() {
			return fmt.Errorf("%w: items[%d] %q is in %s; rule set %s prices in %s",
				voucher.ErrCurrencyMismatch, i, l.ID, l.Currency, e.rs.Name, e.cur.Code())
		}
	}
	for _, id := range o.Use {
		i, ok := p.find(id)
		if !ok {
			return fmt.Errorf("%w: use names %q, which is not in the wallet", voucher.ErrUnknownInstrument, id)
		}
		p.useIdx = append(p.useIdx, i)
	}
	for _, code := range o.Codes {
		i := p.findCode(code)
		if i < 0 {
			return fmt.Errorf("%w: no promo code %q", voucher.ErrCodeNotFound, code)
		}
		p.codeIdx = append(p.codeIdx, i)
	}
	p.tps = slices.Grow(p.tps[:0], len(insts))[:len(insts)]
	clear(p.tps)
	for i := range insts {
		tp, ok := e.types[insts[i].Type]
		p.tps[i] = tp
		if !ok && p.mayConsider(i) {
			return fmt.Errorf("%w: instrument %q has type %q, which rule set %s does not define",
				voucher.ErrInvalidInstrument, insts[i].ID, insts[i].Type, e.rs.Name)
		}
	}
	return nil
}

// smallWallet is the size up to which instruments are found by scanning, not a map.
const smallWallet = 16

// smallOrder is the number of lines up to which products are found by scanning, not a
// map, and indexed in the pricing's own buffers.
const smallOrder = 8

// groupLines indexes the order's lines by product: each line's product, each product's
// lines (a counting sort, so in line order) and what is payable on each product. It
// runs once per quote, after prepare has set payable.
func (p *pricing) groupLines() {
	lines := p.o.Lines
	n := len(lines)
	var i32 []int32
	if n <= smallOrder {
		i32, p.prods = p.i32Buf[:5*n+1], p.prodBuf[:0]
	} else {
		i32, p.prods = make([]int32, 5*n+1), make([]string, 0, 16)
		p.prodIdx = make(map[string]int32)
	}
	p.lineProd = i32[:n]
	for li := range lines {
		name := lines[li].Product
		k, ok := p.prodOf(name)
		if !ok {
			k = int32(len(p.prods))
			p.prods = append(p.prods, name)
			if p.prodIdx != nil {
				p.prodIdx[name] = k
			}
		}
		p.lineProd[li] = k
	}
	np := len(p.prods)
	p.prodStart = i32[n : n+np+1]
	p.prodLines = i32[2*n+1 : 3*n+1]
	p.scopeBuf = i32[3*n+1 : 3*n+1 : 4*n+1]
	p.gather = i32[4*n+1 : 4*n+1 : 5*n+1]
	p.prodPay = p.prodPay[:np]
	for li, k := range p.lineProd {
		p.prodStart[k+1]++
		p.prodPay[k] += p.payable[li]
	}
	for k := range np {
		p.prodStart[k+1] += p.prodStart[k]
	}
	next := i32[3*n+1 : 3*n+1+np] // scopeBuf's room, as each product's next free slot
	copy(next, p.prodStart[:np])
	for li, k := range p.lineProd {
		p.prodLines[next[k]] = int32(li)
		next[k]++
	}
	if n <= smallOrder {
		p.mark = p.markBuf[:np]
	} else {
		p.mark = make([]uint32, np)
	}
}

// prodOf returns the index of product name among the order's products.
func (p *pricing) prodOf(name string) (int32, bool) {
	if p.prodIdx != nil {
		k, ok := p.prodIdx[name]
		return k, ok
	}
	for k, x := range p.prods {
		if x == name {
			return int32(k), true
		}
	}
	return 0, false
}

// linesOf returns the lines of product k, in line order.
func (p *pricing) linesOf(k int32) []int32 { return p.prodLines[p.prodStart[k]:p.prodStart[k+1]] }

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
	in := &p.insts[i]
	return p.o.AutoSelect() && (in.Account == p.o.Account || p.e.others && in.Account != "")
}

// candidateOwner reports whether automatic selection considers an instrument owned as
// in is: the buyer's (see buyer), or (WithOthersListed) another account's, to be
// rejected as not_owner.
func (p *pricing) candidateOwner(in *voucher.Instrument) bool {
	return in.Account != "" && (p.buyer(in.Account) || p.e.others)
}

// findCode returns the typed-in instrument whose code is code (case-sensitive); among
// several, the smallest id. -1 when none.
func (p *pricing) findCode(code string) int {
	best := -1
	for i := range p.insts {
		in := &p.insts[i]
		if in.Code != code || code == "" {
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

// units converts amount field of instrument id to units of the rule set's scale,
// exactly: an amount finer than the scale or beyond the range is an invalid instrument.
func (p *pricing) units(id, field string, d decimal.Decimal) (int64, error) {
	u, ok := fixed.Exact(d, p.e.scale)
	if !ok || u < 0 {
		return 0, fmt.Errorf("%w: instrument %q: %s %s is negative, finer than the scale %d of %s, or out of range",
			voucher.ErrInvalidInstrument, id, field, d.String(), p.e.scale, p.e.cur.Code())
	}
	return u, nil
}

func badInstrument(in *voucher.Instrument, format string, args ...any) error {
	return fmt.Errorf("%w: instrument %q: %s", voucher.ErrInvalidInstrument, in.ID, fmt.Sprintf(format, args...))
}

// newCand reads instrument i as a candidate, checking what the engine relies on: its
// amounts exact at the scale and in range, a percentage in (0, 100] and not with an
// amount, a cap above zero, holds within the balance, redemptions within their count.
// An instrument in another currency is not converted: it is rejected before any
// check that would need its amounts in units.
func (p *pricing) newCand(i int, tp *typePlan, explicit bool) (cand, error) {
	in := &p.insts[i]
	c := cand{idx: i, tp: tp, key: in.ID, explicit: explicit, scope: math.MaxInt}
	c.expires = in.ExpiresOn(tp.policy)
	c.scope = scopeSize(in, tp)
	if p.bill != nil {
		c.rch = p.bill.reachOf(in, tp)
	}
	if in.Currency != "" && in.Currency != p.e.cur.Code() {
		c.foreign = true
		return c, nil
	}
	if err := p.candAmounts(in, tp, &c); err != nil {
		return c, err
	}
	if tp.t.Kind == voucher.Deduction {
		if in.PercentOff != nil || c.amount <= 0 || c.balance > c.amount || c.held > c.balance {
			return c, badInstrument(in, "a deduction needs an amount above zero, no percent_off, and held <= balance <= amount (amount %s, balance %s, held %s)",
				in.Amount, in.CurrentBalance(), in.Held)
		}
		c.avail = c.balance - c.held
		return c, nil
	}
	if in.Redeemed < 0 || in.HeldRedemptions < 0 || in.MaxRedemptions != nil && *in.MaxRedemptions < 1 {
		return c, badInstrument(in, "redemptions used (%d), held (%d) and max_redemptions must not be negative, max_redemptions at least 1", in.Redeemed, in.HeldRedemptions)
	}
	if in.MaxDiscount != nil && (c.maxDisc <= 0 || in.PercentOff == nil) {
		return c, badInstrument(in, "max_discount %s must be above zero and cap a percent_off", in.MaxDiscount)
	}
	if in.PercentOff == nil {
		if c.amount <= 0 {
			return c, badInstrument(in, "a discount needs an amount above zero, or percent_off")
		}
		c.avail = c.amount
		return c, nil
	}
	pct := *in.PercentOff
	num, den, ok := percent(pct)
	if !ok || pct.Sign() <= 0 || pct.GreaterThan(hundred) || c.amount != 0 {
		return c, badInstrument(in, "percent_off %s must be above 0 and at most 100, and not together with an amount", pct)
	}
	c.pctNum, c.pctDen = num, den
	return c, nil
}

var hundred = decimal.NewFromInt(100)

// candAmounts reads the instrument's amounts into c, in units.
func (p *pricing) candAmounts(in *voucher.Instrument, tp *typePlan, c *cand) error {
	var err error
	if c.amount, err = p.units(in.ID, "amount", in.Amount); err != nil {
		return err
	}
	if tp.t.Kind == voucher.Deduction {
		if c.balance, err = p.units(in.ID, "balance", in.CurrentBalance()); err != nil {
			return err
		}
		if c.held, err = p.units(in.ID, "held", in.Held); err != nil {
			return err
		}
	}
	if in.MaxDiscount != nil {
		if c.maxDisc, err = p.units(in.ID, "max_discount", *in.MaxDiscount); err != nil {
			return err
		}
	}
	if in.MinSpend != nil {
		if c.minSpend, err = p.units(in.ID, "min_spend", *in.MinSpend); err != nil {
			return err
		}
	}
	return nil
}

// scopeSize is how many products in the instrument's scope its type may cover;
// math.MaxInt when it has no scope of its own.
func scopeSize(in *voucher.Instrument, tp *typePlan) int {
	if in.Products == nil {
		return math.MaxInt
	}
	n := 0
	for k, prod := range in.Products {
		if !tp.never[prod] && !slices.Contains(in.ExcludeProducts, prod) && !slices.Contains(in.Products[:k], prod) {
			n++
		}
	}
	return n
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

// scope is an instrument's scope over the order's products, as markScope marks it: with
// all, every product but prods; else prods. Each product of prods is marked g, once.
type scope struct {
	g     uint32
	all   bool
	prods []int32
}

// has reports whether product k is in the scope.
func (s scope) has(p *pricing, k int32) bool { return (p.mark[k] == s.g) != s.all }

// nextGen starts a new marking of products: no product is marked with what it returns.
func (p *pricing) nextGen() uint32 {
	p.gen++
	if p.gen == 0 {
		clear(p.mark)
		p.gen = 1
	}
	return p.gen
}

// markScope marks c's scope among the order's products: a product is in scope unless the
// type never covers it or the instrument excludes it, and, when the instrument lists
// products, only if it lists it. It costs O(products the instrument and its type name),
// whatever the number of lines.
func (p *pricing) markScope(c *cand) scope {
	in := &p.insts[c.idx]
	g := p.nextGen()
	list := p.scopeBuf[:0]
	if len(in.Products) == 0 {
		for _, names := range [2][]string{c.tp.t.NeverCovers, in.ExcludeProducts} {
			for _, name := range names {
				if k, ok := p.prodOf(name); ok && p.mark[k] != g {
					p.mark[k] = g
					list = append(list, k)
				}
			}
		}
		return scope{g: g, all: true, prods: list}
	}
	for _, name := range in.ExcludeProducts {
		if k, ok := p.prodOf(name); ok {
			p.mark[k] = g
		}
	}
	g2 := p.nextGen()
	for _, name := range in.Products {
		k, ok := p.prodOf(name)
		if !ok || p.mark[k] == g || p.mark[k] == g2 || c.tp.never[name] {
			continue
		}
		p.mark[k] = g2
		list = append(list, k)
	}
	return scope{g: g2, prods: list}
}

// scopePayable is what is still payable on c's in-scope lines that it reaches, how
// many lines are in scope (on a bill: charges of any account), and how many of those
// it reaches, from the per-product sums.
func (p *pricing) scopePayable(c *cand) (pay int64, inScope, reached int) {
	s := p.markScope(c)
	var sum int64
	n := 0
	for _, k := range s.prods {
		sum += p.prodPay[k]
		n += int(p.prodStart[k+1] - p.prodStart[k])
	}
	if s.all {
		sum, n = p.totalPay-sum, len(p.lineProd)-n
	}
	if p.bill == nil {
		return sum, n, n
	}
	pay, reached = p.bill.scopeReach(p, c, s)
	return pay, n, reached
}

// scopeLines returns c's in-scope lines that still have something payable, in line
// order, and what is payable on each (scratch: valid until the next call).
func (p *pricing) scopeLines(c *cand) ([]int32, []int64) {
	if p.bill != nil {
		return p.bill.scopeLines(p, c)
	}
	s := p.markScope(c)
	idx, w := p.gather[:0], p.weights[:0]
	if !s.all {
		n := 0
		for _, k := range s.prods {
			n += int(p.prodStart[k+1] - p.prodStart[k])
		}
		// Few lines in scope: take them from their products (and sort them, when
		// they come from several) rather than pass over every line.
		if len(s.prods) <= 1 || n <= len(p.lineProd)/8 {
			for _, k := range s.prods {
				for _, li := range p.linesOf(k) {
					if p.payable[li] > 0 {
						idx = append(idx, li)
					}
				}
			}
			if len(s.prods) > 1 {
				slices.Sort(idx)
			}
			for _, li := range idx {
				w = append(w, p.payable[li])
			}
			return idx, w
		}
	}
	// Every line is written and kept or not, so that the loop does not branch on it.
	idx, w = idx[:len(p.lineProd)], w[:len(p.lineProd)]
	m := 0
	for li, k := range p.lineProd {
		pay := p.payable[li]
		idx[m], w[m] = int32(li), pay
		if pay > 0 && s.has(p, k) {
			m++
		}
	}
	return idx[:m], w[:m]
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

// money is u units in the rule set's currency.
func (p *pricing) money(u int64) voucher.Money { return voucher.MoneyFromUnits(u, p.e.cur) }

func (p *pricing) fmtUnits(u int64) string { return p.money(u).Format() }

func (p *pricing) runStage(si int) error {
	st := &p.e.stages[si]
	explicit, err := p.collect(si)
	if err != nil {
		return err
	}
	p.sortCandidates(explicit)
	if p.e.trace {
		note := st.notes[0]
		if p.o.AutoSelect() {
			note = st.notes[1]
		}
		p.trace = append(p.trace, voucher.TraceEntry{Stage: st.name, Event: "stage", Note: note})
	}
	var appliedBuf [8]int
	applied := appliedBuf[:] // per type of this stage: how many applied
	if len(st.types) > len(appliedBuf) {
		applied = make([]int, len(st.types))
	}
	for _, k := range p.order {
		c := &p.cands[k]
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
			sp, _, _ := p.scopePayable(c)
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

// collect makes the candidates of stage si: those use and codes name, in their order,
// then (automatic selection) every instrument of the stage that selection considers.
// It returns how many are explicit.
func (p *pricing) collect(si int) (int, error) {
	inStage := func(i int) (*typePlan, bool) {
		tp := p.tps[i]
		return tp, tp != nil && tp.stage == si
	}
	cands := p.cands[:0]
	for _, i := range p.useIdx {
		if tp, ok := inStage(i); ok {
			c, err := p.newCand(i, tp, true)
			if err != nil {
				return 0, err
			}
			cands = append(cands, c)
		}
	}
	for k, i := range p.codeIdx {
		if tp, ok := inStage(i); ok {
			c, err := p.newCand(i, tp, true)
			if err != nil {
				return 0, err
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
			if !ok || tp.t.TypedCode || in.PendingActivation || !p.candidateOwner(in) {
				continue
			}
			c, err := p.newCand(i, tp, false)
			if err != nil {
				return 0, err
			}
			cands = append(cands, c)
		}
	}
	p.cands = cands
	return explicit, nil
}

// sortCandidates lays out the order candidates are visited in: explicit ones as
// chosen, automatic ones sorted by their type's selection keys (sorting indices, not
// the structs).
func (p *pricing) sortCandidates(explicit int) {
	cands := p.cands
	order := p.order[:0]
	for k := range cands {
		order = append(order, int32(k))
	}
	p.order = order
	if autos := order[explicit:]; len(autos) > 1 {
		for _, k := range autos {
			c := &cands[k]
			if c.tp.needTake {
				sp, _, _ := p.scopePayable(c)
				c.take = p.wouldTake(c, sp)
			}
		}
		slices.SortFunc(autos, func(a, b int32) int { return p.compare(&cands[a], &cands[b]) })
	}
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
			r = cmpTime(a.expires, b.expires)
		case SortIssuedAsc:
			r = cmpTime(ia.IssuedAt, ib.IssuedAt)
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

// cmpTime puts earlier times first and absent ones (an instrument that never expires,
// or whose issue time is not known) last.
func cmpTime(a, b *time.Time) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	return a.Compare(*b)
}

// check runs the spec's checks in order; the first that fails is the reason.
func (p *pricing) check(c *cand) (voucher.Reason, string, string) {
	if reason, detail, hint := p.checkState(c); reason != "" {
		return reason, detail, hint
	}
	return p.checkOrder(c)
}

// checkState runs the checks of the instrument itself: owner, used up, expired,
// pending activation, held, not yet effective, currency.
func (p *pricing) checkState(c *cand) (voucher.Reason, string, string) {
	in := &p.insts[c.idx]
	tp := c.tp
	if in.Account != "" && !p.buyer(in.Account) && !tp.t.TypedCode {
		return voucher.ReasonNotOwner, "belongs to another account", ""
	}
	if detail, used := p.usedUp(c); used {
		return voucher.ReasonUsedUp, detail, ""
	}
	if c.expires != nil && !p.at.Before(*c.expires) {
		return voucher.ReasonExpired, "expired at " + c.expires.Format(time.RFC3339), ""
	}
	if in.PendingActivation {
		return voucher.ReasonPendingActivation, "activate its code first", "activate code " + in.Code + " on this account"
	}
	deduction := tp.t.Kind == voucher.Deduction
	held := !deduction && in.Redeemed+in.HeldRedemptions >= in.Redemptions() ||
		deduction && (c.foreign && in.Available().Sign() <= 0 || !c.foreign && c.avail <= 0)
	if held {
		return voucher.ReasonHeld, "what is left is held by other orders' reservations", ""
	}
	if eff := in.EffectiveFrom(tp.policy); eff != nil && p.at.Before(*eff) {
		return voucher.ReasonNotYetEffective, "effective from " + eff.Format(time.RFC3339), ""
	}
	if c.foreign {
		return voucher.ReasonCurrencyMismatch, fmt.Sprintf("instrument is in %s, the order in %s", in.Currency, p.e.cur.Code()), ""
	}
	return "", "", ""
}

// usedUp reports whether c's instrument has nothing left, and why.
func (p *pricing) usedUp(c *cand) (string, bool) {
	in := &p.insts[c.idx]
	deduction := c.tp.t.Kind == voucher.Deduction
	switch {
	case in.Revoked:
		return "revoked", true
	case !deduction && in.Redeemed >= in.Redemptions():
		return fmt.Sprintf("all %d redemptions used", in.Redemptions()), true
	case deduction && c.foreign && in.CurrentBalance().Sign() <= 0:
		return "balance is " + in.CurrentBalance().String(), true
	case deduction && !c.foreign && c.balance <= 0:
		return "balance is " + p.fmtUnits(c.balance), true
	}
	return "", false
}

// checkOrder runs the checks of the instrument against the order: order type, payment
// type, first purchase, product scope, sharing, minimum spend.
func (p *pricing) checkOrder(c *cand) (voucher.Reason, string, string) {
	in := &p.insts[c.idx]
	tp := c.tp
	o := p.o
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
	sp, n, reached := p.scopePayable(c)
	if n == 0 {
		scope := "every product"
		if len(in.Products) > 0 {
			scope = strings.Join(in.Products, ", ")
		}
		return voucher.ReasonProductScope, "no line is in its scope (" + scope + ")", ""
	}
	if reached == 0 {
		return voucher.ReasonNotShared, p.notShared(c), ""
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

// apply spreads take over c's in-scope lines by its type's allocation rule and records
// it. It costs O(n log n) at worst for the n lines in scope (O(n) on average): one
// selection or heap over them, never a pass per unit or per line taken.
func (p *pricing) apply(st *stagePlan, c *cand, take int64) error {
	var idx []int32
	var share []int64
	switch c.tp.t.Allocation {
	case AllocSpendDesc:
		var given int64
		if idx, share, given = p.spendDesc(c, take); given != take {
			return fmt.Errorf("rules: cannot allocate %d units by spend: %d given", take, given)
		}
	case AllocLargestLineFirst:
		var w []int64
		idx, w = p.scopeLines(c)
		share = p.share[:len(idx)]
		if given, ok := p.split.LargestFirst(take, w, share); !ok || given != take {
			return fmt.Errorf("rules: cannot allocate %d units over %d lines largest first", take, len(w))
		}
	default:
		var w []int64
		idx, w = p.scopeLines(c)
		share = p.share[:len(idx)]
		if !p.split.Proportional(take, w, share) {
			return fmt.Errorf("rules: cannot allocate %d units over %d lines in proportion", take, len(w))
		}
	}
	// Keep only the lines that take something, in place and without a branch on it.
	taken := 0
	for k, s := range share {
		idx[taken], share[taken] = idx[k], s
		if s != 0 {
			taken++
		}
	}
	in := &p.insts[c.idx]
	deduction := c.tp.t.Kind == voucher.Deduction
	lines := make([]voucher.LineAmount, taken)
	for k, s := range share[:taken] {
		li := idx[k]
		p.payable[li] -= s
		p.prodPay[p.lineProd[li]] -= s
		p.totalPay -= s
		if p.bill != nil {
			p.bill.pay(p, li, s)
		}
		if deduction {
			p.deducted[li] += s
			if !c.tp.t.Invoiceable {
				p.nonInv[li] += s
			}
		} else {
			p.discount[li] += s
		}
		lines[k] = voucher.LineAmount{LineID: p.o.Lines[li].ID, Amount: p.money(s)}
	}
	if p.apps == nil {
		p.apps = make([]voucher.Application, 0, min(len(p.cands), 8))
	}
	p.apps = append(p.apps, voucher.Application{InstrumentID: in.ID, Key: c.key, Account: in.Account, Type: in.Type, Stage: st.name,
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

// done returns the quote and gives p back to pricings, zeroed but for the capacity of
// its scratch buffers, where they are small: the quote keeps what it was given
// (applications, rejections, trace), none of p's own buffers.
func (p *pricing) done() *voucher.Quote {
	q := p.quote()
	var keep pricing
	if cap(p.cands) <= keptScratch && cap(p.tps) <= keptScratch && cap(p.lineBuf) <= 8*keptScratch {
		clear(p.cands[:cap(p.cands)]) // no pointer into this quote's instruments stays
		clear(p.tps[:cap(p.tps)])
		keep.cands, keep.order, keep.lineBuf, keep.tps = p.cands[:0], p.order[:0], p.lineBuf[:0], p.tps[:0]
	}
	*p = keep
	pricings.Put(p)
	return q
}

// keptScratch bounds the instruments, and lines, whose scratch a pooled pricing keeps.
const keptScratch = 64

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
		q.Lines[li] = voucher.LineQuote{LineID: l.ID, Product: l.Product, SKU: l.SKU, Figures: p.figures(f)}
		if p.bill != nil {
			q.Lines[li].Account = p.bill.accts[p.bill.lineAcct[li]]
		}
		for k := range tot {
			tot[k] += f[k]
		}
	}
	q.Figures = p.figures(tot)
	if p.bill != nil {
		q.Accounts = p.bill.accountFigures(p)
	}
	return q
}

// figures turns {total, discount, deducted, cash, non-invoiceable} units into Figures.
func (p *pricing) figures(f [5]int64) voucher.Figures {
	total := p.money(f[0])
	// Most lines pay their total in cash and invoice all of it: one value for the three.
	same := func(u int64) voucher.Money {
		if u == f[0] {
			return total
		}
		return p.money(u)
	}
	return voucher.Figures{Total: total, Discount: p.money(f[1]), Deducted: p.money(f[2]),
		Cash: same(f[3]), Invoiceable: same(f[0] - f[1] - f[4]), NonInvoiceable: p.money(f[4])}
}
