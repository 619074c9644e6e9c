package voucher

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/shopspring/decimal"
)

// step is one wallet step inside one store transaction: what it read, what it
// changed, and the ledger entries it writes. Nothing reaches the store before flush.
//
// An instrument is changed only by a step that holds its owner's account lock, or, for
// an instrument with no owner, that read it with Tx.Instrument (which locks it): so no
// two steps ever change one instrument from stale reads.
type step struct {
	w     *Wallet
	ctx   context.Context
	tx    Tx
	at    time.Time
	write bool

	// accts are the accounts this step holds (locked and brought up to date).
	accts keyed[heldAccount]
	// insts are the instruments the step has read, as it sees them.
	insts   keyed[stepInst]
	fresh   []string // instruments to insert, in order
	changed []string // instruments to update, in first-change order
	// resv are the reservations the step has read (by order id; nil until the first);
	// ended those it ended.
	resv    map[string]*Reservation
	ended   []string
	reserve []Reservation
	orders  []OrderRecord
	updated []OrderRecord
	refunds []RefundRecord
	entries []LedgerEntry

	forfeited map[string]Money
	// discard: the step found its work already done and writes nothing.
	discard bool
	// duesDone: endDueHolds has run.
	duesDone bool
	// dueFirst: lock the accounts with something due with the buyer's, before any
	// instrument (see errDueFirst).
	dueFirst bool
}

// errDueFirst restarts a step that found, after locking an instrument with no owner,
// that it must end other accounts' holds on it: locking their accounts then would
// take an account lock after an instrument lock, against the order every step keeps
// (accounts first, sorted; then instruments), and two such steps could deadlock. Run
// again with dueFirst, the step locks those accounts with the buyer's, first.
var errDueFirst = errors.New("voucher: wallet: restart the step locking due accounts first")

// heldAccount is an account a step holds: the clock it leaves it at, when it moves it.
type heldAccount struct {
	clock time.Time
	moves bool
}

// stepInst is an instrument as a step sees it.
type stepInst struct {
	si     *StoredInstrument
	locked bool // the step may change it (see step)
	dirty  bool // the step has changed it
}

func (w *Wallet) newStep(ctx context.Context, tx Tx, at time.Time, write bool) *step {
	return &step{w: w, ctx: ctx, tx: tx, at: at, write: write}
}

// lock takes the accounts' locks (in sorted order) and checks the step's time against
// each one's clock (ErrClockBackwards); then, every lock taken, it reads what each
// owns and records what happened to it between its clock and the step's time.
func (s *step) lock(accounts ...string) error {
	return s.lockAll(accounts, nil)
}

// lockAll is lock, except that the accounts foreign says are another's than the
// step's own are brought only as far as they need (see acquire).
func (s *step) lockAll(accounts []string, foreign func(string) bool) error {
	if !slices.IsSorted(accounts) {
		accounts = slices.Sorted(slices.Values(accounts))
	}
	type todo struct {
		a       string
		foreign bool
		prev    clockRead
	}
	var todos []todo
	for i, a := range accounts {
		if i > 0 && a == accounts[i-1] || s.holds(a) {
			continue
		}
		f := foreign != nil && foreign(a)
		move, prev, err := s.acquire(a, s.at, f)
		if err != nil {
			return err
		}
		if move {
			todos = append(todos, todo{a, f, prev})
		}
	}
	// Only now that every lock is taken: a clock move may lock an instrument with no
	// owner, and no account lock may be taken after an instrument's.
	for _, t := range todos {
		if err := s.bring(t.a, s.at, t.foreign, t.prev); err != nil {
			return err
		}
	}
	return nil
}

// account locks account a and records what happened to it up to time at (see
// acquire and bring).
func (s *step) account(a string, at time.Time, foreign bool) error {
	move, prev, err := s.acquire(a, at, foreign)
	if err != nil || !move {
		return err
	}
	return s.bring(a, at, foreign, prev)
}

// clockRead is an account's clock as a step read it: ok is false when it had none.
type clockRead struct {
	at time.Time
	ok bool
}

// acquire locks account a and checks at against its clock (prev); move is whether
// the account is to be brought to at. For the step's own
// account at may not be before its clock, and its clock moves to at. Another account
// (foreign: a sweep, or an account whose ended holds a step ends) whose clock is
// already past at is left as it is.
func (s *step) acquire(a string, at time.Time, foreign bool) (move bool, prev clockRead, err error) {
	clock, ok, err := s.tx.Account(s.ctx, a)
	if err != nil {
		return false, prev, err
	}
	s.accts.set(a, heldAccount{})
	prev = clockRead{clock, ok}
	if ok && at.Before(clock) {
		if foreign {
			return false, prev, nil
		}
		return false, prev, fmt.Errorf("%w: %s is before account %q's clock %s", ErrClockBackwards,
			at.Format(time.RFC3339Nano), a, clock.Format(time.RFC3339Nano))
	}
	if !foreign {
		s.accts.set(a, heldAccount{clock: at, moves: true})
	}
	return true, prev, nil
}

// bring reads what locked account a owns and records what happened to it up to at. A
// foreign account's clock moves only to the latest moment recorded, so that a step of
// its own a moment later is not refused.
func (s *step) bring(a string, at time.Time, foreign bool, prev clockRead) error {
	insts, err := s.tx.AccountInstruments(s.ctx, a)
	if err != nil {
		return err
	}
	for i := range insts {
		if a == "" {
			continue // no owner: each is locked on its own when the step needs it
		}
		id := insts[i].ID()
		e, ok := s.insts.get(id)
		if !ok || !e.dirty {
			e.si = &insts[i] // the store's copy, the step's own
		}
		e.locked = true
		s.insts.set(id, e)
	}
	resv, err := s.tx.AccountReservations(s.ctx, a)
	if err != nil {
		return err
	}
	for i := range resv {
		if s.resv == nil {
			s.resv = make(map[string]*Reservation, len(resv))
		}
		s.resv[resv[i].OrderID] = &resv[i]
	}
	var last *time.Time
	if a == "" {
		last, err = s.expireUnowned(insts, at)
	} else {
		last, err = s.moveClock(insts, resv, at)
	}
	if foreign && last != nil && (!prev.ok || last.After(prev.at)) {
		s.accts.set(a, heldAccount{clock: *last, moves: true})
	}
	return err
}

// event is something that happens to an account at a moment: an instrument expires,
// or a hold ends.
type event struct {
	at   time.Time
	hold bool // a hold ends; else an instrument expires
	id   string
}

// moveClock records, in time order, what happens to account a up to the step's time:
// each deduction instrument it owns that expires loses its balance not held by a live
// reservation; each of its reservations whose hold ends is ended. At one moment,
// expiries come before hold endings: what a hold ending at the instant its instrument
// expires held is forfeited once, when the hold ends.
func (s *step) moveClock(insts []StoredInstrument, resv []Reservation, to time.Time) (*time.Time, error) {
	var evs []event
	for i := range insts {
		si := &insts[i]
		if si.Kind == Deduction && !si.Expired && si.Expires != nil && !to.Before(*si.Expires) {
			evs = append(evs, event{at: *si.Expires, id: si.ID()})
		}
	}
	for i := range resv {
		if !to.Before(resv[i].Until) {
			evs = append(evs, event{at: resv[i].Until, hold: true, id: resv[i].OrderID})
		}
	}
	slices.SortFunc(evs, func(x, y event) int {
		if c := x.at.Compare(y.at); c != 0 {
			return c
		}
		if x.hold != y.hold {
			if x.hold {
				return 1
			}
			return -1
		}
		return cmp.Compare(x.id, y.id)
	})
	var last *time.Time
	for _, ev := range evs {
		var err error
		if ev.hold {
			err = s.endHold(*s.resv[ev.id], ev.at)
		} else {
			err = s.expire(ev.id, ev.at)
		}
		if err != nil {
			return nil, err
		}
		last = &ev.at
	}
	return last, nil
}

// expireUnowned records, in time order (then by id), the expiry of instruments with
// no owner that are due by to, each locked on its own; it returns the latest expiry
// recorded.
func (s *step) expireUnowned(insts []StoredInstrument, to time.Time) (*time.Time, error) {
	var evs []event
	for i := range insts {
		si := &insts[i]
		if si.Kind == Deduction && !si.Expired && si.Expires != nil && !to.Before(*si.Expires) {
			evs = append(evs, event{at: *si.Expires, id: si.ID()})
		}
	}
	slices.SortFunc(evs, func(x, y event) int {
		if c := x.at.Compare(y.at); c != 0 {
			return c
		}
		return cmp.Compare(x.id, y.id)
	})
	var last *time.Time
	for _, ev := range evs {
		if err := s.expire(ev.id, ev.at); err != nil {
			return nil, err
		}
		last = &ev.at
	}
	return last, nil
}

// expire records that instrument id expired at at: its balance not held is lost.
func (s *step) expire(id string, at time.Time) error {
	si, err := s.mut(id)
	if err != nil || si.Expired || si.Expires == nil || at.Before(*si.Expires) {
		return err
	}
	si.Expired = true
	if lost := si.Instrument.Available(); lost.Sign() > 0 {
		s.record(EntryExpire, si, at, si.Account(), "", lost, decimal.Zero, "")
		s.forfeit(si, lost)
	}
	return nil
}

// endHold ends reservation r at at: its holds are dropped; what it held of an
// instrument that has expired or been revoked by then is forfeited, and so is what it
// held of a used instrument whose type does not carry its balance over.
func (s *step) endHold(r Reservation, at time.Time) error {
	s.ended = append(s.ended, r.OrderID)
	delete(s.resv, r.OrderID)
	for _, a := range r.Quote.Applications {
		si, err := s.mut(a.InstrumentID)
		if err != nil {
			return err
		}
		in := &si.Instrument
		amt := a.Amount.Amount()
		if a.Kind != Deduction {
			in.HeldRedemptions--
			s.record(EntryRelease, si, at, r.Account, r.OrderID, amt, decimal.Zero, "")
			continue
		}
		in.Held = in.Held.Sub(amt)
		s.record(EntryRelease, si, at, r.Account, r.OrderID, amt, decimal.Zero, "")
		pol, _ := s.w.p.Policy(in.Type)
		switch {
		case si.Expired || si.Expires != nil && !at.Before(*si.Expires):
			s.record(EntryExpire, si, at, r.Account, r.OrderID, amt, decimal.Zero, "")
			s.forfeit(si, amt)
		case in.Revoked || si.Used && !pol.CarryOver:
			s.setBalance(si, in.CurrentBalance().Sub(amt))
			s.record(EntryForfeit, si, at, r.Account, r.OrderID, amt, amt.Neg(), "")
			s.forfeit(si, amt)
		}
	}
	return nil
}

// get returns instrument id as the step sees it (nil when the store has none). One
// the step has not read yet is read with Tx.Instrument, which locks it in an Update.
func (s *step) get(id string) (*StoredInstrument, error) {
	if e, ok := s.insts.get(id); ok {
		return e.si, nil
	}
	si, ok, err := s.tx.Instrument(s.ctx, id)
	if err != nil || !ok {
		return nil, err
	}
	p := &si
	// Locked by its own read when it has no owner; an owned one only with its owner.
	s.insts.set(id, stepInst{si: p, locked: p.Account() == "" || s.holds(p.Account())})
	return p, nil
}

func (s *step) holds(account string) bool { return s.accts.has(account) }

// mut returns instrument id to change (see step for when it may be changed).
func (s *step) mut(id string) (*StoredInstrument, error) {
	si, err := s.get(id)
	if err != nil {
		return nil, err
	}
	if si == nil {
		return nil, fmt.Errorf("voucher: wallet: instrument %q is not in the store", id)
	}
	e, _ := s.insts.get(id)
	if !e.locked {
		return nil, fmt.Errorf("voucher: wallet: instrument %q of account %q changed without its account's lock", id, si.Account())
	}
	if !e.dirty {
		e.dirty = true
		s.insts.set(id, e)
		s.changed = append(s.changed, id)
	}
	return si, nil
}

// insert adds a new instrument to the step.
func (s *step) insert(si StoredInstrument) *StoredInstrument {
	p := &si
	s.insts.set(si.ID(), stepInst{si: p, locked: true, dirty: true})
	s.fresh = append(s.fresh, si.ID())
	return p
}

func (s *step) setBalance(si *StoredInstrument, b decimal.Decimal) {
	si.Instrument.Balance = &b
}

func (s *step) money(si *StoredInstrument, d decimal.Decimal) Money {
	cur, err := si.Instrument.CurrencyIn(s.w.cur)
	if err != nil {
		cur = s.w.cur
	}
	return NewMoney(d, cur)
}

// record appends a ledger entry showing si's state after the change.
func (s *step) record(kind EntryKind, si *StoredInstrument, at time.Time, account, order string, amount, delta decimal.Decimal, reason string) {
	s.recordMoney(kind, si, at, account, order, s.money(si, amount), s.money(si, delta), reason)
}

// recordMoney is record, of amounts already in si's currency.
func (s *step) recordMoney(kind EntryKind, si *StoredInstrument, at time.Time, account, order string, amount, delta Money, reason string) {
	in := &si.Instrument
	e := LedgerEntry{At: at, Kind: kind, Account: account, Instrument: in.ID, Order: order,
		Amount: amount, Delta: delta, Reason: reason}
	if si.Kind == Deduction {
		e.BalanceAfter = s.money(si, in.CurrentBalance())
		e.HeldAfter = s.money(si, in.Held)
	} else {
		e.BalanceAfter = s.money(si, decimal.Zero)
		e.HeldAfter = e.BalanceAfter
		e.RedeemedAfter = in.Redeemed
		e.HeldRedemptionsAfter = in.HeldRedemptions
	}
	s.entries = append(s.entries, e)
}

func (s *step) forfeit(si *StoredInstrument, d decimal.Decimal) {
	if d.Sign() <= 0 {
		return
	}
	if s.forfeited == nil {
		s.forfeited = map[string]Money{}
	}
	addMoney(s.forfeited, si.ID(), s.money(si, d))
}

func (s *step) forfeitedMap() map[string]Money {
	if s.forfeited == nil {
		return map[string]Money{}
	}
	return s.forfeited
}

func addMoney(m map[string]Money, id string, v Money) {
	if old, ok := m[id]; ok {
		v, _ = old.Add(v)
	}
	m[id] = v
}

// live returns the reservation of orderID that is live at the step's time; its
// account must be locked (the clock move has ended it otherwise).
func (s *step) live(orderID string) (Reservation, error) {
	if r, ok := s.resv[orderID]; ok && s.at.Before(r.Until) {
		return *r, nil
	}
	return Reservation{}, fmt.Errorf("%w: order %q has no live reservation", ErrNotReserved, orderID)
}

// orderSeen is what a step read of an order id before it took its locks.
type orderSeen struct {
	committed bool
	resv      *Reservation
}

// seeOrder reads whether orderID is committed or reserved. A step reads it before its
// locks, so that it does not hold them for the read (on a database, a round trip);
// notDuplicate decides on it once they are taken.
func (s *step) seeOrder(orderID string) (orderSeen, error) {
	if _, ok, err := s.tx.Order(s.ctx, orderID); err != nil || ok {
		return orderSeen{committed: ok}, err
	}
	r, ok, err := s.tx.Reservation(s.ctx, orderID)
	if err != nil || !ok {
		return orderSeen{}, err
	}
	found := r // only a reservation found is kept: r itself stays on the stack
	return orderSeen{resv: &found}, nil
}

// notDuplicate fails with ErrDuplicateOrder when orderID is committed or has a live
// reservation, as seen read before the buyer's lock; the buyer's own reservations are
// as read under it. A reservation of another account whose hold has ended by the
// step's time is ended here, on that account's behalf, so that its id is free. (What
// commits or reserves the id after seen was read fails this step's commit on the
// store's unique order ids: ErrDuplicateOrder all the same.)
func (s *step) notDuplicate(orderID string, seen orderSeen) error {
	if seen.committed {
		return fmt.Errorf("%w: order %q is already committed", ErrDuplicateOrder, orderID)
	}
	if slices.Contains(s.ended, orderID) {
		return nil
	}
	r, ok := s.resv[orderID]
	if !ok {
		if seen.resv == nil || s.holds(seen.resv.Account) {
			return nil // none, or the buyer's, which its clock move ended
		}
		r = seen.resv
	}
	if s.at.Before(r.Until) {
		return fmt.Errorf("%w: order %q has a live reservation", ErrDuplicateOrder, orderID)
	}
	if s.holds(r.Account) {
		return nil // its account's clock move ended it
	}
	// Another account's reservation that has run out: that account is brought to the
	// end of the hold, which ends it.
	return s.account(r.Account, r.Until, true)
}

// gather returns the instruments the Pricer may need for o, sorted by id: the buyer's
// own, those named in Use, and the typed-in ones whose code is in Codes.
func (s *step) gather(o *Order) ([]Instrument, error) {
	out := getInstruments(s.insts.len() + len(o.Use) + len(o.Codes))
	for _, e := range s.insts.all() { // each once: its keys are distinct
		if e.si.Account() == o.Account && o.Account != "" {
			out = append(out, e.si.Instrument)
		}
	}
	// One named in Use or Codes may be the buyer's own, or named twice.
	var seen map[string]bool
	add := func(si *StoredInstrument) {
		if si == nil {
			return
		}
		if seen == nil {
			seen = make(map[string]bool, cap(out))
			for i := range out {
				seen[out[i].ID] = true
			}
		}
		if !seen[si.ID()] {
			seen[si.ID()] = true
			out = append(out, si.Instrument)
		}
	}
	for _, id := range o.Use {
		si, err := s.get(id)
		if err != nil {
			return nil, err
		}
		add(si)
	}
	for _, code := range o.Codes {
		found, ok, err := s.tx.InstrumentByCode(s.ctx, code)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		if pol, _ := s.w.p.Policy(found.Instrument.Type); !pol.TypedCode {
			continue
		}
		si, err := s.get(found.ID())
		if err != nil {
			return nil, err
		}
		add(si)
	}
	for i := range out {
		if out[i].Account == "" && (!out[i].Held.IsZero() || out[i].HeldRedemptions > 0) {
			// Holds that other accounts' reservations have on a shared instrument may
			// have ended by now: end them, then read it again.
			if s.write && !s.dueFirst {
				return nil, errDueFirst
			}
			if err := s.endDueHolds(); err != nil {
				return nil, err
			}
			e, _ := s.insts.get(out[i].ID)
			out[i] = e.si.Instrument
		}
	}
	slices.SortFunc(out, func(a, b Instrument) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// instrumentLists keeps the lists gather builds for the Pricer, from one step to the
// next: a Pricer keeps nothing of the list it is given (see Pricer.Quote).
var instrumentLists = sync.Pool{New: func() any { return new([]Instrument) }}

// maxKeptList bounds the length of a list instrumentLists keeps.
const maxKeptList = 64

// getInstruments returns an empty list with room for n instruments.
func getInstruments(n int) []Instrument {
	p := instrumentLists.Get().(*[]Instrument)
	out := slices.Grow((*p)[:0], n)
	*p = nil
	instrumentLists.Put(p)
	return out
}

// putInstruments gives list back to instrumentLists, holding nothing it held.
func putInstruments(list []Instrument) {
	if cap(list) > maxKeptList {
		return
	}
	clear(list[:cap(list)])
	p := instrumentLists.Get().(*[]Instrument)
	*p = list[:0]
	instrumentLists.Put(p)
}

// lockWithDue locks account and, with it in sorted order, every account with
// something due by the step's time, which it brings to that time (see errDueFirst).
func (s *step) lockWithDue(account string) error {
	accounts := []string{account}
	from := ""
	for {
		due, err := s.tx.Due(s.ctx, s.at, from, sweepPage)
		if err != nil {
			return err
		}
		for _, a := range due {
			if a != "" {
				accounts = append(accounts, a)
			}
		}
		if len(due) < sweepPage {
			break
		}
		from = due[len(due)-1] + "\x00"
	}
	return s.lockAll(accounts, func(a string) bool { return a != account })
}

// endDueHolds brings every account with something due by the step's time to that
// time (once per step), as Wallet.Expire does: a hold that has ended is no longer
// held, whichever account's reservation it was.
func (s *step) endDueHolds() error {
	if s.duesDone {
		return nil
	}
	s.duesDone = true
	from := ""
	for {
		due, err := s.tx.Due(s.ctx, s.at, from, sweepPage)
		if err != nil {
			return err
		}
		for _, a := range due {
			if a != "" && !s.holds(a) {
				if err := s.account(a, s.at, true); err != nil {
					return err
				}
			}
		}
		if len(due) < sweepPage {
			return nil
		}
		from = due[len(due)-1] + "\x00"
	}
}

// flush writes the step to the store: instruments, reservations, orders, refunds,
// ledger entries, clocks.
func (s *step) flush() error {
	if s.discard {
		return nil
	}
	ctx, tx := s.ctx, s.tx
	for _, id := range s.fresh {
		e, _ := s.insts.get(id)
		if err := tx.InsertInstrument(ctx, *e.si); err != nil {
			return err
		}
	}
	for _, id := range s.changed {
		if slices.Contains(s.fresh, id) {
			continue
		}
		e, _ := s.insts.get(id)
		if err := tx.UpdateInstrument(ctx, *e.si); err != nil {
			return err
		}
	}
	for _, id := range s.ended {
		if err := tx.DeleteReservation(ctx, id); err != nil {
			return err
		}
	}
	for _, r := range s.reserve {
		if err := tx.InsertReservation(ctx, r); err != nil {
			return err
		}
	}
	for _, rec := range s.orders {
		if err := tx.InsertOrder(ctx, rec); err != nil {
			return err
		}
	}
	for _, rec := range s.updated {
		if err := tx.UpdateOrder(ctx, rec); err != nil {
			return err
		}
	}
	for _, rec := range s.refunds {
		if err := tx.InsertRefund(ctx, rec); err != nil {
			return err
		}
	}
	if len(s.entries) > 0 {
		if err := tx.AppendEntries(ctx, s.entries); err != nil {
			return err
		}
	}
	moved := make([]string, 0, s.accts.len())
	for a, h := range s.accts.all() {
		if h.moves {
			moved = append(moved, a)
		}
	}
	slices.Sort(moved)
	for _, a := range moved {
		h, _ := s.accts.get(a)
		if err := tx.SetClock(ctx, a, h.clock); err != nil {
			return err
		}
	}
	return nil
}
