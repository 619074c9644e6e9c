package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/voucherkit/voucherkit/focus"
)

const sample = "../../testdata/focus/focus-1.0-sample.csv"

func TestReconcileTheSample(t *testing.T) {
	args := []string{"reconcile", "--provider", "aws", "--focus", sample, "--wallet", "testdata/focus/open-source-credit.yaml", "--payer", "391835788720"}
	code, out, errOut := call(t, args...)
	require.Equal(t, exitFail, code, errOut)
	require.Contains(t, out, "4GQWNPC9K2PZAY97  2.61      0       -2.61       DIFFERS")
	require.Contains(t, out, "S78KHHH96AJF23KZ  0         2.61    2.61        DIFFERS")
	require.Contains(t, out, "expected 2.61, actual 2.61: 2 of 2 lines differ")
	require.Contains(t, out, "differ from the exact BilledCost by 0.0096613816")

	code, out, errOut = call(t, append(args, "--by", "service")...)
	require.Equal(t, exitOK, code, errOut)
	require.Contains(t, out, "0 of 1 lines differ")

	export := filepath.Join(t.TempDir(), "credits.csv")
	code, out, errOut = call(t, append(args, "--by", "account", "--json", "--export", export)...)
	require.Equal(t, exitOK, code, errOut)
	var got struct {
		By    string `json:"by"`
		Lines []struct {
			Account  string `json:"account"`
			Expected string `json:"expected"`
			Actual   string `json:"actual"`
			Match    bool   `json:"match"`
		} `json:"lines"`
		Rows               focus.Rows `json:"rows"`
		RoundingDifference string     `json:"rounding_difference"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &got))
	require.Equal(t, "account", got.By)
	require.Len(t, got.Lines, 1)
	require.Equal(t, "11353890204", got.Lines[0].Account)
	require.Equal(t, "2.61", got.Lines[0].Expected)
	require.True(t, got.Lines[0].Match)
	require.Equal(t, 1000, got.Rows.Read)

	f, err := os.Open(export)
	require.NoError(t, err)
	defer f.Close()
	back, err := focus.Import(f, focus.Options{})
	require.NoError(t, err)
	require.Len(t, back.Credits, 1)
	require.Equal(t, "open-source", back.Credits[0].Instrument)
	require.Equal(t, "4GQWNPC9K2PZAY97", back.Credits[0].SKU)
}

func TestReconcileUsageErrors(t *testing.T) {
	code, _, errOut := call(t, "reconcile", "--provider", "aws")
	require.Equal(t, exitInvalid, code)
	require.Contains(t, errOut, "missing --focus")
	code, _, errOut = call(t, "reconcile", "--provider", "aws", "--focus", sample, "--by", "region")
	require.Equal(t, exitInvalid, code)
	require.Contains(t, errOut, `--by: focus: unknown level "region"`)
	bad := filepath.Join(t.TempDir(), "bad.csv")
	require.NoError(t, os.WriteFile(bad, []byte("BilledCost,ServiceName\n1,EC2\n"), 0o644))
	code, _, errOut = call(t, "reconcile", "--provider", "aws", "--focus", bad)
	require.Equal(t, exitInvalid, code)
	require.Contains(t, errOut, "missing column BillingAccountId")
}

func TestSimulateTheSample(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := call(t, "simulate", "--providers", "aws,gcp", "--input", sample, "--wallet", "testdata/focus/open-source-credit.yaml",
		"--payer", "391835788720", "--json", "--csv", filepath.Join(dir, "csv"), "--html", filepath.Join(dir, "report.html"))
	require.Equal(t, exitOK, code, errOut)
	var rep struct {
		Bills    int `json:"bills"`
		RuleSets []struct {
			Name   string `json:"name"`
			Totals struct {
				List     string `json:"list"`
				Deducted string `json:"deducted"`
				Cash     string `json:"cash"`
			} `json:"totals"`
		} `json:"rule_sets"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	require.Equal(t, 1, rep.Bills)
	for _, rs := range rep.RuleSets {
		require.Equal(t, "20.63", rs.Totals.List, rs.Name)
		require.Equal(t, "2.61", rs.Totals.Deducted, rs.Name)
		require.Equal(t, "18.02", rs.Totals.Cash, rs.Name)
	}
	for _, table := range []string{"totals", "months", "rejections", "burn_down", "instruments", "changed", "refused"} {
		data, err := os.ReadFile(filepath.Join(dir, "csv", table+".csv"))
		require.NoError(t, err, table)
		require.NotEmpty(t, data, table)
	}
	page, err := os.ReadFile(filepath.Join(dir, "report.html"))
	require.NoError(t, err)
	require.Equal(t, 5, strings.Count(string(page), "<svg"), "burn-down, breakage, cash, and one instrument chart per rule set")
}

func TestSimulateOrderStreams(t *testing.T) {
	for _, input := range []string{"testdata/focus/orders.jsonl", "testdata/focus/orders.csv"} {
		code, out, errOut := call(t, "simulate", "--providers", "aliyun,tencentcloud", "--input", input, "--wallet", "testdata/focus/vouchers.yaml")
		require.Equal(t, exitOK, code, errOut)
		require.Contains(t, out, "3 item(s): 3 order(s), 0 bill(s), from 2026-01-05T10:00:00+08:00 to 2026-02-10T10:00:00+08:00", input)
		require.Regexp(t, `cash\s+25\.00 CNY\s+45\.00 CNY`, out, input)
		require.Regexp(t, `breakage \(expired\)\s+20\.00 CNY\s+0\.00 CNY`, out, input)
		require.Regexp(t, `unused at the end\s+0\.00 CNY\s+40\.00 CNY`, out, input)
		require.Contains(t, out, "changed most between rule sets:", input)
	}
}

func TestSimulateInputErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.jsonl")
	require.NoError(t, os.WriteFile(bad, []byte(`{"id": "o1", "account": "a", "type": "new", "payment": "subscription", "items": [], "at": "2026-01-05T10:00:00Z"}`+"\n"+`{"id": "o2", "colour": "red"}`+"\n"), 0o644))
	code, _, errOut := call(t, "simulate", "--providers", "aliyun", "--input", bad)
	require.Equal(t, exitInvalid, code)
	require.Contains(t, errOut, `line 2: unknown key "colour"`)
	code, _, errOut = call(t, "simulate", "--providers", "aliyun")
	require.Equal(t, exitInvalid, code)
	require.Contains(t, errOut, "missing --input")
	code, _, errOut = call(t, "simulate", "--providers", "aliyun", "--input", "testdata/focus/orders.csv", "--sample", "hour")
	require.Equal(t, exitInvalid, code)
	require.Contains(t, errOut, `--sample: simulate: unknown sample interval "hour"`)
}

func TestSimulateABillOfAnOrganization(t *testing.T) {
	code, out, errOut := call(t, "simulate", "--providers", "aws,../../docs/aws-unshared.yaml", "--input", "testdata/focus/bill.jsonl",
		"--wallet", "testdata/focus/payer-credit.yaml", "--org", "testdata/focus/org.yaml")
	require.Equal(t, exitOK, code, errOut)
	require.Regexp(t, `deducted\s+8\.00 USD\s+3\.00 USD`, out, "shared, the payer's credit pays the member's 5 too")
	code, out, errOut = call(t, "simulate", "--providers", "aws", "--input", "testdata/focus/bill.jsonl", "--wallet", "testdata/focus/payer-credit.yaml")
	require.Equal(t, exitOK, code, errOut)
	require.Contains(t, out, "aws refused: invalid_order 1", "without --org the bill's organization is unknown")
	code, _, errOut = call(t, "reconcile", "--provider", "aws", "--focus", sample, "--org", "testdata/focus/org-sample.yaml")
	require.Equal(t, exitInvalid, code)
	require.Contains(t, errOut, `account "51738928782" has charges on billing account "1234567890123"'s bill for 2024-09-01 but is not in organization "1234567890123"`)
}
