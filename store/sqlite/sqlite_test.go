package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/voucherkit/voucherkit/store/sqlite"
	"github.com/voucherkit/voucherkit/store/storetest"
	"github.com/voucherkit/voucherkit/voucher"
)

var ctxb = context.Background()

// open opens a database file that t closes.
func open(t testing.TB, path string, opts ...sqlite.Option) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(ctxb, path, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	return db
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) voucher.Store {
		return open(t, filepath.Join(t.TempDir(), "wallet.db")).Wallet("test")
	}, storetest.Scenarios("../../testdata/conformance/*.yaml", "../../providers/testdata/*/*.yaml"))
}

// TestWallets: one file holds several wallets; each sees its own instruments, orders,
// clocks and ledger only, even where their ids, codes and accounts are the same.
func TestWallets(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "wallets.db"))
	eng := storetest.Engine(t, "aliyun")
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	wallets := map[string]*voucher.Wallet{}
	for i, name := range []string{"alpha", "beta", "beta "} {
		w := voucher.NewWallet(eng, db.Wallet(name))
		wallets[name] = w
		require.NoError(t, w.Grant(ctxb, voucher.Instrument{ID: "v", Type: "voucher", Account: "a", Code: "SAME",
			Amount: decimal.NewFromInt(int64(100 * (i + 1)))}, at))
		_, err := w.Checkout(ctxb, voucher.Order{ID: "o1", Account: "a", Type: voucher.OrderRenewal, Payment: voucher.PaySubscription,
			Lines: []voucher.Line{{ID: "l1", Product: "ecs", Amount: decimal.NewFromInt(int64(10 * (i + 1)))}}}, at.Add(time.Duration(i+1)*time.Hour))
		require.NoError(t, err, "the same order id in wallet %q", name)
	}
	for i, name := range []string{"alpha", "beta", "beta "} {
		w := wallets[name]
		si, ok, err := w.Instrument(ctxb, "v")
		require.NoError(t, err)
		require.True(t, ok)
		assert.True(t, si.Instrument.Balance.Equal(decimal.NewFromInt(int64(90*(i+1)))), "%s: balance %s", name, si.Instrument.Balance)
		es, err := w.Ledger(ctxb, voucher.LedgerQuery{})
		require.NoError(t, err)
		require.Len(t, es, 2, "%s: its grant and its deduction only", name)
		assert.True(t, es[1].Amount.Amount().Equal(decimal.NewFromInt(int64(10*(i+1)))), name)
		clock, _, err := w.Clock(ctxb, "a")
		require.NoError(t, err)
		assert.True(t, clock.Equal(at.Add(time.Duration(i+1)*time.Hour)), "%s: its own clock", name)
		require.NoError(t, w.Verify(ctxb), name)
	}
	empty := voucher.NewWallet(eng, db.Wallet("gamma"))
	_, ok, err := empty.Instrument(ctxb, "v")
	require.NoError(t, err)
	assert.False(t, ok, "a new name is an empty wallet")
}

// TestReopen: what a DB committed is there after Close and Open.
func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "reopen.db")
	eng := storetest.Engine(t, "aliyun")
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	db, err := sqlite.Open(ctxb, path)
	require.NoError(t, err)
	require.NoError(t, voucher.NewWallet(eng, db.Wallet("w")).Grant(ctxb,
		voucher.Instrument{ID: "v", Type: "voucher", Account: "a", Amount: decimal.NewFromInt(5)}, at))
	require.NoError(t, db.Close())
	w := voucher.NewWallet(eng, open(t, path).Wallet("w"))
	si, ok, err := w.Instrument(ctxb, "v")
	require.NoError(t, err)
	require.True(t, ok)
	assert.True(t, si.Instrument.Balance.Equal(decimal.NewFromInt(5)))
	require.NoError(t, w.Verify(ctxb))
}

// TestNewerSchema: a file written by a newer voucherkit is refused, saying why.
func TestNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "newer.db")
	require.NoError(t, open(t, path).Close())
	raw, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	_, err = raw.Exec(fmt.Sprintf("PRAGMA user_version = %d", sqlite.SchemaVersion+1))
	require.NoError(t, err)
	require.NoError(t, raw.Close())
	_, err = sqlite.Open(ctxb, path)
	require.Error(t, err)
	assert.Contains(t, err.Error(), fmt.Sprintf("has schema version %d, newer than version %d", sqlite.SchemaVersion+1, sqlite.SchemaVersion))
}
