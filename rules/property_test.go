package rules_test

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/voucherkit/voucherkit/providers"
	"github.com/voucherkit/voucherkit/rules"
	"github.com/voucherkit/voucherkit/voucher"
)

// Property test: generated orders and wallets, priced under both built-in rule sets,
// must keep every invariant the spec states. Seeds are fixed, so a failure reproduces;
// the failing case is printed as JSON.

var propertyProducts = []string{"ecs", "rds", "oss", "slb", "ec2", "s3", "lambda", "marketplace", "training", "ri_upfront"}

// propertyGen draws one case from r.
type propertyGen struct {
	r     *rand.Rand
	rs    *rules.RuleSet
	at    time.Time
	types []string
}

// amount is a non-negative decimal below limit units with 0, 1 or 2 decimal places;
// zero one time in ten.
func (g *propertyGen) amount(limit int64) decimal.Decimal {
	if g.r.Intn(10) == 0 {
		return decimal.Zero
	}
	places := int32(g.r.Intn(3))
	units := g.r.Int63n(limit) + 1
	switch places {
	case 0:
		return decimal.New(units/100+1, 0)
	case 1:
		return decimal.New(units/10+1, -1)
	}
	return decimal.New(units, -2)
}

func (g *propertyGen) products(n int) []string {
	out := make([]string, 0, n)
	for len(out) < n {
		p := propertyProducts[g.r.Intn(len(propertyProducts))]
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

func (g *propertyGen) offset(days int) time.Time {
	return g.at.Add(time.Duration(g.r.Int63n(int64(2*days)*24)-int64(days)*24) * time.Hour)
}

func (g *propertyGen) order() voucher.Order {
	o := voucher.Order{ID: "o-" + strconv.Itoa(g.r.Intn(1000)), Account: buyerAcct}
	types := voucher.OrderTypes()
	pays := voucher.PaymentTypes()
	if g.rs.Name == "aws" && g.r.Intn(5) > 0 {
		o.Type, o.Payment = voucher.OrderUsage, voucher.PayAsYouGo
	} else if g.r.Intn(3) > 0 {
		o.Type, o.Payment = voucher.OrderNew, voucher.PaySubscription
	} else {
		o.Type, o.Payment = types[g.r.Intn(len(types))], pays[g.r.Intn(len(pays))]
	}
	o.FirstPurchase = g.r.Intn(2) == 0
	n := 1 + g.r.Intn(5)
	limit := []int64{200000, 10000}[g.r.Intn(2)] // lines up to 2000 or up to 100
	for i := 0; i < n; i++ {
		o.Lines = append(o.Lines, voucher.Line{ID: "l" + strconv.Itoa(i),
			Product: propertyProducts[g.r.Intn(len(propertyProducts))], Amount: g.amount(limit)})
	}
	return o
}

// instrument draws instrument i of a random type: its owner or code, its value, its
// conditions and its times. (The draws are made in a fixed order, so that a seed
// always gives the same case.)
func (g *propertyGen) instrument(i int, codes []string) voucher.Instrument {
	typ := g.types[g.r.Intn(len(g.types))]
	it, _ := g.rs.Type(typ)
	in := voucher.Instrument{ID: string(rune("aAbBzZ"[g.r.Intn(6)])) + strconv.Itoa(i), Type: typ, Account: buyerAcct,
		IssuedAt: voucher.Ptr(g.at.Add(-time.Duration(g.r.Intn(1000)) * time.Hour))}
	g.owner(&in, it, i, codes)
	if g.r.Intn(20) == 0 {
		in.Currency = "USD"
		if g.rs.Currency.Code() == "USD" {
			in.Currency = "CNY"
		}
	}
	if it.Kind == voucher.Deduction {
		g.deductionValue(&in)
	} else {
		g.discountValue(&in)
	}
	g.conditions(&in)
	g.times(&in)
	return in
}

// owner makes in a typed-in code (sometimes one another instrument has too), another
// account's, or waiting for activation; or leaves it the buyer's.
func (g *propertyGen) owner(in *voucher.Instrument, it *rules.InstrumentType, i int, codes []string) {
	switch {
	case it.TypedCode:
		in.Account = ""
		if len(codes) > 0 && g.r.Intn(8) == 0 {
			in.Code = codes[g.r.Intn(len(codes))] // two instruments, one code
		} else {
			in.Code = "CODE" + strconv.Itoa(i)
		}
		if g.r.Intn(8) == 0 {
			in.Account = "acct-2" // a promo code has no owner, whatever it says
		}
	case g.r.Intn(10) == 0:
		in.Account = "acct-2"
	case g.r.Intn(8) == 0:
		in.Account, in.Code, in.PendingActivation = "", "ACT"+strconv.Itoa(i), true
	}
}

// deductionValue draws a deduction's face value, its balance (sometimes zero, or a
// part of the face value) and what of it is held.
func (g *propertyGen) deductionValue(in *voucher.Instrument) {
	in.Amount = g.amount(60000)
	in.Balance = voucher.Ptr(in.Amount)
	if in.Amount.IsZero() {
		// A deduction's face value is above zero; one that is used up has a zero balance.
		in.Amount, in.Balance = decimal.New(100, 0), voucher.Ptr(decimal.Zero)
	}
	if g.r.Intn(3) == 0 && in.Amount.Sign() > 0 {
		in.Balance = voucher.Ptr(in.Amount.Mul(decimal.New(int64(g.r.Intn(101)), -2)).RoundDown(2))
	}
	if g.r.Intn(4) == 0 && in.Balance.Sign() > 0 {
		in.Held = in.CurrentBalance().Mul(decimal.New(int64(g.r.Intn(101)), -2)).RoundDown(2)
		if g.r.Intn(3) == 0 {
			in.Held = in.CurrentBalance() // all of it held
		}
	}
}

// discountValue draws a discount: a fixed amount, or a percentage with or without a
// cap; its redemptions, those used and those held.
func (g *propertyGen) discountValue(in *voucher.Instrument) {
	if g.r.Intn(2) == 0 {
		in.Amount = g.amount(30000)
		if in.Amount.IsZero() {
			in.Amount = decimal.New(1, -2)
		}
	} else {
		in.PercentOff = voucher.Ptr(decimal.New(int64(1+g.r.Intn(1000)), -1)) // 0.1 .. 100
		if g.r.Intn(3) == 0 {
			if m := g.amount(20000); !m.IsZero() { // zero was "no cap"; a given cap is above zero
				in.MaxDiscount = voucher.Ptr(m)
			}
		}
	}
	if n := g.r.Intn(4); n > 0 { // 0 was "1", which nil means now
		in.MaxRedemptions = voucher.Ptr(n)
	}
	in.Redeemed = g.r.Intn(in.Redemptions() + 1)
	if left := in.Redemptions() - in.Redeemed; left > 0 && g.r.Intn(4) == 0 {
		in.HeldRedemptions = g.r.Intn(left + 1)
	}
}

// conditions draws what an order must be for in to apply: min_spend, products,
// exclude_products, order and payment types, first_purchase_only.
func (g *propertyGen) conditions(in *voucher.Instrument) {
	if g.r.Intn(3) == 0 {
		in.MinSpend = voucher.Ptr(g.amount(150000))
	}
	if g.r.Intn(2) == 0 {
		in.Products = g.products(1 + g.r.Intn(4))
	}
	if g.r.Intn(6) == 0 {
		in.ExcludeProducts = g.products(1)
	}
	if g.r.Intn(7) == 0 {
		all := voucher.OrderTypes()
		g.r.Shuffle(len(all), func(a, b int) { all[a], all[b] = all[b], all[a] })
		in.OrderTypes = all[:1+g.r.Intn(len(all))]
	}
	if g.r.Intn(10) == 0 {
		in.PaymentTypes = []voucher.PaymentType{voucher.PaymentTypes()[g.r.Intn(2)]}
	}
	if g.r.Intn(5) == 0 {
		in.FirstPurchaseOnly = boolRef(g.r.Intn(2) == 0)
	}
}

// times draws when in expires (at the quote's time, by its claim, near it, or never)
// and when it takes effect; an effective_at not before the expiry is dropped.
func (g *propertyGen) times(in *voucher.Instrument) {
	switch g.r.Intn(10) {
	case 0, 1, 2, 3:
	case 4:
		in.ExpiresAt = voucher.Ptr(g.at)
	case 5:
		in.ClaimedAt = voucher.Ptr(g.offset(40))
	default:
		in.ExpiresAt = voucher.Ptr(g.offset(30))
	}
	switch g.r.Intn(10) {
	case 0:
		in.EffectiveAt = voucher.Ptr(g.at)
	case 1:
		in.EffectiveAt = voucher.Ptr(g.offset(5))
	case 2:
		in.ActivatedAt = voucher.Ptr(g.offset(5))
	}
	if in.EffectiveAt != nil && in.ExpiresAt != nil && !in.ExpiresAt.After(*in.EffectiveAt) {
		in.EffectiveAt = nil
	}
}

// wallet draws 0–8 instruments and the order's choice: automatic, none, or some in a
// random order; and some codes.
func (g *propertyGen) wallet(o *voucher.Order) []voucher.Instrument {
	n := g.r.Intn(9)
	insts := make([]voucher.Instrument, 0, n)
	var codes []string
	for i := 0; i < n; i++ {
		in := g.instrument(i, codes)
		if in.Code != "" && !in.PendingActivation {
			codes = append(codes, in.Code)
		}
		insts = append(insts, in)
	}
	switch g.r.Intn(4) {
	case 0, 1: // automatic
	case 2:
		o.Use = []string{}
	default:
		o.Use = []string{}
		for _, k := range g.r.Perm(len(insts)) {
			if it, _ := g.rs.Type(insts[k].Type); !it.TypedCode && g.r.Intn(2) == 0 {
				o.Use = append(o.Use, insts[k].ID)
			}
		}
	}
	slices.Sort(codes)
	codes = slices.Compact(codes)
	for _, k := range g.r.Perm(len(codes)) {
		if g.r.Intn(2) == 0 {
			o.Codes = append(o.Codes, codes[k])
		}
	}
	return insts
}

func TestQuoteProperties(t *testing.T) {
	const casesPerSeed = 250
	for _, name := range []string{"aliyun", "aws"} {
		rs, err := providers.Load(name)
		require.NoError(t, err)
		e, err := rules.NewEngine(rs)
		require.NoError(t, err)
		var types []string
		for _, it := range rs.Types {
			types = append(types, it.Name)
		}
		st := &propertyStats{applied: map[string]int{}, rejected: map[voucher.Reason]int{}}
		for _, seed := range []int64{1, 2, 3, 20260302} {
			t.Run(fmt.Sprintf("%s/seed=%d", name, seed), func(t *testing.T) {
				g := &propertyGen{r: rand.New(rand.NewSource(seed)), rs: rs, at: pricedAt, types: types}
				for k := 0; k < casesPerSeed; k++ {
					o := g.order()
					insts := g.wallet(&o)
					checkProperties(t, e, rs, o, insts, g.at, g.r, st)
					if t.Failed() {
						js, _ := json.MarshalIndent(struct {
							Order  voucher.Order
							Wallet []voucher.Instrument
						}{o, insts}, "", "  ")
						t.Fatalf("case %d of seed %d failed:\n%s", k, seed, js)
					}
				}
			})
		}
		t.Logf("%s: applied %v; rejected %v; automatic %d; multi-line %d", name, st.applied, st.rejected, st.auto, st.lines)
		for _, typ := range types {
			assert.Greater(t, st.applied[typ], 20, "%s: type %s rarely applies", name, typ)
		}
		assert.Greater(t, st.auto, 100, name)
		assert.Greater(t, st.lines, 30, name)
		for _, reason := range []voucher.Reason{voucher.ReasonNotOwner, voucher.ReasonUsedUp, voucher.ReasonExpired,
			voucher.ReasonPendingActivation, voucher.ReasonHeld, voucher.ReasonNotYetEffective, voucher.ReasonCurrencyMismatch,
			voucher.ReasonOrderType, voucher.ReasonPaymentType, voucher.ReasonProductScope, voucher.ReasonMinSpend,
			voucher.ReasonNothingLeft} {
			assert.Greater(t, st.rejected[reason], 5, "%s: reason %s rarely happens", name, reason)
		}
	}
}

// propertyStats counts what the generated cases exercised, so that a generator that
// stops producing interesting cases fails the test instead of passing vacuously.
type propertyStats struct {
	applied  map[string]int         // by instrument type
	rejected map[voucher.Reason]int // by reason
	auto     int                    // automatic orders with an application
	lines    int                    // applications spread over more than one line
}

// checkProperties prices o with insts at at and checks every invariant of the quote:
// the instruments are not modified, the figures add up, each application is one its
// instrument allows (checkApplications), every instrument considered is in the quote
// exactly once (checkConsidered), and the order of the wallet does not matter. It
// counts in st what the case exercised.
func checkProperties(t *testing.T, e *rules.Engine, rs *rules.RuleSet, o voucher.Order, insts []voucher.Instrument, at time.Time, r *rand.Rand, st *propertyStats) {
	t.Helper()
	before := make([]voucher.Instrument, len(insts))
	for i := range insts {
		before[i] = insts[i].Clone()
	}
	q, err := e.Quote(o, insts, at)
	require.NoError(t, err)
	assert.Equal(t, before, insts, "the instruments slice is not modified")

	// Figures add up on every line and in total; applications split exactly.
	assertQuoteBalanced(t, q)
	var total decimal.Decimal
	for _, l := range o.Lines {
		total = total.Add(l.Amount.Round(rs.Currency.Scale()))
	}
	assertAmount(t, total.String(), q.Total, "total is the sum of the lines")

	checkApplications(t, rs, o, insts, q, total, at, st)
	checkConsidered(t, rs, o, insts, q)

	// The same quote for any order of the wallet.
	shuffled := slices.Clone(insts)
	r.Shuffle(len(shuffled), func(a, b int) { shuffled[a], shuffled[b] = shuffled[b], shuffled[a] })
	q2, err := e.Quote(o, shuffled, at)
	require.NoError(t, err)
	j1, err := json.Marshal(q)
	require.NoError(t, err)
	j2, err := json.Marshal(q2)
	require.NoError(t, err)
	assert.Equal(t, string(j1), string(j2), "shuffling the wallet changed the quote")
}

// checkApplications checks each application of q (of an order of total) against its
// instrument: it takes no more than the instrument may (checkTake), the instrument
// passed every check, and it lists only lines in its scope (checkApplicationLines); and
// no type applies more often than its per-order limit. It counts the applications and
// rejections in st.
func checkApplications(t *testing.T, rs *rules.RuleSet, o voucher.Order, insts []voucher.Instrument, q *voucher.Quote, total decimal.Decimal, at time.Time, st *propertyStats) {
	t.Helper()
	byID := map[string]voucher.Instrument{}
	for _, in := range insts {
		byID[in.ID] = in
	}
	lineIndex := make(map[string]int, len(o.Lines))
	for li, l := range o.Lines {
		lineIndex[l.ID] = li
	}
	perType := map[string]int{}
	if o.Use == nil && len(q.Applications) > 0 {
		st.auto++
	}
	for _, rj := range q.Rejections {
		st.rejected[rj.Reason]++
	}
	for _, a := range q.Applications {
		st.applied[a.Type]++
		nonZero := 0
		for _, la := range a.Lines {
			if !la.Amount.IsZero() {
				nonZero++
			}
		}
		if nonZero > 1 {
			st.lines++
		}
		in, ok := byID[a.InstrumentID]
		require.True(t, ok, "application of unknown instrument %s", a.InstrumentID)
		it, _ := rs.Type(in.Type)
		perType[in.Type]++
		checkTake(t, it, in, a.Amount.Amount(), total)
		// It passed every check.
		assert.Equal(t, voucher.StatusAvailable, in.StatusAt(it.Policy(), at), "%s applied", in.ID)
		if !it.TypedCode {
			assert.Equal(t, o.Account, in.Account, "%s applied to another account's order", in.ID)
		}
		assert.True(t, in.Currency == "" || in.Currency == rs.Currency.Code(), "%s in %s applied", in.ID, in.Currency)
		checkApplicationLines(t, it, in, a, o, lineIndex)
	}
	for typ, n := range perType {
		it, _ := rs.Type(typ)
		if it.PerOrderLimit > 0 {
			assert.LessOrEqual(t, n, it.PerOrderLimit, "type %s applied %d times", typ, n)
		}
	}
}

// checkTake checks that instrument in, of type it, took no more than it may from an
// order of total: a deduction what it has available; a fixed discount its amount; a
// percentage its cap and its percentage of the total; and a discount only with a
// redemption free.
func checkTake(t *testing.T, it *rules.InstrumentType, in voucher.Instrument, take, total decimal.Decimal) {
	t.Helper()
	if it.Kind == voucher.Deduction {
		avail := in.Available()
		assert.True(t, take.LessThanOrEqual(avail), "%s took %s, has %s available", in.ID, take, avail)
		return
	}
	if in.PercentOff == nil {
		assert.True(t, take.LessThanOrEqual(in.Amount), "%s took %s, fixed amount %s", in.ID, take, in.Amount)
	} else {
		if in.MaxDiscount != nil {
			assert.True(t, take.LessThanOrEqual(*in.MaxDiscount), "%s took %s, capped at %s", in.ID, take, in.MaxDiscount)
		}
		bound := total.Mul(*in.PercentOff).Div(decimal.NewFromInt(100)).RoundUp(2)
		assert.True(t, take.LessThanOrEqual(bound), "%s took %s, %s%% of %s is at most %s", in.ID, take, in.PercentOff, total, bound)
	}
	assert.Less(t, in.Redeemed+in.HeldRedemptions, in.Redemptions(), "%s applied with no free redemption", in.ID)
}

// checkApplicationLines checks that application a lists the lines it took something
// from, each once, in line order, and each in the scope of its instrument in.
func checkApplicationLines(t *testing.T, it *rules.InstrumentType, in voucher.Instrument, a voucher.Application, o voucher.Order, lineIndex map[string]int) {
	t.Helper()
	prev := -1
	for _, la := range a.Lines {
		assert.True(t, la.Amount.IsPositive(), "%s lists line %s with %s", in.ID, la.LineID, la.Amount)
		li, ok := lineIndex[la.LineID]
		require.True(t, ok, "%s lists line %s, which the order does not have", in.ID, la.LineID)
		assert.Greater(t, li, prev, "%s lists line %s out of line order or twice", in.ID, la.LineID)
		prev = li
		p := o.Lines[li].Product
		inScope := !slices.Contains(it.NeverCovers, p) && !slices.Contains(in.ExcludeProducts, p) &&
			(len(in.Products) == 0 || slices.Contains(in.Products, p))
		assert.True(t, inScope, "%s took %s from line %s (%s), out of its scope", in.ID, la.Amount.Format(), la.LineID, p)
	}
}

// checkConsidered checks that every instrument considered (those named in use, or
// the account's own when selection is automatic, and the first by id of each code) is
// in exactly one of applied and rejected, with a known reason; and that nothing else is.
func checkConsidered(t *testing.T, rs *rules.RuleSet, o voucher.Order, insts []voucher.Instrument, q *voucher.Quote) {
	t.Helper()
	want := map[string]bool{}
	if o.Use != nil {
		for _, id := range o.Use {
			want[id] = true
		}
	} else {
		for _, in := range insts {
			if it, _ := rs.Type(in.Type); !it.TypedCode && !in.PendingActivation && in.Account != "" && in.Account == o.Account {
				want[in.ID] = true
			}
		}
	}
	for _, code := range o.Codes {
		best := ""
		for _, in := range insts {
			if it, _ := rs.Type(in.Type); it.TypedCode && in.Code == code && (best == "" || in.ID < best) {
				best = in.ID
			}
		}
		want[best] = true
	}
	seen := map[string]int{}
	for _, a := range q.Applications {
		seen[a.InstrumentID]++
	}
	for _, rj := range q.Rejections {
		seen[rj.InstrumentID]++
		assert.Contains(t, voucher.Reasons(), rj.Reason)
	}
	for id := range want {
		assert.Equal(t, 1, seen[id], "%s considered: exactly once in applied or rejected", id)
	}
	for id := range seen {
		assert.True(t, want[id], "%s was not considered, yet is in the quote", id)
	}
}
