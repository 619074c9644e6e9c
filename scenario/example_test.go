package scenario_test

import (
	"fmt"

	"github.com/voucherkit/voucherkit/scenario"
	"github.com/voucherkit/voucherkit/voucher"
)

// A scenario states what must happen; Run says where it did not.
func ExampleRun() {
	s, err := scenario.Parse("seed.yaml", []byte(`
name: a 500 CNY order, a 200 CNY voucher
provider: aliyun
now: 2026-03-02T10:00:00+08:00
wallet:
  - {id: v200, type: voucher, amount: "200"}
steps:
  - checkout: {id: o1, type: new, payment: subscription, items: [{id: ecs-1, product: ecs, amount: "500"}]}
    expect:
      cash: "300"
      invoiceable: "250"
      applied: {v200: "200"}
`))
	if err != nil {
		panic(err)
	}
	res := scenario.Run(s)
	fmt.Print(res.Report())
	// Output:
	// FAIL  seed.yaml  (a 500 CNY order, a 200 CNY voucher)
	//     step 1 (checkout o1): invoiceable: expected 250, got 300.00
}

// A file that is not a valid scenario is refused with every problem and its position.
func ExampleParse() {
	_, err := scenario.Parse("typo.yaml", []byte(`
name: a typo
provider: aliyun
now: 2026-03-02
steps:
  - quote: {id: q1, type: new, payment: subscription, items: [{id: l1, product: ecs, amount: "10"}]}
    expect:
      cahs: "10"
`))
	fmt.Println(err)
	// Output:
	// typo.yaml:8:7: steps[0].expect.cahs: unknown key (known keys: total, discount, deducted, cash, invoiceable, non_invoiceable, applied, rejected, lines, accounts, cash_refund, forfeited, restored, wallet, error)
}

// An order file, as voucherkit quote reads it: an order a scenario's step would fail
// with invalid_order is a problem of the file, at its position.
func ExampleParseOrder() {
	_, err := scenario.ParseOrder("order.yaml", []byte(`
id: o1
type: neww
payment: subscription
items: [{id: l1, product: ecs, amount: "10"}]
`), scenario.DefaultAccount)
	fmt.Println(err)
	fmt.Println(voucher.ErrorCode(err))
	// Output:
	// order.yaml:3:7: order.type: unknown order type "neww"; want one of new, renewal, upgrade, os_change, trial_conversion, usage
	// invalid_file
}

// Sniff tells a scenario from a rule set by its top-level keys.
func ExampleSniff() {
	fmt.Println(scenario.Sniff([]byte("name: s\nprovider: aws\nnow: 2026-03-02\nsteps: []\n")))
	fmt.Println(scenario.Sniff([]byte("name: r\ncurrency: EUR\nstages: []\ntypes: {}\n")))
	fmt.Println(scenario.Sniff([]byte("name: only a name\n")))
	// Output:
	// scenario
	// rule set
	// unknown
}
