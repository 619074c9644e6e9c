package scenario

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"go.yaml.in/yaml/v3"

	"github.com/voucherkit/voucherkit/internal/yamlx"
	"github.com/voucherkit/voucherkit/providers"
	"github.com/voucherkit/voucherkit/rules"
	"github.com/voucherkit/voucherkit/voucher"
)

// ErrInvalid is wrapped by every error Parse and Load report for a file that is not a
// valid scenario (or wallet, or order) file.
var ErrInvalid = errors.New("scenario: invalid file")

// Error is one problem in a file, with its file, line, column and key path.
type Error = yamlx.Error

// Errors is every problem of one file, sorted by position; it unwraps to each Error.
type Errors = yamlx.Errors

// Option configures Parse and Load.
type Option func(*config)

type config struct {
	dir      string
	dirSet   bool
	ruleSets map[string]*rules.RuleSet
}

// WithDir sets the directory that a provider path is relative to (default: the
// directory of the scenario file).
func WithDir(dir string) Option {
	return func(c *config) { c.dir, c.dirSet = dir, true }
}

// WithRuleSet makes provider name resolve to rs, ahead of the built-in rule sets and of
// paths: a program that embeds its own rule set can run scenarios against it.
func WithRuleSet(name string, rs *rules.RuleSet) Option {
	return func(c *config) {
		if c.ruleSets == nil {
			c.ruleSets = map[string]*rules.RuleSet{}
		}
		c.ruleSets[name] = rs
	}
}

func newConfig(file string, opts []Option) *config {
	c := &config{}
	for _, o := range opts {
		o(c)
	}
	if !c.dirSet {
		c.dir = filepath.Dir(file)
	}
	return c
}

// Load reads and parses the scenario file at path. An unreadable file is an error that
// wraps the os error (and ErrInvalid).
func Load(path string, opts ...Option) (*Scenario, error) {
	data, err := providers.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return Parse(path, data, opts...)
}

// Parse reads a scenario from data; file names it in errors and is where a provider
// path is relative to. Every problem is reported at once, as Errors, each with file,
// line, column and key path, wrapping ErrInvalid.
func Parse(file string, data []byte, opts ...Option) (*Scenario, error) {
	c := newConfig(file, opts)
	d, root, err := yamlx.Parse(file, data)
	if err != nil {
		d.Tag(ErrInvalid)
		return nil, d.Err()
	}
	p := &parser{d: d, c: c}
	s := p.scenario(root)
	if d.Failed() {
		d.Tag(ErrInvalid)
		return nil, d.Err()
	}
	s.File = file
	return s, nil
}

// ParseWallet reads a wallet file: a list of instrument entries in the scenario wallet
// syntax, priced under rs. Instruments without an account belong to account; now is
// the default issued_at.
func ParseWallet(file string, data []byte, rs *rules.RuleSet, account string, now time.Time) ([]voucher.Instrument, error) {
	d, root, err := yamlx.Parse(file, data)
	if err != nil {
		d.Tag(ErrInvalid)
		return nil, d.Err()
	}
	p := &parser{d: d, rs: rs, account: account, now: now, loc: rs.Location}
	insts := p.wallet(root, "wallet")
	if d.Failed() {
		d.Tag(ErrInvalid)
		return nil, d.Err()
	}
	return insts, nil
}

// ParseWalletFor is ParseWallet for comparing rule sets: entries whose type rs does not
// define are left out (their ids and types are returned) instead of being errors.
func ParseWalletFor(file string, data []byte, rs *rules.RuleSet, account string, now time.Time) ([]voucher.Instrument, []string, error) {
	d, root, err := yamlx.Parse(file, data)
	if err != nil {
		d.Tag(ErrInvalid)
		return nil, nil, d.Err()
	}
	p := &parser{d: d, rs: rs, account: account, now: now, loc: rs.Location, skipUnknownTypes: true}
	insts := p.wallet(root, "wallet")
	if d.Failed() {
		d.Tag(ErrInvalid)
		return nil, nil, d.Err()
	}
	return insts, p.skipped, nil
}

// ParseOrder reads an order file: one order in the scenario order syntax, for account
// when it names none.
func ParseOrder(file string, data []byte, account string) (voucher.Order, error) {
	d, root, err := yamlx.Parse(file, data)
	if err != nil {
		d.Tag(ErrInvalid)
		return voucher.Order{}, d.Err()
	}
	p := &parser{d: d, account: account}
	o, _ := p.order(root, "order")
	if d.Failed() {
		d.Tag(ErrInvalid)
		return voucher.Order{}, d.Err()
	}
	return o, nil
}

// Keys of each mapping of the format. Every other key is an error.
var (
	scenarioKeys   = []string{"name", "provider", "now", "account", "wallet", "steps"}
	instrumentKeys = []string{"id", "type", "account", "code", "status", "currency", "amount",
		"balance", "percent_off", "max_discount", "min_spend", "products", "exclude_products",
		"order_types", "payment_types", "first_purchase_only", "issued_at", "effective_at",
		"expires_at", "claimed_at", "max_redemptions"}
	stepKeys   = []string{"quote", "checkout", "reserve", "capture", "release", "refund", "activate", "advance", "at", "hold", "expect"}
	orderKeys  = []string{"id", "account", "type", "payment", "first_purchase", "items", "use", "codes"}
	itemKeys   = []string{"id", "product", "amount", "currency"}
	expectKeys = []string{"total", "discount", "deducted", "cash", "invoiceable", "non_invoiceable",
		"applied", "rejected", "lines", "cash_refund", "forfeited", "restored", "wallet", "error"}
	lineExpectKeys   = []string{"discount", "deducted", "cash", "invoiceable"}
	walletExpectKeys = []string{"balance", "held", "status"}
)

// stepErrors are the error codes each action may fail with, in the spec's order.
var stepErrors = map[Action][]string{
	ActionQuote:    {"clock_backwards", "invalid_order", "currency_mismatch", "unknown_instrument", "code_not_found"},
	ActionCheckout: {"clock_backwards", "duplicate_order", "invalid_order", "currency_mismatch", "unknown_instrument", "code_not_found"},
	ActionReserve:  {"clock_backwards", "duplicate_order", "invalid_order", "currency_mismatch", "unknown_instrument", "code_not_found"},
	ActionCapture:  {"clock_backwards", "not_reserved"},
	ActionRelease:  {"clock_backwards", "not_reserved"},
	ActionRefund:   {"clock_backwards", "unknown_order", "invalid_refund", "already_refunded"},
	ActionActivate: {"clock_backwards", "code_not_found", "code_already_used", "code_expired"},
	ActionAdvance:  {"clock_backwards"},
}

// expectApplies says which actions each expectation key applies to (nil: every action).
var expectApplies = map[string][]Action{
	"total": pricing, "discount": pricing, "deducted": pricing, "cash": pricing,
	"invoiceable": pricing, "non_invoiceable": pricing, "applied": pricing,
	"rejected": pricing, "lines": pricing,
	"cash_refund": {ActionRefund},
	"restored":    {ActionRefund},
	"forfeited":   {ActionRefund, ActionAdvance, ActionRelease},
}

var pricing = []Action{ActionQuote, ActionCheckout, ActionReserve}

type parser struct {
	d       *yamlx.Doc
	c       *config
	rs      *rules.RuleSet // nil when the provider is unusable: type checks are skipped
	loc     *time.Location
	account string
	now     time.Time
	// byID and byCode index the wallet, for checking the keys of expectations.
	byID   map[string]*voucher.Instrument
	byCode map[string]*voucher.Instrument
	// skipUnknownTypes leaves out wallet entries of types the rule set does not define,
	// listing them in skipped (for comparing rule sets).
	skipUnknownTypes bool
	skipped          []string
}

func (p *parser) scenario(root *yaml.Node) *Scenario {
	d := p.d
	s := &Scenario{Account: DefaultAccount}
	fields, ok := d.Map(root, "", scenarioKeys...)
	if !ok {
		return s
	}
	d.Require(root, "", fields, "name", "provider", "now", "steps")
	get := func(k string) (yamlx.Field, bool) { return yamlx.Lookup(fields, k) }

	p.loc = time.UTC
	if f, ok := get("provider"); ok {
		s.Provider, s.RuleSet = p.provider(f)
		if s.RuleSet != nil {
			p.rs, p.loc = s.RuleSet, s.RuleSet.Location
		}
	}
	if f, ok := get("name"); ok {
		s.Name, _ = d.NonEmptyString(f.Value, f.Path)
	}
	if f, ok := get("account"); ok {
		if a, ok := d.NonEmptyString(f.Value, f.Path); ok {
			s.Account = a
		}
	}
	p.account = s.Account
	if f, ok := get("now"); ok {
		s.Now, _ = d.Time(f.Value, f.Path, p.loc, yamlx.StartOfDay)
	}
	p.now = s.Now
	if f, ok := get("wallet"); ok {
		s.Wallet = p.wallet(f.Value, f.Path)
	}
	p.index(s.Wallet)
	if f, ok := get("steps"); ok {
		s.Steps = p.steps(f)
	}
	return s
}

// provider resolves a built-in name or a path relative to the scenario file.
func (p *parser) provider(f yamlx.Field) (string, *rules.RuleSet) {
	name, ok := p.d.NonEmptyString(f.Value, f.Path)
	if !ok {
		return "", nil
	}
	if rs, ok := p.c.ruleSets[name]; ok && rs != nil {
		return name, rs
	}
	rs, err := LoadProvider(name, p.c.dir)
	if err != nil {
		p.d.Errorf(f.Value, f.Path, "%s", strings.TrimPrefix(err.Error(), "scenario: "))
		return name, nil
	}
	return name, rs
}

// LoadProvider returns the rule set a scenario's provider names: a built-in rule set
// (aws, aliyun, ...), or else a path to a rule-set YAML file, relative to dir unless
// it is absolute. A name that is neither a built-in nor looks like a path (it has no
// slash and does not end in .yaml or .yml) is an error that lists the built-ins.
func LoadProvider(provider, dir string) (*rules.RuleSet, error) {
	if slices.Contains(providers.Names(), provider) {
		rs, err := providers.Load(provider)
		if err != nil {
			return nil, fmt.Errorf("scenario: built-in rule set %s does not load: %w", provider, err)
		}
		return rs, nil
	}
	ext := strings.ToLower(filepath.Ext(provider))
	if !strings.ContainsAny(provider, `/\`) && ext != ".yaml" && ext != ".yml" {
		return nil, fmt.Errorf("scenario: unknown provider %q: want a built-in rule set (%s) or a path to a rule-set YAML file",
			provider, strings.Join(providers.Names(), ", "))
	}
	path := provider
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, provider)
	}
	data, err := providers.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("scenario: cannot read rule set %q: %w", provider, err)
	}
	rs, err := providers.Parse(path, data) // its extends: may name a built-in rule set
	if err != nil {
		return nil, fmt.Errorf("scenario: rule set %q is invalid:\n%w", provider, err)
	}
	return rs, nil
}

func (p *parser) index(insts []voucher.Instrument) {
	p.byID = make(map[string]*voucher.Instrument, len(insts))
	p.byCode = make(map[string]*voucher.Instrument)
	for i := range insts {
		in := &insts[i]
		p.byID[in.ID] = in
		if in.Code != "" && p.typedCode(in.Type) {
			p.byCode[in.Code] = in
		}
	}
}

func (p *parser) typedCode(typ string) bool {
	if p.rs == nil {
		return false
	}
	t, ok := p.rs.Type(typ)
	return ok && t.TypedCode
}

func (p *parser) kind(typ string) voucher.Kind {
	if p.rs == nil {
		return 0
	}
	if t, ok := p.rs.Type(typ); ok {
		return t.Kind
	}
	return 0
}

func (p *parser) typeNames() string { return strings.Join(p.rs.TypeNames(), ", ") }

// wallet reads a list of instrument entries.
func (p *parser) wallet(n *yaml.Node, path string) []voucher.Instrument {
	d := p.d
	items, ok := d.Seq(n, path)
	if !ok {
		return nil
	}
	insts := make([]voucher.Instrument, 0, len(items))
	ids := map[string]int{}
	codes := map[string]string{}
	for i, it := range items {
		ip := yamlx.Index(path, i)
		if p.skipUnknownTypes {
			if typ, id := scalarField(it, "type"), scalarField(it, "id"); typ != "" {
				if _, known := p.rs.Type(typ); !known {
					p.skipped = append(p.skipped, id+" ("+typ+")")
					continue
				}
			}
		}
		inst, idNode, codeNode, ok := p.instrument(it, ip)
		if !ok {
			continue
		}
		if j, dup := ids[inst.ID]; dup {
			d.Errorf(idNode, yamlx.Join(ip, "id"), "%q is also the id of %s", inst.ID, yamlx.Index(path, j))
			continue
		}
		ids[inst.ID] = i
		if inst.Code != "" {
			if other, dup := codes[inst.Code]; dup {
				d.Errorf(codeNode, yamlx.Join(ip, "code"), "code %q is also the code of instrument %q", inst.Code, other)
				continue
			}
			codes[inst.Code] = inst.ID
		}
		insts = append(insts, inst)
	}
	return insts
}

// scalarField is the text of key in mapping n, or "".
func scalarField(n *yaml.Node, key string) string {
	n = yamlx.Resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			if v := yamlx.Resolve(n.Content[i+1]); v != nil && v.Kind == yaml.ScalarNode {
				return v.Value
			}
		}
	}
	return ""
}

// instrument reads one wallet entry and fills in the spec's defaults.
func (p *parser) instrument(n *yaml.Node, path string) (voucher.Instrument, *yaml.Node, *yaml.Node, bool) {
	d := p.d
	var in voucher.Instrument
	fields, ok := d.Map(n, path, instrumentKeys...)
	if !ok {
		return in, nil, nil, false
	}
	before := d.ErrorCount()
	d.Require(n, path, fields, "id", "type")
	nodes := map[string]*yaml.Node{}
	var policy voucher.TypePolicy
	known := false
	if f, ok := yamlx.Lookup(fields, "type"); ok {
		if s, ok := d.NonEmptyString(f.Value, f.Path); ok {
			in.Type = s
			if p.rs != nil {
				if t, ok := p.rs.Type(s); ok {
					policy, known = t.Policy(), true
				} else {
					d.Errorf(f.Value, f.Path, "unknown instrument type %q; rule set %s defines %s", s, p.rs.Name, p.typeNames())
				}
			}
		}
	}
	var account *yaml.Node
	balanceGiven := false
	for _, f := range fields {
		nodes[f.Key] = f.Value
		switch f.Key {
		case "id":
			in.ID, _ = d.NonEmptyString(f.Value, f.Path)
		case "account":
			account = f.Value
			in.Account, _ = d.NonEmptyString(f.Value, f.Path)
		case "code":
			in.Code, _ = d.NonEmptyString(f.Value, f.Path)
		case "status":
			if s, ok := d.String(f.Value, f.Path); ok {
				if voucher.Status(s) != voucher.StatusPendingActivation {
					d.Errorf(f.Value, f.Path, "only pending_activation may be given, got %q: every other status is derived", s)
				}
				in.PendingActivation = true
			}
		case "currency":
			in.Currency, _ = d.NonEmptyString(f.Value, f.Path)
		case "amount":
			in.Amount, _ = d.Decimal(f.Value, f.Path, false)
		case "balance":
			balanceGiven = true
			in.Balance, _ = d.Decimal(f.Value, f.Path, false)
			if known && policy.Kind == voucher.Discount {
				d.Errorf(f.KeyNode, f.Path, "applies to deduction instruments only; type %s is a discount", in.Type)
			}
		case "percent_off":
			in.PercentOff, _ = d.Decimal(f.Value, f.Path, false)
		case "max_discount":
			in.MaxDiscount, _ = d.Decimal(f.Value, f.Path, false)
		case "min_spend":
			in.MinSpend, _ = d.Decimal(f.Value, f.Path, false)
		case "products":
			in.Products, _ = d.StringList(f.Value, f.Path)
		case "exclude_products":
			in.ExcludeProducts, _ = d.StringList(f.Value, f.Path)
		case "order_types":
			if list, ok := d.StringList(f.Value, f.Path); ok {
				items, _ := d.Seq(f.Value, f.Path)
				in.OrderTypes = make([]voucher.OrderType, 0, len(list))
				for i, s := range list {
					if !voucher.OrderType(s).Valid() {
						d.Errorf(items[i], yamlx.Index(f.Path, i), "unknown order type %q; want one of new, renewal, upgrade, os_change, trial_conversion, usage", s)
					}
					in.OrderTypes = append(in.OrderTypes, voucher.OrderType(s))
				}
			}
		case "payment_types":
			if list, ok := d.StringList(f.Value, f.Path); ok {
				items, _ := d.Seq(f.Value, f.Path)
				in.PaymentTypes = make([]voucher.PaymentType, 0, len(list))
				for i, s := range list {
					if !voucher.PaymentType(s).Valid() {
						d.Errorf(items[i], yamlx.Index(f.Path, i), "unknown payment type %q; want subscription or pay_as_you_go", s)
					}
					in.PaymentTypes = append(in.PaymentTypes, voucher.PaymentType(s))
				}
			}
		case "first_purchase_only":
			if b, ok := d.Bool(f.Value, f.Path); ok {
				in.FirstPurchaseOnly = &b
			}
		case "issued_at":
			in.IssuedAt, _ = d.Time(f.Value, f.Path, p.loc, yamlx.StartOfDay)
		case "effective_at":
			in.EffectiveAt, _ = d.Time(f.Value, f.Path, p.loc, yamlx.StartOfDay)
		case "expires_at":
			in.ExpiresAt, _ = d.Time(f.Value, f.Path, p.loc, yamlx.EndOfDay)
		case "claimed_at":
			in.ClaimedAt, _ = d.Time(f.Value, f.Path, p.loc, yamlx.StartOfDay)
		case "max_redemptions":
			in.MaxRedemptions, _ = d.Int(f.Value, f.Path, 1, 1_000_000)
			if known && policy.Kind == voucher.Deduction {
				d.Errorf(f.KeyNode, f.Path, "applies to discount instruments only; type %s is a deduction", in.Type)
			}
		}
	}
	// Owner: the scenario's account, except for what nobody owns yet.
	switch {
	case in.PendingActivation && account != nil:
		d.Errorf(account, yamlx.Join(path, "account"), "an instrument pending activation has no owner until an account activates it")
	case known && policy.TypedCode && account != nil:
		d.Errorf(account, yamlx.Join(path, "account"), "type %s is typed in as a code and has no owner: any buyer who types the code may use it", in.Type)
	case account == nil && !in.PendingActivation && !(known && policy.TypedCode):
		in.Account = p.account
	}
	if known && policy.Kind == voucher.Deduction {
		if _, ok := nodes["amount"]; !ok && !balanceGiven {
			d.Errorf(n, yamlx.Join(path, "amount"), "is required for type %s: the face value of a deduction instrument", in.Type)
		}
	}
	if known {
		p.checkScale(&in, nodes, path)
	}
	if !balanceGiven {
		in.Balance = in.Amount
	}
	if in.IssuedAt.IsZero() {
		in.IssuedAt = p.now
	}
	if known && d.ErrorCount() == before {
		if err := in.Validate(policy); err != nil {
			var ve *voucher.ValidationError
			if errors.As(err, &ve) {
				for _, pr := range ve.Problems {
					key, _, _ := strings.Cut(pr.Field, "[")
					at := nodes[key]
					if at == nil {
						at = n
					}
					d.Errorf(at, yamlx.Join(path, pr.Field), "%s", pr.Problem)
				}
			} else {
				d.Errorf(n, path, "%v", err)
			}
		}
	}
	return in, nodes["id"], nodes["code"], d.ErrorCount() == before
}

// checkScale refuses amounts finer than the instrument's currency carries.
func (p *parser) checkScale(in *voucher.Instrument, nodes map[string]*yaml.Node, path string) {
	cur := p.rs.Currency
	if in.Currency != "" && in.Currency != cur.Code() {
		c, err := voucher.LookupCurrency(in.Currency)
		if err != nil {
			return // Validate reports the code
		}
		cur = c
	}
	for _, f := range []struct {
		key string
		v   decimal.Decimal
	}{{"amount", in.Amount}, {"balance", in.Balance}, {"max_discount", in.MaxDiscount}, {"min_spend", in.MinSpend}} {
		if n := nodes[f.key]; n != nil && !f.v.Equal(f.v.Round(cur.Scale())) {
			p.d.Errorf(n, yamlx.Join(path, f.key), "%s has more than %d decimal places for %s", f.v, cur.Scale(), cur.Code())
		}
	}
}

func (p *parser) steps(f yamlx.Field) []Step {
	d := p.d
	items, ok := d.Seq(f.Value, f.Path)
	if !ok {
		return nil
	}
	if len(items) == 0 {
		d.Errorf(f.Value, f.Path, "must list at least one step")
	}
	steps := make([]Step, 0, len(items))
	for i, it := range items {
		st, ok := p.step(it, yamlx.Index(f.Path, i), i+1)
		if ok {
			steps = append(steps, st)
		}
	}
	return steps
}

func (p *parser) step(n *yaml.Node, path string, num int) (Step, bool) {
	d := p.d
	st := Step{N: num, Line: yamlx.Resolve(n).Line}
	fields, ok := d.Map(n, path, stepKeys...)
	if !ok {
		return st, false
	}
	var action *yamlx.Field
	for i, f := range fields {
		if !slices.Contains(Actions(), Action(f.Key)) {
			continue
		}
		if action != nil {
			d.Errorf(f.KeyNode, f.Path, "a step has exactly one action, and this one already has %s", action.Key)
			continue
		}
		action = &fields[i]
	}
	if action == nil {
		d.Errorf(n, path, "a step needs exactly one action: one of %s", joinActions(Actions()))
		return st, false
	}
	st.Action = Action(action.Key)
	var expect *yamlx.Field
	for i, f := range fields {
		switch f.Key {
		case "at":
			st.At, _ = d.Time(f.Value, f.Path, p.loc, yamlx.StartOfDay)
			if st.Action == ActionAdvance {
				d.Errorf(f.KeyNode, f.Path, "an advance step moves the clock itself; give the time to advance, not at")
			}
		case "hold":
			st.Hold, _ = d.Duration(f.Value, f.Path)
			if st.Action != ActionReserve {
				d.Errorf(f.KeyNode, f.Path, "applies to reserve steps only, not to %s", st.Action)
			}
		case "expect":
			expect = &fields[i]
		}
	}
	if st.Action == ActionReserve && st.Hold == 0 {
		st.Hold = DefaultHold
	}
	v, vp := action.Value, action.Path
	switch st.Action {
	case ActionQuote, ActionCheckout, ActionReserve:
		st.Order, _ = p.order(v, vp)
	case ActionCapture, ActionRelease:
		if af, ok := d.Map(v, vp, "order"); ok {
			d.Require(v, vp, af, "order")
			if f, ok := yamlx.Lookup(af, "order"); ok {
				st.OrderID, _ = d.NonEmptyString(f.Value, f.Path)
			}
		}
	case ActionRefund:
		st.Refund = p.refund(v, vp)
	case ActionActivate:
		st.Account = p.account
		if af, ok := d.Map(v, vp, "code", "account"); ok {
			d.Require(v, vp, af, "code")
			for _, f := range af {
				switch f.Key {
				case "code":
					st.Code, _ = d.NonEmptyString(f.Value, f.Path)
				case "account":
					st.Account, _ = d.NonEmptyString(f.Value, f.Path)
				}
			}
		}
	case ActionAdvance:
		st.To, _ = d.Time(v, vp, p.loc, yamlx.StartOfDay)
	}
	if expect != nil {
		st.Expect = p.expect(expect.Value, expect.Path, &st)
	}
	return st, true
}

func joinActions(as []Action) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = string(a)
	}
	return strings.Join(s, ", ")
}

// order reads an order. What the spec makes a step error (no items, a negative amount,
// a repeated line id or use entry, an unknown order or payment type) is read as given,
// for the step to fail with invalid_order.
func (p *parser) order(n *yaml.Node, path string) (voucher.Order, bool) {
	d := p.d
	o := voucher.Order{Account: p.account}
	fields, ok := d.Map(n, path, orderKeys...)
	if !ok {
		return o, false
	}
	d.Require(n, path, fields, "id", "type", "payment", "items")
	for _, f := range fields {
		switch f.Key {
		case "id":
			o.ID, _ = d.NonEmptyString(f.Value, f.Path)
		case "account":
			o.Account, _ = d.NonEmptyString(f.Value, f.Path)
		case "type":
			s, _ := d.String(f.Value, f.Path)
			o.Type = voucher.OrderType(s)
		case "payment":
			s, _ := d.String(f.Value, f.Path)
			o.Payment = voucher.PaymentType(s)
		case "first_purchase":
			o.FirstPurchase, _ = d.Bool(f.Value, f.Path)
		case "items":
			items, ok := d.Seq(f.Value, f.Path)
			if !ok {
				continue
			}
			o.Lines = make([]voucher.Line, 0, len(items))
			for i, it := range items {
				if l, ok := p.item(it, yamlx.Index(f.Path, i)); ok {
					o.Lines = append(o.Lines, l)
				}
			}
		case "use":
			o.Use, _, _ = d.Strings(f.Value, f.Path)
			if o.Use == nil {
				o.Use = []string{}
			}
		case "codes":
			o.Codes, _, _ = d.Strings(f.Value, f.Path)
		}
	}
	return o, true
}

func (p *parser) item(n *yaml.Node, path string) (voucher.Line, bool) {
	d := p.d
	var l voucher.Line
	fields, ok := d.Map(n, path, itemKeys...)
	if !ok {
		return l, false
	}
	d.Require(n, path, fields, "id", "product", "amount")
	for _, f := range fields {
		switch f.Key {
		case "id":
			l.ID, _ = d.NonEmptyString(f.Value, f.Path)
		case "product":
			l.Product, _ = d.NonEmptyString(f.Value, f.Path)
		case "amount":
			l.Amount, _ = d.Decimal(f.Value, f.Path, true)
		case "currency":
			l.Currency, _ = d.NonEmptyString(f.Value, f.Path)
		}
	}
	return l, true
}

func (p *parser) refund(n *yaml.Node, path string) voucher.RefundRequest {
	d := p.d
	var r voucher.RefundRequest
	fields, ok := d.Map(n, path, "order", "lines", "consumed")
	if !ok {
		return r
	}
	d.Require(n, path, fields, "order")
	for _, f := range fields {
		switch f.Key {
		case "order":
			r.OrderID, _ = d.NonEmptyString(f.Value, f.Path)
		case "lines":
			r.Lines, _, _ = d.Strings(f.Value, f.Path)
			if r.Lines == nil {
				r.Lines = []string{}
			}
		case "consumed":
			r.Consumed, _ = d.Decimal(f.Value, f.Path, true)
		}
	}
	return r
}

// expect reads a step's expectations, refusing keys that do not apply to its action.
func (p *parser) expect(n *yaml.Node, path string, st *Step) Expect {
	d := p.d
	var e Expect
	fields, ok := d.Map(n, path, expectKeys...)
	if !ok {
		return e
	}
	var errField *yamlx.Field
	for i, f := range fields {
		if acts := expectApplies[f.Key]; acts != nil && !slices.Contains(acts, st.Action) {
			d.Errorf(f.KeyNode, f.Path, "applies to %s steps, not to %s", joinActions(acts), st.Action)
			continue
		}
		switch f.Key {
		case "total":
			e.Total = p.money(f)
		case "discount":
			e.Discount = p.money(f)
		case "deducted":
			e.Deducted = p.money(f)
		case "cash":
			e.Cash = p.money(f)
		case "invoiceable":
			e.Invoiceable = p.money(f)
		case "non_invoiceable":
			e.NonInvoiceable = p.money(f)
		case "cash_refund":
			e.CashRefund = p.money(f)
		case "applied":
			e.Applied = p.amounts(f, false, true)
		case "forfeited":
			e.Forfeited = p.amounts(f, true, false)
		case "restored":
			e.Restored = p.amounts(f, true, false)
		case "rejected":
			e.Rejected = p.rejected(f)
		case "lines":
			e.Lines = p.lines(f, st)
		case "wallet":
			e.Wallet = p.walletExpect(f)
		case "error":
			errField = &fields[i]
			if code, ok := d.NonEmptyString(f.Value, f.Path); ok {
				if codes := stepErrors[st.Action]; !slices.Contains(codes, code) {
					d.Errorf(f.Value, f.Path, "%s steps fail with one of %s, not %q", st.Action, strings.Join(codes, ", "), code)
				}
				e.Error = code
			}
		}
	}
	if errField != nil {
		for _, f := range fields {
			if f.Key != "error" && f.Key != "wallet" {
				d.Errorf(f.KeyNode, f.Path, "a step expected to fail has no %s to compare; only wallet may go with error", f.Key)
			}
		}
	}
	return e
}

func (p *parser) money(f yamlx.Field) *decimal.Decimal {
	v, ok := p.d.Decimal(f.Value, f.Path, false)
	if !ok {
		return nil
	}
	return &v
}

// instrumentKey checks that key names a wallet instrument: by id, or (where codes is
// set) a typed-in instrument by its code, which is then the only way to name it.
func (p *parser) instrumentKey(k *yaml.Node, path, key string, codes bool) bool {
	if p.rs == nil || p.byID == nil {
		return true
	}
	if in, ok := p.byID[key]; ok {
		if codes && p.typedCode(in.Type) {
			p.d.Errorf(k, path, "instrument %q is typed in as a code: name it by the code as typed, %q", key, in.Code)
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
	p.d.Errorf(k, path, "%q is not %s", key, what)
	return false
}

// amounts reads {key: amount}; positive requires every amount above zero.
func (p *parser) amounts(f yamlx.Field, positive, codes bool) map[string]decimal.Decimal {
	d := p.d
	entries, ok := d.Map(f.Value, f.Path)
	if !ok {
		return nil
	}
	out := make(map[string]decimal.Decimal, len(entries))
	for _, g := range entries {
		if !p.instrumentKey(g.KeyNode, g.Path, g.Key, codes) {
			continue
		}
		v, ok := d.Decimal(g.Value, g.Path, false)
		if !ok {
			continue
		}
		if positive && v.IsZero() {
			d.Errorf(g.Value, g.Path, "only amounts above zero are listed; leave %s out", g.Key)
			continue
		}
		out[g.Key] = v
	}
	return out
}

func (p *parser) rejected(f yamlx.Field) map[string]voucher.Reason {
	d := p.d
	entries, ok := d.Map(f.Value, f.Path)
	if !ok {
		return nil
	}
	out := make(map[string]voucher.Reason, len(entries))
	for _, g := range entries {
		if !p.instrumentKey(g.KeyNode, g.Path, g.Key, true) {
			continue
		}
		s, ok := d.NonEmptyString(g.Value, g.Path)
		if !ok {
			continue
		}
		if !slices.Contains(voucher.Reasons(), voucher.Reason(s)) {
			names := make([]string, 0, len(voucher.Reasons()))
			for _, r := range voucher.Reasons() {
				names = append(names, string(r))
			}
			d.Errorf(g.Value, g.Path, "unknown rejection reason %q; want one of %s", s, strings.Join(names, ", "))
			continue
		}
		out[g.Key] = voucher.Reason(s)
	}
	return out
}

func (p *parser) lines(f yamlx.Field, st *Step) map[string]LineExpect {
	d := p.d
	entries, ok := d.Map(f.Value, f.Path)
	if !ok {
		return nil
	}
	ids := make([]string, 0, len(st.Order.Lines))
	for _, l := range st.Order.Lines {
		ids = append(ids, l.ID)
	}
	out := make(map[string]LineExpect, len(entries))
	for _, g := range entries {
		if !slices.Contains(ids, g.Key) {
			d.Errorf(g.KeyNode, g.Path, "the order has no line %q; its lines are %s", g.Key, strings.Join(ids, ", "))
			continue
		}
		lf, ok := d.Map(g.Value, g.Path, lineExpectKeys...)
		if !ok {
			continue
		}
		var le LineExpect
		for _, h := range lf {
			switch h.Key {
			case "discount":
				le.Discount = p.money(h)
			case "deducted":
				le.Deducted = p.money(h)
			case "cash":
				le.Cash = p.money(h)
			case "invoiceable":
				le.Invoiceable = p.money(h)
			}
		}
		out[g.Key] = le
	}
	return out
}

func (p *parser) walletExpect(f yamlx.Field) map[string]InstrumentExpect {
	d := p.d
	entries, ok := d.Map(f.Value, f.Path)
	if !ok {
		return nil
	}
	out := make(map[string]InstrumentExpect, len(entries))
	for _, g := range entries {
		if !p.instrumentKey(g.KeyNode, g.Path, g.Key, false) {
			continue
		}
		wf, ok := d.Map(g.Value, g.Path, walletExpectKeys...)
		if !ok {
			continue
		}
		var ie InstrumentExpect
		for _, h := range wf {
			switch h.Key {
			case "balance", "held":
				if in := p.byID[g.Key]; in != nil && p.kind(in.Type) == voucher.Discount {
					d.Errorf(h.KeyNode, h.Path, "applies to deduction instruments only; %s is a %s, a discount: expect its status", g.Key, in.Type)
					continue
				}
				if h.Key == "balance" {
					ie.Balance = p.money(h)
				} else {
					ie.Held = p.money(h)
				}
			case "status":
				if s, ok := d.NonEmptyString(h.Value, h.Path); ok {
					if !voucher.Status(s).Valid() {
						d.Errorf(h.Value, h.Path, "unknown status %q; want one of used_up, expired, pending_activation, not_yet_effective, available", s)
						continue
					}
					ie.Status = voucher.Status(s)
				}
			}
		}
		out[g.Key] = ie
	}
	return out
}

// sortedKeys returns the keys of m, sorted byte by byte.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
