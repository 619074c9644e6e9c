package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/voucherkit/voucherkit/store/postgres"
	"github.com/voucherkit/voucherkit/store/storetest"
	"github.com/voucherkit/voucherkit/voucher"
)

// The multi-process tests run storetest's Load in OS processes of their own
// (storetest.Processes: this test binary re-executed as TestHelperProcess), all on one
// wallet of one PostgreSQL database, then check what they left with Load.Check: Verify
// passes, no balance below zero or above its face value, no discount used beyond its
// redemptions, no code activated twice, no order committed twice.

// TestHelperProcess is the body of the processes TestMultiProcess and TestCrash start;
// their target is "schema/wallet".
func TestHelperProcess(t *testing.T) {
	storetest.HelperProcess(t, func(t *testing.T, target string) voucher.Store {
		schema, wallet, _ := strings.Cut(target, "/")
		db, err := postgres.Open(context.Background(), testURL(t), postgres.WithSchema(schema), postgres.WithMaxConns(20))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(db.Close)
		return db.Wallet(wallet)
	})
}

// multiLoad is the load each process runs: 16 workers on 8 accounts, their order ids
// drawn from one set a third the size of all processes' steps, holds long enough to be
// captured, vouchers and codes expiring as it runs.
func multiLoad(processes, steps int) storetest.Load {
	return storetest.Load{Accounts: 8, Workers: 16, Steps: steps, Orders: processes * 16 * steps / 3,
		Span: 10 * time.Second, Hold: 5 * time.Second, Seed: 10}
}

// TestMultiProcess: 4 processes × 16 goroutines race checkouts, reservations,
// captures, releases, refunds, activations, quotes, clock moves and sweeps on the
// same 8 accounts, their vouchers, coupons, promo code, activation codes and order
// ids.
func TestMultiProcess(t *testing.T) {
	db := openTest(t, postgres.WithMaxConns(8))
	eng := aliyun(t)
	store := db.Wallet("multi")
	l, err := multiLoad(4, 40).Setup(ctx, store, eng)
	if err != nil {
		t.Fatal(err)
	}
	stats := storetest.Processes{N: 4, Target: db.Schema() + "/multi", Load: l}.Run(t)
	t.Logf("4 processes: %s", stats.Summary())
	if err := l.Check(ctx, store, eng, stats); err != nil {
		t.Fatal(err)
	}
	storetest.RequireBusy(t, stats)
}

// TestCrash: of 4 processes running the load, one is killed with SIGKILL a third of
// the way through its steps; the others run to their end. Reopened, the store shows
// nothing half applied: every check of the load passes, on what the killed process
// committed before it died too.
func TestCrash(t *testing.T) {
	db := openTest(t, postgres.WithMaxConns(4))
	eng := aliyun(t)
	l, err := multiLoad(4, 30).Setup(ctx, db.Wallet("crash"), eng)
	if err != nil {
		t.Fatal(err)
	}
	stats := storetest.Processes{N: 4, Target: db.Schema() + "/crash", Load: l, KillAfter: l.Workers * l.Steps / 3}.Run(t)
	t.Logf("3 processes that ran to their end: %s", stats.Summary())
	db.Close()
	reopened := openTestAt(t, db.Schema())
	if err := l.Check(ctx, reopened.Wallet("crash"), eng, stats); err != nil {
		t.Fatal(err)
	}
}
