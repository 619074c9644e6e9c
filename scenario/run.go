package scenario

import (
	"fmt"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/voucherkit/voucherkit/rules"
	"github.com/voucherkit/voucherkit/voucher"
)

// Run runs s on a fresh engine and wallet and compares every step with what it
// expected. It reads no wall clock and changes nothing outside its own wallet.
func Run(s *Scenario) Result {
	r := Result{File: s.File, Name: s.Name}
	eng, err := rules.NewEngine(s.RuleSet)
	if err != nil {
		r.Mismatches = append(r.Mismatches, Mismatch{Label: stepLabel(0, "", ""), Key: "provider",
			Expected: "a rule set the engine accepts", Got: err.Error()})
		return r
	}
	w := voucher.NewWallet(eng, s.Now)
	for _, in := range s.Wallet {
		if err := w.Grant(in.Clone()); err != nil {
			r.Mismatches = append(r.Mismatches, Mismatch{Label: stepLabel(0, "", ""), Key: "wallet." + in.ID,
				Expected: "granted", Got: errText(err)})
		}
	}
	if !r.Passed() {
		return r
	}
	scale := eng.Currency().Scale()
	for i := range s.Steps {
		c := &checker{r: &r, st: &s.Steps[i], label: s.Steps[i].Label(), scale: scale}
		c.run(w)
		r.Steps++
	}
	return r
}

// checker runs one step and records its mismatches.
type checker struct {
	r     *Result
	st    *Step
	label string
	scale int32
}

func (c *checker) add(key, expected, got string) {
	c.r.Mismatches = append(c.r.Mismatches, Mismatch{Step: c.st.N, Label: c.label, Key: key, Expected: expected, Got: got})
}

// outcome is whatever the step's action returned.
type outcome struct {
	quote  *voucher.Quote
	clock  *voucher.ClockResult
	refund *voucher.RefundResult
	err    error
}

func (c *checker) run(w *voucher.Wallet) {
	defer func() {
		if v := recover(); v != nil {
			c.add("error", "no panic", fmt.Sprintf("panic: %v\n%s", v, debug.Stack()))
		}
	}()
	st, e := c.st, &c.st.Expect
	before := takeSnapshot(w)
	out := do(w, st)
	if out.err != nil {
		code := voucher.ErrorCode(out.err)
		switch {
		case e.Error == "":
			c.add("error", "no error", errText(out.err))
		case e.Error != code:
			c.add("error", e.Error, errText(out.err))
		default:
			if diff := before.diff(takeSnapshot(w)); diff != "" {
				c.add("error", "a failed step changes nothing", diff)
			}
		}
		c.wallet(w)
		return
	}
	if e.Error != "" {
		c.add("error", e.Error, "no error: the step succeeded")
		c.wallet(w)
		return
	}
	if out.quote != nil && st.Action.prices() {
		c.quote(out.quote)
	}
	switch {
	case out.refund != nil:
		c.amount("cash_refund", e.CashRefund, out.refund.CashRefund)
		c.amountMap("forfeited", e.Forfeited, out.refund.Forfeited)
		c.amountMap("restored", e.Restored, out.refund.Restored)
	case out.clock != nil:
		c.amountMap("forfeited", e.Forfeited, out.clock.Forfeited)
	}
	c.wallet(w)
}

// do runs the step's action at its time (the wallet's clock when it gives none).
func do(w *voucher.Wallet, st *Step) outcome {
	at := st.At
	if at.IsZero() {
		at = w.Now()
	}
	var o outcome
	switch st.Action {
	case ActionQuote:
		o.quote, o.err = w.Quote(cloneOrder(st.Order), at)
	case ActionCheckout:
		o.quote, o.err = w.Checkout(cloneOrder(st.Order), at)
	case ActionReserve:
		o.quote, o.err = w.Reserve(cloneOrder(st.Order), at, st.Hold)
	case ActionCapture:
		o.quote, o.err = w.Capture(st.OrderID, at)
	case ActionRelease:
		o.clock, o.err = w.Release(st.OrderID, at)
	case ActionRefund:
		req := st.Refund
		req.Lines = slices.Clone(req.Lines)
		o.refund, o.err = w.Refund(req, at)
	case ActionActivate:
		_, o.err = w.Activate(st.Code, st.Account, at)
	case ActionAdvance:
		o.clock, o.err = w.Advance(st.To)
	default:
		o.err = fmt.Errorf("scenario: unknown action %q", st.Action)
	}
	return o
}

// cloneOrder copies the order's slices, so that a wallet that keeps the order cannot
// change the scenario (a step may run again in another Run).
func cloneOrder(o voucher.Order) voucher.Order {
	o.Lines = slices.Clone(o.Lines)
	if o.Use != nil {
		o.Use = slices.Clone(o.Use)
	}
	o.Codes = slices.Clone(o.Codes)
	return o
}

func errText(err error) string {
	if code := voucher.ErrorCode(err); code != "" {
		return fmt.Sprintf("%s (%v)", code, err)
	}
	return err.Error()
}

func (c *checker) fmtMoney(m voucher.Money) string {
	if m.IsZeroMoney() {
		return decimal.Zero.StringFixed(c.scale)
	}
	return m.Format()
}

func (c *checker) amount(key string, want *decimal.Decimal, got voucher.Money) {
	if want != nil && !want.Equal(got.Amount()) {
		c.add(key, want.String(), c.fmtMoney(got))
	}
}

func (c *checker) quote(q *voucher.Quote) {
	e := &c.st.Expect
	c.amount("total", e.Total, q.Total)
	c.amount("discount", e.Discount, q.Discount)
	c.amount("deducted", e.Deducted, q.Deducted)
	c.amount("cash", e.Cash, q.Cash)
	c.amount("invoiceable", e.Invoiceable, q.Invoiceable)
	c.amount("non_invoiceable", e.NonInvoiceable, q.NonInvoiceable)
	if e.Applied != nil {
		got := make(map[string]voucher.Money, len(q.Applications))
		for _, a := range q.Applications {
			got[appKey(a.Key, a.InstrumentID)] = a.Amount
		}
		for _, k := range unionKeys(e.Applied, got) {
			want, wok := e.Applied[k]
			g, gok := got[k]
			switch {
			case wok && !gok:
				c.add("applied."+k, want.String(), notApplied(q, k))
			case !wok && gok:
				c.add("applied."+k, "not applied", "applied "+c.fmtMoney(g))
			case !want.Equal(g.Amount()):
				c.add("applied."+k, want.String(), c.fmtMoney(g))
			}
		}
	}
	for _, k := range sortedKeys(e.Rejected) {
		want := e.Rejected[k]
		if rj, ok := rejection(q, k); ok {
			if rj.Reason != want {
				c.add("rejected."+k, string(want), rejectionText(rj))
			}
		} else if a, ok := application(q, k); ok {
			c.add("rejected."+k, string(want), "applied "+c.fmtMoney(a.Amount))
		} else {
			c.add("rejected."+k, string(want), "not considered")
		}
	}
	for _, id := range sortedKeys(e.Lines) {
		want := e.Lines[id]
		l, ok := q.Line(id)
		if !ok {
			c.add("lines."+id, "a line of the quote", "no such line")
			continue
		}
		p := "lines." + id + "."
		c.amount(p+"discount", want.Discount, l.Discount)
		c.amount(p+"deducted", want.Deducted, l.Deducted)
		c.amount(p+"cash", want.Cash, l.Cash)
		c.amount(p+"invoiceable", want.Invoiceable, l.Invoiceable)
	}
}

func appKey(key, id string) string {
	if key != "" {
		return key
	}
	return id
}

func application(q *voucher.Quote, key string) (voucher.Application, bool) {
	for _, a := range q.Applications {
		if appKey(a.Key, a.InstrumentID) == key {
			return a, true
		}
	}
	return voucher.Application{}, false
}

func rejection(q *voucher.Quote, key string) (voucher.Rejection, bool) {
	for _, r := range q.Rejections {
		if appKey(r.Key, r.InstrumentID) == key {
			return r, true
		}
	}
	return voucher.Rejection{}, false
}

func notApplied(q *voucher.Quote, key string) string {
	if rj, ok := rejection(q, key); ok {
		return "not applied: rejected " + rejectionText(rj)
	}
	return "not applied: not considered"
}

func rejectionText(r voucher.Rejection) string {
	s := string(r.Reason)
	if r.Detail != "" {
		s += " (" + r.Detail + ")"
	}
	return s
}

// amountMap compares an exact {key: amount} expectation; amounts of zero in got do not
// count.
func (c *checker) amountMap(key string, want map[string]decimal.Decimal, got map[string]voucher.Money) {
	if want == nil {
		return
	}
	nonzero := make(map[string]voucher.Money, len(got))
	for k, v := range got {
		if !v.IsZero() {
			nonzero[k] = v
		}
	}
	for _, k := range unionKeys(want, nonzero) {
		w, wok := want[k]
		g, gok := nonzero[k]
		switch {
		case wok && !gok:
			c.add(key+"."+k, w.String(), "nothing")
		case !wok && gok:
			c.add(key+"."+k, "nothing", c.fmtMoney(g))
		case !w.Equal(g.Amount()):
			c.add(key+"."+k, w.String(), c.fmtMoney(g))
		}
	}
}

func (c *checker) wallet(w *voucher.Wallet) {
	for _, id := range sortedKeys(c.st.Expect.Wallet) {
		want := c.st.Expect.Wallet[id]
		in, ok := w.Instrument(id)
		if !ok {
			c.add("wallet."+id, "an instrument of the wallet", "no such instrument")
			continue
		}
		p := "wallet." + id + "."
		if want.Balance != nil && !want.Balance.Equal(in.Balance) {
			c.add(p+"balance", want.Balance.String(), in.Balance.StringFixed(c.scale))
		}
		if want.Held != nil && !want.Held.Equal(in.Held) {
			c.add(p+"held", want.Held.String(), in.Held.StringFixed(c.scale))
		}
		if want.Status != "" {
			if st, _ := w.Status(id); st != want.Status {
				c.add(p+"status", string(want.Status), string(st))
			}
		}
	}
}

func unionKeys[A, B any](a map[string]A, b map[string]B) []string {
	keys := sortedKeys(a)
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// snapshot is what a failed step must leave as it was: the clock, the ledger, and
// each instrument's state and status.
type snapshot struct {
	now    time.Time
	ledger int
	ids    []string
	state  map[string][]string
}

func takeSnapshot(w *voucher.Wallet) snapshot {
	s := snapshot{now: w.Now(), ledger: w.Ledger().Len(), state: map[string][]string{}}
	for _, in := range w.Instruments() {
		st, _ := w.Status(in.ID)
		s.ids = append(s.ids, in.ID)
		s.state[in.ID] = fingerprint(in, st)
	}
	slices.Sort(s.ids)
	return s
}

func fingerprint(in voucher.Instrument, st voucher.Status) []string {
	t := func(v time.Time) string {
		if v.IsZero() {
			return "-"
		}
		return v.UTC().Format(time.RFC3339Nano)
	}
	return []string{
		"status " + string(st),
		"account " + in.Account,
		"balance " + in.Balance.String(),
		"held " + in.Held.String(),
		fmt.Sprintf("redeemed %d", in.Redeemed),
		fmt.Sprintf("held redemptions %d", in.HeldRedemptions),
		fmt.Sprintf("pending activation %t", in.PendingActivation),
		"activated at " + t(in.ActivatedAt),
		"effective at " + t(in.EffectiveAt),
		"expires at " + t(in.ExpiresAt),
		"claimed at " + t(in.ClaimedAt),
	}
}

// diff describes what changed from s to o, or returns "".
func (s snapshot) diff(o snapshot) string {
	var parts []string
	if !s.now.Equal(o.now) {
		parts = append(parts, fmt.Sprintf("clock %s -> %s", s.now.Format(time.RFC3339), o.now.Format(time.RFC3339)))
	}
	if s.ledger != o.ledger {
		parts = append(parts, fmt.Sprintf("ledger entries %d -> %d", s.ledger, o.ledger))
	}
	if !slices.Equal(s.ids, o.ids) {
		parts = append(parts, fmt.Sprintf("instruments %v -> %v", s.ids, o.ids))
	}
	for _, id := range s.ids {
		a, b := s.state[id], o.state[id]
		if b == nil {
			continue
		}
		for i := range a {
			if a[i] != b[i] {
				parts = append(parts, fmt.Sprintf("%s: %s -> %s", id, a[i], strings.TrimPrefix(b[i], fieldName(b[i]))))
			}
		}
	}
	return strings.Join(parts, "; ")
}

// fieldName is the part of a fingerprint entry before its value.
func fieldName(entry string) string {
	if i := strings.LastIndexByte(entry, ' '); i >= 0 {
		return entry[:i+1]
	}
	return ""
}
