// Package simulate runs a stream of orders and bills through a wallet under one or
// several rule sets and reports, per rule set side by side: totals (list, discount,
// deducted, cash, invoiceable), breakage (value forfeited at expiry), the burn-down of
// every deduction instrument, why instruments did not apply, and the items whose cash
// changed most between the rule sets. Streams come from FOCUS exports (package focus),
// CSV or JSON lines; reports render as text, JSON, CSV and a self-contained HTML page
// with SVG charts.
//
// Invariants:
//   - It streams: an item is read, priced under every rule set and dropped. Memory grows
//     with the instruments, the samples (burn-down points only where a balance changed),
//     the months and the bounded top-N of changed items — and with the ids of committed
//     items, which the wallet's duplicate-order check needs — never with the items
//     themselves, their quotes or the ledger: by default each wallet runs on a store
//     that keeps no history (store/memory's WithoutHistory), and ledger entries are read as they
//     commit and passed on (Options.Ledger), not kept.
//   - Money is summed exactly, in integer units of each rule set's scale (spilling into
//     a decimal where an int64 would overflow), never through a float.
//   - Every rule set sees the same items in the same order, from the same start.
//   - Breakage is the sum of the wallet's expire ledger entries; expiries are swept
//     (Wallet.Expire) at each sample boundary, at most once a day as the stream's time
//     passes the next expiry, and at the end, so that an instrument expires on time
//     even on an account with no later item.
//   - Per rule set, Granted = deductions + Breakage + ForfeitedOnUse + Unused, for the
//     instruments in its currency.
//   - Nothing reads the wall clock: times come from the stream and the options.
package simulate
