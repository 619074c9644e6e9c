package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// call runs the program with args and returns its exit status, stdout and stderr.
func call(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func TestUsage(t *testing.T) {
	code, out, errOut := call(t)
	assert.Equal(t, 2, code)
	assert.Empty(t, out)
	assert.Contains(t, errOut, "Usage:")

	for _, h := range []string{"help", "-h", "--help"} {
		code, out, errOut = call(t, h)
		assert.Equal(t, 0, code)
		assert.Contains(t, out, "voucherkit test [--allow-any-provider-path] [--json] [--provider-root DIR] FILE|DIR...\n")
		assert.Contains(t, out, "voucherkit quote --order FILE --provider NAME|FILE [--account NAME] [--at TIME] [--json] [--wallet FILE]\n",
			"required flags bare, optional ones in brackets, each value named")
		assert.Contains(t, out, "voucherkit help [COMMAND]\n")
		assert.Empty(t, errOut)
	}
}

// The general help's line for a command is the one its own help prints.
func TestHelpCommand(t *testing.T) {
	code, out, errOut := call(t, "help", "quote")
	assert.Equal(t, 0, code, errOut)
	assert.True(t, strings.HasPrefix(out, "Usage: voucherkit quote --order FILE --provider NAME|FILE"), out)
	assert.Contains(t, out, "-provider NAME|FILE\n")

	code, _, errOut = call(t, "help", "frobnicate")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, `voucherkit help: no command "frobnicate"`)
}

func TestVersion(t *testing.T) {
	code, out, errOut := call(t, "version")
	assert.Equal(t, 0, code, errOut)
	assert.Equal(t, "voucherkit (devel)\n", out, "a test binary has no module version")
	code, out, _ = call(t, "version", "--json")
	assert.Equal(t, 0, code)
	assert.JSONEq(t, `{"version": "(devel)"}`, out)
}

// Flags may follow the other arguments.
func TestInterspersedFlags(t *testing.T) {
	code, out, errOut := call(t, "providers", "aws", "--yaml")
	assert.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "name: aws\n")
	code, out, errOut = call(t, "providers", "--", "aws")
	assert.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "aws: ")
	code, _, errOut = call(t, "providers", "aws", "gcp")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "voucherkit providers: at most one NAME")
}

func TestUnknownCommand(t *testing.T) {
	code, out, errOut := call(t, "frobnicate")
	assert.Equal(t, 2, code)
	assert.Empty(t, out)
	assert.Contains(t, errOut, `voucherkit: unknown command "frobnicate"`)
	assert.Contains(t, errOut, "Usage:")
}

func TestEveryCommandHasHelp(t *testing.T) {
	for _, c := range commands() {
		for _, h := range []string{"-h", "--help"} {
			code, out, errOut := call(t, c.name, h)
			assert.Equal(t, 0, code, "%s %s", c.name, h)
			assert.True(t, strings.HasPrefix(out, "Usage: voucherkit "+c.name), "%s %s: %q", c.name, h, out)
			assert.Empty(t, errOut)
		}
		code, _, errOut := call(t, c.name, "--no-such-flag")
		assert.Equal(t, 2, code, c.name)
		assert.Contains(t, errOut, "flag provided but not defined: -no-such-flag")
		assert.Contains(t, errOut, "Usage: voucherkit "+c.name)
	}
}

func TestTestConformancePasses(t *testing.T) {
	code, out, errOut := call(t, "test", "../../testdata/conformance")
	assert.Equal(t, 0, code, out+errOut)
	assert.Empty(t, errOut)
	files, _ := filepath.Glob("../../testdata/conformance/*.yaml")
	require.NotEmpty(t, files)
	assert.Equal(t, strings.Repeat("ok", 1)+"", out[:2])
	assert.Equal(t, len(files), strings.Count(out, "\nok  ")+1)
	assert.Equal(t, itoa(len(files))+" passed, 0 failed", lastLine(out))
}

func TestTestProviderScenariosPass(t *testing.T) {
	code, out, errOut := call(t, "test", "../../providers/testdata")
	assert.Equal(t, 0, code, out+errOut)
	assert.NotContains(t, out, "FAIL")
	assert.Regexp(t, `^\d+ passed, 0 failed$`, lastLine(out))
}

func TestTestWrongExpectationFails(t *testing.T) {
	code, out, errOut := call(t, "test", "../../scenario/testdata/failing/wrong-expectations.yaml", "../../testdata/conformance/aws-credits-order.yaml")
	assert.Equal(t, 1, code)
	assert.Empty(t, errOut)
	assert.Contains(t, out, "FAIL  ../../scenario/testdata/failing/wrong-expectations.yaml  (the seed example with wrong expectations)\n")
	assert.Contains(t, out, "    step 1 (checkout o1): cash: expected 250, got 300.00\n")
	assert.Contains(t, out, "    step 1 (checkout o1): wallet.v200.balance: expected 50, got 0.00\n")
	assert.Contains(t, out, "    step 2 (refund o1): restored.v200: expected 200, got nothing\n")
	assert.Contains(t, out, "ok    ../../testdata/conformance/aws-credits-order.yaml")
	assert.Equal(t, "1 passed, 1 failed", lastLine(out))
}

func TestTestInvalidFiles(t *testing.T) {
	code, out, errOut := call(t, "test",
		"../../scenario/testdata/invalid/unknown-top-key.yaml",
		"../../scenario/testdata/invalid/two-actions.yaml",
		"../../testdata/conformance/aws-credits-order.yaml")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "../../scenario/testdata/invalid/unknown-top-key.yaml:5:1: nmae: unknown key")
	assert.Contains(t, errOut, "../../scenario/testdata/invalid/two-actions.yaml:7:5: steps[0].advance: a step has exactly one action")
	assert.Contains(t, out, "FAIL  ../../scenario/testdata/invalid/unknown-top-key.yaml  (not a valid scenario")
	assert.Equal(t, "1 passed, 2 failed", lastLine(out))

	code, _, errOut = call(t, "test", "no-such-file.yaml")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "no-such-file.yaml")

	code, _, errOut = call(t, "test")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "name at least one")
}

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644))
	}
	return dir
}

// quoteFiles writes the wallet and order files of the quote tests; p names one.
func quoteFiles(t *testing.T) (p func(string) string) {
	dir := writeFiles(t, map[string]string{
		"wallet.yaml": `
- {id: v200, type: voucher, amount: "200", expires_at: 2026-06-30}
- {id: save80, type: coupon, amount: "80", min_spend: "600"}
`,
		"order.yaml": `
id: o1
type: new
payment: subscription
first_purchase: true
items:
  - {id: ecs-1, product: ecs, amount: "500"}
`,
		"acct1-order.yaml": `
id: o2
account: acct-1
type: new
payment: subscription
items:
  - {id: ecs-1, product: ecs, amount: "500"}
`,
		"bad-order.yaml": `
id: o1
type: new
payment: subscription
use: [nope]
items: [{id: l1, product: ecs, amount: "500"}]
`,
		"bad-wallet.yaml": `
- {id: v, type: voucher, amout: "1"}
`,
	})
	return func(name string) string { return filepath.Join(dir, name) }
}

func TestQuote(t *testing.T) {
	p := quoteFiles(t)
	code, out, errOut := call(t, "quote", "--provider", "aliyun", "--wallet", p("wallet.yaml"), "--order", p("order.yaml"), "--at", "2026-03-02T10:00:00+08:00")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "order o1 (account default, 2026-03-02T10:00:00+08:00")
	assert.Contains(t, out, "= cash 300.00\n")
	assert.Contains(t, out, "invoiceable 300.00 + not invoiceable 200.00 = 500.00 (total less discount)\n",
		"the figures say what invoiceable and not invoiceable add up to")
	assert.Contains(t, out, "v200")
	assert.Contains(t, out, "save80 (coupon): min_spend", "every rejection with its reason")

	code, out, errOut = call(t, "quote", "--provider", "aliyun", "--wallet", p("wallet.yaml"), "--order", p("order.yaml"), "--at", "2026-03-02", "--json")
	require.Equal(t, 0, code, errOut)
	var q struct {
		Cash struct {
			Amount string `json:"amount"`
		} `json:"cash"`
		Rejections []struct {
			Key    string `json:"key"`
			Reason string `json:"reason"`
			Detail string `json:"detail"`
		} `json:"rejections"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &q), out)
	assert.Equal(t, "300.00", q.Cash.Amount)
	require.NotEmpty(t, q.Rejections)
	assert.Equal(t, "save80", q.Rejections[0].Key)
	assert.Equal(t, "min_spend", q.Rejections[0].Reason)
	assert.NotEmpty(t, q.Rejections[0].Detail)

	// An entry without account: belongs to the default account; an order for another
	// account lists it as not applied, with its reason, rather than leaving it out.
	code, out, errOut = call(t, "quote", "--provider", "aliyun", "--wallet", p("wallet.yaml"), "--order", p("acct1-order.yaml"), "--at", "2026-03-02")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "v200 (voucher): not_owner: belongs to another account")
	assert.Contains(t, out, "save80 (coupon): not_owner")

	// no wallet: nothing applies.
	code, out, _ = call(t, "quote", "--provider", "aliyun", "--order", p("order.yaml"), "--at", "2026-03-02")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "= cash 500.00")
}

func TestQuoteErrors(t *testing.T) {
	p := quoteFiles(t)
	code, _, errOut := call(t, "quote", "--provider", "aliyun", "--order", p("bad-order.yaml"), "--at", "2026-03-02")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "unknown instrument")

	code, _, errOut = call(t, "quote", "--provider", "aliyun", "--wallet", p("bad-wallet.yaml"), "--order", p("order.yaml"))
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "bad-wallet.yaml:2:26: wallet[0].amout: unknown key")

	code, _, errOut = call(t, "quote", "--provider", "nowhere", "--order", p("order.yaml"))
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, `unknown provider "nowhere"`)

	code, _, errOut = call(t, "quote", "--provider", "aliyun")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "voucherkit quote: missing --order\n")

	code, _, errOut = call(t, "quote", "--provider", "aliyun", "--order", p("order.yaml"), "--at", "soon")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, `--at: "soon" is not a time`)
}

func TestLint(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"bad-rules.yaml": "name: bad\ncurrency: CNY\nstages: [{name: s, kind: deduction}]\ntypes:\n  t: {stage: s, colour: red}\n",
		"neither.yaml":   "name: what am I\n",
		"broken.yaml":    "name: [\n",
	})
	code, out, errOut := call(t, "lint", "../../providers/aliyun.yaml", "../../providers/aws.yaml", "../../testdata/conformance/aliyun-stacking.yaml")
	assert.Equal(t, 0, code, out+errOut)
	assert.Contains(t, out, "ok    ../../providers/aliyun.yaml  (rule set)")
	assert.Contains(t, out, "ok    ../../testdata/conformance/aliyun-stacking.yaml  (scenario)")
	assert.Equal(t, "3 files, 0 with problems", lastLine(out))

	code, out, _ = call(t, "lint", filepath.Join(dir, "bad-rules.yaml"), "../../scenario/testdata/invalid/unknown-wallet-key.yaml",
		filepath.Join(dir, "neither.yaml"), filepath.Join(dir, "broken.yaml"))
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "bad-rules.yaml:5:17: types.t.colour: unknown key")
	assert.Contains(t, out, "unknown-wallet-key.yaml:6:28: wallet[0].amout: unknown key")
	assert.Contains(t, out, "neither.yaml: cannot tell whether this is a scenario")
	assert.Contains(t, out, "broken.yaml:2:1: invalid YAML")
	assert.Equal(t, "4 files, 4 with problems", lastLine(out))
}

func TestProviders(t *testing.T) {
	code, out, _ := call(t, "providers")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "NAME")
	assert.Regexp(t, `(?m)^aliyun\s+\S+\s+CNY\s+Asia/Shanghai\s+promo_code > coupon > voucher\s+Alibaba Cloud`, out)
	assert.Regexp(t, `(?m)^aws\s+\S+\s+USD\s+UTC\s+credits\s+AWS promotional credits`, out)

	assert.Regexp(t, `(?m)^aliyun\s+2019,2024\.07\s+CNY`, out, "every version is listed, oldest first")

	code, out, _ = call(t, "providers", "--yaml", "aws")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "\nname: aws\n")

	code, out, _ = call(t, "providers", "aliyun")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "  2019: from 2019-01-01T00:00:00+08:00, until 2024-07-15T00:00:00+08:00\n")
	assert.Contains(t, out, "    differs: voucher: order types new, renewal, upgrade, os_change, trial_conversion\n")
	assert.Contains(t, out, "  2024.07: from 2024-07-15T00:00:00+08:00  [top level]\n")
	assert.Contains(t, out, "stages (version 2024.07): promo_code (discount) > coupon (discount) > voucher (deduction)\n")
	assert.Contains(t, out, "  coupon (discount, stage coupon)\n    1 per order\n")
	assert.Contains(t, out, "    valid 30 days after claim\n")

	code, _, errOut := call(t, "providers", "nope")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, `unknown provider "nope"`)
}

// The demo is computed by the engine and wallet; its text is kept in a golden file
// (go test ./cmd/voucherkit -update rewrites it).
func TestDemo(t *testing.T) {
	code, out, errOut := call(t, "demo")
	require.Equal(t, 0, code, errOut)
	for _, want := range []string{
		"  total                       500.00 CNY\n",
		"  - v200                      200.00      voucher pays part of what is left (ecs-1 200.00)\n",
		"  = cash to pay               300.00 CNY\n",
		"  invoiceable                 300.00",
		"  not invoiceable             200.00",
		"  cash returned               300.00 CNY",
		"  forfeited v200              200.00 CNY",
		"  1. c1 applies 10.00 USD, to ec2 10.00\n",
		"  2. c2 applies 5.00 USD, to ec2 5.00\n",
		"  amount due 135.00 USD",
	} {
		assert.Contains(t, out, want)
	}
	golden := filepath.Join("testdata", "demo.golden")
	if *update {
		require.NoError(t, os.WriteFile(golden, []byte(out), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.Equal(t, string(want), out)

	code, _, _ = call(t, "demo", "extra")
	assert.Equal(t, 2, code)
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestCompare(t *testing.T) {
	code, out, errOut := call(t, "compare", "--providers", "aws, aliyun,huaweicloud",
		"--order", "testdata/compare/order.yaml", "--wallet", "testdata/compare/wallet.yaml", "--at", "2026-05-01")
	require.Equal(t, 0, code, errOut)
	assert.Regexp(t, `(?m)^\s+aws@\S+\s+aliyun@2024\.07\s+huaweicloud@\S+\s*$`, out)
	assert.Regexp(t, `(?m)^\s+deducted\s+50\.00 USD\s+200\.00 CNY\s+230\.00 CNY\s*$`, out)
	assert.Regexp(t, `(?m)^\s+cash\s+550\.00 USD\s+400\.00 CNY\s+370\.00 CNY\s*$`, out)
	assert.Contains(t, out, "aws@2024.12:\n  applied c50 (credit): 50.00\n  left out (type not in this rule set): v200 (voucher), cc30 (cash_coupon)\n")
	assert.Contains(t, out, "huaweicloud@2025.1:\n  applied v200 (voucher): 200.00\n  applied cc30 (cash_coupon): 30.00\n")

	// Before the 2024-07-15 boundary, aliyun's vouchers do not pay pay-as-you-go bills.
	code, out, errOut = call(t, "compare", "--providers", "aliyun",
		"--order", "testdata/compare/order.yaml", "--wallet", "testdata/compare/wallet.yaml", "--at", "2024-07-01")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "aliyun@2019")
	assert.Contains(t, out, "not applied v200 (voucher): order_type")

	code, _, errOut = call(t, "compare", "--providers", "aws,nimbus", "--order", "testdata/compare/order.yaml")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, `unknown provider "nimbus"`)

	code, _, errOut = call(t, "compare", "--order", "testdata/compare/order.yaml")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "voucherkit compare: missing --providers")

	code, out, _ = call(t, "compare", "-h")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "Usage: voucherkit compare")
}

// A rule set that extends a built-in one is linted against it.
func TestLintExtends(t *testing.T) {
	code, out, errOut := call(t, "lint", "testdata/lint-extends.yaml")
	require.Equal(t, 0, code, out+errOut)
	assert.Contains(t, out, "ok    testdata/lint-extends.yaml  (rule set)")
}
