package rules

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/voucherkit/voucherkit/internal/fixed"
	"github.com/voucherkit/voucherkit/voucher"
)

// Engine prices orders under one rule set. It is immutable once built and safe for
// concurrent use; Quote is pure (it reads its arguments and changes nothing) and
// deterministic (the same answer for any order of the instruments).
type Engine struct {
	rs *RuleSet
	// versions are the compiled versions of the rule set, by EffectiveFrom ascending;
	// root is the version the file's top level describes.
	versions []*compiled
	root     *compiled
	trace    bool
	others   bool
}

// compiled is one version of a rule set, ready to price.
type compiled struct {
	rs     *RuleSet
	id     string // rs.ID(), once
	cur    voucher.Currency
	scale  int32
	mode   fixed.Mode
	stages []stagePlan
	types  map[string]*typePlan
	trace  bool
	// others: list instruments of other accounts as not_owner (WithOthersListed).
	others bool
}

type stagePlan struct {
	name  string
	kind  voucher.Kind
	types []*typePlan
	// notes are its trace's notes: chosen by the buyer, and by automatic selection.
	notes [2]string
}

type typePlan struct {
	t        InstrumentType
	policy   voucher.TypePolicy
	stage    int
	orderSet uint8
	paySet   uint8
	never    map[string]bool
	// limitDetail is the per-order limit sentence, built once.
	limitDetail string
	// needTake: a selection key sorts by what the instrument would take.
	needTake bool
}

// Option configures NewEngine.
type Option func(*Engine) error

// WithTrace turns the decision trace in each Quote on or off (on by default).
func WithTrace(on bool) Option {
	return func(e *Engine) error { e.trace = on; return nil }
}

// WithOthersListed makes automatic selection list every instrument of another account
// among the rejections, as not_owner, instead of leaving it out unmentioned (off by
// default, so that a quote against a wallet many accounts share stays small). It is for
// a program that prices against one whole wallet and must account for every entry,
// as voucherkit quote does. Instruments without an owner (pending activation, typed-in
// codes) are not listed: nobody owns them yet.
func WithOthersListed(on bool) Option {
	return func(e *Engine) error { e.others = on; return nil }
}

// NewEngine compiles rs (and each of its versions) into an Engine. rs is copied:
// changing it afterwards does not change the engine.
func NewEngine(rs *RuleSet, opts ...Option) (*Engine, error) {
	if rs == nil {
		return nil, errors.New("rules: NewEngine needs a rule set")
	}
	e := &Engine{trace: true}
	for _, o := range opts {
		if err := o(e); err != nil {
			return nil, err
		}
	}
	for _, v := range rs.AllVersions() {
		c, err := compile(v, e.trace)
		if err != nil {
			return nil, err
		}
		c.others = e.others
		e.versions = append(e.versions, c)
		if v == rs {
			e.root = c
		}
	}
	if e.root == nil {
		c, err := compile(rs, e.trace)
		if err != nil {
			return nil, err
		}
		c.others = e.others
		e.root = c
	}
	e.rs = e.root.rs
	return e, nil
}

func compile(rs *RuleSet, trace bool) (*compiled, error) {
	if rs.Currency.IsZero() || len(rs.Stages) == 0 {
		return nil, fmt.Errorf("rules: rule set %q is not validated (load it with Parse or Load)", rs.Name)
	}
	cp := *rs
	cp.Stages = slices.Clone(rs.Stages)
	cp.Types = slices.Clone(rs.Types)
	e := &compiled{rs: &cp, id: cp.ID(), cur: rs.Currency, scale: rs.Currency.Scale(), mode: rs.Rounding.mode(),
		types: make(map[string]*typePlan, len(rs.Types)), trace: trace}
	stageIdx := make(map[string]int, len(rs.Stages))
	for i, st := range cp.Stages {
		stageIdx[st.Name] = i
		e.stages = append(e.stages, stagePlan{name: st.Name, kind: st.Kind,
			notes: [2]string{st.Kind.String() + ", chosen by the buyer", st.Kind.String() + ", automatic selection"}})
	}
	for i := range cp.Types {
		t := cp.Types[i]
		si, ok := stageIdx[t.Stage]
		if !ok {
			return nil, fmt.Errorf("rules: type %q names unknown stage %q", t.Name, t.Stage)
		}
		t.Kind = cp.Stages[si].Kind
		t.OrderTypes = slices.Clone(t.OrderTypes)
		t.PaymentTypes = slices.Clone(t.PaymentTypes)
		t.Selection = slices.Clone(t.Selection)
		t.NeverCovers = slices.Clone(t.NeverCovers)
		tp := &typePlan{t: t, policy: t.Policy(), stage: si, never: make(map[string]bool, len(t.NeverCovers))}
		tp.orderSet = orderBits(t.OrderTypes)
		tp.paySet = payBits(t.PaymentTypes)
		for _, p := range t.NeverCovers {
			tp.never[p] = true
		}
		tp.needTake = slices.Contains(t.Selection, SortDiscountDesc) || slices.Contains(t.Selection, SortDeductibleDesc)
		if t.PerOrderLimit > 0 {
			tp.limitDetail = fmt.Sprintf("type %s allows %d per order", t.Name, t.PerOrderLimit)
		}
		e.types[t.Name] = tp
		e.stages[si].types = append(e.stages[si].types, tp)
	}
	return e, nil
}

// at returns the version in force at t: the latest whose EffectiveFrom is not after t,
// or the earliest when t precedes them all.
func (e *Engine) at(t time.Time) *compiled {
	if len(e.versions) <= 1 {
		return e.root
	}
	return e.versions[inForce(len(e.versions), func(i int) *time.Time { return e.versions[i].rs.EffectiveFrom }, t)]
}

// RuleSet is the engine's copy of its rule set (the version the file's top level
// describes); treat it as read-only.
func (e *Engine) RuleSet() *RuleSet { return e.rs }

// RuleSetAt is the version of the rule set in force at t.
func (e *Engine) RuleSetAt(t time.Time) *RuleSet { return e.at(t).rs }

// Currency is the currency of every order the engine prices.
func (e *Engine) Currency() voucher.Currency { return e.root.cur }

// Policy returns what the wallet needs to know of instrument type name, as the rule
// set's top-level version says (a type only an older version defines: as that says).
func (e *Engine) Policy(name string) (voucher.TypePolicy, bool) {
	if tp, ok := e.root.types[name]; ok {
		return tp.policy, true
	}
	for i := len(e.versions) - 1; i >= 0; i-- {
		if tp, ok := e.versions[i].types[name]; ok {
			return tp.policy, true
		}
	}
	return voucher.TypePolicy{}, false
}

var _ voucher.Pricer = (*Engine)(nil)

func orderBits(ts []voucher.OrderType) uint8 {
	var b uint8
	for _, t := range ts {
		b |= orderBit(t)
	}
	return b
}

func orderBit(t voucher.OrderType) uint8 {
	for i, x := range voucher.OrderTypes() {
		if x == t {
			return 1 << i
		}
	}
	return 0
}

func payBits(ps []voucher.PaymentType) uint8 {
	var b uint8
	for _, p := range ps {
		b |= payBit(p)
	}
	return b
}

func payBit(p voucher.PaymentType) uint8 {
	switch p {
	case voucher.PaySubscription:
		return 1
	case voucher.PayAsYouGo:
		return 2
	}
	return 0
}

func joinOrderTypes(b uint8) string {
	var parts []string
	for i, x := range voucher.OrderTypes() {
		if b&(1<<i) != 0 {
			parts = append(parts, string(x))
		}
	}
	return strings.Join(parts, ", ")
}

func joinPayTypes(b uint8) string {
	var parts []string
	if b&1 != 0 {
		parts = append(parts, string(voucher.PaySubscription))
	}
	if b&2 != 0 {
		parts = append(parts, string(voucher.PayAsYouGo))
	}
	return strings.Join(parts, ", ")
}

// Quote prices order o against instruments insts at time at. Checks run in the
// spec's order; a business "no" is a Rejection in the quote, an error is one of
// voucher.ErrInvalidOrder, ErrCurrencyMismatch, ErrUnknownInstrument, ErrCodeNotFound
// (or ErrInvalidInstrument for an instrument that cannot be priced at all).
func (e *Engine) Quote(o voucher.Order, insts []voucher.Instrument, at time.Time) (*voucher.Quote, error) {
	c := e.at(at)
	p, err := c.prepare(&o, insts, at, nil)
	if err != nil {
		return nil, err
	}
	for si := range c.stages {
		if err := p.runStage(si); err != nil {
			return nil, err
		}
	}
	return p.done(), nil
}
