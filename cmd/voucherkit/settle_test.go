package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const settleDir = "testdata/settle"

func settleArgs(extra ...string) []string {
	return append([]string{"settle", "--provider", "aws", "--org", settleDir + "/org.yaml",
		"--wallet", settleDir + "/wallet.yaml", "--bill", settleDir + "/bill.yaml"}, extra...)
}

// The joiner's credit pays its charge from before joining; the payer's pays its own
// charge, then member-1 (50 > the joiner's 40 on the organization's bill), then the
// joiner's j-post. The stranger's credit is not an account of the bill's.
func TestSettleText(t *testing.T) {
	code, out, errOut := call(t, settleArgs()...)
	require.Equal(t, 0, code, errOut)
	assert.Empty(t, errOut)
	for _, want := range []string{
		"bill bill-2026-03 (account payer, 2026-03-31T23:59:59.999999999Z, rule set aws@2024.12)\n",
		"  total 140.00 USD\n",
		"  = cash 20.00\n",
		"  invoiceable 20.00 + not invoiceable 120.00 = 140.00 (total less discount)\n",
		"  account member-1: total 50.00, discount 0.00, deducted 50.00, cash 0.00, invoiceable 0.00\n",
		"  account joiner: total 70.00, discount 0.00, deducted 50.00, cash 20.00, invoiceable 20.00\n",
		"  line j-pre (ec2, account joiner): total 30.00, discount 0.00, deducted 20.00, cash 10.00, invoiceable 10.00\n",
		"    jc (deduction credit, stage credits, of joiner): 20.00 USD [joiner: j-pre 20.00]\n",
		"    pc (deduction credit, stage credits, of payer): 100.00 USD [payer: p-s3 20.00; member-1: m-ec2 50.00; joiner: j-post 30.00]\n",
	} {
		assert.Contains(t, out, want)
	}
	assert.NotContains(t, out, "other")
}

func TestSettleJSON(t *testing.T) {
	code, out, errOut := call(t, settleArgs("--json")...)
	require.Equal(t, 0, code, errOut)
	type money struct {
		Amount string `json:"amount"`
	}
	var q struct {
		Cash     money `json:"cash"`
		Accounts []struct {
			Account string `json:"account"`
			Cash    money  `json:"cash"`
		} `json:"accounts"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &q))
	assert.Equal(t, "20.00", q.Cash.Amount)
	require.Len(t, q.Accounts, 3)
	assert.Equal(t, "joiner", q.Accounts[2].Account)
	assert.Equal(t, "20.00", q.Accounts[2].Cash.Amount)
}

// One account's bill needs no organizations file.
func TestSettleOneAccount(t *testing.T) {
	dir := t.TempDir()
	bill := filepath.Join(dir, "bill.yaml")
	require.NoError(t, os.WriteFile(bill, []byte("id: b1\nperiod: 2026-03\naccount: stranger\nitems: [{id: l1, product: ec2, amount: \"80\"}]\n"), 0o644))
	code, out, errOut := call(t, "settle", "--provider", "aws", "--wallet", settleDir+"/wallet.yaml", "--bill", bill)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "    other (deduction credit, stage credits, of stranger): 50.00 USD [stranger: l1 50.00]\n")
	assert.Contains(t, out, "  account stranger: total 80.00, discount 0.00, deducted 50.00, cash 30.00, invoiceable 30.00\n")
}

func TestSettleErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
		return p
	}
	outside := write("outside.yaml", "id: b1\nperiod: 2026-03\norganization: fam\nitems: [{id: l1, product: ec2, amount: \"1\", incurred_at: 2026-04-02}]\n")
	code, out, errOut := call(t, "settle", "--provider", "aws", "--org", settleDir+"/org.yaml", "--wallet", settleDir+"/wallet.yaml", "--bill", outside)
	assert.Equal(t, 1, code, "a bill the engine refuses")
	assert.Empty(t, out)
	assert.Contains(t, errOut, "voucherkit settle: the bill is refused: voucher: invalid order: items[0].incurred_at: 2026-04-02T00:00:00Z is outside the period")

	unknown := write("unknown.yaml", "id: b1\nperiod: 2026-03\norganization: nope\nitems: [{id: l1, product: ec2, amount: \"1\"}]\n")
	code, _, errOut = call(t, "settle", "--provider", "aws", "--org", settleDir+"/org.yaml", "--wallet", settleDir+"/wallet.yaml", "--bill", unknown)
	assert.Equal(t, 2, code, "a bill file that names an organization the org file does not define")
	assert.Contains(t, errOut, `unknown.yaml:3:15: settle.organization: unknown organization "nope"; the file defines fam`)

	badOrg := write("org.yaml", "- {id: fam, payer: p, members: [p]}\n")
	code, _, errOut = call(t, "settle", "--provider", "aws", "--org", badOrg, "--wallet", settleDir+"/wallet.yaml", "--bill", unknown)
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, `org.yaml:1:33: organizations[0].members[0].account: "p" is the payer, a member throughout`)

	code, _, errOut = call(t, "settle", "--provider", "aws", "--wallet", settleDir+"/wallet.yaml")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "missing --bill")
	assert.Contains(t, errOut, "Usage: voucherkit settle")

	code, out, _ = call(t, "settle", "-h")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "Usage: voucherkit settle --bill FILE --provider NAME|FILE --wallet FILE [--json] [--org FILE]")
}
