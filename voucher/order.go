package voucher

import (
	"strconv"

	"github.com/shopspring/decimal"
)

// Order is what a buyer asks to price or buy.
type Order struct {
	ID      string
	Account string
	Type    OrderType
	Payment PaymentType
	// FirstPurchase: the buyer's first purchase of these products.
	FirstPurchase bool
	Lines         []Line
	// Use is the buyer's choice of instrument ids. nil: every stage selects
	// automatically. Non-nil (even empty): exactly these, nothing automatic.
	Use []string
	// Codes are the codes the buyer typed (promo codes); never applied automatically.
	Codes []string
}

// Line is one priced item of an order.
type Line struct {
	ID      string
	Product string
	Amount  decimal.Decimal
	// Currency is an ISO code; empty means the rule set's currency.
	Currency string
}

// AutoSelect reports whether the stages select instruments automatically (Use is nil).
func (o *Order) AutoSelect() bool { return o.Use == nil }

func indexed(field string, i int) string { return field + "[" + strconv.Itoa(i) + "]" }

// Validate reports every problem with the order, each with its field path, as a
// *ValidationError wrapping ErrInvalidOrder; nil when the order is well formed.
// Whether instruments and codes exist is the engine's to check, not Validate's.
func (o *Order) Validate() error {
	var probs []FieldError
	add := func(field, problem string) { probs = append(probs, FieldError{Field: field, Problem: problem}) }
	if o.ID == "" {
		add("id", "is required")
	}
	if !o.Type.Valid() {
		add("type", "unknown order type \""+string(o.Type)+"\"; want one of new, renewal, upgrade, os_change, trial_conversion, usage")
	}
	if !o.Payment.Valid() {
		add("payment", "unknown payment type \""+string(o.Payment)+"\"; want subscription or pay_as_you_go")
	}
	if len(o.Lines) == 0 {
		add("items", "must not be empty")
	}
	seen := make(map[string]int, len(o.Lines))
	for i, l := range o.Lines {
		if l.ID == "" {
			add(indexed("items", i)+".id", "is required")
		} else if j, dup := seen[l.ID]; dup {
			add(indexed("items", i)+".id", "\""+l.ID+"\" is also the id of items["+strconv.Itoa(j)+"]")
		} else {
			seen[l.ID] = i
		}
		if l.Product == "" {
			add(indexed("items", i)+".product", "is required")
		}
		if l.Amount.IsNegative() {
			add(indexed("items", i)+".amount", "must not be negative, got "+l.Amount.String())
		}
		if l.Currency != "" && !isCurrencyCode(l.Currency) {
			add(indexed("items", i)+".currency", "must be an ISO code such as \"CNY\", got \""+l.Currency+"\"")
		}
	}
	dupCheck := func(field string, ids []string) {
		at := make(map[string]int, len(ids))
		for i, id := range ids {
			if j, dup := at[id]; dup {
				add(indexed(field, i), "\""+id+"\" is also named at "+indexed(field, j))
			} else {
				at[id] = i
			}
		}
	}
	dupCheck("use", o.Use)
	dupCheck("codes", o.Codes)
	if len(probs) == 0 {
		return nil
	}
	return &ValidationError{Sentinel: ErrInvalidOrder, Problems: probs}
}
