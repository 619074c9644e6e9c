package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/voucherkit/voucherkit/providers"
	"github.com/voucherkit/voucherkit/scenario"
)

// providerPathFlags are the flags of test and lint that widen where a scenario's
// provider path may lead. By default it stays inside the working directory, for a
// file named by a relative path inside it; else inside the directory named on the
// command line (for a file: the file's own directory).
type providerPathFlags struct {
	root     *string
	allowAny *bool
	hinted   bool
}

func addProviderPathFlags(f *flags) *providerPathFlags {
	return &providerPathFlags{
		root: f.String("provider-root", "",
			"`DIR` a scenario's provider path must stay inside (default: the working directory, or for a file outside it, the directory named or the file's own)"),
		allowAny: f.Bool("allow-any-provider-path", false,
			"let a scenario's provider path name any rule-set file, absolute or outside the directory (only for trusted files)"),
	}
}

// options returns the scenario options for a file found under root: a root named by
// a relative path inside the working directory widens to the working directory, so
// that scenarios in one directory may use rule sets kept in a sibling.
func (p *providerPathFlags) options(root string) []scenario.Option {
	switch {
	case *p.root != "":
		root = *p.root
	case filepath.IsLocal(root) || root == ".":
		root = "."
	}
	opts := []scenario.Option{scenario.WithRoot(root)}
	if *p.allowAny {
		opts = append(opts, scenario.WithAnyProviderPath())
	}
	return opts
}

// hint tells, once, how to allow a provider path that err says was refused.
func (p *providerPathFlags) hint(cmd string, err error, stderr io.Writer) {
	if p.hinted || !errors.Is(err, providers.ErrOutsideRoot) {
		return
	}
	p.hinted = true
	fmt.Fprintf(stderr, "voucherkit %s: a scenario's provider path must be relative and stay inside the working directory"+
		" (for a scenario outside it, the directory named or the file's own); --provider-root DIR widens that,"+
		" --allow-any-provider-path lifts it\n", cmd)
}
