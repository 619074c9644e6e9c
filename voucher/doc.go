// Package voucher is voucherkit's domain: money, instruments (credits, vouchers,
// coupons, promo codes), orders, bills and organizations, quotes, the Store contract a
// wallet keeps its state behind, and the Wallet that commits quotes and keeps the
// ledger. It knows no provider, no rule-set format and no database: what differs
// between clouds reaches it as a TypePolicy and through the Pricer (and BillPricer)
// interface, which rules.Engine implements; where state lives reaches it through Store,
// which store/memory, store/sqlite and store/postgres implement.
//
// Invariants kept here:
//   - Money is an exact amount with a Currency: integer units of the currency's scale
//     within ±Currency.MaxAmount (every amount voucherkit holds is), a decimal beyond
//     it; one form per amount, so equal Money values are equal structs. It is
//     immutable, never passes through float64, and arithmetic across currencies fails
//     with ErrCurrencyMismatch.
//   - Nothing reads the wall clock: every operation takes the time it happens at.
//     Absence is its own state: an optional field is a pointer, nil when not given,
//     never a zero value standing for it (Go's zero time is a time).
//   - A Quote's figures add up on every line, account and in total:
//     Total = Discount + Deducted + Cash, and Total − Discount = Invoiceable + NonInvoiceable;
//     each Application's per-line split adds up to its Amount.
//   - A business "no" is a Rejection with a stable Reason; an error is a step that
//     cannot happen, carrying a spec code read by ErrorCode ("duplicate_order").
//   - Validation reports every problem of an input at once, each with its field path.
//   - The Wallet holds no state: each step is one Store transaction that commits whole
//     or not at all, so a failed step changes nothing. Each account's clock never moves
//     backwards; an order id commits once; nothing ever takes, forfeits or restores more
//     than an instrument holds (VerifyLedger replays the ledger to check it); a balance
//     equals its face value plus its ledger deltas and stays within 0 and the face
//     value; held value is invisible to every other order; a quote writes nothing.
//     What it records of a quote (an order's, a reservation's) is the quote without
//     its trace.
package voucher
