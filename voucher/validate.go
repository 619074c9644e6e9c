package voucher

import (
	"fmt"
	"strconv"
	"time"

	"github.com/shopspring/decimal"
)

// CurrencyIn is the instrument's currency when base is the pricer's: base for an empty
// Currency or base's own code (at base's scale), otherwise the ISO currency.
func (i *Instrument) CurrencyIn(base Currency) (Currency, error) {
	if i.Currency == "" || i.Currency == base.Code() {
		return base, nil
	}
	return LookupCurrency(i.Currency)
}

// Validate reports every problem with the instrument as a field path, under policy p
// and in a pricer whose currency is base: amounts finer than their currency's scale or
// beyond its range, a percentage outside (0, 100] or together with an amount, state
// that contradicts itself (a balance above the face value, holds above the balance,
// more redemptions used than it has), times outside the years 1 to 9999. nil when the
// instrument is well formed.
func (i *Instrument) Validate(p TypePolicy, base Currency) error {
	var v validator
	if i.ID == "" {
		v.add("id", "is required")
	}
	if i.Type == "" {
		v.add("type", "is required")
	}
	cur, err := i.CurrencyIn(base)
	if err != nil {
		v.add("currency", fmt.Sprintf("must be an ISO code such as \"CNY\", got %q", i.Currency))
		cur = base
	}
	i.validateAmounts(&v, p, cur)
	i.validateState(&v, p)
	for k, t := range i.OrderTypes {
		if !t.Valid() {
			v.add(indexed("order_types", k), fmt.Sprintf("unknown order type %q", string(t)))
		}
	}
	for k, t := range i.PaymentTypes {
		if !t.Valid() {
			v.add(indexed("payment_types", k), fmt.Sprintf("unknown payment type %q", string(t)))
		}
	}
	for _, f := range []struct {
		name string
		t    *time.Time
	}{{"issued_at", i.IssuedAt}, {"effective_at", i.EffectiveAt}, {"expires_at", i.ExpiresAt},
		{"claimed_at", i.ClaimedAt}, {"activated_at", i.ActivatedAt}} {
		if f.t != nil {
			if err := CheckTime(*f.t); err != nil {
				v.add(f.name, err.Error())
			}
		}
	}
	if i.EffectiveAt != nil && i.ExpiresAt != nil && !i.ExpiresAt.After(*i.EffectiveAt) {
		v.add("expires_at", "must be after effective_at")
	}
	if i.PendingActivation && i.Code == "" {
		v.add("status", "pending_activation needs a code")
	}
	if p.TypedCode && i.Code == "" {
		v.add("code", "is required for type "+p.Name+", which is typed in as a code")
	}
	return v.err(ErrInvalidInstrument)
}

func (i *Instrument) validateAmounts(v *validator, p TypePolicy, cur Currency) {
	amount := func(name string, d decimal.Decimal) {
		if d.IsNegative() {
			v.add(name, "must not be negative, got "+d.String())
		} else if err := cur.Holds(d); err != nil {
			v.add(name, trimCode(err))
		}
	}
	amount("amount", i.Amount)
	amount("held", i.Held)
	if i.Balance != nil {
		amount("balance", *i.Balance)
	}
	if i.MinSpend != nil {
		amount("min_spend", *i.MinSpend)
	}
	if i.MaxDiscount != nil {
		amount("max_discount", *i.MaxDiscount)
		if i.MaxDiscount.Sign() == 0 {
			v.add("max_discount", "must be above zero (omit it for no cap)")
		}
		if i.PercentOff == nil {
			v.add("max_discount", "caps a percentage discount and needs percent_off")
		}
	}
	switch {
	case p.Kind == Deduction:
		if i.PercentOff != nil {
			v.add("percent_off", "is only for discount instruments; type "+p.Name+" is a deduction")
		}
		if i.Amount.Sign() == 0 {
			v.add("amount", "a deduction instrument needs an amount above zero")
		}
		if i.Balance != nil && i.Balance.GreaterThan(i.Amount) {
			v.add("balance", "must not exceed amount "+i.Amount.String()+", got "+i.Balance.String())
		}
		if i.Held.GreaterThan(i.CurrentBalance()) {
			v.add("held", "must not exceed balance "+i.CurrentBalance().String()+", got "+i.Held.String())
		}
	case i.PercentOff != nil:
		pct := *i.PercentOff
		if pct.Sign() <= 0 || pct.GreaterThan(decimal.NewFromInt(100)) {
			v.add("percent_off", "must be above 0 and at most 100, got "+pct.String())
		} else if pct.Exponent() < -16 {
			v.add("percent_off", "has more than 16 decimal places: "+pct.String())
		}
		if !i.Amount.IsZero() {
			v.add("percent_off", "is not allowed together with amount")
		}
	default:
		if i.Amount.Sign() == 0 {
			v.add("amount", "a discount instrument needs an amount above zero, or percent_off")
		}
	}
	if p.Kind == Discount {
		if i.Balance != nil {
			v.add("balance", "is only for deduction instruments; type "+p.Name+" is a discount")
		}
		if !i.Held.IsZero() {
			v.add("held", "is only for deduction instruments; type "+p.Name+" is a discount")
		}
	}
}

func (i *Instrument) validateState(v *validator, p TypePolicy) {
	if i.MaxRedemptions != nil {
		if *i.MaxRedemptions < 1 {
			v.add("max_redemptions", "must be at least 1, got "+strconv.Itoa(*i.MaxRedemptions))
		}
		if p.Kind == Deduction {
			v.add("max_redemptions", "is only for discount instruments; type "+p.Name+" is a deduction")
		}
	}
	if i.Redeemed < 0 || i.HeldRedemptions < 0 {
		v.add("redeemed", "redemptions used and held must not be negative")
	} else if p.Kind == Discount && i.Redemptions() >= 1 && i.Redeemed+i.HeldRedemptions > i.Redemptions() {
		// (a max_redemptions below 1 is reported above; comparing against it would say
		// "0 used is more than its -1 redemptions")
		v.add("redeemed", fmt.Sprintf("%d used and %d held is more than its %d redemptions", i.Redeemed, i.HeldRedemptions, i.Redemptions()))
	} else if p.Kind == Deduction && (i.Redeemed != 0 || i.HeldRedemptions != 0) {
		v.add("redeemed", "redemptions are only for discount instruments; type "+p.Name+" is a deduction")
	}
}

// CheckTime reports a time voucherkit cannot hold: one outside the years 1 to 9999 in
// its own offset (it could not be written as RFC 3339), or after 9999 in UTC (stores
// keep times in UTC, four digits to the year).
func CheckTime(t time.Time) error {
	if y := t.Year(); y < 1 || y > 9999 || t.UTC().Year() > 9999 {
		return fmt.Errorf("%s is outside the years 1 to 9999", t.Format(time.RFC3339Nano))
	}
	return nil
}

// validator collects the problems of one input.
type validator struct{ probs []FieldError }

func (v *validator) add(field, problem string) {
	v.probs = append(v.probs, FieldError{Field: field, Problem: problem})
}

func (v *validator) err(sentinel *CodeError) error {
	if len(v.probs) == 0 {
		return nil
	}
	return &ValidationError{Sentinel: sentinel, Problems: v.probs}
}

// trimCode drops the "voucher: invalid money: " prefix of a money error, for a field
// problem that names the field already.
func trimCode(err error) string {
	s := err.Error()
	const p = "voucher: invalid money: "
	if len(s) > len(p) && s[:len(p)] == p {
		return s[len(p):]
	}
	return s
}
