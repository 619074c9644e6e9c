package simulate

import (
	"container/heap"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"github.com/voucherkit/voucherkit/voucher"
)

// tracker follows each deduction instrument's usable balance through the ledger
// entries its wallet commits, and sums what expired and what was forfeited.
type tracker struct {
	cur    voucher.Currency
	idx    map[string]int
	insts  []instState
	months *months
	// granted, breakage and forfeited are in units of cur's scale.
	granted, breakage, forfeited sum
}

type instState struct {
	id, typ, account, currency string
	scale                      int32
	expires                    *time.Time
	opening                    int64
	usable                     int64
	points                     []unitPoint
}

type unitPoint struct {
	sample int32
	units  int64
}

func newTracker(cur voucher.Currency, m *months) *tracker {
	return &tracker{cur: cur, idx: map[string]int{}, months: m}
}

// add registers an instrument about to be granted; only deductions are followed.
func (t *tracker) add(in voucher.Instrument, pol voucher.TypePolicy) {
	if pol.Kind != voucher.Deduction {
		return
	}
	code := in.Currency
	if code == "" {
		code = t.cur.Code()
	}
	cur, err := voucher.LookupCurrency(code)
	if err != nil || code == t.cur.Code() {
		cur = t.cur
	}
	t.idx[in.ID] = len(t.insts)
	t.insts = append(t.insts, instState{id: in.ID, typ: in.Type, account: in.Account, currency: cur.Code(),
		scale: cur.Scale(), expires: in.ExpiresOn(pol)})
}

// entries reads committed ledger entries.
func (t *tracker) entries(es []voucher.LedgerEntry) {
	for i := range es {
		e := &es[i]
		k, ok := t.idx[e.Instrument]
		if !ok {
			continue
		}
		st := &t.insts[k]
		inCur := st.currency == t.cur.Code()
		switch e.Kind {
		case voucher.EntryGrant:
			st.opening = units(e.BalanceAfter)
			st.usable = st.opening - units(e.HeldAfter)
			if inCur {
				t.granted.add(st.opening)
			}
			continue
		case voucher.EntryExpire:
			st.usable = 0
			if inCur {
				t.breakage.add(units(e.Amount))
				t.months.breakage(e.At, units(e.Amount))
			}
			continue
		case voucher.EntryForfeit, voucher.EntryRefundForfeit:
			if inCur {
				t.forfeited.add(units(e.Amount))
			}
		}
		if st.expires == nil || e.At.Before(*st.expires) {
			st.usable = units(e.BalanceAfter) - units(e.HeldAfter)
		}
	}
}

// snapshot records each instrument's usable balance at sample k, where it changed.
func (t *tracker) snapshot(k int) {
	for i := range t.insts {
		st := &t.insts[i]
		if n := len(st.points); n == 0 || st.points[n-1].units != st.usable {
			st.points = append(st.points, unitPoint{sample: int32(k), units: st.usable})
		}
	}
}

// report fills the rule set's breakage, forfeits, unused balance and burn-down.
func (t *tracker) report(rep *RuleSetReport, samples []time.Time) {
	scale := t.cur.Scale()
	rep.Granted = t.granted.value(scale)
	rep.Breakage = t.breakage.value(scale)
	rep.ForfeitedOnUse = t.forfeited.value(scale)
	totals := make([]sum, len(samples))
	var unused sum
	bd := BurnDown{Times: samples, Instruments: make([]InstrumentBurn, 0, len(t.insts))}
	for i := range t.insts {
		st := &t.insts[i]
		ib := InstrumentBurn{ID: st.id, Type: st.typ, Account: st.account, Currency: st.currency,
			Opening: decimal.New(st.opening, -st.scale), Expires: st.expires, Points: make([]Point, len(st.points))}
		for j, p := range st.points {
			ib.Points[j] = Point{Sample: int(p.sample), Balance: decimal.New(p.units, -st.scale)}
		}
		bd.Instruments = append(bd.Instruments, ib)
		if st.currency != t.cur.Code() {
			continue
		}
		unused.add(st.usable)
		for j, p := range st.points {
			end := len(samples)
			if j+1 < len(st.points) {
				end = int(st.points[j+1].sample)
			}
			for k := int(p.sample); k < end; k++ {
				totals[k].add(p.units)
			}
		}
	}
	rep.Unused = unused.value(scale)
	bd.Total = make([]decimal.Decimal, len(samples))
	for k := range totals {
		bd.Total[k] = totals[k].value(scale)
	}
	rep.BurnDown = bd
}

// months sums figures per calendar month in a location.
type months struct {
	loc   *time.Location
	scale int32
	by    map[string]*monthSums
	// cur caches the month of the last item: [from, to) is keyed key.
	from, to time.Time
	key      string
}

type monthSums struct {
	list, discount, deducted, cash, breakage sum
}

func newMonths(loc *time.Location, scale int32) *months {
	return &months{loc: loc, scale: scale, by: map[string]*monthSums{}}
}

func (m *months) get(t time.Time) *monthSums {
	if t.Before(m.from) || !t.Before(m.to) {
		y, mo, _ := t.In(m.loc).Date()
		m.from = time.Date(y, mo, 1, 0, 0, 0, 0, m.loc)
		m.to = m.from.AddDate(0, 1, 0)
		m.key = m.from.Format("2006-01")
	}
	s, ok := m.by[m.key]
	if !ok {
		s = &monthSums{}
		m.by[m.key] = s
	}
	return s
}

func (m *months) add(t time.Time, f *voucher.Figures) {
	s := m.get(t)
	s.list.add(units(f.Total))
	s.discount.add(units(f.Discount))
	s.deducted.add(units(f.Deducted))
	s.cash.add(units(f.Cash))
}

func (m *months) breakage(t time.Time, units int64) {
	m.get(t).breakage.add(units)
}

func (m *months) list() []Month {
	out := make([]Month, 0, len(m.by))
	for k, s := range m.by {
		out = append(out, Month{Month: k, List: s.list.value(m.scale), Discount: s.discount.value(m.scale),
			Deducted: s.deducted.value(m.scale), Cash: s.cash.value(m.scale), Breakage: s.breakage.value(m.scale)})
	}
	slices.SortFunc(out, func(a, b Month) int { return strings.Compare(a.Month, b.Month) })
	return out
}

// topChanges keeps the items whose cash differs most between rule sets.
type topChanges struct {
	n    int
	cash []*voucher.Money
	h    changeHeap
}

func newTopChanges(n, sets int) *topChanges {
	return &topChanges{n: n, cash: make([]*voucher.Money, sets)}
}

func (c *topChanges) set(k int, cash *voucher.Money) { c.cash[k] = cash }

// offer considers the item just priced (its cash under each rule set set by set).
func (c *topChanges) offer(idx int64, it *Item) {
	if c.n <= 0 || len(c.cash) < 2 {
		return
	}
	var lo, hi *voucher.Money
	for _, m := range c.cash {
		if m == nil {
			continue
		}
		if lo == nil || m.Amount().LessThan(lo.Amount()) {
			lo = m
		}
		if hi == nil || m.Amount().GreaterThan(hi.Amount()) {
			hi = m
		}
	}
	if lo == nil || !hi.Amount().GreaterThan(lo.Amount()) {
		return
	}
	spread := hi.Amount().Sub(lo.Amount())
	if len(c.h) == c.n && !better(spread, idx, c.h[0].Spread, c.h[0].Index) {
		return
	}
	ch := Change{Index: idx, ID: it.ID(), Account: it.Account(), At: it.Time(), Spread: spread, Cash: make([]*decimal.Decimal, len(c.cash))}
	for k, m := range c.cash {
		if m != nil {
			d := m.Amount()
			ch.Cash[k] = &d
		}
	}
	heap.Push(&c.h, ch)
	if len(c.h) > c.n {
		heap.Pop(&c.h)
	}
}

// better orders changes: a larger spread first, then the earlier item.
func better(s1 decimal.Decimal, i1 int64, s2 decimal.Decimal, i2 int64) bool {
	if c := s1.Cmp(s2); c != 0 {
		return c > 0
	}
	return i1 < i2
}

func (c *topChanges) result() []Change {
	out := make([]Change, len(c.h))
	for i := len(out) - 1; i >= 0; i-- {
		out[i] = heap.Pop(&c.h).(Change)
	}
	return out
}

// changeHeap is a min-heap: the worst kept change on top.
type changeHeap []Change

func (h changeHeap) Len() int { return len(h) }
func (h changeHeap) Less(i, j int) bool {
	return better(h[j].Spread, h[j].Index, h[i].Spread, h[i].Index)
}
func (h changeHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *changeHeap) Push(x any)   { *h = append(*h, x.(Change)) }
func (h *changeHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// units is m in smallest units. Every amount a wallet reports is within the range
// voucherkit holds (voucher.Currency.MaxAmount), so one outside it is a broken
// invariant, not an input to report.
func units(m voucher.Money) int64 {
	u, ok := m.Units()
	if !ok {
		panic("simulate: an amount out of voucherkit's range: " + m.String())
	}
	return u
}
