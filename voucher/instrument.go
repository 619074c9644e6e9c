package voucher

import (
	"slices"
	"time"

	"github.com/shopspring/decimal"
)

// Instrument is one credit, voucher, coupon or promo code, as a value: the engine reads
// it, the Wallet keeps it. Amounts are decimals in the instrument's Currency. A field
// that may be absent is a pointer (or a nil slice): nil means "not given", never a zero
// that stands for it.
//
// The state fields (Balance once granted, Redeemed, Held, HeldRedemptions,
// PendingActivation, ActivatedAt, Revoked) are what the Wallet maintains; a caller
// pricing without a Wallet sets them as they are at that moment.
//
// Its JSON uses the scenario wallet entry's snake_case names; absent fields are left out.
// A nil list is left out and an empty one written as [], so that both read back as
// they were (nil order types are the type's default, empty ones none); every time
// reads back at its exact instant (see MarshalJSON).
type Instrument struct {
	// ID is unique among the instruments priced together.
	ID string `json:"id"`
	// Type is an instrument type the rule set defines ("voucher", "credit").
	Type string `json:"type"`
	// Account is the owner; empty for an unclaimed instrument or a typed-in promo code.
	Account string `json:"account,omitempty"`
	// Code is the activation or redemption code, or the code a buyer types for a promo
	// code (case-sensitive).
	Code string `json:"code,omitempty"`
	// Currency is an ISO code; empty means the rule set's currency.
	Currency string `json:"currency,omitempty"`

	// Amount is the face value: a deduction's balance when issued, or a fixed discount.
	// It is above zero, except for a percentage discount, which has none (zero).
	Amount decimal.Decimal `json:"amount,omitzero"`
	// Balance is what is left of a deduction instrument; nil: its face value.
	Balance *decimal.Decimal `json:"balance,omitempty"`
	// PercentOff is a percentage discount ("20" = 20 % off); nil when Amount is the
	// discount. Given, it is above zero and at most 100.
	PercentOff *decimal.Decimal `json:"percent_off,omitempty"`
	// MaxDiscount caps a percentage discount; nil: no cap. Given, it is above zero.
	MaxDiscount *decimal.Decimal `json:"max_discount,omitempty"`
	// MinSpend is the threshold (满X可用) on the in-scope amount still payable; nil: none.
	MinSpend *decimal.Decimal `json:"min_spend,omitempty"`

	// Products is the scope; nil means every product the type may cover.
	Products []string `json:"products,omitzero"`
	// ExcludeProducts are taken out of the scope.
	ExcludeProducts []string `json:"exclude_products,omitzero"`
	// OrderTypes and PaymentTypes restrict the orders; nil means the type's default.
	OrderTypes   []OrderType   `json:"order_types,omitzero"`
	PaymentTypes []PaymentType `json:"payment_types,omitzero"`
	// FirstPurchaseOnly overrides the type's default when not nil.
	FirstPurchaseOnly *bool `json:"first_purchase_only,omitempty"`
	// Shared overrides the type's sharing on an organization's bill when not nil: false
	// makes the instrument pay only its owner's charges.
	Shared *bool `json:"shared,omitempty"`

	// IssuedAt breaks ties in selection order; nil sorts after every issued time.
	IssuedAt *time.Time `json:"issued_at,omitempty"`
	// EffectiveAt (inclusive) and ExpiresAt (exclusive) bound the validity; nil: unbounded.
	EffectiveAt *time.Time `json:"effective_at,omitempty"`
	ExpiresAt   *time.Time `json:"expires_at,omitempty"`
	// ClaimedAt starts the type's validity-after-claim period when ExpiresAt is nil.
	ClaimedAt *time.Time `json:"claimed_at,omitempty"`
	// MaxRedemptions is how many orders may use a discount instrument; nil means 1.
	MaxRedemptions *int `json:"max_redemptions,omitempty"`

	// PendingActivation: the instrument has a code and no owner until it is activated.
	PendingActivation bool `json:"pending_activation,omitempty"`
	// ActivatedAt is when it was activated; nil: never.
	ActivatedAt *time.Time `json:"activated_at,omitempty"`
	// Revoked: an operator voided what was left; it is used up.
	Revoked bool `json:"revoked,omitempty"`
	// Redeemed is how many orders have used a discount instrument.
	Redeemed int `json:"redeemed,omitempty"`
	// Held is what live reservations hold of a deduction instrument's balance.
	Held decimal.Decimal `json:"held,omitzero"`
	// HeldRedemptions is how many redemptions of a discount instrument live
	// reservations hold.
	HeldRedemptions int `json:"held_redemptions,omitempty"`
}

// Clone returns a copy that shares no slice or pointer with i. The values its optional
// fields point to are copied into one allocation.
func (i Instrument) Clone() Instrument {
	c, _ := i.clone(nil)
	return c
}

// clone is Clone, and returns a copy of *extra (nil for nil) in the same allocation.
func (i Instrument) clone(extra *time.Time) (Instrument, *time.Time) {
	i.Products = slices.Clone(i.Products)
	i.ExcludeProducts = slices.Clone(i.ExcludeProducts)
	i.OrderTypes = slices.Clone(i.OrderTypes)
	i.PaymentTypes = slices.Clone(i.PaymentTypes)
	if i.FirstPurchaseOnly == nil && i.Shared == nil && i.Balance == nil && i.PercentOff == nil &&
		i.MaxDiscount == nil && i.MinSpend == nil && i.IssuedAt == nil && i.EffectiveAt == nil &&
		i.ExpiresAt == nil && i.ClaimedAt == nil && i.ActivatedAt == nil && i.MaxRedemptions == nil && extra == nil {
		return i, nil
	}
	o := new(optionals)
	copyPtr(&extra, &o.extra)
	copyPtr(&i.FirstPurchaseOnly, &o.firstPurchaseOnly)
	copyPtr(&i.Shared, &o.shared)
	copyPtr(&i.Balance, &o.balance)
	copyPtr(&i.PercentOff, &o.percentOff)
	copyPtr(&i.MaxDiscount, &o.maxDiscount)
	copyPtr(&i.MinSpend, &o.minSpend)
	copyPtr(&i.IssuedAt, &o.issuedAt)
	copyPtr(&i.EffectiveAt, &o.effectiveAt)
	copyPtr(&i.ExpiresAt, &o.expiresAt)
	copyPtr(&i.ClaimedAt, &o.claimedAt)
	copyPtr(&i.ActivatedAt, &o.activatedAt)
	copyPtr(&i.MaxRedemptions, &o.maxRedemptions)
	return i, extra
}

// optionals holds a clone's optional values, so that Clone allocates once for all.
type optionals struct {
	balance, percentOff, maxDiscount, minSpend               decimal.Decimal
	issuedAt, effectiveAt, expiresAt, claimedAt, activatedAt time.Time
	extra                                                    time.Time // see clone
	maxRedemptions                                           int
	firstPurchaseOnly, shared                                bool
}

// copyPtr points *p at slot holding a copy of what it pointed to (nil stays nil).
func copyPtr[T any](p **T, slot *T) {
	if *p != nil {
		*slot = **p
		*p = slot
	}
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// Ptr returns a pointer to a copy of v: a shorthand for the optional fields.
func Ptr[T any](v T) *T { return &v }

// CurrentBalance is what is left of a deduction: Balance, or the face value when
// Balance is not given.
func (i *Instrument) CurrentBalance() decimal.Decimal {
	if i.Balance != nil {
		return *i.Balance
	}
	return i.Amount
}

// Available is what is left of a deduction and not held by reservations.
func (i *Instrument) Available() decimal.Decimal {
	return i.CurrentBalance().Sub(i.Held)
}

// Redemptions is the number of orders a discount instrument may serve in all.
func (i *Instrument) Redemptions() int {
	if i.MaxRedemptions == nil {
		return 1
	}
	return *i.MaxRedemptions
}

// EffectiveFrom is when the instrument becomes usable under policy p; nil: always.
func (i *Instrument) EffectiveFrom(p TypePolicy) *time.Time {
	if i.EffectiveAt != nil {
		return i.EffectiveAt
	}
	if p.EffectiveOnActivation && i.ActivatedAt != nil {
		return i.ActivatedAt
	}
	return nil
}

// ExpiresOn is when the instrument stops being usable under policy p (nil: never):
// ExpiresAt, or ClaimedAt plus the type's claim validity.
func (i *Instrument) ExpiresOn(p TypePolicy) *time.Time {
	if i.ExpiresAt != nil {
		return i.ExpiresAt
	}
	if p.ClaimValidity > 0 && i.ClaimedAt != nil {
		t := i.ClaimedAt.Add(p.ClaimValidity)
		return &t
	}
	return nil
}

// UsedUp reports whether nothing is left: a zero balance for a deduction, no
// redemptions left for a discount, or an instrument revoked.
func (i *Instrument) UsedUp(p TypePolicy) bool {
	if i.Revoked {
		return true
	}
	if p.Kind == Discount {
		return i.Redeemed >= i.Redemptions()
	}
	return i.CurrentBalance().Sign() <= 0
}

// StatusAt derives the status at time at under policy p; first match wins: used_up,
// expired, pending_activation, not_yet_effective, available.
func (i *Instrument) StatusAt(p TypePolicy, at time.Time) Status {
	if i.UsedUp(p) {
		return StatusUsedUp
	}
	if exp := i.ExpiresOn(p); exp != nil && !at.Before(*exp) {
		return StatusExpired
	}
	if i.PendingActivation {
		return StatusPendingActivation
	}
	if eff := i.EffectiveFrom(p); eff != nil && at.Before(*eff) {
		return StatusNotYetEffective
	}
	return StatusAvailable
}
