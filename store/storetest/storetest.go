package storetest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voucherkit/voucherkit/providers"
	"github.com/voucherkit/voucherkit/rules"
	"github.com/voucherkit/voucherkit/scenario"
	"github.com/voucherkit/voucherkit/voucher"
)

// NewStore returns a new, empty store for one test; it closes the store with
// t.Cleanup. Every call must give a store that shares nothing with the others.
type NewStore func(t *testing.T) voucher.Store

// Option configures Run.
type Option func(*config)

type config struct {
	scenarios []string
	load      Load
}

// Scenarios replaces the scenario files Run runs on the store: patterns as
// scenario.Files reads them, relative to the test's package directory. Without it,
// Run runs testdata/conformance/*.yaml and providers/testdata/*/*.yaml of this module.
func Scenarios(patterns ...string) Option {
	return func(c *config) { c.scenarios = patterns }
}

// WithLoad replaces the in-process concurrent load Run drives (DefaultLoad).
func WithLoad(l Load) Option {
	return func(c *config) { c.load = l }
}

// Run checks that the stores newStore makes keep the voucher.Store contract:
//   - Tx: every method as voucher/store.go documents it, on a store of its own for
//     each check: reads of an empty store, values that round-trip exactly (Diff),
//     indexes, paging, Due, one namespace of order ids, refund keys, the ledger's Seq
//     and filters, a failed Update that leaves nothing behind, a View that cannot
//     write, a cancelled context;
//   - Scenarios: every scenario file of the project on a store of its own;
//   - Wallet: wallet steps on the store (idempotent refunds, per-account clocks, a
//     quote that writes nothing, grants, the expiry sweep, operator changes), each
//     ending with Wallet.Verify;
//   - Concurrency: goroutines racing on shared accounts, instruments, codes and order
//     ids (Load), and goroutines stamping the wall clock on accounts of their own,
//     which never see clock_backwards.
func Run(t *testing.T, newStore NewStore, opts ...Option) {
	cfg := config{load: DefaultLoad()}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.scenarios == nil {
		root := moduleRoot(t)
		cfg.scenarios = []string{
			filepath.Join(root, "testdata", "conformance", "*.yaml"),
			filepath.Join(root, "providers", "testdata", "*", "*.yaml"),
		}
	}
	t.Run("Tx", func(t *testing.T) { runTx(t, newStore) })
	t.Run("Scenarios", func(t *testing.T) { runScenarios(t, newStore, cfg.scenarios) })
	t.Run("Wallet", func(t *testing.T) { runWallet(t, newStore) })
	t.Run("Concurrency", func(t *testing.T) { runConcurrency(t, newStore, cfg.load) })
}

// moduleRoot is the directory of the go.mod above the test's working directory.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, dir, parent, "storetest: no go.mod above the test's directory; pass Scenarios")
		dir = parent
	}
}

// runScenarios runs each scenario file on a new store; a file that does not parse
// fails, and so does a pattern list that names no file.
func runScenarios(t *testing.T, newStore NewStore, patterns []string) {
	files, err := scenario.Files(patterns...)
	require.NoError(t, err)
	require.NotEmpty(t, files, "storetest: no scenario file matches %s", strings.Join(patterns, " "))
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(filepath.Dir(f))+"/"+filepath.Base(f), filepath.Ext(f))
		t.Run(name, func(t *testing.T) {
			s, err := scenario.Load(f)
			require.NoError(t, err)
			store := newStore(t)
			res := scenario.Run(s, scenario.WithStore(store))
			require.True(t, res.Passed(), "%s", res.Report())
			eng, err := rules.NewEngine(s.RuleSet)
			require.NoError(t, err)
			require.NoError(t, voucher.NewWallet(eng, store).Verify(context.Background()))
		})
	}
	t.Logf("%d scenario files passed", len(files))
}

// Engine returns a rules engine for the built-in rule set name ("aliyun").
func Engine(t testing.TB, name string) *rules.Engine {
	t.Helper()
	rs, err := providers.Load(name)
	require.NoError(t, err)
	eng, err := rules.NewEngine(rs)
	require.NoError(t, err)
	return eng
}

var ctxb = context.Background()

// update runs fn in an Update that must succeed.
func update(t *testing.T, s voucher.Store, fn func(tx voucher.Tx)) {
	t.Helper()
	require.NoError(t, s.Update(ctxb, func(_ context.Context, tx voucher.Tx) error {
		fn(tx)
		return nil
	}))
}

// view runs fn in a View that must succeed.
func view(t *testing.T, s voucher.Store, fn func(tx voucher.Tx)) {
	t.Helper()
	require.NoError(t, s.View(ctxb, func(_ context.Context, tx voucher.Tx) error {
		fn(tx)
		return nil
	}))
}

// requireSame fails when want and got differ (see Diff).
func requireSame(t testing.TB, want, got any, what string) {
	t.Helper()
	if d := Diff(want, got); d != "" {
		require.Failf(t, what+" did not round-trip", "%s", d)
	}
}

var shanghai = mustZone("Asia/Shanghai")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// t0 is the fixtures' base time.
var t0 = time.Date(2026, 3, 2, 10, 0, 0, 123456789, shanghai)
