package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/shopspring/decimal"
	"github.com/voucherkit/voucherkit/focus"
	"github.com/voucherkit/voucherkit/providers"
	"github.com/voucherkit/voucherkit/rules"
	"github.com/voucherkit/voucherkit/scenario"
	"github.com/voucherkit/voucherkit/voucher"
)

func runReconcile(args []string, stdout, stderr io.Writer) int {
	f := newFlags("reconcile", "",
		"Compares the credits a rule set computes for a provider's bills with the credits the\n"+
			"provider applied. The FOCUS export's Usage and Purchase rows become one bill per billing\n"+
			"account and period; each is settled, in period order, on a fresh wallet holding the\n"+
			"wallet file's instruments; what they applied is compared with the export's Credit rows,\n"+
			"per account, service and SKU (--by), expected against actual. Exit status 1 when they\n"+
			"differ, 2 when an input is invalid.")
	provider := providerFlag(f)
	focusFile := f.String("focus", "", "the provider's FOCUS export, CSV (`FILE`; - for standard input)")
	wallet := f.String("wallet", "", "`FILE` holding a YAML list of instruments, as in a scenario's wallet (none when omitted)")
	account := f.String("account", scenario.DefaultAccount, "`NAME` of the account that owns wallet entries that name none")
	by := f.String("by", string(focus.BySKU), "compare per `LEVEL`: sku, service or account")
	export := f.String("export", "", "also write the computed credits as FOCUS Credit rows to this `FILE`")
	ff := addFocusFlags(f)
	o := newOut(f, stdout, stderr)
	f.require("provider", "focus")
	if ok, code := f.parse(args, stdout, stderr); !ok {
		return code
	}
	if m := f.missing(); m != "" {
		return o.usageError(f, "missing "+m)
	}
	if f.NArg() > 0 {
		return o.usageError(f, "takes no arguments besides its flags, got "+f.Arg(0))
	}
	level, err := focus.ParseLevel(*by)
	if err != nil {
		return o.fail(exitInvalid, "--by", err)
	}
	out, err := reconcile(*provider, *focusFile, *wallet, *account, level, ff)
	if err != nil {
		return o.fail(exitInvalid, "", err)
	}
	if *export != "" {
		if err := writeCredits(*export, out.expected); err != nil {
			return o.fail(exitInvalid, "--export", err)
		}
	}
	if *o.json {
		o.emit(out)
	} else {
		fmt.Fprint(stdout, out.Text())
		fmt.Fprintf(stdout, "rounding: the charges, each rounded once, differ from the exact BilledCost by %s\n", out.RoundingDifference)
	}
	if !out.Matches() {
		return exitFail
	}
	return exitOK
}

// reconciled is what reconcile prints.
type reconciled struct {
	*focus.Reconciliation
	Rows               focus.Rows      `json:"rows"`
	RoundingDifference decimal.Decimal `json:"rounding_difference"`
	expected           []focus.Credit
}

func reconcile(provider, focusFile, wallet, account string, level focus.Level, ff *focusFlags) (*reconciled, error) {
	rs, err := providers.Lookup(provider, ".")
	if err != nil {
		return nil, err
	}
	m, err := ff.mappingFor(rs)
	if err != nil {
		return nil, err
	}
	opts, err := ff.options(rs, m)
	if err != nil {
		return nil, err
	}
	res, err := importFile(focusFile, opts)
	if err != nil {
		return nil, err
	}
	if len(res.Bills) == 0 {
		return nil, fmt.Errorf("%s has no Usage or Purchase row to settle (rows read: %d, skipped: %v)", focusFile, res.Rows.Read, res.Rows.Skipped)
	}
	engine, err := rules.NewEngine(rs)
	if err != nil {
		return nil, err
	}
	start := res.Bills[0].Start
	var insts []voucher.Instrument
	if wallet != "" {
		data, err := providers.ReadFile(wallet)
		if err != nil {
			return nil, err
		}
		if insts, err = scenario.ParseWallet(wallet, data, rs, account, start); err != nil {
			return nil, fmt.Errorf("invalid wallet file:\n%v", err)
		}
	}
	qs, err := focus.Settle(context.Background(), engine, res, insts, start)
	if err != nil {
		return nil, err
	}
	var expected []focus.Credit
	for i, q := range qs {
		expected = append(expected, focus.CreditsFromQuote(res.Bills[i], q)...)
	}
	return &reconciled{Reconciliation: focus.Reconcile(expected, res.Credits, level), Rows: res.Rows,
		RoundingDifference: res.RoundingDifference(), expected: expected}, nil
}

// writeCredits writes credits as FOCUS Credit rows to path.
func writeCredits(path string, credits []focus.Credit) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := focus.Export(f, credits); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
