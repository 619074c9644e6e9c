package sqlite_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voucherkit/voucherkit/store/sqlite"
	"github.com/voucherkit/voucherkit/store/storetest"
	"github.com/voucherkit/voucherkit/voucher"
)

// TestHelperProcess is the body of the processes TestMultiProcess and TestCrash start.
func TestHelperProcess(t *testing.T) {
	storetest.HelperProcess(t, func(t *testing.T, target string) voucher.Store {
		return open(t, target).Wallet("load")
	})
}

// multiProcessLoad is what each of the 4 processes runs: 16 goroutines on 8 shared
// accounts, their vouchers, coupons, promo code, activation codes and order ids.
var multiProcessLoad = storetest.Load{Accounts: 8, Workers: 16, Steps: 50, Span: 4 * time.Second}

// TestMultiProcess: 4 processes × 16 goroutines race on one file; afterwards nothing
// is spent twice, nothing is committed or activated twice, and the ledger adds up.
func TestMultiProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "multi.db")
	store := open(t, path).Wallet("load")
	eng := storetest.Engine(t, "aliyun")
	l, err := multiProcessLoad.Setup(ctxb, store, eng)
	require.NoError(t, err)
	stats := storetest.Processes{N: 4, Target: path, Load: l}.Run(t)
	t.Logf("4 processes: %s", stats.Summary())
	require.Equal(t, 4*l.Workers*l.Steps, stats.Steps, "every step of every process ran")
	require.NoError(t, l.Check(ctxb, store, eng, stats))
	storetest.RequireBusy(t, stats)
}

// TestCrash: one of 4 writer processes is killed with SIGKILL in the middle of the
// load, twice; the file, reopened, holds no step half applied and the ledger adds up.
func TestCrash(t *testing.T) {
	path := filepath.Join(t.TempDir(), "crash.db")
	eng := storetest.Engine(t, "aliyun")
	db, err := sqlite.Open(ctxb, path)
	require.NoError(t, err)
	l, err := multiProcessLoad.Setup(ctxb, db.Wallet("load"), eng)
	require.NoError(t, err)
	require.NoError(t, db.Close())
	var stats storetest.Stats
	for round := range 2 {
		l.Seed, l.OrderPrefix = uint64(round+1), fmt.Sprintf("r%d-", round)
		s := storetest.Processes{N: 4, Target: path, Load: l, KillAfter: l.Workers * l.Steps / 3}.Run(t)
		t.Logf("round %d, the last process killed: %s", round, s.Summary())
		stats.Merge(s)
	}
	store := open(t, path).Wallet("load")
	require.NoError(t, l.Check(ctxb, store, eng, stats))
	storetest.RequireBusy(t, stats)
}
