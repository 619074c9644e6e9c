package voucher

import (
	"strconv"

	"github.com/shopspring/decimal"

	"github.com/voucherkit/voucherkit/internal/excerpt"
)

// Order is what a buyer asks to price or buy.
//
// Its JSON uses the order file's snake_case names (the lines are "items"); Use keeps
// the difference between absent (automatic selection) and empty (nothing).
type Order struct {
	ID      string      `json:"id"`
	Account string      `json:"account,omitempty"`
	Type    OrderType   `json:"type"`
	Payment PaymentType `json:"payment"`
	// FirstPurchase: the buyer's first purchase of these products.
	FirstPurchase bool   `json:"first_purchase,omitempty"`
	Lines         []Line `json:"items"`
	// Use is the buyer's choice of instrument ids. nil: every stage selects
	// automatically. Non-nil (even empty): exactly these, nothing automatic.
	Use []string `json:"use,omitzero"`
	// Codes are the codes the buyer typed (promo codes); never applied automatically.
	Codes []string `json:"codes,omitempty"`
}

// Line is one priced item of an order.
type Line struct {
	ID      string `json:"id"`
	Product string `json:"product"`
	// SKU is a finer product, used by the spend_desc allocation; empty: none.
	SKU    string          `json:"sku,omitempty"`
	Amount decimal.Decimal `json:"amount"`
	// Currency is an ISO code; empty means the rule set's currency.
	Currency string `json:"currency,omitempty"`
}

// AutoSelect reports whether the stages select instruments automatically (Use is nil).
func (o *Order) AutoSelect() bool { return o.Use == nil }

func indexed(field string, i int) string { return field + "[" + strconv.Itoa(i) + "]" }

// Validate reports every problem with the order, each with its field path, as a
// *ValidationError wrapping ErrInvalidOrder; nil when the order is well formed.
// Whether instruments and codes exist is the engine's to check, not Validate's.
func (o *Order) Validate() error {
	var v validator
	add := v.add
	if o.ID == "" {
		add("id", "is required")
	}
	if !o.Type.Valid() {
		add("type", excerpt.Unknown("order type", string(o.Type), names(OrderTypes())))
	}
	if !o.Payment.Valid() {
		add("payment", excerpt.Unknown("payment type", string(o.Payment), names(PaymentTypes())))
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
	for i, c := range o.Codes {
		if c == "" {
			add(indexed("codes", i), "is empty")
		}
	}
	return v.err(ErrInvalidOrder)
}
