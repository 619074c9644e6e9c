package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/voucherkit/voucherkit/voucher"
)

// walletFiles writes the inputs of the wallet command's tests into a new directory.
func walletFiles(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"wallet.yaml": "- {id: v200, type: voucher, amount: \"200\", expires_at: 2026-06-30}\n" +
			"- {id: c50, type: coupon, amount: \"50\", first_purchase_only: false, expires_at: 2026-12-31}\n",
		"bad-wallet.yaml": "- {id: v9, type: voucher, amount: \"9\"}\n- {id: v200, type: voucher, amount: \"1\"}\n",
		"order.yaml":      "id: o1\ntype: new\npayment: subscription\nitems: [{id: ecs-1, product: ecs, amount: \"500\"}]\n",
	}
	for name, text := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644))
	}
	return dir
}

// walletRun runs `voucherkit wallet ACTION` against db with the aliyun rule set.
func walletRun(t *testing.T, db, action string, args ...string) (int, string, string) {
	t.Helper()
	return call(t, append([]string{"wallet", action, "--db", db, "--provider", "aliyun"}, args...)...)
}

// The wallet command keeps a durable wallet: what one run commits, the next reads.
func TestWalletCommandOnSQLite(t *testing.T) {
	dir := walletFiles(t)
	testWalletCommand(t, dir, filepath.Join(dir, "w.db"))
}

// The same on PostgreSQL, in a wallet of its own name in the test database.
func TestWalletCommandOnPostgres(t *testing.T) {
	url := os.Getenv("VOUCHERKIT_POSTGRES")
	if url == "" {
		if os.Getenv("VOUCHERKIT_POSTGRES_REQUIRED") != "" {
			t.Fatal("VOUCHERKIT_POSTGRES_REQUIRED is set but VOUCHERKIT_POSTGRES is not")
		}
		t.Skip("set VOUCHERKIT_POSTGRES to a PostgreSQL URL to run the wallet command on PostgreSQL")
	}
	testWalletCommand(t, walletFiles(t), scratchDatabase(t, url))
}

// scratchDatabase creates a database of its own for the test on the server url names,
// and drops it when the test ends; it returns the new database's URL.
func scratchDatabase(t *testing.T, url string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	name := fmt.Sprintf("voucherkit_cli_%d_%d", os.Getpid(), time.Now().UnixNano())
	_, err = conn.Exec(ctx, "CREATE DATABASE "+name)
	require.NoError(t, err)
	t.Cleanup(func() {
		_, err := conn.Exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)")
		assert.NoError(t, err)
		conn.Close(ctx)
	})
	cfg, err := pgx.ParseConfig(url)
	require.NoError(t, err)
	return fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", cfg.User, cfg.Host, cfg.Port, name)
}

func testWalletCommand(t *testing.T, dir, db string, extra ...string) {
	run := func(action string, args ...string) (int, string, string) {
		return walletRun(t, db, action, append(args, extra...)...)
	}
	code, out, errOut := run("grant", "--file", filepath.Join(dir, "wallet.yaml"), "--account", "acct-1", "--at", "2026-03-01")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, "granted 2 instruments: v200, c50\n", out)

	// A file one of whose entries is refused grants none of them.
	code, _, errOut = run("grant", "--file", filepath.Join(dir, "bad-wallet.yaml"), "--account", "acct-1", "--at", "2026-03-01T01:00:00+08:00")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, `instrument "v200" already exists`)
	code, out, _ = run("show", "--account", "acct-1", "--at", "2026-03-01T02:00:00+08:00", "--json")
	require.Equal(t, 0, code)
	var shown struct {
		Instruments []voucher.InstrumentView `json:"instruments"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &shown))
	assert.Len(t, shown.Instruments, 2, "v9 was not granted: %s", out)

	code, out, errOut = run("checkout", "--order", filepath.Join(dir, "order.yaml"), "--account", "acct-1", "--at", "2026-03-02T10:00:00+08:00")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "  = cash 250.00\n")

	code, _, errOut = run("checkout", "--order", filepath.Join(dir, "order.yaml"), "--account", "acct-1", "--at", "2026-03-02T11:00:00+08:00")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, `order "o1" is already committed`)

	// A refund with a key is made once: asked again, it returns the first result.
	for range 2 {
		code, out, errOut = run("refund", "--order", "o1", "--key", "r1", "--at", "2026-03-03", "--json")
		require.Equal(t, 0, code, errOut)
		var res voucher.RefundResult
		require.NoError(t, json.Unmarshal([]byte(out), &res))
		assert.Equal(t, "250.00", res.CashRefund.Format())
		assert.Equal(t, "200.00", res.Forfeited["v200"].Format())
	}

	code, out, errOut = run("expire", "--at", "2026-07-02")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "0 instruments lost value", "v200 was used up before it expired")

	code, out, errOut = run("ledger", "--format", "csv")
	require.Equal(t, 0, code, errOut)
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	require.NoError(t, err)
	var kinds []string
	for _, r := range rows[1:] {
		kinds = append(kinds, r[2])
	}
	assert.Equal(t, []string{"grant", "grant", "redeem", "deduct", "refund_forfeit"}, kinds, "the refund asked twice is recorded once")

	code, out, errOut = run("ledger", "--instrument", "v200", "--format", "json")
	require.Equal(t, 0, code, errOut)
	var entries []voucher.LedgerEntry
	require.NoError(t, json.Unmarshal([]byte(out), &entries))
	require.Len(t, entries, 3)
	assert.Equal(t, voucher.EntryDeduct, entries[1].Kind)
}

func TestWalletCommandErrors(t *testing.T) {
	dir := walletFiles(t)
	db := filepath.Join(dir, "w.db")
	code, _, errOut := call(t, "wallet")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "which action?")
	code, _, errOut = call(t, "wallet", "frobnicate")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, `unknown action "frobnicate"`)
	code, _, errOut = call(t, "wallet", "grant", "--provider", "aliyun", "--file", filepath.Join(dir, "wallet.yaml"))
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "missing --db")
	code, _, errOut = walletRun(t, db, "ledger", "--format", "xml")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "--format is table, json or csv, got xml")
	code, _, errOut = walletRun(t, db, "grant", "--file", filepath.Join(dir, "nosuch.yaml"))
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "nosuch.yaml")
	code, out, _ := call(t, "help", "wallet")
	assert.Equal(t, 0, code)
	for _, a := range walletActions {
		assert.Contains(t, out, a.name+" ")
	}
}
