package rules_test

import (
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/voucherkit/voucherkit/rules"
	"github.com/voucherkit/voucherkit/voucher"
)

const shopRules = `
name: shop
currency: EUR
time_zone: Europe/Berlin
stages:
  - {name: coupons, kind: discount}
  - {name: credit, kind: deduction}
types:
  welcome: {stage: coupons, per_order_limit: 1, order_types: [new]}
  store_credit: {stage: credit, invoiceable: true}
`

// A rule set is YAML; Parse reads it and says every problem with its position.
func ExampleParse() {
	rs, err := rules.Parse("shop.yaml", []byte(shopRules))
	if err != nil {
		panic(err)
	}
	fmt.Println(rs.ID(), rs.Currency, rs.TimeZone, rs.TypeNames())

	_, err = rules.Parse("bad.yaml", []byte("name: shop\ncurrency: EUR\nstages: [{name: credit, kind: deduction}]\ntypes: {c: {stage: credit, refund: keep}}\n"))
	fmt.Println(err)
	fmt.Println(voucher.ErrorCode(err))
	// Output:
	// shop EUR Europe/Berlin [welcome store_credit]
	// bad.yaml:4:36: types.c.refund: unknown refund rule "keep"; want forfeit or restore
	// invalid_rule_set
}

// An Engine prices an order against instruments: discounts first, then deductions on
// what is left; what did not apply is listed with its reason.
func ExampleEngine_Quote() {
	rs, err := rules.Parse("shop.yaml", []byte(shopRules))
	if err != nil {
		panic(err)
	}
	engine, err := rules.NewEngine(rs)
	if err != nil {
		panic(err)
	}
	at := time.Date(2026, 5, 4, 12, 0, 0, 0, rs.Location)
	order := voucher.Order{ID: "o1", Account: "ana", Type: voucher.OrderRenewal, Payment: voucher.PaySubscription,
		Lines: []voucher.Line{{ID: "plan", Product: "pro", Amount: decimal.RequireFromString("100")}}}
	wallet := []voucher.Instrument{
		{ID: "w10", Type: "welcome", Account: "ana", Amount: decimal.RequireFromString("10")},
		{ID: "c30", Type: "store_credit", Account: "ana", Amount: decimal.RequireFromString("30")},
	}
	q, err := engine.Quote(order, wallet, at)
	if err != nil {
		panic(err)
	}
	fmt.Println("cash", q.Cash)
	if a, ok := q.Applied("c30"); ok {
		fmt.Println("c30 took", a.Amount)
	}
	if r, ok := q.Rejected("w10"); ok {
		fmt.Println("w10:", r.Reason, "-", r.Detail)
	}
	// Output:
	// cash 70.00 EUR
	// c30 took 30.00 EUR
	// w10: order_type - order type renewal is not one of new
}
