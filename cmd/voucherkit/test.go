package main

import (
	"fmt"
	"io"

	"github.com/voucherkit/voucherkit/scenario"
)

func runTest(args []string, stdout, stderr io.Writer) int {
	f := newFlags("test", "FILE|DIR...",
		"Runs scenario files and prints each as ok or FAIL, with every mismatch as step,\n"+
			"key, expected and got, then one line \"N passed, M failed\". A directory means every\n"+
			"*.yaml and *.yml file under it. Exit status 0 when all pass, 1 when one fails, 2 when\n"+
			"a file cannot be read or is not a valid scenario (the error, with file, line and key,\n"+
			"goes to standard error).")
	if ok, code := f.parse(args, stdout, stderr); !ok {
		return code
	}
	if f.NArg() == 0 {
		fmt.Fprintln(stderr, "voucherkit test: name at least one scenario file or directory")
		f.usage(stderr)
		return exitInvalid
	}
	files, err := scenario.Files(f.Args()...)
	if err != nil {
		fmt.Fprintf(stderr, "voucherkit test: %v\n", err)
		return exitInvalid
	}
	if len(files) == 0 {
		fmt.Fprintln(stderr, "voucherkit test: no scenario files found")
		return exitInvalid
	}
	passed, failed, invalid := 0, 0, 0
	for _, file := range files {
		s, err := scenario.Load(file)
		if err != nil {
			invalid++
			failed++
			fmt.Fprintf(stdout, "FAIL  %s  (not a valid scenario: see standard error)\n", file)
			fmt.Fprintln(stderr, err)
			continue
		}
		res := scenario.Run(s)
		fmt.Fprint(stdout, res.Report())
		if res.Passed() {
			passed++
		} else {
			failed++
		}
	}
	fmt.Fprintf(stdout, "%d passed, %d failed\n", passed, failed)
	switch {
	case invalid > 0:
		return exitInvalid
	case failed > 0:
		return exitFail
	}
	return exitOK
}
