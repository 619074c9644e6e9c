package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/voucherkit/voucherkit/providers"
)

func runProviders(args []string, stdout, stderr io.Writer) int {
	f := newFlags("providers", "[NAME]",
		"Without NAME, lists the built-in rule sets with their version, currency, time zone,\n"+
			"stages and description. With NAME, prints that rule set's YAML (a starting point for\n"+
			"a rule set of your own).")
	if ok, code := f.parse(args, stdout, stderr); !ok {
		return code
	}
	switch f.NArg() {
	case 0:
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tVERSION\tCURRENCY\tTIME ZONE\tSTAGES\tDESCRIPTION")
		for _, name := range providers.Names() {
			rs, err := providers.Load(name)
			if err != nil {
				fmt.Fprintf(stderr, "voucherkit providers: %v\n", err)
				return exitFail
			}
			stages := make([]string, len(rs.Stages))
			for i, st := range rs.Stages {
				stages[i] = st.Name
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", rs.Name, rs.Version, rs.Currency.Code(), rs.TimeZone,
				strings.Join(stages, " > "), rs.Description)
		}
		tw.Flush()
		return exitOK
	case 1:
		src, err := providers.Source(f.Arg(0))
		if err != nil {
			fmt.Fprintf(stderr, "voucherkit providers: %v\n", err)
			return exitFail
		}
		stdout.Write(src)
		return exitOK
	}
	fmt.Fprintln(stderr, "voucherkit providers: at most one NAME")
	f.usage(stderr)
	return exitInvalid
}
