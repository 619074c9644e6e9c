package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// errorOf decodes the one error shape of --json.
func errorOf(t *testing.T, out string) jsonError {
	t.Helper()
	var doc jsonErrorDoc
	require.NoError(t, json.Unmarshal([]byte(out), &doc), out)
	require.NotEmpty(t, doc.Error.Code, out)
	return doc.Error
}

// Every command with output takes --json; its errors come in one shape on stdout.
func TestJSONErrors(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"typo-order.yaml": "id: o1\ntype: neww\npayment: subscription\nitems: [{id: l1, product: ecs, amount: \"5\"}]\n",
		"order.yaml":      "id: o1\ntype: new\npayment: subscription\nitems: [{id: l1, product: ecs, amount: \"5\"}]\n",
	})
	p := func(name string) string { return filepath.Join(dir, name) }

	// A typo'd order type in an order file is a positioned problem of the file.
	code, out, errOut := call(t, "quote", "--provider", "aliyun", "--order", p("typo-order.yaml"), "--json")
	assert.Equal(t, 2, code)
	assert.Empty(t, errOut)
	e := errorOf(t, out)
	assert.Equal(t, "invalid_file", e.Code)
	require.Len(t, e.Problems, 1)
	assert.Equal(t, jsonProblem{File: p("typo-order.yaml"), Line: 2, Column: 7, Key: "order.type",
		Message: `unknown order type "neww"; want one of new, renewal, upgrade, os_change, trial_conversion, usage`}, e.Problems[0])

	code, _, errOut = call(t, "quote", "--provider", "aliyun", "--order", p("typo-order.yaml"))
	assert.Equal(t, 2, code)
	assert.Equal(t, "voucherkit quote: "+p("typo-order.yaml")+`:2:7: order.type: unknown order type "neww"; want one of new, renewal, upgrade, os_change, trial_conversion, usage`+"\n", errOut)

	// A missing file is a sentence; a missing flag is named; no prefix is doubled.
	code, out, _ = call(t, "quote", "--provider", "aliyun", "--order", "nosuch.yaml", "--json")
	assert.Equal(t, 2, code)
	e = errorOf(t, out)
	assert.Equal(t, "not_found", e.Code)
	assert.Equal(t, "there is no file nosuch.yaml", e.Message)
	code, out, _ = call(t, "quote", "--provider", "aliyun", "--json")
	assert.Equal(t, 2, code)
	assert.Equal(t, jsonError{Code: "usage", Message: "missing --order"}, errorOf(t, out))
	code, _, errOut = call(t, "quote", "--provider", "nimbus", "--order", p("order.yaml"))
	assert.Equal(t, 2, code)
	assert.True(t, strings.HasPrefix(errOut, `voucherkit quote: --provider: unknown provider "nimbus": want a built-in rule set`), errOut)

	code, out, _ = call(t, "providers", "nope", "--json")
	assert.Equal(t, 1, code)
	assert.Equal(t, "unknown_provider", errorOf(t, out).Code)
	code, _, errOut = call(t, "providers", "nope")
	assert.Equal(t, 1, code)
	assert.Equal(t, 1, strings.Count(errOut, "providers:"), "no doubled prefix: %s", errOut)

	code, out, _ = call(t, "compare", "--providers", "aws", "--order", p("typo-order.yaml"), "--json")
	assert.Equal(t, 2, code)
	assert.Equal(t, "invalid_file", errorOf(t, out).Code)

	code, out, _ = call(t, "lint", "--json", "../../scenario/testdata/invalid/unknown-top-key.yaml", "../../providers/aws.yaml")
	assert.Equal(t, 1, code)
	var lint struct {
		Files []lintedJSON `json:"files"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &lint), out)
	require.Len(t, lint.Files, 2)
	require.NotNil(t, lint.Files[0].Error)
	assert.Equal(t, "invalid_file", lint.Files[0].Error.Code)
	assert.Equal(t, "nmae", lint.Files[0].Error.Problems[0].Key)
	assert.Nil(t, lint.Files[1].Error)
	assert.Equal(t, "rule set", lint.Files[1].Kind)

	code, out, _ = call(t, "test", "--json", "../../scenario/testdata/failing/wrong-expectations.yaml", "../../testdata/conformance/aws-credits-order.yaml")
	assert.Equal(t, 1, code)
	var tested struct {
		Files          []testedJSON `json:"files"`
		Passed, Failed int
	}
	require.NoError(t, json.Unmarshal([]byte(out), &tested), out)
	assert.Equal(t, 1, tested.Passed)
	assert.Equal(t, 1, tested.Failed)
	require.Len(t, tested.Files, 2)
	assert.False(t, tested.Files[0].Passed)
	assert.NotEmpty(t, tested.Files[0].Mismatches)
	assert.True(t, tested.Files[1].Passed)
}

func TestCompareJSON(t *testing.T) {
	code, out, errOut := call(t, "compare", "--providers", "aliyun,aws", "--json",
		"--order", "testdata/compare/order.yaml", "--wallet", "testdata/compare/wallet.yaml", "--at", "2026-03-02")
	require.Equal(t, 0, code, errOut)
	var doc struct {
		Results []struct {
			RuleSet string          `json:"rule_set"`
			Quote   json.RawMessage `json:"quote"`
			LeftOut []string        `json:"left_out"`
		} `json:"results"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &doc), out)
	require.Len(t, doc.Results, 2)
	assert.True(t, strings.HasPrefix(doc.Results[0].RuleSet, "aliyun@"))
	assert.Contains(t, string(doc.Results[0].Quote), `"cash"`)
}

// A rule-set file among scenarios is checked as a rule set, not failed as a scenario.
func TestTestRuleSetBeside(t *testing.T) {
	code, out, errOut := call(t, "test", "../../scenario/testdata/valid/own-rules.yaml", "../../scenario/testdata/valid/rules/mini.yaml")
	assert.Equal(t, 0, code, out+errOut)
	assert.Contains(t, out, "ok    ../../scenario/testdata/valid/rules/mini.yaml  (a rule set: checked, not run)\n")
	assert.Equal(t, "1 passed, 0 failed", lastLine(out))
}

func TestDemoJSON(t *testing.T) {
	code, out, errOut := call(t, "demo", "--json")
	require.Equal(t, 0, code, errOut)
	var doc struct {
		Steps []struct {
			Example, Step string
			Quote         *struct {
				Cash struct {
					Amount string `json:"amount"`
				} `json:"cash"`
			} `json:"quote"`
			Refund json.RawMessage `json:"refund"`
		} `json:"steps"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &doc), out)
	require.Len(t, doc.Steps, 3)
	assert.Equal(t, "checkout o1", doc.Steps[0].Step)
	require.NotNil(t, doc.Steps[0].Quote)
	assert.Equal(t, "300.00", doc.Steps[0].Quote.Cash.Amount, "the figures the text demo explains")
	assert.NotEmpty(t, doc.Steps[1].Refund)
	assert.Equal(t, "aws", doc.Steps[2].Example)
}
