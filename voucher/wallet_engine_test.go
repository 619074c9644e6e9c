package voucher_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/voucherkit/voucherkit/providers"
	"github.com/voucherkit/voucherkit/rules"
	"github.com/voucherkit/voucherkit/scenario/scenariotest"
	"github.com/voucherkit/voucherkit/store/memory"
	"github.com/voucherkit/voucherkit/voucher"
)

// These tests drive the Wallet with the real engine and the built-in rule sets.

var cst = time.FixedZone("CST", 8*3600)

func engine(t testing.TB, name string) *rules.Engine {
	t.Helper()
	rs, err := providers.Load(name)
	require.NoError(t, err)
	e, err := rules.NewEngine(rs)
	require.NoError(t, err)
	return e
}

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func line(id, product, amount string) voucher.Line {
	return voucher.Line{ID: id, Product: product, Amount: d(amount)}
}

// engineWallet is a wallet on a new memory store priced by the engine of rule set name.
func engineWallet(t testing.TB, name string) *voucher.Wallet {
	t.Helper()
	return voucher.NewWallet(engine(t, name), memory.New())
}

func balanceOf(t testing.TB, w *voucher.Wallet, id string) string {
	t.Helper()
	si, ok, err := w.Instrument(ctx, id)
	require.NoError(t, err)
	require.True(t, ok, id)
	return si.Instrument.CurrentBalance().StringFixed(2)
}

func heldOf(t testing.TB, w *voucher.Wallet, id string) string {
	t.Helper()
	si, ok, err := w.Instrument(ctx, id)
	require.NoError(t, err)
	require.True(t, ok, id)
	return si.Instrument.Held.StringFixed(2)
}

func engineStatus(t testing.TB, w *voucher.Wallet, id string, at time.Time) voucher.Status {
	t.Helper()
	s, err := w.Status(ctx, id, at)
	require.NoError(t, err, id)
	return s
}

func amounts(m map[string]voucher.Money) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v.Format()
	}
	return out
}

// TestConformanceThroughWallet runs the conformance suite, every step of which goes
// through a Wallet.
func TestConformanceThroughWallet(t *testing.T) {
	scenariotest.RunFiles(t, "../testdata/conformance/*.yaml")
}

// The seed example: a 500 CNY ECS order, a 200 CNY voucher pays part of it, only the
// 300 CNY paid in cash is invoiceable, and a refund returns the cash only.
func TestAliyunSeedExample(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, cst)
	w := engineWallet(t, "aliyun")
	require.NoError(t, w.Grant(ctx, voucher.Instrument{ID: "v200", Type: "voucher", Account: "acct-1",
		Amount: d("200"), ExpiresAt: voucher.Ptr(time.Date(2026, 7, 1, 0, 0, 0, 0, cst))}, now))

	o := voucher.Order{ID: "o1", Account: "acct-1", Type: voucher.OrderNew, Payment: voucher.PaySubscription,
		FirstPurchase: true, Lines: []voucher.Line{line("ecs-1", "ecs", "500")}}
	q, err := w.Quote(ctx, o, now)
	require.NoError(t, err)
	c, err := w.Checkout(ctx, o, now)
	require.NoError(t, err)
	assert.Equal(t, q.Figures, c.Figures, "quote and checkout agree")
	for k, v := range map[string]voucher.Money{"total": c.Total, "discount": c.Discount, "deducted": c.Deducted,
		"cash": c.Cash, "invoiceable": c.Invoiceable, "non_invoiceable": c.NonInvoiceable} {
		want := map[string]string{"total": "500.00", "discount": "0.00", "deducted": "200.00", "cash": "300.00",
			"invoiceable": "300.00", "non_invoiceable": "200.00"}[k]
		assert.Equal(t, want, v.Format(), k)
	}
	assert.Equal(t, "0.00", balanceOf(t, w, "v200"))
	assert.Equal(t, voucher.StatusUsedUp, engineStatus(t, w, "v200", now))

	_, err = w.Checkout(ctx, o, now)
	require.ErrorIs(t, err, voucher.ErrDuplicateOrder)

	later := time.Date(2026, 3, 4, 9, 0, 0, 0, cst)
	res, err := w.Refund(ctx, voucher.RefundRequest{OrderID: "o1"}, later)
	require.NoError(t, err)
	assert.Equal(t, "300.00", res.CashRefund.Format())
	assert.Equal(t, map[string]string{"v200": "200.00"}, amounts(res.Forfeited))
	assert.Empty(t, res.Restored)
	assert.Equal(t, "0.00", balanceOf(t, w, "v200"))

	n := ledgerLen(t, w)
	_, err = w.Refund(ctx, voucher.RefundRequest{OrderID: "o1"}, later)
	require.ErrorIs(t, err, voucher.ErrAlreadyRefunded)
	assert.Equal(t, n, ledgerLen(t, w))

	assert.Equal(t, []voucher.EntryKind{voucher.EntryDeduct, voucher.EntryRefundForfeit}, kindsOf(byOrder(t, w, "o1")))
	verifyLedger(t, w)
}

func TestAliyunHoldsAreInvisibleToOtherOrders(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, cst)
	w := engineWallet(t, "aliyun")
	require.NoError(t, w.Grant(ctx, voucher.Instrument{ID: "v100", Type: "voucher", Account: "acct-1", Amount: d("100")}, now))
	require.NoError(t, w.Grant(ctx, voucher.Instrument{ID: "spring", Type: "promo_code", Code: "SPRING10", PercentOff: voucher.Ptr(d("10"))}, now))
	order := func(id, acct, amount string, codes ...string) voucher.Order {
		return voucher.Order{ID: id, Account: acct, Type: voucher.OrderRenewal, Payment: voucher.PaySubscription,
			Codes: codes, Lines: []voucher.Line{line("l1", "ecs", amount)}}
	}

	q, err := w.Reserve(ctx, order("o1", "acct-1", "100", "SPRING10"), now, 15*time.Minute)
	require.NoError(t, err)
	assert.Equal(t, "10.00", q.Discount.Format())
	assert.Equal(t, "90.00", q.Deducted.Format())
	assert.Equal(t, "90.00", heldOf(t, w, "v100"))

	// Another buyer typing the same single-use code finds it held.
	q, err = w.Quote(ctx, order("x", "acct-2", "100", "SPRING10"), now)
	require.NoError(t, err)
	r, ok := q.Rejected("SPRING10")
	require.True(t, ok)
	assert.Equal(t, voucher.ReasonHeld, r.Reason)

	// The owner's next order sees only what is not held.
	q, err = w.Checkout(ctx, order("o2", "acct-1", "50"), now.Add(time.Minute))
	require.NoError(t, err)
	assert.Equal(t, "10.00", q.Deducted.Format())
	q, err = w.Quote(ctx, order("o3", "acct-1", "50"), now.Add(time.Minute))
	require.NoError(t, err)
	assert.Equal(t, "0.00", q.Deducted.Format())
	o4 := order("o4", "acct-1", "50")
	o4.Use = []string{"v100"}
	q, err = w.Quote(ctx, o4, now.Add(time.Minute))
	require.NoError(t, err)
	r, ok = q.Rejected("v100")
	require.True(t, ok)
	assert.Equal(t, voucher.ReasonHeld, r.Reason)

	// The hold runs out: another account's step frees the code it held, and ends the
	// hold on the owner's behalf.
	end := now.Add(15 * time.Minute)
	q, err = w.Checkout(ctx, order("o5", "acct-2", "100", "SPRING10"), end)
	require.NoError(t, err)
	assert.Equal(t, "10.00", q.Discount.Format())
	_, err = w.Capture(ctx, "o1", end)
	require.ErrorIs(t, err, voucher.ErrNotReserved)
	assert.Equal(t, "90.00", balanceOf(t, w, "v100"))
	assert.Equal(t, "0.00", heldOf(t, w, "v100"))
	rel := byOrder(t, w, "o1")
	require.Equal(t, []voucher.EntryKind{voucher.EntryReserve, voucher.EntryReserve, voucher.EntryRelease, voucher.EntryRelease}, kindsOf(rel))
	assert.True(t, rel[3].At.Equal(end))
	verifyLedger(t, w)
}

func TestAWSCreditsRestoreOnRefund(t *testing.T) {
	now := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	exp := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	w := engineWallet(t, "aws")
	require.NoError(t, w.Grant(ctx, voucher.Instrument{ID: "c100", Type: "credit", Account: "111122223333",
		Amount: d("100"), ExpiresAt: &exp}, now))
	bill := func(id string) voucher.Order {
		return voucher.Order{ID: id, Account: "111122223333", Type: voucher.OrderUsage, Payment: voucher.PayAsYouGo,
			Lines: []voucher.Line{line("ec2", "ec2", "40"), line("s3", "s3", "25"), line("mp", "marketplace", "60")}}
	}
	at := time.Date(2026, 2, 28, 23, 0, 0, 0, time.UTC)
	q, err := w.Checkout(ctx, bill("feb"), at)
	require.NoError(t, err)
	assert.Equal(t, "65.00", q.Deducted.Format())
	assert.Equal(t, "60.00", q.Cash.Format())
	assert.Equal(t, "35.00", balanceOf(t, w, "c100"))

	res, err := w.Refund(ctx, voucher.RefundRequest{OrderID: "feb", Lines: []string{"ec2", "mp"}, Consumed: voucher.Ptr(d("10"))}, at.Add(time.Hour))
	require.NoError(t, err)
	assert.Equal(t, "50.00", res.CashRefund.Format(), "60 cash on mp less 10 consumed")
	assert.Equal(t, map[string]string{"c100": "40.00"}, amounts(res.Restored))
	assert.Empty(t, res.Forfeited)
	assert.Equal(t, "75.00", balanceOf(t, w, "c100"))

	// After the credit has expired, what a refund would restore is forfeited instead.
	res, err = w.Refund(ctx, voucher.RefundRequest{OrderID: "feb"}, exp.Add(time.Hour))
	require.NoError(t, err)
	assert.Equal(t, []string{"s3"}, res.Lines)
	assert.Equal(t, map[string]string{"c100": "100.00"}, amounts(res.Forfeited), "75 expired on the way + 25 of the refund")
	assert.Empty(t, res.Restored)
	assert.Equal(t, "75.00", balanceOf(t, w, "c100"))
	assert.Equal(t, voucher.StatusExpired, engineStatus(t, w, "c100", exp.Add(time.Hour)))
	verifyLedger(t, w)
}

func TestAWSPromotionCodeActivation(t *testing.T) {
	now := time.Date(2026, 2, 10, 0, 0, 0, 0, time.UTC)
	w := engineWallet(t, "aws")
	require.NoError(t, w.Grant(ctx, voucher.Instrument{ID: "promo", Type: "credit", Code: "PC-EXAMPLE-25", PendingActivation: true,
		Amount: d("25"), ExpiresAt: voucher.Ptr(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))}, now))
	require.NoError(t, w.Grant(ctx, voucher.Instrument{ID: "short", Type: "credit", Code: "PC-SHORT", PendingActivation: true,
		Amount: d("5"), ExpiresAt: voucher.Ptr(now.Add(24 * time.Hour))}, now))
	assert.Equal(t, voucher.StatusPendingActivation, engineStatus(t, w, "promo", now))

	at := now.Add(time.Hour)
	in, err := w.Activate(ctx, "PC-EXAMPLE-25", "111122223333", at)
	require.NoError(t, err)
	assert.Equal(t, "111122223333", in.Account)
	assert.Equal(t, voucher.StatusAvailable, engineStatus(t, w, "promo", at))
	_, err = w.Activate(ctx, "PC-EXAMPLE-25", "444455556666", at)
	require.ErrorIs(t, err, voucher.ErrCodeAlreadyUsed)
	_, err = w.Activate(ctx, "PC-NOPE", "444455556666", at)
	require.ErrorIs(t, err, voucher.ErrCodeNotFound)

	billAt := time.Date(2026, 2, 28, 23, 0, 0, 0, time.UTC)
	bill := voucher.Order{ID: "feb", Account: "111122223333", Type: voucher.OrderUsage, Payment: voucher.PayAsYouGo,
		Lines: []voucher.Line{line("lambda", "lambda", "7.25")}}
	q, err := w.Checkout(ctx, bill, billAt)
	require.NoError(t, err)
	assert.Equal(t, "7.25", q.Deducted.Format())
	assert.Equal(t, "17.75", balanceOf(t, w, "promo"))

	// The short code expired unclaimed: activating it fails and writes nothing; the
	// sweep records its value forfeited when it expired.
	n := ledgerLen(t, w)
	_, err = w.Activate(ctx, "PC-SHORT", "111122223333", billAt)
	require.ErrorIs(t, err, voucher.ErrCodeExpired)
	assert.Equal(t, n, ledgerLen(t, w))
	res, err := w.Expire(ctx, billAt)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"short": "5.00"}, amounts(res.Forfeited))
	es := byInstrument(t, w, "short")
	require.Len(t, es, 2)
	assert.Equal(t, voucher.EntryExpire, es[1].Kind)
	assert.True(t, es[1].At.Equal(now.Add(24*time.Hour)))
	verifyLedger(t, w)
}

func TestStepErrorsFromTheEngine(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, cst)
	w := engineWallet(t, "aliyun")
	require.NoError(t, w.Grant(ctx, voucher.Instrument{ID: "v", Type: "voucher", Account: "a", Amount: d("10")}, now))
	require.ErrorContains(t, w.Grant(ctx, voucher.Instrument{ID: "x", Type: "credit", Amount: d("1")}, now), `"credit"`)
	base := voucher.Order{ID: "o", Account: "a", Type: voucher.OrderNew, Payment: voucher.PaySubscription,
		Lines: []voucher.Line{line("l1", "ecs", "10")}}
	bad := map[*voucher.CodeError]func(o *voucher.Order){
		voucher.ErrInvalidOrder: func(o *voucher.Order) { o.Lines = nil },
		voucher.ErrCurrencyMismatch: func(o *voucher.Order) {
			o.Lines = []voucher.Line{{ID: "l1", Product: "ecs", Amount: d("1"), Currency: "USD"}}
		},
		voucher.ErrUnknownInstrument: func(o *voucher.Order) { o.Use = []string{"nope"} },
		voucher.ErrCodeNotFound:      func(o *voucher.Order) { o.Codes = []string{"NOPE"} },
	}
	for want, mut := range bad {
		o := base
		mut(&o)
		n := ledgerLen(t, w)
		_, err := w.Checkout(ctx, o, now.Add(time.Hour))
		require.ErrorIs(t, err, want)
		assert.Equal(t, want.Code(), voucher.ErrorCode(err))
		assert.True(t, clockOf(t, w, "a").Equal(now), "the clock stays")
		assert.Equal(t, n, ledgerLen(t, w))
		assert.Equal(t, "10.00", balanceOf(t, w, "v"))
	}
}

// TestEngineConcurrentCheckouts races 64 goroutines checking out against the same
// vouchers through the real engine.
func TestEngineConcurrentCheckouts(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, cst)
	w := engineWallet(t, "aliyun")
	for a := 0; a < 4; a++ {
		require.NoError(t, w.Grant(ctx, voucher.Instrument{ID: fmt.Sprintf("v%d", a), Type: "voucher",
			Account: fmt.Sprintf("acct-%d", a), Amount: d("300")}, now))
	}
	require.NoError(t, w.Grant(ctx, voucher.Instrument{ID: "spring", Type: "promo_code", Code: "SPRING10", PercentOff: voucher.Ptr(d("10"))}, now))
	var (
		mu     sync.Mutex
		taken  = map[string]decimal.Decimal{}
		promos int
		errs   []error
		wg     sync.WaitGroup
	)
	for g := 0; g < 64; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				o := voucher.Order{ID: fmt.Sprintf("g%d-%d", g, i), Account: fmt.Sprintf("acct-%d", g%4),
					Type: voucher.OrderRenewal, Payment: voucher.PaySubscription, Codes: []string{"SPRING10"},
					Lines: []voucher.Line{line("l1", "ecs", strconv.Itoa(5+(g+i)%17))}}
				var q *voucher.Quote
				var err error
				if i%3 == 0 {
					q, err = w.Reserve(ctx, o, now, time.Minute)
					if err == nil && g%2 == 0 {
						q, err = w.Capture(ctx, o.ID, now)
					} else if err == nil {
						_, err = w.Release(ctx, o.ID, now)
						q = nil
					}
				} else {
					q, err = w.Checkout(ctx, o, now)
				}
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else if q != nil {
					for _, a := range q.Applications {
						if a.Kind == voucher.Deduction {
							taken[a.InstrumentID] = taken[a.InstrumentID].Add(a.Amount.Amount())
						} else {
							promos++
						}
					}
				}
				mu.Unlock()
			}
		}(g)
	}
	wg.Wait()
	require.Empty(t, errs)
	verifyLedger(t, w)
	for a := 0; a < 4; a++ {
		id := fmt.Sprintf("v%d", a)
		si, _, err := w.Instrument(ctx, id)
		require.NoError(t, err)
		bal := si.Instrument.CurrentBalance()
		assert.True(t, d("300").Sub(taken[id]).Equal(bal), "%s: taken %s, balance %s", id, taken[id], bal)
		assert.False(t, bal.IsNegative())
		assert.True(t, si.Instrument.Held.IsZero())
	}
	assert.Equal(t, 1, promos, "a single-use promo code is redeemed once")
	spring, _, err := w.Instrument(ctx, "spring")
	require.NoError(t, err)
	assert.Equal(t, 1, spring.Instrument.Redeemed)
}

// benchAccounts is how many accounts benchWallet has.
const benchAccounts = 256

// benchWallet is benchAccounts aliyun accounts, each with a large voucher, a small
// voucher that expires (accounts expire one after another, a minute apart), and a
// coupon; and one order per account, of one or two lines, a new purchase (the coupon
// applies the first time) or a renewal.
func benchWallet(tb testing.TB, opts ...memory.Option) (*voucher.Wallet, []voucher.Order, time.Time) {
	tb.Helper()
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, cst)
	w := voucher.NewWallet(engine(tb, "aliyun"), memory.New(opts...))
	orders := make([]voucher.Order, 0, benchAccounts)
	for a := 0; a < benchAccounts; a++ {
		acct := fmt.Sprintf("acct-%d", a)
		for _, in := range []voucher.Instrument{
			{ID: "big-" + acct, Type: "voucher", Account: acct, Amount: d("1000000000")},
			{ID: "small-" + acct, Type: "voucher", Account: acct, Amount: d("5"),
				ExpiresAt: voucher.Ptr(now.Add(time.Duration(a+1) * time.Minute))},
			{ID: "coupon-" + acct, Type: "coupon", Account: acct, Amount: d("5"), FirstPurchaseOnly: voucher.Ptr(false),
				ExpiresAt: voucher.Ptr(now.Add(time.Hour))},
		} {
			if err := w.Grant(ctx, in, now); err != nil {
				tb.Fatal(err)
			}
		}
		o := voucher.Order{Account: acct, Type: voucher.OrderRenewal, Payment: voucher.PaySubscription,
			Lines: []voucher.Line{line("l1", "ecs", "30.00")}}
		if a%2 == 0 {
			o.Type = voucher.OrderNew
			o.Lines = append(o.Lines, line("l2", "rds", "12.50"))
		}
		orders = append(orders, o)
	}
	return w, orders, now
}

// The seed example through a Wallet: a 500 CNY ECS order, 200 CNY paid by a voucher,
// then refunded.
func ExampleWallet() {
	rs, _ := providers.Load("aliyun")
	eng, _ := rules.NewEngine(rs)
	ctx := context.Background()
	w := voucher.NewWallet(eng, memory.New())
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))
	_ = w.Grant(ctx, voucher.Instrument{ID: "v200", Type: "voucher", Account: "acct-1",
		Amount: decimal.NewFromInt(200)}, now)

	q, err := w.Checkout(ctx, voucher.Order{ID: "o1", Account: "acct-1", Type: voucher.OrderNew,
		Payment: voucher.PaySubscription, FirstPurchase: true,
		Lines: []voucher.Line{{ID: "ecs-1", Product: "ecs", Amount: decimal.NewFromInt(500)}}}, now)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("cash", q.Cash, "deducted", q.Deducted, "invoiceable", q.Invoiceable)

	_, err = w.Checkout(ctx, voucher.Order{ID: "o1", Account: "acct-1", Type: voucher.OrderNew,
		Payment: voucher.PaySubscription}, now) // duplicate_order comes before invalid_order
	fmt.Println(voucher.ErrorCode(err))

	res, _ := w.Refund(ctx, voucher.RefundRequest{OrderID: "o1"}, now.Add(48*time.Hour))
	fmt.Println("cash refund", res.CashRefund, "forfeited", res.Forfeited["v200"])
	entries, _ := w.Ledger(ctx, voucher.LedgerQuery{Instrument: "v200"})
	for _, e := range entries {
		fmt.Println(e.Kind, e.Order, e.Amount.Format(), "balance", e.BalanceAfter.Format())
	}
	// Output:
	// cash 300.00 CNY deducted 200.00 CNY invoiceable 300.00 CNY
	// duplicate_order
	// cash refund 300.00 CNY forfeited 200.00 CNY
	// grant  200.00 balance 200.00
	// deduct o1 200.00 balance 0.00
	// refund_forfeit o1 200.00 balance 0.00
}
