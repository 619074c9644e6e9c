// Package settletest holds property tests and benchmarks of settling bills
// (rules.Engine.Settle and voucher.Wallet.Settle) over generated organizations, bills
// and credits. It has no code of its own.
package settletest
