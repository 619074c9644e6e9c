package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/voucherkit/voucherkit/internal/yamlx"
	"github.com/voucherkit/voucherkit/providers"
	"github.com/voucherkit/voucherkit/scenario"
)

// lintedJSON is one file of lint --json; Error is absent for a clean file.
type lintedJSON struct {
	File  string     `json:"file"`
	Kind  string     `json:"kind,omitempty"`
	Error *jsonError `json:"error,omitempty"`
}

func runLint(args []string, stdout, stderr io.Writer) int {
	f := newFlags("lint", "FILE|DIR...",
		"Checks rule-set and scenario files (told apart by their top-level keys) and prints\n"+
			"every problem as FILE:LINE:COL: KEY: MESSAGE, or ok for a clean file. A directory means\n"+
			"every *.yaml and *.yml file under it. Exit status 1 when any file has a problem.\n"+
			"A scenario's provider path is relative to the scenario file and must stay inside the\n"+
			"working directory (for a scenario outside it, the directory named or the file's own).")
	paths := addProviderPathFlags(f)
	o := newOut(f, stdout, stderr)
	if ok, code := f.parse(args, stdout, stderr); !ok {
		return code
	}
	if f.NArg() == 0 {
		return o.usageError(f, "name at least one file")
	}
	files, err := scenario.Inputs(f.Args()...)
	if err != nil {
		return o.fail(exitInvalid, "", err)
	}
	bad := 0
	var results []lintedJSON
	for _, file := range files {
		kind, err := lintFile(file.Path, paths.options(file.Root))
		r := lintedJSON{File: file.Path, Kind: kind}
		if err != nil {
			bad++
			e := toJSONError("", err)
			r.Error = &e
			if !*o.json {
				fmt.Fprintln(stdout, err)
				paths.hint("lint", err, stderr)
			}
		} else if !*o.json {
			fmt.Fprintf(stdout, "ok    %s  (%s)\n", file.Path, kind)
		}
		results = append(results, r)
	}
	if *o.json {
		o.emit(map[string]any{"files": results, "with_problems": bad})
	} else {
		fmt.Fprintf(stdout, "%d files, %d with problems\n", len(files), bad)
	}
	if bad > 0 {
		return exitFail
	}
	return exitOK
}

// lintFile checks one file and says what kind it is; opts apply to a scenario.
func lintFile(file string, opts []scenario.Option) (string, error) {
	data, err := providers.ReadFile(file)
	if err != nil {
		return "", err
	}
	kind := scenario.Sniff(data)
	switch kind {
	case scenario.KindScenario:
		_, err = scenario.Parse(file, data, opts...)
		return kind.String(), err
	case scenario.KindRuleSet:
		_, err = providers.Parse(file, data)
		return kind.String(), err
	}
	if _, _, err := yamlx.Parse(file, data); err != nil {
		return "", err
	}
	return "", errors.New(file + ": " + scenario.KindHelp)
}
