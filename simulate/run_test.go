package simulate_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
	"github.com/voucherkit/voucherkit/providers"
	"github.com/voucherkit/voucherkit/rules"
	"github.com/voucherkit/voucherkit/simulate"
	"github.com/voucherkit/voucherkit/store/memory"
	"github.com/voucherkit/voucherkit/voucher"
)

var shanghai = mustLoc("Asia/Shanghai")

func mustLoc(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, shanghai)
	if err != nil {
		panic(err)
	}
	return t
}

func engine(t testing.TB, name string, opts ...rules.Option) *rules.Engine {
	t.Helper()
	rs, err := providers.Load(name)
	require.NoError(t, err)
	e, err := rules.NewEngine(rs, opts...)
	require.NoError(t, err)
	return e
}

func voucherOf(id, account, amount, expires string) voucher.Instrument {
	exp := at(expires)
	return voucher.Instrument{ID: id, Type: "voucher", Account: account, Amount: dec(amount), ExpiresAt: &exp}
}

func order(id, account, when, product, amount string) simulate.Item {
	o := voucher.Order{ID: id, Account: account, Type: voucher.OrderNew, Payment: voucher.PaySubscription,
		Lines: []voucher.Line{{ID: "1", Product: product, Amount: dec(amount)}}}
	return simulate.Item{Order: &o, At: at(when), Pos: "order " + id}
}

// twoRuleSets simulates five orders (one a duplicate) against three vouchers under
// aliyun (largest balance first) and tencentcloud (soonest expiry first).
func twoRuleSets(t *testing.T, opts simulate.Options) *simulate.Report {
	t.Helper()
	wallet := []voucher.Instrument{
		voucherOf("v1", "a", "100", "2026-02-01 00:00"),
		voucherOf("v2", "a", "50", "2026-03-15 00:00"),
		voucherOf("v3", "b", "30", "2026-01-20 00:00"),
	}
	items := []simulate.Item{
		order("o1", "a", "2026-01-05 10:00", "ecs", "80"),
		order("o2", "a", "2026-01-10 10:00", "ecs", "60"),
		order("o3", "a", "2026-02-10 10:00", "ecs", "10"),
		order("o3", "a", "2026-02-10 10:00", "ecs", "10"),
		order("o5", "a", "2026-02-10 11:00", "marketplace", "20"),
	}
	sets := []simulate.RuleSet{
		{Name: "aliyun", Pricer: engine(t, "aliyun"), Instruments: wallet},
		{Name: "tencentcloud", Pricer: engine(t, "tencentcloud"), Instruments: wallet},
	}
	opts.Location = shanghai
	rep, err := simulate.Run(context.Background(), simulate.Items(items...), sets, opts)
	require.NoError(t, err)
	return rep
}

func TestRunSideBySide(t *testing.T) {
	rep := twoRuleSets(t, simulate.Options{})
	require.EqualValues(t, 5, rep.Items)
	require.EqualValues(t, 5, rep.Orders)
	ali, tc := rep.RuleSets[0], rep.RuleSets[1]
	require.Equal(t, "170", ali.Totals.List.String())
	require.Equal(t, "130", ali.Totals.Deducted.String())
	require.Equal(t, "40", ali.Totals.Cash.String())
	require.Equal(t, "110", tc.Totals.Deducted.String())
	require.Equal(t, "60", tc.Totals.Cash.String())
	for _, r := range rep.RuleSets {
		require.EqualValues(t, 4, r.Priced)
		require.Equal(t, map[string]int64{"duplicate_order": 1}, r.Refused)
		require.Equal(t, "o3", r.Examples[0].Item)
		require.Equal(t, "180", r.Granted.String())
	}
	// aliyun used v2 first (largest balance), so v1's last 20 expired with v3's 30.
	require.Equal(t, "50", ali.Breakage.String())
	require.Equal(t, "0", ali.Unused.String())
	// tencentcloud used v1 first (soonest expiry): only v3 expired, 40 of v2 is left.
	require.Equal(t, "30", tc.Breakage.String())
	require.Equal(t, "40", tc.Unused.String())
	for _, r := range rep.RuleSets {
		require.True(t, r.Granted.Equal(r.Totals.Deducted.Add(r.Breakage).Add(r.ForfeitedOnUse).Add(r.Unused)), r.Name)
	}
	require.EqualValues(t, 2, ali.Rejections[voucher.ReasonNotSelected])
	require.EqualValues(t, 2, ali.Rejections[voucher.ReasonExpired])
}

func TestRunKeepsTheItemsThatChangedMost(t *testing.T) {
	rep := twoRuleSets(t, simulate.Options{})
	require.Len(t, rep.Changed, 2)
	require.Equal(t, "o2", rep.Changed[0].ID)
	require.Equal(t, "30", rep.Changed[0].Spread.String())
	require.Equal(t, "10", rep.Changed[0].Cash[0].String())
	require.Equal(t, "40", rep.Changed[0].Cash[1].String())
	require.Equal(t, "o3", rep.Changed[1].ID)
	rep = twoRuleSets(t, simulate.Options{Top: 1})
	require.Len(t, rep.Changed, 1)
	require.Equal(t, "o2", rep.Changed[0].ID)
}

func TestRunBurnDownAndMonths(t *testing.T) {
	rep := twoRuleSets(t, simulate.Options{})
	ali := rep.RuleSets[0]
	bd := ali.BurnDown
	// Samples: the start, 1 February (a month boundary in Asia/Shanghai), the end.
	require.Equal(t, []time.Time{at("2026-01-05 10:00"), at("2026-02-01 00:00"), at("2026-02-10 11:00")}, bd.Times)
	require.Equal(t, []string{"180", "0", "0"}, texts(bd.Total))
	require.Equal(t, []string{"180", "50", "40"}, texts(rep.RuleSets[1].BurnDown.Total))
	require.Len(t, bd.Instruments, 3)
	v1 := bd.Instruments[0]
	require.Equal(t, "v1", v1.ID)
	require.Equal(t, "100", v1.At(0).String())
	require.Equal(t, "0", v1.At(1).String(), "expired at the boundary")
	require.Equal(t, []string{"2026-01", "2026-02"}, []string{ali.Months[0].Month, ali.Months[1].Month})
	require.Equal(t, "30", ali.Months[0].Breakage.String(), "v3 expired on 20 January")
	require.Equal(t, "20", ali.Months[1].Breakage.String(), "v1's rest on 1 February")
	require.Equal(t, "10", ali.Months[0].Cash.String())
	require.Equal(t, "30", ali.Months[1].Cash.String())

	daily := twoRuleSets(t, simulate.Options{Sample: simulate.Daily})
	require.Len(t, daily.RuleSets[0].BurnDown.Times, 1+36+1)
}

func texts(ds []decimal.Decimal) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.String()
	}
	return out
}

// TestRunOnAFullStoreAgrees runs the same simulation on store/memory, which keeps the
// ledger, and checks the report against it: the same report, and breakage equal to the
// sum of the ledger's expire entries.
func TestRunOnAFullStoreAgrees(t *testing.T) {
	lean := twoRuleSets(t, simulate.Options{})
	stores := map[string]*memory.Store{}
	var entries []voucher.LedgerEntry
	full := twoRuleSets(t, simulate.Options{
		NewStore: func() voucher.Store {
			s := memory.New()
			stores[fmt.Sprint(len(stores))] = s
			return s
		},
		Ledger: func(rs string, es []voucher.LedgerEntry) {
			if rs == "aliyun" {
				entries = append(entries, es...)
			}
		},
	})
	require.Equal(t, lean, full)
	var expired decimal.Decimal
	for _, e := range entries {
		if e.Kind == voucher.EntryExpire {
			expired = expired.Add(e.Amount.Amount())
		}
	}
	require.Equal(t, full.RuleSets[0].Breakage.String(), expired.String())
	for i := 1; i < len(entries); i++ {
		require.Greater(t, entries[i].Seq, entries[i-1].Seq)
	}
}

func TestRunRefusesItemsOutOfOrder(t *testing.T) {
	items := []simulate.Item{order("o1", "a", "2026-01-05 10:00", "ecs", "1"), order("o2", "a", "2026-01-04 10:00", "ecs", "1")}
	_, err := simulate.Run(context.Background(), simulate.Items(items...),
		[]simulate.RuleSet{{Name: "aliyun", Pricer: engine(t, "aliyun")}}, simulate.Options{})
	require.ErrorIs(t, err, simulate.ErrInput)
	require.ErrorContains(t, err, "order o2: 2026-01-04T10:00:00+08:00 comes before the item before it")
	_, err = simulate.Run(context.Background(), simulate.Items(), []simulate.RuleSet{{Name: "aliyun", Pricer: engine(t, "aliyun")}}, simulate.Options{})
	require.ErrorIs(t, err, simulate.ErrEmpty)
}

// TestRunIsDeterministic runs a stream of several batches, with daily samples cutting
// them, under two rule sets twice: the reports are equal, the ledger callback (called
// from both rule sets' workers, without a lock here) sees every entry, and the
// breakage the report gives is the ledger's.
func TestRunIsDeterministic(t *testing.T) {
	w := benchWallet(200)
	sets := []simulate.RuleSet{
		{Name: "aliyun", Pricer: engine(t, "aliyun"), Instruments: w},
		{Name: "tencentcloud", Pricer: engine(t, "tencentcloud"), Instruments: w},
	}
	expired := map[string]decimal.Decimal{}
	run := func() *simulate.Report {
		clear(expired)
		rep, err := simulate.Run(context.Background(), benchOrders(5000, 200), sets, simulate.Options{
			Location: shanghai, Sample: simulate.Daily, Top: 5,
			Ledger: func(rs string, es []voucher.LedgerEntry) {
				for _, e := range es {
					if e.Kind == voucher.EntryExpire {
						expired[rs] = expired[rs].Add(e.Amount.Amount())
					}
				}
			}})
		require.NoError(t, err)
		return rep
	}
	a, b := run(), run()
	require.Equal(t, a, b)
	require.EqualValues(t, 5000, a.Orders)
	require.Len(t, a.Changed, 5)
	for _, rs := range a.RuleSets {
		require.True(t, rs.Breakage.IsPositive(), rs.Name)
		require.Equal(t, expired[rs.Name].String(), rs.Breakage.String(), rs.Name)
		require.True(t, rs.Granted.Equal(rs.Totals.Deducted.Add(rs.Breakage).Add(rs.ForfeitedOnUse).Add(rs.Unused)), rs.Name)
	}
}
