package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/voucherkit/voucherkit/voucher"
)

// Load is a concurrent load on one wallet (the aliyun rule set): workers racing on
// shared accounts, vouchers, coupons, one promo code, activation codes and order ids,
// with checkouts, reservations, captures, releases, refunds (with idempotency keys),
// activations, quotes, clock moves and expiry sweeps. Times are the wall clock
// (time.Now, read by the load, never by the library), each worker's strictly
// increasing, so steps of different workers on one account race and some fail
// clock_backwards: that is counted, not an error.
//
// Use: Setup once on an empty store, Run from any number of goroutines or processes
// (each with its own process number), then Check. Its fields travel as JSON to
// helper processes (see Processes).
type Load struct {
	// Accounts is how many accounts every worker steps on (default 8).
	Accounts int `json:"accounts"`
	// Codes is how many activation codes there are (default 2 per account).
	Codes int `json:"codes"`
	// Workers is how many goroutines Run starts (default 16).
	Workers int `json:"workers"`
	// Steps is how many steps each worker makes (default 100).
	Steps int `json:"steps"`
	// Orders is how many order ids the workers draw from, all of them from the same
	// ids, so that they race to commit each one (default Workers*Steps/4).
	Orders int `json:"orders"`
	// OrderPrefix starts every order id, so that a later run of a load on the same
	// store can commit new orders.
	OrderPrefix string `json:"order_prefix"`
	// Span is about how long the load runs: some vouchers and codes expire within it
	// (default 2s).
	Span time.Duration `json:"span"`
	// Hold is the longest reservation hold (default Span); holds are random up to it.
	Hold time.Duration `json:"hold"`
	// Seed seeds each worker's random choices (with its process and worker number).
	Seed uint64 `json:"seed"`
	// Start is when Setup granted the instruments; Run never steps before it.
	Start time.Time `json:"start"`
}

// DefaultLoad is the load Run drives in one process: 16 workers on 8 accounts.
func DefaultLoad() Load { return Load{}.withDefaults() }

func (l Load) withDefaults() Load {
	if l.Accounts <= 0 {
		l.Accounts = 8
	}
	if l.Codes <= 0 {
		l.Codes = 2 * l.Accounts
	}
	if l.Workers <= 0 {
		l.Workers = 16
	}
	if l.Steps <= 0 {
		l.Steps = 100
	}
	if l.Orders <= 0 {
		l.Orders = max(1, l.Workers*l.Steps/4)
	}
	if l.Span <= 0 {
		l.Span = 2 * time.Second
	}
	if l.Hold <= 0 {
		l.Hold = l.Span
	}
	return l
}

// PromoCode is the load's one promo code, shared by every account.
const PromoCode = "PROMO"

// Account is the name of the load's account i.
func Account(i int) string { return fmt.Sprintf("acct-%03d", i) }

// ActivationCode is the code of the load's activation voucher k.
func ActivationCode(k int) string { return fmt.Sprintf("GIFT-%03d", k) }

// OrderID is the load's order id n.
func (l *Load) OrderID(n int) string { return l.OrderPrefix + "o" + strconv.Itoa(n) }

// Instruments returns what Setup grants at start: per account a voucher that never
// expires, one that expires within the span and a coupon of three redemptions; one
// promo code of 5 redemptions per account; the activation vouchers, every other one
// expiring within the span.
func (l Load) Instruments(start time.Time) []voucher.Instrument {
	l = l.withDefaults()
	within := func(k int) *time.Time { return voucher.Ptr(start.Add(l.Span * time.Duration(k%4+1) / 4)) }
	var out []voucher.Instrument
	for i := range l.Accounts {
		a := Account(i)
		out = append(out,
			voucher.Instrument{ID: "v-" + a, Type: "voucher", Account: a, Amount: dec("2000")},
			voucher.Instrument{ID: "e-" + a, Type: "voucher", Account: a, Amount: dec("300"), ExpiresAt: within(i)},
			voucher.Instrument{ID: "c-" + a, Type: "coupon", Account: a, Amount: dec("5"), ClaimedAt: voucher.Ptr(start), MaxRedemptions: voucher.Ptr(3)})
	}
	out = append(out, voucher.Instrument{ID: "promo", Type: "promo_code", Code: PromoCode, PercentOff: voucher.Ptr(dec("10")),
		MaxDiscount: voucher.Ptr(dec("8")), MaxRedemptions: voucher.Ptr(5 * l.Accounts)})
	for k := range l.Codes {
		in := voucher.Instrument{ID: "g-" + strconv.Itoa(k), Type: "voucher", Code: ActivationCode(k), PendingActivation: true, Amount: dec("100")}
		if k%2 == 1 {
			in.ExpiresAt = within(k)
		}
		out = append(out, in)
	}
	return out
}

// Setup grants the load's instruments on an empty store, at l.Start (the zero Start:
// now, which it returns in the Load to give Run and Check).
func (l Load) Setup(ctx context.Context, store voucher.Store, p voucher.Pricer) (Load, error) {
	l = l.withDefaults()
	if l.Start.IsZero() {
		l.Start = time.Now()
	}
	w := voucher.NewWallet(p, store)
	for _, in := range l.Instruments(l.Start) {
		if err := w.Grant(ctx, in, l.Start); err != nil {
			return l, err
		}
	}
	return l, nil
}

// Stats is what one or more runs of a load did.
type Stats struct {
	// Steps is how many steps were made.
	Steps int `json:"steps"`
	// Outcomes counts each action's outcomes: "checkout ok", "capture not_reserved".
	Outcomes map[string]int `json:"outcomes"`
	// Committed counts, per order id, the checkouts and captures that succeeded.
	Committed map[string]int `json:"committed"`
	// Activated counts, per code, the activations that succeeded.
	Activated map[string]int `json:"activated"`
	// ClockBackwards is how many steps failed clock_backwards (a race of two workers
	// on one account).
	ClockBackwards int `json:"clock_backwards"`
	// Unexpected lists the errors no step of the load may return.
	Unexpected []string `json:"unexpected"`
}

func newStats() Stats {
	return Stats{Outcomes: map[string]int{}, Committed: map[string]int{}, Activated: map[string]int{}}
}

// Merge adds o to s.
func (s *Stats) Merge(o Stats) {
	if s.Outcomes == nil {
		*s = newStats()
	}
	s.Steps += o.Steps
	s.ClockBackwards += o.ClockBackwards
	s.Unexpected = append(s.Unexpected, o.Unexpected...)
	for k, v := range o.Outcomes {
		s.Outcomes[k] += v
	}
	for k, v := range o.Committed {
		s.Committed[k] += v
	}
	for k, v := range o.Activated {
		s.Activated[k] += v
	}
}

// expected is, per action, the error codes a step of the load may fail with.
var expected = map[string][]string{
	"checkout": {"duplicate_order"},
	"reserve":  {"duplicate_order"},
	"capture":  {"not_reserved"},
	"release":  {"not_reserved"},
	"refund":   {"unknown_order", "already_refunded", "invalid_refund"},
	"activate": {"code_already_used", "code_expired"},
}

// Run runs l.Workers workers, each making l.Steps steps, as process number process
// (several processes running one load at once need different numbers). progress, if
// not nil, is called after every step with the number of steps made so far.
func (l Load) Run(ctx context.Context, store voucher.Store, p voucher.Pricer, process int, progress func(steps int)) Stats {
	l = l.withDefaults()
	w := voucher.NewWallet(p, store)
	var mu sync.Mutex
	total := newStats()
	recent := &recentIDs{}
	var wg sync.WaitGroup
	for k := range l.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wk := &worker{l: &l, w: w, rng: rand.New(rand.NewPCG(l.Seed, uint64(process)<<32|uint64(k))), stats: newStats(),
				tag: fmt.Sprintf("p%dw%d", process, k), recent: recent}
			for range l.Steps {
				if ctx.Err() != nil {
					break
				}
				wk.step(ctx)
				mu.Lock()
				total.Steps++
				n := total.Steps
				mu.Unlock()
				if progress != nil {
					progress(n)
				}
			}
			mu.Lock()
			wk.stats.Steps = 0
			total.Merge(wk.stats)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return total
}

// worker is one goroutine of a load.
type worker struct {
	l     *Load
	w     *voucher.Wallet
	rng   *rand.Rand
	last  time.Time
	stats Stats
	tag   string
	// recent are order ids the process's workers reserved lately, for captures and
	// releases to race on.
	recent *recentIDs
}

// recentIDs is a small ring of order ids, shared by a process's workers.
type recentIDs struct {
	mu  sync.Mutex
	ids [32]string
	n   int
}

func (r *recentIDs) add(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ids[r.n%len(r.ids)] = id
	r.n++
}

func (r *recentIDs) pick(rng *rand.Rand) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n == 0 {
		return ""
	}
	return r.ids[rng.IntN(min(r.n, len(r.ids)))]
}

// heldID is an order id to capture or release: mostly one reserved lately.
func (wk *worker) heldID() string {
	if id := wk.recent.pick(wk.rng); id != "" && wk.chance(80) {
		return id
	}
	return wk.orderID()
}

// now is the wall clock, strictly after the worker's previous step and never before
// the load's start.
func (wk *worker) now() time.Time {
	t := time.Now()
	if floor := wk.l.Start.Add(time.Nanosecond); t.Before(floor) {
		t = floor
	}
	if !t.After(wk.last) {
		t = wk.last.Add(time.Nanosecond)
	}
	wk.last = t
	return t
}

func (wk *worker) account() string     { return Account(wk.rng.IntN(wk.l.Accounts)) }
func (wk *worker) orderID() string     { return wk.l.OrderID(wk.rng.IntN(wk.l.Orders)) }
func (wk *worker) chance(pct int) bool { return wk.rng.IntN(100) < pct }

// order is a new order of one or two lines on a random account; a third are first
// purchases (the coupons), a fifth type the promo code.
func (wk *worker) order(id string) voucher.Order {
	o := voucher.Order{ID: id, Account: wk.account(), Type: voucher.OrderRenewal, Payment: voucher.PaySubscription}
	if wk.chance(33) {
		o.Type, o.FirstPurchase = voucher.OrderNew, true
	}
	if wk.chance(20) {
		o.Codes = []string{PromoCode}
	}
	if wk.chance(10) {
		o.Payment = voucher.PayAsYouGo
	}
	for i := range 1 + wk.rng.IntN(2) {
		o.Lines = append(o.Lines, voucher.Line{ID: "l" + strconv.Itoa(i+1), Product: []string{"ecs", "oss"}[i],
			Amount: decimal.New(int64(100+wk.rng.IntN(8000)), -2)})
	}
	return o
}

// step makes one random step and records its outcome.
func (wk *worker) step(ctx context.Context) {
	var action string
	var err error
	switch r := wk.rng.IntN(100); {
	case r < 34:
		action = "checkout"
		o := wk.order(wk.orderID())
		if _, err = wk.w.Checkout(ctx, o, wk.now()); err == nil {
			wk.stats.Committed[o.ID]++
		}
	case r < 50:
		action = "reserve"
		hold := time.Duration(1 + wk.rng.Int64N(int64(wk.l.Hold)))
		o := wk.order(wk.orderID())
		if _, err = wk.w.Reserve(ctx, o, wk.now(), hold); err == nil {
			wk.recent.add(o.ID)
		}
	case r < 62:
		action = "capture"
		id := wk.heldID()
		if _, err = wk.w.Capture(ctx, id, wk.now()); err == nil {
			wk.stats.Committed[id]++
		}
	case r < 68:
		action = "release"
		_, err = wk.w.Release(ctx, wk.heldID(), wk.now())
	case r < 84:
		action = "refund"
		_, err = wk.w.Refund(ctx, wk.refund(), wk.now())
	case r < 93:
		action = "activate"
		code := ActivationCode(wk.rng.IntN(wk.l.Codes))
		if _, err = wk.w.Activate(ctx, code, wk.account(), wk.now()); err == nil {
			wk.stats.Activated[code]++
		}
	case r < 97:
		action = "quote"
		_, err = wk.w.Quote(ctx, wk.order(wk.orderID()), wk.now())
	case r < 99:
		action = "advance"
		_, err = wk.w.Advance(ctx, wk.account(), wk.now())
	default:
		action = "expire"
		_, err = wk.w.Expire(ctx, wk.now())
	}
	wk.record(action, err)
}

// refund asks to refund a random order id: every line, one of two lines, with or
// without one of two keys shared by every worker, sometimes with a consumed amount.
func (wk *worker) refund() voucher.RefundRequest {
	r := voucher.RefundRequest{OrderID: wk.orderID()}
	switch wk.rng.IntN(3) {
	case 1:
		r.Lines = []string{"l1"}
	case 2:
		r.Lines = []string{"l2"}
	}
	if wk.chance(50) {
		r.Key = "k" + strconv.Itoa(wk.rng.IntN(2))
	}
	if wk.chance(25) {
		r.Consumed = voucher.Ptr(decimal.New(int64(wk.rng.IntN(500)), -2))
	}
	return r
}

func (wk *worker) record(action string, err error) {
	code := "ok"
	if err != nil {
		code = voucher.ErrorCode(err)
		switch {
		case code == "clock_backwards":
			wk.stats.ClockBackwards++
		case code == "conflict" || slices.Contains(expected[action], code):
		default:
			wk.stats.Unexpected = append(wk.stats.Unexpected, fmt.Sprintf("%s %s: %v", wk.tag, action, err))
		}
		if code == "" {
			code = "error"
		}
	}
	wk.stats.Outcomes[action+" "+code]++
}

// Check reports every invariant of the load that the store breaks, after any number
// of runs (stats merges the runs whose Stats are known; a process killed mid-run has
// none, and the store alone must show nothing half applied):
//   - Wallet.Verify: the ledger adds up to every balance and hold;
//   - no deduction balance below zero or above its face value, held within 0..balance;
//   - no discount instrument used or held beyond its redemptions, in its state and in
//     its ledger;
//   - no code activated twice: at most one activate entry per instrument, and an
//     activated instrument belongs to the account that entry names;
//   - no order committed twice: for each order id and instrument at most one deduct,
//     redeem or capture entry; every committed order's applications have exactly that
//     entry, of the amount the quote took; no such entry for an order not committed;
//   - from stats: every order id committed by at most one step, every code activated
//     by at most one, each such one stored as it was reported, and no unexpected error.
func (l Load) Check(ctx context.Context, store voucher.Store, p voucher.Pricer, stats Stats) error {
	l = l.withDefaults()
	w := voucher.NewWallet(p, store)
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf("storetest: load: "+format, a...)) }
	if err := w.Verify(ctx); err != nil {
		bad("Verify: %w", err)
	}
	var insts []voucher.StoredInstrument
	var entries []voucher.LedgerEntry
	orders := map[string]voucher.OrderRecord{}
	err := store.View(ctx, func(ctx context.Context, tx voucher.Tx) error {
		var err error
		if insts, err = tx.Instruments(ctx, "", 1<<30); err != nil {
			return err
		}
		if entries, err = tx.Entries(ctx, voucher.LedgerQuery{}); err != nil {
			return err
		}
		for i := range l.Accounts {
			recs, err := tx.AccountOrders(ctx, Account(i), "", 1<<30)
			if err != nil {
				return err
			}
			for _, r := range recs {
				orders[r.ID] = r
			}
		}
		return nil
	})
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	checkInstruments(insts, entries, bad)
	checkOrders(orders, entries, bad)
	checkStats(stats, orders, insts, bad)
	return errors.Join(errs...)
}

func checkInstruments(insts []voucher.StoredInstrument, entries []voucher.LedgerEntry, bad func(string, ...any)) {
	used, activated := map[string]int{}, map[string][]string{}
	for _, e := range entries {
		switch e.Kind {
		case voucher.EntryRedeem, voucher.EntryCapture:
			used[e.Instrument]++
		case voucher.EntryActivate:
			activated[e.Instrument] = append(activated[e.Instrument], e.Account)
		}
	}
	for _, si := range insts {
		in := &si.Instrument
		if si.Kind == voucher.Deduction {
			b := in.CurrentBalance()
			if b.IsNegative() || b.GreaterThan(in.Amount) || in.Held.IsNegative() || in.Held.GreaterThan(b) {
				bad("instrument %q: balance %s, held %s, face value %s", in.ID, b, in.Held, in.Amount)
			}
		} else {
			if in.Redeemed+in.HeldRedemptions > in.Redemptions() || in.Redeemed < 0 || in.HeldRedemptions < 0 {
				bad("instrument %q: %d used and %d held of %d redemptions", in.ID, in.Redeemed, in.HeldRedemptions, in.Redemptions())
			}
			if used[in.ID] > in.Redemptions() {
				bad("instrument %q: %d redeem and capture entries for %d redemptions", in.ID, used[in.ID], in.Redemptions())
			}
		}
		switch acts := activated[in.ID]; {
		case len(acts) > 1:
			bad("instrument %q (code %q) activated %d times: %v", in.ID, in.Code, len(acts), acts)
		case len(acts) == 1 && (in.Account != acts[0] || in.PendingActivation):
			bad("instrument %q activated by %q is now of %q, pending %v", in.ID, acts[0], in.Account, in.PendingActivation)
		case len(acts) == 0 && in.Code != "" && in.Code != PromoCode && (in.Account != "" || !in.PendingActivation):
			bad("instrument %q (code %q) never activated is of %q, pending %v", in.ID, in.Code, in.Account, in.PendingActivation)
		}
	}
}

func checkOrders(orders map[string]voucher.OrderRecord, entries []voucher.LedgerEntry, bad func(string, ...any)) {
	type key struct{ order, inst string }
	commits := map[key][]voucher.LedgerEntry{}
	for _, e := range entries {
		if e.Kind == voucher.EntryDeduct || e.Kind == voucher.EntryRedeem || e.Kind == voucher.EntryCapture {
			k := key{e.Order, e.Instrument}
			commits[k] = append(commits[k], e)
		}
	}
	for k, es := range commits {
		if len(es) > 1 {
			bad("order %q took from instrument %q in %d entries (committed twice?)", k.order, k.inst, len(es))
		}
		if _, ok := orders[k.order]; !ok {
			bad("order %q is not committed, yet entry %d took from instrument %q for it", k.order, es[0].Seq, k.inst)
		}
	}
	for id, rec := range orders {
		for _, a := range rec.Quote.Applications {
			es := commits[key{id, a.InstrumentID}]
			if len(es) != 1 {
				bad("committed order %q: %d commit entries for instrument %q, want 1", id, len(es), a.InstrumentID)
				continue
			}
			if !es[0].Amount.Equal(a.Amount) {
				bad("committed order %q: entry %d took %s from %q, its quote %s", id, es[0].Seq, es[0].Amount, a.InstrumentID, a.Amount)
			}
		}
	}
}

func checkStats(stats Stats, orders map[string]voucher.OrderRecord, insts []voucher.StoredInstrument, bad func(string, ...any)) {
	for _, u := range stats.Unexpected {
		bad("unexpected error: %s", u)
	}
	for id, n := range stats.Committed {
		if n > 1 {
			bad("order %q was committed by %d steps", id, n)
		}
		if _, ok := orders[id]; !ok {
			bad("order %q was committed by a step, and the store has no such order", id)
		}
	}
	byCode := map[string]voucher.StoredInstrument{}
	for _, si := range insts {
		byCode[si.Instrument.Code] = si
	}
	for code, n := range stats.Activated {
		if n > 1 {
			bad("code %q was activated by %d steps", code, n)
		}
		if si := byCode[code]; si.Instrument.PendingActivation || si.Account() == "" {
			bad("code %q was activated by a step, and its instrument %q is not", code, si.ID())
		}
	}
}
