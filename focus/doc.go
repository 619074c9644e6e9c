// Package focus reads and writes FinOps FOCUS billing data (the FinOps Open Cost and
// Usage Specification, 1.0 and later, as CSV) for voucherkit: Import turns a provider's
// export into the bills a wallet settles and the credits the provider applied; Export
// writes what a settle applied as FOCUS Credit rows; Reconcile compares the two.
//
// Columns are read by name (FOCUS column IDs, case-sensitive), so their order and any
// columns voucherkit does not use, x_ extensions among them, do not matter. NULL and an
// empty field are both a missing value. The provider of a row is ProviderName (FOCUS
// 1.0-1.2), else HostProviderName or ServiceProviderName (1.3 and later); its seller is
// PublisherName, else ServiceProviderName.
//
// Invariants:
//   - Money never passes through a float: BilledCost is parsed as a decimal, summed per
//     charge (billing account, period, account, product, SKU) at full precision, and
//     rounded once per charge, by the rule set's rounding to its scale; what rounding
//     changed is reported (Bill.RoundingDifference).
//   - Import streams: it keeps one running sum per charge and per credit, never a row
//     (strings it keeps are copied out of the CSV reader's buffer).
//   - Import returns everything or an error, never part of a file. A malformed value is
//     a *RowError naming the data row, its line, the column and at most 40 characters of
//     the value, escaped (excerpt.Quote): an error never echoes a row.
//   - Every kept row of one billing account and period agrees on the period's end and
//     the currency; an account is under one billing account.
//   - A bill's charges are never negative: a charge that sums below zero after
//     rounding (a refund, a correction) is an adjustment, counted in the account totals
//     and left out of the bill's charges.
//   - Importing what Export wrote gives back the same credits (same keys, same amounts).
//   - The library reads no clock.
package focus
