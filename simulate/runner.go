package simulate

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/shopspring/decimal"
	"github.com/voucherkit/voucherkit/internal/excerpt"
	"github.com/voucherkit/voucherkit/store/memory"
	"github.com/voucherkit/voucherkit/voucher"
)

// maxExamples is how many refused items a rule set's report shows.
const maxExamples = 5

// runner is one rule set's wallet and running figures.
type runner struct {
	name  string
	w     *voucher.Wallet
	scale int32
	rep   *RuleSetReport
	track *tracker
	// expiries are the deduction instruments' expiry times, sorted; next indexes the
	// first not yet swept past.
	expiries []time.Time
	next     int
	totals   [6]sum
	months   *months
	// lastSweepDay is the day (in the report's location) of the last daily sweep.
	lastSweepDay time.Time
	loc          *time.Location
}

func newRunner(ctx context.Context, set RuleSet, opts Options, start time.Time) (*runner, error) {
	cur := set.Pricer.Currency()
	id := set.ID
	if id == "" {
		id = set.Name
	}
	r := &runner{name: set.Name, scale: cur.Scale(), months: newMonths(opts.Location, cur.Scale()),
		lastSweepDay: day(start, opts.Location), loc: opts.Location,
		rep: &RuleSetReport{Name: set.Name, RuleSet: id, Currency: cur.Code(), Scale: cur.Scale(), Skipped: set.Skipped,
			Refused: map[string]int64{}, Rejections: map[voucher.Reason]int64{}}}
	r.track = newTracker(cur, r.months)
	store := voucher.Store(memory.New(memory.WithoutHistory()))
	if opts.NewStore != nil {
		store = opts.NewStore()
	}
	sink := r.track.entries
	if opts.Ledger != nil {
		sink = func(es []voucher.LedgerEntry) {
			r.track.entries(es)
			opts.Ledger(set.Name, es)
		}
	}
	r.w = voucher.NewWallet(set.Pricer, &observed{Store: store, sink: sink})
	for _, o := range opts.Organizations {
		if err := r.w.PutOrganization(ctx, o, start); err != nil {
			return nil, fmt.Errorf("simulate: %s: organization %s: %w", excerpt.Show(set.Name), excerpt.Quote(o.ID), err)
		}
	}
	for _, in := range set.Instruments {
		pol, ok := set.Pricer.Policy(in.Type)
		if !ok {
			return nil, fmt.Errorf("simulate: %s: instrument %s: unknown type %s", excerpt.Show(set.Name), excerpt.Quote(in.ID), excerpt.Quote(in.Type))
		}
		r.track.add(in, pol)
		if err := r.w.Grant(ctx, in, start); err != nil {
			return nil, fmt.Errorf("simulate: %s: %w", excerpt.Show(set.Name), err)
		}
		if exp := in.ExpiresOn(pol); exp != nil && pol.Kind == voucher.Deduction {
			r.expiries = append(r.expiries, *exp)
		}
	}
	slices.SortFunc(r.expiries, func(a, b time.Time) int { return a.Compare(b) })
	r.rep.Instruments = len(set.Instruments)
	return r, nil
}

// sweep records the expiries due by t (Wallet.Expire), when one is.
func (r *runner) sweep(ctx context.Context, t time.Time) error {
	if r.next >= len(r.expiries) || r.expiries[r.next].After(t) {
		return nil
	}
	if _, err := r.w.Expire(ctx, t); err != nil {
		return fmt.Errorf("simulate: %s: expiry sweep at %s: %w", excerpt.Show(r.name), t.Format(time.RFC3339), err)
	}
	for r.next < len(r.expiries) && !r.expiries[r.next].After(t) {
		r.next++
	}
	return nil
}

// apply checks out an order or settles a bill, and adds its figures; it returns the
// item's cash, or nil when the rule set refused it. On the first item of a day it
// first sweeps the expiries due (at most one sweep a day).
func (r *runner) apply(ctx context.Context, it *Item) (*voucher.Money, error) {
	if d := day(it.Time(), r.loc); d.After(r.lastSweepDay) {
		r.lastSweepDay = d
		if err := r.sweep(ctx, it.Time()); err != nil {
			return nil, err
		}
	}
	var q *voucher.Quote
	var err error
	if it.Bill != nil {
		var res *voucher.SettleResult
		if res, err = r.w.Settle(ctx, *it.Bill); err == nil {
			q = res.Quote
		}
	} else {
		q, err = r.w.Checkout(ctx, *it.Order, it.At)
	}
	if err != nil {
		code := voucher.ErrorCode(err)
		if code == "" {
			return nil, fmt.Errorf("simulate: %s: %s %s: %w", excerpt.Show(r.name), it.Pos, excerpt.Quote(it.ID()), err)
		}
		r.rep.Refused[code]++
		if len(r.rep.Examples) < maxExamples {
			r.rep.Examples = append(r.rep.Examples, Refusal{Item: excerpt.Show(it.ID()), Pos: it.Pos, Code: code, Message: err.Error()})
		}
		return nil, nil
	}
	r.rep.Priced++
	f := &q.Figures
	for i, m := range []voucher.Money{f.Total, f.Discount, f.Deducted, f.Cash, f.Invoiceable, f.NonInvoiceable} {
		r.totals[i].add(units(m))
	}
	r.months.add(it.Time(), f)
	for _, rej := range q.Rejections {
		r.rep.Rejections[rej.Reason]++
	}
	cash := f.Cash
	return &cash, nil
}

func (r *runner) finish(samples []time.Time) {
	t := &r.rep.Totals
	for i, p := range []*decimal.Decimal{&t.List, &t.Discount, &t.Deducted, &t.Cash, &t.Invoiceable, &t.NonInvoiceable} {
		*p = r.totals[i].value(r.scale)
	}
	r.rep.Months = r.months.list()
	r.track.report(r.rep, samples)
}

// sum adds integer units exactly: what would overflow an int64 spills into a decimal.
type sum struct {
	u     int64
	spill decimal.Decimal
	// spilled: spill holds something; both count units of the caller's scale.
	spilled bool
}

func (s *sum) add(u int64) {
	if (u > 0 && s.u > math.MaxInt64-u) || (u < 0 && s.u < math.MinInt64-u) {
		s.spill = s.spill.Add(decimal.NewFromInt(s.u))
		s.spilled = true
		s.u = 0
	}
	s.u += u
}

// value is the sum as a decimal at scale.
func (s *sum) value(scale int32) decimal.Decimal {
	units := decimal.NewFromInt(s.u)
	if s.spilled {
		units = units.Add(s.spill)
	}
	if units.IsZero() {
		return decimal.Zero
	}
	return units.Shift(-scale)
}
