package simulate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/voucherkit/voucherkit/internal/excerpt"
	"github.com/voucherkit/voucherkit/voucher"
)

// Interval is how often burn-down balances are sampled.
type Interval string

// The sampling intervals.
const (
	Daily   Interval = "day"
	Monthly Interval = "month"
)

// ParseInterval reads "day" or "month".
func ParseInterval(s string) (Interval, error) {
	switch i := Interval(s); i {
	case Daily, Monthly:
		return i, nil
	}
	return "", fmt.Errorf("simulate: unknown sample interval %s: want day or month", excerpt.Quote(s))
}

// RuleSet is one rule set to simulate under, with the wallet it starts from.
type RuleSet struct {
	// Name labels the rule set in the report.
	Name string
	// Pricer prices under the rule set (a *rules.Engine); bills need a
	// voucher.BillPricer.
	Pricer voucher.Pricer
	// ID is the rule set's "name@version" for the report; empty: Name.
	ID string
	// Instruments are granted at the start, each on its owner's account.
	Instruments []voucher.Instrument
	// Skipped lists wallet entries left out (shown in the report).
	Skipped []string
}

// Options configures Run. The zero Options samples monthly in UTC and keeps the ten
// items that changed most.
type Options struct {
	// Organizations are stored in every wallet at the start (bills of organizations
	// need them).
	Organizations []voucher.Organization
	// Sample is how often balances are sampled (default Monthly).
	Sample Interval
	// Location is the zone of days and months (default UTC).
	Location *time.Location
	// Top is how many changed items the report keeps (default 10; negative: none).
	Top int
	// Start is when the wallets are filled; zero: the first item's time (a bill's:
	// its period's start). It must not be after the first item.
	Start time.Time
	// NewStore makes each rule set's store; nil: an in-memory store that keeps no
	// history (no committed quotes, no ledger), so that memory does not grow with the
	// number of items beyond their ids. store/memory keeps everything.
	NewStore func() voucher.Store
	// Ledger, when set, receives every rule set's ledger entries as they commit; the
	// slice is valid only during the call.
	Ledger func(ruleSet string, entries []voucher.LedgerEntry)
	// Progress, when set, is called with the number of items done, every 4096 items
	// and at the end.
	Progress func(items int64)
}

// ErrEmpty reports a stream with no item.
var ErrEmpty = errors.New("simulate: the stream has no order and no bill")

// Run runs the stream through a fresh wallet per rule set, item by item and in
// lockstep (each rule set's wallet in a goroutine of its own, the stream read ahead in
// another), and reports each rule set's figures side by side. Items must come in time
// order (a bill at its period's last instant). An item a rule set refuses (a step
// error: invalid_order, currency_mismatch, duplicate_order, ...) is counted, not
// fatal; an input error, a store error or a context cancellation stops the run.
func Run(ctx context.Context, src Source, sets []RuleSet, opts Options) (*Report, error) {
	opts = withDefaults(opts)
	if err := checkSets(sets); err != nil {
		return nil, err
	}
	first, err := src.Next()
	if errors.Is(err, io.EOF) {
		return nil, ErrEmpty
	}
	if err != nil {
		return nil, err
	}
	start := opts.Start
	if start.IsZero() {
		start = first.begin()
	}
	if first.Time().Before(start) {
		return nil, inputErr(first.Pos, "%s is before the start %s", first.Time().Format(time.RFC3339), start.Format(time.RFC3339))
	}
	s, err := newSimulation(ctx, sets, opts, start)
	if err != nil {
		return nil, err
	}
	if err := s.drive(ctx, first, src); err != nil {
		return nil, err
	}
	return s.finish(ctx)
}

func withDefaults(o Options) Options {
	if l := o.Ledger; l != nil { // the rule sets' workers commit concurrently: one call at a time
		var mu sync.Mutex
		o.Ledger = func(rs string, es []voucher.LedgerEntry) {
			mu.Lock()
			defer mu.Unlock()
			l(rs, es)
		}
	}
	if o.Sample == "" {
		o.Sample = Monthly
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.Top == 0 {
		o.Top = 10
	}
	return o
}

func checkSets(sets []RuleSet) error {
	if len(sets) == 0 {
		return errors.New("simulate: no rule set to simulate under")
	}
	seen := map[string]bool{}
	for _, s := range sets {
		if s.Pricer == nil {
			return fmt.Errorf("simulate: rule set %s has no pricer", excerpt.Quote(s.Name))
		}
		if seen[s.Name] {
			return fmt.Errorf("simulate: rule set %s is named twice", excerpt.Quote(s.Name))
		}
		seen[s.Name] = true
	}
	return nil
}

// simulation is a run in progress.
type simulation struct {
	opts    Options
	runners []*runner
	rep     *Report
	last    time.Time
	// nextSample is the next sample boundary; samples the sample times so far.
	nextSample time.Time
	samples    []time.Time
	changes    *topChanges
	workers    []*worker
}

func newSimulation(ctx context.Context, sets []RuleSet, opts Options, start time.Time) (*simulation, error) {
	s := &simulation{opts: opts, last: start, changes: newTopChanges(opts.Top, len(sets)),
		rep: &Report{Start: start, Sample: opts.Sample, Location: opts.Location.String(), loc: opts.Location}}
	for _, set := range sets {
		r, err := newRunner(ctx, set, opts, start)
		if err != nil {
			return nil, err
		}
		s.runners = append(s.runners, r)
		s.rep.RuleSets = append(s.rep.RuleSets, r.rep)
	}
	s.sample(start)
	s.nextSample = s.boundaryAfter(start)
	return s, nil
}

// samplesUpTo takes the samples whose boundary is at or before t.
func (s *simulation) samplesUpTo(ctx context.Context, t time.Time) error {
	for !s.nextSample.After(t) {
		b := s.nextSample
		for _, r := range s.runners {
			if err := r.sweep(ctx, b); err != nil {
				return err
			}
		}
		s.sample(b)
		s.nextSample = s.boundaryAfter(b)
	}
	return nil
}

func (s *simulation) sample(at time.Time) {
	s.samples = append(s.samples, at)
	for _, r := range s.runners {
		r.track.snapshot(len(s.samples) - 1)
	}
}

// boundaryAfter is the first day or month start after t.
func (s *simulation) boundaryAfter(t time.Time) time.Time {
	d := day(t, s.opts.Location)
	if s.opts.Sample == Daily {
		return d.AddDate(0, 0, 1)
	}
	return time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, d.Location()).AddDate(0, 1, 0)
}

func day(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, loc)
}

// finish sweeps to the last item's time, takes the last sample and completes the report.
func (s *simulation) finish(ctx context.Context) (*Report, error) {
	for _, r := range s.runners {
		if err := r.sweep(ctx, s.last); err != nil {
			return nil, err
		}
	}
	if s.last.After(s.samples[len(s.samples)-1]) {
		s.sample(s.last)
	}
	s.rep.End = s.last
	for _, r := range s.runners {
		r.finish(s.samples)
	}
	s.rep.Changed = s.changes.result()
	if s.opts.Progress != nil {
		s.opts.Progress(s.rep.Items)
	}
	return s.rep, nil
}
