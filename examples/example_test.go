package examples_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/shopspring/decimal"

	"github.com/voucherkit/voucherkit/providers"
	"github.com/voucherkit/voucherkit/rules"
	"github.com/voucherkit/voucherkit/store/memory"
	"github.com/voucherkit/voucherkit/voucher"
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// The seed's example: a 500 CNY ECS order, a 200 CNY voucher pays part of it, and only
// the 300 CNY paid in cash may be invoiced.
func Example_aliyunVoucher() {
	rs, err := providers.Load("aliyun")
	if err != nil {
		panic(err)
	}
	engine, err := rules.NewEngine(rs)
	if err != nil {
		panic(err)
	}
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, rs.Location)
	order := voucher.Order{
		ID: "o1", Account: "acct-1", Type: voucher.OrderNew, Payment: voucher.PaySubscription,
		Lines: []voucher.Line{{ID: "ecs-1", Product: "ecs", Amount: dec("500")}},
	}
	wallet := []voucher.Instrument{{
		ID: "v200", Type: "voucher", Account: "acct-1",
		Amount: dec("200"), ExpiresAt: voucher.Ptr(at.AddDate(0, 3, 0)), // no Balance: the face value is left
	}}
	q, err := engine.Quote(order, wallet, at)
	if err != nil {
		panic(err)
	}
	fmt.Println("total", q.Total.Format())
	fmt.Println("deducted", q.Deducted.Format())
	fmt.Println("cash", q.Cash.Format())
	fmt.Println("invoiceable", q.Invoiceable.Format())
	fmt.Println("not invoiceable", q.NonInvoiceable.Format())
	// Output:
	// total 500.00
	// deducted 200.00
	// cash 300.00
	// invoiceable 300.00
	// not invoiceable 200.00
}

// The AWS Billing docs' example: the credit that expires first applies first, each to
// the largest eligible charge first; Jorge pays 135 USD.
func Example_awsCredits() {
	rs, err := providers.Load("aws")
	if err != nil {
		panic(err)
	}
	engine, err := rules.NewEngine(rs)
	if err != nil {
		panic(err)
	}
	at := time.Date(2026, 1, 31, 23, 0, 0, 0, time.UTC)
	credits := []voucher.Instrument{
		{ID: "credit-1", Type: "credit", Account: "jorge", Amount: dec("10"),
			Products: []string{"ec2", "s3"}, ExpiresAt: voucher.Ptr(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))},
		{ID: "credit-2", Type: "credit", Account: "jorge", Amount: dec("5"),
			Products: []string{"ec2"}, ExpiresAt: voucher.Ptr(time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC))},
	}
	bill := voucher.Order{
		ID: "bill-2026-01", Account: "jorge", Type: voucher.OrderUsage, Payment: voucher.PayAsYouGo,
		Lines: []voucher.Line{
			{ID: "ec2", Product: "ec2", Amount: dec("100")},
			{ID: "s3", Product: "s3", Amount: dec("50")},
		},
	}
	q, err := engine.Quote(bill, credits, at)
	if err != nil {
		panic(err)
	}
	for _, a := range q.Applications {
		fmt.Printf("%s took %s from %s\n", a.Key, a.Amount.Format(), a.Lines[0].LineID)
	}
	for _, l := range q.Lines {
		fmt.Printf("%s: pay %s\n", l.LineID, l.Cash.Format())
	}
	fmt.Println("amount due", q.Cash)
	// Output:
	// credit-1 took 10.00 from ec2
	// credit-2 took 5.00 from ec2
	// ec2: pay 85.00
	// s3: pay 50.00
	// amount due 135.00 USD
}

// A rule set of your own, loaded from a file: a capped welcome coupon, then store
// credit. A coupon that does not apply says why.
func Example_customRuleSet() {
	rs, err := rules.Load(os.DirFS("testdata"), "reseller.yaml")
	if err != nil {
		panic(err)
	}
	engine, err := rules.NewEngine(rs)
	if err != nil {
		panic(err)
	}
	at := time.Date(2026, 5, 4, 12, 0, 0, 0, rs.Location)
	wallet := []voucher.Instrument{
		{ID: "welcome-20", Type: "welcome", Account: "ana", PercentOff: voucher.Ptr(dec("20")), MaxDiscount: voucher.Ptr(dec("15")), FirstPurchaseOnly: voucher.Ptr(true)},
		{ID: "credit-a", Type: "store_credit", Account: "ana", Amount: dec("50"), Balance: voucher.Ptr(dec("30"))},
	}
	order := voucher.Order{
		ID: "o-1", Account: "ana", Type: voucher.OrderNew, Payment: voucher.PaySubscription, FirstPurchase: true,
		Lines: []voucher.Line{
			{ID: "plan", Product: "pro_plan", Amount: dec("99.99")},
			{ID: "card", Product: "gift_cards", Amount: dec("25")},
		},
	}
	q, err := engine.Quote(order, wallet, at)
	if err != nil {
		panic(err)
	}
	fmt.Print(q.Text())

	order.ID, order.Type = "o-2", voucher.OrderRenewal
	q, err = engine.Quote(order, wallet, at)
	if err != nil {
		panic(err)
	}
	r, _ := q.Rejected("welcome-20")
	fmt.Printf("renewal: %s, %s\n", r.Reason, r.Hint)
	// Output:
	// order o-1 (account ana, 2026-05-04T12:00:00+02:00, rule set reseller@1)
	//   total 124.99 EUR
	//   - discount 15.00
	//   - deducted 30.00
	//   = cash 79.99
	//   invoiceable 109.99 + not invoiceable 0.00 = 109.99 (total less discount)
	//   line plan (pro_plan): total 99.99, discount 15.00, deducted 30.00, cash 54.99, invoiceable 84.99
	//   line card (gift_cards): total 25.00, discount 0.00, deducted 0.00, cash 25.00, invoiceable 25.00
	//   applied:
	//     welcome-20 (discount welcome, stage coupons): 15.00 EUR [plan 15.00]
	//     credit-a (deduction store_credit, stage credit): 30.00 EUR [plan 30.00]
	// renewal: order_type, qualifying order types: new
}

// A rule set with a mistake is refused with every problem and its position.
func Example_malformedRuleSet() {
	_, err := rules.Parse("broken.yaml", []byte(`name: broken
currency: USD
stages:
  - {name: credits, kind: deduction}
types:
  credit:
    stage: credits
    selection: [soonest_first]
    refund: keep
`))
	fmt.Println(err)
	// Output:
	// broken.yaml:8:17: types.credit.selection[0]: unknown sort key "soonest_first"; want one of balance_desc, balance_asc, expires_asc, issued_asc, scope_size_asc, discount_desc, deductible_desc, id
	// broken.yaml:9:13: types.credit.refund: unknown refund rule "keep"; want forfeit or restore
}

// The seed's example through a Wallet on the in-memory store: the voucher is granted,
// the order checked out and then refunded, each step at its own time; the ledger
// records what happened to the voucher. Each account keeps its own clock, so another
// account's step at an earlier time still succeeds, while the same account's does not.
func Example_wallet() {
	rs, err := providers.Load("aliyun")
	if err != nil {
		panic(err)
	}
	engine, err := rules.NewEngine(rs)
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	w := voucher.NewWallet(engine, memory.New())
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, rs.Location)
	err = w.Grant(ctx, voucher.Instrument{ID: "v200", Type: "voucher", Account: "acct-1", Amount: dec("200")}, at)
	if err != nil {
		panic(err)
	}
	order := voucher.Order{ID: "o1", Account: "acct-1", Type: voucher.OrderNew, Payment: voucher.PaySubscription,
		FirstPurchase: true, Lines: []voucher.Line{{ID: "ecs-1", Product: "ecs", Amount: dec("500")}}}
	q, err := w.Checkout(ctx, order, at.Add(time.Minute))
	if err != nil {
		panic(err)
	}
	fmt.Println("cash", q.Cash, "deducted", q.Deducted, "invoiceable", q.Invoiceable)

	_, err = w.Checkout(ctx, order, at.Add(2*time.Minute))
	fmt.Println("again:", voucher.ErrorCode(err))
	_, err = w.Checkout(ctx, voucher.Order{ID: "o2", Account: "acct-1", Type: voucher.OrderNew,
		Payment: voucher.PaySubscription, Lines: order.Lines}, at)
	fmt.Println("acct-1 before its clock:", voucher.ErrorCode(err))
	_, err = w.Checkout(ctx, voucher.Order{ID: "o3", Account: "acct-2", Type: voucher.OrderNew,
		Payment: voucher.PaySubscription, Lines: order.Lines}, at)
	fmt.Println("acct-2 at the same time:", err)

	res, err := w.Refund(ctx, voucher.RefundRequest{OrderID: "o1"}, at.Add(48*time.Hour))
	if err != nil {
		panic(err)
	}
	fmt.Println("cash refund", res.CashRefund, "forfeited", res.Forfeited["v200"])
	entries, err := w.Ledger(ctx, voucher.LedgerQuery{Instrument: "v200"})
	if err != nil {
		panic(err)
	}
	for _, e := range entries {
		fmt.Println(e.At.Format(time.DateTime), e.Kind, e.Order, e.Amount.Format(), "balance", e.BalanceAfter.Format())
	}
	fmt.Println("verify:", w.Verify(ctx))
	// Output:
	// cash 300.00 CNY deducted 200.00 CNY invoiceable 300.00 CNY
	// again: duplicate_order
	// acct-1 before its clock: clock_backwards
	// acct-2 at the same time: <nil>
	// cash refund 300.00 CNY forfeited 200.00 CNY
	// 2026-03-02 10:00:00 grant  200.00 balance 200.00
	// 2026-03-02 10:01:00 deduct o1 200.00 balance 0.00
	// 2026-03-04 10:00:00 refund_forfeit o1 200.00 balance 0.00
	// verify: <nil>
}
