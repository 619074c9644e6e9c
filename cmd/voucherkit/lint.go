package main

import (
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/voucherkit/voucherkit/internal/yamlx"
	"github.com/voucherkit/voucherkit/providers"
	"github.com/voucherkit/voucherkit/scenario"
)

// Top-level keys that only one kind of file has.
var (
	scenarioOnly = []string{"provider", "now", "account", "wallet", "steps"}
	ruleSetOnly  = []string{"version", "description", "currency", "scale", "rounding", "time_zone", "never_covers", "stages", "types"}
)

func runLint(args []string, stdout, stderr io.Writer) int {
	f := newFlags("lint", "FILE|DIR...",
		"Checks rule-set and scenario files (told apart by their top-level keys) and prints\n"+
			"every problem as FILE:LINE:COL: KEY: MESSAGE, or ok for a clean file. A directory means\n"+
			"every *.yaml and *.yml file under it. Exit status 1 when any file has a problem.")
	if ok, code := f.parse(args, stdout, stderr); !ok {
		return code
	}
	if f.NArg() == 0 {
		fmt.Fprintln(stderr, "voucherkit lint: name at least one file")
		f.usage(stderr)
		return exitInvalid
	}
	files, err := scenario.Files(f.Args()...)
	if err != nil {
		fmt.Fprintf(stderr, "voucherkit lint: %v\n", err)
		return exitInvalid
	}
	bad := 0
	for _, file := range files {
		kind, err := lintFile(file)
		if err != nil {
			bad++
			fmt.Fprintln(stdout, err)
			continue
		}
		fmt.Fprintf(stdout, "ok    %s  (%s)\n", file, kind)
	}
	fmt.Fprintf(stdout, "%d files, %d with problems\n", len(files), bad)
	if bad > 0 {
		return exitFail
	}
	return exitOK
}

// lintFile checks one file and says what kind it is.
func lintFile(file string) (string, error) {
	data, err := providers.ReadFile(file)
	if err != nil {
		return "", err
	}
	_, root, err := yamlx.Parse(file, data)
	if err != nil {
		return "", err
	}
	var isScenario, isRuleSet bool
	for _, k := range yamlx.TopKeys(root) {
		isScenario = isScenario || slices.Contains(scenarioOnly, k)
		isRuleSet = isRuleSet || slices.Contains(ruleSetOnly, k)
	}
	switch {
	case isScenario && !isRuleSet:
		_, err = scenario.Parse(file, data)
		return "scenario", err
	case isRuleSet && !isScenario:
		_, err = providers.Parse(file, data)
		return "rule set", err
	}
	return "", errors.New(file + ": cannot tell whether this is a scenario (keys name, provider, now, steps) or a rule set (keys name, currency, stages, types)")
}
