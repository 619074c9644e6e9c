package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/voucherkit/voucherkit/scenario"
)

func runQuote(args []string, stdout, stderr io.Writer) int {
	f := newFlags("quote", "--provider NAME|FILE --wallet FILE --order FILE [--at TIME] [--json]",
		"Prices one order against a wallet under a rule set and prints the quote: totals, each\n"+
			"line, what each instrument took, and every instrument that did not apply with its\n"+
			"reason, detail and hint. The wallet file is a YAML list of instruments and the order\n"+
			"file one order, both in the scenario syntax. Nothing is changed.")
	provider := f.String("provider", "", "a built-in rule set (aws, aliyun, ...) or a rule-set YAML `file`")
	in := addPricingFlags(f, "when to price: RFC 3339, or a date in the rule set's time zone (default: now)")
	asJSON := f.Bool("json", false, "print the quote as JSON")
	if ok, code := f.parse(args, stdout, stderr); !ok {
		return code
	}
	if *provider == "" || *in.order == "" || f.NArg() > 0 {
		fmt.Fprintln(stderr, "voucherkit quote: --provider and --order are required, and nothing else")
		f.usage(stderr)
		return exitInvalid
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "voucherkit quote: "+format+"\n", a...)
		return exitInvalid
	}
	rs, err := scenario.LoadProvider(*provider, ".")
	if err != nil {
		return fail("%v", err)
	}
	if err := in.read(); err != nil {
		return fail("%v", err)
	}
	p, err := in.price(rs, false)
	if err != nil {
		return fail("%v", err)
	}
	if p.refused != nil {
		fmt.Fprintf(stderr, "voucherkit quote: the order is refused: %v\n", p.refused)
		return exitFail
	}
	q := p.quote
	if *asJSON {
		out, err := json.MarshalIndent(q, "", "  ")
		if err != nil {
			return fail("%v", err)
		}
		fmt.Fprintf(stdout, "%s\n", out)
		return exitOK
	}
	fmt.Fprint(stdout, q.Text())
	return exitOK
}
