package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/voucherkit/voucherkit/voucher"
)

var errFail = errors.New("fails on purpose")

// TestGroupCommit: Updates racing on one DB commit together, and each keeps what it
// wrote or nothing: those whose fn fails after writing leave no instrument, ledger
// entry or clock behind, whichever batch they were in; the others keep all of theirs.
func TestGroupCommit(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "group.db"))
	stores := []voucher.Store{db.Wallet("a"), db.Wallet("b")}
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	const n = 200
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = stores[i%2].Update(ctxb, func(ctx context.Context, tx voucher.Tx) error {
				id := fmt.Sprintf("i%03d", i)
				si := voucher.StoredInstrument{Instrument: voucher.Instrument{ID: id, Type: "voucher", Account: id, Amount: decimal.NewFromInt(1)}, Kind: voucher.Deduction}
				if err := tx.InsertInstrument(ctx, si); err != nil {
					return err
				}
				es := []voucher.LedgerEntry{{At: at, Kind: voucher.EntryGrant, Account: id, Instrument: id, Amount: voucher.MustMoney("1", "CNY")}}
				if err := tx.AppendEntries(ctx, es); err != nil {
					return err
				}
				if err := tx.SetClock(ctx, id, at); err != nil {
					return err
				}
				if i%3 == 0 {
					return errFail
				}
				return nil
			})
		}()
	}
	wg.Wait()
	for w, s := range stores {
		require.NoError(t, s.View(ctxb, func(ctx context.Context, tx voucher.Tx) error {
			entries, err := tx.Entries(ctx, voucher.LedgerQuery{})
			require.NoError(t, err)
			seen := map[string]bool{}
			for k, e := range entries {
				seen[e.Instrument] = true
				if k > 0 {
					assert.Greater(t, e.Seq, entries[k-1].Seq)
				}
			}
			for i := w; i < n; i += 2 {
				id := fmt.Sprintf("i%03d", i)
				_, hasInst, err := tx.Instrument(ctx, id)
				require.NoError(t, err)
				_, hasClock, err := tx.Account(ctx, id)
				require.NoError(t, err)
				if i%3 == 0 {
					assert.ErrorIs(t, errs[i], errFail, id)
					assert.False(t, hasInst || hasClock || seen[id], "%s failed, yet left instrument %v clock %v entry %v", id, hasInst, hasClock, seen[id])
				} else {
					assert.NoError(t, errs[i], id)
					assert.True(t, hasInst && hasClock && seen[id], "%s succeeded, yet has instrument %v clock %v entry %v", id, hasInst, hasClock, seen[id])
				}
			}
			return nil
		}))
	}
}

// TestPanicInUpdate: a panic in fn reaches the caller of Update, and the DB goes on.
func TestPanicInUpdate(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "panic.db")).Wallet("w")
	assert.PanicsWithValue(t, "boom", func() {
		defer func() {
			if v := recover(); v != nil {
				msg := fmt.Sprint(v)
				require.Contains(t, msg, "boom")
				panic("boom")
			}
		}()
		_ = s.Update(ctxb, func(ctx context.Context, tx voucher.Tx) error {
			_ = tx.SetClock(ctx, "a", time.Now())
			panic("boom")
		})
	})
	require.NoError(t, s.Update(ctxb, func(ctx context.Context, tx voucher.Tx) error { return tx.SetClock(ctx, "b", time.Unix(0, 0)) }))
	require.NoError(t, s.View(ctxb, func(ctx context.Context, tx voucher.Tx) error {
		_, ok, err := tx.Account(ctx, "a")
		require.NoError(t, err)
		assert.False(t, ok, "the panicking Update wrote nothing")
		_, ok, err = tx.Account(ctx, "b")
		require.NoError(t, err)
		assert.True(t, ok)
		return nil
	}))
}
