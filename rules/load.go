package rules

import (
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // rule sets name IANA zones; carry the database so any machine can load them

	"go.yaml.in/yaml/v3"

	"github.com/voucherkit/voucherkit/internal/codes"
	"github.com/voucherkit/voucherkit/internal/excerpt"
	"github.com/voucherkit/voucherkit/internal/yamlx"
	"github.com/voucherkit/voucherkit/voucher"
)

// ErrInvalidRuleSet is wrapped by every error Parse and Load report; voucher.ErrorCode
// gives "invalid_rule_set".
var ErrInvalidRuleSet error = codes.New("invalid_rule_set", "invalid rule set")

// Resolver returns the file name and text of the rule set called name, for
// `extends: NAME`. providers.Resolve resolves the built-in rule sets.
type Resolver func(name string) (file string, data []byte, err error)

// ParseOption configures Parse and Load.
type ParseOption func(*parseConfig)

type parseConfig struct {
	resolve Resolver
	depth   int
}

// WithResolver lets a rule set extend others: `extends: NAME` is looked up through r.
func WithResolver(r Resolver) ParseOption { return func(c *parseConfig) { c.resolve = r } }

// maxExtends bounds a chain of rule sets extending one another.
const maxExtends = 8

// Load reads and validates the rule set file name from fsys.
func Load(fsys fs.FS, name string, opts ...ParseOption) (*RuleSet, error) {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidRuleSet, err)
	}
	return Parse(name, data, opts...)
}

// Parse reads and validates a rule set from data; file names it in errors. Every
// problem is reported at once, as Errors, each with file, line, column and key.
//
// A file may hold several versions: the top level is one, and `versions:` lists the
// others, each laid over the top level (a key given replaces the top level's; under
// types, each type's keys are laid over that type) and in force from its
// `effective_from`. A file may build on another rule set with `extends: NAME`, laid over
// it the same way; NAME is found through the Resolver given WithResolver.
func Parse(file string, data []byte, opts ...ParseOption) (*RuleSet, error) {
	cfg := &parseConfig{}
	for _, o := range opts {
		o(cfg)
	}
	return parse(file, data, cfg)
}

func parse(file string, data []byte, cfg *parseConfig) (*RuleSet, error) {
	d, root, err := yamlx.Parse(file, data)
	if err != nil {
		d.Tag(ErrInvalidRuleSet)
		return nil, d.Err()
	}
	rs := decodeFile(d, root, cfg)
	if d.Failed() {
		d.Tag(ErrInvalidRuleSet)
		return nil, d.Err()
	}
	return rs, nil
}

// decodeFile resolves extends, decodes the top-level version and every other version.
func decodeFile(d *yamlx.Doc, root *yaml.Node, cfg *parseConfig) *RuleSet {
	if !isMap(root) {
		d.Map(root, "") // reports "must be a mapping"
		return nil
	}
	top, extends, ok := resolveExtends(d, root, cfg)
	if !ok {
		return nil
	}
	rs := decodeRuleSet(d, without(top, "versions", "extends"))
	rs.Source, rs.Extends = d.File, extends
	vn := yamlx.ValueOf(top, "versions")
	if vn == nil {
		return rs
	}
	items, ok := d.Seq(vn, "versions")
	if !ok {
		return rs
	}
	froms := map[string]string{fromKey(rs.EffectiveFrom): "the top level"}
	for i, it := range items {
		p := yamlx.Index("versions", i)
		if !yamlx.CheckKeys(yamlx.NewCtx(d), it, p, versionFile{}) {
			continue
		}
		v := decodeRuleSet(d, overlay(without(top, "versions", "extends", "effective_from"), it))
		v.Source, v.Extends = d.File, extends
		if v.EffectiveFrom == nil {
			continue // reported
		}
		if prev, dup := froms[fromKey(v.EffectiveFrom)]; dup {
			d.Errorf(yamlx.ValueOf(it, "effective_from"), yamlx.Join(p, "effective_from"), "%s is also the effective_from of %s", v.EffectiveFrom.Format(time.RFC3339), prev)
		}
		froms[fromKey(v.EffectiveFrom)] = p
		rs.Versions = append(rs.Versions, v)
	}
	slices.SortStableFunc(rs.Versions, func(a, b *RuleSet) int { return compareFrom(a.EffectiveFrom, b.EffectiveFrom) })
	return rs
}

// fromKey is an effective time as a map key: "" for from the beginning.
func fromKey(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// resolveExtends returns root laid over the rule set it extends (root itself when it
// extends none) and the name it extends.
func resolveExtends(d *yamlx.Doc, root *yaml.Node, cfg *parseConfig) (*yaml.Node, string, bool) {
	n := yamlx.ValueOf(root, "extends")
	if n == nil {
		return root, "", true
	}
	name, ok := d.NonEmptyString(n, "extends")
	if !ok {
		return nil, "", false
	}
	base := loadBase(d, n, name, cfg)
	if base == nil {
		return nil, "", false
	}
	top := overlay(base, root, "versions", "extends")
	if v := yamlx.ValueOf(root, "versions"); v != nil {
		top.Content = append(top.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "versions"}, v)
	}
	if yamlx.ValueOf(root, "name") == nil {
		d.Errorf(root, "name", "is required in a rule set that extends another")
	}
	return top, name, true
}

func loadBase(d *yamlx.Doc, at *yaml.Node, name string, cfg *parseConfig) *yaml.Node {
	if cfg.resolve == nil {
		d.Errorf(at, "extends", "cannot extend %s here: no resolver (load the file through providers.LoadFile or rules.WithResolver)", excerpt.Quote(name))
		return nil
	}
	if cfg.depth >= maxExtends {
		d.Errorf(at, "extends", "rule sets extend one another more than %d deep (a cycle?)", maxExtends)
		return nil
	}
	file, data, err := cfg.resolve(name)
	if err != nil {
		d.Errorf(at, "extends", "%v", err)
		return nil
	}
	bd, base, err := yamlx.Parse(file, data)
	if err != nil {
		d.Errorf(at, "extends", "rule set %s does not parse: %v", excerpt.Quote(name), err)
		return nil
	}
	if !isMap(base) {
		d.Errorf(at, "extends", "rule set %s is not a mapping", excerpt.Quote(name))
		return nil
	}
	if n := yamlx.ValueOf(base, "extends"); n != nil {
		inner, ok := bd.NonEmptyString(n, "extends")
		if !ok {
			d.Errorf(at, "extends", "rule set %s has a bad extends", excerpt.Quote(name))
			return nil
		}
		sub := &parseConfig{resolve: cfg.resolve, depth: cfg.depth + 1}
		deeper := loadBase(d, at, inner, sub)
		if deeper == nil {
			return nil
		}
		base = overlay(deeper, base, "versions", "extends")
	}
	// The base must itself be valid on its own terms.
	if _, err := parse(file, data, &parseConfig{resolve: cfg.resolve, depth: cfg.depth + 1}); err != nil {
		d.Errorf(at, "extends", "rule set %s is invalid: %v", excerpt.Quote(name), err)
		return nil
	}
	d.MarkOrigin(base, file)
	return without(base, "versions", "extends")
}

func decodeRuleSet(d *yamlx.Doc, root *yaml.Node) *RuleSet {
	rs := &RuleSet{Rounding: RoundHalfAwayFromZero, TimeZone: "UTC", Location: time.UTC}
	c := yamlx.NewCtx(d)
	var f ruleSetFile
	yamlx.Decode(c, root, "", &f)
	rs.Name, rs.Version, rs.Description, rs.NeverCovers = f.Name, f.Version, f.Description, f.NeverCovers
	if f.Rounding != nil {
		rs.Rounding = *f.Rounding
	}
	if f.TimeZone != nil && c.Loc != nil {
		rs.TimeZone, rs.Location = *f.TimeZone, c.Loc
	}
	rs.EffectiveFrom = f.EffectiveFrom
	rs.Currency = decodeCurrency(c, f)
	rs.Stages = decodeStages(c, f.Stages)
	rs.Types = make([]InstrumentType, 0, len(f.Types))
	for _, e := range f.Types {
		rs.Types = append(rs.Types, decodeType(c, e, rs))
	}
	crossCheck(c, rs)
	return rs
}

// decodeCurrency is the currency with the file's scale, or its ISO scale.
func decodeCurrency(c *yamlx.Ctx, f ruleSetFile) voucher.Currency {
	if f.Currency == "" {
		return voucher.Currency{} // reported
	}
	cur, err := voucher.LookupCurrency(f.Currency)
	if err != nil {
		c.Errorf("currency", "currency code %s is not three upper-case letters", excerpt.Quote(f.Currency))
		return voucher.Currency{}
	}
	if f.Scale != nil {
		// The scale's range (0 to 8) is declared in the file model, so this cannot fail.
		cur, _ = voucher.NewCurrency(f.Currency, int32(*f.Scale))
	}
	return cur
}

func decodeStages(c *yamlx.Ctx, files []stageFile) []Stage {
	stages := make([]Stage, 0, len(files))
	seen := map[string]bool{}
	for i, sf := range files {
		st := Stage{Name: sf.Name}
		st.Kind, _ = voucher.ParseKind(string(sf.Kind))
		if sf.Name != "" {
			if seen[sf.Name] {
				c.Errorf(yamlx.Join(yamlx.Index("stages", i), "name"), "stage %s is declared twice", excerpt.Quote(sf.Name))
			}
			seen[sf.Name] = true
		}
		stages = append(stages, st)
	}
	return stages
}

func decodeType(c *yamlx.Ctx, e yamlx.Entry[typeFile], rs *RuleSet) InstrumentType {
	f := e.Value
	it := InstrumentType{
		Name: e.Key, Description: f.Description, Stage: f.Stage, PerOrderLimit: f.PerOrderLimit,
		TypedCode: f.TypedCode, Allocation: AllocProportional,
		OrderTypes: voucher.OrderTypes(), PaymentTypes: voucher.PaymentTypes(),
		FirstPurchaseOnly: f.FirstPurchaseOnly, ValidityAfterClaim: f.ValidityAfterClaim,
		EffectiveOnActivation: f.EffectiveOnActivation, CarryOver: true, Invoiceable: f.Invoiceable, Shared: f.Shared,
		Refund: voucher.RefundForfeit, Selection: decodeSelection(c, e.Path, f.Selection),
	}
	if !validName(e.Key) {
		c.KeyErrorf(e.Path, "type name %s must be lower-case letters, digits and underscores", excerpt.Quote(e.Key))
	}
	if f.Allocation != nil {
		it.Allocation = *f.Allocation
	}
	if f.OrderTypes != nil {
		it.OrderTypes = f.OrderTypes
	}
	if f.PaymentTypes != nil {
		it.PaymentTypes = f.PaymentTypes
	}
	if f.CarryOver != nil {
		it.CarryOver = *f.CarryOver
	}
	if f.Refund != nil {
		it.Refund = *f.Refund
	}
	if st := stageNamed(rs, f.Stage); st != nil {
		it.Kind = st.Kind
	} else if f.Stage != "" && len(rs.Stages) > 0 {
		c.Errorf(yamlx.Join(e.Path, "stage"), "unknown stage %s; the stages are %s", excerpt.Quote(f.Stage), stageNames(rs))
	}
	if f.Refund != nil && it.Kind == voucher.Discount {
		c.Errorf(yamlx.Join(e.Path, "refund"), "applies to deduction types only; %s is in discount stage %s", it.Name, excerpt.Quote(it.Stage))
	}
	it.NeverCovers = append(slices.Clone(rs.NeverCovers), f.NeverCovers...)
	slices.Sort(it.NeverCovers)
	it.NeverCovers = slices.Compact(it.NeverCovers)
	return it
}

func stageNamed(rs *RuleSet, name string) *Stage {
	for i := range rs.Stages {
		if rs.Stages[i].Name == name {
			return &rs.Stages[i]
		}
	}
	return nil
}

// decodeSelection ends the order on the id, which must come last when it is given.
func decodeSelection(c *yamlx.Ctx, typePath string, keys []SortKey) []SortKey {
	path := yamlx.Join(typePath, "selection")
	for i, k := range keys {
		if k == SortID && i != len(keys)-1 {
			c.Errorf(yamlx.Index(path, i), "id is the final tie-break and must come last")
		}
	}
	out := slices.Clone(keys)
	if len(out) == 0 || out[len(out)-1] != SortID {
		out = append(out, SortID)
	}
	return out
}

// crossCheck lists each stage's types and reports a stage that has none.
func crossCheck(c *yamlx.Ctx, rs *RuleSet) {
	for i := range rs.Stages {
		st := &rs.Stages[i]
		for _, t := range rs.Types {
			if t.Stage == st.Name {
				st.Types = append(st.Types, t.Name)
			}
		}
	}
	if len(rs.Types) == 0 {
		return
	}
	for i, st := range rs.Stages {
		if st.Name != "" && len(st.Types) == 0 {
			c.Errorf(yamlx.Index("stages", i), "stage %s has no instrument type", excerpt.Quote(st.Name))
		}
	}
}

func stageNames(rs *RuleSet) string {
	names := make([]string, len(rs.Stages))
	for i, s := range rs.Stages {
		names[i] = s.Name
	}
	return strings.Join(names, ", ")
}

func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}
