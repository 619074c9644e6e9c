package rules

import (
	"slices"
	"time"

	"github.com/voucherkit/voucherkit/internal/fixed"
	"github.com/voucherkit/voucherkit/internal/yamlx"
	"github.com/voucherkit/voucherkit/voucher"
)

// Error is one problem in a rule set, with its file, line, column and key path.
type Error = yamlx.Error

// Errors is every problem found in one rule set, sorted by position. It unwraps to each
// Error, so errors.Is finds the sentinels below.
type Errors = yamlx.Errors

// Rounding is how amounts finer than the rule set's scale are rounded.
type Rounding string

// The rounding modes a rule set may name.
const (
	RoundHalfAwayFromZero Rounding = "half_away_from_zero"
	RoundHalfEven         Rounding = "half_even"
	RoundDown             Rounding = "down"
	RoundUp               Rounding = "up"
)

func (r Rounding) mode() fixed.Mode {
	switch r {
	case RoundHalfEven:
		return fixed.HalfEven
	case RoundDown:
		return fixed.Down
	case RoundUp:
		return fixed.Up
	}
	return fixed.HalfAwayFromZero
}

// SortKey is one key of an instrument type's automatic selection order.
type SortKey string

// The selection sort keys. Ties always end on the instrument id, byte by byte.
const (
	SortBalanceDesc    SortKey = "balance_desc"
	SortBalanceAsc     SortKey = "balance_asc"
	SortExpiresAsc     SortKey = "expires_asc"
	SortIssuedAsc      SortKey = "issued_asc"
	SortScopeSizeAsc   SortKey = "scope_size_asc"
	SortDiscountDesc   SortKey = "discount_desc"
	SortDeductibleDesc SortKey = "deductible_desc"
	SortID             SortKey = "id"
)

var sortKeys = []SortKey{SortBalanceDesc, SortBalanceAsc, SortExpiresAsc, SortIssuedAsc,
	SortScopeSizeAsc, SortDiscountDesc, SortDeductibleDesc, SortID}

// Allocation is how an amount is spread over the lines it covers.
type Allocation string

// The allocation rules.
const (
	// AllocProportional: in proportion to the lines' payable amounts, largest remainder.
	AllocProportional Allocation = "proportional"
	// AllocLargestLineFirst: to the line with the most still payable, then the next.
	AllocLargestLineFirst Allocation = "largest_line_first"
	// AllocSpendDesc: AWS's "largest service charge first": to the product with the
	// most still payable, within it the SKU, within it the line; on a bill, the
	// instrument's owner's charges first, then the account with the most still payable.
	AllocSpendDesc Allocation = "spend_desc"
)

// Stage is one step of pricing: its instruments are all discounts or all deductions.
type Stage struct {
	Name string
	Kind voucher.Kind
	// Types are the instrument types of this stage, in declaration order.
	Types []string
}

// InstrumentType is what a rule set says of one kind of instrument.
type InstrumentType struct {
	Name        string
	Description string
	Stage       string
	Kind        voucher.Kind
	// PerOrderLimit is how many of this type one order may use; 0 means no limit.
	PerOrderLimit int
	// TypedCode: a buyer types the instrument's code; it has no owner and is never
	// selected automatically.
	TypedCode bool
	// Selection is the automatic selection order; ties end on the id.
	Selection  []SortKey
	Allocation Allocation
	// Defaults for instruments that do not say.
	OrderTypes        []voucher.OrderType
	PaymentTypes      []voucher.PaymentType
	FirstPurchaseOnly bool
	// ValidityAfterClaim: an instrument with a claim time and no expiry expires this
	// long after its claim; 0 means none.
	ValidityAfterClaim time.Duration
	// EffectiveOnActivation: an activated instrument is effective from its activation.
	EffectiveOnActivation bool
	CarryOver             bool
	Invoiceable           bool
	Refund                voucher.RefundRule
	// NeverCovers are products this type never pays for (the rule set's own list included).
	NeverCovers []string
	// Shared: on an organization's bill, its instruments may pay other sharing
	// accounts' charges.
	Shared bool
}

// Policy is the part of the type the Wallet needs.
func (t *InstrumentType) Policy() voucher.TypePolicy {
	return voucher.TypePolicy{
		Name:                  t.Name,
		Kind:                  t.Kind,
		TypedCode:             t.TypedCode,
		EffectiveOnActivation: t.EffectiveOnActivation,
		ClaimValidity:         t.ValidityAfterClaim,
		CarryOver:             t.CarryOver,
		Invoiceable:           t.Invoiceable,
		Refund:                t.Refund,
		Shared:                t.Shared,
	}
}

// Covers reports whether the type may ever pay for product.
func (t *InstrumentType) Covers(product string) bool {
	return !slices.Contains(t.NeverCovers, product)
}

// RuleSet is a validated rule set: pure data, read by NewEngine. Treat it as immutable
// once loaded; NewEngine copies what it needs.
type RuleSet struct {
	// Source is the file the rule set was read from.
	Source      string
	Name        string
	Version     string
	Description string
	Currency    voucher.Currency
	Rounding    Rounding
	// TimeZone is the IANA name; Location is its loaded zone. Dates without a time
	// (in scenarios) are read in it.
	TimeZone string
	Location *time.Location
	// NeverCovers are products no type of this rule set pays for.
	NeverCovers []string
	Stages      []Stage
	// Types in declaration order.
	Types []InstrumentType
	// EffectiveFrom is when this version comes into force; nil: from the beginning.
	EffectiveFrom *time.Time
	// Extends names the rule set this one was built on ("" when none).
	Extends string
	// Versions are the other versions the same file defines, by EffectiveFrom
	// ascending; each is a whole rule set. Empty on a version itself.
	Versions []*RuleSet
}

// AllVersions returns this rule set and its other versions, by EffectiveFrom ascending.
func (rs *RuleSet) AllVersions() []*RuleSet {
	all := append([]*RuleSet{rs}, rs.Versions...)
	slices.SortStableFunc(all, func(a, b *RuleSet) int { return compareFrom(a.EffectiveFrom, b.EffectiveFrom) })
	return all
}

// compareFrom orders effective times: from the beginning (nil) first.
func compareFrom(a, b *time.Time) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	return a.Compare(*b)
}

// At returns the version in force at t: the latest whose EffectiveFrom is not after t,
// or the earliest when t precedes them all.
func (rs *RuleSet) At(t time.Time) *RuleSet {
	all := rs.AllVersions()
	return all[inForce(len(all), func(i int) *time.Time { return all[i].EffectiveFrom }, t)]
}

// inForce is the one rule for which version applies at t, for RuleSet.At and the
// Engine: of n versions sorted by effective time (from(i) is the i-th one's), the index
// of the latest not after t, or 0 when t precedes them all.
func inForce(n int, from func(i int) *time.Time, t time.Time) int {
	v := 0
	for i := 1; i < n; i++ {
		if f := from(i); f == nil || !f.After(t) {
			v = i
		}
	}
	return v
}

// Type returns the instrument type called name.
func (rs *RuleSet) Type(name string) (*InstrumentType, bool) {
	for i := range rs.Types {
		if rs.Types[i].Name == name {
			return &rs.Types[i], true
		}
	}
	return nil, false
}

// TypeNames lists the instrument types in declaration order.
func (rs *RuleSet) TypeNames() []string {
	names := make([]string, len(rs.Types))
	for i := range rs.Types {
		names[i] = rs.Types[i].Name
	}
	return names
}

// ID is "name@version".
func (rs *RuleSet) ID() string {
	if rs.Version == "" {
		return rs.Name
	}
	return rs.Name + "@" + rs.Version
}
