package scenario

import (
	"context"
	"fmt"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/voucherkit/voucherkit/internal/excerpt"
	"github.com/voucherkit/voucherkit/internal/yamlx"
	"github.com/voucherkit/voucherkit/rules"
	"github.com/voucherkit/voucherkit/store/memory"
	"github.com/voucherkit/voucherkit/voucher"
)

// RunOption configures Run.
type RunOption func(*runConfig)

type runConfig struct {
	store voucher.Store
}

// WithStore runs the scenario on store, which must be empty (default: a new in-memory
// store). Every scenario gives the same result on every store.
func WithStore(store voucher.Store) RunOption {
	return func(c *runConfig) { c.store = store }
}

// Run runs s on a fresh engine and wallet and compares every step with what it
// expected. It reads no wall clock and changes nothing outside its own wallet.
//
// The scenario has one clock, which the runner keeps: a step whose time is before it
// fails clock_backwards (and changes nothing); after each step that succeeds, every
// account is brought to the step's time (Wallet.Expire), so that what expired on the
// way is recorded in that step, as the spec's single timeline says.
func Run(s *Scenario, opts ...RunOption) Result {
	var cfg runConfig
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.store == nil {
		cfg.store = memory.New()
	}
	r := Result{File: s.File, Name: s.Name}
	eng, err := rules.NewEngine(s.RuleSet)
	if err != nil {
		r.Mismatches = append(r.Mismatches, Mismatch{Label: stepLabel(0, "", ""), Key: "provider",
			Expected: "a rule set the engine accepts", Got: err.Error()})
		return r
	}
	rn := &runner{ctx: context.Background(), w: voucher.NewWallet(eng, cfg.store), now: s.Now}
	for _, in := range s.Wallet {
		rn.ids = append(rn.ids, in.ID)
	}
	rn.grant(&r, s.Wallet, s.Now)
	for _, org := range s.Organizations {
		if err := rn.w.PutOrganization(rn.ctx, org, s.Now); err != nil {
			r.Mismatches = append(r.Mismatches, Mismatch{Label: stepLabel(0, "", ""), Key: yamlx.Join("organizations", org.ID),
				Expected: "stored", Got: errText(err)})
		}
	}
	if !r.Passed() {
		return r
	}
	scale := eng.Currency().Scale()
	for i := range s.Steps {
		c := &checker{r: &r, st: &s.Steps[i], label: s.Steps[i].Label(), scale: scale}
		c.run(rn)
		r.Steps++
	}
	return r
}

// runner is a wallet with the scenario's clock.
type runner struct {
	ctx context.Context
	w   *voucher.Wallet
	now time.Time
	ids []string // the scenario's instruments
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

func (c *checker) run(rn *runner) {
	defer func() {
		if v := recover(); v != nil {
			c.add("error", "no panic", fmt.Sprintf("panic: %v\n%s", v, debug.Stack()))
		}
	}()
	st, e := c.st, &c.st.Expect
	before := rn.snapshot()
	out := rn.do(st)
	if out.err != nil {
		code := voucher.ErrorCode(out.err)
		switch {
		case e.Error == "":
			c.add("error", "no error", errText(out.err))
		case e.Error != code:
			c.add("error", e.Error, errText(out.err))
		default:
			if diff := before.diff(rn.snapshot()); diff != "" {
				c.add("error", "a failed step changes nothing", diff)
			}
		}
		c.wallet(rn)
		return
	}
	if e.Error != "" {
		c.add("error", e.Error, "no error: the step succeeded")
		c.wallet(rn)
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
	c.wallet(rn)
}

// do runs the step's action at its time (the scenario's clock when it gives none),
// then brings every account to that time.
func (rn *runner) do(st *Step) outcome {
	at := rn.now
	if st.At != nil {
		at = *st.At
	}
	if st.Action == ActionSettle {
		at = st.Bill.At()
	}
	if at.Before(rn.now) {
		return outcome{err: fmt.Errorf("%w: %s is before the scenario's clock %s", voucher.ErrClockBackwards,
			at.Format(time.RFC3339Nano), rn.now.Format(time.RFC3339Nano))}
	}
	if st.Action == ActionAdvance {
		// An advance with an at moves the clock to at, then on to its time.
		if st.To.Before(at) {
			from := "the scenario's clock"
			if st.At != nil {
				from = "the step's at"
			}
			return outcome{err: fmt.Errorf("%w: %s is before %s %s", voucher.ErrClockBackwards,
				st.To.Format(time.RFC3339Nano), from, at.Format(time.RFC3339Nano))}
		}
		at = st.To
	}
	ctx, w := rn.ctx, rn.w
	var o outcome
	switch st.Action {
	case ActionQuote:
		o.quote, o.err = w.Quote(ctx, cloneOrder(st.Order), at)
	case ActionCheckout:
		o.quote, o.err = w.Checkout(ctx, cloneOrder(st.Order), at)
	case ActionReserve:
		o.quote, o.err = w.Reserve(ctx, cloneOrder(st.Order), at, st.Hold)
	case ActionCapture:
		o.quote, o.err = w.Capture(ctx, st.OrderID, at)
	case ActionRelease:
		o.clock, o.err = w.Release(ctx, st.OrderID, at)
	case ActionRefund:
		req := st.Refund
		req.Lines = slices.Clone(req.Lines)
		o.refund, o.err = w.Refund(ctx, req, at)
	case ActionActivate:
		_, o.err = w.Activate(ctx, st.Code, st.Account, at)
	case ActionSettle:
		var res *voucher.SettleResult
		if res, o.err = w.Settle(ctx, st.Bill); o.err == nil {
			o.quote = res.Quote
			o.clock = &voucher.ClockResult{At: at, Forfeited: res.Forfeited}
		}
	case ActionSharing:
		o.err = w.SetSharing(ctx, st.Organization, st.Sharing, at)
	case ActionAdvance:
		o.clock = &voucher.ClockResult{At: at, Forfeited: map[string]voucher.Money{}}
	default:
		o.err = fmt.Errorf("scenario: unknown action %q", st.Action)
	}
	if o.err != nil {
		return o
	}
	rest, err := w.Expire(ctx, at)
	if err != nil {
		return outcome{err: err}
	}
	rn.now = at
	switch {
	case o.refund != nil:
		o.refund.Forfeited = merge(o.refund.Forfeited, rest.Forfeited)
	case o.clock != nil:
		o.clock.Forfeited = merge(o.clock.Forfeited, rest.Forfeited)
	}
	return o
}

// merge adds b's amounts to a copy of a.
func merge(a, b map[string]voucher.Money) map[string]voucher.Money {
	out := make(map[string]voucher.Money, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		if old, ok := out[k]; ok {
			v, _ = old.Add(v)
		}
		out[k] = v
	}
	return out
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
	if m.IsUnset() {
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
				c.add(yamlx.Join("applied", k), want.String(), notApplied(q, k))
			case !wok && gok:
				c.add(yamlx.Join("applied", k), "not applied", "applied "+c.fmtMoney(g))
			case !want.Equal(g.Amount()):
				c.add(yamlx.Join("applied", k), want.String(), c.fmtMoney(g))
			}
		}
	}
	for _, k := range sortedKeys(e.Rejected) {
		want := e.Rejected[k]
		if rj, ok := q.Rejected(k); ok {
			if rj.Reason != want {
				c.add(yamlx.Join("rejected", k), string(want), rejectionText(rj))
			}
		} else if a, ok := q.Applied(k); ok {
			c.add(yamlx.Join("rejected", k), string(want), "applied "+c.fmtMoney(a.Amount))
		} else {
			c.add(yamlx.Join("rejected", k), string(want), "not considered")
		}
	}
	c.accounts(q)
	for _, id := range sortedKeys(e.Lines) {
		want := e.Lines[id]
		l, ok := q.Line(id)
		if !ok {
			c.add(yamlx.Join("lines", id), "a line of the quote", "no such line")
			continue
		}
		p := yamlx.Join("lines", id) + "."
		c.amount(p+"discount", want.Discount, l.Discount)
		c.amount(p+"deducted", want.Deducted, l.Deducted)
		c.amount(p+"cash", want.Cash, l.Cash)
		c.amount(p+"invoiceable", want.Invoiceable, l.Invoiceable)
	}
}

// accounts compares a settle's per-account figures; naming an account without a
// charge is a mismatch.
func (c *checker) accounts(q *voucher.Quote) {
	for _, acct := range sortedKeys(c.st.Expect.Accounts) {
		want := c.st.Expect.Accounts[acct]
		i := slices.IndexFunc(q.Accounts, func(a voucher.AccountQuote) bool { return a.Account == acct })
		if i < 0 {
			c.add(yamlx.Join("accounts", acct), "an account with a charge", "no charge of this account")
			continue
		}
		f, p := q.Accounts[i].Figures, yamlx.Join("accounts", acct)+"."
		c.amount(p+"total", want.Total, f.Total)
		c.amount(p+"discount", want.Discount, f.Discount)
		c.amount(p+"deducted", want.Deducted, f.Deducted)
		c.amount(p+"cash", want.Cash, f.Cash)
		c.amount(p+"invoiceable", want.Invoiceable, f.Invoiceable)
		c.amount(p+"non_invoiceable", want.NonInvoiceable, f.NonInvoiceable)
	}
}

func appKey(key, id string) string {
	if key != "" {
		return key
	}
	return id
}

func notApplied(q *voucher.Quote, key string) string {
	if rj, ok := q.Rejected(key); ok {
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
			c.add(yamlx.Join(key, k), w.String(), "nothing")
		case !wok && gok:
			c.add(yamlx.Join(key, k), "nothing", c.fmtMoney(g))
		case !w.Equal(g.Amount()):
			c.add(yamlx.Join(key, k), w.String(), c.fmtMoney(g))
		}
	}
}

func (c *checker) wallet(rn *runner) {
	for _, id := range sortedKeys(c.st.Expect.Wallet) {
		want := c.st.Expect.Wallet[id]
		si, ok, err := rn.w.Instrument(rn.ctx, id)
		if err != nil || !ok {
			c.add(yamlx.Join("wallet", id), "an instrument of the wallet", "no such instrument")
			continue
		}
		in := &si.Instrument
		p := yamlx.Join("wallet", id) + "."
		if want.Balance != nil && !want.Balance.Equal(in.CurrentBalance()) {
			c.add(p+"balance", want.Balance.String(), in.CurrentBalance().StringFixed(c.scale))
		}
		if want.Held != nil && !want.Held.Equal(in.Held) {
			c.add(p+"held", want.Held.String(), in.Held.StringFixed(c.scale))
		}
		if want.Status != "" {
			if st, _ := rn.w.Status(rn.ctx, id, rn.now); st != want.Status {
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

func (rn *runner) snapshot() snapshot {
	s := snapshot{now: rn.now, state: map[string][]string{}}
	if entries, err := rn.w.Ledger(rn.ctx, voucher.LedgerQuery{}); err == nil {
		s.ledger = len(entries)
	}
	for _, id := range rn.ids {
		si, ok, err := rn.w.Instrument(rn.ctx, id)
		if err != nil || !ok {
			continue
		}
		st, _ := rn.w.Status(rn.ctx, id, rn.now)
		s.ids = append(s.ids, id)
		s.state[id] = fingerprint(si.Instrument, st)
	}
	slices.Sort(s.ids)
	return s
}

func fingerprint(in voucher.Instrument, st voucher.Status) []string {
	t := func(v *time.Time) string {
		if v == nil {
			return "-"
		}
		return v.UTC().Format(time.RFC3339Nano)
	}
	return []string{
		"status " + string(st),
		"account " + in.Account,
		"balance " + in.CurrentBalance().String(),
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
				parts = append(parts, fmt.Sprintf("%s: %s -> %s", excerpt.Show(id), a[i], strings.TrimPrefix(b[i], fieldName(b[i]))))
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

// maxGrantFailures is how many of the wallet's refused instruments a run names before
// it stops looking: a run stops at the first refusal anyway.
const maxGrantFailures = 10

// grant grants insts at now in one step. When that is refused it finds the refused
// instruments by halves, granting the parts that are accepted, so that each instrument
// is tried against exactly those before it that were granted (as granting them one by
// one would) without reading a large account once per instrument.
func (rn *runner) grant(r *Result, insts []voucher.Instrument, now time.Time) {
	if len(insts) == 0 || len(r.Mismatches) >= maxGrantFailures {
		return
	}
	err := rn.w.GrantAll(rn.ctx, cloneAll(insts), now)
	if err == nil {
		return
	}
	if len(insts) == 1 {
		r.Mismatches = append(r.Mismatches, Mismatch{Label: stepLabel(0, "", ""), Key: yamlx.Join("wallet", insts[0].ID),
			Expected: "granted", Got: errText(err)})
		return
	}
	half := len(insts) / 2
	rn.grant(r, insts[:half], now)
	rn.grant(r, insts[half:], now)
}

func cloneAll(insts []voucher.Instrument) []voucher.Instrument {
	out := make([]voucher.Instrument, len(insts))
	for i := range insts {
		out[i] = insts[i].Clone()
	}
	return out
}
