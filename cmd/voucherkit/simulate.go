package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/voucherkit/voucherkit/focus"
	"github.com/voucherkit/voucherkit/internal/yamlx"
	"github.com/voucherkit/voucherkit/providers"
	"github.com/voucherkit/voucherkit/rules"
	"github.com/voucherkit/voucherkit/scenario"
	"github.com/voucherkit/voucherkit/simulate"
	"github.com/voucherkit/voucherkit/voucher"
)

// simFlags are simulate's flags.
type simFlags struct {
	providers, input, format, wallet, account, start, sample *string
	csvDir, html, ledger, progress                           *string
	top                                                      *int
	asJSON                                                   *bool
	focus                                                    *focusFlags
	out                                                      *out
}

func addSimFlags(f *flags) *simFlags {
	return &simFlags{
		providers: f.String("providers", "", "`NAME|FILE,...`: comma-separated built-in rule sets or rule-set files"),
		input:     f.String("input", "", "the stream: a FOCUS export, an orders CSV or JSON lines (`FILE`; - for standard input)"),
		format:    f.String("format", "auto", "`FORMAT`: focus, csv (orders), jsonl, or auto: by the file's first line"),
		wallet:    f.String("wallet", "", "`FILE` holding a YAML list of instruments, as in a scenario's wallet, granted at the start (none when omitted)"),
		account:   f.String("account", scenario.DefaultAccount, "`NAME` of the account that owns wallet entries that name none"),
		start:     f.String("start", "", "`TIME` the wallets are filled: RFC 3339 or a date (default: the first item's time)"),
		sample:    f.String("sample", string(simulate.Monthly), "sample balances every `INTERVAL`: day or month"),
		top:       f.Int("top", 10, "how many (`N`) of the items that changed most between rule sets to keep"),
		csvDir:    f.String("csv", "", "also write the report as CSV tables into this `DIR`"),
		html:      f.String("html", "", "also write the report as a self-contained HTML page with charts to this `FILE`"),
		ledger:    f.String("ledger", "", "also write every rule set's ledger entries as JSON lines to this `FILE`"),
		progress:  f.String("progress", "auto", "a progress bar on standard error: `WHEN` auto (a terminal and a run over a second) or never"),
		focus:     addFocusFlags(f),
	}
}

func runSimulate(args []string, stdout, stderr io.Writer) int {
	f := newFlags("simulate", "",
		"Runs a stream of orders and bills through a wallet under each rule set, side by side, and\n"+
			"reports totals (list, discount, deducted, cash, invoiceable), breakage (value expired\n"+
			"unused), the burn-down of every instrument, why instruments did not apply, and the items\n"+
			"whose cash changed most between the rule sets. A FOCUS export becomes one bill per\n"+
			"billing account and period; an orders CSV has the columns id, at, account, type,\n"+
			"payment, product, amount (and item, sku, currency, first_purchase); a JSON line is an\n"+
			"order (voucher.Order's JSON with \"at\") or a bill (voucher.Bill's). Items must come in\n"+
			"time order. The report is text (or --json) on standard output.")
	sf := addSimFlags(f)
	sf.out = newOut(f, stdout, stderr)
	sf.asJSON = sf.out.json
	f.require("providers", "input")
	if ok, code := f.parse(args, stdout, stderr); !ok {
		return code
	}
	if m := f.missing(); m != "" {
		return sf.out.usageError(f, "missing "+m)
	}
	if f.NArg() > 0 {
		return sf.out.usageError(f, "takes no arguments besides its flags, got "+f.Arg(0))
	}
	rep, err := sf.run(stderr)
	if err != nil {
		return sf.out.fail(exitInvalid, "", err)
	}
	if err := sf.write(rep, stdout); err != nil {
		return sf.out.fail(exitInvalid, "", err)
	}
	return exitOK
}

// run reads the inputs and runs the simulation.
func (sf *simFlags) run(stderr io.Writer) (*simulate.Report, error) {
	sets, err := loadRuleSets(*sf.providers)
	if err != nil {
		return nil, err
	}
	rs0 := sets[0]
	interval, err := simulate.ParseInterval(*sf.sample)
	if err != nil {
		return nil, fmt.Errorf("--sample: %v", err)
	}
	if *sf.progress != "auto" && *sf.progress != "never" {
		return nil, fmt.Errorf("--progress: want auto or never, got %q", *sf.progress)
	}
	in, closeFn, err := openInput(*sf.input)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	counted := &countingReader{r: in}
	src, orgs, err := sf.source(counted, rs0)
	if err != nil {
		return nil, err
	}
	first, err := src.Next()
	if errors.Is(err, io.EOF) {
		return nil, simulate.ErrEmpty
	}
	if err != nil {
		return nil, err
	}
	start := first.Time()
	if first.Bill != nil {
		start = first.Bill.Start
	}
	if *sf.start != "" {
		if start, err = yamlx.ParseTime(*sf.start, rs0.Location, yamlx.StartOfDay); err != nil {
			return nil, fmt.Errorf("--start: %v", err)
		}
	}
	runs, err := sf.ruleSets(sets, start)
	if err != nil {
		return nil, err
	}
	opts := simulate.Options{Organizations: orgs, Sample: interval, Location: rs0.Location, Top: *sf.top, Start: start}
	if *sf.top == 0 {
		opts.Top = -1
	}
	ledger, closeLedger, err := sf.ledgerSink()
	if err != nil {
		return nil, err
	}
	opts.Ledger = ledger
	pb := newProgress(stderr, *sf.progress == "auto", inputSize(*sf.input), counted)
	opts.Progress = pb.update
	rep, err := simulate.Run(context.Background(), &prepended{first: &first, rest: src}, runs, opts)
	pb.done()
	if cerr := closeLedger(); err == nil && cerr != nil {
		err = fmt.Errorf("--ledger: %v", cerr)
	}
	return rep, err
}

func loadRuleSets(list string) ([]*rules.RuleSet, error) {
	var out []*rules.RuleSet
	for _, name := range splitList(list) {
		rs, err := providers.Lookup(name, ".")
		if err != nil {
			return nil, err
		}
		out = append(out, rs)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--providers names no rule set")
	}
	return out, nil
}

// ruleSets makes each rule set's engine (without a decision trace) and wallet.
func (sf *simFlags) ruleSets(sets []*rules.RuleSet, start time.Time) ([]simulate.RuleSet, error) {
	var data []byte
	if *sf.wallet != "" {
		var err error
		if data, err = providers.ReadFile(*sf.wallet); err != nil {
			return nil, err
		}
	}
	names := splitList(*sf.providers)
	var out []simulate.RuleSet
	for i, rs := range sets {
		e, err := rules.NewEngine(rs, rules.WithTrace(false))
		if err != nil {
			return nil, err
		}
		run := simulate.RuleSet{Name: names[i], Pricer: e, ID: e.RuleSetAt(start).ID()}
		if data != nil {
			if run.Instruments, run.Skipped, err = scenario.ParseWalletFor(*sf.wallet, data, rs, *sf.account, start); err != nil {
				return nil, fmt.Errorf("invalid wallet file:\n%v", err)
			}
		}
		out = append(out, run)
	}
	return out, nil
}

// source opens the stream in its format; a FOCUS export is imported under the first
// rule set (its currency, scale and rounding, and its mapping unless --mapping says).
func (sf *simFlags) source(r io.Reader, rs0 *rules.RuleSet) (simulate.Source, []voucher.Organization, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	format := *sf.format
	if format == "auto" {
		format = sniff(br, *sf.input)
	}
	var orgs []voucher.Organization
	if *sf.focus.org != "" && format != "focus" {
		var err error
		if orgs, err = readOrgs(*sf.focus.org, rs0); err != nil {
			return nil, nil, err
		}
	}
	switch format {
	case "focus":
		m, err := sf.focus.mappingFor(rs0)
		if err != nil {
			return nil, nil, err
		}
		opts, err := sf.focus.options(rs0, m)
		if err != nil {
			return nil, nil, err
		}
		res, err := focus.Import(br, opts)
		if err != nil {
			return nil, nil, err
		}
		return simulate.FocusBills(res), res.Organizations, nil
	case "csv":
		src, err := simulate.OrdersCSV(br, rs0.Location)
		return src, orgs, err
	case "jsonl":
		return simulate.JSONLines(br), orgs, nil
	}
	return nil, nil, fmt.Errorf("--format: unknown format %q: want auto, focus, csv or jsonl", format)
}

// sniff tells the format from the first line: JSON lines start with "{", a FOCUS
// export's header names BilledCost, anything else is an orders CSV.
func sniff(br *bufio.Reader, name string) string {
	head, _ := br.Peek(8 << 10)
	line, _, _ := bytes.Cut(head, []byte("\n"))
	switch {
	case bytes.HasPrefix(bytes.TrimSpace(line), []byte("{")), strings.HasSuffix(name, ".jsonl"):
		return "jsonl"
	case bytes.Contains(line, []byte("BilledCost")):
		return "focus"
	}
	return "csv"
}

// prepended is a source whose first item was read already.
type prepended struct {
	first *simulate.Item
	rest  simulate.Source
}

func (p *prepended) Next() (simulate.Item, error) {
	if p.first != nil {
		it := *p.first
		p.first = nil
		return it, nil
	}
	return p.rest.Next()
}

// ledgerSink writes ledger entries as JSON lines, each with its rule set.
func (sf *simFlags) ledgerSink() (func(string, []voucher.LedgerEntry), func() error, error) {
	if *sf.ledger == "" {
		return nil, func() error { return nil }, nil
	}
	f, err := os.Create(*sf.ledger)
	if err != nil {
		return nil, nil, fmt.Errorf("--ledger: %v", err)
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	var werr error
	sink := func(rs string, es []voucher.LedgerEntry) {
		for _, e := range es {
			if werr == nil {
				werr = enc.Encode(struct {
					RuleSet string `json:"rule_set"`
					voucher.LedgerEntry
				}{rs, e})
			}
		}
	}
	return sink, func() error {
		if err := w.Flush(); werr == nil {
			werr = err
		}
		if err := f.Close(); werr == nil {
			werr = err
		}
		return werr
	}, nil
}

// write prints the report and writes the files asked for.
func (sf *simFlags) write(rep *simulate.Report, stdout io.Writer) error {
	if *sf.asJSON {
		if err := rep.WriteJSON(stdout); err != nil {
			return err
		}
	} else if err := rep.WriteText(stdout); err != nil {
		return err
	}
	if *sf.csvDir != "" {
		if err := os.MkdirAll(*sf.csvDir, 0o755); err != nil {
			return fmt.Errorf("--csv: %v", err)
		}
		for _, t := range simulate.CSVTables {
			if err := writeFile(filepath.Join(*sf.csvDir, t+".csv"), func(w io.Writer) error { return rep.WriteCSV(t, w) }); err != nil {
				return fmt.Errorf("--csv: %v", err)
			}
		}
	}
	if *sf.html != "" {
		if err := writeFile(*sf.html, rep.WriteHTML); err != nil {
			return fmt.Errorf("--html: %v", err)
		}
	}
	return nil
}

func writeFile(path string, fn func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	if err := fn(w); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
