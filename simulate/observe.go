package simulate

import (
	"context"

	"github.com/voucherkit/voucherkit/voucher"
)

// observed wraps a store and hands each committed transaction's ledger entries, in
// order, to sink once the transaction has committed: entries of a transaction that
// failed, or of a try the store ran again, never reach it. The slice sink gets is
// reused: it is valid only during the call. One observed serves one goroutine.
type observed struct {
	voucher.Store
	sink func([]voucher.LedgerEntry)
	buf  []voucher.LedgerEntry
	tee  teeTx
}

func (o *observed) Update(ctx context.Context, fn func(context.Context, voucher.Tx) error) error {
	err := o.Store.Update(ctx, func(ctx context.Context, tx voucher.Tx) error {
		o.buf = o.buf[:0]
		o.tee = teeTx{Tx: tx, got: &o.buf}
		return fn(ctx, &o.tee)
	})
	if err == nil && len(o.buf) > 0 {
		o.sink(o.buf)
	}
	clear(o.buf) // drop what the entries point to
	o.buf = o.buf[:0]
	return err
}

// teeTx is a transaction that remembers the entries appended through it.
type teeTx struct {
	voucher.Tx
	got *[]voucher.LedgerEntry
}

func (t *teeTx) AppendEntries(ctx context.Context, entries []voucher.LedgerEntry) error {
	if err := t.Tx.AppendEntries(ctx, entries); err != nil {
		return err
	}
	*t.got = append(*t.got, entries...)
	return nil
}
