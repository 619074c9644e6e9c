package scenariotest_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/voucherkit/voucherkit/internal/testfixture"
	"github.com/voucherkit/voucherkit/scenario"
	"github.com/voucherkit/voucherkit/scenario/scenariotest"
)

// The public conformance suite (a copy of shared/conformance) must pass.
func TestConformance(t *testing.T) {
	scenariotest.RunFiles(t, "../../testdata/conformance")
}

// A scenario against a rule set of one's own, by path.
func TestOwnRuleSet(t *testing.T) {
	scenariotest.RunFiles(t, "../testdata/valid/own-rules.yaml")
}

// A settle under a rule set that extends aws with per-order limits and percentage
// discounts: limits count over the whole settle, percentages and discount_desc over the
// charges each instrument reaches.
func TestSettleLimits(t *testing.T) {
	scenariotest.RunFiles(t, "../testdata/valid/settle-limits.yaml")
}

// recorder is a testing.TB that keeps what RunFiles reports instead of failing.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, strings.TrimSpace(fmt.Sprintf(format, args...)))
}
func (r *recorder) Fatalf(format string, args ...any) { r.Errorf(format, args...) }

func TestRunFilesReports(t *testing.T) {
	r := &recorder{TB: t}
	scenariotest.RunFiles(r, "../testdata/failing/wrong-expectations.yaml", "../testdata/invalid/unknown-top-key.yaml", "../testdata/valid/own-rules.yaml")
	require.Len(t, r.errs, 2)
	assert.Contains(t, r.errs[0], "FAIL  ../testdata/failing/wrong-expectations.yaml")
	assert.Contains(t, r.errs[0], "step 1 (checkout o1): cash: expected 250, got 300.00")
	assert.Contains(t, r.errs[1], "../testdata/invalid/unknown-top-key.yaml:5:1: nmae: unknown key")

	// A pattern reports every file it matches that fails.
	r = &recorder{TB: t}
	scenariotest.RunFiles(r, "../testdata/failing/*.yaml")
	require.Len(t, r.errs, 2)
	assert.Contains(t, r.errs[0], "FAIL  ../testdata/failing/settle-accounts-no-charge.yaml")
	assert.Contains(t, r.errs[1], "FAIL  ../testdata/failing/wrong-expectations.yaml")

	r = &recorder{TB: t}
	scenariotest.RunFiles(r, filepath.Join(t.TempDir(), "*.yaml"))
	require.Len(t, r.errs, 1, "no file at all is a failure")
	assert.Contains(t, r.errs[0], "no scenario file matches")
}

// A rule-set file kept beside the scenarios is checked as a rule set, not failed as a
// scenario; an invalid one fails.
func TestRunFilesRuleSetBeside(t *testing.T) {
	dir := testfixture.Tree(t, map[string]string{
		"mini.yaml": testfixture.MiniRuleSet,
		"uses.yaml": "name: uses mini\nprovider: mini.yaml\nnow: 2026-03-02\nwallet: [{id: g, type: gift, amount: \"10\"}]\n" +
			"steps:\n  - quote: {id: q, type: new, payment: subscription, items: [{id: l1, product: book, amount: \"4\"}]}\n" +
			"    expect: {cash: \"0\"}\n",
	})
	r := &recorder{TB: t}
	scenariotest.RunFiles(r, filepath.Join(dir, "*.yaml"))
	assert.Empty(t, r.errs)

	require.NoError(t, os.WriteFile(filepath.Join(dir, "mini.yaml"), []byte(testfixture.MiniRuleSet+"scale: nine\n"), 0o644))
	r = &recorder{TB: t}
	scenariotest.RunFiles(r, filepath.Join(dir, "mini.yaml"))
	require.Len(t, r.errs, 1)
	assert.Contains(t, r.errs[0], "mini.yaml:5:8: scale: must be an integer")
}

// RunFiles confines a provider path to the directory its pattern names; RunFilesWith
// takes options that allow more.
func TestRunFilesRoot(t *testing.T) {
	root := testfixture.Tree(t, map[string]string{
		"rules/mini.yaml": testfixture.MiniRuleSet,
		"scen/sibling.yaml": "name: sibling\nprovider: ../rules/mini.yaml\nnow: 2026-03-02\nwallet: [{id: g, type: gift, amount: \"10\"}]\n" +
			"steps:\n  - quote: {id: q, type: new, payment: subscription, items: [{id: l1, product: book, amount: \"4\"}]}\n" +
			"    expect: {cash: \"0\"}\n",
	})
	pattern := filepath.Join(root, "scen", "sib*.yaml")
	r := &recorder{TB: t}
	scenariotest.RunFiles(r, pattern)
	require.Len(t, r.errs, 1)
	assert.Contains(t, r.errs[0], `provider: rule set path "../rules/mini.yaml" leads outside `+filepath.Join(root, "scen"))

	r = &recorder{TB: t}
	scenariotest.RunFiles(r, filepath.Join(root, "*", "sib*.yaml"))
	assert.Empty(t, r.errs, "the pattern names ROOT")

	r = &recorder{TB: t}
	scenariotest.RunFilesWith(r, []scenario.Option{scenario.WithRoot(root)}, pattern)
	assert.Empty(t, r.errs)
	r = &recorder{TB: t}
	scenariotest.RunFilesWith(r, []scenario.Option{scenario.WithAnyProviderPath()}, pattern)
	assert.Empty(t, r.errs)
}

// A service that decodes orders links package scenario, and must not link testing.
func TestScenarioDoesNotLinkTesting(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/voucherkit/voucherkit/scenario").CombinedOutput()
	require.NoError(t, err, "%s", out)
	deps := strings.Fields(string(out))
	require.Contains(t, deps, "github.com/voucherkit/voucherkit/voucher", "the list is the real one")
	assert.NotContains(t, deps, "testing")
}
