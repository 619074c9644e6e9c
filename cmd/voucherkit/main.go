package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
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
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"demo", "walk through two worked examples on the built-in rule sets", runDemo},
		{"test", "run scenario files; a directory means every *.yaml under it", runTest},
		{"quote", "price one order against a wallet", runQuote},
		{"settle", "price a billing period's bill of an account or an organization against a wallet", runSettle},
		{"wallet", "keep a durable wallet in SQLite or PostgreSQL: grant, checkout, refund, settle, expire, show, ledger", runWallet},
		{"lint", "check rule sets and scenario files, reporting every problem with its position", runLint},
		{"compare", "price one order under several rule sets, side by side", runCompare},
		{"providers", "list the built-in rule sets, or describe one and its versions", runProviders},
		{"reconcile", "compare the credits a rule set computes for FOCUS bills with those the provider applied", runReconcile},
		{"simulate", "run orders or FOCUS bills through wallets under several rule sets; report side by side", runSimulate},
		{"version", "print voucherkit's version", runVersion},
		{"help", "print this help, or a command's", runHelp},
	}
}

// synopsis returns a command's usage line, from its own flag set: what `voucherkit
// COMMAND -h` prints is what the general help prints.
func synopsis(name string) string {
	var out strings.Builder
	for _, c := range commands() {
		if c.name == name {
			c.run([]string{"-h"}, &out, io.Discard)
		}
	}
	line, _, _ := strings.Cut(out.String(), "\n")
	return strings.TrimPrefix(line, "Usage: ")
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "voucherkit prices orders against credits, vouchers, coupons and promo codes under a")
	fmt.Fprintln(w, "cloud provider's rules, and runs scenario files that say what must happen.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %s\n      %s\n", synopsis(c.name), c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Flags may come before or after the other arguments; [--flag] is optional.")
	fmt.Fprintln(w, "Run 'voucherkit help COMMAND' for a command's help.")
}

// run is the whole program: it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitInvalid
	}
	switch args[0] {
	case "-h", "-help", "--help":
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

// runHelp prints the general help, or COMMAND's.
func runHelp(args []string, stdout, stderr io.Writer) int {
	f := newFlags("help", "[COMMAND]", "Prints the general help, or with COMMAND that command's help.")
	if ok, code := f.parse(args, stdout, stderr); !ok {
		return code
	}
	if f.NArg() == 0 {
		usage(stdout)
		return exitOK
	}
	for _, c := range commands() {
		if c.name == f.Arg(0) && f.NArg() == 1 {
			return c.run([]string{"-h"}, stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "voucherkit help: no command %q\n\n", strings.Join(f.Args(), " "))
	usage(stderr)
	return exitInvalid
}

// flags is a command's flag set: help goes to stdout (exit 0), mistakes to stderr
// (exit 2), both with the command's usage. Flags may come after the other arguments.
type flags struct {
	*flag.FlagSet
	name, positional, about string
	required                []string
	args                    []string
}

// newFlags starts the flag set of command name, whose other arguments positional
// describes ("FILE|DIR...", "[NAME]").
func newFlags(name, positional, about string) *flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &flags{FlagSet: fs, name: name, positional: positional, about: about}
}

// require marks flags the command cannot run without; the others are optional.
func (f *flags) require(names ...string) { f.required = append(f.required, names...) }

// synopsis is the usage line: required flags, [optional flags], then the arguments.
func (f *flags) synopsis() string {
	parts := []string{"voucherkit", f.name}
	var optional []string
	f.VisitAll(func(fl *flag.Flag) {
		name, _ := flag.UnquoteUsage(fl)
		s := "--" + fl.Name
		if name != "" {
			s += " " + name
		}
		if slices.Contains(f.required, fl.Name) {
			parts = append(parts, s)
		} else {
			optional = append(optional, "["+s+"]")
		}
	})
	parts = append(parts, optional...)
	if f.positional != "" {
		parts = append(parts, f.positional)
	}
	return strings.Join(parts, " ")
}

func (f *flags) usage(w io.Writer) {
	fmt.Fprintf(w, "Usage: %s\n\n%s\n", f.synopsis(), f.about)
	var b strings.Builder
	f.SetOutput(&b)
	f.PrintDefaults()
	f.SetOutput(io.Discard)
	if b.Len() > 0 {
		fmt.Fprintf(w, "\nFlags:\n%s", b.String())
	}
}

// parse parses args, flags and other arguments in any order ("--" ends the flags);
// when it returns false the command must exit with code.
func (f *flags) parse(args []string, stdout, stderr io.Writer) (ok bool, code int) {
	err := f.parseInterspersed(args)
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

func (f *flags) parseInterspersed(args []string) error {
	f.args = nil
	for {
		if err := f.FlagSet.Parse(args); err != nil {
			return err
		}
		rest := f.FlagSet.Args()
		if len(rest) == 0 {
			return nil
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			f.args = append(f.args, rest...)
			return nil
		}
		f.args = append(f.args, rest[0])
		args = rest[1:]
	}
}

// Args are the arguments that are not flags, in order.
func (f *flags) Args() []string { return f.args }

// NArg is how many arguments are not flags.
func (f *flags) NArg() int { return len(f.args) }

// Arg is the i-th argument that is not a flag.
func (f *flags) Arg(i int) string { return f.args[i] }

// missing returns the required flags not given, as "--provider and --order".
func (f *flags) missing() string {
	set := map[string]bool{}
	f.Visit(func(fl *flag.Flag) { set[fl.Name] = fl.Value.String() != "" })
	var out []string
	for _, r := range f.required {
		if !set[r] {
			out = append(out, "--"+r)
		}
	}
	switch len(out) {
	case 0:
		return ""
	case 1:
		return out[0]
	}
	return strings.Join(out[:len(out)-1], ", ") + " and " + out[len(out)-1]
}
