package providers_test

import (
	"io/fs"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/voucherkit/voucherkit/providers"
	"github.com/voucherkit/voucherkit/rules"
	"github.com/voucherkit/voucherkit/voucher"
)

func TestNamesAreTheEmbeddedFiles(t *testing.T) {
	files, err := fs.Glob(providers.FS(), "*.yaml")
	require.NoError(t, err)
	var want []string
	for _, f := range files {
		want = append(want, strings.TrimSuffix(f, ".yaml"))
	}
	slices.Sort(want)

	names := providers.Names()
	assert.Equal(t, want, names)
	assert.True(t, slices.IsSorted(names))
	assert.Contains(t, names, "aliyun")
	assert.Contains(t, names, "aws")
}

func TestEveryBuiltInLoads(t *testing.T) {
	for _, name := range providers.Names() {
		t.Run(name, func(t *testing.T) {
			rs, err := providers.Load(name)
			require.NoError(t, err)
			require.NotNil(t, rs)
			assert.Equal(t, name, rs.Name, "the file name is the rule set's name")
			assert.Equal(t, name+".yaml", rs.Source)
			assert.NotEmpty(t, rs.Version)
			assert.NotEmpty(t, rs.Description)

			src, err := providers.Source(name)
			require.NoError(t, err)
			embedded, err := fs.ReadFile(providers.FS(), name+".yaml")
			require.NoError(t, err)
			assert.Equal(t, embedded, src)

			// Every version the file defines is a whole, consistent rule set.
			for _, v := range rs.AllVersions() {
				assert.Equal(t, name, v.Name, "version %s", v.Version)
				assert.Equal(t, rs.Currency, v.Currency, "version %s", v.Version)
				require.NotEmpty(t, v.Stages, "version %s", v.Version)
				for _, st := range v.Stages {
					assert.NotEmpty(t, st.Types, "version %s stage %s", v.Version, st.Name)
				}
				for _, ty := range v.Types {
					require.NotEmpty(t, ty.Selection)
					assert.Equal(t, rules.SortID, ty.Selection[len(ty.Selection)-1], "version %s type %s", v.Version, ty.Name)
				}
			}
		})
	}
}

func TestUnknownName(t *testing.T) {
	builtIn := strings.Join(providers.Names(), ", ")
	require.Contains(t, builtIn, "aliyun, aws")
	want := `unknown provider "nope"; the built-in rule sets are ` + builtIn

	rs, err := providers.Load("nope")
	require.Error(t, err)
	assert.Nil(t, rs)
	assert.Equal(t, want, err.Error())
	assert.ErrorIs(t, err, providers.ErrUnknown)
	assert.Equal(t, "unknown_provider", voucher.ErrorCode(err))

	src, err := providers.Source("nope")
	require.Error(t, err)
	assert.Nil(t, src)
	assert.Equal(t, want, err.Error())

	// A name is not a path: nothing outside the embedded set is reachable.
	_, err = providers.Load("../rules/testdata/valid/minimal")
	require.Error(t, err)
	assert.ErrorIs(t, err, providers.ErrUnknown)
}

// specType is what the spec ("What the scenarios rely on in the built-in rule sets")
// says of one instrument type. Fields the spec leaves open are nil.
type specType struct {
	name       string
	kind       voucher.Kind
	limit      int // per_order_limit; 0: no limit
	typedCode  bool
	selection  []rules.SortKey // without the final id; nil: not said
	allocation rules.Allocation
	shared     bool // may pay other accounts' charges on an organization's bill
	orders     []voucher.OrderType
	payments   []voucher.PaymentType
	firstOnly  bool
	claim      time.Duration // validity after claim; 0: none
	onActivate *bool
	refund     voucher.RefundRule // deductions only
	never      []string           // sorted
}

type specRuleSet struct {
	name     string
	currency string
	scale    int32
	zone     string
	// types in stage order, one stage each.
	types []specType
}

var (
	specTrue       = true
	specAllOrders  = voucher.OrderTypes()
	specBothPay    = voucher.PaymentTypes()
	specSubOnly    = []voucher.PaymentType{voucher.PaySubscription}
	specPayg       = []voucher.PaymentType{voucher.PayAsYouGo}
	specMarketOnly = []string{"marketplace"}
)

var specRuleSets = []specRuleSet{
	{
		name: "aliyun", currency: "CNY", scale: 2, zone: "Asia/Shanghai",
		types: []specType{
			{
				name: "promo_code", kind: voucher.Discount, limit: 1, typedCode: true,
				allocation: rules.AllocProportional, orders: specAllOrders, payments: specSubOnly, never: specMarketOnly,
			},
			{
				name: "coupon", kind: voucher.Discount, limit: 1,
				selection:  []rules.SortKey{rules.SortExpiresAsc, rules.SortDiscountDesc},
				allocation: rules.AllocProportional,
				orders:     []voucher.OrderType{voucher.OrderNew, voucher.OrderUpgrade},
				payments:   specSubOnly, firstOnly: true, claim: 30 * 24 * time.Hour, never: specMarketOnly,
			},
			{
				name: "voucher", kind: voucher.Deduction, limit: 1,
				selection:  []rules.SortKey{rules.SortBalanceDesc, rules.SortExpiresAsc, rules.SortIssuedAsc},
				allocation: rules.AllocProportional, orders: specAllOrders, payments: specBothPay,
				refund: voucher.RefundForfeit, never: specMarketOnly,
			},
		},
	},
	{
		name: "aws", currency: "USD", scale: 2, zone: "UTC",
		types: []specType{{
			name: "credit", kind: voucher.Deduction, limit: 0,
			selection:  []rules.SortKey{rules.SortExpiresAsc, rules.SortScopeSizeAsc, rules.SortIssuedAsc},
			allocation: rules.AllocSpendDesc, shared: true,
			orders: []voucher.OrderType{voucher.OrderUsage}, payments: specPayg,
			onActivate: &specTrue, refund: voucher.RefundRestore,
			never: []string{"certification", "managed_services", "marketplace", "mechanical_turk",
				"professional_services", "ri_upfront", "route53_domains", "savings_plans_upfront",
				"support_enterprise", "training"},
		}},
	},
	{
		name: "tencentcloud", currency: "CNY", scale: 2, zone: "Asia/Shanghai",
		types: []specType{{
			name: "voucher", kind: voucher.Deduction, limit: 1,
			selection:  []rules.SortKey{rules.SortExpiresAsc, rules.SortDeductibleDesc, rules.SortBalanceAsc},
			allocation: rules.AllocProportional, orders: specAllOrders, payments: specBothPay,
			refund: voucher.RefundForfeit, never: specMarketOnly,
		}},
	},
	{
		name: "huaweicloud", currency: "CNY", scale: 2, zone: "Asia/Shanghai",
		types: []specType{
			{
				name: "discount_coupon", kind: voucher.Discount, limit: 1,
				selection:  []rules.SortKey{rules.SortExpiresAsc, rules.SortDiscountDesc},
				allocation: rules.AllocProportional, orders: specAllOrders, payments: specSubOnly, never: specMarketOnly,
			},
			{
				name: "voucher", kind: voucher.Deduction, limit: 1,
				selection:  []rules.SortKey{rules.SortScopeSizeAsc, rules.SortExpiresAsc},
				allocation: rules.AllocProportional, orders: specAllOrders, payments: specBothPay,
				refund: voucher.RefundForfeit, never: specMarketOnly,
			},
			{
				name: "cash_coupon", kind: voucher.Deduction, limit: 0,
				selection:  []rules.SortKey{rules.SortExpiresAsc},
				allocation: rules.AllocProportional, orders: specAllOrders, payments: specBothPay,
				refund: voucher.RefundForfeit, never: specMarketOnly,
			},
		},
	},
}

// The scenarios of the conformance suite run in 2026.
var specScenarioTime = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func TestBuiltInsEncodeTheSpec(t *testing.T) {
	for _, want := range specRuleSets {
		t.Run(want.name, func(t *testing.T) {
			// A provider the spec names must be built in: its absence is a failure, not a skip.
			require.Contains(t, providers.Names(), want.name, "no built-in %s rule set", want.name)
			loaded, err := providers.Load(want.name)
			require.NoError(t, err)
			rs := loaded.At(specScenarioTime)
			assert.Equal(t, loaded.Version, rs.Version, "the scenarios run under the top-level version")

			assert.Equal(t, want.currency, rs.Currency.Code())
			assert.Equal(t, want.scale, rs.Currency.Scale())
			assert.Equal(t, want.zone, rs.TimeZone)
			require.NotNil(t, rs.Location)
			assert.Equal(t, want.zone, rs.Location.String())
			assert.Equal(t, rules.RoundHalfAwayFromZero, rs.Rounding)

			// One stage per type, in the spec's order.
			require.Len(t, rs.Stages, len(want.types))
			require.Len(t, rs.Types, len(want.types))
			for i, wt := range want.types {
				assert.Equal(t, []string{wt.name}, rs.Stages[i].Types, "stage %d (%s)", i, rs.Stages[i].Name)
				assert.Equal(t, wt.kind, rs.Stages[i].Kind, "stage %d (%s)", i, rs.Stages[i].Name)
			}

			for _, wt := range want.types {
				ty, ok := rs.Type(wt.name)
				require.True(t, ok, "type %s", wt.name)
				assert.Equal(t, wt.kind, ty.Kind, "%s kind", wt.name)
				assert.Equal(t, wt.limit, ty.PerOrderLimit, "%s per_order_limit", wt.name)
				assert.Equal(t, wt.typedCode, ty.TypedCode, "%s typed_code", wt.name)
				if wt.selection != nil {
					assert.Equal(t, append(slices.Clone(wt.selection), rules.SortID), ty.Selection, "%s selection", wt.name)
				}
				assert.Equal(t, wt.allocation, ty.Allocation, "%s allocation", wt.name)
				assert.Equal(t, wt.shared, ty.Shared, "%s shared", wt.name)
				assert.Equal(t, wt.orders, ty.OrderTypes, "%s order_types", wt.name)
				assert.Equal(t, wt.payments, ty.PaymentTypes, "%s payment_types", wt.name)
				assert.Equal(t, wt.firstOnly, ty.FirstPurchaseOnly, "%s first_purchase_only", wt.name)
				assert.Equal(t, wt.claim, ty.ValidityAfterClaim, "%s validity_after_claim", wt.name)
				if wt.onActivate != nil {
					assert.Equal(t, *wt.onActivate, ty.EffectiveOnActivation, "%s effective_on_activation", wt.name)
				}
				// invoiceable = cash: no built-in type's value is invoiceable.
				assert.False(t, ty.Invoiceable, "%s invoiceable", wt.name)
				if wt.kind == voucher.Deduction {
					assert.True(t, ty.CarryOver, "%s carry_over", wt.name)
					assert.Equal(t, wt.refund, ty.Refund, "%s refund", wt.name)
				}
				assert.Equal(t, wt.never, ty.NeverCovers, "%s never covers", wt.name)
				for _, p := range wt.never {
					assert.False(t, ty.Covers(p), "%s covers %s", wt.name, p)
				}
				assert.True(t, ty.Covers("ecs"), "%s covers an ordinary product", wt.name)
			}
		})
	}
}
