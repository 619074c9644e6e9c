package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/voucherkit/voucherkit/providers"
	"github.com/voucherkit/voucherkit/voucher"
)

func runCompare(args []string, stdout, stderr io.Writer) int {
	f := newFlags("compare", "",
		"Prices the same order against the same wallet under several rule sets and prints the\n"+
			"figures side by side, then what applied under each. Amounts are in each rule set's\n"+
			"currency. A wallet entry whose type a rule set does not define is left out under it\n"+
			"(and listed); an order a rule set refuses shows its error code.")
	list := f.String("providers", "", "`NAME|FILE,...` of the rule sets to compare, built-in or files, comma-separated")
	in := addPricingFlags(f, "to price at: RFC 3339, or a date in each rule set's time zone (default: now)")
	o := newOut(f, stdout, stderr)
	f.require("providers", "order")
	if ok, code := f.parse(args, stdout, stderr); !ok {
		return code
	}
	if m := f.missing(); m != "" {
		return o.usageError(f, "missing "+m)
	}
	if f.NArg() > 0 {
		return o.usageError(f, "takes no arguments besides its flags, got "+f.Arg(0))
	}
	if err := in.read(); err != nil {
		return o.fail(exitInvalid, "", err)
	}
	var results []priced
	for _, name := range strings.Split(*list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		rs, err := providers.Lookup(name, ".")
		if err != nil {
			return o.fail(exitInvalid, "--providers", err)
		}
		p, err := in.price(rs, true)
		if err != nil {
			return o.fail(exitInvalid, name, err)
		}
		results = append(results, p)
	}
	if len(results) == 0 {
		return o.usageError(f, "--providers names no rule set")
	}
	if *o.json {
		o.emit(comparisonJSON(results))
		return exitOK
	}
	writeComparison(stdout, results)
	return exitOK
}

// comparedJSON is one rule set's column of compare --json.
type comparedJSON struct {
	RuleSet string         `json:"rule_set"`
	Quote   *voucher.Quote `json:"quote,omitempty"`
	// Refused is the error the rule set refuses the order with (no quote then).
	Refused *jsonError `json:"refused,omitempty"`
	// LeftOut are wallet entries whose type the rule set does not define: "id (type)".
	LeftOut []string `json:"left_out,omitempty"`
}

func comparisonJSON(results []priced) map[string][]comparedJSON {
	out := make([]comparedJSON, 0, len(results))
	for _, r := range results {
		c := comparedJSON{RuleSet: r.ruleSet, Quote: r.quote, LeftOut: r.skipped}
		if r.refused != nil {
			e := toJSONError("", r.refused)
			c.Refused = &e
		}
		out = append(out, c)
	}
	return map[string][]comparedJSON{"results": out}
}

func writeComparison(w io.Writer, results []priced) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	row := func(label string, cell func(c priced) string) {
		fmt.Fprintf(tw, "%s\t", label)
		for _, c := range results {
			fmt.Fprintf(tw, "%s\t", cell(c))
		}
		fmt.Fprintln(tw)
	}
	row("", func(c priced) string { return c.ruleSet })
	fig := func(pick func(voucher.Figures) voucher.Money) func(c priced) string {
		return func(c priced) string {
			if c.refused != nil {
				return "-"
			}
			m := pick(c.quote.Figures)
			return m.Format() + " " + c.quote.Currency
		}
	}
	row("total", fig(func(f voucher.Figures) voucher.Money { return f.Total }))
	row("discount", fig(func(f voucher.Figures) voucher.Money { return f.Discount }))
	row("deducted", fig(func(f voucher.Figures) voucher.Money { return f.Deducted }))
	row("cash", fig(func(f voucher.Figures) voucher.Money { return f.Cash }))
	row("invoiceable", fig(func(f voucher.Figures) voucher.Money { return f.Invoiceable }))
	row("not invoiceable", fig(func(f voucher.Figures) voucher.Money { return f.NonInvoiceable }))
	tw.Flush()
	for _, c := range results {
		fmt.Fprintf(w, "\n%s:\n", c.ruleSet)
		if c.refused != nil {
			fmt.Fprintf(w, "  refused: %s (%v)\n", voucher.ErrorCode(c.refused), c.refused)
			continue
		}
		for _, a := range c.quote.Applications {
			fmt.Fprintf(w, "  applied %s (%s): %s\n", a.Key, a.Type, a.Amount.Format())
		}
		for _, r := range c.quote.Rejections {
			line := fmt.Sprintf("  not applied %s (%s): %s", r.Key, r.Type, r.Reason)
			if r.Detail != "" {
				line += ": " + r.Detail
			}
			fmt.Fprintln(w, line)
		}
		if len(c.skipped) > 0 {
			fmt.Fprintf(w, "  left out (type not in this rule set): %s\n", strings.Join(c.skipped, ", "))
		}
	}
}
