package voucher

import (
	"cmp"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/shopspring/decimal"
)

// DefaultHold is how long a reservation holds when Reserve is given no positive hold.
const DefaultHold = 30 * time.Minute

// ErrOverdraw reports a quote from the Pricer that takes more from an instrument than
// is available to it (a broken Pricer); the wallet refuses to commit it.
var ErrOverdraw = newCode("overdraw", "pricer took more than is available")

// Wallet is the stateful side of voucherkit: it keeps instruments, the clock, committed
// orders, live reservations and the ledger, and prices orders through a Pricer.
//
// Every step takes the time it happens at; the clock never moves backwards. A step
// that fails changes nothing, the clock included. Moving the clock forward expires, in
// time order, what it passes: deduction instruments whose validity ends (their balance
// not held by a live reservation is forfeited; they keep showing it) and reservations
// whose hold ends (what they held of an instrument that has expired meanwhile is
// forfeited then).
//
// Invariants, checked by Ledger().Verify: for each deduction instrument, face value +
// the sum of its ledger Deltas = balance, and 0 <= held <= balance, where held is what
// live reservations hold of it; a discount instrument never serves more orders than its
// redemptions.
//
// A Wallet is safe for concurrent use, and its steps take effect one at a time, each
// as if it ran alone at the moment it commits. A step that prices (Quote, Checkout,
// Reserve) runs the Pricer outside the wallet's lock, on a snapshot taken under a read
// lock, and commits under the lock only if every instrument the Pricer saw is still as
// it saw it and the buyer has been given no instrument meanwhile; otherwise it prices
// again, and after a few tries it prices under the lock. Checkouts therefore price in
// parallel and only their commits are serialised: the clock and the ledger's sequence
// belong to the wallet, not to an account.
type Wallet struct {
	mu    sync.RWMutex
	p     Pricer
	cur   Currency
	store Store
	now   time.Time
	// owned counts, per account, the steps that gave the account an instrument (a
	// grant or an activation): a snapshot of the account's instruments is complete as
	// long as its count has not moved.
	owned map[string]uint64
	// tx and batch are the scratch of the step holding mu (write), reused.
	tx    txn
	batch Batch
	// zero is NewMoney(0, cur), shared by ledger entries.
	zero Money
	// packs are where checkouts pack their quotes for a MemoryStore: a step takes one
	// (see takeArena) to pack its quote before it takes mu.
	packs [packArenas]lockedArena
}

// packArenas is how many arenas a wallet packs quotes in: enough for each step that
// runs at once to have its own.
const packArenas = 8

type lockedArena struct {
	mu sync.Mutex
	a  quoteArena
}

// takeArena returns the first of w.packs not in use, locked, or nil when every one is:
// a wallet uses as many arenas as it has steps at once, and no more.
func (w *Wallet) takeArena() *lockedArena {
	for k := range w.packs {
		if la := &w.packs[k]; la.mu.TryLock() {
			return la
		}
	}
	return nil
}

// keptQuote returns what a checkout commits of q, which goes back to the caller: a
// MemoryStore keeps a packed copy of it, made on Commit when packed is nil; any other
// Store gets a deep copy, to keep as it likes.
func (w *Wallet) keptQuote(q *Quote) (kept *Quote, packs bool) {
	if _, ok := w.store.(*MemoryStore); ok {
		return q, true
	}
	return cloneQuote(q), false
}

type walletConfig struct {
	store Store
}

// WalletOption configures NewWallet.
type WalletOption func(*walletConfig)

// WithStore keeps the wallet's state in s (default: a new MemoryStore). A store that
// already holds state is resumed at its own clock.
func WithStore(s Store) WalletOption {
	return func(c *walletConfig) {
		if s != nil {
			c.store = s
		}
	}
}

// NewWallet returns a wallet that prices through p (which must not be nil), with its
// clock at start. On a store that already holds state (see WithStore) the wallet
// resumes at the store's clock instead.
func NewWallet(p Pricer, start time.Time, opts ...WalletOption) *Wallet {
	var c walletConfig
	for _, o := range opts {
		o(&c)
	}
	if c.store == nil {
		c.store = NewMemoryStore()
	}
	w := &Wallet{p: p, cur: p.Currency(), store: c.store, now: start}
	w.zero = NewMoney(decimal.Zero, w.cur)
	if t := c.store.Clock(); !t.IsZero() {
		w.now = t
	}
	return w
}

// RefundRequest asks to refund lines of a committed order.
type RefundRequest struct {
	OrderID string
	// Lines are the line ids to refund. nil: every line not yet refunded. Non-nil and
	// empty is invalid.
	Lines []string
	// Consumed is value already used, kept back from the cash refunded (default 0).
	Consumed decimal.Decimal
}

// RefundResult is what a refund returned and what it did to deduction instruments.
type RefundResult struct {
	OrderID string
	// Lines are the lines refunded by this step, in the order's line order.
	Lines []string
	// CashRefund is the cash of the refunded lines less Consumed, never below zero.
	CashRefund Money
	// Forfeited is the value lost per instrument id in this step, including what
	// expired while the step moved the clock; only amounts above zero.
	Forfeited map[string]Money
	// Restored is the value given back per instrument id; only amounts above zero.
	Restored map[string]Money
}

// ClockResult is the outcome of a step that only moves the clock or drops a hold.
type ClockResult struct {
	At time.Time
	// Forfeited is the value lost per instrument id in this step; only amounts above zero.
	Forfeited map[string]Money
}

// Now is the wallet's clock.
func (w *Wallet) Now() time.Time {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.now
}

// Instrument returns a snapshot of instrument id at Now(), with Held and
// HeldRedemptions of the live reservations.
func (w *Wallet) Instrument(id string) (Instrument, bool) {
	w.mu.RLock()
	si, ok := w.store.Instrument(id)
	w.mu.RUnlock()
	if !ok {
		return Instrument{}, false
	}
	return si.Instrument.Clone(), true
}

// Instruments returns a snapshot of every instrument, sorted by id.
func (w *Wallet) Instruments() []Instrument {
	w.mu.RLock()
	all := w.store.Instruments()
	w.mu.RUnlock()
	out := make([]Instrument, len(all))
	for i := range all {
		out[i] = all[i].Instrument.Clone()
	}
	return out
}

// Status returns the status of instrument id at Now().
func (w *Wallet) Status(id string) (Status, bool) {
	w.mu.RLock()
	si, ok := w.store.Instrument(id)
	now := w.now
	w.mu.RUnlock()
	if !ok {
		return "", false
	}
	pol, _ := w.p.Policy(si.Instrument.Type)
	return si.Instrument.StatusAt(pol, now), true
}

// Order returns the committed order id: its quote as committed and the lines refunded.
func (w *Wallet) Order(id string) (OrderRecord, bool) {
	w.mu.RLock()
	rec, ok := w.store.Order(id)
	w.mu.RUnlock()
	if !ok {
		return OrderRecord{}, false
	}
	rec.Quote = cloneQuote(rec.Quote)
	rec.Refunded = slices.Clone(rec.Refunded)
	return rec, true
}

// Reservation returns the live reservation of order id at Now().
func (w *Wallet) Reservation(orderID string) (Reservation, bool) {
	w.mu.RLock()
	r, ok := w.store.Reservation(orderID)
	w.mu.RUnlock()
	if !ok {
		return Reservation{}, false
	}
	r.Quote = cloneQuote(r.Quote)
	return r, true
}

// Grant adds an instrument at the current clock. Its type must be one the Pricer
// knows, and it must be valid under that type's policy; its id and its code (if any)
// must be new. An empty Currency becomes the Pricer's, a zero IssuedAt becomes Now().
// An instrument of a typed-in type, or one pending activation, has no owner: its
// Account is cleared. Held and HeldRedemptions are the wallet's to keep and must be
// zero. Balance is taken as given (it has no default).
func (w *Wallet) Grant(inst Instrument) error {
	pol, ok := w.p.Policy(inst.Type)
	if !ok {
		return fmt.Errorf("%w: instrument %q: unknown instrument type %q", ErrInvalidInstrument, inst.ID, inst.Type)
	}
	inst = inst.Clone()
	if inst.Currency == "" {
		inst.Currency = w.cur.Code()
	}
	if pol.TypedCode || inst.PendingActivation {
		inst.Account = ""
	}
	if err := inst.Validate(pol); err != nil {
		return fmt.Errorf("instrument %q: %w", inst.ID, err)
	}
	if !inst.Held.IsZero() || inst.HeldRedemptions != 0 {
		return fmt.Errorf("%w: instrument %q: held and held redemptions come from reservations and must be zero", ErrInvalidInstrument, inst.ID)
	}
	if inst.Redeemed < 0 || (pol.Kind == Discount && inst.Redeemed > inst.Redemptions()) {
		return fmt.Errorf("%w: instrument %q: redeemed %d is outside 0..%d", ErrInvalidInstrument, inst.ID, inst.Redeemed, inst.Redemptions())
	}
	cur := w.currencyOf(&inst)
	for _, f := range []struct {
		name string
		d    decimal.Decimal
	}{{"amount", inst.Amount}, {"balance", inst.Balance}, {"max_discount", inst.MaxDiscount}, {"min_spend", inst.MinSpend}} {
		if !f.d.Equal(f.d.Round(cur.Scale())) {
			return fmt.Errorf("%w: instrument %q: %s %s has more than %d decimal places for %s",
				ErrInvalidInstrument, inst.ID, f.name, f.d, cur.Scale(), cur.Code())
		}
	}

	w.mu.Lock()
	defer w.mu.Unlock()
	if _, dup := w.store.Instrument(inst.ID); dup {
		return fmt.Errorf("%w: instrument %q already exists", ErrInvalidInstrument, inst.ID)
	}
	if inst.Code != "" {
		if other, dup := w.store.InstrumentByCode(inst.Code); dup {
			return fmt.Errorf("%w: instrument %q: code %q is already the code of instrument %q",
				ErrInvalidInstrument, inst.ID, inst.Code, other.Instrument.ID)
		}
	}
	if inst.IssuedAt.IsZero() {
		inst.IssuedAt = w.now
	}
	t := w.begin(w.now)
	si := t.add(StoredInstrument{Instrument: inst, Kind: pol.Kind, Expires: inst.ExpiresOn(pol)})
	t.owns(inst.Account)
	if pol.Kind == Deduction {
		t.record(EntryGrant, si, w.now, inst.Account, "", inst.Amount, inst.Balance.Sub(inst.Amount))
		// Granted already expired: its balance is lost from the start.
		if !si.Expires.IsZero() && !w.now.Before(si.Expires) && inst.Balance.Sign() > 0 {
			t.record(EntryExpire, si, w.now, inst.Account, "", inst.Balance, decimal.Zero)
		}
	} else {
		t.record(EntryGrant, si, w.now, inst.Account, "", inst.Amount, decimal.Zero)
	}
	return t.commit()
}

// Quote prices o at at with the current holds. It changes nothing, except that on
// success the clock moves to at (expiring what it passes). A quote may reuse any order
// id. Errors: ErrClockBackwards, then the Pricer's (ErrInvalidOrder,
// ErrCurrencyMismatch, ErrUnknownInstrument, ErrCodeNotFound).
func (w *Wallet) Quote(o Order, at time.Time) (*Quote, error) {
	return w.priced(&o, at, pricedQuote, 0)
}

// Checkout prices o at at and commits it: deduction balances drop, discount instruments
// use a redemption, and the ledger records it. The order id is the idempotency key.
// Errors: ErrClockBackwards, ErrDuplicateOrder (the id is committed or has a live
// reservation), then the Pricer's.
func (w *Wallet) Checkout(o Order, at time.Time) (*Quote, error) {
	// The quote returned is the caller's own: the wallet commits a copy (see keptQuote).
	return w.priced(&o, at, pricedCheckout, 0)
}

// Reserve prices o at at and holds what the quote takes until at+hold (exclusive;
// DefaultHold when hold <= 0): one redemption of each discount instrument it uses, and
// each deduction amount. Held value is unavailable to every other order and quote.
// Errors: as Checkout.
func (w *Wallet) Reserve(o Order, at time.Time, hold time.Duration) (*Quote, error) {
	if hold <= 0 {
		hold = DefaultHold
	}
	q, err := w.priced(&o, at, pricedReserve, hold)
	if err != nil {
		return nil, err
	}
	return cloneQuote(q), nil
}

// pricedKind is what a priced step does with its quote.
type pricedKind uint8

const (
	pricedQuote    pricedKind = iota // nothing (the clock moves)
	pricedCheckout                   // commit it
	pricedReserve                    // hold what it takes
)

// optimisticTries is how many times a priced step prices outside the lock before it
// prices under it (which always succeeds or fails for a reason of its own).
const optimisticTries = 3

// priced runs a step that prices o at at: see Wallet on how it keeps its guarantees
// while pricing outside the lock.
func (w *Wallet) priced(o *Order, at time.Time, kind pricedKind, hold time.Duration) (*Quote, error) {
	s := getSnapshot()
	defer putSnapshot(s)
	for try := 0; try < optimisticTries; try++ {
		if q, done, err := w.tryPriced(s, o, at, kind, hold); done {
			return q, err
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	t, err := w.step(at)
	if err != nil {
		return nil, err
	}
	if kind != pricedQuote {
		if err := t.notDuplicate(o.ID); err != nil {
			return nil, err
		}
	}
	s.insts = t.gather(s.insts[:0], o)
	q, err := w.p.Quote(*o, s.insts, at)
	if err != nil {
		return nil, err
	}
	var kept *Quote
	if kind == pricedCheckout {
		kept, _ = w.keptQuote(q)
	}
	if err := t.finish(q, kept, nil, o, kind, hold); err != nil {
		return nil, err
	}
	return q, nil
}

// tryPriced prices o against a snapshot taken under the read lock, then commits under
// the lock if nothing the Pricer saw has changed. done is false when it has: nothing
// was done, price again.
func (w *Wallet) tryPriced(s *snapshot, o *Order, at time.Time, kind pricedKind, hold time.Duration) (q *Quote, done bool, err error) {
	st := &s.t
	w.rlockSpin()
	now, owned := w.now, w.owned[o.Account]
	err = w.stepOn(st, at)
	if err == nil {
		s.insts = st.gather(s.insts[:0], o)
	}
	w.mu.RUnlock()
	st.reset(nil, time.Time{})
	if err != nil {
		// A step error of the snapshot: the step fails as it would have then.
		return nil, true, err
	}
	q, err = w.p.Quote(*o, s.insts, at)
	if err != nil {
		// The step fails, with the Pricer's error as of the snapshot unless, by now, an
		// error that comes first applies (orders are never uncommitted).
		return nil, true, w.earlierError(o, at, kind, err)
	}
	if kind == pricedQuote && !at.After(now) {
		// A quote that does not move the clock changes nothing: it is a read of the snapshot.
		return q, true, nil
	}
	// A checkout commits a copy of q, which q's caller may change: made here, outside
	// the lock; packed, for a MemoryStore, in an arena this step holds until it knows
	// whether it committed.
	var (
		kept   *Quote
		packed *packedQuote
	)
	if kind == pricedCheckout {
		var packs bool
		if kept, packs = w.keptQuote(q); packs {
			if la := w.takeArena(); la != nil {
				mark := la.a.mark()
				packed = la.a.pack(q)
				defer func() {
					if !done || err != nil {
						la.a.rollback(mark) // not committed: the room it took is free again
					}
					la.mu.Unlock()
				}()
			}
		}
	}

	w.lockSpin()
	defer w.mu.Unlock()
	t, err := w.step(at)
	if err != nil {
		return nil, true, err
	}
	if kind != pricedQuote {
		if err := t.notDuplicate(o.ID); err != nil {
			return nil, true, err
		}
	}
	if w.owned[o.Account] != owned || t.stale(s.insts) {
		return nil, false, nil
	}
	if err := t.finish(q, kept, packed, o, kind, hold); err != nil {
		return nil, true, err
	}
	return q, true, nil
}

// earlierError returns the error of a priced step whose pricing failed with err,
// unless the step fails, now, with an error that comes before the Pricer's:
// clock_backwards, duplicate_order. Either way the step fails and changes nothing,
// as it would have alone then.
func (w *Wallet) earlierError(o *Order, at time.Time, kind pricedKind, err error) error {
	w.rlockSpin()
	defer w.mu.RUnlock()
	var t txn
	if e := w.stepOn(&t, at); e != nil {
		return e
	}
	if kind != pricedQuote {
		if dup := t.notDuplicate(o.ID); dup != nil {
			return dup
		}
	}
	return err
}

// lockSpin and rlockSpin take w.mu as Lock and RLock do, for the two short sections of
// a priced step (its snapshot, its commit: a few microseconds). They try for a little
// while first, yielding the processor in between, because a goroutine that blocks on
// the lock is parked and woken again, which costs more than the section it waits for.
func (w *Wallet) lockSpin() {
	for range spins {
		if w.mu.TryLock() {
			return
		}
		runtime.Gosched()
	}
	w.mu.Lock()
}

func (w *Wallet) rlockSpin() {
	for range spins {
		if w.mu.TryRLock() {
			return
		}
		runtime.Gosched()
	}
	w.mu.RLock()
}

// spins is how many times lockSpin and rlockSpin try before they block.
const spins = 64

// finish does what a priced step does with q, and commits. A checkout commits kept
// (see keptQuote), packed as packed if not nil, and q goes back to the caller.
func (t *txn) finish(q, kept *Quote, packed *packedQuote, o *Order, kind pricedKind, hold time.Duration) error {
	switch kind {
	case pricedCheckout:
		if err := t.available(q); err != nil {
			return err
		}
		t.commitOrder(kept, packed, o.ID, o.Account, false)
	case pricedReserve:
		if err := t.available(q); err != nil {
			return err
		}
		for _, a := range q.Applications {
			si := t.mut(a.InstrumentID)
			if a.Kind == Deduction {
				si.Instrument.Held = si.Instrument.Held.Add(a.Amount.Amount())
			} else {
				si.Instrument.HeldRedemptions++
			}
			t.record(EntryReserve, si, t.at, o.Account, o.ID, a.Amount.Amount(), decimal.Zero)
		}
		t.reserve = append(t.reserve, Reservation{OrderID: o.ID, Account: o.Account, At: t.at, Until: t.at.Add(hold), Quote: q})
	}
	return t.commit()
}

// snapshot is the scratch of one priced step outside the lock: a transaction that has
// moved the clock (tentatively) and the instruments handed to the Pricer.
type snapshot struct {
	t     txn
	insts []Instrument
}

var snapshots = sync.Pool{New: func() any { return new(snapshot) }}

func getSnapshot() *snapshot { return snapshots.Get().(*snapshot) }

// putSnapshot recycles s. The Pricer is pure: it keeps nothing of the instruments it
// was given once Quote has returned.
func putSnapshot(s *snapshot) {
	clear(s.insts)
	s.insts = s.insts[:0]
	s.t.reset(nil, time.Time{})
	snapshots.Put(s)
}

// Capture commits the live reservation of orderID exactly as it was priced, even if
// an instrument it holds has expired since. Errors: ErrClockBackwards, ErrNotReserved
// (never reserved, released, captured, or past its hold).
func (w *Wallet) Capture(orderID string, at time.Time) (*Quote, error) {
	w.mu.Lock()
	t, err := w.step(at)
	var r Reservation
	if err == nil {
		r, err = t.live(orderID)
	}
	if err == nil {
		t.unreserve = append(t.unreserve, orderID)
		t.commitOrder(r.Quote, nil, orderID, r.Account, true)
		err = t.commit()
	}
	w.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return cloneQuote(r.Quote), nil
}

// Release drops the live reservation of orderID: what it held is free again, or
// forfeited where the instrument has expired meanwhile. Errors: ErrClockBackwards,
// ErrNotReserved.
func (w *Wallet) Release(orderID string, at time.Time) (*ClockResult, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	t, err := w.step(at)
	if err != nil {
		return nil, err
	}
	r, err := t.live(orderID)
	if err != nil {
		return nil, err
	}
	t.endHold(r, at)
	if err := t.commit(); err != nil {
		return nil, err
	}
	return &ClockResult{At: at, Forfeited: t.forfeitedMap()}, nil
}

// Advance moves the clock to at, expiring what it passes. Errors: ErrClockBackwards.
func (w *Wallet) Advance(at time.Time) (*ClockResult, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	t, err := w.step(at)
	if err != nil {
		return nil, err
	}
	if err := t.commit(); err != nil {
		return nil, err
	}
	return &ClockResult{At: at, Forfeited: t.forfeitedMap()}, nil
}

// Refund refunds lines of a committed order: the cash of the refunded lines less
// r.Consumed (never below zero) is returned; each deduction instrument's share of those
// lines is forfeited or restored as its type's refund rule says (a restore to an
// instrument that has expired by then is forfeited instead); discount instruments stay
// used. Errors: ErrClockBackwards, ErrUnknownOrder, ErrInvalidRefund (a line the order
// does not have, a line listed twice, negative Consumed, Lines non-nil and empty),
// ErrAlreadyRefunded (a listed line was refunded before, or no line is left).
func (w *Wallet) Refund(r RefundRequest, at time.Time) (*RefundResult, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	t, err := w.step(at)
	if err != nil {
		return nil, err
	}
	rec, ok := w.store.Order(r.OrderID)
	if !ok {
		return nil, fmt.Errorf("%w: order %q is not committed", ErrUnknownOrder, r.OrderID)
	}
	q := rec.Quote
	lines, err := refundLines(r, rec)
	if err != nil {
		return nil, err
	}
	refunding := make(map[string]bool, len(lines))
	for _, id := range lines {
		refunding[id] = true
	}
	cur := q.Total.Currency()
	if cur.IsZero() {
		cur = w.cur
	}
	cash := decimal.Zero
	for _, l := range q.Lines {
		if refunding[l.LineID] {
			cash = cash.Add(l.Cash.Amount())
		}
	}
	cashRefund := cash.Sub(r.Consumed)
	if cashRefund.IsNegative() {
		cashRefund = decimal.Zero
	}
	restored := make(map[string]Money)
	for _, a := range q.Applications {
		if a.Kind != Deduction {
			continue
		}
		share := decimal.Zero
		for _, la := range a.Lines {
			if refunding[la.LineID] {
				share = share.Add(la.Amount.Amount())
			}
		}
		if share.Sign() <= 0 {
			continue
		}
		si := t.mut(a.InstrumentID)
		if si == nil {
			return nil, fmt.Errorf("%w: order %q: instrument %q of the committed quote is gone", ErrUnknownInstrument, r.OrderID, a.InstrumentID)
		}
		rule := a.Refund
		if rule == "" {
			pol, _ := w.p.Policy(si.Instrument.Type)
			rule = pol.Refund
		}
		expired := !si.Expires.IsZero() && !at.Before(si.Expires)
		if rule == RefundRestore && !expired {
			si.Instrument.Balance = si.Instrument.Balance.Add(share)
			t.record(EntryRefundRestore, si, at, rec.Account, rec.ID, share, share)
			addMoney(restored, a.InstrumentID, t.money(si, share))
		} else {
			t.record(EntryRefundForfeit, si, at, rec.Account, rec.ID, share, decimal.Zero)
			t.forfeit(si, share)
		}
	}
	rec.Refunded = append(slices.Clone(rec.Refunded), lines...)
	t.orders = append(t.orders, rec)
	if err := t.commit(); err != nil {
		return nil, err
	}
	return &RefundResult{
		OrderID:    rec.ID,
		Lines:      lines,
		CashRefund: NewMoney(cashRefund, cur),
		Forfeited:  t.forfeitedMap(),
		Restored:   restored,
	}, nil
}

// refundLines checks r against the order and returns the lines to refund, in the
// order's line order.
func refundLines(r RefundRequest, rec OrderRecord) ([]string, error) {
	q := rec.Quote
	if r.Lines != nil && len(r.Lines) == 0 {
		return nil, fmt.Errorf("%w: order %q: lines is empty; omit it to refund every line left", ErrInvalidRefund, rec.ID)
	}
	if r.Consumed.IsNegative() {
		return nil, fmt.Errorf("%w: order %q: consumed %s is negative", ErrInvalidRefund, rec.ID, r.Consumed)
	}
	has := make(map[string]bool, len(q.Lines))
	for _, l := range q.Lines {
		has[l.LineID] = true
	}
	listed := make(map[string]bool, len(r.Lines))
	for _, id := range r.Lines {
		if !has[id] {
			return nil, fmt.Errorf("%w: order %q has no line %q", ErrInvalidRefund, rec.ID, id)
		}
		if listed[id] {
			return nil, fmt.Errorf("%w: order %q: line %q is listed twice", ErrInvalidRefund, rec.ID, id)
		}
		listed[id] = true
	}
	done := make(map[string]bool, len(rec.Refunded))
	for _, id := range rec.Refunded {
		done[id] = true
	}
	var lines []string
	for _, l := range q.Lines {
		switch {
		case r.Lines == nil && !done[l.LineID]:
			lines = append(lines, l.LineID)
		case listed[l.LineID] && done[l.LineID]:
			return nil, fmt.Errorf("%w: order %q: line %q was refunded before", ErrAlreadyRefunded, rec.ID, l.LineID)
		case listed[l.LineID]:
			lines = append(lines, l.LineID)
		}
	}
	if len(lines) == 0 {
		return nil, fmt.Errorf("%w: order %q has no line left to refund", ErrAlreadyRefunded, rec.ID)
	}
	return lines, nil
}

// Activate claims the activation instrument whose Code is code for account: it becomes
// account's, no longer pending, activated at at. Errors: ErrClockBackwards,
// ErrCodeNotFound (no activation instrument has that code; typed-in codes are not
// activation codes), ErrCodeAlreadyUsed (already activated, by anyone),
// ErrCodeExpired (its validity has ended).
func (w *Wallet) Activate(code, account string, at time.Time) (Instrument, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	t, err := w.step(at)
	if err != nil {
		return Instrument{}, err
	}
	si, err := t.activate(code, account, at)
	if err != nil {
		return Instrument{}, err
	}
	if err := t.commit(); err != nil {
		return Instrument{}, err
	}
	return si.Instrument.Clone(), nil
}

func (t *txn) activate(code, account string, at time.Time) (*StoredInstrument, error) {
	found, ok := t.w.store.InstrumentByCode(code)
	var pol TypePolicy
	if ok {
		pol, _ = t.w.p.Policy(found.Instrument.Type)
	}
	if !ok || pol.TypedCode || (!found.Instrument.PendingActivation && found.Instrument.ActivatedAt.IsZero()) {
		return nil, fmt.Errorf("%w: no activation code %q", ErrCodeNotFound, code)
	}
	id := found.Instrument.ID
	var buf StoredInstrument
	si := t.peek(id, &buf)
	if !si.Instrument.PendingActivation {
		return nil, fmt.Errorf("%w: code %q was activated at %s", ErrCodeAlreadyUsed, code, si.Instrument.ActivatedAt.Format(time.RFC3339))
	}
	if !si.Expires.IsZero() && !at.Before(si.Expires) {
		return nil, fmt.Errorf("%w: code %q expired at %s", ErrCodeExpired, code, si.Expires.Format(time.RFC3339))
	}
	if account == "" {
		return nil, fmt.Errorf("%w: activating code %q needs an account", ErrInvalidInstrument, code)
	}
	m := t.mut(id)
	t.owns(account)
	m.Instrument.Account = account
	m.Instrument.PendingActivation = false
	m.Instrument.ActivatedAt = at
	amount := m.Instrument.Amount
	if m.Kind == Deduction {
		amount = m.Instrument.Balance
	}
	t.record(EntryActivate, m, at, account, "", amount, decimal.Zero)
	return m, nil
}

// step checks at against the clock and starts a transaction, on the wallet's scratch
// (w.mu must be held for writing), that has moved the clock to at, tentatively.
func (w *Wallet) step(at time.Time) (*txn, error) {
	if err := w.stepOn(&w.tx, at); err != nil {
		return nil, err
	}
	return &w.tx, nil
}

// stepOn is step on t, which may be any transaction (w.mu held, for reading at least).
func (w *Wallet) stepOn(t *txn, at time.Time) error {
	if at.Before(w.now) {
		return fmt.Errorf("%w: %s is before the wallet's clock %s", ErrClockBackwards,
			at.Format(time.RFC3339Nano), w.now.Format(time.RFC3339Nano))
	}
	t.reset(w, at)
	t.moveClock(w.now)
	return nil
}

func (w *Wallet) currencyOf(in *Instrument) Currency {
	if in.Currency == "" || in.Currency == w.cur.Code() {
		return w.cur
	}
	c, err := LookupCurrency(in.Currency)
	if err != nil {
		return w.cur
	}
	return c
}

// txn is one step's tentative changes: nothing reaches the store until commit.
type txn struct {
	w  *Wallet
	at time.Time
	// insts are the copies being changed, in first-change order; the first ones live
	// in own. index finds them by id once there are many.
	insts     []*StoredInstrument
	own       [2]StoredInstrument
	index     map[string]int
	orders    []OrderRecord
	reserve   []Reservation
	unreserve []string
	ended     map[string]bool // reservations this step ended
	entries   []LedgerEntry
	seq       int64
	forfeited map[string]Money
	// owners are the accounts the step gives an instrument.
	owners []string
}

// begin starts a transaction on the wallet's scratch (w.mu held for writing).
func (w *Wallet) begin(at time.Time) *txn {
	w.tx.reset(w, at)
	return &w.tx
}

// reset empties t for a step of w at at, keeping its buffers; w nil only empties it.
func (t *txn) reset(w *Wallet, at time.Time) {
	// Drop what the last step referenced, touching only what it used.
	for k := range min(len(t.insts), len(t.own)) {
		t.own[k] = StoredInstrument{}
	}
	clear(t.insts)
	clear(t.orders)
	clear(t.reserve)
	clear(t.unreserve)
	clear(t.entries)
	clear(t.owners)
	t.w, t.at = w, at
	t.insts, t.orders, t.reserve = t.insts[:0], t.orders[:0], t.reserve[:0]
	t.unreserve, t.entries = t.unreserve[:0], t.entries[:0]
	t.owners = t.owners[:0]
	t.index, t.ended, t.forfeited, t.seq = nil, nil, nil, 0
	if w != nil {
		t.seq = int64(w.store.LedgerLen())
	}
}

// owns records that the step gives account an instrument (see Wallet.owned).
func (t *txn) owns(account string) {
	if account != "" {
		t.owners = append(t.owners, account)
	}
}

// find returns the step's copy of instrument id, nil if the step has not changed it.
func (t *txn) find(id string) *StoredInstrument {
	if t.index != nil {
		if k, ok := t.index[id]; ok {
			return t.insts[k]
		}
		return nil
	}
	for _, si := range t.insts {
		if si.Instrument.ID == id {
			return si
		}
	}
	return nil
}

// indexFrom is the number of changed instruments from which find uses an index.
const indexFrom = 8

// add makes si one of the instruments the step changes and returns its copy.
func (t *txn) add(si StoredInstrument) *StoredInstrument {
	var p *StoredInstrument
	if n := len(t.insts); n < len(t.own) {
		p = &t.own[n]
	} else {
		p = new(StoredInstrument)
	}
	*p = si
	t.insts = append(t.insts, p)
	switch {
	case t.index != nil:
		t.index[si.Instrument.ID] = len(t.insts) - 1
	case len(t.insts) >= indexFrom:
		t.index = make(map[string]int, 2*len(t.insts))
		for k, x := range t.insts {
			t.index[x.Instrument.ID] = k
		}
	}
	return p
}

// peek returns the instrument as this step sees it (nil if unknown); do not modify it.
// An instrument the step has not changed is read into buf.
func (t *txn) peek(id string, buf *StoredInstrument) *StoredInstrument {
	if si := t.find(id); si != nil {
		return si
	}
	var ok bool
	if *buf, ok = t.w.store.Instrument(id); !ok {
		return nil
	}
	return buf
}

// mut returns the step's own copy of instrument id, to change (nil if unknown).
func (t *txn) mut(id string) *StoredInstrument {
	if si := t.find(id); si != nil {
		return si
	}
	si, ok := t.w.store.Instrument(id)
	if !ok {
		return nil
	}
	return t.add(si)
}

func (t *txn) money(si *StoredInstrument, d decimal.Decimal) Money {
	cur := t.w.currencyOf(&si.Instrument)
	if d == decimal.Zero && cur == t.w.cur {
		return t.w.zero // the same value as NewMoney(decimal.Zero, cur), made once
	}
	return NewMoney(d, cur)
}

// record appends a ledger entry showing si's state after the change.
func (t *txn) record(kind EntryKind, si *StoredInstrument, at time.Time, account, order string, amount, delta decimal.Decimal) {
	t.seq++
	in := &si.Instrument
	e := LedgerEntry{
		Seq: t.seq, At: at, Kind: kind, Account: account, Instrument: in.ID, Order: order,
		Amount: t.money(si, amount), Delta: t.money(si, delta),
	}
	if si.Kind == Deduction {
		e.BalanceAfter = t.money(si, in.Balance)
		e.HeldAfter = t.money(si, in.Held)
	} else {
		e.BalanceAfter = t.money(si, decimal.Zero)
		e.HeldAfter = e.BalanceAfter
		e.RedeemedAfter = in.Redeemed
		e.HeldRedemptionsAfter = in.HeldRedemptions
	}
	t.entries = append(t.entries, e)
}

func (t *txn) forfeit(si *StoredInstrument, d decimal.Decimal) {
	if d.Sign() <= 0 {
		return
	}
	if t.forfeited == nil {
		t.forfeited = make(map[string]Money)
	}
	addMoney(t.forfeited, si.Instrument.ID, t.money(si, d))
}

func (t *txn) forfeitedMap() map[string]Money {
	if t.forfeited == nil {
		return map[string]Money{}
	}
	return t.forfeited
}

func addMoney(m map[string]Money, id string, v Money) {
	if old, ok := m[id]; ok {
		v, _ = old.Add(v)
	}
	m[id] = v
}

// moveClock processes, in time order, every hold that ends and every deduction
// instrument that expires in (from, t.at]; a hold ending at the same moment as an
// expiry ends first.
func (t *txn) moveClock(from time.Time) {
	if !t.at.After(from) {
		return
	}
	exp := t.w.store.Expiring(from, t.at)
	ends := t.w.store.ReservationsEnding(from, t.at)
	i, j := 0, 0
	for i < len(exp) || j < len(ends) {
		if j < len(ends) && (i >= len(exp) || !ends[j].Until.After(exp[i].Expires)) {
			t.endHold(ends[j], ends[j].Until)
			j++
			continue
		}
		e := &exp[i]
		i++
		if e.Kind != Deduction {
			continue
		}
		var buf StoredInstrument
		cur := t.peek(e.Instrument.ID, &buf)
		lost := cur.Instrument.Balance.Sub(cur.Instrument.Held)
		if lost.Sign() <= 0 {
			continue
		}
		si := t.mut(e.Instrument.ID)
		t.record(EntryExpire, si, e.Expires, si.Instrument.Account, "", lost, decimal.Zero)
		t.forfeit(si, lost)
	}
}

// endHold ends reservation r at at: its holds are dropped; what it held of an
// instrument that has expired by then is forfeited, and so is what it held of a used
// instrument whose type does not carry its balance over.
func (t *txn) endHold(r Reservation, at time.Time) {
	t.unreserve = append(t.unreserve, r.OrderID)
	if t.ended == nil {
		t.ended = make(map[string]bool)
	}
	t.ended[r.OrderID] = true
	for _, a := range r.Quote.Applications {
		si := t.mut(a.InstrumentID)
		if si == nil {
			continue
		}
		amt := a.Amount.Amount()
		if a.Kind != Deduction {
			si.Instrument.HeldRedemptions--
			t.record(EntryRelease, si, at, r.Account, r.OrderID, amt, decimal.Zero)
			continue
		}
		si.Instrument.Held = si.Instrument.Held.Sub(amt)
		t.record(EntryRelease, si, at, r.Account, r.OrderID, amt, decimal.Zero)
		if !si.Expires.IsZero() && !at.Before(si.Expires) {
			t.record(EntryExpire, si, at, si.Instrument.Account, r.OrderID, amt, decimal.Zero)
			t.forfeit(si, amt)
		} else if pol, _ := t.w.p.Policy(si.Instrument.Type); si.Used && !pol.CarryOver {
			si.Instrument.Balance = si.Instrument.Balance.Sub(amt)
			t.record(EntryForfeit, si, at, si.Instrument.Account, r.OrderID, amt, amt.Neg())
			t.forfeit(si, amt)
		}
	}
}

// live returns the reservation of orderID that is live at t.at.
func (t *txn) live(orderID string) (Reservation, error) {
	if !t.ended[orderID] {
		if r, ok := t.w.store.Reservation(orderID); ok {
			return r, nil
		}
	}
	return Reservation{}, fmt.Errorf("%w: order %q has no live reservation", ErrNotReserved, orderID)
}

func (t *txn) notDuplicate(orderID string) error {
	if t.w.hasOrder(orderID) {
		return fmt.Errorf("%w: order %q is already committed", ErrDuplicateOrder, orderID)
	}
	if !t.ended[orderID] {
		if _, ok := t.w.store.Reservation(orderID); ok {
			return fmt.Errorf("%w: order %q has a live reservation", ErrDuplicateOrder, orderID)
		}
	}
	return nil
}

// orderChecker is a Store that tells whether an order is committed without reading it.
type orderChecker interface {
	hasOrder(id string) bool
}

func (w *Wallet) hasOrder(id string) bool {
	if s, ok := w.store.(orderChecker); ok {
		return s.hasOrder(id)
	}
	_, ok := w.store.Order(id)
	return ok
}

// accountAppender is a Store that appends an account's instruments to a buffer.
type accountAppender interface {
	appendAccountInstruments(dst []Instrument, account string) []Instrument
}

// gather appends to dst the instruments the Pricer may need for o, sorted by id: the
// buyer's own, those named in Use that exist, and the typed-in ones whose code is in
// Codes; each as this step sees it.
func (t *txn) gather(dst []Instrument, o *Order) []Instrument {
	insts := dst[:0]
	if s, ok := t.w.store.(accountAppender); ok {
		insts = s.appendAccountInstruments(insts, o.Account)
	} else {
		insts = append(insts, t.w.store.AccountInstruments(o.Account)...)
	}
	own := len(insts)
	has := func(insts []Instrument, id string) bool {
		for k := own; k < len(insts); k++ {
			if insts[k].ID == id {
				return true
			}
		}
		return false
	}
	var buf StoredInstrument
	for _, id := range o.Use {
		si := t.peek(id, &buf)
		if si == nil || (o.Account != "" && si.Instrument.Account == o.Account) || has(insts, id) {
			continue
		}
		insts = append(insts, si.Instrument)
	}
	for _, code := range o.Codes {
		found, ok := t.w.store.InstrumentByCode(code)
		if !ok || (o.Account != "" && found.Instrument.Account == o.Account) || has(insts, found.Instrument.ID) {
			continue
		}
		if pol, _ := t.w.p.Policy(found.Instrument.Type); !pol.TypedCode {
			continue
		}
		insts = append(insts, t.peek(found.Instrument.ID, &buf).Instrument)
	}
	if len(t.insts) > 0 {
		for k := range insts[:own] {
			if si := t.find(insts[k].ID); si != nil {
				insts[k] = si.Instrument
			}
		}
	}
	if own < len(insts) {
		slices.SortFunc(insts, func(a, b Instrument) int { return cmp.Compare(a.ID, b.ID) })
	}
	return insts
}

// stale reports whether an instrument that was priced (insts, as a snapshot saw them)
// is no longer as this step sees it. Only an instrument's state fields and its owner
// ever change once it is granted (see Instrument), so those are what is compared.
func (t *txn) stale(insts []Instrument) bool {
	cmp, inPlace := t.w.store.(stateComparer)
	var buf StoredInstrument
	for i := range insts {
		was := &insts[i]
		if inPlace && t.find(was.ID) == nil {
			if !cmp.sameState(was) {
				return true
			}
			continue
		}
		si := t.peek(was.ID, &buf)
		if si == nil || !sameState(&si.Instrument, was) {
			return true
		}
	}
	return false
}

// sameState reports whether a and b have the same state fields and owner: the fields
// a step may change (see stale).
func sameState(a, b *Instrument) bool {
	return a.Redeemed == b.Redeemed && a.HeldRedemptions == b.HeldRedemptions &&
		a.PendingActivation == b.PendingActivation && a.Account == b.Account &&
		a.ActivatedAt.Equal(b.ActivatedAt) && a.Balance.Equal(b.Balance) && a.Held.Equal(b.Held)
}

// stateComparer is a Store that compares an instrument's state without copying it.
type stateComparer interface {
	// sameState reports whether instrument in.ID exists with in's state (sameState).
	sameState(in *Instrument) bool
}

// available refuses a quote that takes more than is available of an instrument.
func (t *txn) available(q *Quote) error {
	for _, a := range q.Applications {
		// The step changes these next (if q is fine): take its copy now.
		si := t.mut(a.InstrumentID)
		if si == nil {
			return fmt.Errorf("%w: order %q: the pricer applied unknown instrument %q", ErrOverdraw, q.OrderID, a.InstrumentID)
		}
		in := &si.Instrument
		if a.Kind == Deduction {
			avail := in.Balance
			if !in.Held.IsZero() {
				avail = in.Balance.Sub(in.Held)
			}
			if a.Amount.IsNegative() || a.Amount.Amount().GreaterThan(avail) {
				return fmt.Errorf("%w: order %q: %s from instrument %q, which has %s available",
					ErrOverdraw, q.OrderID, a.Amount, in.ID, avail)
			}
		} else if in.Redeemed+in.HeldRedemptions >= in.Redemptions() {
			return fmt.Errorf("%w: order %q: instrument %q has no redemption left", ErrOverdraw, q.OrderID, in.ID)
		}
	}
	return nil
}

// commitOrder commits q: deductions leave balances, discounts use a redemption; the
// leftover of a used instrument whose type does not carry over is forfeited.
func (t *txn) commitOrder(q *Quote, packed *packedQuote, orderID, account string, captured bool) {
	kindDed, kindDis := EntryDeduct, EntryRedeem
	if captured {
		kindDed, kindDis = EntryCapture, EntryCapture
	}
	for _, a := range q.Applications {
		si := t.mut(a.InstrumentID)
		amt := a.Amount.Amount()
		if a.Kind == Deduction {
			if captured {
				si.Instrument.Held = si.Instrument.Held.Sub(amt)
			}
			si.Instrument.Balance = si.Instrument.Balance.Sub(amt)
			si.Used = true
			t.record(kindDed, si, t.at, account, orderID, amt, amt.Neg())
		} else {
			if captured {
				si.Instrument.HeldRedemptions--
			}
			si.Instrument.Redeemed++
			si.Used = true
			t.record(kindDis, si, t.at, account, orderID, amt, decimal.Zero)
		}
	}
	for _, a := range q.Applications {
		if a.Kind != Deduction {
			continue
		}
		si := t.mut(a.InstrumentID)
		if pol, _ := t.w.p.Policy(si.Instrument.Type); pol.CarryOver {
			continue
		}
		left := si.Instrument.Balance.Sub(si.Instrument.Held)
		if left.Sign() <= 0 {
			continue
		}
		si.Instrument.Balance = si.Instrument.Balance.Sub(left)
		t.record(EntryForfeit, si, t.at, account, orderID, left, left.Neg())
		t.forfeit(si, left)
	}
	t.orders = append(t.orders, OrderRecord{ID: orderID, Account: account, At: t.at, Quote: q, packed: packed})
}

// commit writes the step to the store and moves the wallet's clock. Only the step
// holding w.mu for writing commits.
func (t *txn) commit() error {
	w := t.w
	b := &w.batch
	*b = Batch{Clock: t.at, Instruments: b.Instruments[:0], Orders: t.orders, Reserve: t.reserve,
		Unreserve: t.unreserve, Entries: t.entries}
	for _, si := range t.insts {
		b.Instruments = append(b.Instruments, *si)
	}
	defer func() {
		clear(b.Instruments)
		*b = Batch{Instruments: b.Instruments[:0]}
	}()
	if b.empty() && t.at.Equal(w.now) {
		return nil
	}
	if err := w.store.Commit(b); err != nil {
		return fmt.Errorf("voucher: wallet store: %w", err)
	}
	w.now = t.at
	for _, a := range t.owners {
		if w.owned == nil {
			w.owned = make(map[string]uint64)
		}
		w.owned[a]++
	}
	return nil
}

// cloneQuote returns a deep copy of q, so that callers never share a stored quote.
func cloneQuote(q *Quote) *Quote {
	if q == nil {
		return nil
	}
	c := *q
	c.Lines = slices.Clone(q.Lines)
	c.Applications = slices.Clone(q.Applications)
	for i := range c.Applications {
		c.Applications[i].Lines = slices.Clone(c.Applications[i].Lines)
	}
	c.Rejections = slices.Clone(q.Rejections)
	c.Trace = slices.Clone(q.Trace)
	for i := range c.Trace {
		if c.Trace[i].Amount != nil {
			m := *c.Trace[i].Amount
			c.Trace[i].Amount = &m
		}
	}
	return &c
}
