package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/voucherkit/voucherkit/internal/yamlx"
	"github.com/voucherkit/voucherkit/rules"
	"github.com/voucherkit/voucherkit/scenario"
	"github.com/voucherkit/voucherkit/voucher"
)

func runQuote(args []string, stdout, stderr io.Writer) int {
	f := newFlags("quote", "--provider NAME|FILE --wallet FILE --order FILE [--at TIME] [--json]",
		"Prices one order against a wallet under a rule set and prints the quote: totals, each\n"+
			"line, what each instrument took, and every instrument that did not apply with its\n"+
			"reason, detail and hint. The wallet file is a YAML list of instruments and the order\n"+
			"file one order, both in the scenario syntax. Nothing is changed.")
	provider := f.String("provider", "", "a built-in rule set (aws, aliyun, ...) or a rule-set YAML `file`")
	walletFile := f.String("wallet", "", "YAML list of instruments, as in a scenario's wallet (none when omitted)")
	orderFile := f.String("order", "", "YAML order, as in a scenario's quote step")
	atFlag := f.String("at", "", "when to price: RFC 3339, or a date in the rule set's time zone (default: now)")
	account := f.String("account", scenario.DefaultAccount, "owner of instruments and buyer of the order when they name none")
	asJSON := f.Bool("json", false, "print the quote as JSON")
	if ok, code := f.parse(args, stdout, stderr); !ok {
		return code
	}
	if *provider == "" || *orderFile == "" || f.NArg() > 0 {
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
	at := time.Now().In(rs.Location)
	if *atFlag != "" {
		if at, err = yamlx.ParseTime(*atFlag, rs.Location, yamlx.StartOfDay); err != nil {
			return fail("--at: %v", err)
		}
	}
	var insts []voucher.Instrument
	if *walletFile != "" {
		data, err := os.ReadFile(*walletFile)
		if err != nil {
			return fail("%v", err)
		}
		if insts, err = scenario.ParseWallet(*walletFile, data, rs, *account, at); err != nil {
			return fail("invalid wallet file:\n%v", err)
		}
	}
	data, err := os.ReadFile(*orderFile)
	if err != nil {
		return fail("%v", err)
	}
	order, err := scenario.ParseOrder(*orderFile, data, *account)
	if err != nil {
		return fail("invalid order file:\n%v", err)
	}
	eng, err := rules.NewEngine(rs)
	if err != nil {
		return fail("%v", err)
	}
	w := voucher.NewWallet(eng, at)
	for _, in := range insts {
		if err := w.Grant(in); err != nil {
			return fail("%s: %v", *walletFile, err)
		}
	}
	q, err := w.Quote(order, at)
	if err != nil {
		fmt.Fprintf(stderr, "voucherkit quote: the order is refused: %v\n", err)
		return exitFail
	}
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
