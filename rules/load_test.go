package rules_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/voucherkit/voucherkit/rules"
	"github.com/voucherkit/voucherkit/voucher"
)

// typeKeysHint and topKeysHint are the "known keys" lists the loader prints.
const (
	topKeysHint  = "known keys: extends, name, version, description, currency, scale, rounding, time_zone, effective_from, never_covers, stages, types, versions"
	typeKeysHint = "known keys: description, stage, per_order_limit, typed_code, selection, allocation, order_types, payment_types, first_purchase_only, validity_after_claim, effective_on_activation, carry_over, invoiceable, refund, never_covers, shared"
)

// malformedCases maps each file of testdata/malformed to every error it must produce,
// in order. Each file is a small rule set with one class of problem (several_problems
// has many); TestMalformedFilesAreAllListed keeps the table and the directory in step.
var malformedCases = []struct {
	file string
	want []string
}{
	// YAML itself.
	{"syntax_scanner.yaml", []string{
		"syntax_scanner.yaml:2:1: invalid YAML: mapping values are not allowed in this context"}},
	// The flow sequence that is never closed opens on line 3. yaml.v3 reports parser
	// (not scanner) errors on the 0-based line of their context; see TestSyntaxErrorLines
	// in internal/yamlx.
	{"syntax.yaml", []string{
		"syntax.yaml:3:1: invalid YAML: did not find expected ',' or ']'"}},
	// yaml.v3 gives no position for an unknown anchor: a whole-document error.
	{"unknown_anchor.yaml", []string{
		"unknown_anchor.yaml: invalid YAML: unknown anchor 'wallet_type' referenced"}},
	{"empty.yaml", []string{"empty.yaml: document is empty"}},
	{"not_mapping.yaml", []string{"not_mapping.yaml:1:1: must be a mapping, got a list"}},
	// A second document must not be silently dropped.
	{"second_document.yaml", []string{
		"second_document.yaml:7:1: found a second YAML document; a file holds exactly one"}},
	{"alias_bomb.yaml", []string{
		"alias_bomb.yaml:3:53: document is too large: its aliases expand it to more than the limit of 200000 nodes (keys, values, list items)"}},
	{"too_deep.yaml", []string{"too_deep.yaml:3:78: nesting is deeper than 64 levels"}},
	{"merge_key.yaml", []string{
		"merge_key.yaml:8:5: types.credit.<<: merge keys are not supported",
		"merge_key.yaml:8:5: types.credit.stage: is required"}},

	// Keys.
	{"unknown_top_key.yaml", []string{
		"unknown_top_key.yaml:3:1: owner: unknown key (" + topKeysHint + ")"}},
	{"unknown_type_key.yaml", []string{
		"unknown_type_key.yaml:8:5: types.voucher.max_per_order: unknown key (" + typeKeysHint + ")"}},
	{"unknown_stage_key.yaml", []string{
		"unknown_stage_key.yaml:6:5: stages[0].order: unknown key (known keys: name, kind)"}},
	{"duplicate_key.yaml", []string{"duplicate_key.yaml:7:1: currency: duplicate key"}},
	{"missing_required.yaml", []string{
		"missing_required.yaml:1:1: name: is required",
		"missing_required.yaml:1:1: currency: is required",
		"missing_required.yaml:1:1: stages: is required",
		"missing_required.yaml:1:1: types: is required"}},
	// Only the missing key: no second, unpositioned complaint about stages.
	{"missing_stages.yaml", []string{"missing_stages.yaml:1:1: stages: is required"}},
	{"missing_type_stage.yaml", []string{"missing_type_stage.yaml:8:5: types.credit.stage: is required"}},
	{"missing_stage_fields.yaml", []string{
		"missing_stage_fields.yaml:5:5: stages[1].name: is required",
		"missing_stage_fields.yaml:6:5: stages[2].kind: is required",
		"missing_stage_fields.yaml:6:5: stages[2]: stage \"coupons\" has no instrument type"}},

	// Wrong YAML types.
	{"string_for_int.yaml", []string{
		"string_for_int.yaml:8:22: types.voucher.per_order_limit: must be an integer, got str \"one\""}},
	{"list_for_mapping.yaml", []string{"list_for_mapping.yaml:6:3: types: must be a mapping, got a list"}},
	{"stages_not_list.yaml", []string{"stages_not_list.yaml:3:9: stages: must be a list, got a mapping"}},
	{"number_for_bool.yaml", []string{
		"number_for_bool.yaml:8:17: types.voucher.carry_over: must be true or false, got int \"1\""}},
	{"bool_for_string.yaml", []string{"bool_for_string.yaml:1:7: name: must be a string, got bool \"true\""}},
	{"null_for_string.yaml", []string{"null_for_string.yaml:2:10: currency: must be a string, got null"}},
	{"huge_number.yaml", []string{
		"huge_number.yaml:8:22: types.voucher.per_order_limit: must be an integer, got str \"1e999999\""}},

	// Stages.
	{"unknown_stage_kind.yaml", []string{
		"unknown_stage_kind.yaml:4:26: stages[0].kind: unknown stage kind \"rebate\"; want discount or deduction"}},
	{"duplicate_stage.yaml", []string{
		"duplicate_stage.yaml:5:12: stages[1].name: stage \"wallet\" is declared twice"}},
	{"no_stages.yaml", []string{"no_stages.yaml:3:9: stages: must list at least one stage"}},
	{"stage_without_types.yaml", []string{
		"stage_without_types.yaml:4:5: stages[0]: stage \"coupons\" has no instrument type"}},
	// The empty stage is the second item ("discounts"), not the first (a bad item).
	{"stage_not_mapping.yaml", []string{
		"stage_not_mapping.yaml:4:5: stages[0]: must be a mapping, got str \"coupons\"",
		"stage_not_mapping.yaml:5:5: stages[1]: stage \"discounts\" has no instrument type"}},

	// Types.
	{"no_types.yaml", []string{"no_types.yaml:5:8: types: must define at least one instrument type"}},
	{"invalid_type_name.yaml", []string{
		"invalid_type_name.yaml:6:3: types.Gift-Card: type name \"Gift-Card\" must be lower-case letters, digits and underscores"}},
	{"unknown_stage_ref.yaml", []string{
		"unknown_stage_ref.yaml:7:22: types.gift_card.stage: unknown stage \"gifts\"; the stages are wallet"}},
	{"unknown_sort_key.yaml", []string{
		"unknown_sort_key.yaml:8:30: types.voucher.selection[1]: unknown sort key \"biggest_first\"; want one of balance_desc, balance_asc, expires_asc, issued_asc, scope_size_asc, discount_desc, deductible_desc, id"}},
	{"id_not_last.yaml", []string{
		"id_not_last.yaml:8:17: types.voucher.selection[0]: id is the final tie-break and must come last"}},
	{"duplicate_sort_key.yaml", []string{
		"duplicate_sort_key.yaml:11:9: types.voucher.selection[2]: \"expires_asc\" is listed twice"}},
	{"unknown_allocation.yaml", []string{
		"unknown_allocation.yaml:8:17: types.voucher.allocation: unknown allocation \"evenly\"; want proportional, largest_line_first or spend_desc"}},
	{"unknown_order_type.yaml", []string{
		"unknown_order_type.yaml:8:24: types.voucher.order_types[1]: unknown order type \"resale\"; want one of new, renewal, upgrade, os_change, trial_conversion, usage"}},
	{"unknown_payment_type.yaml", []string{
		"unknown_payment_type.yaml:8:35: types.voucher.payment_types[1]: unknown payment type \"prepaid\"; want subscription or pay_as_you_go"}},
	{"empty_order_types.yaml", []string{
		"empty_order_types.yaml:8:18: types.voucher.order_types: must name at least one order type"}},
	{"unknown_refund.yaml", []string{
		"unknown_refund.yaml:8:13: types.voucher.refund: unknown refund rule \"partial\"; want forfeit or restore"}},
	{"refund_on_discount.yaml", []string{
		"refund_on_discount.yaml:8:13: types.coupon.refund: applies to deduction types only; coupon is in discount stage \"coupons\""}},
	{"bad_validity.yaml", []string{
		"bad_validity.yaml:8:27: types.words.validity_after_claim: invalid duration: \"thirty days\" is not a positive duration such as \"15m\" or \"30d\"",
		"bad_validity.yaml:11:27: types.negative.validity_after_claim: invalid duration: \"-1d\" is not a positive number of days such as \"30d\"",
		"bad_validity.yaml:14:27: types.zero.validity_after_claim: invalid duration: \"0d\" is not a positive number of days such as \"30d\""}},
	{"negative_limit.yaml", []string{
		"negative_limit.yaml:8:22: types.voucher.per_order_limit: must be between 0 and 1000000, got -1"}},

	// Rule-set settings.
	{"unknown_time_zone.yaml", []string{
		"unknown_time_zone.yaml:3:12: time_zone: unknown time zone \"Mars/Olympus_Mons\"; want an IANA name such as Asia/Shanghai or UTC"}},
	// "Local" is the machine's zone, not an IANA name: the same file would price
	// differently on different machines.
	{"local_time_zone.yaml", []string{
		"local_time_zone.yaml:3:12: time_zone: unknown time zone \"Local\"; want an IANA name such as Asia/Shanghai or UTC"}},
	{"unknown_rounding.yaml", []string{
		"unknown_rounding.yaml:3:11: rounding: unknown rounding \"bankers\"; want half_away_from_zero, half_even, down or up"}},
	{"bad_currency.yaml", []string{
		"bad_currency.yaml:2:11: currency: currency code \"usd\" is not three upper-case letters"}},
	{"scale_out_of_range.yaml", []string{"scale_out_of_range.yaml:3:8: scale: must be between 0 and 8, got 9"}},

	// Everything at once, sorted by line although the loader reads types last.
	{"several_problems.yaml", []string{
		"several_problems.yaml:2:11: currency: currency code \"usd\" is not three upper-case letters",
		"several_problems.yaml:5:26: stages[1].kind: unknown stage kind \"deductions\"; want discount or deduction",
		"several_problems.yaml:6:5: stages[2]: stage \"unused\" has no instrument type",
		"several_problems.yaml:10:17: types.voucher.selection[0]: id is the final tie-break and must come last",
		"several_problems.yaml:11:13: types.voucher.refund: unknown refund rule \"keep\"; want forfeit or restore",
		"several_problems.yaml:14:13: types.coupon.refund: applies to deduction types only; coupon is in discount stage \"coupons\"",
		"several_problems.yaml:15:5: types.coupon.colour: unknown key (" + typeKeysHint + ")",
		"several_problems.yaml:17:12: types.gift.stage: unknown stage \"gifts\"; the stages are coupons, wallet, unused",
		"several_problems.yaml:18:12: time_zone: unknown time zone \"Nowhere/Special\"; want an IANA name such as Asia/Shanghai or UTC"}},
}

// loadWithin loads name from fsys, failing the test if that takes longer than limit
// (an alias bomb must fail fast, not hang).
func loadWithin(t *testing.T, limit time.Duration, fsys fs.FS, name string) (*rules.RuleSet, error) {
	t.Helper()
	type result struct {
		rs  *rules.RuleSet
		err error
	}
	done := make(chan result, 1)
	go func() {
		rs, err := rules.Load(fsys, name)
		done <- result{rs, err}
	}()
	select {
	case r := <-done:
		return r.rs, r.err
	case <-time.After(limit):
		t.Fatalf("loading %s took longer than %v", name, limit)
		return nil, nil
	}
}

func TestParseMalformed(t *testing.T) {
	fsys := os.DirFS("testdata/malformed")
	for _, tc := range malformedCases {
		t.Run(strings.TrimSuffix(tc.file, ".yaml"), func(t *testing.T) {
			rs, err := loadWithin(t, 10*time.Second, fsys, tc.file)
			require.Error(t, err)
			assert.Nil(t, rs)

			var es rules.Errors
			require.ErrorAs(t, err, &es, "Parse reports rules.Errors")
			got := make([]string, len(es))
			for i, e := range es {
				got[i] = e.Error()
			}
			assert.Equal(t, tc.want, got)
			assert.Equal(t, strings.Join(tc.want, "\n"), err.Error())

			assert.ErrorIs(t, err, rules.ErrInvalidRuleSet)
			for _, e := range es {
				assert.ErrorIs(t, e, rules.ErrInvalidRuleSet, "each error wraps the sentinel: %v", e)
				assert.Equal(t, tc.file, e.File)
			}

			// The same bytes through Parse give the same errors.
			data, rerr := fs.ReadFile(fsys, tc.file)
			require.NoError(t, rerr)
			_, perr := rules.Parse(tc.file, data)
			require.Error(t, perr)
			assert.Equal(t, err.Error(), perr.Error())
		})
	}
}

func TestMalformedFilesAreAllListed(t *testing.T) {
	files, err := filepath.Glob("testdata/malformed/*.yaml")
	require.NoError(t, err)
	var onDisk, listed []string
	for _, f := range files {
		onDisk = append(onDisk, filepath.Base(f))
	}
	for _, tc := range malformedCases {
		listed = append(listed, tc.file)
	}
	slices.Sort(listed)
	assert.Equal(t, onDisk, listed, "every malformed file has exactly one table row")
	assert.GreaterOrEqual(t, len(listed), 40)
}

func TestErrorFields(t *testing.T) {
	cases := []struct {
		file           string
		line, column   int
		key, msg       string
		wholeDocument  bool
		errorsReported int
	}{
		{file: "unknown_type_key.yaml", line: 8, column: 5, key: "types.voucher.max_per_order",
			msg: "unknown key (" + typeKeysHint + ")", errorsReported: 1},
		{file: "duplicate_stage.yaml", line: 5, column: 12, key: "stages[1].name",
			msg: "stage \"wallet\" is declared twice", errorsReported: 1},
		{file: "not_mapping.yaml", line: 1, column: 1, key: "", msg: "must be a mapping, got a list", errorsReported: 1},
		{file: "empty.yaml", key: "", msg: "document is empty", wholeDocument: true, errorsReported: 1},
		// errors.As finds the first error of several: the one on the earliest line.
		{file: "several_problems.yaml", line: 2, column: 11, key: "currency",
			msg: "currency code \"usd\" is not three upper-case letters", errorsReported: 9},
	}
	fsys := os.DirFS("testdata/malformed")
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			_, err := rules.Load(fsys, tc.file)
			require.Error(t, err)
			require.ErrorIs(t, err, rules.ErrInvalidRuleSet)

			var e *rules.Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tc.file, e.File)
			assert.Equal(t, tc.line, e.Line)
			assert.Equal(t, tc.column, e.Column)
			assert.Equal(t, tc.key, e.Key)
			assert.Equal(t, tc.msg, e.Msg)
			assert.ErrorIs(t, e, rules.ErrInvalidRuleSet)
			if tc.wholeDocument {
				assert.Zero(t, e.Line)
			}

			var es rules.Errors
			require.ErrorAs(t, err, &es)
			assert.Len(t, es, tc.errorsReported)
			assert.Same(t, es[0], e)
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	rs, err := rules.Load(fstest.MapFS{}, "nowhere.yaml")
	require.Error(t, err)
	assert.Nil(t, rs)
	assert.ErrorIs(t, err, rules.ErrInvalidRuleSet)
	assert.Contains(t, err.Error(), "nowhere.yaml")
	assert.True(t, strings.HasPrefix(err.Error(), "invalid rule set: "), err.Error())
	assert.Equal(t, "invalid_rule_set", voucher.ErrorCode(err))
}

// fullTypes are the types of testdata/valid/full.yaml, every default filled in.
var fullTypes = []rules.InstrumentType{
	{
		Name:          "credit",
		Description:   "a credit with every key set",
		Stage:         "wallet",
		Kind:          voucher.Deduction,
		PerOrderLimit: 3,
		Selection: []rules.SortKey{rules.SortBalanceAsc, rules.SortIssuedAsc, rules.SortScopeSizeAsc,
			rules.SortDeductibleDesc, rules.SortBalanceDesc, rules.SortID},
		Allocation:            rules.AllocLargestLineFirst,
		OrderTypes:            []voucher.OrderType{voucher.OrderUsage, voucher.OrderRenewal},
		PaymentTypes:          []voucher.PaymentType{voucher.PayAsYouGo},
		ValidityAfterClaim:    36 * time.Hour,
		EffectiveOnActivation: true,
		CarryOver:             false,
		Invoiceable:           true,
		Refund:                voucher.RefundRestore,
		// The rule set's list and the type's, sorted, each product once.
		NeverCovers: []string{"domains", "gift_cards", "marketplace", "support"},
	},
	{
		Name:               "code",
		Description:        "typed in at checkout",
		Stage:              "promo",
		Kind:               voucher.Discount,
		PerOrderLimit:      1,
		TypedCode:          true,
		Selection:          []rules.SortKey{rules.SortDiscountDesc, rules.SortExpiresAsc, rules.SortID},
		Allocation:         rules.AllocProportional,
		OrderTypes:         []voucher.OrderType{voucher.OrderNew, voucher.OrderUpgrade},
		PaymentTypes:       []voucher.PaymentType{voucher.PaySubscription},
		FirstPurchaseOnly:  true,
		ValidityAfterClaim: 30 * 24 * time.Hour,
		CarryOver:          true,
		Refund:             voucher.RefundForfeit,
		NeverCovers:        []string{"gift_cards", "marketplace"},
	},
	{
		Name:         "voucher",
		Stage:        "wallet",
		Kind:         voucher.Deduction,
		Selection:    []rules.SortKey{rules.SortID},
		Allocation:   rules.AllocProportional,
		OrderTypes:   voucher.OrderTypes(),
		PaymentTypes: voucher.PaymentTypes(),
		CarryOver:    true,
		Refund:       voucher.RefundForfeit,
		NeverCovers:  []string{"gift_cards", "marketplace"},
	},
}

func TestParseFull(t *testing.T) {
	rs, err := rules.Load(os.DirFS("testdata/valid"), "full.yaml")
	require.NoError(t, err)

	assert.Equal(t, "full.yaml", rs.Source)
	assert.Equal(t, "shop", rs.Name)
	assert.Equal(t, "2026.1", rs.Version)
	assert.Equal(t, "shop@2026.1", rs.ID())
	assert.Equal(t, "every key of a rule set", rs.Description)
	assert.Equal(t, "EUR", rs.Currency.Code())
	assert.Equal(t, int32(3), rs.Currency.Scale(), "scale overrides the currency's own")
	assert.Equal(t, rules.RoundHalfEven, rs.Rounding)
	assert.Equal(t, "Europe/Berlin", rs.TimeZone)
	require.NotNil(t, rs.Location)
	assert.Equal(t, "Europe/Berlin", rs.Location.String())
	assert.Equal(t, []string{"marketplace", "gift_cards"}, rs.NeverCovers, "the rule set's own list keeps its order")

	assert.Equal(t, []rules.Stage{
		{Name: "promo", Kind: voucher.Discount, Types: []string{"code"}},
		{Name: "wallet", Kind: voucher.Deduction, Types: []string{"credit", "voucher"}},
	}, rs.Stages)

	assert.Equal(t, fullTypes, rs.Types)

	credit, ok := rs.Type("credit")
	require.True(t, ok)
	assert.Same(t, &rs.Types[0], credit)
	assert.False(t, credit.Covers("support"))
	assert.False(t, credit.Covers("marketplace"), "the rule set's list applies to every type")
	assert.True(t, credit.Covers("ecs"))
	assert.Equal(t, voucher.TypePolicy{
		Name:                  "credit",
		Kind:                  voucher.Deduction,
		EffectiveOnActivation: true,
		ClaimValidity:         36 * time.Hour,
		CarryOver:             false,
		Invoiceable:           true,
		Refund:                voucher.RefundRestore,
	}, credit.Policy())
	code, ok := rs.Type("code")
	require.True(t, ok)
	assert.True(t, code.Policy().TypedCode)
	assert.True(t, code.Covers("support"), "another type's own list does not apply")
	_, ok = rs.Type("nope")
	assert.False(t, ok)
}

func TestParseDefaults(t *testing.T) {
	rs, err := rules.Load(os.DirFS("testdata/valid"), "minimal.yaml")
	require.NoError(t, err)

	assert.Equal(t, "tiny", rs.Name)
	assert.Equal(t, "", rs.Version)
	assert.Equal(t, "tiny", rs.ID(), "no version: the id is the name")
	assert.Equal(t, "", rs.Description)
	assert.Equal(t, "JPY", rs.Currency.Code())
	assert.Equal(t, int32(0), rs.Currency.Scale(), "without scale: the currency's ISO scale")
	assert.Equal(t, rules.RoundHalfAwayFromZero, rs.Rounding)
	assert.Equal(t, "UTC", rs.TimeZone)
	assert.Equal(t, time.UTC, rs.Location)
	assert.Empty(t, rs.NeverCovers)
	assert.Equal(t, []rules.Stage{{Name: "wallet", Kind: voucher.Deduction, Types: []string{"voucher"}}}, rs.Stages)

	require.Len(t, rs.Types, 1)
	v := rs.Types[0]
	assert.Equal(t, "voucher", v.Name)
	assert.Equal(t, "wallet", v.Stage)
	assert.Equal(t, voucher.Deduction, v.Kind, "kind comes from the stage")
	assert.Equal(t, 0, v.PerOrderLimit, "no limit")
	assert.False(t, v.TypedCode)
	assert.Equal(t, []rules.SortKey{rules.SortID}, v.Selection)
	assert.Equal(t, rules.AllocProportional, v.Allocation)
	assert.Equal(t, []voucher.OrderType{"new", "renewal", "upgrade", "os_change", "trial_conversion", "usage"}, v.OrderTypes)
	assert.Equal(t, []voucher.PaymentType{"subscription", "pay_as_you_go"}, v.PaymentTypes)
	assert.False(t, v.FirstPurchaseOnly)
	assert.Zero(t, v.ValidityAfterClaim)
	assert.False(t, v.EffectiveOnActivation)
	assert.True(t, v.CarryOver)
	assert.False(t, v.Invoiceable)
	assert.Equal(t, voucher.RefundForfeit, v.Refund)
	assert.Empty(t, v.NeverCovers)
	assert.True(t, v.Covers("anything"))
}

// minimalWith is a valid rule set with the extra top-level lines top (which may name
// the currency) and whose one type, voucher, has the extra lines typeKeys.
func minimalWith(top, typeKeys string) []byte {
	if !strings.Contains(top, "currency:") {
		top = "currency: CNY\n" + top
	}
	return []byte("name: shop\n" + top + "stages:\n  - {name: wallet, kind: deduction}\n" +
		"types:\n  voucher:\n    stage: wallet\n" + typeKeys)
}

func TestParseValues(t *testing.T) {
	cases := []struct {
		name      string
		top, keys string
		check     func(t *testing.T, rs *rules.RuleSet)
	}{
		{"selection gets id appended", "", "    selection: [expires_asc]\n", func(t *testing.T, rs *rules.RuleSet) {
			assert.Equal(t, []rules.SortKey{rules.SortExpiresAsc, rules.SortID}, rs.Types[0].Selection)
		}},
		{"selection ending in id keeps one id", "", "    selection: [balance_desc, id]\n", func(t *testing.T, rs *rules.RuleSet) {
			assert.Equal(t, []rules.SortKey{rules.SortBalanceDesc, rules.SortID}, rs.Types[0].Selection)
		}},
		{"empty selection is id", "", "    selection: []\n", func(t *testing.T, rs *rules.RuleSet) {
			assert.Equal(t, []rules.SortKey{rules.SortID}, rs.Types[0].Selection)
		}},
		{"validity in hours", "", "    validity_after_claim: 90m\n", func(t *testing.T, rs *rules.RuleSet) {
			assert.Equal(t, 90*time.Minute, rs.Types[0].ValidityAfterClaim)
		}},
		{"per_order_limit upper bound", "", "    per_order_limit: 1000000\n", func(t *testing.T, rs *rules.RuleSet) {
			assert.Equal(t, 1_000_000, rs.Types[0].PerOrderLimit)
		}},
		{"unknown but well-formed currency has scale 2", "currency: XTS\n", "", func(t *testing.T, rs *rules.RuleSet) {
			assert.Equal(t, "XTS", rs.Currency.Code())
			assert.Equal(t, int32(2), rs.Currency.Scale())
		}},
		{"known currency has its ISO scale", "currency: KWD\n", "", func(t *testing.T, rs *rules.RuleSet) {
			assert.Equal(t, int32(3), rs.Currency.Scale())
		}},
		{"scale 0 and 8 are in range", "scale: 8\n", "", func(t *testing.T, rs *rules.RuleSet) {
			assert.Equal(t, int32(8), rs.Currency.Scale())
		}},
		{"rounding modes", "rounding: down\n", "", func(t *testing.T, rs *rules.RuleSet) {
			assert.Equal(t, rules.RoundDown, rs.Rounding)
		}},
		{"quoted numbers are strings", "version: \"2\"\n", "", func(t *testing.T, rs *rules.RuleSet) {
			assert.Equal(t, "2", rs.Version)
			assert.Equal(t, "shop@2", rs.ID())
		}},
		{"aliases are followed", "never_covers: &nc [marketplace]\n", "    never_covers: *nc\n", func(t *testing.T, rs *rules.RuleSet) {
			assert.Equal(t, []string{"marketplace"}, rs.NeverCovers)
			assert.Equal(t, []string{"marketplace"}, rs.Types[0].NeverCovers, "deduplicated")
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rs, err := rules.Parse("v.yaml", minimalWith(tc.top, tc.keys))
			require.NoError(t, err)
			require.NotNil(t, rs)
			tc.check(t, rs)
		})
	}
}

// FuzzParseRuleSet: Parse never panics, and whatever it refuses comes back as
// rules.Errors, each error positioned (whole-document errors excepted), keyed when it
// has a position, wrapping ErrInvalidRuleSet, and sorted; whatever it accepts is
// consistent.
func FuzzParseRuleSet(f *testing.F) {
	for _, pattern := range []string{"../providers/*.yaml", "testdata/malformed/*.yaml", "testdata/valid/*.yaml"} {
		files, err := filepath.Glob(pattern)
		require.NoError(f, err)
		require.NotEmpty(f, files, pattern)
		for _, file := range files {
			data, err := os.ReadFile(file)
			require.NoError(f, err)
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := rules.Parse("fuzz.yaml", data)
		if err != nil {
			if rs != nil {
				t.Fatalf("Parse returned a rule set and an error: %v", err)
			}
			checkRefused(t, err)
			return
		}
		checkAccepted(t, rs)
	})
}

// checkRefused checks what FuzzParseRuleSet says of an error of Parse.
func checkRefused(t *testing.T, err error) {
	es, ok := err.(rules.Errors)
	if !ok {
		t.Fatalf("error is %T, not rules.Errors: %v", err, err)
	}
	if len(es) == 0 {
		t.Fatal("empty rules.Errors")
	}
	for i, e := range es {
		if e == nil {
			t.Fatalf("error %d is nil", i)
		}
		if e.File == "" {
			t.Errorf("error without a file: %v", e)
		}
		if e.Msg == "" {
			t.Errorf("error without a message: %v", e)
		}
		if !errors.Is(e, rules.ErrInvalidRuleSet) {
			t.Errorf("error does not wrap ErrInvalidRuleSet: %v", e)
		}
		if e.Line <= 0 {
			// Only a whole-document error (empty, too large, unpositioned syntax
			// error) has no line; it names no key.
			if e.Line < 0 || e.Column != 0 || e.Key != "" {
				t.Errorf("unpositioned error that is not about the whole document: %q (line %d, column %d, key %q)", e.Error(), e.Line, e.Column, e.Key)
			}
		} else if e.Column <= 0 {
			t.Errorf("error with a line but no column: %v", e)
		}
		if i > 0 && e.File == es[i-1].File {
			p := es[i-1]
			if p.Line > e.Line || p.Line == e.Line && p.Column > e.Column {
				t.Errorf("errors out of order: %v before %v", p, e)
			}
		}
	}
}

// checkAccepted checks what FuzzParseRuleSet says of a rule set Parse accepted.
func checkAccepted(t *testing.T, rs *rules.RuleSet) {
	if rs == nil {
		t.Fatal("no rule set and no error")
	}
	if rs.Name == "" || rs.Currency.IsZero() || len(rs.Stages) == 0 || len(rs.Types) == 0 || rs.Location == nil {
		t.Fatalf("accepted an incomplete rule set: %+v", rs)
	}
	for _, ty := range rs.Types {
		i := slices.IndexFunc(rs.Stages, func(s rules.Stage) bool { return s.Name == ty.Stage })
		if i < 0 {
			t.Fatalf("type %s is in unknown stage %q", ty.Name, ty.Stage)
		}
		if ty.Kind != rs.Stages[i].Kind || (ty.Kind != voucher.Discount && ty.Kind != voucher.Deduction) {
			t.Fatalf("type %s has kind %v, its stage %v", ty.Name, ty.Kind, rs.Stages[i].Kind)
		}
		if len(ty.Selection) == 0 || ty.Selection[len(ty.Selection)-1] != rules.SortID {
			t.Fatalf("type %s selection %v does not end on id", ty.Name, ty.Selection)
		}
		if len(ty.OrderTypes) == 0 || len(ty.PaymentTypes) == 0 || !ty.Refund.Valid() {
			t.Fatalf("type %s lacks defaults: %+v", ty.Name, ty)
		}
		if !slices.IsSorted(ty.NeverCovers) {
			t.Fatalf("type %s never_covers not sorted: %v", ty.Name, ty.NeverCovers)
		}
	}
	for _, st := range rs.Stages {
		if len(st.Types) == 0 {
			t.Fatalf("stage %s has no type", st.Name)
		}
	}
}
