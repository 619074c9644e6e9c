package simulate

import (
	"time"

	"github.com/shopspring/decimal"
	"github.com/voucherkit/voucherkit/voucher"
)

// Report is the outcome of a simulation: each rule set side by side.
type Report struct {
	// Items is every order and bill read; Orders and Bills split it.
	Items  int64 `json:"items"`
	Orders int64 `json:"orders"`
	Bills  int64 `json:"bills"`
	// Start is when the wallets were filled (the first item's time, or its period's
	// start for a bill, unless Options.Start says); End is the last item's time.
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Sample is how often balances were sampled; Location the zone of days and months.
	Sample   Interval         `json:"sample"`
	Location string           `json:"location"`
	RuleSets []*RuleSetReport `json:"rule_sets"`
	// Changed are the items whose cash differs most between the rule sets (at most
	// Options.Top), the largest difference first; empty with one rule set.
	Changed []Change `json:"changed"`
	// loc is the zone Location names.
	loc *time.Location
}

// RuleSetReport is one rule set's figures.
type RuleSetReport struct {
	// Name is the label the rule set was given (a built-in's name, a file's path);
	// RuleSet is its "name@version" at the start.
	Name     string `json:"name"`
	RuleSet  string `json:"rule_set"`
	Currency string `json:"currency"`
	// Scale is the rule set's number of decimal places.
	Scale int32 `json:"scale"`
	// Instruments is how many wallet entries were granted; Skipped lists the entries
	// left out because the rule set has no such type.
	Instruments int      `json:"instruments"`
	Skipped     []string `json:"skipped,omitempty"`
	// Priced counts the items the rule set priced; Refused the items it refused, by
	// error code (invalid_order, currency_mismatch, duplicate_order, ...), with the
	// first few as examples.
	Priced   int64            `json:"priced"`
	Refused  map[string]int64 `json:"refused,omitempty"`
	Examples []Refusal        `json:"refused_examples,omitempty"`
	Totals   Totals           `json:"totals"`
	// Granted is the opening balance of every deduction instrument in the rule set's
	// currency. It ends up deducted (Totals.Deducted, by deductions), expired
	// (Breakage), forfeited when used (ForfeitedOnUse: the leftover of a type that does
	// not carry its balance over) or unused at the end: Granted = deductions +
	// Breakage + ForfeitedOnUse + Unused.
	Granted        decimal.Decimal `json:"granted"`
	Breakage       decimal.Decimal `json:"breakage"`
	ForfeitedOnUse decimal.Decimal `json:"forfeited_on_use"`
	Unused         decimal.Decimal `json:"unused"`
	// Rejections counts why instruments did not apply, over every priced item.
	Rejections map[voucher.Reason]int64 `json:"rejections"`
	// Months are the figures per calendar month (in the report's location) with
	// anything in them, in order.
	Months   []Month  `json:"months"`
	BurnDown BurnDown `json:"burn_down"`
}

// Totals are the sums of the priced items' figures.
type Totals struct {
	List           decimal.Decimal `json:"list"`
	Discount       decimal.Decimal `json:"discount"`
	Deducted       decimal.Decimal `json:"deducted"`
	Cash           decimal.Decimal `json:"cash"`
	Invoiceable    decimal.Decimal `json:"invoiceable"`
	NonInvoiceable decimal.Decimal `json:"non_invoiceable"`
}

// Month is one calendar month's figures: those of the items priced in it, and the
// value that expired in it.
type Month struct {
	Month    string          `json:"month"`
	List     decimal.Decimal `json:"list"`
	Discount decimal.Decimal `json:"discount"`
	Deducted decimal.Decimal `json:"deducted"`
	Cash     decimal.Decimal `json:"cash"`
	Breakage decimal.Decimal `json:"breakage"`
}

// Refusal is one item a rule set refused.
type Refusal struct {
	Item    string `json:"item"`
	Pos     string `json:"pos"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// BurnDown is the usable balance of the deduction instruments at each sample time:
// what is left and not held, zero once expired. Discount instruments have no balance
// and are not in it.
type BurnDown struct {
	Times []time.Time `json:"times"`
	// Total is the sum over the instruments in the rule set's currency, per time.
	Total []decimal.Decimal `json:"total"`
	// Instruments are every deduction instrument's balances, by id.
	Instruments []InstrumentBurn `json:"instruments"`
}

// InstrumentBurn is one instrument's usable balance over time, as the points where it
// changed: the balance at Times[Points[k].Sample] holds until the next point.
type InstrumentBurn struct {
	ID       string          `json:"id"`
	Type     string          `json:"type"`
	Account  string          `json:"account,omitempty"`
	Currency string          `json:"currency"`
	Opening  decimal.Decimal `json:"opening"`
	Expires  *time.Time      `json:"expires,omitempty"`
	Points   []Point         `json:"points"`
}

// Point is a balance from one sample on.
type Point struct {
	Sample  int             `json:"sample"`
	Balance decimal.Decimal `json:"balance"`
}

// At returns the instrument's balance at sample k.
func (b *InstrumentBurn) At(k int) decimal.Decimal {
	v := decimal.Zero
	for _, p := range b.Points {
		if p.Sample > k {
			break
		}
		v = p.Balance
	}
	return v
}

// Change is one item priced differently by the rule sets.
type Change struct {
	// Index is the item's position in the stream, from 0.
	Index   int64     `json:"index"`
	ID      string    `json:"id"`
	Account string    `json:"account"`
	At      time.Time `json:"at"`
	// Cash is what the item costs in cash under each rule set, in the order of
	// Report.RuleSets; nil where the rule set refused it.
	Cash []*decimal.Decimal `json:"cash"`
	// Spread is the largest cash less the smallest.
	Spread decimal.Decimal `json:"spread"`
}
