package voucher_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/voucherkit/voucherkit/providers"
	"github.com/voucherkit/voucherkit/rules"
	"github.com/voucherkit/voucherkit/store/memory"
	"github.com/voucherkit/voucherkit/voucher"
)

// fzSrc turns fuzz input into choices; when it runs dry every choice is zero.
type fzSrc struct{ b []byte }

func (s *fzSrc) byte() byte {
	if len(s.b) == 0 {
		return 0
	}
	c := s.b[0]
	s.b = s.b[1:]
	return c
}

func (s *fzSrc) intn(n int) int         { return int(s.byte()) % n }
func (s *fzSrc) chance(n int) bool      { return s.intn(n) == 0 }
func (s *fzSrc) pick(o []string) string { return o[s.intn(len(o))] }

// amount returns 0 to 655.35, at 2 decimals mostly, sometimes whole, finer than the
// scale, or very large.
func (s *fzSrc) amount() decimal.Decimal {
	v := int64(s.byte())<<8 | int64(s.byte())
	switch s.intn(16) {
	case 0:
		return decimal.New(v, 0)
	case 1:
		return decimal.New(v, -3)
	case 2:
		return decimal.New(v, 6)
	case 3:
		return decimal.Zero
	}
	return decimal.New(v, -2)
}

// dur returns a step of a clock: mostly forward (minutes, hours, days), sometimes
// none, sometimes backwards.
func (s *fzSrc) dur() time.Duration {
	n := time.Duration(1 + s.intn(48))
	switch s.intn(8) {
	case 0:
		return 0
	case 1:
		return -n * time.Minute
	case 2, 3:
		return n * time.Minute
	case 4, 5:
		return n * time.Hour
	}
	return n * 24 * time.Hour
}

// optTime returns a time near at, or the zero time (0001-01-01, a time like any
// other), or nil.
func (s *fzSrc) optTime(at time.Time, sign time.Duration) *time.Time {
	switch s.intn(16) {
	case 0:
		return &time.Time{}
	case 1, 2, 3, 4, 5, 6, 7:
		return voucher.Ptr(at.Add(sign * s.dur()))
	}
	return nil
}

var (
	fzAccounts   = []string{"a", "a", "a", "b", ""}
	fzProducts   = []string{"ecs", "rds", "oss", "ec2", "s3", "marketplace", "support_enterprise"}
	fzOrderIDs   = []string{"o0", "o1", "o2", "o3", "o4", "h0", "h1", "h2"}
	fzCodes      = []string{"C0", "C1", "C2", "C3"}
	fzRefundKeys = []string{"k0", "k1"}
	fzZones      = []*time.Location{time.UTC, time.FixedZone("UTC+8", 8*3600), time.FixedZone("UTC-8", -8*3600)}
)

func fzInstID(s *fzSrc) string { return fmt.Sprintf("i%d", s.intn(10)) }

// fzInstrument generates an instrument of one of the engine's types, sometimes invalid,
// with optional fields absent, given, or given as their zero value.
func fzInstrument(s *fzSrc, e *rules.Engine, types []string, now time.Time) voucher.Instrument {
	in := voucher.Instrument{ID: fzInstID(s), Type: s.pick(types), Account: s.pick(fzAccounts)}
	if s.chance(32) {
		in.Type = "bogus"
	}
	pol, _ := e.Policy(in.Type)
	if pol.Kind == voucher.Discount {
		fzDiscountValue(s, &in)
	} else {
		fzDeductionValue(s, &in)
	}
	fzConditions(s, &in)
	if s.chance(2) {
		in.ExpiresAt = s.optTime(now, 3)
	}
	if s.chance(4) {
		in.EffectiveAt = s.optTime(now, 1)
	}
	if s.chance(4) {
		in.ClaimedAt = s.optTime(now, -1)
	}
	if s.chance(3) || pol.TypedCode {
		in.Code = s.pick(fzCodes)
		if s.chance(2) {
			in.PendingActivation = true
		}
	}
	if s.chance(4) {
		in.IssuedAt = s.optTime(now, -1)
	}
	if s.chance(16) {
		in.ActivatedAt = s.optTime(now, -1)
	}
	if s.chance(32) {
		in.Currency = []string{"CNY", "USD", "usd"}[s.intn(3)]
	}
	return in
}

// fzDiscountValue generates a discount's value: a percentage (sometimes zero, with or
// without a cap, sometimes with an amount too) or an amount; its redemptions, and
// some used.
func fzDiscountValue(s *fzSrc, in *voucher.Instrument) {
	if s.chance(2) {
		in.PercentOff = voucher.Ptr(decimal.New(int64(1+s.intn(100)), 0))
		if s.chance(16) {
			in.PercentOff = voucher.Ptr(decimal.Zero) // given as zero: invalid
		}
		if s.chance(2) {
			in.MaxDiscount = voucher.Ptr(s.amount()) // zero given is invalid
		}
		if s.chance(16) {
			in.Amount = s.amount() // invalid together with percent_off
		}
	} else {
		in.Amount = s.amount()
	}
	if n := s.intn(5); n < 4 {
		in.MaxRedemptions = voucher.Ptr(n) // 0 given is invalid
	}
	if s.chance(4) {
		in.Redeemed = s.intn(3)
	}
}

// fzDeductionValue generates a deduction's face value and its balance: absent, zero,
// all of it, or a part (or more than all: invalid).
func fzDeductionValue(s *fzSrc, in *voucher.Instrument) {
	in.Amount = s.amount()
	switch s.intn(4) {
	case 0:
		in.Balance = voucher.Ptr(decimal.Zero) // an explicit zero stays zero
	case 1:
		in.Balance = voucher.Ptr(in.Amount.Mul(decimal.New(int64(s.intn(120)), -2)).Round(2)) // may exceed amount: invalid
	case 2:
		in.Balance = voucher.Ptr(in.Amount)
	}
}

// fzConditions generates what an order must be for the instrument to apply, and
// whether it is shared.
func fzConditions(s *fzSrc, in *voucher.Instrument) {
	if s.chance(4) {
		in.MinSpend = voucher.Ptr(s.amount())
	}
	if s.chance(3) {
		in.Products = []string{s.pick(fzProducts)}
		if s.chance(2) {
			in.Products = append(in.Products, s.pick(fzProducts)) // may repeat
		}
	}
	if s.chance(6) {
		in.ExcludeProducts = []string{s.pick(fzProducts)}
	}
	if s.chance(6) {
		in.OrderTypes = []voucher.OrderType{voucher.OrderTypes()[s.intn(6)]}
	}
	if s.chance(6) {
		in.PaymentTypes = []voucher.PaymentType{voucher.PaymentTypes()[s.intn(2)]}
	}
	if s.chance(6) {
		in.FirstPurchaseOnly = voucher.Ptr(s.chance(2))
	}
	if s.chance(8) {
		in.Shared = voucher.Ptr(s.chance(2))
	}
}

// fzOrder generates an order, sometimes invalid or in another currency.
func fzOrder(s *fzSrc) voucher.Order {
	o := voucher.Order{ID: s.pick(fzOrderIDs[:5]), Account: s.pick(fzAccounts[:4]),
		Type: voucher.OrderTypes()[s.intn(6)], Payment: voucher.PaymentTypes()[s.intn(2)],
		FirstPurchase: s.chance(2)}
	if s.chance(2) {
		o.Type, o.Payment = voucher.OrderUsage, voucher.PayAsYouGo // what aws credits cover
	}
	for i, n := 0, 1+s.intn(4); i < n; i++ {
		l := voucher.Line{ID: fmt.Sprintf("l%d", i), Product: s.pick(fzProducts), Amount: s.amount()}
		switch s.intn(64) {
		case 0:
			l.Amount = l.Amount.Neg()
		case 1:
			l.ID = "l0"
		case 2:
			l.Currency = "EUR"
		}
		o.Lines = append(o.Lines, l)
	}
	if s.chance(64) {
		o.Lines = nil
	}
	if s.chance(4) {
		o.Use = []string{} // given and empty: nothing automatic
		for i, n := 0, s.intn(4); i < n; i++ {
			o.Use = append(o.Use, fzInstID(s))
		}
	}
	if s.chance(3) {
		for i, n := 0, 1+s.intn(2); i < n; i++ {
			o.Codes = append(o.Codes, s.pick(fzCodes))
		}
	}
	return o
}

// fzStepCodes are the error codes each step may fail with: the spec's, the API's own
// invalid_instrument (a malformed instrument, an empty account, an operator's bad
// change) and invalid_time (a time outside the years 1 to 9999).
var fzStepCodes = map[string][]string{
	"grant":    {"invalid_instrument", "clock_backwards", "invalid_time"},
	"quote":    {"clock_backwards", "invalid_order", "currency_mismatch", "unknown_instrument", "code_not_found", "invalid_time"},
	"read":     {"clock_backwards", "invalid_time"},
	"checkout": {"clock_backwards", "duplicate_order", "invalid_order", "currency_mismatch", "unknown_instrument", "code_not_found", "invalid_time"},
	"reserve":  {"clock_backwards", "duplicate_order", "invalid_order", "currency_mismatch", "unknown_instrument", "code_not_found", "invalid_time"},
	"capture":  {"clock_backwards", "not_reserved", "invalid_time"},
	"release":  {"clock_backwards", "not_reserved", "invalid_time"},
	"refund":   {"clock_backwards", "unknown_order", "invalid_refund", "already_refunded", "invalid_time"},
	"activate": {"clock_backwards", "code_not_found", "code_already_used", "code_expired", "invalid_instrument", "invalid_time"},
	"advance":  {"clock_backwards", "invalid_time"},
	"expire":   {"invalid_time"},
	"revoke":   {"clock_backwards", "unknown_instrument", "invalid_instrument", "invalid_time"},
	"adjust":   {"clock_backwards", "unknown_instrument", "invalid_instrument", "invalid_time"},
	"extend":   {"clock_backwards", "unknown_instrument", "invalid_instrument", "invalid_time"},
}

// fzArgsFirst are the steps that check some argument before their time.
var fzArgsFirst = map[string]bool{"activate": true, "revoke": true, "adjust": true, "extend": true}

// fzLogLine is one step as the failure message shows it; it is formatted only then.
type fzLogLine struct {
	format string
	args   []any
	err    error
}

func fzLine(format string, args ...any) fzLogLine { return fzLogLine{format: format, args: args} }

func (l fzLogLine) String() string {
	s := fmt.Sprintf(l.format, l.args...)
	if l.err != nil {
		s += " -> " + l.err.Error()
	}
	return s
}

func fzTime(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Format(time.RFC3339Nano)
}

func fzOpt[T any](p *T) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprint(*p)
}

// fzInstText is an instrument's whole state, for comparing and for messages.
func fzInstText(in voucher.Instrument) string {
	return fmt.Sprintf("%s %s acct=%q code=%q cur=%q amt=%s bal=%s held=%s pct=%s max=%s min=%s red=%d/%d/%s pend=%t rev=%t products=%v excl=%v ot=%v pt=%v act=%s eff=%s exp=%s claim=%s iss=%s fpo=%s shared=%s",
		in.ID, in.Type, in.Account, in.Code, in.Currency, in.Amount, fzOpt(in.Balance), in.Held, fzOpt(in.PercentOff), fzOpt(in.MaxDiscount),
		fzOpt(in.MinSpend), in.Redeemed, in.HeldRedemptions, fzOpt(in.MaxRedemptions), in.PendingActivation, in.Revoked,
		in.Products, in.ExcludeProducts, in.OrderTypes, in.PaymentTypes, fzTime(in.ActivatedAt), fzTime(in.EffectiveAt),
		fzTime(in.ExpiresAt), fzTime(in.ClaimedAt), fzTime(in.IssuedAt), fzOpt(in.FirstPurchaseOnly), fzOpt(in.Shared))
}

// fzCheckFigures checks that a quote adds up on every line and in total.
func fzCheckFigures(q *voucher.Quote) error {
	check := func(where string, f voucher.Figures) error {
		if !f.Discount.Amount().Add(f.Deducted.Amount()).Add(f.Cash.Amount()).Equal(f.Total.Amount()) {
			return fmt.Errorf("%s: discount %s + deducted %s + cash %s != total %s", where, f.Discount, f.Deducted, f.Cash, f.Total)
		}
		if !f.Invoiceable.Amount().Add(f.NonInvoiceable.Amount()).Equal(f.Total.Amount().Sub(f.Discount.Amount())) {
			return fmt.Errorf("%s: invoiceable %s + non-invoiceable %s != total %s - discount %s", where, f.Invoiceable, f.NonInvoiceable, f.Total, f.Discount)
		}
		for _, m := range []voucher.Money{f.Total, f.Discount, f.Deducted, f.Cash, f.Invoiceable, f.NonInvoiceable} {
			if m.IsNegative() {
				return fmt.Errorf("%s: negative figure %s", where, m)
			}
		}
		return nil
	}
	if err := check("order", q.Figures); err != nil {
		return err
	}
	sum := [4]decimal.Decimal{}
	for _, l := range q.Lines {
		if err := check("line "+l.LineID, l.Figures); err != nil {
			return err
		}
		sum[0], sum[1] = sum[0].Add(l.Total.Amount()), sum[1].Add(l.Discount.Amount())
		sum[2], sum[3] = sum[2].Add(l.Deducted.Amount()), sum[3].Add(l.Cash.Amount())
	}
	for i, m := range []voucher.Money{q.Total, q.Discount, q.Deducted, q.Cash} {
		if !sum[i].Equal(m.Amount()) {
			return fmt.Errorf("lines add up to %s, the order says %s", sum[i], m)
		}
	}
	for _, a := range q.Applications {
		s := decimal.Zero
		for _, l := range a.Lines {
			if l.Amount.IsNegative() {
				return fmt.Errorf("%s: negative share on %s", a.Key, l.LineID)
			}
			s = s.Add(l.Amount.Amount())
		}
		if !s.Equal(a.Amount.Amount()) || !a.Amount.IsPositive() {
			return fmt.Errorf("%s: split %s does not add up to %s", a.Key, s, a.Amount)
		}
	}
	return nil
}

// fzQuoteDiff describes how two quotes of one order differ in what they charge: figures,
// lines, applications with their per-line splits, and the rejections ("" when equal).
func fzQuoteDiff(a, b *voucher.Quote) string {
	ra, rb := fzRender(a), fzRender(b)
	if ra == rb {
		return ""
	}
	return ra + "\nvs\n  " + rb
}

// fzRender is what a quote charges, as text: figures, lines, applications with their
// splits, rejections, and the order, account and time it is for.
func fzRender(q *voucher.Quote) string {
	if q == nil {
		return "<nil>"
	}
	fig := func(f voucher.Figures) string {
		return fmt.Sprintf("total %s discount %s deducted %s cash %s inv %s non-inv %s",
			f.Total.Format(), f.Discount.Format(), f.Deducted.Format(), f.Cash.Format(), f.Invoiceable.Format(), f.NonInvoiceable.Format())
	}
	out := []string{fmt.Sprintf("order %s account %s at %s: %s", q.OrderID, q.Account, q.At.Format(time.RFC3339Nano), fig(q.Figures))}
	for _, l := range q.Lines {
		out = append(out, "line "+l.LineID+" "+l.Product+" "+fig(l.Figures))
	}
	for _, ap := range q.Applications {
		s := fmt.Sprintf("applied %s key=%s acct=%s %s %s/%s %s inv=%t refund=%s:", ap.InstrumentID, ap.Key, ap.Account, ap.Type, ap.Stage, ap.Kind, ap.Amount.Format(), ap.Invoiceable, ap.Refund)
		for _, l := range ap.Lines {
			s += " " + l.LineID + "=" + l.Amount.Format()
		}
		out = append(out, s)
	}
	for _, r := range q.Rejections {
		out = append(out, fmt.Sprintf("rejected %s key=%s %s", r.InstrumentID, r.Key, r.Reason))
	}
	return strings.Join(out, "\n  ")
}

// fzEngines returns the real aliyun and aws engines with their type names.
func fzEngines(tb testing.TB) ([]*rules.Engine, [][]string) {
	tb.Helper()
	var es []*rules.Engine
	var types [][]string
	for _, name := range []string{"aliyun", "aws"} {
		rs, err := providers.Load(name)
		if err != nil {
			tb.Fatal(err)
		}
		e, err := rules.NewEngine(rs)
		if err != nil {
			tb.Fatal(err)
		}
		es = append(es, e)
		types = append(types, rs.TypeNames())
	}
	return es, types
}

// fzStart is the wallets' usual start: midnight in Shanghai, where aliyun's dates fall.
var fzStart = time.Date(2026, 3, 1, 0, 0, 0, 0, time.FixedZone("UTC+8", 8*3600))

// fzBase picks where a run's clocks start: mostly fzStart; sometimes in the first days
// of year 1 (the zero time is one of them) or the last days of year 9999, in one of
// three zones, so that steps cross the edges of the years voucherkit holds.
func fzBase(s *fzSrc) time.Time {
	zone := fzZones[s.intn(len(fzZones))]
	switch s.intn(8) {
	case 0:
		return time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(s.intn(72)) * time.Hour).In(zone)
	case 1:
		return time.Date(9999, 12, 31, 23, 59, 0, 0, zone).Add(-time.Duration(s.intn(72)) * time.Hour)
	case 2:
		return time.Time{}
	}
	return fzStart
}

// fzInRange reports whether t is within the years 1 to 9999 as voucher.CheckTime
// counts them.
func fzInRange(t time.Time) bool { return voucher.CheckTime(t) == nil }

// FuzzWalletSteps drives a wallet on the in-memory store and the real aliyun and aws
// engines through a byte-driven sequence of steps on accounts "a" and "b" and
// instruments with no owner — grant, quote, read, checkout (sometimes right after a
// quote of the same order), reserve (sometimes with holds that end exactly when an
// instrument expires, several on one instrument), capture, release, refund (with and
// without an idempotency key, repeated), activate, advance, the expiry sweep, revoke,
// adjust and extend — at times near each account's clock, at instruments' expiry
// instants, near the years 1 and 9999 and outside them, with optional fields absent,
// given, and given as zero. It checks that:
//
//   - nothing panics, and every error carries a code the step may fail with; a time
//     outside the years 1 to 9999 is invalid_time, before anything else;
//   - a failed step changes nothing (clocks, instruments, reservations, orders,
//     refunds, ledger), and neither does a quote or a read;
//   - a step on an account before that account's clock fails, and a successful one
//     moves the account's clock to its time; other accounts' clocks do not stop it;
//   - after every step the stronger Verify (VerifyLedger's replay) passes, no balance
//     leaves 0..face value, held stays within the balance, redemptions within theirs,
//     nothing is due on an account up to its own clock, and every stored time can be
//     written as JSON;
//   - after the sweep nothing is due up to its time;
//   - every quote adds up; a checkout right after a quote of the same order at the same
//     time charges what the quote said, a capture what the reservation priced; a
//     repeated refund with its key returns the first result and changes nothing;
//     quotes once returned, and the quotes committed orders keep, never change later.
func FuzzWalletSteps(f *testing.F) {
	engines, typeLists := fzEngines(f)
	files := fzSeedFiles(f, "../providers/testdata/aliyun/*.yaml", "../providers/testdata/aws/*.yaml", "../testdata/conformance/*.yaml")
	for _, name := range fzSortedKeys(files) {
		f.Add(files[name])
	}
	for _, seed := range [][]byte{{}, {1}, {0, 0, 0, 0, 1, 1, 2, 2}, []byte("voucherkit"),
		{0, 2, 0, 3, 50, 0, 0, 0, 0, 2, 9, 1, 1, 5, 1, 1, 3, 0, 0, 0, 0, 4, 1, 6, 0, 8, 200},
		{1, 0, 0, 1, 40, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 7, 3, 0, 0, 2, 1, 7, 1},
		// Near year 1, and near 9999, with steps that cross the edge.
		{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 14, 1, 1, 10, 10, 10, 10, 10, 10},
		{0, 1, 3, 0, 0, 0, 0, 0, 0, 0, 0, 11, 11, 11, 11, 11, 11, 6, 6, 6, 6},
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// A step that never returns would stall the fuzzer without a trace: turn it into
		// a crash, which the fuzzer records as a crasher with its input.
		done := make(chan struct{})
		defer close(done)
		go func() {
			select {
			case <-done:
			case <-time.After(fzHangLimit):
				panic(fmt.Sprintf("FuzzWalletSteps: one input ran longer than %v: %x", fzHangLimit, data))
			}
		}()
		r := &fzRun{t: t, s: &fzSrc{b: data}, committed: map[string]string{}, reserved: map[string]*voucher.Quote{},
			refunds: map[[2]string]fzRefund{}}
		k := r.s.intn(len(engines))
		r.e, r.types = engines[k], typeLists[k]
		r.st = memory.New()
		r.w = voucher.NewWallet(r.e, r.st)
		r.base = fzBase(r.s)
		r.run()
	})
}

// fzHangLimit is far more than any input needs (milliseconds).
const fzHangLimit = 20 * time.Second

// fzRun is one run of FuzzWalletSteps.
type fzRun struct {
	t     *testing.T
	s     *fzSrc
	e     *rules.Engine
	types []string
	st    *memory.Store
	w     *voucher.Wallet
	base  time.Time
	log   []fzLogLine

	reserved map[string]*voucher.Quote
	// Quotes returned to the caller, with their text when returned: the wallet must
	// never change them afterwards.
	returned  []fzKept
	committed map[string]string // order id -> its quote's text when committed
	refunds   map[[2]string]fzRefund
	// lastReserved and lastCommitted are the orders captures, releases and refunds
	// mostly reach.
	lastReserved, lastCommitted string
	// stats counts what the run reached, when not nil (TestWalletStepsReachTheEdges).
	stats map[string]int
	// holdsLeft holds until holdOn expires are still to be reserved (see case 13).
	holdOn    string
	holdsLeft int
	// last is the state after the last step, the next step's before.
	last fzState
}

func (r *fzRun) count(what string) {
	if r.stats != nil {
		r.stats[what]++
	}
}

type fzKept struct {
	q    *voucher.Quote
	text string
}

// fzRefund is a keyed refund that succeeded: its request and result.
type fzRefund struct {
	req voucher.RefundRequest
	res string
}

func (r *fzRun) fail(format string, a ...any) {
	r.t.Helper()
	lines := make([]string, len(r.log))
	for i, l := range r.log {
		lines[i] = l.String()
	}
	r.t.Fatalf("engine %s, start %s, steps:\n  %s\n%s", r.e.RuleSet().Name, r.base.Format(time.RFC3339), strings.Join(lines, "\n  "), fmt.Sprintf(format, a...))
}

// snapshot is everything a failed step must leave as it was (see snapshotOf), and the
// refunds made with a key.
func (r *fzRun) snapshot() fzState {
	st := fzState{w: snapshotOf(r.t, r.st), refunds: map[[2]string]string{}}
	err := r.st.View(ctx, func(ctx context.Context, tx voucher.Tx) error {
		for _, id := range fzOrderIDs {
			for _, k := range fzRefundKeys {
				rec, ok, err := tx.Refund(ctx, id, k)
				if err != nil {
					return err
				}
				if ok {
					st.refunds[[2]string{id, k}] = fmt.Sprintf("%+v", rec)
				}
			}
		}
		return nil
	})
	if err != nil {
		r.fail("snapshot: %v", err)
	}
	return st
}

type fzState struct {
	w       walletState
	refunds map[[2]string]string
}

func (a fzState) diff(b fzState) string {
	if reflect.DeepEqual(a, b) {
		return ""
	}
	var parts []string
	if !reflect.DeepEqual(a.w.clocks, b.w.clocks) {
		parts = append(parts, fmt.Sprintf("clocks %v -> %v", a.w.clocks, b.w.clocks))
	}
	if !reflect.DeepEqual(a.w.insts, b.w.insts) {
		var ta, tb []string
		for _, si := range a.w.insts {
			ta = append(ta, fmt.Sprintf("%s expires=%s used=%t expired=%t", fzInstText(si.Instrument), fzTime(si.Expires), si.Used, si.Expired))
		}
		for _, si := range b.w.insts {
			tb = append(tb, fmt.Sprintf("%s expires=%s used=%t expired=%t", fzInstText(si.Instrument), fzTime(si.Expires), si.Used, si.Expired))
		}
		parts = append(parts, fmt.Sprintf("instruments\n  %s\n->\n  %s", strings.Join(ta, "\n  "), strings.Join(tb, "\n  ")))
	}
	if !reflect.DeepEqual(a.w.ledger, b.w.ledger) {
		parts = append(parts, fmt.Sprintf("ledger %d -> %d entries", len(a.w.ledger), len(b.w.ledger)))
	}
	if !reflect.DeepEqual(a.w.resv, b.w.resv) {
		parts = append(parts, fmt.Sprintf("reservations %d -> %d", len(a.w.resv), len(b.w.resv)))
	}
	if !reflect.DeepEqual(a.w.orders, b.w.orders) {
		parts = append(parts, fmt.Sprintf("orders %d -> %d", len(a.w.orders), len(b.w.orders)))
	}
	if !reflect.DeepEqual(a.refunds, b.refunds) {
		parts = append(parts, fmt.Sprintf("refunds %v -> %v", a.refunds, b.refunds))
	}
	if len(parts) == 0 {
		parts = append(parts, "(a difference reflect.DeepEqual sees in the state)")
	}
	return strings.Join(parts, "; ")
}

// clock is account's clock, or the run's start when it has never stepped.
func (r *fzRun) clock(st fzState, account string) time.Time {
	if c, ok := st.w.clocks[account]; ok {
		return c
	}
	return r.base
}

// stepTime picks the time of a step on account: mostly near its clock; sometimes the
// instant an instrument expires or a hold ends; sometimes outside the years 1 to 9999.
func (r *fzRun) stepTime(st fzState, account string) time.Time {
	now := r.clock(st, account)
	s := r.s
	switch s.intn(12) {
	case 0, 1, 2:
		return now.Add(time.Duration(s.intn(40)) * time.Minute) // within a hold
	case 3:
		var edges []time.Time
		for _, si := range st.w.insts {
			if si.Expires != nil {
				edges = append(edges, *si.Expires)
			}
		}
		for _, rv := range st.w.resv {
			edges = append(edges, rv.Until)
		}
		if len(edges) > 0 {
			return edges[s.intn(len(edges))].Add(time.Duration(s.intn(3)-1) * time.Nanosecond)
		}
	case 4:
		if s.chance(2) {
			return time.Date(0, 12, 31, 23, 0, 0, 0, time.UTC)
		}
		return time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return now.Add(s.dur())
}

func (r *fzRun) run() {
	s := r.s
	before := r.snapshot()
	for n := 0; n < 64 && len(s.b) > 0; n++ {
		if n > 0 {
			before = r.last
		}
		op, account, at, q, err := r.step(before)
		if len(r.log) > 0 && err != nil {
			r.log[len(r.log)-1].err = err
		}
		after := r.snapshot()
		r.countStep(op, at, err)
		if err != nil {
			r.checkFailed(op, at, err, before, after)
		} else {
			r.checkSucceeded(op, account, at, q, before, after)
		}
		r.check(op, after)
		r.last = after
		if n%8 == 7 || len(s.b) == 0 {
			r.checkKept(op)
		}
	}
}

// countStep counts a step: failed with its error code, or done, in year 1 or 9999.
func (r *fzRun) countStep(op string, at time.Time, err error) {
	if err != nil {
		r.count(op + " failed")
		r.count("error " + voucher.ErrorCode(err))
		return
	}
	r.count(op)
	switch y := at.Year(); {
	case y == 1:
		r.count("step in year 1")
	case y == 9999:
		r.count("step in year 9999")
	}
}

// checkFailed checks a step that failed: with a code op may fail with, invalid_time
// for a time outside the years 1 to 9999, and changing nothing.
func (r *fzRun) checkFailed(op string, at time.Time, err error, before, after fzState) {
	code := voucher.ErrorCode(err)
	if !slices.Contains(fzStepCodes[op], code) {
		r.fail("%s failed with code %q, not one it may fail with (%v): %v", op, code, fzStepCodes[op], err)
	}
	// A time outside the years 1 to 9999 is invalid_time, unless an argument the
	// step checks before its time is wrong too (an empty account or reason, an
	// unknown instrument, a bad new expiry).
	if !fzInRange(at) && code != "invalid_time" && !fzArgsFirst[op] {
		r.fail("%s at %s failed with %s, want invalid_time", op, at, code)
	}
	if d := before.diff(after); d != "" {
		r.fail("failed %s changed the wallet: %s", op, d)
	}
}

// checkSucceeded checks a step that succeeded: at a time within the years 1 to 9999,
// not before its account's clock, which it moves to its time; a quote or a read
// changes nothing; the quote it returned adds up, and is kept to check later that it
// never changes (with the committed quote of a checkout or capture).
func (r *fzRun) checkSucceeded(op string, account *string, at time.Time, q *voucher.Quote, before, after fzState) {
	if !fzInRange(at) {
		r.fail("%s at %s, outside the years 1 to 9999, succeeded", op, at)
	}
	if account != nil {
		old, had := before.w.clocks[*account]
		if had && at.Before(old) {
			r.fail("%s on account %q at %s, before its clock %s, succeeded", op, *account, fzTime(&at), fzTime(&old))
		}
		if now, ok := after.w.clocks[*account]; !ok || !now.Equal(at) {
			r.fail("after %s at %s, account %q's clock is %s", op, fzTime(&at), *account, fzTime(&now))
		}
	}
	if op == "quote" || op == "read" {
		if d := before.diff(after); d != "" {
			r.fail("a %s changed the wallet: %s", op, d)
		}
	}
	if q == nil {
		return
	}
	if err := fzCheckFigures(q); err != nil {
		r.fail("%s: quote does not add up: %v", op, err)
	}
	r.returned = append(r.returned, fzKept{q, fzRender(q)})
	if len(r.returned) > 6 {
		r.returned = r.returned[1:]
	}
	if op == "checkout" || op == "capture" {
		r.committed[q.OrderID] = fzRender(q)
	}
}

// check checks the invariants that hold after every step (see checkValues, checkDue
// and checkTimes), and counts the edges st reached.
func (r *fzRun) check(op string, st fzState) {
	if err := r.w.Verify(ctx); err != nil {
		r.fail("after %s: Verify: %v", op, err)
	}
	r.checkValues(op, st)
	r.checkDue(op, st)
	if r.stats != nil {
		r.countEdges(st)
	}
	r.checkTimes(op, st)
}

// checkValues checks that every instrument is of a known type, and that no balance
// leaves 0..face value, held stays within the balance and redemptions within theirs.
func (r *fzRun) checkValues(op string, st fzState) {
	for _, si := range st.w.insts {
		in := si.Instrument
		pol, ok := r.e.Policy(in.Type)
		if !ok {
			r.fail("instrument %s of unknown type %s was granted", in.ID, in.Type)
		}
		if pol.Kind == voucher.Deduction {
			bal := in.CurrentBalance()
			if bal.IsNegative() || in.Held.IsNegative() || in.Held.GreaterThan(bal) || bal.GreaterThan(in.Amount) {
				r.fail("after %s: %s has amount %s balance %s held %s", op, in.ID, in.Amount, bal, in.Held)
			}
		} else if in.Redeemed < 0 || in.HeldRedemptions < 0 || in.Redeemed+in.HeldRedemptions > in.Redemptions() {
			r.fail("after %s: %s has %d redeemed + %d held of %d", op, in.ID, in.Redeemed, in.HeldRedemptions, in.Redemptions())
		}
	}
}

// checkDue checks that what is due on an account up to its own clock has been recorded.
func (r *fzRun) checkDue(op string, st fzState) {
	err := r.st.View(ctx, func(ctx context.Context, tx voucher.Tx) error {
		for a, c := range st.w.clocks {
			due, err := tx.Due(ctx, c, a, 1)
			if err != nil {
				return err
			}
			if len(due) > 0 && due[0] == a {
				r.fail("after %s: account %q has something due by its clock %s that was not recorded", op, a, fzTime(&c))
			}
		}
		return nil
	})
	if err != nil {
		r.fail("due: %v", err)
	}
}

// countEdges counts the edges st shows: several holds on one instrument, a hold that
// ended after its instrument expired, an optional field given as zero and kept.
func (r *fzRun) countEdges(st fzState) {
	held := map[string]int{}
	for _, rv := range st.w.resv {
		for _, a := range rv.Quote.Applications {
			held[a.InstrumentID]++
		}
	}
	for _, n := range held {
		if n > 1 {
			r.count("several holds on one instrument")
		}
	}
	for _, e := range st.w.ledger {
		if e.Kind == voucher.EntryExpire && e.Order != "" {
			r.count("hold ended after its instrument expired")
		}
	}
	for _, si := range st.w.insts {
		in := si.Instrument
		if in.Balance != nil && in.Balance.IsZero() || in.MinSpend != nil && in.MinSpend.IsZero() ||
			in.IssuedAt != nil && in.IssuedAt.IsZero() || in.ExpiresAt != nil && in.ExpiresAt.IsZero() ||
			in.EffectiveAt != nil && in.EffectiveAt.IsZero() || in.ClaimedAt != nil && in.ClaimedAt.IsZero() {
			r.count("zero given and kept")
		}
	}
}

// checkTimes checks that every stored time is within the years 1 to 9999, so that a
// store that persists can write it (RFC 3339, JSON).
func (r *fzRun) checkTimes(op string, st fzState) {
	times := func(what string, ts ...*time.Time) {
		for _, t := range ts {
			if t != nil && !fzInRange(*t) {
				r.fail("after %s: %s %s is outside the years 1 to 9999", op, what, t.Format(time.RFC3339Nano))
			}
		}
	}
	for a, c := range st.w.clocks {
		times("the clock of account "+a, &c)
	}
	for _, si := range st.w.insts {
		in := si.Instrument
		times("a time of instrument "+in.ID, si.Expires, in.IssuedAt, in.EffectiveAt, in.ExpiresAt, in.ClaimedAt, in.ActivatedAt)
	}
	for i := range st.w.ledger {
		times("a ledger entry's time", &st.w.ledger[i].At)
	}
	for i := range st.w.resv {
		rv := &st.w.resv[i]
		times("a time of reservation "+rv.OrderID, &rv.At, &rv.Until, &rv.Quote.At)
	}
	for i := range st.w.orders {
		o := &st.w.orders[i]
		times("a time of order "+o.ID, &o.At, &o.Quote.At)
	}
}

// checkKept checks that no quote returned earlier and no committed order has changed.
func (r *fzRun) checkKept(op string) {
	r.t.Helper()
	for _, k := range r.returned {
		if now := fzRender(k.q); now != k.text {
			r.fail("after %s, a quote returned earlier has changed:\n  %s\nto\n  %s", op, k.text, now)
		}
	}
	for id, text := range r.committed {
		rec, ok, err := r.w.Order(ctx, id)
		if err != nil || !ok {
			r.fail("committed order %s is gone: %v", id, err)
		}
		if now := fzRender(rec.Quote); now != text {
			r.fail("after %s, the committed quote of %s is\n  %s\nnot what was committed:\n  %s", op, id, now, text)
		}
	}
}

// orderID is mostly the order the last reserve (or checkout) was about, so that
// captures, releases and refunds reach the orders that exist.
func (r *fzRun) orderID(last string) string {
	if last != "" && !r.s.chance(4) {
		return last
	}
	return r.s.pick(fzOrderIDs)
}

// instID is mostly an instrument the store has.
func (r *fzRun) instID(st fzState) string {
	if len(st.w.insts) > 0 && !r.s.chance(8) {
		return st.w.insts[r.s.intn(len(st.w.insts))].ID()
	}
	return fzInstID(r.s)
}

// accountOf returns the account a step on order id would lock: its reservation's or
// its committed order's; nil when the wallet has neither.
func accountOf(st fzState, id string) *string {
	for _, rv := range st.w.resv {
		if rv.OrderID == id {
			return &rv.Account
		}
	}
	for _, o := range st.w.orders {
		if o.ID == id {
			return &o.Account
		}
	}
	return nil
}

// step runs one step and returns what it was, the account whose clock it moves (nil:
// none, or not one the run can tell beforehand), its time, its error and its quote.
func (r *fzRun) step(st fzState) (op string, account *string, at time.Time, q *voucher.Quote, err error) {
	s := r.s
	if r.holdsLeft > 0 {
		// The holds that follow a grant for holds: each ends when the instrument expires.
		r.holdsLeft--
		for _, si := range st.w.insts {
			if si.ID() == r.holdOn && si.Expires != nil {
				at := r.stepTime(st, si.Account())
				if s.chance(2) {
					at = r.clock(st, si.Account())
				}
				return r.holdUntilExpiry(si, at)
			}
		}
	}
	switch s.intn(16) {
	case 0, 1:
		return r.grant(st)
	case 2:
		return r.quote(st)
	case 3:
		return r.read(st)
	case 4, 5:
		return r.checkout(st)
	case 6:
		return r.reserve(st)
	case 7:
		return r.captureOrRelease(st)
	case 8:
		return r.refund(st)
	case 9:
		return r.activate(st)
	case 10, 11:
		return r.advance(st)
	case 12:
		return r.expire(st)
	case 13:
		return r.grantForHolds(st)
	default:
		return r.operate(st)
	}
}

// grant grants a generated instrument, on its owner's account (none for a typed-in
// code or one waiting for activation).
func (r *fzRun) grant(st fzState) (string, *string, time.Time, *voucher.Quote, error) {
	in := fzInstrument(r.s, r.e, r.types, r.clock(st, "a"))
	acct := in.Account
	if pol, ok := r.e.Policy(in.Type); ok && (pol.TypedCode || in.PendingActivation) {
		acct = ""
	}
	at := r.stepTime(st, acct)
	r.log = append(r.log, fzLine("grant at %s %s", fzTime(&at), fzInstText(in)))
	err := r.w.Grant(ctx, in, at)
	return "grant", &acct, at, nil, err
}

// quote quotes a generated order.
func (r *fzRun) quote(st fzState) (string, *string, time.Time, *voucher.Quote, error) {
	o := fzOrder(r.s)
	at := r.stepTime(st, o.Account)
	r.log = append(r.log, fzLine("quote at %s %+v", fzTime(&at), o))
	q, err := r.w.Quote(ctx, o, at)
	return "quote", nil, at, q, err
}

// read lists an account's instruments; each listed must be the account's, with a
// valid status.
func (r *fzRun) read(st fzState) (string, *string, time.Time, *voucher.Quote, error) {
	acct := r.s.pick(fzAccounts[:4])
	at := r.stepTime(st, acct)
	r.log = append(r.log, fzLine("instruments of %q at %s", acct, fzTime(&at)))
	vs, err := r.w.Instruments(ctx, acct, at)
	for _, v := range vs {
		if v.Account() != acct || !v.Status.Valid() {
			r.fail("Instruments(%q) listed %s of %q, status %q", acct, v.ID(), v.Account(), v.Status)
		}
	}
	return "read", nil, at, nil, err
}

// checkout checks out a generated order, sometimes right after a quote of it at the
// same time: the checkout must charge what that quote said.
func (r *fzRun) checkout(st fzState) (string, *string, time.Time, *voucher.Quote, error) {
	s, w := r.s, r.w
	o := fzOrder(s)
	at := r.stepTime(st, o.Account)
	var pre *voucher.Quote
	if s.chance(2) {
		if pq, perr := w.Quote(ctx, o, at); perr == nil {
			pre = pq
		}
	}
	r.log = append(r.log, fzLine("checkout at %s (quoted first: %t) %+v", fzTime(&at), pre != nil, o))
	q, err := w.Checkout(ctx, o, at)
	if err == nil {
		r.lastCommitted = o.ID
		if pre != nil {
			if d := fzQuoteDiff(pre, q); d != "" {
				r.fail("checkout differs from the quote just before:\n  %s", d)
			}
		}
	}
	return "checkout", &o.Account, at, q, err
}

// reserve reserves a generated order, or, sometimes, holds an instrument of the
// account until it expires.
func (r *fzRun) reserve(st fzState) (string, *string, time.Time, *voucher.Quote, error) {
	s := r.s
	o := fzOrder(s)
	at := r.stepTime(st, o.Account)
	hold := time.Duration(s.intn(180)) * time.Minute
	if s.chance(2) {
		// A hold that ends exactly when an instrument of the account expires.
		var exp []voucher.StoredInstrument
		for _, si := range st.w.insts {
			if si.Account() == o.Account && si.Expires != nil && si.Expires.After(at) && si.Kind == voucher.Deduction {
				exp = append(exp, si)
			}
		}
		if len(exp) > 0 {
			return r.holdUntilExpiry(exp[s.intn(len(exp))], at)
		}
	}
	r.log = append(r.log, fzLine("reserve at %s hold %v (until %s) %+v", fzTime(&at), hold, at.Add(hold).Format(time.RFC3339Nano), o))
	q, err := r.w.Reserve(ctx, o, at, hold)
	if err == nil {
		r.reserved[o.ID] = q
		r.lastReserved = o.ID
	}
	return "reserve", &o.Account, at, q, err
}

// captureOrRelease captures (charging what the reservation priced) or releases an
// order, mostly the one reserved last.
func (r *fzRun) captureOrRelease(st fzState) (string, *string, time.Time, *voucher.Quote, error) {
	s, w := r.s, r.w
	id := r.orderID(r.lastReserved)
	account := accountOf(st, id)
	acct := ""
	if account != nil {
		acct = *account
	}
	at := r.stepTime(st, acct)
	if s.chance(2) {
		r.log = append(r.log, fzLine("capture %s at %s", id, fzTime(&at)))
		q, err := w.Capture(ctx, id, at)
		if err == nil {
			r.lastCommitted = id
			if d := fzQuoteDiff(r.reserved[id], q); r.reserved[id] == nil || d != "" {
				r.fail("capture differs from the reservation:\n  %s", d)
			}
		}
		return "capture", account, at, q, err
	}
	r.log = append(r.log, fzLine("release %s at %s", id, fzTime(&at)))
	res, err := w.Release(ctx, id, at)
	if err == nil {
		r.checkForfeited(res.Forfeited)
	}
	return "release", account, at, nil, err
}

// activate activates a code for an account, mostly one waiting for activation.
func (r *fzRun) activate(st fzState) (string, *string, time.Time, *voucher.Quote, error) {
	s := r.s
	code, acct := s.pick(fzCodes), s.pick(fzAccounts)
	if !s.chance(3) {
		for _, si := range st.w.insts {
			if si.Instrument.PendingActivation {
				code = si.Instrument.Code
				break
			}
		}
	}
	at := r.stepTime(st, acct)
	r.log = append(r.log, fzLine("activate %s for %q at %s", code, acct, fzTime(&at)))
	_, err := r.w.Activate(ctx, code, acct, at)
	return "activate", &acct, at, nil, err
}

// advance moves an account's clock.
func (r *fzRun) advance(st fzState) (string, *string, time.Time, *voucher.Quote, error) {
	acct := r.s.pick(fzAccounts)
	at := r.stepTime(st, acct)
	r.log = append(r.log, fzLine("advance %q to %s", acct, fzTime(&at)))
	res, err := r.w.Advance(ctx, acct, at)
	if err == nil {
		r.checkForfeited(res.Forfeited)
	}
	return "advance", &acct, at, nil, err
}

// expire runs the expiry sweep; after it nothing is due up to its time.
func (r *fzRun) expire(st fzState) (string, *string, time.Time, *voucher.Quote, error) {
	at := r.stepTime(st, r.s.pick(fzAccounts))
	r.log = append(r.log, fzLine("expire up to %s", fzTime(&at)))
	res, err := r.w.Expire(ctx, at)
	if err == nil {
		r.checkForfeited(res.Forfeited)
		verr := r.st.View(ctx, func(ctx context.Context, tx voucher.Tx) error {
			due, err := tx.Due(ctx, at, "", 0)
			if err == nil && len(due) > 0 {
				r.fail("after the sweep up to %s, accounts %q still have something due", fzTime(&at), due)
			}
			return err
		})
		if verr != nil {
			r.fail("due: %v", verr)
		}
	}
	return "expire", nil, at, nil, err
}

// grantForHolds grants an instrument to hold until it expires: a deduction with an
// expiry, granted at its account's clock; the next steps reserve one to three holds
// that end exactly when it expires.
func (r *fzRun) grantForHolds(st fzState) (string, *string, time.Time, *voucher.Quote, error) {
	s := r.s
	acct := s.pick(fzAccounts[:4])
	now := r.clock(st, acct)
	typ := "voucher"
	if r.e.RuleSet().Name == "aws" {
		typ = "credit"
	}
	in := voucher.Instrument{ID: fzInstID(s), Type: typ, Account: acct, Amount: decimal.New(int64(100+s.intn(250)*100), -2),
		ExpiresAt: voucher.Ptr(now.Add(time.Duration(1+s.intn(48)) * time.Hour))}
	r.log = append(r.log, fzLine("grant for holds at %s %s", fzTime(&now), fzInstText(in)))
	err := r.w.Grant(ctx, in, now)
	if err == nil {
		r.holdOn, r.holdsLeft = in.ID, 1+s.intn(3)
	}
	return "grant", &acct, now, nil, err
}

// holdUntilExpiry reserves a little of instrument si with a hold that ends exactly
// when it expires (order ids h0, h1, h2), on an order its type covers.
func (r *fzRun) holdUntilExpiry(si voucher.StoredInstrument, at time.Time) (string, *string, time.Time, *voucher.Quote, error) {
	s := r.s
	acct := si.Account()
	o := voucher.Order{ID: fzOrderIDs[5+s.intn(3)], Account: acct, Use: []string{si.ID()},
		Type: voucher.OrderRenewal, Payment: voucher.PaySubscription}
	product := "ecs"
	if r.e.RuleSet().Name == "aws" {
		// aws credits pay usage bills
		o.Type, o.Payment, product = voucher.OrderUsage, voucher.PayAsYouGo, "ec2"
	}
	if len(si.Instrument.Products) > 0 {
		product = si.Instrument.Products[0]
	}
	o.Lines = []voucher.Line{{ID: "l0", Product: product, Amount: decimal.New(int64(1+s.intn(2000)), -2)}}
	hold := si.Expires.Sub(at)
	r.log = append(r.log, fzLine("reserve at %s hold %v until %s expires (%s) %+v", fzTime(&at), hold, si.ID(), fzTime(si.Expires), o))
	q, err := r.w.Reserve(ctx, o, at, hold)
	if err == nil {
		r.reserved[o.ID] = q
		r.lastReserved = o.ID
		if len(q.Applications) > 0 && hold > 0 {
			r.count("hold until an expiry")
		}
	}
	return "reserve", &acct, at, q, err
}

func (r *fzRun) checkForfeited(m map[string]voucher.Money) {
	if m == nil {
		r.fail("forfeited is nil, want an empty map")
	}
	for id, v := range m {
		if !v.IsPositive() {
			r.fail("forfeited %s of %s: only amounts above zero are listed", v, id)
		}
	}
}

// refund runs a refund, with a key one time in two; a refund made with a key is asked
// again, the same, and must return the same result and change nothing.
func (r *fzRun) refund(st fzState) (string, *string, time.Time, *voucher.Quote, error) {
	s := r.s
	req := voucher.RefundRequest{OrderID: r.orderID(r.lastCommitted)}
	switch s.intn(4) {
	case 0:
		req.Lines = []string{}
		for i, n := 0, s.intn(4); i < n; i++ {
			req.Lines = append(req.Lines, fmt.Sprintf("l%d", s.intn(5)))
		}
	case 1:
		req.Consumed = voucher.Ptr(s.amount())
		if s.chance(8) {
			req.Consumed = voucher.Ptr(req.Consumed.Neg())
		}
	}
	if s.chance(2) {
		req.Key = s.pick(fzRefundKeys)
	}
	account := accountOf(st, req.OrderID)
	acct := ""
	if account != nil {
		acct = *account
	}
	at := r.stepTime(st, acct)
	r.log = append(r.log, fzLine("refund at %s %+v consumed %s", fzTime(&at), req, fzOpt(req.Consumed)))
	prior, repeated := r.refunds[[2]string{req.OrderID, req.Key}]
	res, err := r.w.Refund(ctx, req, at)
	if err != nil {
		return "refund", account, at, nil, err
	}
	if res.CashRefund.IsNegative() {
		r.fail("negative cash refund %s", res.CashRefund)
	}
	r.checkForfeited(res.Forfeited)
	for id, m := range res.Restored {
		if !m.IsPositive() {
			r.fail("restored %s to %s: only amounts above zero are listed", m, id)
		}
	}
	if req.Key == "" {
		return "refund", account, at, nil, nil
	}
	text := fmt.Sprintf("%+v", *res)
	if repeated {
		r.count("refund repeated with its key")
		if text != prior.res {
			r.fail("refund repeated with key %q returned\n  %s\nnot the first result\n  %s", req.Key, text, prior.res)
		}
		// A repeated refund changes nothing, whatever its time: not even the clock.
		return "refund", nil, at, nil, nil
	}
	r.refunds[[2]string{req.OrderID, req.Key}] = fzRefund{req: req, res: text}
	// Ask again: the same result, and nothing changes.
	r.count("keyed refund asked again")
	before := r.snapshot()
	again, err := r.w.Refund(ctx, req, at)
	if err != nil || fmt.Sprintf("%+v", *again) != text {
		r.fail("refund asked again with key %q: %v, %+v, want %s", req.Key, err, again, text)
	}
	if d := before.diff(r.snapshot()); d != "" {
		r.fail("refund asked again with key %q changed the wallet: %s", req.Key, d)
	}
	return "refund", account, at, nil, nil
}

// operate runs an operator's change: revoke, adjust or extend, with or without a reason.
func (r *fzRun) operate(st fzState) (string, *string, time.Time, *voucher.Quote, error) {
	s := r.s
	id := r.instID(st)
	var account *string
	for _, si := range st.w.insts {
		if si.ID() == id {
			a := si.Account()
			account = &a
		}
	}
	acct := ""
	if account != nil {
		acct = *account
	}
	at := r.stepTime(st, acct)
	reason := "fuzz"
	if s.chance(8) {
		reason = ""
	}
	var op string
	var err error
	switch s.intn(3) {
	case 0:
		op = "revoke"
		r.log = append(r.log, fzLine("revoke %s at %s (%q)", id, fzTime(&at), reason))
		err = r.w.Revoke(ctx, id, at, reason)
	case 1:
		op = "adjust"
		delta := s.amount()
		if s.chance(2) {
			delta = delta.Neg()
		}
		r.log = append(r.log, fzLine("adjust %s by %s at %s (%q)", id, delta, fzTime(&at), reason))
		err = r.w.Adjust(ctx, id, delta, at, reason)
	default:
		op = "extend"
		to := at.Add(s.dur() * 4)
		switch s.intn(6) {
		case 0:
			to = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
		case 1:
			to = at
		}
		r.log = append(r.log, fzLine("extend %s to %s at %s (%q)", id, fzTime(&to), fzTime(&at), reason))
		err = r.w.Extend(ctx, id, to, at, reason)
	}
	if err == nil && reason == "" {
		r.fail("%s without a reason succeeded", op)
	}
	return op, account, at, nil, err
}

// TestWalletStepsReachTheEdges runs FuzzWalletSteps' body over fixed pseudo-random
// inputs and checks that they reach what the fuzz target is for: holds that end when
// their instrument expires (several on one instrument), steps in the years 1 and 9999
// and refused outside them, zero values given and kept, operators' changes, the sweep,
// repeated keyed refunds. A generator that stops reaching them fails here, instead of
// the fuzz target passing without testing them.
func TestWalletStepsReachTheEdges(t *testing.T) {
	engines, typeLists := fzEngines(t)
	stats := map[string]int{}
	rng := rand.New(rand.NewPCG(20261130, 10))
	for i := 0; i < 600; i++ {
		data := make([]byte, 100+rng.IntN(300))
		for k := range data {
			data[k] = byte(rng.UintN(256))
		}
		r := &fzRun{t: t, s: &fzSrc{b: data}, committed: map[string]string{}, reserved: map[string]*voucher.Quote{},
			refunds: map[[2]string]fzRefund{}, stats: stats}
		k := r.s.intn(len(engines))
		r.e, r.types = engines[k], typeLists[k]
		r.st = memory.New()
		r.w = voucher.NewWallet(r.e, r.st)
		r.base = fzBase(r.s)
		r.run()
		if t.Failed() {
			t.Fatalf("input %d: %x", i, data)
		}
	}
	t.Logf("reached: %v", stats)
	for _, what := range []string{"hold until an expiry", "several holds on one instrument", "hold ended after its instrument expired",
		"step in year 1", "step in year 9999", "error invalid_time", "zero given and kept", "revoke", "adjust", "extend",
		"expire", "keyed refund asked again", "capture", "release", "activate", "refund", "checkout", "error clock_backwards"} {
		if stats[what] < 5 {
			t.Errorf("%q reached %d times", what, stats[what])
		}
	}
}
