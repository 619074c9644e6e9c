package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/voucherkit/voucherkit/providers"
	"github.com/voucherkit/voucherkit/rules"
	"github.com/voucherkit/voucherkit/scenario"
	"github.com/voucherkit/voucherkit/store/memory"
	"github.com/voucherkit/voucherkit/voucher"
)

// The demo's inputs, in the scenario syntax. Every figure it prints is computed from
// them by the real engine and wallet.
const (
	aliyunWallet = `
- {id: v200, type: voucher, amount: "200", expires_at: 2026-06-30}
`
	aliyunOrder = `
id: o1
type: new
payment: subscription
first_purchase: true
items:
  - {id: ecs-1, product: ecs, amount: "500"}
`
	awsWallet = `
- {id: c1, type: credit, amount: "10", products: [ec2, s3], issued_at: 2025-06-01, expires_at: 2026-03-31}
- {id: c2, type: credit, amount: "5", products: [ec2], issued_at: 2025-06-01, expires_at: 2026-12-31}
`
	awsOrder = `
id: bill-2026-02
type: usage
payment: pay_as_you_go
items:
  - {id: ec2, product: ec2, amount: "100"}
  - {id: s3, product: s3, amount: "50"}
`
)

func runDemo(args []string, stdout, stderr io.Writer) int {
	f := newFlags("demo", "",
		"Walks through two worked examples on the built-in rule sets, computed by the engine\n"+
			"and wallet: an Alibaba Cloud ECS order paid partly by a voucher and then refunded,\n"+
			"and the AWS Billing documentation's bill with two promotional credits.")
	o := newOut(f, stdout, stderr)
	if ok, code := f.parse(args, stdout, stderr); !ok {
		return code
	}
	if f.NArg() > 0 {
		return o.usageError(f, "takes no arguments")
	}
	rec := &demoRecord{}
	w := stdout
	if *o.json {
		w = io.Discard
	}
	if err := demo(w, rec); err != nil {
		return o.fail(exitFail, "", err)
	}
	if *o.json {
		o.emit(map[string]any{"steps": rec.steps})
	}
	return exitOK
}

// demoRecord keeps what the demo computes, for demo --json: each step's quote or
// refund, as quote --json writes a quote.
type demoRecord struct {
	steps []demoStep
}

type demoStep struct {
	Example string                `json:"example"`
	Step    string                `json:"step"`
	Quote   *voucher.Quote        `json:"quote,omitempty"`
	Refund  *voucher.RefundResult `json:"refund,omitempty"`
}

func demo(w io.Writer, rec *demoRecord) error {
	if err := demoAliyun(w, rec); err != nil {
		return fmt.Errorf("aliyun: %w", err)
	}
	fmt.Fprintln(w)
	if err := demoAWS(w, rec); err != nil {
		return fmt.Errorf("aws: %w", err)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Write such cases down as scenario files and run them: voucherkit test DIR")
	return nil
}

// setup builds an engine for rs and a wallet holding the given instruments.
func setup(rs *rules.RuleSet, account, walletYAML string, now time.Time) (*rules.Engine, *voucher.Wallet, error) {
	eng, err := rules.NewEngine(rs)
	if err != nil {
		return nil, nil, err
	}
	insts, err := scenario.ParseWallet(rs.Name+"-demo-wallet.yaml", []byte(walletYAML), rs, account, now)
	if err != nil {
		return nil, nil, err
	}
	wal := voucher.NewWallet(eng, memory.New())
	for _, in := range insts {
		if err := wal.Grant(context.Background(), in, now); err != nil {
			return nil, nil, err
		}
	}
	return eng, wal, nil
}

// holdings lists account's instruments at at, for the demo's tables.
func holdings(wal *voucher.Wallet, account string, at time.Time) ([]voucher.InstrumentView, error) {
	return wal.Instruments(context.Background(), account, at)
}

func stageNames(rs *rules.RuleSet) string {
	names := make([]string, len(rs.Stages))
	for i, st := range rs.Stages {
		names[i] = fmt.Sprintf("%s (%s)", st.Name, st.Kind)
	}
	return strings.Join(names, " > ")
}

func describeInstrument(w io.Writer, in voucher.Instrument, pol voucher.TypePolicy, rs *rules.RuleSet) {
	scope := "every product the type covers"
	if len(in.Products) > 0 {
		scope = strings.Join(in.Products, ", ")
	}
	until := "no expiry"
	if in.ExpiresAt != nil {
		until = "valid until " + in.ExpiresAt.In(rs.Location).Format(time.RFC3339)
	}
	fmt.Fprintf(w, "  %-5s %s (%s), %s %s, on %s, %s\n", in.ID, in.Type, pol.Kind,
		in.CurrentBalance().StringFixed(rs.Currency.Scale()), rs.Currency.Code(), scope, until)
}

func demoAliyun(w io.Writer, rec *demoRecord) error {
	const account = "acct-1"
	rs, err := providers.Load("aliyun")
	if err != nil {
		return err
	}
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, rs.Location)
	eng, wal, err := setup(rs, account, aliyunWallet, now)
	if err != nil {
		return err
	}
	cur := rs.Currency.Code()
	order, err := scenario.ParseOrder("aliyun-demo-order.yaml", []byte(aliyunOrder), account)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "== 1. %s: a %s %s ECS order paid partly by a voucher, then refunded ==\n", rs.Name, order.Lines[0].Amount, cur)
	fmt.Fprintf(w, "%s.\n", rs.Description)
	fmt.Fprintf(w, "Rule set %s, %s, dates in %s. Stages run in order: %s.\n", rs.ID(), cur, rs.TimeZone, stageNames(rs))
	fmt.Fprintf(w, "\nWallet of %s at %s:\n", account, now.Format(time.RFC3339))
	views, err := holdings(wal, account, now)
	if err != nil {
		return err
	}
	for _, v := range views {
		pol, _ := eng.Policy(v.Instrument.Type)
		describeInstrument(w, v.Instrument, pol, rs)
	}

	q, err := wal.Checkout(context.Background(), order, now)
	if err != nil {
		return err
	}
	rec.steps = append(rec.steps, demoStep{Example: rs.Name, Step: "checkout " + order.ID, Quote: q})
	fmt.Fprintf(w, "\nCheckout %s (%s, %s", order.ID, order.Type, order.Payment)
	for _, l := range order.Lines {
		fmt.Fprintf(w, ", %s %s %s", l.Product, l.Amount.StringFixed(2), cur)
	}
	fmt.Fprintln(w, "):")
	explainQuote(w, q, eng)

	refundAt := now.Add(47 * time.Hour)
	rr, err := wal.Refund(context.Background(), voucher.RefundRequest{OrderID: order.ID}, refundAt)
	if err != nil {
		return err
	}
	rec.steps = append(rec.steps, demoStep{Example: rs.Name, Step: "refund " + order.ID, Refund: rr})
	fmt.Fprintf(w, "\nRefund of %s at %s (every line, nothing consumed):\n", rr.OrderID, refundAt.Format(time.RFC3339))
	fmt.Fprintf(w, "  cash returned           %10s %s   (the cash paid on the refunded lines)\n", rr.CashRefund.Format(), cur)
	for _, id := range sortedIDs(rr.Forfeited) {
		si, _, err := wal.Instrument(context.Background(), id)
		if err != nil {
			return err
		}
		in := si.Instrument
		pol, _ := eng.Policy(in.Type)
		fmt.Fprintf(w, "  forfeited %-13s %10s %s   (refund rule of %s: %s; its share is not given back)\n", id, rr.Forfeited[id].Format(), cur, in.Type, pol.Refund)
	}
	for _, id := range sortedIDs(rr.Restored) {
		fmt.Fprintf(w, "  restored %-14s %10s %s\n", id, rr.Restored[id].Format(), cur)
	}
	return afterwards(w, wal, account, refundAt, rs)
}

// afterwards prints each of account's instruments as it is at at.
func afterwards(w io.Writer, wal *voucher.Wallet, account string, at time.Time, rs *rules.RuleSet) error {
	views, err := holdings(wal, account, at)
	if err != nil {
		return err
	}
	for _, v := range views {
		fmt.Fprintf(w, "  %s afterwards: balance %s, %s\n", v.ID(), v.Instrument.CurrentBalance().StringFixed(rs.Currency.Scale()), v.Status)
	}
	return nil
}

// explainQuote prints a quote's figures the way a person reads a bill.
func explainQuote(w io.Writer, q *voucher.Quote, eng *rules.Engine) {
	cur := q.Currency
	fmt.Fprintf(w, "  total                   %10s %s\n", q.Total.Format(), cur)
	for _, a := range q.Applications {
		if a.Kind != voucher.Discount {
			continue
		}
		fmt.Fprintf(w, "  - %-21s %10s      discount (%s stage)\n", a.Key, a.Amount.Format(), a.Stage)
	}
	for _, a := range q.Applications {
		if a.Kind != voucher.Deduction {
			continue
		}
		var parts []string
		for _, l := range a.Lines {
			if !l.Amount.IsZero() {
				parts = append(parts, l.LineID+" "+l.Amount.Format())
			}
		}
		fmt.Fprintf(w, "  - %-21s %10s      %s pays part of what is left (%s)\n", a.Key, a.Amount.Format(), a.Type, strings.Join(parts, ", "))
	}
	fmt.Fprintf(w, "  = cash to pay           %10s %s\n", q.Cash.Format(), cur)
	fmt.Fprintf(w, "  invoiceable             %10s      (total - discounts = invoiceable + not invoiceable)\n", q.Invoiceable.Format())
	fmt.Fprintf(w, "  not invoiceable         %10s", q.NonInvoiceable.Format())
	var why []string
	for _, a := range q.Applications {
		if a.Kind == voucher.Deduction && !a.Invoiceable {
			why = append(why, a.Type)
		}
	}
	if len(why) > 0 {
		fmt.Fprintf(w, "      (what a %s pays cannot be invoiced)", strings.Join(why, " or "))
	}
	fmt.Fprintln(w)
	for _, rj := range q.Rejections {
		fmt.Fprintf(w, "  not applied: %s: %s", rj.Key, rj.Reason)
		if rj.Detail != "" {
			fmt.Fprintf(w, " (%s)", rj.Detail)
		}
		fmt.Fprintln(w)
	}
}

func demoAWS(w io.Writer, rec *demoRecord) error {
	const account = "111122223333"
	rs, err := providers.Load("aws")
	if err != nil {
		return err
	}
	now := time.Date(2026, 2, 1, 0, 0, 0, 0, rs.Location)
	eng, wal, err := setup(rs, account, awsWallet, now)
	if err != nil {
		return err
	}
	cur := rs.Currency.Code()
	order, err := scenario.ParseOrder("aws-demo-order.yaml", []byte(awsOrder), account)
	if err != nil {
		return err
	}
	credit, _ := rs.Type("credit")
	sel := make([]string, len(credit.Selection))
	for i, k := range credit.Selection {
		sel[i] = string(k)
	}
	fmt.Fprintf(w, "== 2. %s: the AWS Billing documentation's bill with two credits ==\n", rs.Name)
	fmt.Fprintf(w, "%s.\n", rs.Description)
	fmt.Fprintf(w, "Rule set %s, %s. Credits apply automatically in the order %s,\n", rs.ID(), cur, strings.Join(sel, " > "))
	fmt.Fprintf(w, "each to the largest service charge first (allocation %s).\n", credit.Allocation)
	fmt.Fprintf(w, "\nCredits of account %s:\n", account)
	views, err := holdings(wal, account, now)
	if err != nil {
		return err
	}
	for _, v := range views {
		pol, _ := eng.Policy(v.Instrument.Type)
		describeInstrument(w, v.Instrument, pol, rs)
	}
	at := time.Date(2026, 2, 28, 23, 0, 0, 0, rs.Location)
	q, err := wal.Checkout(context.Background(), order, at)
	if err != nil {
		return err
	}
	rec.steps = append(rec.steps, demoStep{Example: rs.Name, Step: "checkout " + order.ID, Quote: q})
	fmt.Fprintf(w, "\nBill %s at %s:\n", order.ID, at.Format(time.RFC3339))
	for i, a := range q.Applications {
		var parts []string
		for _, l := range a.Lines {
			if !l.Amount.IsZero() {
				parts = append(parts, l.LineID+" "+l.Amount.Format())
			}
		}
		fmt.Fprintf(w, "  %d. %s applies %s %s, to %s\n", i+1, a.Key, a.Amount.Format(), cur, strings.Join(parts, ", "))
	}
	for _, l := range q.Lines {
		fmt.Fprintf(w, "  %-4s %8s - credits %6s = %8s %s\n", l.LineID, l.Total.Format(), l.Deducted.Format(), l.Cash.Format(), cur)
	}
	fmt.Fprintf(w, "  amount due %s %s (credits used %s of the %s billed)\n", q.Cash.Format(), cur, q.Deducted.Format(), q.Total.Format())
	return afterwards(w, wal, account, at, rs)
}

func sortedIDs(m map[string]voucher.Money) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}
