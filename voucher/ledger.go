package voucher

import (
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"
)

// EntryKind is what a ledger entry records.
type EntryKind string

// Ledger entry kinds.
const (
	// EntryGrant: the instrument entered the wallet. Amount is its face value; for a
	// deduction whose balance is below its face value, Delta is the (negative) opening
	// difference.
	EntryGrant EntryKind = "grant"
	// EntryActivate: an account activated the instrument's code.
	EntryActivate EntryKind = "activate"
	// EntryDeduct: a checkout took Amount from a deduction instrument (Delta −Amount).
	EntryDeduct EntryKind = "deduct"
	// EntryRedeem: a checkout used one redemption of a discount instrument; Amount is
	// the discount it gave.
	EntryRedeem EntryKind = "redeem"
	// EntryReserve: a reservation holds Amount (deduction) or one redemption
	// (discount) of the instrument.
	EntryReserve EntryKind = "reserve"
	// EntryCapture: a captured reservation turned its hold into a deduction
	// (Delta −Amount) or a redemption.
	EntryCapture EntryKind = "capture"
	// EntryRelease: a hold ended without capture (released, or its time ran out).
	EntryRelease EntryKind = "release"
	// EntryRefundRestore: a refund gave Amount back to the balance (Delta +Amount).
	EntryRefundRestore EntryKind = "refund_restore"
	// EntryRefundForfeit: a refund forfeited the instrument's share Amount of the
	// refunded lines (Delta 0: that value had already left the balance).
	EntryRefundForfeit EntryKind = "refund_forfeit"
	// EntryForfeit: the leftover of a used instrument whose type does not carry its
	// balance over was forfeited (Delta −Amount).
	EntryForfeit EntryKind = "forfeit"
	// EntryExpire: Amount was lost because the instrument expired (Delta 0: an expired
	// instrument keeps showing its balance).
	EntryExpire EntryKind = "expire"
)

// LedgerEntry is one line of the ledger (收支明细). Entries are append-only, numbered
// from 1 in Seq and ordered by At.
type LedgerEntry struct {
	Seq int64
	At  time.Time
	// Kind is what happened.
	Kind EntryKind
	// Account is the buyer for order entries, otherwise the instrument's owner ("" for
	// an unclaimed instrument or a typed-in code).
	Account    string
	Instrument string
	// Order is the order id, for entries an order caused.
	Order string
	// Amount is the value the entry is about (always >= 0).
	Amount Money
	// Delta is the signed change of the instrument's balance (deductions; zero for
	// discount instruments).
	Delta Money
	// BalanceAfter and HeldAfter are the instrument's balance and held value after
	// the entry (deductions; zero for discount instruments).
	BalanceAfter Money
	HeldAfter    Money
	// RedeemedAfter and HeldRedemptionsAfter are the discount instrument's redemptions
	// used and held after the entry (zero for deductions).
	RedeemedAfter        int
	HeldRedemptionsAfter int
}

func (e LedgerEntry) String() string {
	s := fmt.Sprintf("#%d %s %s %s", e.Seq, e.At.Format(time.RFC3339), e.Kind, e.Instrument)
	if e.Order != "" {
		s += " order " + e.Order
	}
	if e.Account != "" {
		s += " account " + e.Account
	}
	s += " amount " + e.Amount.String()
	if !e.Delta.IsZero() {
		s += " delta " + e.Delta.Amount().StringFixed(e.Delta.Currency().Scale())
	}
	return s
}

// Ledger is the read side of a Wallet's ledger. Its methods are safe for concurrent
// use and return copies.
type Ledger struct {
	w *Wallet
}

// Ledger returns the wallet's ledger.
func (w *Wallet) Ledger() *Ledger { return &Ledger{w: w} }

// Query returns the entries q selects, in Seq order.
func (l *Ledger) Query(q LedgerQuery) []LedgerEntry {
	l.w.mu.RLock()
	defer l.w.mu.RUnlock()
	return l.w.store.Entries(q)
}

// Entries returns every entry, in Seq order.
func (l *Ledger) Entries() []LedgerEntry { return l.Query(LedgerQuery{}) }

// Len is the number of entries.
func (l *Ledger) Len() int {
	l.w.mu.RLock()
	defer l.w.mu.RUnlock()
	return l.w.store.LedgerLen()
}

// ByInstrument returns the entries of instrument id.
func (l *Ledger) ByInstrument(id string) []LedgerEntry {
	return l.Query(LedgerQuery{Instrument: id})
}

// ByOrder returns the entries order id caused.
func (l *Ledger) ByOrder(id string) []LedgerEntry { return l.Query(LedgerQuery{Order: id}) }

// ByAccount returns the entries of account.
func (l *Ledger) ByAccount(account string) []LedgerEntry {
	return l.Query(LedgerQuery{Account: account})
}

// Between returns the entries with At in [from, to).
func (l *Ledger) Between(from, to time.Time) []LedgerEntry {
	return l.Query(LedgerQuery{From: from, To: to})
}

// Verify checks the ledger against the instruments and reservations, and reports every
// broken invariant:
//   - entries are numbered 1, 2, … and never go back in time;
//   - for every deduction instrument, face value + the sum of its Deltas = balance,
//     0 <= held <= balance, held = what live reservations hold of it, and its last
//     entry's BalanceAfter and HeldAfter are its balance and held;
//   - for every discount instrument, redemptions used + held <= its redemptions, used
//     = those at grant + the redeem and capture entries, held = the live reservations
//     using it, and its last entry shows them.
func (l *Ledger) Verify() error {
	w := l.w
	w.mu.RLock()
	all := w.store.Entries(LedgerQuery{})
	insts := w.store.Instruments()
	resv := w.store.Reservations()
	w.mu.RUnlock()

	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf("voucher: ledger: "+format, a...)) }
	for i, e := range all {
		if e.Seq != int64(i+1) {
			bad("entry %d has seq %d", i+1, e.Seq)
		}
		if i > 0 && e.At.Before(all[i-1].At) {
			bad("entry %d (%s) is before entry %d (%s)", e.Seq, e.At, all[i-1].Seq, all[i-1].At)
		}
		if e.Amount.IsNegative() {
			bad("entry %d has negative amount %s", e.Seq, e.Amount)
		}
	}
	held := make(map[string]decimal.Decimal)
	heldN := make(map[string]int)
	for _, r := range resv {
		for _, a := range r.Quote.Applications {
			if a.Kind == Deduction {
				held[a.InstrumentID] = held[a.InstrumentID].Add(a.Amount.Amount())
			} else {
				heldN[a.InstrumentID]++
			}
		}
	}
	type agg struct {
		delta decimal.Decimal
		last  *LedgerEntry
		// redeemed counts the grant's redemptions and every redemption used since.
		redeemed int
	}
	per := make(map[string]*agg, len(insts))
	for i := range all {
		e := &all[i]
		a := per[e.Instrument]
		if a == nil {
			a = &agg{}
			per[e.Instrument] = a
		}
		a.delta = a.delta.Add(e.Delta.Amount())
		a.last = e
		switch e.Kind {
		case EntryGrant:
			a.redeemed += e.RedeemedAfter
		case EntryRedeem, EntryCapture:
			a.redeemed++
		}
	}
	for _, si := range insts {
		in := &si.Instrument
		a := per[in.ID]
		if a == nil {
			bad("instrument %q has no entries", in.ID)
			continue
		}
		switch si.Kind {
		case Deduction:
			if got := in.Amount.Add(a.delta); !got.Equal(in.Balance) {
				bad("instrument %q: face %s + deltas %s = %s, balance is %s", in.ID, in.Amount, a.delta, got, in.Balance)
			}
			if in.Held.IsNegative() || in.Held.GreaterThan(in.Balance) {
				bad("instrument %q: held %s outside 0..balance %s", in.ID, in.Held, in.Balance)
			}
			if in.Balance.IsNegative() {
				bad("instrument %q: negative balance %s", in.ID, in.Balance)
			}
			if !in.Held.Equal(held[in.ID]) {
				bad("instrument %q: held %s, live reservations hold %s", in.ID, in.Held, held[in.ID])
			}
			if !a.last.BalanceAfter.Amount().Equal(in.Balance) || !a.last.HeldAfter.Amount().Equal(in.Held) {
				bad("instrument %q: last entry shows balance %s held %s, instrument has %s and %s",
					in.ID, a.last.BalanceAfter.Amount(), a.last.HeldAfter.Amount(), in.Balance, in.Held)
			}
		case Discount:
			if in.Redeemed+in.HeldRedemptions > in.Redemptions() || in.Redeemed < 0 || in.HeldRedemptions < 0 {
				bad("instrument %q: %d redeemed + %d held of %d", in.ID, in.Redeemed, in.HeldRedemptions, in.Redemptions())
			}
			if in.Redeemed != a.redeemed {
				bad("instrument %q: %d redeemed, the ledger records %d", in.ID, in.Redeemed, a.redeemed)
			}
			if in.HeldRedemptions != heldN[in.ID] {
				bad("instrument %q: %d redemptions held, live reservations hold %d", in.ID, in.HeldRedemptions, heldN[in.ID])
			}
			if a.last.RedeemedAfter != in.Redeemed || a.last.HeldRedemptionsAfter != in.HeldRedemptions {
				bad("instrument %q: last entry shows %d redeemed %d held, instrument has %d and %d",
					in.ID, a.last.RedeemedAfter, a.last.HeldRedemptionsAfter, in.Redeemed, in.HeldRedemptions)
			}
		}
	}
	return errors.Join(errs...)
}
