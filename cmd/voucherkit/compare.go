package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/voucherkit/voucherkit/internal/yamlx"
	"github.com/voucherkit/voucherkit/rules"
	"github.com/voucherkit/voucherkit/scenario"
	"github.com/voucherkit/voucherkit/voucher"
)

// comparison is one rule set's answer for the order.
type comparison struct {
	name    string
	quote   *voucher.Quote
	err     error
	skipped []string // wallet entries whose type the rule set does not define
}

func runCompare(args []string, stdout, stderr io.Writer) int {
	f := newFlags("compare", "--providers NAME|FILE,... --order FILE [--wallet FILE] [--at TIME]",
		"Prices the same order against the same wallet under several rule sets and prints the\n"+
			"figures side by side, then what applied under each. Amounts are in each rule set's\n"+
			"currency. A wallet entry whose type a rule set does not define is left out under it\n"+
			"(and listed); an order a rule set refuses shows its error code.")
	list := f.String("providers", "", "comma-separated built-in rule sets or rule-set files")
	walletFile := f.String("wallet", "", "YAML list of instruments, as in a scenario's wallet")
	orderFile := f.String("order", "", "YAML order, as in a scenario's quote step")
	atFlag := f.String("at", "", "when to price: RFC 3339, or a date in each rule set's time zone (default: now)")
	account := f.String("account", scenario.DefaultAccount, "owner of instruments and buyer of the order when they name none")
	if ok, code := f.parse(args, stdout, stderr); !ok {
		return code
	}
	if *list == "" || *orderFile == "" || f.NArg() > 0 {
		fmt.Fprintln(stderr, "voucherkit compare: --providers and --order are required, and nothing else")
		f.usage(stderr)
		return exitInvalid
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "voucherkit compare: "+format+"\n", a...)
		return exitInvalid
	}
	orderData, err := os.ReadFile(*orderFile)
	if err != nil {
		return fail("%v", err)
	}
	order, err := scenario.ParseOrder(*orderFile, orderData, *account)
	if err != nil {
		return fail("invalid order file:\n%v", err)
	}
	var walletData []byte
	if *walletFile != "" {
		if walletData, err = os.ReadFile(*walletFile); err != nil {
			return fail("%v", err)
		}
	}
	var results []comparison
	for _, name := range strings.Split(*list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		rs, err := scenario.LoadProvider(name, ".")
		if err != nil {
			return fail("%v", err)
		}
		at := time.Now().In(rs.Location)
		if *atFlag != "" {
			if at, err = yamlx.ParseTime(*atFlag, rs.Location, yamlx.StartOfDay); err != nil {
				return fail("--at: %v", err)
			}
		}
		c, err := compareOne(rs, order, walletData, *walletFile, *account, at)
		if err != nil {
			return fail("%s: %v", name, err)
		}
		results = append(results, c)
	}
	if len(results) == 0 {
		return fail("--providers names no rule set")
	}
	writeComparison(stdout, results)
	return exitOK
}

// compareOne prices order under rs: wallet entries of types rs does not define are left out.
func compareOne(rs *rules.RuleSet, order voucher.Order, walletData []byte, walletFile, account string, at time.Time) (comparison, error) {
	eng, err := rules.NewEngine(rs)
	if err != nil {
		return comparison{}, err
	}
	c := comparison{name: eng.RuleSetAt(at).ID()}
	w := voucher.NewWallet(eng, at)
	if walletData != nil {
		insts, skipped, err := scenario.ParseWalletFor(walletFile, walletData, rs, account, at)
		if err != nil {
			return c, fmt.Errorf("invalid wallet file:\n%v", err)
		}
		c.skipped = skipped
		for _, in := range insts {
			if err := w.Grant(in); err != nil {
				return c, err
			}
		}
	}
	c.quote, c.err = w.Quote(order, at)
	return c, nil
}

func writeComparison(w io.Writer, results []comparison) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	row := func(label string, cell func(c comparison) string) {
		fmt.Fprintf(tw, "%s\t", label)
		for _, c := range results {
			fmt.Fprintf(tw, "%s\t", cell(c))
		}
		fmt.Fprintln(tw)
	}
	row("", func(c comparison) string { return c.name })
	fig := func(pick func(voucher.Figures) voucher.Money) func(c comparison) string {
		return func(c comparison) string {
			if c.err != nil {
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
		fmt.Fprintf(w, "\n%s:\n", c.name)
		if c.err != nil {
			fmt.Fprintf(w, "  refused: %s (%v)\n", voucher.ErrorCode(c.err), c.err)
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
