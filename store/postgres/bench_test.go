package postgres_test

import (
	"bytes"
	"fmt"
	"net/url"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/voucherkit/voucherkit/store/postgres"
	"github.com/voucherkit/voucherkit/voucher"
)

// Checkout throughput on PostgreSQL against the server's own yardstick, pgbench's
// built-in TPC-B, in one run:
//
//	VOUCHERKIT_POSTGRES=postgres://postgres@127.0.0.1:5432/test?sslmode=disable \
//	  go test -run '^$' -bench Checkout -benchtime 10s ./store/postgres
//
// pgbench initialises a database of its own (scale 16; dropped at the end); then each
// sub-benchmark runs pgbench (16 clients, 2 threads, 10 s) right before it measures, so
// that on a machine shared with other work the two figures it compares are taken side
// by side; then benchClients goroutines check out aliyun orders, across benchAccounts
// accounts or on one hot account. Each reports checkouts/s, pgbench's tps and their
// ratio (x-pgbench); targets: 0.5 across accounts, 0.2 on one account.

const (
	benchClients  = 16
	benchAccounts = 1000
)

// pgbenchDB is the URL of pgbench's database, made once per benchmark run.
var pgbenchDB struct {
	once sync.Once
	url  string
	err  error
}

// pgbenchTPS runs pgbench's TPC-B for 10 s and returns its tps.
func pgbenchTPS(b *testing.B) float64 {
	b.Helper()
	pgbenchDB.once.Do(func() { pgbenchDB.url, pgbenchDB.err = initPgbench(b) })
	if pgbenchDB.err != nil {
		b.Fatalf("pgbench -i: %v", pgbenchDB.err)
	}
	out, err := exec.Command("pgbench", "-c", "16", "-j", "2", "-T", "10", pgbenchDB.url).CombinedOutput()
	if err != nil {
		b.Fatalf("pgbench: %v: %s", err, out)
	}
	m := tpsLine.FindSubmatch(out)
	if m == nil {
		b.Fatalf("no tps in pgbench's output: %s", out)
	}
	tps, err := strconv.ParseFloat(string(bytes.TrimSpace(m[1])), 64)
	if err != nil {
		b.Fatal(err)
	}
	return tps
}

var tpsLine = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)

// initPgbench makes pgbench's database (dropped when the benchmark ends) and
// initialises it at scale 16.
func initPgbench(b *testing.B) (string, error) {
	base := testURL(b)
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	name := strings.Replace(randomSchema(b), "vk_test_", "vk_pgbench_", 1)
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", err
	}
	pgbenchDrop = func() {
		if c, err := pgx.Connect(ctx, base); err == nil {
			_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			_ = c.Close(ctx)
		}
	}
	u.Path = "/" + name
	if out, err := exec.Command("pgbench", "-i", "-q", "-s", "16", u.String()).CombinedOutput(); err != nil {
		return "", fmt.Errorf("%v: %s", err, out)
	}
	return u.String(), nil
}

// pgbenchDrop drops pgbench's database, once made.
var pgbenchDrop = func() {}

// benchWallet is benchAccounts aliyun accounts of a new wallet, each with a voucher
// and a coupon, and one order per account: a new purchase of two lines, which the
// coupon applies to the first time, or a renewal of one line.
func benchWallet(b testing.TB, db *postgres.DB, name string) (*voucher.Wallet, []voucher.Order) {
	b.Helper()
	w := voucher.NewWallet(aliyun(b), db.Wallet(name))
	orders := make([]voucher.Order, benchAccounts)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, benchClients)
	for range benchClients {
		wg.Go(func() {
			for a := int(next.Add(1) - 1); a < benchAccounts; a = int(next.Add(1) - 1) {
				acct := fmt.Sprintf("acct-%04d", a)
				for _, in := range []voucher.Instrument{
					{ID: "voucher-" + acct, Type: "voucher", Account: acct, Amount: dec("1000000000")},
					{ID: "coupon-" + acct, Type: "coupon", Account: acct, Amount: dec("5"), FirstPurchaseOnly: voucher.Ptr(false),
						ExpiresAt: voucher.Ptr(now.Add(24 * time.Hour))},
				} {
					if err := w.Grant(ctx, in, now); err != nil {
						errs <- err
						return
					}
				}
				o := renewal("", acct, "30.00")
				if a%2 == 0 {
					o.Type = voucher.OrderNew
					o.Lines = append(o.Lines, voucher.Line{ID: "l2", Product: "rds", Amount: dec("12.50")})
				}
				orders[a] = o
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	return w, orders
}

var benchOrderIDs atomic.Int64

// checkoutClients checks out b.N orders from benchClients goroutines; pick gives the
// i-th order's account index.
func checkoutClients(b *testing.B, w *voucher.Wallet, orders []voucher.Order, pick func(i int64) int) {
	tps := pgbenchTPS(b)
	var n atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for range benchClients {
		wg.Go(func() {
			for i := n.Add(1); i <= int64(b.N); i = n.Add(1) {
				o := orders[pick(i)]
				o.ID = "o" + strconv.FormatInt(benchOrderIDs.Add(1), 10)
				if _, err := w.Checkout(ctx, o, now); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	perSec := float64(b.N) / b.Elapsed().Seconds()
	b.ReportMetric(perSec, "checkouts/s")
	b.ReportMetric(tps, "pgbench-tps")
	b.ReportMetric(perSec/tps, "x-pgbench")
}

func BenchmarkCheckout(b *testing.B) {
	db := openTest(b, postgres.WithMaxConns(benchClients+4))
	b.Cleanup(func() { pgbenchDrop() })
	var setup sync.Once
	var w *voucher.Wallet
	var orders []voucher.Order
	wallet := func(b *testing.B) {
		setup.Do(func() { w, orders = benchWallet(b, db, "bench") })
	}
	b.Run("accounts", func(b *testing.B) {
		wallet(b)
		checkoutClients(b, w, orders, func(i int64) int { return int(i*7919) % benchAccounts })
	})
	b.Run("hot-account", func(b *testing.B) {
		wallet(b)
		checkoutClients(b, w, orders, func(int64) int { return 1 })
	})
	if err := w.Verify(ctx); err != nil {
		b.Error(err)
	}
}
