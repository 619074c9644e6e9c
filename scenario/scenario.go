package scenario

import (
	"time"

	"github.com/shopspring/decimal"

	"github.com/voucherkit/voucherkit/rules"
	"github.com/voucherkit/voucherkit/voucher"
)

// Scenario is one parsed scenario file: a rule set, a wallet, a clock and steps.
type Scenario struct {
	// File is the path the scenario was read from (as given to Parse or Load).
	File string
	// Name is the title shown in reports.
	Name string
	// Provider is the provider as written: a built-in name or a path.
	Provider string
	// RuleSet is the rule set Provider names.
	RuleSet *rules.RuleSet
	// Now is the clock at the start.
	Now time.Time
	// Account is the default account of instruments and orders ("default" when omitted).
	Account string
	// Wallet is the instruments that exist at the start, with every default filled in.
	Wallet []voucher.Instrument
	// Organizations are the billing families whose accounts share one bill.
	Organizations []voucher.Organization
	// Steps run in order; there is at least one.
	Steps []Step
}

// DefaultAccount is the account of instruments and orders when a scenario names none.
const DefaultAccount = "default"

// DefaultHold is how long a reservation holds when its step gives no hold: the
// wallet's.
const DefaultHold = voucher.DefaultHold

// Action is what a step does.
type Action string

// The step actions of the spec.
const (
	ActionQuote    Action = "quote"
	ActionCheckout Action = "checkout"
	ActionReserve  Action = "reserve"
	ActionCapture  Action = "capture"
	ActionRelease  Action = "release"
	ActionRefund   Action = "refund"
	ActionActivate Action = "activate"
	ActionAdvance  Action = "advance"
	ActionSettle   Action = "settle"
	ActionSharing  Action = "sharing"
)

// Actions lists every action, in the spec's order.
func Actions() []Action {
	return []Action{ActionQuote, ActionCheckout, ActionReserve, ActionCapture, ActionRelease,
		ActionRefund, ActionActivate, ActionSettle, ActionSharing, ActionAdvance}
}

// prices reports whether the action prices an order (and so has figures to expect).
func (a Action) prices() bool {
	return a == ActionQuote || a == ActionCheckout || a == ActionReserve || a == ActionSettle
}

// Step is one action with its expected outcome.
type Step struct {
	// N is the step's number, from 1.
	N int
	// Line is where the step starts in the file.
	Line   int
	Action Action
	// At is the clock for this step; nil means the current clock.
	At *time.Time
	// Hold is how long a reserve step holds (DefaultHold when not given).
	Hold time.Duration
	// Order is the order of a quote, checkout or reserve step.
	Order voucher.Order
	// OrderID is the order of a capture or release step.
	OrderID string
	// Refund is the request of a refund step.
	Refund voucher.RefundRequest
	// Code and Account are what an activate step types in and for whom.
	Code, Account string
	// To is where an advance step moves the clock.
	To time.Time
	// Bill is what a settle step settles (it happens at the bill's last instant).
	Bill voucher.Bill
	// Organization and Sharing are what a sharing step changes.
	Organization string
	Sharing      voucher.Sharing
	// Expect is what the step must produce.
	Expect Expect
}

// Label names the step for people: "step 3 (checkout o1)".
func (s *Step) Label() string {
	id := ""
	switch s.Action {
	case ActionQuote, ActionCheckout, ActionReserve:
		id = s.Order.ID
	case ActionCapture, ActionRelease:
		id = s.OrderID
	case ActionRefund:
		id = s.Refund.OrderID
	case ActionActivate:
		id = s.Code
	case ActionAdvance:
		id = s.To.Format(time.RFC3339)
	case ActionSettle:
		id = s.Bill.ID
	case ActionSharing:
		id = s.Organization
	}
	return stepLabel(s.N, s.Action, id)
}

// Expect is what a step must produce. A nil pointer or map is not checked; an empty,
// non-nil map is checked to be empty.
type Expect struct {
	// Figures of a quote, checkout or reserve.
	Total, Discount, Deducted, Cash, Invoiceable, NonInvoiceable *decimal.Decimal
	// Applied is exactly the instruments that applied (by key), with what each took.
	Applied map[string]decimal.Decimal
	// Rejected lists instruments that must have been rejected, with the reason.
	Rejected map[string]voucher.Reason
	// Lines are per-line figures, by line id.
	Lines map[string]LineExpect
	// Accounts are per-account figures of a settle, by account.
	Accounts map[string]AccountExpect
	// CashRefund is the cash a refund returns.
	CashRefund *decimal.Decimal
	// Forfeited and Restored are exactly the value lost / given back per instrument.
	Forfeited, Restored map[string]decimal.Decimal
	// Wallet is the state of instruments after the step, by id.
	Wallet map[string]InstrumentExpect
	// Error is the code the step must fail with; "" means it must succeed.
	Error string
}

// LineExpect is the figures expected of one line; nil fields are not checked.
type LineExpect struct {
	Discount, Deducted, Cash, Invoiceable *decimal.Decimal
}

// AccountExpect is the figures expected of one account's charges in a settle; nil
// fields are not checked.
type AccountExpect struct {
	Total, Discount, Deducted, Cash, Invoiceable, NonInvoiceable *decimal.Decimal
}

// InstrumentExpect is the state expected of one instrument; zero fields are not checked.
type InstrumentExpect struct {
	// Balance and Held apply to deduction instruments only.
	Balance, Held *decimal.Decimal
	Status        voucher.Status
}
