package scenario

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

// The shape of issue 9's report, as a scenario file: one gcp bill of 19,000 lines
// against 9,000 credits (1.5 MB of YAML), checked out and then refunded in full. It is
// generated in memory; Parse and Run must both take it in their stride (the test is not
// timed: BenchmarkBigGCPScenario is). Entries are as short as the format allows, as in
// the report: with 19,000 items of three keys, 9,000 credits of three keys leave little
// room under yamlx.MaxNodes (200,000 nodes), so the expectations are the figures, not a
// list of 9,000 applications.

// bigGCPScenario writes the scenario, and returns it with the figures it expects: every
// credit (1.00 to 6.00) applies its whole balance, since the bill (lines of 0.01 to
// 500.00, every seventh finer than a cent, one in forty on Marketplace, which gcp never
// covers) is far larger than all of them.
func bigGCPScenario(nLines, nCredits int) (yaml []byte, total, deducted decimal.Decimal) {
	products := []string{"compute_engine", "cloud_storage", "bigquery", "cloud_sql", "gke", "cloud_run",
		"networking", "logging", "pubsub", "vertex_ai", "spanner"}
	r := rand.New(rand.NewPCG(19_000, 9_000))
	var b strings.Builder
	b.WriteString("name: issue 9, a gcp bill of many lines against many credits\nprovider: gcp\n")
	b.WriteString("now: 2026-01-01T00:00:00Z\naccount: billing-1\nwallet:\n")
	for i := range nCredits {
		bal := decimal.New(100+r.Int64N(501), -2)
		deducted = deducted.Add(bal)
		fmt.Fprintf(&b, "  - {id: c%05d, type: credit, amount: %q}\n", i, bal.StringFixed(2))
	}
	b.WriteString("steps:\n  - at: 2026-01-31T23:00:00Z\n    checkout:\n      id: bill-2026-01\n")
	b.WriteString("      type: usage\n      payment: pay_as_you_go\n      items:\n")
	for i := range nLines {
		p := products[r.IntN(len(products))]
		if r.IntN(40) == 0 {
			p = "marketplace"
		}
		a := decimal.New(1+r.Int64N(50_000), -2)
		if i%7 == 3 {
			a = decimal.New(1+r.Int64N(500_000), -3)
		}
		total = total.Add(a.Round(2))
		fmt.Fprintf(&b, "        - {id: l%05d, product: %s, amount: %q}\n", i, p, a.String())
	}
	cash := total.Sub(deducted)
	fmt.Fprintf(&b, "    expect:\n      total: %q\n      discount: \"0\"\n      deducted: %q\n      cash: %q\n",
		total.StringFixed(2), deducted.StringFixed(2), cash.StringFixed(2))
	fmt.Fprintf(&b, "      non_invoiceable: %q\n      wallet:\n", deducted.StringFixed(2))
	for _, i := range []int{0, nCredits / 2, nCredits - 1} {
		fmt.Fprintf(&b, "        c%05d: {balance: \"0\"}\n", i)
	}
	// Refunding every line returns the cash, whatever the split, and forfeits what the
	// credits paid (gcp's refund rule): their balances stay at zero.
	fmt.Fprintf(&b, "  - at: 2026-02-05T00:00:00Z\n    refund: {order: bill-2026-01}\n    expect:\n      cash_refund: %q\n",
		cash.StringFixed(2))
	b.WriteString("      restored: {}\n      wallet:\n")
	for _, i := range []int{0, nCredits - 1} {
		fmt.Fprintf(&b, "        c%05d: {balance: \"0\"}\n", i)
	}
	return []byte(b.String()), total, deducted
}

func TestBigGCPScenario(t *testing.T) {
	if testing.Short() {
		t.Skip("parses and runs 19,000 lines against 9,000 credits")
	}
	nLines, nCredits := 19_000, 9_000
	if raceEnabled {
		nLines, nCredits = 1_900, 900 // see race_test.go
	}
	data, total, deducted := bigGCPScenario(nLines, nCredits)
	s, err := Parse("issue9-gcp.yaml", data)
	require.NoError(t, err)
	require.Len(t, s.Wallet, nCredits)
	require.Len(t, s.Steps, 2)
	require.Len(t, s.Steps[0].Order.Lines, nLines)
	require.True(t, total.GreaterThan(deducted.Mul(decimal.NewFromInt(10))), "the bill dwarfs the credits")
	res := Run(s)
	require.True(t, res.Passed(), "%s", res.Report())
	require.Equal(t, 2, res.Steps)
	t.Logf("%d bytes of YAML", len(data))
}

// go test -run '^$' -bench BigGCPScenario -benchmem -benchtime 3x ./scenario
func BenchmarkBigGCPScenario(b *testing.B) {
	data, _, _ := bigGCPScenario(19_000, 9_000)
	b.Run("parse", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Parse("issue9-gcp.yaml", data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("run", func(b *testing.B) {
		s, err := Parse("issue9-gcp.yaml", data)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if res := Run(s); !res.Passed() {
				b.Fatal(res.Report())
			}
		}
	})
}
