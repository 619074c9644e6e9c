package voucher_test

import (
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
	"github.com/voucherkit/voucherkit/scenario"
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

func balanceOf(t *testing.T, w *voucher.Wallet, id string) string {
	t.Helper()
	in, ok := w.Instrument(id)
	require.True(t, ok, id)
	return in.Balance.StringFixed(2)
}

func heldOf(t *testing.T, w *voucher.Wallet, id string) string {
	t.Helper()
	in, ok := w.Instrument(id)
	require.True(t, ok, id)
	return in.Held.StringFixed(2)
}

func statusOf(t *testing.T, w *voucher.Wallet, id string) voucher.Status {
	t.Helper()
	s, ok := w.Status(id)
	require.True(t, ok, id)
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
	scenario.RunFiles(t, "../testdata/conformance/*.yaml")
}

// The seed example: a 500 CNY ECS order, a 200 CNY voucher pays part of it, only the
// 300 CNY paid in cash is invoiceable, and a refund returns the cash only.
func TestAliyunSeedExample(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, cst)
	w := voucher.NewWallet(engine(t, "aliyun"), now)
	require.NoError(t, w.Grant(voucher.Instrument{ID: "v200", Type: "voucher", Account: "acct-1",
		Amount: d("200"), Balance: d("200"), ExpiresAt: time.Date(2026, 7, 1, 0, 0, 0, 0, cst)}))

	o := voucher.Order{ID: "o1", Account: "acct-1", Type: voucher.OrderNew, Payment: voucher.PaySubscription,
		FirstPurchase: true, Lines: []voucher.Line{line("ecs-1", "ecs", "500")}}
	q, err := w.Quote(o, now)
	require.NoError(t, err)
	c, err := w.Checkout(o, now)
	require.NoError(t, err)
	assert.Equal(t, q.Figures, c.Figures, "quote and checkout agree")
	for k, v := range map[string]voucher.Money{"total": c.Total, "discount": c.Discount, "deducted": c.Deducted,
		"cash": c.Cash, "invoiceable": c.Invoiceable, "non_invoiceable": c.NonInvoiceable} {
		want := map[string]string{"total": "500.00", "discount": "0.00", "deducted": "200.00", "cash": "300.00",
			"invoiceable": "300.00", "non_invoiceable": "200.00"}[k]
		assert.Equal(t, want, v.Format(), k)
	}
	assert.Equal(t, "0.00", balanceOf(t, w, "v200"))
	assert.Equal(t, voucher.StatusUsedUp, statusOf(t, w, "v200"))

	_, err = w.Checkout(o, now)
	require.ErrorIs(t, err, voucher.ErrDuplicateOrder)

	res, err := w.Refund(voucher.RefundRequest{OrderID: "o1"}, time.Date(2026, 3, 4, 9, 0, 0, 0, cst))
	require.NoError(t, err)
	assert.Equal(t, "300.00", res.CashRefund.Format())
	assert.Equal(t, map[string]string{"v200": "200.00"}, amounts(res.Forfeited))
	assert.Empty(t, res.Restored)
	assert.Equal(t, "0.00", balanceOf(t, w, "v200"))

	n := w.Ledger().Len()
	_, err = w.Refund(voucher.RefundRequest{OrderID: "o1"}, w.Now())
	require.ErrorIs(t, err, voucher.ErrAlreadyRefunded)
	assert.Equal(t, n, w.Ledger().Len())

	var ks []voucher.EntryKind
	for _, e := range w.Ledger().ByOrder("o1") {
		ks = append(ks, e.Kind)
	}
	assert.Equal(t, []voucher.EntryKind{voucher.EntryDeduct, voucher.EntryRefundForfeit}, ks)
	require.NoError(t, w.Ledger().Verify())
}

func TestAliyunHoldsAreInvisibleToOtherOrders(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, cst)
	w := voucher.NewWallet(engine(t, "aliyun"), now)
	require.NoError(t, w.Grant(voucher.Instrument{ID: "v100", Type: "voucher", Account: "acct-1", Amount: d("100"), Balance: d("100")}))
	require.NoError(t, w.Grant(voucher.Instrument{ID: "spring", Type: "promo_code", Code: "SPRING10", PercentOff: d("10")}))
	order := func(id, acct, amount string, codes ...string) voucher.Order {
		return voucher.Order{ID: id, Account: acct, Type: voucher.OrderRenewal, Payment: voucher.PaySubscription,
			Codes: codes, Lines: []voucher.Line{line("l1", "ecs", amount)}}
	}

	q, err := w.Reserve(order("o1", "acct-1", "100", "SPRING10"), now, 15*time.Minute)
	require.NoError(t, err)
	assert.Equal(t, "10.00", q.Discount.Format())
	assert.Equal(t, "90.00", q.Deducted.Format())
	assert.Equal(t, "90.00", heldOf(t, w, "v100"))

	// Another buyer typing the same single-use code finds it held.
	q, err = w.Quote(order("x", "acct-2", "100", "SPRING10"), now)
	require.NoError(t, err)
	r, ok := q.Rejected("SPRING10")
	require.True(t, ok)
	assert.Equal(t, voucher.ReasonHeld, r.Reason)

	// The owner's next order sees only what is not held.
	q, err = w.Checkout(order("o2", "acct-1", "50"), now.Add(time.Minute))
	require.NoError(t, err)
	assert.Equal(t, "10.00", q.Deducted.Format())
	q, err = w.Quote(order("o3", "acct-1", "50"), now.Add(time.Minute))
	require.NoError(t, err)
	assert.Equal(t, "0.00", q.Deducted.Format())
	o4 := order("o4", "acct-1", "50")
	o4.Use = []string{"v100"}
	q, err = w.Quote(o4, now.Add(time.Minute))
	require.NoError(t, err)
	r, ok = q.Rejected("v100")
	require.True(t, ok)
	assert.Equal(t, voucher.ReasonHeld, r.Reason)

	// The hold runs out: the code and the voucher are free again.
	q, err = w.Checkout(order("o5", "acct-2", "100", "SPRING10"), now.Add(15*time.Minute))
	require.NoError(t, err)
	assert.Equal(t, "10.00", q.Discount.Format())
	_, err = w.Capture("o1", w.Now())
	require.ErrorIs(t, err, voucher.ErrNotReserved)
	assert.Equal(t, "90.00", balanceOf(t, w, "v100"))
	assert.Equal(t, "0.00", heldOf(t, w, "v100"))
	require.NoError(t, w.Ledger().Verify())
}

func TestAWSCreditsRestoreOnRefund(t *testing.T) {
	now := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	exp := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	w := voucher.NewWallet(engine(t, "aws"), now)
	require.NoError(t, w.Grant(voucher.Instrument{ID: "c100", Type: "credit", Account: "111122223333",
		Amount: d("100"), Balance: d("100"), ExpiresAt: exp}))
	bill := func(id string) voucher.Order {
		return voucher.Order{ID: id, Account: "111122223333", Type: voucher.OrderUsage, Payment: voucher.PayAsYouGo,
			Lines: []voucher.Line{line("ec2", "ec2", "40"), line("s3", "s3", "25"), line("mp", "marketplace", "60")}}
	}
	at := time.Date(2026, 2, 28, 23, 0, 0, 0, time.UTC)
	q, err := w.Checkout(bill("feb"), at)
	require.NoError(t, err)
	assert.Equal(t, "65.00", q.Deducted.Format())
	assert.Equal(t, "60.00", q.Cash.Format())
	assert.Equal(t, "35.00", balanceOf(t, w, "c100"))

	res, err := w.Refund(voucher.RefundRequest{OrderID: "feb", Lines: []string{"ec2", "mp"}, Consumed: d("10")}, at.Add(time.Hour))
	require.NoError(t, err)
	assert.Equal(t, "50.00", res.CashRefund.Format(), "60 cash on mp less 10 consumed")
	assert.Equal(t, map[string]string{"c100": "40.00"}, amounts(res.Restored))
	assert.Empty(t, res.Forfeited)
	assert.Equal(t, "75.00", balanceOf(t, w, "c100"))

	// After the credit has expired, what a refund would restore is forfeited instead.
	res, err = w.Refund(voucher.RefundRequest{OrderID: "feb"}, exp.Add(time.Hour))
	require.NoError(t, err)
	assert.Equal(t, []string{"s3"}, res.Lines)
	assert.Equal(t, map[string]string{"c100": "100.00"}, amounts(res.Forfeited), "75 expired on the way + 25 of the refund")
	assert.Empty(t, res.Restored)
	assert.Equal(t, "75.00", balanceOf(t, w, "c100"))
	assert.Equal(t, voucher.StatusExpired, statusOf(t, w, "c100"))
	require.NoError(t, w.Ledger().Verify())
}

func TestAWSPromotionCodeActivation(t *testing.T) {
	now := time.Date(2026, 2, 10, 0, 0, 0, 0, time.UTC)
	w := voucher.NewWallet(engine(t, "aws"), now)
	require.NoError(t, w.Grant(voucher.Instrument{ID: "promo", Type: "credit", Code: "PC-EXAMPLE-25", PendingActivation: true,
		Amount: d("25"), Balance: d("25"), ExpiresAt: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}))
	require.NoError(t, w.Grant(voucher.Instrument{ID: "short", Type: "credit", Code: "PC-SHORT", PendingActivation: true,
		Amount: d("5"), Balance: d("5"), ExpiresAt: now.Add(24 * time.Hour)}))
	assert.Equal(t, voucher.StatusPendingActivation, statusOf(t, w, "promo"))

	at := now.Add(time.Hour)
	in, err := w.Activate("PC-EXAMPLE-25", "111122223333", at)
	require.NoError(t, err)
	assert.Equal(t, "111122223333", in.Account)
	assert.Equal(t, voucher.StatusAvailable, statusOf(t, w, "promo"))
	_, err = w.Activate("PC-EXAMPLE-25", "444455556666", at)
	require.ErrorIs(t, err, voucher.ErrCodeAlreadyUsed)
	_, err = w.Activate("PC-NOPE", "444455556666", at)
	require.ErrorIs(t, err, voucher.ErrCodeNotFound)

	bill := voucher.Order{ID: "feb", Account: "111122223333", Type: voucher.OrderUsage, Payment: voucher.PayAsYouGo,
		Lines: []voucher.Line{line("lambda", "lambda", "7.25")}}
	q, err := w.Checkout(bill, time.Date(2026, 2, 28, 23, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	assert.Equal(t, "7.25", q.Deducted.Format())
	assert.Equal(t, "17.75", balanceOf(t, w, "promo"))

	// The short code expired unclaimed: its value was forfeited on the way.
	n := w.Ledger().Len()
	_, err = w.Activate("PC-SHORT", "111122223333", w.Now())
	require.ErrorIs(t, err, voucher.ErrCodeExpired)
	assert.Equal(t, n, w.Ledger().Len())
	es := w.Ledger().ByInstrument("short")
	require.Len(t, es, 2)
	assert.Equal(t, voucher.EntryExpire, es[1].Kind)
	assert.True(t, es[1].At.Equal(now.Add(24*time.Hour)))
	require.NoError(t, w.Ledger().Verify())
}

func TestStepErrorsFromTheEngine(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, cst)
	w := voucher.NewWallet(engine(t, "aliyun"), now)
	require.NoError(t, w.Grant(voucher.Instrument{ID: "v", Type: "voucher", Account: "a", Amount: d("10"), Balance: d("10")}))
	require.ErrorContains(t, w.Grant(voucher.Instrument{ID: "x", Type: "credit", Amount: d("1"), Balance: d("1")}), `"credit"`)
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
		n := w.Ledger().Len()
		_, err := w.Checkout(o, now.Add(time.Hour))
		require.ErrorIs(t, err, want)
		assert.Equal(t, want.Code(), voucher.ErrorCode(err))
		assert.True(t, w.Now().Equal(now), "the clock stays")
		assert.Equal(t, n, w.Ledger().Len())
		assert.Equal(t, "10.00", balanceOf(t, w, "v"))
	}
}

// TestEngineConcurrentCheckouts races 64 goroutines checking out against the same
// vouchers through the real engine.
func TestEngineConcurrentCheckouts(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, cst)
	w := voucher.NewWallet(engine(t, "aliyun"), now)
	for a := 0; a < 4; a++ {
		require.NoError(t, w.Grant(voucher.Instrument{ID: fmt.Sprintf("v%d", a), Type: "voucher",
			Account: fmt.Sprintf("acct-%d", a), Amount: d("300"), Balance: d("300")}))
	}
	require.NoError(t, w.Grant(voucher.Instrument{ID: "spring", Type: "promo_code", Code: "SPRING10", PercentOff: d("10")}))
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
					q, err = w.Reserve(o, now, time.Minute)
					if err == nil && g%2 == 0 {
						q, err = w.Capture(o.ID, now)
					} else if err == nil {
						_, err = w.Release(o.ID, now)
						q = nil
					}
				} else {
					q, err = w.Checkout(o, now)
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
	require.NoError(t, w.Ledger().Verify())
	for a := 0; a < 4; a++ {
		id := fmt.Sprintf("v%d", a)
		in, _ := w.Instrument(id)
		assert.True(t, d("300").Sub(taken[id]).Equal(in.Balance), "%s: taken %s, balance %s", id, taken[id], in.Balance)
		assert.False(t, in.Balance.IsNegative())
		assert.True(t, in.Held.IsZero())
	}
	assert.Equal(t, 1, promos, "a single-use promo code is redeemed once")
	spring, _ := w.Instrument("spring")
	assert.Equal(t, 1, spring.Redeemed)
}

// The seed example through a Wallet: a 500 CNY ECS order, 200 CNY paid by a voucher,
// then refunded.
func ExampleWallet() {
	rs, _ := providers.Load("aliyun")
	eng, _ := rules.NewEngine(rs)
	shanghai := time.FixedZone("CST", 8*3600)
	w := voucher.NewWallet(eng, time.Date(2026, 3, 2, 10, 0, 0, 0, shanghai))
	_ = w.Grant(voucher.Instrument{ID: "v200", Type: "voucher", Account: "acct-1",
		Amount: decimal.NewFromInt(200), Balance: decimal.NewFromInt(200)})

	q, err := w.Checkout(voucher.Order{ID: "o1", Account: "acct-1", Type: voucher.OrderNew,
		Payment: voucher.PaySubscription, FirstPurchase: true,
		Lines: []voucher.Line{{ID: "ecs-1", Product: "ecs", Amount: decimal.NewFromInt(500)}}}, w.Now())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("cash", q.Cash, "deducted", q.Deducted, "invoiceable", q.Invoiceable)

	_, err = w.Checkout(voucher.Order{ID: "o1", Account: "acct-1", Type: voucher.OrderNew,
		Payment: voucher.PaySubscription}, w.Now()) // duplicate_order comes before invalid_order
	fmt.Println(voucher.ErrorCode(err))

	res, _ := w.Refund(voucher.RefundRequest{OrderID: "o1"}, w.Now().Add(48*time.Hour))
	fmt.Println("cash refund", res.CashRefund, "forfeited", res.Forfeited["v200"])
	for _, e := range w.Ledger().ByInstrument("v200") {
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
