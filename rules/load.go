package rules

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // rule sets name IANA zones; carry the database so any machine can load them

	"go.yaml.in/yaml/v3"

	"github.com/voucherkit/voucherkit/internal/yamlx"
	"github.com/voucherkit/voucherkit/voucher"
)

// ErrInvalidRuleSet is wrapped by every error Parse and Load report.
var ErrInvalidRuleSet = errors.New("rules: invalid rule set")

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
	top := root
	extends := ""
	if n := fieldNode(root, "extends"); n != nil {
		name, ok := d.NonEmptyString(n, "extends")
		if !ok {
			return nil
		}
		base := loadBase(d, n, name, cfg)
		if base == nil {
			return nil
		}
		extends = name
		top = overlay(base, root, "versions", "extends")
		if v := fieldNode(root, "versions"); v != nil {
			top.Content = append(top.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "versions"}, v)
		}
		for _, k := range []string{"name"} {
			if fieldNode(root, k) == nil {
				d.Errorf(root, k, "is required in a rule set that extends another")
			}
		}
	}
	rs := decodeRuleSet(d, without(top, "versions", "extends"))
	rs.Source, rs.Extends = d.File, extends
	vn := fieldNode(top, "versions")
	if vn == nil {
		return rs
	}
	items, ok := d.Seq(vn, "versions")
	if !ok {
		return rs
	}
	froms := map[time.Time]string{rs.EffectiveFrom: "the top level"}
	for i, it := range items {
		p := yamlx.Index("versions", i)
		fields, ok := d.Map(it, p, versionKeys...)
		if !ok {
			continue
		}
		d.Require(it, p, fields, "version", "effective_from")
		v := decodeRuleSet(d, overlay(without(top, "versions", "extends", "effective_from"), it))
		v.Source, v.Extends = d.File, extends
		fromNode := fieldNode(it, "effective_from")
		if fromNode == nil {
			continue
		}
		if prev, dup := froms[v.EffectiveFrom]; dup {
			d.Errorf(fromNode, yamlx.Join(p, "effective_from"), "%s is also the effective_from of %s", v.EffectiveFrom.Format(time.RFC3339), prev)
		}
		froms[v.EffectiveFrom] = p
		rs.Versions = append(rs.Versions, v)
	}
	slices.SortStableFunc(rs.Versions, func(a, b *RuleSet) int { return a.EffectiveFrom.Compare(b.EffectiveFrom) })
	return rs
}

// versionKeys are what a version may say: everything but identity.
var versionKeys = []string{"version", "description", "effective_from", "rounding", "time_zone",
	"never_covers", "stages", "types"}

func loadBase(d *yamlx.Doc, at *yaml.Node, name string, cfg *parseConfig) *yaml.Node {
	if cfg.resolve == nil {
		d.Errorf(at, "extends", "cannot extend %q here: no resolver (load the file through providers.LoadFile or rules.WithResolver)", name)
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
		d.Errorf(at, "extends", "rule set %q does not parse: %v", name, err)
		return nil
	}
	if !isMap(base) {
		d.Errorf(at, "extends", "rule set %q is not a mapping", name)
		return nil
	}
	if n := fieldNode(base, "extends"); n != nil {
		inner, ok := bd.NonEmptyString(n, "extends")
		if !ok {
			d.Errorf(at, "extends", "rule set %q has a bad extends", name)
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
		d.Errorf(at, "extends", "rule set %q is invalid: %v", name, err)
		return nil
	}
	d.MarkOrigin(base, file)
	return without(base, "versions", "extends")
}

var topKeys = []string{"name", "version", "description", "currency", "scale", "rounding",
	"time_zone", "effective_from", "never_covers", "stages", "types"}

var typeKeys = []string{"description", "stage", "per_order_limit", "typed_code", "selection",
	"allocation", "order_types", "payment_types", "first_purchase_only", "validity_after_claim",
	"effective_on_activation", "carry_over", "invoiceable", "refund", "never_covers"}

func decodeRuleSet(d *yamlx.Doc, root *yaml.Node) *RuleSet {
	rs := &RuleSet{Rounding: RoundHalfAwayFromZero, TimeZone: "UTC", Location: time.UTC}
	fields, ok := d.Map(root, "", topKeys...)
	if !ok {
		return rs
	}
	d.Require(root, "", fields, "name", "currency", "stages", "types")
	var currencyCode string
	var currencyNode, scaleNode *yaml.Node
	scale := -1
	var typesField *yamlx.Field
	var fromNode *yaml.Node
	for i, f := range fields {
		switch f.Key {
		case "name":
			rs.Name, _ = d.NonEmptyString(f.Value, f.Path)
		case "version":
			rs.Version, _ = d.String(f.Value, f.Path)
		case "description":
			rs.Description, _ = d.String(f.Value, f.Path)
		case "currency":
			currencyNode = f.Value
			currencyCode, _ = d.NonEmptyString(f.Value, f.Path)
		case "scale":
			scaleNode = f.Value
			scale, _ = d.Int(f.Value, f.Path, 0, 8)
		case "rounding":
			if s, ok := d.String(f.Value, f.Path); ok {
				switch r := Rounding(s); r {
				case RoundHalfAwayFromZero, RoundHalfEven, RoundDown, RoundUp:
					rs.Rounding = r
				default:
					d.Errorf(f.Value, f.Path, "unknown rounding %q; want half_away_from_zero, half_even, down or up", s)
				}
			}
		case "time_zone":
			if s, ok := d.NonEmptyString(f.Value, f.Path); ok {
				loc, err := time.LoadLocation(s)
				if err != nil || s == "Local" || strings.HasPrefix(s, "/") || strings.Contains(s, "..") {
					d.Errorf(f.Value, f.Path, "unknown time zone %q; want an IANA name such as Asia/Shanghai or UTC", s)
				} else {
					rs.TimeZone, rs.Location = s, loc
				}
			}
		case "never_covers":
			rs.NeverCovers, _ = d.StringList(f.Value, f.Path)
		case "effective_from":
			fromNode = f.Value
		case "stages":
			rs.Stages = decodeStages(d, f)
		case "types":
			typesField = &fields[i]
		}
	}
	if currencyCode != "" {
		var cur voucher.Currency
		var err error
		if scale >= 0 {
			cur, err = voucher.NewCurrency(currencyCode, int32(scale))
		} else {
			cur, err = voucher.LookupCurrency(currencyCode)
		}
		if err != nil {
			n := currencyNode
			if scale >= 0 && scaleNode != nil && voucher.ErrorCode(err) != "" && strings.Contains(err.Error(), "scale") {
				n = scaleNode
			}
			d.Errorf(n, "currency", "%v", strings.TrimPrefix(err.Error(), "voucher: invalid money: "))
		} else {
			rs.Currency = cur
		}
	}
	if fromNode != nil {
		rs.EffectiveFrom, _ = d.Time(fromNode, "effective_from", rs.Location, yamlx.StartOfDay)
	}
	if typesField != nil {
		rs.Types = decodeTypes(d, *typesField, rs)
	}
	crossCheck(d, root, rs, typesField)
	return rs
}

func decodeStages(d *yamlx.Doc, f yamlx.Field) []Stage {
	items, ok := d.Seq(f.Value, f.Path)
	if !ok {
		return nil
	}
	if len(items) == 0 {
		d.Errorf(f.Value, f.Path, "must list at least one stage")
	}
	stages := make([]Stage, 0, len(items))
	seen := map[string]bool{}
	for i, it := range items {
		p := yamlx.Index(f.Path, i)
		sf, ok := d.Map(it, p, "name", "kind")
		if !ok {
			continue
		}
		d.Require(it, p, sf, "name", "kind")
		var st Stage
		for _, g := range sf {
			switch g.Key {
			case "name":
				if s, ok := d.NonEmptyString(g.Value, g.Path); ok {
					if seen[s] {
						d.Errorf(g.Value, g.Path, "stage %q is declared twice", s)
					}
					seen[s] = true
					st.Name = s
				}
			case "kind":
				if s, ok := d.String(g.Value, g.Path); ok {
					k, ok := voucher.ParseKind(s)
					if !ok {
						d.Errorf(g.Value, g.Path, "unknown stage kind %q; want discount or deduction", s)
					}
					st.Kind = k
				}
			}
		}
		stages = append(stages, st)
	}
	return stages
}

func decodeTypes(d *yamlx.Doc, f yamlx.Field, rs *RuleSet) []InstrumentType {
	tf, ok := d.Map(f.Value, f.Path)
	if !ok {
		return nil
	}
	if len(tf) == 0 {
		d.Errorf(f.Value, f.Path, "must define at least one instrument type")
	}
	types := make([]InstrumentType, 0, len(tf))
	for _, t := range tf {
		it := decodeType(d, t, rs)
		types = append(types, it)
	}
	return types
}

func decodeType(d *yamlx.Doc, t yamlx.Field, rs *RuleSet) InstrumentType {
	it := InstrumentType{
		Name:         t.Key,
		Allocation:   AllocProportional,
		OrderTypes:   voucher.OrderTypes(),
		PaymentTypes: voucher.PaymentTypes(),
		CarryOver:    true,
		Refund:       voucher.RefundForfeit,
		Selection:    []SortKey{SortID},
	}
	if !validName(t.Key) {
		d.Errorf(t.KeyNode, t.Path, "type name %q must be lower-case letters, digits and underscores", t.Key)
	}
	fields, ok := d.Map(t.Value, t.Path, typeKeys...)
	if !ok {
		return it
	}
	d.Require(t.Value, t.Path, fields, "stage")
	var refundNode *yaml.Node
	var own []string
	for _, f := range fields {
		switch f.Key {
		case "description":
			it.Description, _ = d.String(f.Value, f.Path)
		case "stage":
			if s, ok := d.NonEmptyString(f.Value, f.Path); ok {
				it.Stage = s
				found := false
				for _, st := range rs.Stages {
					if st.Name == s {
						found = true
						it.Kind = st.Kind
					}
				}
				if !found && len(rs.Stages) > 0 {
					d.Errorf(f.Value, f.Path, "unknown stage %q; the stages are %s", s, stageNames(rs))
				}
			}
		case "per_order_limit":
			it.PerOrderLimit, _ = d.Int(f.Value, f.Path, 0, 1_000_000)
		case "typed_code":
			it.TypedCode, _ = d.Bool(f.Value, f.Path)
		case "selection":
			it.Selection = decodeSelection(d, f)
		case "allocation":
			if s, ok := d.String(f.Value, f.Path); ok {
				switch a := Allocation(s); a {
				case AllocProportional, AllocLargestLineFirst:
					it.Allocation = a
				default:
					d.Errorf(f.Value, f.Path, "unknown allocation %q; want proportional or largest_line_first", s)
				}
			}
		case "order_types":
			if list, ok := d.StringList(f.Value, f.Path); ok {
				it.OrderTypes = it.OrderTypes[:0:0]
				items, _ := d.Seq(f.Value, f.Path)
				for i, s := range list {
					ot := voucher.OrderType(s)
					if !ot.Valid() {
						d.Errorf(items[i], yamlx.Index(f.Path, i), "unknown order type %q; want one of new, renewal, upgrade, os_change, trial_conversion, usage", s)
					}
					it.OrderTypes = append(it.OrderTypes, ot)
				}
				if len(list) == 0 {
					d.Errorf(f.Value, f.Path, "must name at least one order type")
				}
			}
		case "payment_types":
			if list, ok := d.StringList(f.Value, f.Path); ok {
				it.PaymentTypes = it.PaymentTypes[:0:0]
				items, _ := d.Seq(f.Value, f.Path)
				for i, s := range list {
					pt := voucher.PaymentType(s)
					if !pt.Valid() {
						d.Errorf(items[i], yamlx.Index(f.Path, i), "unknown payment type %q; want subscription or pay_as_you_go", s)
					}
					it.PaymentTypes = append(it.PaymentTypes, pt)
				}
				if len(list) == 0 {
					d.Errorf(f.Value, f.Path, "must name at least one payment type")
				}
			}
		case "first_purchase_only":
			it.FirstPurchaseOnly, _ = d.Bool(f.Value, f.Path)
		case "validity_after_claim":
			it.ValidityAfterClaim, _ = d.Duration(f.Value, f.Path)
		case "effective_on_activation":
			it.EffectiveOnActivation, _ = d.Bool(f.Value, f.Path)
		case "carry_over":
			it.CarryOver, _ = d.Bool(f.Value, f.Path)
		case "invoiceable":
			it.Invoiceable, _ = d.Bool(f.Value, f.Path)
		case "refund":
			refundNode = f.Value
			if s, ok := d.String(f.Value, f.Path); ok {
				r := voucher.RefundRule(s)
				if !r.Valid() {
					d.Errorf(f.Value, f.Path, "unknown refund rule %q; want forfeit or restore", s)
				}
				it.Refund = r
			}
		case "never_covers":
			own, _ = d.StringList(f.Value, f.Path)
		}
	}
	if refundNode != nil && it.Kind == voucher.Discount {
		d.Errorf(refundNode, yamlx.Join(t.Path, "refund"), "applies to deduction types only; %s is in discount stage %q", it.Name, it.Stage)
	}
	it.NeverCovers = append(slices.Clone(rs.NeverCovers), own...)
	slices.Sort(it.NeverCovers)
	it.NeverCovers = slices.Compact(it.NeverCovers)
	return it
}

func decodeSelection(d *yamlx.Doc, f yamlx.Field) []SortKey {
	list, ok := d.StringList(f.Value, f.Path)
	if !ok {
		return []SortKey{SortID}
	}
	items, _ := d.Seq(f.Value, f.Path)
	keys := make([]SortKey, 0, len(list)+1)
	for i, s := range list {
		k := SortKey(s)
		if !slices.Contains(sortKeys, k) {
			names := make([]string, len(sortKeys))
			for j, sk := range sortKeys {
				names[j] = string(sk)
			}
			d.Errorf(items[i], yamlx.Index(f.Path, i), "unknown sort key %q; want one of %s", s, strings.Join(names, ", "))
			continue
		}
		if k == SortID && i != len(list)-1 {
			d.Errorf(items[i], yamlx.Index(f.Path, i), "id is the final tie-break and must come last")
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 || keys[len(keys)-1] != SortID {
		keys = append(keys, SortID)
	}
	return keys
}

func crossCheck(d *yamlx.Doc, root *yaml.Node, rs *RuleSet, typesField *yamlx.Field) {
	for i := range rs.Stages {
		st := &rs.Stages[i]
		for _, t := range rs.Types {
			if t.Stage == st.Name {
				st.Types = append(st.Types, t.Name)
			}
		}
	}
	if typesField == nil || len(rs.Types) == 0 {
		return
	}
	list := yamlx.Resolve(fieldNode(root, "stages"))
	if list == nil || list.Kind != yaml.SequenceNode {
		return // decodeStages has reported it
	}
	// rs.Stages has one stage per mapping item: decodeStages skips the others.
	j := 0
	for i, it := range list.Content {
		if !isMap(it) {
			continue
		}
		if j < len(rs.Stages) {
			if st := rs.Stages[j]; st.Name != "" && len(st.Types) == 0 {
				d.Errorf(it, yamlx.Index("stages", i), "stage %q has no instrument type", st.Name)
			}
		}
		j++
	}
}

func fieldNode(m *yaml.Node, key string) *yaml.Node {
	m = yamlx.Resolve(m)
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
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
