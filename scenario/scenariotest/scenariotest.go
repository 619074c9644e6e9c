// Package scenariotest runs scenario files from Go tests. It is apart from package
// scenario so that a program that only reads orders, wallets or scenarios does not link
// the testing package.
//
// Invariants: every file a pattern names is checked, none silently passes: a scenario
// that is invalid or does not pass fails its subtest; a rule-set file kept beside the
// scenarios (told apart by scenario.Sniff) is checked as a rule set and fails when it
// is invalid; a file that is neither fails with a sentence saying what each kind holds;
// patterns that name no file at all fail.
package scenariotest

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/voucherkit/voucherkit/providers"
	"github.com/voucherkit/voucherkit/scenario"
)

// RunFiles runs the scenario files that patterns name (see scenario.Files) from a Go
// test, each file as a subtest named after it when t is a *testing.T. A file that is not
// a valid scenario fails with its positioned errors; a scenario that does not pass fails
// with one line per mismatch (step, key, expected, got). No file at all is a failure
// too. A provider path stays inside the directory its pattern names (see
// scenario.WithRoot). A rule-set file among them (a scenario's provider: may name it) is
// checked as a rule set, not run.
//
//	func TestScenarios(t *testing.T) { scenariotest.RunFiles(t, "testdata/*.yaml") }
func RunFiles(t testing.TB, patterns ...string) {
	t.Helper()
	RunFilesWith(t, nil, patterns...)
}

// RunFilesWith is RunFiles with options for every file, after the root of its pattern:
// scenario.WithRoot("testdata") lets scenarios in testdata/scenarios name rule sets in
// testdata/rules.
func RunFilesWith(t testing.TB, opts []scenario.Option, patterns ...string) {
	t.Helper()
	inputs, err := scenario.Inputs(patterns...)
	if err != nil {
		t.Fatalf("%v", err)
	}
	if len(inputs) == 0 {
		t.Fatalf("no scenario file matches %s", strings.Join(patterns, " "))
	}
	for _, in := range inputs {
		check := func(t testing.TB) {
			t.Helper()
			checkFile(t, in, opts)
		}
		if tt, ok := t.(*testing.T); ok {
			name := strings.TrimSuffix(filepath.Base(in.Path), filepath.Ext(in.Path))
			tt.Run(name, func(t *testing.T) { check(t) })
		} else {
			check(t)
		}
	}
}

func checkFile(t testing.TB, in scenario.Input, opts []scenario.Option) {
	t.Helper()
	data, err := providers.ReadFile(in.Path)
	if err != nil {
		t.Errorf("%v", err)
		return
	}
	switch scenario.Sniff(data) {
	case scenario.KindRuleSet:
		if _, err := providers.Parse(in.Path, data); err != nil {
			t.Errorf("%v", err)
		}
		return
	case scenario.KindUnknown:
		t.Errorf("%s: %s", in.Path, scenario.KindHelp)
		return
	}
	s, err := scenario.Parse(in.Path, data, append([]scenario.Option{scenario.WithRoot(in.Root)}, opts...)...)
	if err != nil {
		t.Errorf("%v", err)
		return
	}
	res := scenario.Run(s)
	if !res.Passed() {
		t.Errorf("%s", strings.TrimRight(res.Report(), "\n"))
	}
}
