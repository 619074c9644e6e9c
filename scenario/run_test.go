package scenario

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRunReportsEveryMismatch(t *testing.T) {
	s, err := Load("testdata/failing/wrong-expectations.yaml")
	require.NoError(t, err)
	res := Run(s)
	assert.False(t, res.Passed())
	assert.Equal(t, 5, res.Steps)
	// Engine details (in parentheses) are the engine's to word; the rest is ours.
	type row struct{ label, key, expected, gotPrefix string }
	want := []row{
		{"step 1 (checkout o1)", "cash", "250", "300.00"},
		{"step 1 (checkout o1)", "applied.c", "10", "not applied: rejected first_purchase_only"},
		{"step 1 (checkout o1)", "applied.v200", "250", "200.00"},
		{"step 1 (checkout o1)", "rejected.c", "order_type", "first_purchase_only"},
		{"step 1 (checkout o1)", "lines.ecs-1.cash", "250", "300.00"},
		{"step 1 (checkout o1)", "wallet.v200.balance", "50", "0.00"},
		{"step 1 (checkout o1)", "wallet.v200.status", "available", "used_up"},
		{"step 2 (refund o1)", "forfeited.v200", "nothing", "200.00"},
		{"step 2 (refund o1)", "restored.v200", "200", "nothing"},
		{"step 3 (refund o1)", "error", "no error", "already_refunded ("},
		{"step 4 (advance 2026-03-01T00:00:00+08:00)", "error", "no error", "clock_backwards ("},
		{"step 5 (quote q1)", "error", "currency_mismatch", "no error: the step succeeded"},
	}
	require.Len(t, res.Mismatches, len(want), res.Report())
	for i, w := range want {
		m := res.Mismatches[i]
		assert.Equal(t, w.label, m.Label, "mismatch %d", i)
		assert.Equal(t, w.key, m.Key, "mismatch %d", i)
		assert.Equal(t, w.expected, m.Expected, "mismatch %d", i)
		assert.True(t, strings.HasPrefix(m.Got, w.gotPrefix), "mismatch %d: got %q, want prefix %q", i, m.Got, w.gotPrefix)
		assert.Equal(t, w.label+": "+w.key+": expected "+w.expected+", got "+m.Got, m.String())
	}
	report := res.Report()
	assert.True(t, strings.HasPrefix(report, "FAIL  testdata/failing/wrong-expectations.yaml  (the seed example with wrong expectations)\n    step 1 (checkout o1): cash: expected 250, got 300.00\n"), report)
}

func TestRunPassingReport(t *testing.T) {
	s, err := Load("../testdata/conformance/aws-credits-order.yaml")
	require.NoError(t, err)
	res := Run(s)
	assert.True(t, res.Passed(), res.Report())
	assert.Equal(t, "ok    ../testdata/conformance/aws-credits-order.yaml  (aws applies the soonest-expiring credit first, to the largest charge)\n", res.Report())
}

// A step expected to fail must fail with that code; one that fails with another code,
// or succeeds, is a mismatch.
func TestRunErrorExpectations(t *testing.T) {
	s, err := Parse("errors.yaml", []byte(`
name: error expectations
provider: aliyun
now: 2026-03-02T10:00:00+08:00
wallet:
  - {id: v, type: voucher, amount: "100"}
steps:
  - checkout: {id: o1, type: renewal, payment: subscription, items: [{id: l1, product: ecs, amount: "10"}]}
  - checkout: {id: o1, type: renewal, payment: subscription, items: [{id: l1, product: ecs, amount: "10"}]}
    expect: {error: duplicate_order, wallet: {v: {balance: "90"}}}
  - checkout: {id: o1, type: renewal, payment: subscription, items: [{id: l1, product: ecs, amount: "10"}]}
    expect: {error: invalid_order}
  - checkout: {id: o2, type: renewal, payment: subscription, items: [{id: l1, product: ecs, amount: "10"}]}
    expect: {error: invalid_order, wallet: {v: {balance: "90"}}}
`))
	require.NoError(t, err)
	res := Run(s)
	require.Len(t, res.Mismatches, 3, res.Report())
	m := res.Mismatches[0]
	assert.Equal(t, 3, m.Step)
	assert.Equal(t, "step 3 (checkout o1)", m.Label)
	assert.Equal(t, "error", m.Key)
	assert.Equal(t, "invalid_order", m.Expected)
	assert.True(t, strings.HasPrefix(m.Got, "duplicate_order (voucher: "), m.Got)
	assert.Equal(t, "step 4 (checkout o2): error: expected invalid_order, got no error: the step succeeded", res.Mismatches[1].String())
	assert.Equal(t, "step 4 (checkout o2): wallet.v.balance: expected 90, got 80.00", res.Mismatches[2].String())
}

func TestSnapshotDiff(t *testing.T) {
	a := snapshot{ledger: 1, ids: []string{"v"}, state: map[string][]string{"v": {"status available", "balance 100"}}}
	b := snapshot{ledger: 2, ids: []string{"v"}, state: map[string][]string{"v": {"status used_up", "balance 0"}}}
	assert.Equal(t, "", a.diff(a))
	assert.Equal(t, "ledger entries 1 -> 2; v: status available -> used_up; v: balance 100 -> 0", a.diff(b))
}

func TestFiles(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"b.yaml", "a.yml", "notes.txt", "sub/c.yaml"} {
		p := filepath.Join(dir, f)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte("x"), 0o644))
	}
	files, err := Files(dir, filepath.Join(dir, "*.yaml"), "missing.yaml")
	require.NoError(t, err)
	assert.Equal(t, []string{
		filepath.Join(dir, "a.yml"), filepath.Join(dir, "b.yaml"), filepath.Join(dir, "sub/c.yaml"), "missing.yaml",
	}, files)
}

// An accounts expectation naming an account without a charge in the settle is a
// mismatch of that step; the file is valid and every step runs.
func TestRunAccountsWithoutCharge(t *testing.T) {
	s, err := Load("testdata/failing/settle-accounts-no-charge.yaml")
	require.NoError(t, err)
	res := Run(s)
	assert.Equal(t, 2, res.Steps)
	require.Len(t, res.Mismatches, 2, res.Report())
	m := res.Mismatches[0]
	assert.Equal(t, "accounts.someone", m.Key)
	assert.Equal(t, "an account with a charge", m.Expected)
	assert.Equal(t, "no charge of this account", m.Got)
	assert.Equal(t, "cash", res.Mismatches[1].Key, "the second step ran: its cash is 2.00, not 3")
}
