// Package voucher is voucherkit's domain: money, instruments (credits, vouchers,
// coupons, promo codes), orders, quotes, and the Wallet that commits quotes and keeps
// the ledger. It knows no provider and no rule-set format: what differs between clouds
// reaches it as a TypePolicy and through the Pricer interface, which rules.Engine
// implements.
//
// Invariants kept here:
//   - Money is a decimal.Decimal with a Currency; it is immutable, never passes through
//     float64, and arithmetic across currencies fails with ErrCurrencyMismatch.
//   - Nothing reads the wall clock: every operation takes the time it happens at.
//   - A Quote's figures add up on every line and in total:
//     Total = Discount + Deducted + Cash, and Total − Discount = Invoiceable + NonInvoiceable;
//     each Application's per-line split adds up to its Amount.
//   - Allocate never loses or invents a unit: shares add up to the amount exactly, and
//     the same input always gives the same split.
//   - A business "no" is a Rejection with a stable Reason; an error is a step that
//     cannot happen, carrying a spec code read by ErrorCode ("duplicate_order").
//   - Validation reports every problem of an input at once, each with its field path.
//   - The Wallet: a failed step changes nothing (balances, holds, ledger, clock); the
//     clock never moves backwards; an order id commits once; a balance always equals
//     the face value plus the sum of its ledger deltas and never goes below zero; held
//     value is invisible to every other order.
package voucher
