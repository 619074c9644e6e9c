package rules_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/voucherkit/voucherkit/providers"
	"github.com/voucherkit/voucherkit/rules"
	"github.com/voucherkit/voucherkit/voucher"
)

func usageBill(amount string) voucher.Order {
	return voucher.Order{ID: "bill", Account: "a", Type: voucher.OrderUsage, Payment: voucher.PayAsYouGo,
		Lines: []voucher.Line{{ID: "l1", Product: "ecs", Amount: decimal.RequireFromString(amount)}}}
}

func voucherOf(id, amount string) voucher.Instrument {
	d := decimal.RequireFromString(amount)
	return voucher.Instrument{ID: id, Type: "voucher", Account: "a", Amount: d, Balance: voucher.Ptr(d)}
}

// Alibaba Cloud changed how vouchers apply on 2024-07-15: before, they did not pay
// pay-as-you-go bills; from then on they do. One order priced on each side of the
// boundary gets each version's answer.
func TestAliyunVersionBoundary(t *testing.T) {
	rs, err := providers.Load("aliyun")
	require.NoError(t, err)
	e, err := rules.NewEngine(rs)
	require.NoError(t, err)
	shanghai := rs.Location
	boundary := time.Date(2024, 7, 15, 0, 0, 0, 0, shanghai)
	wallet := []voucher.Instrument{voucherOf("v50", "50")}

	before, err := e.Quote(usageBill("80"), wallet, boundary.Add(-time.Nanosecond))
	require.NoError(t, err)
	assert.Equal(t, "aliyun@2019", before.RuleSet)
	assert.Equal(t, "0.00", before.Deducted.Format())
	assert.Equal(t, "80.00", before.Cash.Format())
	r, ok := before.Rejected("v50")
	require.True(t, ok)
	assert.Equal(t, voucher.ReasonOrderType, r.Reason)
	assert.Equal(t, "qualifying order types: new, renewal, upgrade, os_change, trial_conversion", r.Hint)

	after, err := e.Quote(usageBill("80"), wallet, boundary)
	require.NoError(t, err)
	assert.Equal(t, "aliyun@2024.07", after.RuleSet)
	assert.Equal(t, "50.00", after.Deducted.Format())
	assert.Equal(t, "30.00", after.Cash.Format())

	assert.Equal(t, "2019", rs.At(boundary.Add(-time.Second)).Version)
	assert.Equal(t, "2024.07", rs.At(boundary).Version)
	assert.Equal(t, "2019", rs.At(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)).Version, "before every version: the earliest")
	assert.Equal(t, "2019", e.RuleSetAt(boundary.Add(-time.Second)).Version)
}

func TestVersionsAreWholeRuleSets(t *testing.T) {
	rs, err := rules.Parse("v.yaml", []byte(`name: shop
version: "2"
effective_from: 2026-01-01
currency: EUR
time_zone: Europe/Paris
stages:
  - {name: credit, kind: deduction}
types:
  credit:
    stage: credit
    per_order_limit: 1
    selection: [balance_desc]
versions:
  - version: "1"
    effective_from: 2025-01-01
    types:
      credit:
        per_order_limit: 2
`))
	require.NoError(t, err)
	all := rs.AllVersions()
	require.Len(t, all, 2)
	assert.Equal(t, "1", all[0].Version)
	assert.Equal(t, 2, all[0].Types[0].PerOrderLimit)
	assert.Equal(t, []rules.SortKey{rules.SortBalanceDesc, rules.SortID}, all[0].Types[0].Selection, "keys not given are the top level's")
	assert.Equal(t, "Europe/Paris", all[0].TimeZone)
	assert.Equal(t, "2", all[1].Version)
	assert.Equal(t, 1, all[1].Types[0].PerOrderLimit)
	paris, _ := time.LoadLocation("Europe/Paris")
	assert.True(t, all[0].EffectiveFrom.Equal(time.Date(2025, 1, 1, 0, 0, 0, 0, paris)))
}

func TestVersionErrors(t *testing.T) {
	cases := []struct {
		name string
		yaml string
		want string
	}{
		{"duplicate effective_from", `name: s
currency: EUR
effective_from: 2025-01-01
stages: [{name: c, kind: deduction}]
types: {credit: {stage: c}}
versions:
  - {version: "0", effective_from: 2025-01-01}
`, "v.yaml:7:36: versions[0].effective_from: 2025-01-01T00:00:00Z is also the effective_from of the top level"},
		{"unknown key in a version", `name: s
currency: EUR
stages: [{name: c, kind: deduction}]
types: {credit: {stage: c}}
versions:
  - {version: "0", effective_from: 2025-01-01, currency: USD}
`, "v.yaml:6:48: versions[0].currency: unknown key (known keys: version, description, effective_from, rounding, time_zone, never_covers, stages, types)"},
		{"missing effective_from", `name: s
currency: EUR
stages: [{name: c, kind: deduction}]
types: {credit: {stage: c}}
versions:
  - {version: "0"}
`, "v.yaml:6:5: versions[0].effective_from: is required"},
		{"bad value inside a version is positioned in the version", `name: s
currency: EUR
stages: [{name: c, kind: deduction}]
types: {credit: {stage: c}}
versions:
  - version: "0"
    effective_from: 2025-01-01
    types:
      credit:
        allocation: evenly
`, `v.yaml:10:21: types.credit.allocation: unknown allocation "evenly"; want proportional, largest_line_first or spend_desc`},
		{"bad effective_from", `name: s
currency: EUR
effective_from: soon
stages: [{name: c, kind: deduction}]
types: {credit: {stage: c}}
`, `v.yaml:3:17: effective_from: "soon" is not a time: want RFC 3339 with an offset (2026-03-02T10:00:00+08:00) or a date (2026-03-02)`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := rules.Parse("v.yaml", []byte(tc.yaml))
			require.Error(t, err)
			assert.Equal(t, tc.want, err.Error())
			assert.True(t, errors.Is(err, rules.ErrInvalidRuleSet))
		})
	}
}

func TestExtendsBuiltIn(t *testing.T) {
	rs, err := providers.Parse("reseller.yaml", []byte(`name: reseller-aws
version: "1"
extends: aws
never_covers: [marketplace, support_business]
types:
  credit:
    per_order_limit: 1
  gift:
    stage: credits
    selection: [balance_asc]
    refund: forfeit
`))
	require.NoError(t, err)
	assert.Equal(t, "reseller-aws", rs.Name)
	assert.Equal(t, "aws", rs.Extends)
	assert.Equal(t, "USD", rs.Currency.Code(), "inherited")
	require.Len(t, rs.Types, 2)
	credit, ok := rs.Type("credit")
	require.True(t, ok)
	assert.Equal(t, 1, credit.PerOrderLimit, "overridden")
	assert.Equal(t, rules.AllocSpendDesc, credit.Allocation, "inherited")
	assert.Equal(t, []string{"marketplace", "support_business"}, credit.NeverCovers, "lists are replaced whole")
	gift, ok := rs.Type("gift")
	require.True(t, ok)
	assert.Equal(t, voucher.Deduction, gift.Kind)
	assert.Equal(t, voucher.RefundForfeit, gift.Refund)

	e, err := rules.NewEngine(rs)
	require.NoError(t, err)
	at := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	ten := decimal.NewFromInt(10)
	q, err := e.Quote(voucher.Order{ID: "b", Account: "a", Type: voucher.OrderUsage, Payment: voucher.PayAsYouGo,
		Lines: []voucher.Line{{ID: "l", Product: "ec2", Amount: decimal.NewFromInt(100)}}},
		[]voucher.Instrument{
			{ID: "c1", Type: "credit", Account: "a", Amount: ten, Balance: voucher.Ptr(ten)},
			{ID: "c2", Type: "credit", Account: "a", Amount: ten, Balance: voucher.Ptr(ten)},
		}, at)
	require.NoError(t, err)
	assert.Equal(t, "10.00", q.Deducted.Format(), "the override of per_order_limit is in force")
	r, _ := q.Rejected("c2")
	assert.Equal(t, voucher.ReasonNotSelected, r.Reason)
}

func TestExtendsErrors(t *testing.T) {
	cases := []struct {
		name string
		yaml string
		want string
	}{
		{"unknown base", "name: x\nextends: nimbus\n", `x.yaml:2:10: extends: unknown provider "nimbus"; the built-in rule sets are ` + fmt.Sprint(joinNames())},
		{"error in the user's override", "name: x\nextends: aws\ntypes:\n  credit:\n    refund: keep\n", `x.yaml:5:13: types.credit.refund: unknown refund rule "keep"; want forfeit or restore`},
		{"missing name", "extends: aws\n", "x.yaml:1:1: name: is required in a rule set that extends another"},
		{"new type without a stage", "name: x\nextends: aws\ntypes:\n  gift: {refund: forfeit}\n", "x.yaml:4:9: types.gift.stage: is required"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := providers.Parse("x.yaml", []byte(tc.yaml))
			require.Error(t, err)
			assert.Equal(t, tc.want, err.Error())
		})
	}
	_, err := rules.Parse("x.yaml", []byte("name: x\nextends: aws\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "x.yaml:2:10: extends: cannot extend \"aws\" here: no resolver")
}

func TestExtendsCycle(t *testing.T) {
	files := map[string]string{
		"a": "name: a\nextends: b\n",
		"b": "name: b\nextends: a\n",
	}
	resolve := func(name string) (string, []byte, error) {
		s, ok := files[name]
		if !ok {
			return "", nil, fmt.Errorf("no %s", name)
		}
		return name + ".yaml", []byte(s), nil
	}
	_, err := rules.Parse("a.yaml", []byte(files["a"]), rules.WithResolver(resolve))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "more than 8 deep (a cycle?)")
}

func joinNames() string {
	s := ""
	for i, n := range providers.Names() {
		if i > 0 {
			s += ", "
		}
		s += n
	}
	return s
}
