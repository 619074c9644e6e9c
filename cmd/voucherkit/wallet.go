package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/shopspring/decimal"
	"go.yaml.in/yaml/v3"

	"github.com/voucherkit/voucherkit/internal/yamlx"
	"github.com/voucherkit/voucherkit/providers"
	"github.com/voucherkit/voucherkit/rules"
	"github.com/voucherkit/voucherkit/scenario"
	"github.com/voucherkit/voucherkit/store/postgres"
	"github.com/voucherkit/voucherkit/store/sqlite"
	"github.com/voucherkit/voucherkit/voucher"
)

// walletActions are the steps `voucherkit wallet` takes on a durable wallet.
var walletActions = []struct {
	name, summary string
	run           func(w *walletCmd, args []string) int
}{
	{"grant", "grant the instruments of a wallet file (YAML or JSON), all or none", (*walletCmd).grant},
	{"checkout", "price an order file and commit it", (*walletCmd).checkout},
	{"refund", "refund lines of a committed order", (*walletCmd).refund},
	{"org", "store the organizations of an organizations file", (*walletCmd).org},
	{"settle", "settle a bill file (one settle, as in a scenario) and commit it", (*walletCmd).settle},
	{"expire", "record every expiry and ended hold due by --at, on every account", (*walletCmd).expire},
	{"show", "show an account's instruments at --at and its committed orders", (*walletCmd).show},
	{"ledger", "print ledger entries as a table, JSON or CSV", (*walletCmd).ledger},
}

func runWallet(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		for _, a := range walletActions {
			if a.name == args[0] {
				return a.run(&walletCmd{stdout: stdout, stderr: stderr}, args[1:])
			}
		}
	}
	f := newFlags("wallet", "ACTION [flags]", walletAbout())
	if ok, code := f.parse(args, stdout, stderr); !ok {
		return code
	}
	if len(args) == 0 {
		fmt.Fprintf(stderr, "voucherkit wallet: which action?\n\n")
	} else {
		fmt.Fprintf(stderr, "voucherkit wallet: unknown action %q\n\n", args[0])
	}
	f.usage(stderr)
	return exitInvalid
}

func walletAbout() string {
	var b strings.Builder
	b.WriteString("Keeps a durable wallet in SQLite (--db PATH) or PostgreSQL (--db postgres://...):\n" +
		"each action is one transaction, and --at (default: now) is the time it happens at.\n" +
		"Actions (voucherkit wallet ACTION -h for each):\n")
	for _, a := range walletActions {
		fmt.Fprintf(&b, "  %-9s %s\n", a.name, a.summary)
	}
	return strings.TrimRight(b.String(), "\n")
}

// walletCmd is one wallet action: its flags, its store and its wallet.
type walletCmd struct {
	stdout, stderr         io.Writer
	f                      *flags
	o                      *out
	db, name, provider, at *string
	rs                     *rules.RuleSet
	w                      *voucher.Wallet
	when                   time.Time
	close                  func()
	ctx                    context.Context
}

// setup declares the flags every action shares; more may follow before open.
func (c *walletCmd) setup(action, about string, required ...string) {
	c.f = newFlags("wallet "+action, "", about)
	c.db = c.f.String("db", "", "the wallet's store: a SQLite file `PATH`, or a PostgreSQL `URL` (postgres://...)")
	c.name = c.f.String("name", "default", "`NAME` of the wallet in the store (one store holds several)")
	c.provider = c.f.String("provider", "", "`NAME|FILE` of the rule set the wallet prices under")
	c.at = c.f.String("at", "", "`TIME` the action happens at: RFC 3339, or a date in the rule set's time zone (default: now)")
	c.o = newOut(c.f, c.stdout, c.stderr)
	c.f.require(append([]string{"db", "provider"}, required...)...)
}

// open parses the command line and opens the wallet; ok false: exit with code.
func (c *walletCmd) open(args []string) (code int, ok bool) {
	if ok, code := c.f.parse(args, c.stdout, c.stderr); !ok {
		return code, false
	}
	if m := c.f.missing(); m != "" {
		return c.o.usageError(c.f, "missing "+m), false
	}
	if c.f.NArg() > 0 {
		return c.o.usageError(c.f, "takes no arguments besides its flags, got "+c.f.Arg(0)), false
	}
	rs, err := providers.Lookup(*c.provider, ".")
	if err != nil {
		return c.o.fail(exitInvalid, "--provider", err), false
	}
	c.rs = rs
	c.when = time.Now().In(rs.Location)
	if *c.at != "" {
		if c.when, err = yamlx.ParseTime(*c.at, rs.Location, yamlx.StartOfDay); err != nil {
			return c.o.fail(exitInvalid, "--at", err), false
		}
	}
	eng, err := rules.NewEngine(rs)
	if err != nil {
		return c.o.fail(exitInvalid, "--provider", err), false
	}
	c.ctx = context.Background()
	store, closeStore, err := openStore(c.ctx, *c.db, *c.name)
	if err != nil {
		return c.o.fail(exitInvalid, "--db", err), false
	}
	c.w, c.close = voucher.NewWallet(eng, store), closeStore
	return 0, true
}

// openStore opens the store --db names: PostgreSQL for a postgres:// or postgresql://
// URL, else a SQLite file (created when missing).
func openStore(ctx context.Context, db, name string) (voucher.Store, func(), error) {
	if strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://") {
		pg, err := postgres.Open(ctx, db)
		if err != nil {
			return nil, nil, err
		}
		return pg.Wallet(name), pg.Close, nil
	}
	lite, err := sqlite.Open(ctx, db)
	if err != nil {
		return nil, nil, err
	}
	return lite.Wallet(name), func() { _ = lite.Close() }, nil
}

// done reports the outcome of the action: v as JSON or text as text, or err.
func (c *walletCmd) done(err error, v any, text func(io.Writer)) int {
	defer c.close()
	if err != nil {
		status := exitFail
		if code := voucher.ErrorCode(err); code == "" || code == "invalid_file" {
			status = exitInvalid
		}
		return c.o.fail(status, "", err)
	}
	if *c.o.json {
		c.o.emit(v)
		return exitOK
	}
	text(c.stdout)
	return exitOK
}

func (c *walletCmd) grant(args []string) int {
	c.setup("grant", "Grants every instrument of a wallet file (a YAML or JSON list of instruments, as in a\n"+
		"scenario's wallet) in one step: all of them, or none when one is refused.", "file")
	file := c.f.String("file", "", "the wallet `FILE`")
	account := c.f.String("account", scenario.DefaultAccount, "`NAME` of the account that owns entries that name none")
	if code, ok := c.open(args); !ok {
		return code
	}
	data, err := providers.ReadFile(*file)
	if err != nil {
		return c.done(err, nil, nil)
	}
	insts, err := scenario.ParseWallet(*file, data, c.rs, *account, c.when)
	if err == nil {
		err = c.w.GrantAll(c.ctx, insts, c.when)
	}
	ids := make([]string, len(insts))
	for i, in := range insts {
		ids[i] = in.ID
	}
	return c.done(err, map[string]any{"granted": ids}, func(w io.Writer) {
		fmt.Fprintf(w, "granted %d instruments: %s\n", len(ids), strings.Join(ids, ", "))
	})
}

func (c *walletCmd) checkout(args []string) int {
	c.setup("checkout", "Prices an order file (one order, as in a scenario's checkout step) and commits it.", "order")
	file := c.f.String("order", "", "the order `FILE`")
	account := c.f.String("account", scenario.DefaultAccount, "`NAME` of the buyer when the order names none")
	if code, ok := c.open(args); !ok {
		return code
	}
	data, err := providers.ReadFile(*file)
	if err != nil {
		return c.done(err, nil, nil)
	}
	var q *voucher.Quote
	o, err := scenario.ParseOrder(*file, data, *account)
	if err == nil {
		q, err = c.w.Checkout(c.ctx, o, c.when)
	}
	return c.done(err, q, func(w io.Writer) { io.WriteString(w, q.Text()) })
}

func (c *walletCmd) refund(args []string) int {
	c.setup("refund", "Refunds lines of a committed order: the cash of the lines less what was consumed;\n"+
		"each instrument's share is restored or forfeited as its type says.", "order")
	order := c.f.String("order", "", "`ID` of the committed order")
	lines := c.f.String("lines", "", "`IDS` of the lines to refund, comma-separated (default: every line left)")
	consumed := c.f.String("consumed", "", "`AMOUNT` already used, kept back from the cash refunded")
	key := c.f.String("key", "", "idempotency `KEY`: asked again with it, the refund is made once")
	if code, ok := c.open(args); !ok {
		return code
	}
	req := voucher.RefundRequest{OrderID: *order, Key: *key}
	if *lines != "" {
		req.Lines = strings.Split(*lines, ",")
	}
	if *consumed != "" {
		d, err := decimal.NewFromString(*consumed)
		if err != nil {
			return c.done(fmt.Errorf("--consumed: %q is not a decimal amount", *consumed), nil, nil)
		}
		req.Consumed = &d
	}
	res, err := c.w.Refund(c.ctx, req, c.when)
	return c.done(err, res, func(w io.Writer) {
		fmt.Fprintf(w, "refunded %s of order %s: cash %s\n", strings.Join(res.Lines, ", "), res.OrderID, res.CashRefund)
		writeAmounts(w, "restored", res.Restored)
		writeAmounts(w, "forfeited", res.Forfeited)
	})
}

func writeAmounts(w io.Writer, what string, m map[string]voucher.Money) {
	for _, id := range sortedIDs(m) {
		fmt.Fprintf(w, "  %s %s: %s\n", what, id, m[id])
	}
}

func (c *walletCmd) org(args []string) int {
	c.setup("org", "Stores each organization of an organizations file (a YAML list, as in a scenario's\n"+
		"organizations), replacing one of the same id.", "file")
	file := c.f.String("file", "", "the organizations `FILE`")
	if code, ok := c.open(args); !ok {
		return code
	}
	data, err := providers.ReadFile(*file)
	if err != nil {
		return c.done(err, nil, nil)
	}
	orgs, err := scenario.ParseOrganizations(*file, data, c.rs)
	for i := 0; err == nil && i < len(orgs); i++ {
		err = c.w.PutOrganization(c.ctx, orgs[i], c.when)
	}
	return c.done(err, orgs, func(w io.Writer) { fmt.Fprintf(w, "stored %d organizations\n", len(orgs)) })
}

func (c *walletCmd) settle(args []string) int {
	c.setup("settle", "Settles a bill file (one settle, as in a scenario) at its period's last instant and\n"+
		"commits it; an organization's bill uses the organization stored with the wallet.", "bill")
	file := c.f.String("bill", "", "the bill `FILE`")
	if code, ok := c.open(args); !ok {
		return code
	}
	data, err := providers.ReadFile(*file)
	if err != nil {
		return c.done(err, nil, nil)
	}
	var res *voucher.SettleResult
	b, err := c.parseBill(*file, data)
	if err == nil {
		res, err = c.w.Settle(c.ctx, b)
	}
	return c.done(err, res, func(w io.Writer) { io.WriteString(w, res.Quote.Text()) })
}

// parseBill reads a bill, with the stored organization it names if any.
func (c *walletCmd) parseBill(file string, data []byte) (voucher.Bill, error) {
	var head struct {
		Organization string `yaml:"organization"`
	}
	var orgs []voucher.Organization
	// Only the organization's name is read here; ParseBill reads the file strictly.
	if yaml.Unmarshal(data, &head) == nil && head.Organization != "" {
		org, found, err := c.w.Organization(c.ctx, head.Organization)
		if err != nil {
			return voucher.Bill{}, err
		}
		if found {
			orgs = append(orgs, org)
		}
	}
	return scenario.ParseBill(file, data, c.rs, orgs, scenario.DefaultAccount)
}

func (c *walletCmd) expire(args []string) int {
	c.setup("expire", "Records, on every account, every expiry and ended hold due by --at (a billing system\n"+
		"runs this from cron).")
	if code, ok := c.open(args); !ok {
		return code
	}
	res, err := c.w.Expire(c.ctx, c.when)
	return c.done(err, res, func(w io.Writer) {
		fmt.Fprintf(w, "expired up to %s: %d instruments lost value\n", c.when.Format(time.RFC3339), len(res.Forfeited))
		writeAmounts(w, "forfeited", res.Forfeited)
	})
}

func (c *walletCmd) show(args []string) int {
	c.setup("show", "Shows an account's instruments as they are at --at (nothing is written) and its\n"+
		"committed orders.", "account")
	account := c.f.String("account", "", "`NAME` of the account")
	if code, ok := c.open(args); !ok {
		return code
	}
	views, err := c.w.Instruments(c.ctx, *account, c.when)
	var orders []voucher.OrderRecord
	if err == nil {
		orders, err = c.w.Orders(c.ctx, *account, "", 0)
	}
	doc := map[string]any{"account": *account, "at": c.when, "instruments": views, "orders": orders}
	return c.done(err, doc, func(w io.Writer) {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "instrument\ttype\tstatus\tbalance or use\theld\texpires")
		scale := c.w.Currency().Scale()
		for _, v := range views {
			in := v.Instrument
			exp := "never"
			if v.Expires != nil {
				exp = v.Expires.Format(time.RFC3339)
			}
			left, held := in.CurrentBalance().StringFixed(scale), in.Held.StringFixed(scale)
			if v.Kind == voucher.Discount {
				left, held = fmt.Sprintf("used %d of %d", in.Redeemed, in.Redemptions()), strconv.Itoa(in.HeldRedemptions)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", in.ID, in.Type, v.Status, left, held, exp)
		}
		tw.Flush()
		for _, rec := range orders {
			fmt.Fprintf(w, "order %s at %s: total %s, cash %s, refunded %v\n", rec.ID, rec.At.Format(time.RFC3339),
				rec.Quote.Total, rec.Quote.Cash, rec.Refunded)
		}
	})
}

func (c *walletCmd) ledger(args []string) int {
	c.setup("ledger", "Prints the ledger entries the filters select, in sequence order; page with --after.")
	var q voucher.LedgerQuery
	c.f.StringVar(&q.Account, "account", "", "only the entries of account `NAME`")
	c.f.StringVar(&q.Instrument, "instrument", "", "only the entries of instrument `ID`")
	c.f.StringVar(&q.Order, "order", "", "only the entries of order `ID`")
	c.f.Int64Var(&q.AfterSeq, "after", 0, "only entries with a sequence number after `SEQ`")
	c.f.IntVar(&q.Limit, "limit", 0, "at most `N` entries (0: all)")
	format := c.f.String("format", "table", "`FORMAT`: table, json or csv")
	if code, ok := c.open(args); !ok {
		return code
	}
	if *format != "table" && *format != "json" && *format != "csv" {
		c.close()
		return c.o.usageError(c.f, "--format is table, json or csv, got "+*format)
	}
	entries, err := c.w.Ledger(c.ctx, q)
	if *format == "json" {
		*c.o.json = true
	}
	return c.done(err, entries, func(w io.Writer) {
		if *format == "csv" {
			writeLedgerCSV(w, entries)
			return
		}
		for _, e := range entries {
			fmt.Fprintln(w, e.String())
		}
	})
}

// writeLedgerCSV writes entries as CSV, a header row first.
func writeLedgerCSV(w io.Writer, entries []voucher.LedgerEntry) {
	cw := csv.NewWriter(w)
	cw.Write([]string{"seq", "at", "kind", "account", "instrument", "order", "amount", "delta", "balance_after", "held_after", "currency", "reason"})
	for _, e := range entries {
		cw.Write([]string{strconv.FormatInt(e.Seq, 10), e.At.Format(time.RFC3339Nano), string(e.Kind), e.Account,
			e.Instrument, e.Order, e.Amount.Format(), e.Delta.Format(), e.BalanceAfter.Format(), e.HeldAfter.Format(),
			e.Amount.Currency().Code(), e.Reason})
	}
	cw.Flush()
}
