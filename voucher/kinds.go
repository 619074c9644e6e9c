package voucher

import (
	"fmt"
	"time"
)

// Kind says what an instrument does to an order: a discount lowers the price; a
// deduction pays part of what is left. A rule set gives each stage its kind.
type Kind uint8

const (
	// Discount instruments (coupons, promo codes, discount coupons) lower the price.
	Discount Kind = iota + 1
	// Deduction instruments (credits, vouchers, cash coupons) pay part of what is left.
	Deduction
)

func (k Kind) String() string {
	switch k {
	case Discount:
		return "discount"
	case Deduction:
		return "deduction"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// ParseKind reads "discount" or "deduction".
func ParseKind(s string) (Kind, bool) {
	switch s {
	case "discount":
		return Discount, true
	case "deduction":
		return Deduction, true
	}
	return 0, false
}

// MarshalText writes the kind's name.
func (k Kind) MarshalText() ([]byte, error) {
	if k != Discount && k != Deduction {
		return nil, fmt.Errorf("voucher: cannot write %s", k)
	}
	return []byte(k.String()), nil
}

// UnmarshalText reads "discount" or "deduction".
func (k *Kind) UnmarshalText(b []byte) error {
	v, ok := ParseKind(string(b))
	if !ok {
		return fmt.Errorf("voucher: unknown kind %q; want discount or deduction", b)
	}
	*k = v
	return nil
}

// OrderType is what the order does: a new purchase, a renewal, and so on.
type OrderType string

// The order types of the spec.
const (
	OrderNew             OrderType = "new"
	OrderRenewal         OrderType = "renewal"
	OrderUpgrade         OrderType = "upgrade"
	OrderOSChange        OrderType = "os_change"
	OrderTrialConversion OrderType = "trial_conversion"
	OrderUsage           OrderType = "usage"
)

// OrderTypes lists every order type, in the spec's order.
func OrderTypes() []OrderType {
	return []OrderType{OrderNew, OrderRenewal, OrderUpgrade, OrderOSChange, OrderTrialConversion, OrderUsage}
}

// Valid reports whether t is one of OrderTypes.
func (t OrderType) Valid() bool {
	switch t {
	case OrderNew, OrderRenewal, OrderUpgrade, OrderOSChange, OrderTrialConversion, OrderUsage:
		return true
	}
	return false
}

// PaymentType is how the order is paid for.
type PaymentType string

// The payment types of the spec.
const (
	PaySubscription PaymentType = "subscription"
	PayAsYouGo      PaymentType = "pay_as_you_go"
)

// PaymentTypes lists every payment type.
func PaymentTypes() []PaymentType { return []PaymentType{PaySubscription, PayAsYouGo} }

// Valid reports whether p is one of PaymentTypes.
func (p PaymentType) Valid() bool { return p == PaySubscription || p == PayAsYouGo }

// RefundRule says what happens to a deduction instrument's share of refunded lines.
type RefundRule string

const (
	// RefundForfeit: the share is lost (Alibaba Cloud vouchers).
	RefundForfeit RefundRule = "forfeit"
	// RefundRestore: the share goes back to the instrument's balance, unless it has expired.
	RefundRestore RefundRule = "restore"
)

// Valid reports whether r is forfeit or restore.
func (r RefundRule) Valid() bool { return r == RefundForfeit || r == RefundRestore }

// TypePolicy is what the stateful side (the Wallet) and status derivation need to know
// of an instrument type. A rule set supplies it; voucher never reads a rule set itself.
type TypePolicy struct {
	// Name of the instrument type ("voucher").
	Name string
	// Kind of the type's stage.
	Kind Kind
	// TypedCode: instruments of this type are typed in by code and have no owner.
	TypedCode bool
	// EffectiveOnActivation: an activated instrument is effective from its activation.
	EffectiveOnActivation bool
	// ClaimValidity: with a ClaimedAt and no ExpiresAt, the instrument expires this long
	// after its claim. Zero: no such period.
	ClaimValidity time.Duration
	// CarryOver: a deduction's leftover balance stays for later orders; without it the
	// leftover is forfeited once the instrument has been used.
	CarryOver bool
	// Invoiceable: what this type deducts may be invoiced.
	Invoiceable bool
	// Refund: what happens to this type's share of refunded lines.
	Refund RefundRule
	// Shared: on an organization's bill, instruments of this type may pay other
	// accounts' charges.
	Shared bool
}

// Status is an instrument's derived state at a moment.
type Status string

// Statuses, in the order they are derived (first match wins).
const (
	StatusUsedUp            Status = "used_up"
	StatusExpired           Status = "expired"
	StatusPendingActivation Status = "pending_activation"
	StatusNotYetEffective   Status = "not_yet_effective"
	StatusAvailable         Status = "available"
)

// Statuses lists every status, in the order messages name them.
func Statuses() []Status {
	return []Status{StatusUsedUp, StatusExpired, StatusPendingActivation, StatusNotYetEffective, StatusAvailable}
}

// Valid reports whether s is one of Statuses.
func (s Status) Valid() bool {
	switch s {
	case StatusUsedUp, StatusExpired, StatusPendingActivation, StatusNotYetEffective, StatusAvailable:
		return true
	}
	return false
}

// names is a list of string values as strings, for messages.
func names[T ~string](values []T) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = string(v)
	}
	return out
}
