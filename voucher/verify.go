package voucher

import (
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"
)

// VerifyLedger checks a wallet's ledger against its instruments and reservations and
// reports every broken invariant. entries are the whole ledger in Seq order.
//
//   - Seq is strictly increasing; one account's entries never go back in time.
//   - Replaying a deduction instrument's entries in order, nothing ever takes more than
//     it holds: a deduction, forfeit or revoke takes at most what is available
//     (balance less held), a capture at most what is held, an expiry at most what is
//     left and not lost before; a refund restores or forfeits at most what that order
//     took from it and has not been refunded; the balance stays within 0..face value
//     and held within 0..balance. Its value is spent at most once: what orders took,
//     was forfeited, revoked or expired never adds up to more than its face value plus
//     what refunds and adjustments gave back.
//   - The end of the replay is the instrument as stored: balance = face value + the
//     sum of its deltas, held = what live reservations hold of it, and its last
//     entry shows both.
//   - A discount instrument never serves more orders than its redemptions: used =
//     those at grant + redeem and capture entries, held = live reservations using it.
func VerifyLedger(entries []LedgerEntry, insts []StoredInstrument, resv []Reservation) error {
	var v ledgerCheck
	v.order(entries)
	byInst := make(map[string][]*LedgerEntry, len(insts))
	for i := range entries {
		e := &entries[i]
		byInst[e.Instrument] = append(byInst[e.Instrument], e)
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
	for i := range insts {
		si := &insts[i]
		es := byInst[si.ID()]
		if len(es) == 0 {
			v.bad("instrument %q has no entries", si.ID())
			continue
		}
		if si.Kind == Deduction {
			v.deduction(si, es, held[si.ID()])
		} else {
			v.discount(si, es, heldN[si.ID()])
		}
		delete(byInst, si.ID())
	}
	for id := range byInst {
		v.bad("entries name instrument %q, which the store does not have", id)
	}
	return errors.Join(v.errs...)
}

type ledgerCheck struct{ errs []error }

func (v *ledgerCheck) bad(format string, a ...any) {
	v.errs = append(v.errs, fmt.Errorf("voucher: ledger: "+format, a...))
}

func (v *ledgerCheck) order(entries []LedgerEntry) {
	last := make(map[string]time.Time)
	for i := range entries {
		e := &entries[i]
		if i > 0 && e.Seq <= entries[i-1].Seq {
			v.bad("entry %d follows entry %d", e.Seq, entries[i-1].Seq)
		}
		if t, ok := last[e.Account]; ok && e.At.Before(t) {
			v.bad("entry %d of account %q (%s) is before the account's previous entry (%s)",
				e.Seq, e.Account, e.At.Format(time.RFC3339Nano), t.Format(time.RFC3339Nano))
		}
		last[e.Account] = e.At
		if e.Amount.IsNegative() {
			v.bad("entry %d has negative amount %s", e.Seq, e.Amount)
		}
	}
}

// deduction replays one deduction instrument's entries (see VerifyLedger).
func (v *ledgerCheck) deduction(si *StoredInstrument, es []*LedgerEntry, liveHeld decimal.Decimal) {
	in := &si.Instrument
	id := in.ID
	face := in.Amount
	var bal, hld, lost decimal.Decimal
	took := map[string]decimal.Decimal{} // per order: what it took and has not had refunded
	for k, e := range es {
		amt, delta := e.Amount.Amount(), e.Delta.Amount()
		avail := bal.Sub(hld)
		over := func(what string, limit decimal.Decimal) {
			if amt.GreaterThan(limit) {
				v.bad("instrument %q: entry %d %s %s, more than the %s it had", id, e.Seq, e.Kind, amt, what)
			}
		}
		switch e.Kind {
		case EntryGrant:
			if k != 0 {
				v.bad("instrument %q: entry %d grants it again", id, e.Seq)
			}
			bal = face
		case EntryDeduct:
			over(avail.String()+" available", avail)
			took[e.Order] = took[e.Order].Add(amt)
		case EntryCapture:
			over(hld.String()+" held", hld)
			hld = hld.Sub(amt)
			took[e.Order] = took[e.Order].Add(amt)
		case EntryReserve:
			over(avail.String()+" available", avail)
			hld = hld.Add(amt)
		case EntryRelease:
			over(hld.String()+" held", hld)
			hld = hld.Sub(amt)
		case EntryForfeit, EntryRevoke:
			over(avail.String()+" available", avail)
		case EntryExpire:
			left := bal.Sub(lost)
			over(left.String()+" left", left)
			lost = lost.Add(amt)
		case EntryRefundRestore, EntryRefundForfeit:
			over(took[e.Order].String()+" its order "+e.Order+" took", took[e.Order])
			took[e.Order] = took[e.Order].Sub(amt)
		}
		bal = bal.Add(delta)
		if e.Kind == EntryRefundForfeit || e.Kind == EntryExpire {
			if !delta.IsZero() {
				v.bad("instrument %q: entry %d %s changes the balance by %s", id, e.Seq, e.Kind, delta)
			}
		}
		if bal.IsNegative() || bal.GreaterThan(face) || hld.IsNegative() || hld.GreaterThan(bal) {
			v.bad("instrument %q: after entry %d balance %s and held %s are outside 0 <= held <= balance <= %s", id, e.Seq, bal, hld, face)
		}
		if !e.BalanceAfter.Amount().Equal(bal) || !e.HeldAfter.Amount().Equal(hld) {
			v.bad("instrument %q: entry %d shows balance %s held %s, the replay gives %s and %s",
				id, e.Seq, e.BalanceAfter.Amount(), e.HeldAfter.Amount(), bal, hld)
		}
	}
	if cur := in.CurrentBalance(); !cur.Equal(bal) {
		v.bad("instrument %q: balance is %s, face %s + deltas give %s", id, cur, face, bal)
	}
	if !in.Held.Equal(hld) || !in.Held.Equal(liveHeld) {
		v.bad("instrument %q: held is %s, its entries give %s, live reservations hold %s", id, in.Held, hld, liveHeld)
	}
}

// discount replays one discount instrument's entries (see VerifyLedger).
func (v *ledgerCheck) discount(si *StoredInstrument, es []*LedgerEntry, liveHeld int) {
	in := &si.Instrument
	used, hld := 0, 0
	for _, e := range es {
		switch e.Kind {
		case EntryGrant:
			used = e.RedeemedAfter
		case EntryRedeem:
			used++
		case EntryCapture:
			used++
			hld--
		case EntryReserve:
			hld++
		case EntryRelease:
			hld--
		}
		if used+hld > in.Redemptions() || hld < 0 {
			v.bad("instrument %q: after entry %d, %d redemptions used and %d held of %d", in.ID, e.Seq, used, hld, in.Redemptions())
		}
		if e.RedeemedAfter != used || e.HeldRedemptionsAfter != hld {
			v.bad("instrument %q: entry %d shows %d used %d held, the replay gives %d and %d",
				in.ID, e.Seq, e.RedeemedAfter, e.HeldRedemptionsAfter, used, hld)
		}
	}
	if in.Redeemed != used || in.HeldRedemptions != hld || hld != liveHeld {
		v.bad("instrument %q: %d used and %d held; its entries give %d and %d, live reservations hold %d",
			in.ID, in.Redeemed, in.HeldRedemptions, used, hld, liveHeld)
	}
}
