package main

import (
	"fmt"
	"io"

	"github.com/voucherkit/voucherkit/providers"
	"github.com/voucherkit/voucherkit/scenario"
)

// testedJSON is one file of test --json.
type testedJSON struct {
	File string `json:"file"`
	// Kind is "scenario", or "rule set" for a rule-set file kept among the scenarios
	// (checked, not run).
	Kind       string              `json:"kind"`
	Name       string              `json:"name,omitempty"`
	Passed     bool                `json:"passed"`
	Steps      int                 `json:"steps,omitempty"`
	Mismatches []scenario.Mismatch `json:"mismatches,omitempty"`
	Error      *jsonError          `json:"error,omitempty"`
}

func runTest(args []string, stdout, stderr io.Writer) int {
	f := newFlags("test", "FILE|DIR...",
		"Runs scenario files and prints each as ok or FAIL, with every mismatch as step,\n"+
			"key, expected and got, then one line \"N passed, M failed\". A directory means every\n"+
			"*.yaml and *.yml file under it; a rule-set file among them (a scenario's provider may\n"+
			"name it) is checked as a rule set and not counted. Exit status 0 when all pass, 1 when\n"+
			"one fails, 2 when a file cannot be read or is not a valid scenario (the error, with\n"+
			"file, line and key, goes to standard error). A scenario's provider path is relative to\n"+
			"the scenario file and must stay inside the working directory (for a scenario outside\n"+
			"it, the directory named or the file's own).")
	paths := addProviderPathFlags(f)
	o := newOut(f, stdout, stderr)
	if ok, code := f.parse(args, stdout, stderr); !ok {
		return code
	}
	if f.NArg() == 0 {
		return o.usageError(f, "name at least one scenario file or directory")
	}
	files, err := scenario.Inputs(f.Args()...)
	if err != nil {
		return o.fail(exitInvalid, "", err)
	}
	if len(files) == 0 {
		return o.fail(exitInvalid, "", fmt.Errorf("no scenario files found in %v", f.Args()))
	}
	passed, failed, invalid := 0, 0, 0
	var results []testedJSON
	for _, file := range files {
		r := testFile(file, paths, o)
		switch {
		case r.Kind != scenario.KindScenario.String() && r.Error == nil:
		case r.Error != nil:
			invalid++
			failed++
		case r.Passed:
			passed++
		default:
			failed++
		}
		results = append(results, r)
	}
	if *o.json {
		o.emit(map[string]any{"files": results, "passed": passed, "failed": failed})
	} else {
		fmt.Fprintf(stdout, "%d passed, %d failed\n", passed, failed)
	}
	switch {
	case invalid > 0:
		return exitInvalid
	case failed > 0:
		return exitFail
	}
	return exitOK
}

// testFile runs one scenario file, or checks a rule-set file, and reports it as text
// unless o is JSON.
func testFile(file scenario.Input, paths *providerPathFlags, o *out) testedJSON {
	r := testedJSON{File: file.Path, Kind: scenario.KindScenario.String()}
	bad := func(what string, err error) testedJSON {
		e := toJSONError("", err)
		r.Error = &e
		if !*o.json {
			fmt.Fprintf(o.stdout, "FAIL  %s  (%s: see standard error)\n", file.Path, what)
			fmt.Fprintln(o.stderr, err)
			paths.hint("test", err, o.stderr)
		}
		return r
	}
	data, err := providers.ReadFile(file.Path)
	if err != nil {
		return bad("cannot be read", err)
	}
	if scenario.Sniff(data) == scenario.KindRuleSet {
		r.Kind = scenario.KindRuleSet.String()
		if _, err := providers.Parse(file.Path, data); err != nil {
			return bad("not a valid rule set", err)
		}
		if !*o.json {
			fmt.Fprintf(o.stdout, "ok    %s  (a rule set: checked, not run)\n", file.Path)
		}
		return r
	}
	s, err := scenario.Parse(file.Path, data, paths.options(file.Root)...)
	if err != nil {
		return bad("not a valid scenario", err)
	}
	res := scenario.Run(s)
	r.Name, r.Passed, r.Steps, r.Mismatches = res.Name, res.Passed(), res.Steps, res.Mismatches
	if !*o.json {
		fmt.Fprint(o.stdout, res.Report())
	}
	return r
}
