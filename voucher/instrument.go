package voucher

import (
	"slices"
	"time"

	"github.com/shopspring/decimal"
)

// Instrument is one credit, voucher, coupon or promo code, as a value: the engine reads
// it, the Wallet keeps it. Amounts are decimals in the instrument's Currency.
//
// The state fields (Balance, Redeemed, Held, HeldRedemptions, PendingActivation,
// ActivatedAt) are what the Wallet maintains; a caller pricing without a Wallet sets them
// as they are at that moment.
type Instrument struct {
	// ID is unique among the instruments priced together.
	ID string
	// Type is an instrument type the rule set defines ("voucher", "credit").
	Type string
	// Account is the owner; empty for an unclaimed instrument or a typed-in promo code.
	Account string
	// Code is the activation or redemption code, or the code a buyer types for a promo
	// code (case-sensitive).
	Code string
	// Currency is an ISO code; empty means the rule set's currency.
	Currency string

	// Amount is the face value: a deduction's balance when issued, or a fixed discount.
	Amount decimal.Decimal
	// Balance is what is left of a deduction instrument (set it: it has no default here).
	Balance decimal.Decimal
	// PercentOff is a percentage discount ("20" = 20 % off); zero when Amount is the discount.
	PercentOff decimal.Decimal
	// MaxDiscount caps a percentage discount; zero means no cap.
	MaxDiscount decimal.Decimal
	// MinSpend is the threshold (满X可用) on the in-scope amount still payable; zero: none.
	MinSpend decimal.Decimal

	// Products is the scope; empty means every product the type may cover.
	Products []string
	// ExcludeProducts are taken out of the scope.
	ExcludeProducts []string
	// OrderTypes and PaymentTypes restrict the orders; nil means the type's default.
	OrderTypes   []OrderType
	PaymentTypes []PaymentType
	// FirstPurchaseOnly overrides the type's default when not nil.
	FirstPurchaseOnly *bool

	// IssuedAt breaks ties in selection order.
	IssuedAt time.Time
	// EffectiveAt (inclusive) and ExpiresAt (exclusive) bound the validity; zero: unbounded.
	EffectiveAt time.Time
	ExpiresAt   time.Time
	// ClaimedAt starts the type's validity-after-claim period when ExpiresAt is zero.
	ClaimedAt time.Time
	// MaxRedemptions is how many orders may use a discount instrument; zero means 1.
	MaxRedemptions int

	// PendingActivation: the instrument has a code and no owner until it is activated.
	PendingActivation bool
	// ActivatedAt is when it was activated (zero: never).
	ActivatedAt time.Time
	// Redeemed is how many orders have used a discount instrument.
	Redeemed int
	// Held is what live reservations hold of a deduction instrument's balance.
	Held decimal.Decimal
	// HeldRedemptions is how many redemptions of a discount instrument live
	// reservations hold.
	HeldRedemptions int
}

// Clone returns a copy that shares no slices with i.
func (i Instrument) Clone() Instrument {
	i.Products = slices.Clone(i.Products)
	i.ExcludeProducts = slices.Clone(i.ExcludeProducts)
	i.OrderTypes = slices.Clone(i.OrderTypes)
	i.PaymentTypes = slices.Clone(i.PaymentTypes)
	if i.FirstPurchaseOnly != nil {
		v := *i.FirstPurchaseOnly
		i.FirstPurchaseOnly = &v
	}
	return i
}

// Redemptions is the number of orders a discount instrument may serve in all.
func (i *Instrument) Redemptions() int {
	if i.MaxRedemptions <= 0 {
		return 1
	}
	return i.MaxRedemptions
}

// EffectiveFrom is when the instrument becomes usable under policy p (zero: always).
func (i *Instrument) EffectiveFrom(p TypePolicy) time.Time {
	if !i.EffectiveAt.IsZero() {
		return i.EffectiveAt
	}
	if p.EffectiveOnActivation && !i.ActivatedAt.IsZero() {
		return i.ActivatedAt
	}
	return time.Time{}
}

// ExpiresOn is when the instrument stops being usable under policy p (zero: never):
// ExpiresAt, or ClaimedAt plus the type's claim validity.
func (i *Instrument) ExpiresOn(p TypePolicy) time.Time {
	if !i.ExpiresAt.IsZero() {
		return i.ExpiresAt
	}
	if p.ClaimValidity > 0 && !i.ClaimedAt.IsZero() {
		return i.ClaimedAt.Add(p.ClaimValidity)
	}
	return time.Time{}
}

// UsedUp reports whether nothing is left: a zero balance for a deduction, no
// redemptions left for a discount.
func (i *Instrument) UsedUp(p TypePolicy) bool {
	if p.Kind == Discount {
		return i.Redeemed >= i.Redemptions()
	}
	return i.Balance.Sign() <= 0
}

// StatusAt derives the status at time at under policy p; first match wins: used_up,
// expired, pending_activation, not_yet_effective, available.
func (i *Instrument) StatusAt(p TypePolicy, at time.Time) Status {
	if i.UsedUp(p) {
		return StatusUsedUp
	}
	if exp := i.ExpiresOn(p); !exp.IsZero() && !at.Before(exp) {
		return StatusExpired
	}
	if i.PendingActivation {
		return StatusPendingActivation
	}
	if eff := i.EffectiveFrom(p); !eff.IsZero() && at.Before(eff) {
		return StatusNotYetEffective
	}
	return StatusAvailable
}

// Validate reports every problem with the instrument as a field path, under policy p
// (nil error when it is well formed).
func (i *Instrument) Validate(p TypePolicy) error {
	var probs []FieldError
	add := func(field, problem string) { probs = append(probs, FieldError{Field: field, Problem: problem}) }
	if i.ID == "" {
		add("id", "is required")
	}
	if i.Type == "" {
		add("type", "is required")
	}
	if i.Currency != "" && !isCurrencyCode(i.Currency) {
		add("currency", "must be an ISO code such as \"CNY\", got \""+i.Currency+"\"")
	}
	for _, f := range []struct {
		name string
		d    decimal.Decimal
	}{{"amount", i.Amount}, {"balance", i.Balance}, {"percent_off", i.PercentOff},
		{"max_discount", i.MaxDiscount}, {"min_spend", i.MinSpend}, {"held", i.Held}} {
		if f.d.IsNegative() {
			add(f.name, "must not be negative, got "+f.d.String())
		}
	}
	if !i.PercentOff.IsZero() {
		if !i.Amount.IsZero() {
			add("percent_off", "is not allowed together with amount")
		}
		if i.PercentOff.GreaterThan(decimal.NewFromInt(100)) {
			add("percent_off", "must be at most 100, got "+i.PercentOff.String())
		}
		if p.Kind == Deduction {
			add("percent_off", "is only for discount instruments; type "+p.Name+" is a deduction")
		}
	}
	if !i.MaxDiscount.IsZero() && i.PercentOff.IsZero() {
		add("max_discount", "caps a percentage discount and needs percent_off")
	}
	if p.Kind == Deduction && i.Balance.GreaterThan(i.Amount) {
		add("balance", "must not exceed amount "+i.Amount.String()+", got "+i.Balance.String())
	}
	if p.Kind == Deduction && i.Held.GreaterThan(i.Balance) {
		add("held", "must not exceed balance "+i.Balance.String()+", got "+i.Held.String())
	}
	if p.Kind == Discount && i.Amount.IsZero() && i.PercentOff.IsZero() {
		add("amount", "a discount instrument needs amount or percent_off")
	}
	if i.MaxRedemptions < 0 {
		add("max_redemptions", "must not be negative")
	}
	for k, t := range i.OrderTypes {
		if !t.Valid() {
			add(indexed("order_types", k), "unknown order type \""+string(t)+"\"")
		}
	}
	for k, t := range i.PaymentTypes {
		if !t.Valid() {
			add(indexed("payment_types", k), "unknown payment type \""+string(t)+"\"")
		}
	}
	if !i.EffectiveAt.IsZero() && !i.ExpiresAt.IsZero() && !i.ExpiresAt.After(i.EffectiveAt) {
		add("expires_at", "must be after effective_at")
	}
	if i.PendingActivation && i.Code == "" {
		add("status", "pending_activation needs a code")
	}
	if p.TypedCode && i.Code == "" {
		add("code", "is required for type "+p.Name+", which is typed in as a code")
	}
	if len(probs) == 0 {
		return nil
	}
	return &ValidationError{Sentinel: ErrInvalidInstrument, Problems: probs}
}
