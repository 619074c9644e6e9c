package scenario

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/shopspring/decimal"
	"go.yaml.in/yaml/v3"

	"github.com/voucherkit/voucherkit/internal/excerpt"
	"github.com/voucherkit/voucherkit/internal/yamlx"
	"github.com/voucherkit/voucherkit/voucher"
)

func (p *parser) steps(files []stepFile, path string) []Step {
	steps := make([]Step, 0, len(files))
	for i := range files {
		st, ok := p.step(files[i], yamlx.Index(path, i), i+1)
		if ok {
			steps = append(steps, st)
		}
	}
	return steps
}

// actionOf returns the step's action, reporting a step with none or several (the
// first in the file is its action).
func (p *parser) actionOf(path string) (Action, bool) {
	type given struct {
		a   Action
		key *yaml.Node
	}
	var actions []given
	for _, a := range Actions() {
		if k := p.ctx.KeyNode(yamlx.Join(path, string(a))); k != nil {
			actions = append(actions, given{a, k})
		}
	}
	sort.SliceStable(actions, func(i, j int) bool {
		ki, kj := actions[i].key, actions[j].key
		return ki.Line < kj.Line || ki.Line == kj.Line && ki.Column < kj.Column
	})
	if len(actions) == 0 {
		p.ctx.Errorf(path, "a step needs exactly one action: one of %s", joinActions(Actions()))
		return "", false
	}
	for _, g := range actions[1:] {
		p.ctx.KeyErrorf(yamlx.Join(path, string(g.a)), "a step has exactly one action, and this one already has %s", actions[0].a)
	}
	return actions[0].a, true
}

func (p *parser) step(f stepFile, path string, num int) (Step, bool) {
	n := p.ctx.Node(path)
	st := Step{N: num, Line: n.Line}
	if n.Kind != yaml.MappingNode {
		return st, false // reported
	}
	a, ok := p.actionOf(path)
	if !ok {
		return st, false
	}
	st.Action = a
	p.stepOptions(f, &st, path)
	p.action(f, &st, path)
	if f.Expect != nil {
		st.Expect = p.expect(*f.Expect, yamlx.Join(path, "expect"), &st)
	}
	return st, true
}

// stepOptions reads at and hold, which apply to some actions only.
func (p *parser) stepOptions(f stepFile, st *Step, path string) {
	st.At = f.At
	if p.ctx.Has(yamlx.Join(path, "at")) {
		if st.Action == ActionSettle {
			p.ctx.KeyErrorf(yamlx.Join(path, "at"), "a settle takes no at: it happens at its period's last instant")
		}
	}
	if f.Hold != nil {
		st.Hold = *f.Hold
	}
	if p.ctx.Has(yamlx.Join(path, "hold")) && st.Action != ActionReserve {
		p.ctx.KeyErrorf(yamlx.Join(path, "hold"), "applies to reserve steps only, not to %s", st.Action)
	}
	if st.Action == ActionReserve && st.Hold == 0 {
		st.Hold = DefaultHold
	}
}

// action reads what the step's action says.
func (p *parser) action(f stepFile, st *Step, path string) {
	vp := yamlx.Join(path, string(st.Action))
	switch st.Action {
	case ActionQuote, ActionCheckout, ActionReserve:
		if o := orderOf(f, st.Action); o != nil {
			st.Order = p.order(*o, vp)
		}
	case ActionCapture, ActionRelease:
		if r := f.Capture; r != nil || f.Release != nil {
			if r == nil {
				r = f.Release
			}
			st.OrderID = r.Order
		}
	case ActionRefund:
		if f.Refund != nil {
			st.Refund = p.refund(*f.Refund, vp)
		}
	case ActionActivate:
		st.Account = p.account
		if f.Activate != nil {
			st.Code = f.Activate.Code
			if f.Activate.Account != nil {
				st.Account = *f.Activate.Account
			}
		}
	case ActionSettle:
		if f.Settle != nil {
			st.Bill = p.bill(*f.Settle, vp)
		}
	case ActionSharing:
		if f.Sharing != nil {
			st.Organization, st.Sharing = p.sharingStep(*f.Sharing, vp)
		}
	case ActionAdvance:
		if f.Advance != nil {
			st.To = *f.Advance
		}
	}
}

func orderOf(f stepFile, a Action) *orderFile {
	switch a {
	case ActionQuote:
		return f.Quote
	case ActionCheckout:
		return f.Checkout
	}
	return f.Reserve
}

// order reads an order. What the spec makes a step error (no items, a negative amount,
// a repeated line id or use entry, an unknown order or payment type) is read as given,
// for the step to fail with invalid_order.
func (p *parser) order(f orderFile, path string) voucher.Order {
	o := voucher.Order{ID: f.ID, Account: p.account, Type: voucher.OrderType(f.Type), Payment: voucher.PaymentType(f.Payment),
		FirstPurchase: f.FirstPurchase, Use: f.Use, Codes: f.Codes}
	if f.Account != nil {
		o.Account = *f.Account
	}
	o.Lines = make([]voucher.Line, 0, len(f.Items))
	itemsPath := yamlx.Join(path, "items")
	for i, it := range f.Items {
		o.Lines = append(o.Lines, voucher.Line{ID: it.ID, Product: it.Product, SKU: it.SKU, Amount: it.Amount, Currency: it.Currency})
		p.inRange(yamlx.Join(yamlx.Index(itemsPath, i), "amount"), it.Amount)
	}
	if f.Items != nil {
		p.totalInRange(itemsPath, o.Lines)
	}
	return o
}

func (p *parser) refund(f refundFile, path string) voucher.RefundRequest {
	r := voucher.RefundRequest{OrderID: f.Order, Lines: f.Lines, Consumed: f.Consumed}
	if f.Consumed != nil {
		p.inRange(yamlx.Join(path, "consumed"), *f.Consumed)
	}
	return r
}

// expect gives a step's expectations their meaning, refusing keys that do not apply to
// its action and keys that name nothing of the wallet or the order.
func (p *parser) expect(f expectFile, path string, st *Step) Expect {
	given := p.expectKeys(path, st)
	e := Expect{Total: f.Total, Discount: f.Discount, Deducted: f.Deducted, Cash: f.Cash,
		Invoiceable: f.Invoiceable, NonInvoiceable: f.NonInvoiceable, CashRefund: f.CashRefund}
	if given["applied"] {
		e.Applied = p.amounts(f.Applied, false, true)
	}
	if given["forfeited"] {
		e.Forfeited = p.amounts(f.Forfeited, true, false)
	}
	if given["restored"] {
		e.Restored = p.amounts(f.Restored, true, false)
	}
	if given["rejected"] {
		e.Rejected = p.rejected(f.Rejected)
	}
	if given["lines"] {
		e.Lines = p.lines(f.Lines, st)
	}
	if given["accounts"] {
		e.Accounts = p.accountsExpect(f.Accounts)
	}
	if given["wallet"] {
		e.Wallet = p.walletExpect(f.Wallet)
	}
	if f.Error != nil {
		e.Error = *f.Error
		if codes := stepErrorCodes(st.Action); !slices.Contains(codes, e.Error) {
			p.ctx.Errorf(yamlx.Join(path, "error"), "%s steps fail with one of %s, not %s", st.Action, strings.Join(codes, ", "), excerpt.Quote(e.Error))
		}
	}
	return e
}

// expectKeys reports the keys that do not apply to the step, and those that go with
// error (only wallet may); it returns the keys given that apply.
func (p *parser) expectKeys(path string, st *Step) map[string]bool {
	given := map[string]bool{}
	withError := p.ctx.Has(yamlx.Join(path, "error"))
	for _, key := range yamlx.Fields(expectFile{}) {
		kp := yamlx.Join(path, key)
		if !p.ctx.Has(kp) {
			continue
		}
		if acts := expectApplies[key]; acts != nil && !slices.Contains(acts, st.Action) {
			p.ctx.KeyErrorf(kp, "applies to %s steps, not to %s", joinActions(acts), st.Action)
			continue
		}
		given[key] = true
		if withError && key != "error" && key != "wallet" {
			p.ctx.KeyErrorf(kp, "a step expected to fail has no %s to compare; only wallet may go with error", key)
		}
	}
	return given
}

// instrumentKey checks that key names a wallet instrument: by id, or (where codes is
// set) a typed-in instrument by its code, which is then the only way to name it.
func (p *parser) instrumentKey(path, key string, codes bool) bool {
	if p.rs == nil || p.byID == nil {
		return true
	}
	if in, ok := p.byID[key]; ok {
		if codes && p.typedCode(in.Type) {
			p.ctx.KeyErrorf(path, "instrument %s is typed in as a code: name it by the code as typed, %s", excerpt.Quote(key), excerpt.Quote(in.Code))
			return false
		}
		return true
	}
	if codes {
		if _, ok := p.byCode[key]; ok {
			return true
		}
	}
	what := "an instrument id of the wallet"
	if codes {
		what = "an instrument id of the wallet, or a promo code as typed"
	}
	p.ctx.KeyErrorf(path, "%s is not %s", excerpt.Quote(key), what)
	return false
}

// amounts reads {key: amount}; positive requires every amount above zero.
func (p *parser) amounts(entries yamlx.Entries[decimal.Decimal], positive, codes bool) map[string]decimal.Decimal {
	out := make(map[string]decimal.Decimal, len(entries))
	for _, g := range entries {
		if !p.instrumentKey(g.Path, g.Key, codes) || p.d.FailedUnder(g.Path) {
			continue
		}
		if positive && g.Value.IsZero() {
			p.ctx.Errorf(g.Path, "only amounts above zero are listed; leave %s out", g.Key)
			continue
		}
		out[g.Key] = g.Value
	}
	return out
}

func (p *parser) rejected(entries yamlx.Entries[voucher.Reason]) map[string]voucher.Reason {
	out := make(map[string]voucher.Reason, len(entries))
	for _, g := range entries {
		if p.instrumentKey(g.Path, g.Key, true) && !p.d.FailedUnder(g.Path) {
			out[g.Key] = g.Value
		}
	}
	return out
}

func (p *parser) lines(entries yamlx.Entries[lineExpectFile], st *Step) map[string]LineExpect {
	ids := make([]string, 0, len(st.Order.Lines)+len(st.Bill.Charges))
	for _, l := range st.Order.Lines {
		ids = append(ids, l.ID)
	}
	for _, c := range st.Bill.Charges {
		ids = append(ids, c.ID)
	}
	has := make(map[string]bool, len(ids))
	for _, id := range ids {
		has[id] = true
	}
	out := make(map[string]LineExpect, len(entries))
	for _, g := range entries {
		if !has[g.Key] {
			p.ctx.KeyErrorf(g.Path, "the order has no line %s; its lines are %s", excerpt.Quote(g.Key), someOf(ids))
			continue
		}
		out[g.Key] = LineExpect{Discount: g.Value.Discount, Deducted: g.Value.Deducted, Cash: g.Value.Cash, Invoiceable: g.Value.Invoiceable}
	}
	return out
}

func (p *parser) walletExpect(entries yamlx.Entries[instrumentExpectFile]) map[string]InstrumentExpect {
	out := make(map[string]InstrumentExpect, len(entries))
	for _, g := range entries {
		if !p.instrumentKey(g.Path, g.Key, false) {
			continue
		}
		ie := InstrumentExpect{Balance: g.Value.Balance, Held: g.Value.Held}
		if g.Value.Status != nil {
			ie.Status = *g.Value.Status
		}
		if in := p.byID[g.Key]; in != nil && p.kind(in.Type) == voucher.Discount {
			for _, key := range []string{"balance", "held"} {
				if kp := yamlx.Join(g.Path, key); p.ctx.Has(kp) {
					p.ctx.KeyErrorf(kp, "applies to deduction instruments only; %s is a %s, a discount: expect its status", g.Key, in.Type)
				}
			}
			ie.Balance, ie.Held = nil, nil
		}
		out[g.Key] = ie
	}
	return out
}

// someOf lists ids, the first ten of them when there are more.
func someOf(ids []string) string {
	const most = 10
	if len(ids) <= most {
		return strings.Join(ids, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(ids[:most], ", "), len(ids)-most)
}
