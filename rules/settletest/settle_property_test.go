package settletest_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/voucherkit/voucherkit/providers"
	"github.com/voucherkit/voucherkit/rules"
	"github.com/voucherkit/voucherkit/voucher"
)

// cases is how many generated bills each property sees.
const cases = 3000

func awsEngine(t testing.TB) *rules.Engine {
	t.Helper()
	rs, err := providers.Load("aws")
	require.NoError(t, err)
	e, err := rules.NewEngine(rs)
	require.NoError(t, err)
	return e
}

// orgBill generates an organization, a bill of March for it and credits of its accounts.
func orgBill(g *gen, moves bool) (voucher.Organization, voucher.Bill, []voucher.Instrument) {
	org := g.org(moves)
	accts := org.MembersDuring(start, end)
	b := voucher.Bill{ID: "bill", Start: start, End: end, Organization: org.ID, Charges: g.charges(30, accts)}
	return org, b, g.credits(8, accts, true)
}

// TestSettleFiguresAddUp: per line, per account and in total, total = discount +
// deducted + cash and invoiceable + non_invoiceable = total - discount; the accounts
// add up to the totals, and each application's split to its amount.
func TestSettleFiguresAddUp(t *testing.T) {
	e := awsEngine(t)
	for seed := range uint64(cases) {
		g := newGen(seed)
		org, b, insts := orgBill(g, true)
		q, err := e.Settle(b, &org, insts)
		require.NoError(t, err, "seed %d", seed)
		checkFigures(t, seed, q)
	}
}

func checkFigures(t *testing.T, seed uint64, q *voucher.Quote) {
	t.Helper()
	add := func(f voucher.Figures) [6]int64 {
		return [6]int64{units(f.Total), units(f.Discount), units(f.Deducted), units(f.Cash), units(f.Invoiceable), units(f.NonInvoiceable)}
	}
	whole := func(what string, f [6]int64) {
		require.Equal(t, f[0], f[1]+f[2]+f[3], "seed %d %s: total = discount + deducted + cash", seed, what)
		require.Equal(t, f[0]-f[1], f[4]+f[5], "seed %d %s: invoiceable + non_invoiceable = total - discount", seed, what)
	}
	var lines [6]int64
	perAcct := map[string][6]int64{}
	deducted := map[string]int64{}
	for _, l := range q.Lines {
		f := add(l.Figures)
		whole("line "+l.LineID, f)
		s := perAcct[l.Account]
		for k := range f {
			lines[k] += f[k]
			s[k] += f[k]
		}
		perAcct[l.Account] = s
		deducted[l.LineID] = f[2]
	}
	require.Equal(t, add(q.Figures), lines, "seed %d: the lines add up to the bill", seed)
	whole("bill", add(q.Figures))
	var accts [6]int64
	for _, a := range q.Accounts {
		f := add(a.Figures)
		whole("account "+a.Account, f)
		require.Equal(t, perAcct[a.Account], f, "seed %d account %s: its charges add up to it", seed, a.Account)
		for k := range f {
			accts[k] += f[k]
		}
	}
	require.Len(t, q.Accounts, len(perAcct), "seed %d: one entry per account with a charge", seed)
	require.Equal(t, add(q.Figures), accts, "seed %d: the accounts add up to the bill", seed)
	for _, a := range q.Applications {
		var sum int64
		for _, l := range a.Lines {
			require.Positive(t, units(l.Amount), "seed %d %s: only lines it took something from", seed, a.Key)
			sum += units(l.Amount)
			deducted[l.LineID] -= units(l.Amount)
		}
		require.Equal(t, units(a.Amount), sum, "seed %d %s: its split adds up to what it took", seed, a.Key)
	}
	for id, left := range deducted {
		require.Zero(t, left, "seed %d line %s: deducted is what the applications took from it", seed, id)
	}
}

// TestSettleReachAndSpend: each credit takes what the spec says, from the charges the
// spec lets it reach, split as spend_desc says (a model computed here, from the spec:
// bill membership at incurred_at, pool membership at the period's start, the
// preference at the period's last instant, shared flags, effective time); a credit
// reaching nothing in its scope is not_shared, and every not_shared credit reaches
// nothing.
func TestSettleReachAndSpend(t *testing.T) {
	e := awsEngine(t)
	for seed := range uint64(cases) {
		g := newGen(seed)
		org, b, insts := orgBill(g, true)
		q, err := e.Settle(b, &org, insts)
		require.NoError(t, err, "seed %d", seed)
		checkSpend(t, seed, &b, &org, insts, q)
	}
}

func checkSpend(t *testing.T, seed uint64, b *voucher.Bill, org *voucher.Organization, insts []voucher.Instrument, q *voucher.Quote) {
	t.Helper()
	payable := make([]int64, len(b.Charges))
	for i, l := range q.Lines {
		payable[i] = units(l.Total)
	}
	byID := map[string]*voucher.Instrument{}
	for i := range insts {
		byID[insts[i].ID] = &insts[i]
	}
	reachable := func(in *voucher.Instrument) ([]bool, bool) {
		ok := make([]bool, len(b.Charges))
		inScope := false
		for i := range b.Charges {
			c := &b.Charges[i]
			inScope = inScope || inScope2(in, c.Product)
			ok[i] = inScope2(in, c.Product) && reaches(b, org, in, c)
		}
		return ok, inScope
	}
	for _, a := range q.Applications {
		in := byID[a.InstrumentID]
		ok, _ := reachable(in)
		var reach int64
		for i := range ok {
			if ok[i] {
				reach += payable[i]
			}
		}
		bal := in.CurrentBalance().Shift(2).IntPart()
		require.Equal(t, min(bal, reach), units(a.Amount), "seed %d %s: takes all it can of what it reaches", seed, a.Key)
		want := spendModel(b.Charges, in.Account, payable, ok, units(a.Amount))
		got := make([]int64, len(b.Charges))
		for _, l := range a.Lines {
			i := slices.IndexFunc(b.Charges, func(c voucher.Charge) bool { return c.ID == l.LineID })
			require.True(t, ok[i], "seed %d %s: pays %s, which it may not reach", seed, a.Key, l.LineID)
			got[i] = units(l.Amount)
		}
		require.Equal(t, want, got, "seed %d %s: split by spend_desc", seed, a.Key)
		for i := range payable {
			payable[i] -= got[i]
		}
	}
	for _, r := range q.Rejections {
		ok, inScope := reachable(byID[r.InstrumentID])
		if r.Reason == voucher.ReasonNotShared {
			require.True(t, inScope, "seed %d %s: not_shared comes after product_scope", seed, r.Key)
			require.NotContains(t, ok, true, "seed %d %s: not_shared but reaches a charge", seed, r.Key)
		}
		if r.Reason == voucher.ReasonNothingLeft || r.Reason == voucher.ReasonMinSpend {
			require.Contains(t, ok, true, "seed %d %s: %s but reaches nothing", seed, r.Key, r.Reason)
		}
	}
}

// inScope2 is inScope by another name, so that the closure above reads clearly.
func inScope2(in *voucher.Instrument, product string) bool { return inScope(in, product) }

// TestSettleSharingOffIsPerAccount: with credit_sharing false (no joins or leaves),
// an organization's bill is each account's bill settled alone with its own credits.
func TestSettleSharingOffIsPerAccount(t *testing.T) {
	e := awsEngine(t)
	for seed := range uint64(cases) {
		g := newGen(seed)
		org, b, insts := orgBill(g, false)
		org.Sharing = []voucher.SharingChange{{Sharing: voucher.Sharing{}}}
		q, err := e.Settle(b, &org, insts)
		require.NoError(t, err, "seed %d", seed)
		lines := map[string]voucher.LineQuote{}
		applied := map[string]voucher.Application{}
		for _, a := range org.Accounts() {
			alone := voucher.Bill{ID: "bill-" + a, Start: start, End: end, Account: a}
			for _, c := range b.Charges {
				if c.Account == a {
					alone.Charges = append(alone.Charges, c)
				}
			}
			if len(alone.Charges) == 0 {
				continue
			}
			own := slices.DeleteFunc(slices.Clone(insts), func(in voucher.Instrument) bool { return in.Account != a })
			qa, err := e.Settle(alone, nil, own)
			require.NoError(t, err, "seed %d account %s", seed, a)
			for _, l := range qa.Lines {
				lines[l.LineID] = l
			}
			for _, ap := range qa.Applications {
				applied[ap.InstrumentID] = ap
			}
		}
		for _, l := range q.Lines {
			require.Equal(t, lines[l.LineID], l, "seed %d line %s", seed, l.LineID)
		}
		require.Len(t, q.Applications, len(applied), "seed %d: the same credits apply", seed)
		for _, ap := range q.Applications {
			require.Equal(t, applied[ap.InstrumentID], ap, "seed %d %s", seed, ap.InstrumentID)
		}
	}
}

// TestSettleAloneIsUsageOrder: the bill of one account outside any organization is
// priced exactly as a usage order paid as you go of the same charges, by that account,
// at the period's last instant, with the same credits (none effective after the period
// began: an order has no incurred_at to measure reach by).
func TestSettleAloneIsUsageOrder(t *testing.T) {
	e := awsEngine(t)
	for seed := range uint64(cases) {
		g := newGen(seed)
		accts := []string{"solo"}
		b := voucher.Bill{ID: "bill", Start: start, End: end, Account: "solo", Charges: g.charges(30, accts)}
		insts := g.credits(8, []string{"solo", "other"}, false)
		q, err := e.Settle(b, nil, insts)
		require.NoError(t, err, "seed %d", seed)
		o := voucher.Order{ID: "bill", Account: "solo", Type: voucher.OrderUsage, Payment: voucher.PayAsYouGo}
		for _, c := range b.Charges {
			o.Lines = append(o.Lines, c.Line)
		}
		qo, err := e.Quote(o, insts, b.At())
		require.NoError(t, err, "seed %d", seed)
		require.Len(t, q.Accounts, 1)
		require.Equal(t, qo.Figures, q.Accounts[0].Figures, "seed %d: the account's figures", seed)
		q.Accounts = nil
		for i := range q.Lines {
			q.Lines[i].Account = ""
		}
		want, _ := json.Marshal(qo)
		got, _ := json.Marshal(q)
		require.JSONEq(t, string(want), string(got), "seed %d", seed)
		checkSpend(t, seed, &b, nil, insts, q)
	}
}

// units is m in smallest units; the test's amounts are all in range.
func units(m voucher.Money) int64 {
	u, ok := m.Units()
	if !ok {
		panic("amount out of range: " + m.String())
	}
	return u
}
