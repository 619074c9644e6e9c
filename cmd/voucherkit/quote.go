package main

import (
	"io"

	"github.com/voucherkit/voucherkit/providers"
)

func runQuote(args []string, stdout, stderr io.Writer) int {
	f := newFlags("quote", "",
		"Prices one order against a wallet under a rule set and prints the quote: totals, each\n"+
			"line, what each instrument took, and every instrument of the wallet that did not apply\n"+
			"with its reason, detail and hint (one of another account: not_owner). The wallet file is\n"+
			"a YAML list of instruments and the order file one order, both in the scenario syntax;\n"+
			"an entry without account: belongs to --account. Nothing is changed. Exit status 1 when\n"+
			"the rule set refuses the order, 2 when an input is invalid.")
	provider := providerFlag(f)
	in := addPricingFlags(f, "to price at: RFC 3339, or a date in the rule set's time zone (default: now)")
	o := newOut(f, stdout, stderr)
	f.require("provider", "order")
	if ok, code := f.parse(args, stdout, stderr); !ok {
		return code
	}
	if m := f.missing(); m != "" {
		return o.usageError(f, "missing "+m)
	}
	if f.NArg() > 0 {
		return o.usageError(f, "takes no arguments besides its flags, got "+f.Arg(0))
	}
	rs, err := providers.Lookup(*provider, ".")
	if err != nil {
		return o.fail(exitInvalid, "--provider", err)
	}
	if err := in.read(); err != nil {
		return o.fail(exitInvalid, "", err)
	}
	p, err := in.price(rs, false)
	if err != nil {
		return o.fail(exitInvalid, "", err)
	}
	if p.refused != nil {
		return o.fail(exitFail, "the order is refused", p.refused)
	}
	if *o.json {
		o.emit(p.quote)
		return exitOK
	}
	io.WriteString(stdout, p.quote.Text())
	return exitOK
}
