package voucher

import (
	"fmt"
	"time"
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
	// EntryRevoke: an operator voided what was left and not held (Delta −Amount); what
	// is held is forfeited when its hold ends.
	EntryRevoke EntryKind = "revoke"
	// EntryAdjust: an operator changed the balance by Delta (Amount is its size).
	EntryAdjust EntryKind = "adjust"
	// EntryExtend: an operator moved the expiry later (Amount and Delta zero).
	EntryExtend EntryKind = "extend"
)

// LedgerEntry is one line of the ledger (收支明细). Entries are append-only; the store
// numbers them in Seq, strictly increasing; one account's entries never go back in time.
type LedgerEntry struct {
	Seq int64     `json:"seq"`
	At  time.Time `json:"at"`
	// Kind is what happened.
	Kind EntryKind `json:"kind"`
	// Account is the buyer for order entries, otherwise the instrument's owner ("" for
	// an unclaimed instrument or a typed-in code).
	Account    string `json:"account,omitempty"`
	Instrument string `json:"instrument"`
	// Order is the order id, for entries an order caused.
	Order string `json:"order,omitempty"`
	// Amount is the value the entry is about (always >= 0).
	Amount Money `json:"amount"`
	// Delta is the signed change of the instrument's balance (deductions; zero for
	// discount instruments).
	Delta Money `json:"delta"`
	// BalanceAfter and HeldAfter are the instrument's balance and held value after
	// the entry (deductions; zero for discount instruments).
	BalanceAfter Money `json:"balance_after"`
	HeldAfter    Money `json:"held_after"`
	// RedeemedAfter and HeldRedemptionsAfter are the discount instrument's redemptions
	// used and held after the entry (zero for deductions).
	RedeemedAfter        int `json:"redeemed_after,omitempty"`
	HeldRedemptionsAfter int `json:"held_redemptions_after,omitempty"`
	// Reason is the operator's reason, for revoke, adjust and extend.
	Reason string `json:"reason,omitempty"`
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
		s += " delta " + e.Delta.Format()
	}
	if e.Reason != "" {
		s += " (" + e.Reason + ")"
	}
	return s
}
