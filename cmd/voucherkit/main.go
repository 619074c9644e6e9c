package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// Exit statuses.
const (
	exitOK      = 0
	exitFail    = 1
	exitInvalid = 2
)

type command struct {
	name    string
	args    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"demo", "", "walk through two worked examples on the built-in rule sets", runDemo},
		{"test", "FILE|DIR...", "run scenario files; a directory means every *.yaml under it", runTest},
		{"quote", "--provider NAME|FILE --wallet FILE --order FILE [--at TIME] [--json]", "price one order against a wallet", runQuote},
		{"lint", "FILE...", "check rule sets and scenario files, reporting every problem with its position", runLint},
		{"compare", "--providers NAME|FILE,... --order FILE [--wallet FILE] [--at TIME]", "price one order under several rule sets, side by side", runCompare},
		{"providers", "[--yaml] [NAME]", "list the built-in rule sets, or describe one and its versions", runProviders},
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "voucherkit prices orders against credits, vouchers, coupons and promo codes under a")
	fmt.Fprintln(w, "cloud provider's rules, and runs scenario files that say what must happen.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  voucherkit %s %s\n", c.name, c.args)
		fmt.Fprintf(w, "      %s\n", c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'voucherkit COMMAND -h' for a command's help.")
}

// run is the whole program: it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitInvalid
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return exitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "voucherkit: unknown command %q\n\n", args[0])
	usage(stderr)
	return exitInvalid
}

// flags is a command's flag set: help goes to stdout (exit 0), mistakes to stderr
// (exit 2), both with the command's usage.
type flags struct {
	*flag.FlagSet
	name, args, about string
}

func newFlags(name, args, about string) *flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &flags{FlagSet: fs, name: name, args: args, about: about}
}

func (f *flags) usage(w io.Writer) {
	fmt.Fprintf(w, "Usage: voucherkit %s %s\n\n%s\n", f.name, f.args, f.about)
	var b strings.Builder
	f.SetOutput(&b)
	f.PrintDefaults()
	f.SetOutput(io.Discard)
	if b.Len() > 0 {
		fmt.Fprintf(w, "\nFlags:\n%s", b.String())
	}
}

// parse parses args; when it returns false the command must exit with code.
func (f *flags) parse(args []string, stdout, stderr io.Writer) (ok bool, code int) {
	err := f.Parse(args)
	switch {
	case err == nil:
		return true, 0
	case errors.Is(err, flag.ErrHelp):
		f.usage(stdout)
		return false, exitOK
	default:
		fmt.Fprintf(stderr, "voucherkit %s: %v\n\n", f.name, err)
		f.usage(stderr)
		return false, exitInvalid
	}
}
