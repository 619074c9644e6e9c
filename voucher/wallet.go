package voucher

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"
)

// DefaultHold is how long a reservation holds when Reserve is given no positive hold.
const DefaultHold = 30 * time.Minute

// ErrOverdraw reports a quote from the Pricer that takes more from an instrument than
// is available to it (a broken Pricer); the wallet refuses to commit it.
var ErrOverdraw = newCode("overdraw", "pricer took more than is available")

// Wallet keeps instruments, committed orders, reservations and the ledger in a Store,
// and prices orders through a Pricer. It holds no state of its own: each step is one
// store transaction that reads what it needs, asks the Pricer, and writes the outcome
// with its ledger entries, whole or not at all. It never knows which store it runs on,
// and any number of wallets, in any number of processes, may share one store.
//
// Every step takes the time it happens at. Each account has its own clock, which a
// step on the account moves to its time and which never moves backwards
// (ErrClockBackwards); a step on one account never fails because of another's time.
// Moving an account's clock records, in time order, what happened to it meanwhile:
// its deduction instruments that expired lose their balance not held by a live
// reservation, and its reservations whose hold ended are ended (what they held of an
// instrument that has expired by then is forfeited at that moment). Expire does the
// same for every account from a sweep. Instruments with no owner (unclaimed codes,
// typed-in promo codes) are locked one by one when a step uses them.
//
// Invariants, checked by Verify: for each deduction instrument, face value + the sum
// of its ledger deltas = balance, 0 <= held <= balance, where held is what live
// reservations hold of it, and nothing ever takes more than it holds; a discount
// instrument never serves more orders than its redemptions; an order id commits once.
type Wallet struct {
	p     Pricer
	cur   Currency
	store Store
}

// NewWallet returns a wallet that prices through p and keeps its state in store
// (store/memory, store/sqlite or store/postgres). Neither may be nil.
func NewWallet(p Pricer, store Store) *Wallet {
	if p == nil || store == nil {
		panic("voucher: NewWallet needs a Pricer and a Store")
	}
	return &Wallet{p: p, cur: p.Currency(), store: store}
}

// Currency is the currency the wallet prices in.
func (w *Wallet) Currency() Currency { return w.cur }

// update runs fn as one step at at in a store transaction; view does so read-only.
func (w *Wallet) update(ctx context.Context, at time.Time, fn func(s *step) error) error {
	if err := checkStepTime(at); err != nil {
		return err
	}
	dueFirst := false
	for {
		err := w.store.Update(ctx, func(ctx context.Context, tx Tx) error {
			s := w.newStep(ctx, tx, at, true)
			s.dueFirst = dueFirst
			if err := fn(s); err != nil {
				return err
			}
			return s.flush()
		})
		if !errors.Is(err, errDueFirst) || dueFirst {
			return err
		}
		dueFirst = true
	}
}

func (w *Wallet) view(ctx context.Context, at time.Time, fn func(s *step) error) error {
	if err := checkStepTime(at); err != nil {
		return err
	}
	return w.store.View(ctx, func(ctx context.Context, tx Tx) error {
		return fn(w.newStep(ctx, tx, at, false))
	})
}

func checkStepTime(at time.Time) error {
	if err := CheckTime(at); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidTime, err)
	}
	return nil
}

// Grant adds an instrument at time at, a step on its owner's account (an instrument
// with no owner is granted on its own). Its type must be one the Pricer knows, and it
// must be valid under that type's policy (Instrument.Validate); its id and its code
// (if any) must be new in the store. An empty Currency becomes the Pricer's; a nil
// IssuedAt becomes at; a deduction without a Balance starts at its face value (an
// explicit zero stays). An instrument of a typed-in type, or one pending activation,
// has no owner: its Account is cleared. Held, HeldRedemptions and Revoked are the
// wallet's to keep and must be zero.
func (w *Wallet) Grant(ctx context.Context, inst Instrument, at time.Time) error {
	return w.GrantAll(ctx, []Instrument{inst}, at)
}

// GrantAll adds instruments at time at in one step, a step on each of their owners:
// each as Grant says, all of them or, when one is refused, none.
func (w *Wallet) GrantAll(ctx context.Context, insts []Instrument, at time.Time) error {
	// The step's time first: a nil IssuedAt becomes at, and a time outside the years
	// 1 to 9999 is the step's (invalid_time), not the instrument's issued_at.
	if err := checkStepTime(at); err != nil {
		return err
	}
	ready := make([]StoredInstrument, len(insts))
	owners := make([]string, len(insts))
	for i, in := range insts {
		si, err := w.granted(in, at)
		if err != nil {
			return err
		}
		ready[i], owners[i] = si, si.Account()
	}
	return w.update(ctx, at, func(s *step) error {
		if err := s.lock(owners...); err != nil {
			return err
		}
		for _, r := range ready {
			si := s.insert(r.Clone())
			in := &si.Instrument
			if si.Kind != Deduction {
				s.record(EntryGrant, si, at, in.Account, "", in.Amount, decimal.Zero, "")
				continue
			}
			s.record(EntryGrant, si, at, in.Account, "", in.Amount, in.CurrentBalance().Sub(in.Amount), "")
			if si.Expires != nil && !at.Before(*si.Expires) {
				// Granted already expired: its balance is lost from the start.
				if err := s.expire(in.ID, at); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// granted is inst as Grant stores it at at, with its defaults, checked.
func (w *Wallet) granted(inst Instrument, at time.Time) (StoredInstrument, error) {
	pol, ok := w.p.Policy(inst.Type)
	if !ok {
		return StoredInstrument{}, fmt.Errorf("%w: instrument %q: unknown instrument type %q", ErrInvalidInstrument, inst.ID, inst.Type)
	}
	inst = inst.Clone()
	if inst.Currency == "" {
		inst.Currency = w.cur.Code()
	}
	if pol.TypedCode || inst.PendingActivation {
		inst.Account = ""
	}
	if inst.IssuedAt == nil {
		inst.IssuedAt = &at
	}
	if pol.Kind == Deduction && inst.Balance == nil {
		inst.Balance = Ptr(inst.Amount)
	}
	if err := inst.Validate(pol, w.cur); err != nil {
		return StoredInstrument{}, fmt.Errorf("instrument %q: %w", inst.ID, err)
	}
	exp := inst.ExpiresOn(pol)
	if exp != nil {
		// Each given time is within the years 1 to 9999; one derived from them (claimed_at
		// + the type's validity) must be too, or no store could write it.
		if err := CheckTime(*exp); err != nil {
			return StoredInstrument{}, fmt.Errorf("%w: instrument %q: claimed_at + validity of type %s: %w", ErrInvalidInstrument, inst.ID, pol.Name, err)
		}
	}
	if !inst.Held.IsZero() || inst.HeldRedemptions != 0 || inst.Revoked {
		return StoredInstrument{}, fmt.Errorf("%w: instrument %q: held, held redemptions and revoked are the wallet's to keep and must be zero", ErrInvalidInstrument, inst.ID)
	}
	return StoredInstrument{Instrument: inst, Kind: pol.Kind, Expires: exp}, nil
}

// Quote prices o at at as the wallet would be then: what expires or ends on o's
// account by at is applied in memory, and nothing is written; a quote may reuse any
// order id. Errors: ErrClockBackwards (at is before the account's clock), then the
// Pricer's (ErrInvalidOrder, ErrCurrencyMismatch, ErrUnknownInstrument, ErrCodeNotFound).
func (w *Wallet) Quote(ctx context.Context, o Order, at time.Time) (*Quote, error) {
	var q *Quote
	err := w.view(ctx, at, func(s *step) error {
		var err error
		q, err = s.price(&o)
		return err
	})
	return q, err
}

// Checkout prices o at at and commits it: deduction balances drop, discount instruments
// use a redemption, and the ledger records it. The order id is the idempotency key.
// Errors: ErrClockBackwards, ErrDuplicateOrder (the id is committed or has a live
// reservation), then the Pricer's.
func (w *Wallet) Checkout(ctx context.Context, o Order, at time.Time) (*Quote, error) {
	var q *Quote
	err := w.update(ctx, at, func(s *step) error {
		var err error
		if q, err = s.priceToCommit(&o); err != nil {
			return err
		}
		return s.commitOrder(q, o.ID, o.Account, false) // the store keeps its own copy
	})
	return q, err
}

// Reserve prices o at at and holds what the quote takes until at+hold (exclusive;
// DefaultHold when hold <= 0): one redemption of each discount instrument it uses, and
// each deduction amount. Held value is unavailable to every other order and quote.
// Errors: as Checkout.
func (w *Wallet) Reserve(ctx context.Context, o Order, at time.Time, hold time.Duration) (*Quote, error) {
	if hold <= 0 {
		hold = DefaultHold
	}
	var q *Quote
	err := w.update(ctx, at, func(s *step) error {
		if err := checkStepTime(at.Add(hold)); err != nil {
			return fmt.Errorf("the hold would end after the years voucherkit holds: %w", err)
		}
		var err error
		if q, err = s.priceToCommit(&o); err != nil {
			return err
		}
		for _, a := range q.Applications {
			si, err := s.mut(a.InstrumentID)
			if err != nil {
				return err
			}
			if a.Kind == Deduction {
				si.Instrument.Held = si.Instrument.Held.Add(a.Amount.Amount())
			} else {
				si.Instrument.HeldRedemptions++
			}
			s.record(EntryReserve, si, at, o.Account, o.ID, a.Amount.Amount(), decimal.Zero, "")
		}
		s.reserve = append(s.reserve, Reservation{OrderID: o.ID, Account: o.Account, At: at, Until: at.Add(hold), Quote: q.recorded()})
		return nil
	})
	return q, err
}

// price brings o's account to the step's time and prices o against what the account
// and o may use.
func (s *step) price(o *Order) (*Quote, error) {
	if o.Account == "" {
		return nil, fmt.Errorf("%w: account: is required", ErrInvalidOrder)
	}
	if err := s.lock(o.Account); err != nil {
		return nil, err
	}
	insts, err := s.gather(o)
	if err != nil {
		return nil, err
	}
	q, err := s.w.p.Quote(*o, insts, s.at)
	putInstruments(insts)
	return q, err
}

// priceToCommit is price for a step that commits or reserves o: the id must be free.
func (s *step) priceToCommit(o *Order) (*Quote, error) {
	if o.Account == "" {
		return nil, fmt.Errorf("%w: account: is required", ErrInvalidOrder)
	}
	seen, err := s.seeOrder(o.ID)
	if err != nil {
		return nil, err
	}
	lock := s.lock
	if s.dueFirst {
		lock = func(a ...string) error { return s.lockWithDue(a[0]) }
	}
	if err := lock(o.Account); err != nil {
		return nil, err
	}
	if err := s.notDuplicate(o.ID, seen); err != nil {
		return nil, err
	}
	q, err := s.price(o)
	if err != nil {
		return nil, err
	}
	return q, s.available(q)
}

// available refuses a quote that takes more than is available of an instrument.
func (s *step) available(q *Quote) error {
	for _, a := range q.Applications {
		si, err := s.get(a.InstrumentID)
		if err != nil {
			return err
		}
		if si == nil {
			return fmt.Errorf("%w: order %q: the pricer applied unknown instrument %q", ErrOverdraw, q.OrderID, a.InstrumentID)
		}
		in := &si.Instrument
		if a.Kind == Deduction {
			avail := in.Available()
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
func (s *step) commitOrder(q *Quote, orderID, account string, captured bool) error {
	kindDed, kindDis := EntryDeduct, EntryRedeem
	if captured {
		kindDed, kindDis = EntryCapture, EntryCapture
	}
	for _, a := range q.Applications {
		si, err := s.mut(a.InstrumentID)
		if err != nil {
			return err
		}
		in := &si.Instrument
		si.Used = true
		if a.Kind == Deduction {
			if captured {
				in.Held = in.Held.Sub(a.Amount.Amount())
			}
			for _, part := range byAccount(q, a, account) {
				// In units: an application is in the rule set's currency, as is the
				// instrument it applied.
				bal, err := s.money(si, in.CurrentBalance()).Sub(part.amount)
				if err != nil {
					return err
				}
				s.setBalance(si, bal.Amount())
				s.recordMoney(kindDed, si, s.at, part.account, orderID, part.amount, part.amount.Neg(), "")
			}
			continue
		}
		if captured {
			in.HeldRedemptions--
		}
		in.Redeemed++
		s.recordMoney(kindDis, si, s.at, account, orderID, a.Amount, s.money(si, decimal.Zero), "")
	}
	for _, a := range q.Applications {
		if a.Kind != Deduction {
			continue
		}
		e, _ := s.insts.get(a.InstrumentID)
		si := e.si
		if pol, _ := s.w.p.Policy(si.Instrument.Type); pol.CarryOver {
			continue
		}
		left := si.Instrument.Available()
		if left.Sign() <= 0 {
			continue
		}
		s.setBalance(si, si.Instrument.CurrentBalance().Sub(left))
		s.record(EntryForfeit, si, s.at, account, orderID, left, left.Neg(), "")
		s.forfeit(si, left)
	}
	s.orders = append(s.orders, OrderRecord{ID: orderID, Account: account, At: s.at, Quote: q.recorded()})
	return nil
}

type accountPart struct {
	account string
	amount  Money
}

// byAccount splits what application a took by the account whose charges it paid, in
// the order of q's lines: on a bill, one part per account charged; on an order, one
// part for the buyer.
func byAccount(q *Quote, a Application, buyer string) []accountPart {
	if len(q.Accounts) == 0 {
		return []accountPart{{buyer, a.Amount}}
	}
	lineAccount := make(map[string]string, len(q.Lines))
	for _, l := range q.Lines {
		lineAccount[l.LineID] = l.Account
	}
	var parts []accountPart
	at := map[string]int{}
	for _, la := range a.Lines {
		acct := lineAccount[la.LineID]
		k, ok := at[acct]
		if !ok {
			k = len(parts)
			at[acct] = k
			parts = append(parts, accountPart{account: acct})
		}
		parts[k].amount, _ = parts[k].amount.Add(la.Amount) // one currency: the quote's
	}
	return parts
}

// ClockResult is the outcome of a step that moves clocks or ends a hold.
type ClockResult struct {
	At time.Time `json:"at"`
	// Forfeited is the value lost per instrument id in this step; only amounts above zero.
	Forfeited map[string]Money `json:"forfeited"`
}

// Capture commits the live reservation of orderID exactly as it was priced, even if
// an instrument it holds has expired since, and returns the quote as reserved (without
// the trace Reserve returned: see Quote.Trace). Errors: ErrClockBackwards, ErrNotReserved
// (never reserved, released, captured, or past its hold).
func (w *Wallet) Capture(ctx context.Context, orderID string, at time.Time) (*Quote, error) {
	var q *Quote
	err := w.update(ctx, at, func(s *step) error {
		r, err := s.reservation(orderID)
		if err != nil {
			return err
		}
		s.ended = append(s.ended, orderID)
		delete(s.resv, orderID)
		q = r.Quote.Clone()
		return s.commitOrder(r.Quote, orderID, r.Account, true)
	})
	return q, err
}

// reservation locks the account of orderID's reservation and returns it, live.
func (s *step) reservation(orderID string) (Reservation, error) {
	r, ok, err := s.tx.Reservation(s.ctx, orderID)
	if err != nil {
		return Reservation{}, err
	}
	if !ok {
		return Reservation{}, fmt.Errorf("%w: order %q has no live reservation", ErrNotReserved, orderID)
	}
	if err := s.lock(r.Account); err != nil {
		return Reservation{}, err
	}
	return s.live(orderID)
}

// Release drops the live reservation of orderID: what it held is free again, or
// forfeited where the instrument has expired meanwhile. Errors: ErrClockBackwards,
// ErrNotReserved.
func (w *Wallet) Release(ctx context.Context, orderID string, at time.Time) (*ClockResult, error) {
	var res *ClockResult
	err := w.update(ctx, at, func(s *step) error {
		r, err := s.reservation(orderID)
		if err != nil {
			return err
		}
		if err := s.endHold(r, at); err != nil {
			return err
		}
		res = &ClockResult{At: at, Forfeited: s.forfeitedMap()}
		return nil
	})
	return res, err
}

// Advance moves account's clock to at, recording what expires or ends on the way.
// Errors: ErrClockBackwards.
func (w *Wallet) Advance(ctx context.Context, account string, at time.Time) (*ClockResult, error) {
	var res *ClockResult
	err := w.update(ctx, at, func(s *step) error {
		if err := s.lock(account); err != nil {
			return err
		}
		res = &ClockResult{At: at, Forfeited: s.forfeitedMap()}
		return nil
	})
	return res, err
}

// sweepPage is how many accounts Expire reads at once.
const sweepPage = 256

// Expire records, for every account with something due by upTo (an instrument that
// expires, a hold that ends), what happened to it, as Advance does, each account in a
// transaction of its own; instruments with no owner are expired too. An account's
// clock moves only to the latest moment recorded for it (never to upTo itself), so
// that the sweep refuses none of its own later steps; an account whose clock is
// already past upTo is left as it is. A billing system runs it from cron, so
// that expiries are recorded without waiting for each account's next step. The result
// sums what every account forfeited; on an error, the accounts done before it stay done.
func (w *Wallet) Expire(ctx context.Context, upTo time.Time) (*ClockResult, error) {
	// Checked here, not only by each account's step: with nothing due, a time outside
	// the years 1 to 9999 would otherwise be accepted.
	if err := checkStepTime(upTo); err != nil {
		return nil, err
	}
	res := &ClockResult{At: upTo, Forfeited: map[string]Money{}}
	from := ""
	for {
		var due []string
		err := w.store.View(ctx, func(ctx context.Context, tx Tx) error {
			var err error
			due, err = tx.Due(ctx, upTo, from, sweepPage)
			return err
		})
		if err != nil {
			return res, err
		}
		for _, a := range due {
			var lost map[string]Money
			err := w.update(ctx, upTo, func(s *step) error {
				lost = nil
				if err := s.account(a, upTo, true); err != nil {
					return err
				}
				lost = s.forfeitedMap()
				return nil
			})
			if err != nil {
				return res, err
			}
			for id, m := range lost {
				addMoney(res.Forfeited, id, m)
			}
		}
		if len(due) < sweepPage {
			return res, nil
		}
		from = due[len(due)-1] + "\x00" // the first account after the last one listed
	}
}
