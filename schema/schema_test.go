package schema_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/voucherkit/voucherkit/internal/yamlx"
	"github.com/voucherkit/voucherkit/schema"
)

var update = flag.Bool("update", false, "rewrite the committed schema files")

// The committed schemas are what the declarations generate.
func TestSchemasAreCurrent(t *testing.T) {
	require.NotEmpty(t, schema.Names())
	for _, name := range schema.Names() {
		want, err := schema.File(name)
		require.NoError(t, err)
		if *update {
			require.NoError(t, os.WriteFile(name, want, 0o644))
			continue
		}
		got, err := os.ReadFile(name)
		require.NoError(t, err, "run go generate ./schema")
		if string(want) != string(got) {
			t.Errorf("%s is stale: run go generate ./schema", name)
		}
	}
}

// compiled compiles every committed schema.
func compiled(t *testing.T) map[string]*jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	out := map[string]*jsonschema.Schema{}
	for _, name := range schema.Names() {
		data, err := schema.File(name)
		require.NoError(t, err)
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
		require.NoError(t, err)
		require.NoError(t, c.AddResource(name, doc))
	}
	for _, name := range schema.Names() {
		s, err := c.Compile(name)
		require.NoError(t, err, name)
		out[name] = s
	}
	return out
}

// instance reads a YAML file as the JSON value a validator (or an editor) sees.
func instance(t *testing.T, path string) any {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	_, root, err := yamlx.Parse(path, data)
	require.NoError(t, err)
	b, err := json.Marshal(yamlx.ToJSON(root))
	require.NoError(t, err)
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	require.NoError(t, err)
	return v
}

func glob(t *testing.T, patterns ...string) []string {
	t.Helper()
	var out []string
	for _, p := range patterns {
		m, err := filepath.Glob(p)
		require.NoError(t, err)
		require.NotEmpty(t, m, "%s matches no file", p)
		out = append(out, m...)
	}
	return out
}

// Every built-in rule set and every valid rule-set file of the tests validates.
func TestRuleSetsValidate(t *testing.T) {
	s := compiled(t)["ruleset.json"]
	for _, f := range glob(t, "../providers/*.yaml", "../rules/testdata/valid/*.yaml",
		"../scenario/testdata/valid/rules/mini.yaml", "../cmd/voucherkit/testdata/lint-extends.yaml") {
		assert.NoError(t, s.Validate(instance(t, f)), f)
	}
}

// Every built-in FOCUS mapping validates, and the schema refuses an unknown key.
func TestFocusMappingsValidate(t *testing.T) {
	s := compiled(t)["focus-mapping.json"]
	for _, f := range glob(t, "../providers/focus/*.yaml") {
		assert.NoError(t, s.Validate(instance(t, f)), f)
	}
	bad := map[string]any{"rule_set": "aws", "servics": map[string]any{"Amazon EC2": "ec2"}}
	assert.Error(t, s.Validate(bad), "an unknown key")
}

// The schema refuses what the parser refuses for its keys and kinds.
func TestRuleSetSchemaRefuses(t *testing.T) {
	s := compiled(t)["ruleset.json"]
	for _, f := range []string{"unknown_top_key", "unknown_type_key", "unknown_stage_key", "missing_required",
		"string_for_int", "unknown_rounding", "scale_out_of_range", "unknown_order_type", "number_for_bool", "no_stages", "no_types", "negative_limit"} {
		path := filepath.Join("../rules/testdata/malformed", f+".yaml")
		err := s.Validate(instance(t, path))
		assert.Error(t, err, path)
	}
}

// Every scenario the repository runs validates: the conformance suite (a copy of
// shared/conformance), the scenarios beside each built-in rule set, and the package
// tests' valid and failing ones (failing: valid files whose expectations are wrong).
func TestScenariosValidate(t *testing.T) {
	s := compiled(t)["scenario.json"]
	files := glob(t, "../testdata/conformance/*.yaml", "../providers/testdata/*/*.yaml",
		"../scenario/testdata/valid/own-rules.yaml", "../scenario/testdata/failing/*.yaml")
	require.Greater(t, len(files), 60)
	// The project's shared conformance suite, where it sits beside the repository (as in
	// CI and the developers' worktrees): its files are validated too.
	shared, err := filepath.Glob("../../shared/conformance/*.yaml")
	require.NoError(t, err)
	if len(shared) == 0 {
		t.Log("no ../../shared/conformance beside the repository: its copy in testdata/conformance is validated")
	}
	for _, f := range append(files, shared...) {
		assert.NoError(t, s.Validate(instance(t, f)), f)
	}
}

// The wallet and order files of the command's tests validate.
func TestWalletAndOrderValidate(t *testing.T) {
	all := compiled(t)
	assert.NoError(t, all["wallet.json"].Validate(instance(t, "../cmd/voucherkit/testdata/compare/wallet.yaml")))
	assert.NoError(t, all["order.json"].Validate(instance(t, "../cmd/voucherkit/testdata/compare/order.yaml")))
}

// What the scenario parser refuses for a key or a kind, the schema refuses too; an
// order file's type must be known, while a scenario's may be any (its step's error).
func TestScenarioSchemaRefuses(t *testing.T) {
	all := compiled(t)
	for _, f := range []string{"unknown-top-key", "two-actions", "no-action", "derived-status", "unknown-step-key", "unknown-order-key", "unknown-reason"} {
		path := filepath.Join("../scenario/testdata/invalid", f+".yaml")
		assert.Error(t, all["scenario.json"].Validate(instance(t, path)), path)
	}
	order := func(typ string) any {
		v, err := jsonschema.UnmarshalJSON(strings.NewReader(`{"id": "o", "type": "` + typ + `", "payment": "subscription", "items": [{"id": "l", "product": "p", "amount": "1"}]}`))
		require.NoError(t, err)
		return v
	}
	assert.NoError(t, all["order.json"].Validate(order("new")))
	assert.Error(t, all["order.json"].Validate(order("neww")))
}

func TestNamesAreTheFiles(t *testing.T) {
	files, err := filepath.Glob("*.json")
	require.NoError(t, err)
	assert.Equal(t, schema.Names(), files)
	for _, f := range files {
		assert.True(t, strings.HasSuffix(f, ".json"))
	}
}
