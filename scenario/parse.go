package scenario

import (
	"errors"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"go.yaml.in/yaml/v3"

	"github.com/voucherkit/voucherkit/internal/codes"
	"github.com/voucherkit/voucherkit/internal/yamlx"
	"github.com/voucherkit/voucherkit/providers"
	"github.com/voucherkit/voucherkit/rules"
	"github.com/voucherkit/voucherkit/voucher"
)

// ErrInvalid is wrapped by every error Parse and Load report for a file that is not a
// valid scenario (or wallet, or order) file; voucher.ErrorCode gives "invalid_file".
var ErrInvalid error = codes.New("invalid_file", "invalid file")

// Error is one problem in a file, with its file, line, column and key path.
type Error = yamlx.Error

// Errors is every problem of one file, sorted by position; it unwraps to each Error.
type Errors = yamlx.Errors

// Option configures Parse and Load.
type Option func(*config)

type config struct {
	dir      string
	dirSet   bool
	root     string
	rootSet  bool
	anyPath  bool
	ruleSets map[string]*rules.RuleSet
}

// WithDir sets the directory that a provider path is relative to (default: the
// directory of the scenario file).
func WithDir(dir string) Option {
	return func(c *config) { c.dir, c.dirSet = dir, true }
}

// WithRoot sets the directory tree a provider path must stay inside (default: the
// directory a provider path is relative to, the scenario file's own unless WithDir
// says otherwise). A provider path is refused, with a positioned error that names it
// but nothing of what it points at, when it is absolute, when it leads outside the
// root lexically or once symbolic links are resolved, or when it does not name a .yaml
// or .yml file: a scenario file cannot make whoever runs it read, and print, a file
// outside the tree they gave (voucherkit test DIR gives DIR; scenariotest.RunFiles gives the
// directory each pattern names).
func WithRoot(dir string) Option {
	return func(c *config) { c.root, c.rootSet = dir, true }
}

// WithAnyProviderPath lets a provider path name any rule-set file, absolute or outside
// the root: only for scenario files as trusted as the program that runs them.
func WithAnyProviderPath() Option {
	return func(c *config) { c.anyPath = true }
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
	if !c.rootSet {
		c.root = c.dir
	}
	return c
}

// Load reads and parses the scenario file at path. An unreadable file is an error that
// wraps the os error (and ErrInvalid).
func Load(path string, opts ...Option) (*Scenario, error) {
	data, err := providers.ReadFile(path)
	if err != nil {
		return nil, &readError{err}
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
	p := &parser{d: d, c: c, ctx: yamlx.NewCtx(d)}
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
	insts, _, err := parseWallet(file, data, rs, account, now, false)
	return insts, err
}

// ParseWalletFor is ParseWallet for comparing rule sets: entries whose type rs does not
// define are left out (their ids and types are returned) instead of being errors.
func ParseWalletFor(file string, data []byte, rs *rules.RuleSet, account string, now time.Time) ([]voucher.Instrument, []string, error) {
	return parseWallet(file, data, rs, account, now, true)
}

func parseWallet(file string, data []byte, rs *rules.RuleSet, account string, now time.Time, skip bool) ([]voucher.Instrument, []string, error) {
	d, root, err := yamlx.Parse(file, data)
	if err != nil {
		d.Tag(ErrInvalid)
		return nil, nil, d.Err()
	}
	p := &parser{d: d, ctx: yamlx.NewCtx(d), rs: rs, account: account, now: now, skipUnknownTypes: skip}
	p.ctx.Loc = rs.Location
	entries := p.walletEntries(root, "wallet")
	insts := p.wallet(entries)
	if d.Failed() {
		d.Tag(ErrInvalid)
		return nil, nil, d.Err()
	}
	return insts, p.skipped, nil
}

// ParseOrder reads an order file: one order in the scenario order syntax, for account
// when it names none. An order file is not a scenario: an order a scenario's step
// would fail with invalid_order (an unknown order type, no items, a negative amount)
// is a problem of the file here, at its position.
func ParseOrder(file string, data []byte, account string) (voucher.Order, error) {
	d, root, err := yamlx.Parse(file, data)
	if err != nil {
		d.Tag(ErrInvalid)
		return voucher.Order{}, d.Err()
	}
	p := &parser{d: d, ctx: yamlx.NewCtx(d), account: account}
	var f orderFile
	yamlx.Decode(p.ctx, root, "order", &f)
	o := p.order(f, "order")
	if !d.Failed() {
		p.positioned(o.Validate(), "order")
	}
	if d.Failed() {
		d.Tag(ErrInvalid)
		return voucher.Order{}, d.Err()
	}
	return o, nil
}

// readError is a file Load cannot read: its text is the reason, and it wraps both
// ErrInvalid and the reason (fs.ErrNotExist, ...).
type readError struct{ err error }

func (e *readError) Error() string   { return e.err.Error() }
func (e *readError) Unwrap() []error { return []error{ErrInvalid, e.err} }

// positioned reports each problem of a domain ValidationError (voucher.FieldError,
// "items[1].amount") at the node decoded at that field path under path, or the nearest
// enclosing one; another error at path itself.
func (p *parser) positioned(err error, path string) {
	if err == nil {
		return
	}
	var ve *voucher.ValidationError
	if !errors.As(err, &ve) {
		p.ctx.Errorf(path, "%v", err)
		return
	}
	for _, pr := range ve.Problems {
		key := path + "." + pr.Field
		if path == "" {
			key = pr.Field
		}
		p.ctx.Errorf(key, "%s", pr.Problem)
	}
}

// stepErrors are the error codes each action may fail with, in the spec's order.
var stepErrors = map[Action][]*voucher.CodeError{
	ActionQuote:    {voucher.ErrClockBackwards, voucher.ErrInvalidOrder, voucher.ErrCurrencyMismatch, voucher.ErrUnknownInstrument, voucher.ErrCodeNotFound},
	ActionCheckout: {voucher.ErrClockBackwards, voucher.ErrDuplicateOrder, voucher.ErrInvalidOrder, voucher.ErrCurrencyMismatch, voucher.ErrUnknownInstrument, voucher.ErrCodeNotFound},
	ActionReserve:  {voucher.ErrClockBackwards, voucher.ErrDuplicateOrder, voucher.ErrInvalidOrder, voucher.ErrCurrencyMismatch, voucher.ErrUnknownInstrument, voucher.ErrCodeNotFound},
	ActionCapture:  {voucher.ErrClockBackwards, voucher.ErrNotReserved},
	ActionRelease:  {voucher.ErrClockBackwards, voucher.ErrNotReserved},
	ActionRefund:   {voucher.ErrClockBackwards, voucher.ErrUnknownOrder, voucher.ErrInvalidRefund, voucher.ErrAlreadyRefunded},
	ActionActivate: {voucher.ErrClockBackwards, voucher.ErrCodeNotFound, voucher.ErrCodeAlreadyUsed, voucher.ErrCodeExpired},
	ActionSettle:   {voucher.ErrClockBackwards, voucher.ErrDuplicateOrder, voucher.ErrInvalidOrder, voucher.ErrCurrencyMismatch, voucher.ErrUnknownInstrument, voucher.ErrCodeNotFound},
	ActionSharing:  {voucher.ErrClockBackwards},
	ActionAdvance:  {voucher.ErrClockBackwards},
}

// stepErrorCodes are the codes of stepErrors[a].
func stepErrorCodes(a Action) []string {
	codes := make([]string, len(stepErrors[a]))
	for i, e := range stepErrors[a] {
		codes[i] = e.Code()
	}
	return codes
}

// expectApplies says which actions each expectation key applies to (nil: every action).
var expectApplies = map[string][]Action{
	"total": pricing, "discount": pricing, "deducted": pricing, "cash": pricing,
	"invoiceable": pricing, "non_invoiceable": pricing, "applied": pricing,
	"rejected": pricing, "lines": pricing,
	"accounts":    {ActionSettle},
	"cash_refund": {ActionRefund},
	"restored":    {ActionRefund},
	"forfeited":   {ActionRefund, ActionAdvance, ActionRelease, ActionSettle},
}

var pricing = []Action{ActionQuote, ActionCheckout, ActionReserve, ActionSettle}

type parser struct {
	d   *yamlx.Doc
	ctx *yamlx.Ctx
	c   *config
	rs  *rules.RuleSet // nil when the provider is unusable: type checks are skipped
	// account is the default account, now the default issued_at.
	account string
	now     time.Time
	// byID and byCode index the wallet, for checking the keys of expectations.
	byID   map[string]*voucher.Instrument
	byCode map[string]*voucher.Instrument
	// orgs are the scenario's organizations, for checking settle and sharing steps.
	orgs []voucher.Organization
	// skipUnknownTypes leaves out wallet entries of types the rule set does not define,
	// listing them in skipped (for comparing rule sets).
	skipUnknownTypes bool
	skipped          []string
}

// scenario decodes the file, its provider first (dates are read in its time zone),
// then gives each part its meaning.
func (p *parser) scenario(root *yaml.Node) *Scenario {
	s := &Scenario{Account: DefaultAccount}
	if n := yamlx.ValueOf(root, "provider"); n != nil {
		s.Provider, s.RuleSet = p.provider(n)
		if s.RuleSet != nil {
			p.rs, p.ctx.Loc = s.RuleSet, s.RuleSet.Location
		}
	}
	var f scenarioFile
	if !p.decodeTop(root, &f) {
		return s
	}
	s.Name, s.Now = f.Name, f.Now
	if f.Account != "" {
		s.Account = f.Account
	}
	p.account, p.now = s.Account, s.Now
	entries := make([]walletEntry, len(f.Wallet))
	for i := range f.Wallet {
		entries[i] = walletEntry{index: i, f: f.Wallet[i]}
	}
	s.Wallet = p.wallet(entries)
	p.index(s.Wallet)
	s.Organizations = p.organizations(f.Organizations, "organizations")
	p.orgs = s.Organizations
	s.Steps = p.steps(f.Steps, "steps")
	return s
}

// decodeTop decodes the whole file; false when it is not a mapping at all.
func (p *parser) decodeTop(root *yaml.Node, f *scenarioFile) bool {
	if r := yamlx.Resolve(root); r == nil || r.Kind != yaml.MappingNode {
		p.d.Map(root, "") // reports "must be a mapping"
		return false
	}
	yamlx.Decode(p.ctx, root, "", f)
	return true
}

// provider resolves a built-in name or a path relative to the scenario file.
func (p *parser) provider(n *yaml.Node) (string, *rules.RuleSet) {
	name, ok := p.d.NonEmptyString(n, "provider")
	if !ok {
		return "", nil
	}
	if rs, ok := p.c.ruleSets[name]; ok && rs != nil {
		return name, rs
	}
	var opts []providers.LookupOption
	if !p.c.anyPath {
		opts = append(opts, providers.Within(p.c.root))
	}
	rs, err := providers.Lookup(name, p.c.dir, opts...)
	if err != nil {
		// The error wraps ErrInvalid and what Lookup's wraps (ErrOutsideRoot, an os error).
		p.d.ErrorWrap(n, "provider", errors.Join(ErrInvalid, err), "%v", err)
		return name, nil
	}
	return name, rs
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

// inRange reports an amount of the rule set's currency that voucherkit cannot hold: a
// value the file gives that the library cannot represent makes the file invalid (the
// spec's Errors), rather than failing some later step. Only the range is checked here
// (Currency.Problem on the amount rounded to the scale, as the engine rounds a line);
// an amount finer than the scale is left to the step that reads it.
func (p *parser) inRange(path string, v decimal.Decimal) {
	if p.rs == nil {
		return
	}
	cur := p.rs.Currency
	if problem := cur.Problem(v.Round(cur.Scale())); problem != "" {
		p.ctx.Errorf(path, "%s", problem)
	}
}

// maxLinesTotal is how many times the largest amount an order's lines may add up to:
// the engine's bound on a total.
const maxLinesTotal = 1000

// totalInRange reports an order whose lines add up to more than the engine holds.
func (p *parser) totalInRange(path string, lines []voucher.Line) {
	if p.rs == nil {
		return
	}
	cur := p.rs.Currency
	limit := cur.MaxAmount().Mul(decimal.NewFromInt(maxLinesTotal))
	sum := decimal.Zero
	for _, l := range lines {
		sum = sum.Add(l.Amount.Round(cur.Scale()).Abs())
	}
	if sum.GreaterThan(limit) {
		p.ctx.Errorf(path, "the lines add up to %s, beyond the %s voucherkit holds in one order", sum, limit)
	}
}

func joinActions(as []Action) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = string(a)
	}
	return strings.Join(s, ", ")
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
