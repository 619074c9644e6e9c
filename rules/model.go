package rules

import (
	"time"

	"github.com/voucherkit/voucherkit/internal/yamlx"
	"github.com/voucherkit/voucherkit/voucher"
)

// The file model of a rule set: each key of the format is declared once, here, and
// Parse, the "known keys" messages, the positions of errors and schema/ruleset.json all
// come from these declarations (see internal/yamlx).

// ruleSetFile is a rule-set file's top level.
type ruleSetFile struct {
	Extends       string                  `yaml:"extends" check:"nonempty" doc:"the rule set this one is laid over: a built-in name (aws, aliyun, ...); its keys are replaced by this file's, type by type"`
	Name          string                  `yaml:"name" check:"required,nonempty" doc:"the rule set's name"`
	Version       string                  `yaml:"version" doc:"the version of the top level, shown as name@version"`
	Description   string                  `yaml:"description" check:"text" doc:"what the rule set encodes, for people"`
	Currency      string                  `yaml:"currency" check:"required,nonempty" doc:"ISO 4217 code of every amount (three upper-case letters)"`
	Scale         *int                    `yaml:"scale" check:"max=8" doc:"decimal places of the currency; default: its ISO scale (2 for a code voucherkit does not know)"`
	Rounding      *Rounding               `yaml:"rounding" doc:"how amounts finer than the scale are rounded; default half_away_from_zero"`
	TimeZone      *string                 `yaml:"time_zone" check:"nonempty,zone" doc:"IANA zone dates without a time are read in; default UTC"`
	EffectiveFrom *time.Time              `yaml:"effective_from" doc:"when this version comes into force; absent: from the beginning"`
	NeverCovers   []string                `yaml:"never_covers" doc:"products no instrument type of the rule set pays for"`
	Stages        []stageFile             `yaml:"stages" check:"required" empty:"must list at least one stage" doc:"the pricing stages, in order: discounts, then deductions"`
	Types         yamlx.Entries[typeFile] `yaml:"types" check:"required" empty:"must define at least one instrument type" doc:"the instrument types, by name (lower-case letters, digits, underscores)"`
	Versions      []versionFile           `yaml:"versions" doc:"other versions of the rule set, each laid over the top level from its effective_from"`
}

// versionFile is one item of versions: everything but identity, laid over the top level.
type versionFile struct {
	Version       string                  `yaml:"version" check:"required" doc:"this version's name"`
	Description   string                  `yaml:"description" check:"text" doc:"what this version changes"`
	EffectiveFrom time.Time               `yaml:"effective_from" check:"required" doc:"when this version comes into force"`
	Rounding      *Rounding               `yaml:"rounding" doc:"replaces the top level's rounding"`
	TimeZone      *string                 `yaml:"time_zone" check:"nonempty,zone" doc:"replaces the top level's time zone"`
	NeverCovers   []string                `yaml:"never_covers" doc:"replaces the top level's list"`
	Stages        []stageFile             `yaml:"stages" empty:"must list at least one stage" doc:"replaces the top level's stages"`
	Types         yamlx.Entries[typeFile] `yaml:"types" check:"partial" doc:"each type's keys are laid over the top level's type of that name; a new name adds a type"`
}

// stageFile is one item of stages.
type stageFile struct {
	Name string    `yaml:"name" check:"required,nonempty" doc:"the stage's name, which types name"`
	Kind stageKind `yaml:"kind" check:"required" doc:"discount: takes a share off the price; deduction: pays from a balance"`
}

// stageKind is voucher.Kind as a rule set writes it.
type stageKind string

// typeFile is one instrument type.
type typeFile struct {
	Description           string                `yaml:"description" check:"text" doc:"what the type is, for people"`
	Stage                 string                `yaml:"stage" check:"required,nonempty" doc:"the stage the type belongs to"`
	PerOrderLimit         int                   `yaml:"per_order_limit" doc:"how many of this type one order may use; 0: no limit"`
	TypedCode             bool                  `yaml:"typed_code" doc:"a buyer types the code: no owner, never selected automatically"`
	Selection             []SortKey             `yaml:"selection" doc:"automatic selection order; ties always end on the id"`
	Allocation            *Allocation           `yaml:"allocation" doc:"how an amount is spread over the lines it covers; default proportional"`
	OrderTypes            []voucher.OrderType   `yaml:"order_types" empty:"must name at least one order type" doc:"the order types an instrument of this type applies to by default; default: all"`
	PaymentTypes          []voucher.PaymentType `yaml:"payment_types" empty:"must name at least one payment type" doc:"the payment types it applies to by default; default: both"`
	FirstPurchaseOnly     bool                  `yaml:"first_purchase_only" doc:"by default, only for an account's first purchase"`
	ValidityAfterClaim    time.Duration         `yaml:"validity_after_claim" doc:"an instrument with a claim time and no expiry expires this long after its claim (\"30d\", \"720h\")"`
	EffectiveOnActivation bool                  `yaml:"effective_on_activation" doc:"an activated instrument is effective from its activation"`
	CarryOver             *bool                 `yaml:"carry_over" doc:"a deduction's remaining balance stays usable after an order; default true"`
	Invoiceable           bool                  `yaml:"invoiceable" doc:"what the type pays may be invoiced"`
	Refund                *voucher.RefundRule   `yaml:"refund" doc:"what a refund does with what a deduction paid; default forfeit"`
	NeverCovers           []string              `yaml:"never_covers" doc:"products this type never pays for, besides the rule set's"`
	Shared                bool                  `yaml:"shared" doc:"an instrument of this type may pay the charges of other accounts of its organization's bill"`
}

func init() {
	yamlx.RegisterEnum("rounding", RoundHalfAwayFromZero, RoundHalfEven, RoundDown, RoundUp)
	yamlx.RegisterEnum("allocation", AllocProportional, AllocLargestLineFirst, AllocSpendDesc)
	yamlx.RegisterEnum("sort key", sortKeys...)
	yamlx.RegisterEnum("stage kind", stageKind(voucher.Discount.String()), stageKind(voucher.Deduction.String()))
	yamlx.RegisterEnum("order type", voucher.OrderTypes()...)
	yamlx.RegisterEnum("payment type", voucher.PaymentTypes()...)
	yamlx.RegisterEnum("refund rule", voucher.RefundForfeit, voucher.RefundRestore)
}

// Schema is the JSON Schema of a rule-set file, from the declarations Parse reads. A
// file that extends another needs only its name, and its types are laid over the base's
// (each may leave out what the base says): those parts of the schema apply only to a
// file without extends.
func Schema() map[string]any {
	s := yamlx.Schema(ruleSetFile{}, "voucherkit rule set",
		"A cloud provider's rules for credits, vouchers, coupons and promo codes: stages, instrument types, versions.")
	props := s["properties"].(map[string]any)
	types := props["types"].(map[string]any)
	props["types"] = yamlx.Partial(types)
	s["if"] = map[string]any{"required": []string{"extends"}}
	s["then"] = map[string]any{"required": []string{"name"}}
	s["else"] = map[string]any{"required": s["required"], "properties": map[string]any{"types": types}}
	delete(s, "required")
	return s
}

// TopKeys are the keys a rule-set file may have at its top level, in order.
func TopKeys() []string { return yamlx.Fields(ruleSetFile{}) }
