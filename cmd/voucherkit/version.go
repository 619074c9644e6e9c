package main

import (
	"fmt"
	"io"
	"runtime/debug"
)

func runVersion(args []string, stdout, stderr io.Writer) int {
	f := newFlags("version", "", "Prints the version of voucherkit this program was built from: the module version\n"+
		"for `go install ...@VERSION`, \"(devel)\" for a build from a checkout.")
	o := newOut(f, stdout, stderr)
	if ok, code := f.parse(args, stdout, stderr); !ok {
		return code
	}
	if f.NArg() > 0 {
		return o.usageError(f, "takes no arguments")
	}
	v := version()
	if *o.json {
		o.emit(map[string]string{"version": v})
		return exitOK
	}
	fmt.Fprintf(stdout, "voucherkit %s\n", v)
	return exitOK
}

// version is the main module's version from the build information, "(devel)" when it
// has none.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok || info.Main.Version == "" {
		return "(devel)"
	}
	return info.Main.Version
}
