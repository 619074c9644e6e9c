package voucher

import (
	"cmp"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/shopspring/decimal"
	"github.com/voucherkit/voucherkit/internal/excerpt"
	"github.com/voucherkit/voucherkit/internal/fixed"
)

// Currency is an ISO 4217 code with the number of decimal places its amounts carry.
// The zero Currency is invalid; build one with NewCurrency or LookupCurrency.
type Currency struct {
	code  uint16 // 1 + the code's index among all codes of three letters (see Code); 0: none
	scale int32
}

// knownScales holds the minor-unit exponent of the currencies voucherkit meets most.
var knownScales = map[string]int32{
	"USD": 2, "CNY": 2, "EUR": 2, "GBP": 2, "HKD": 2, "SGD": 2, "AUD": 2, "CAD": 2,
	"CHF": 2, "INR": 2, "IDR": 2, "BRL": 2, "MXN": 2, "THB": 2, "MYR": 2, "PHP": 2,
	"JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0,
	"BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3,
}

// NewCurrency returns the currency code (three upper-case letters) with the given scale
// (0 to 8 decimal places).
func NewCurrency(code string, scale int32) (Currency, error) {
	if !isCurrencyCode(code) {
		return Currency{}, fmt.Errorf("%w: currency code %s is not three upper-case letters", ErrInvalidMoney, excerpt.Quote(code))
	}
	if scale < 0 || scale > 8 {
		return Currency{}, fmt.Errorf("%w: currency %s: scale %d is outside 0..8", ErrInvalidMoney, code, scale)
	}
	i := (int(code[0]-'A')*26+int(code[1]-'A'))*26 + int(code[2]-'A')
	return Currency{code: uint16(i + 1), scale: scale}, nil
}

// LookupCurrency returns a currency with its ISO 4217 scale, for the codes voucherkit
// knows; for another well-formed code, scale 2.
func LookupCurrency(code string) (Currency, error) {
	scale, ok := knownScales[code]
	if !ok {
		scale = 2
	}
	return NewCurrency(code, scale)
}

// MustCurrency is LookupCurrency for constants in tests and examples; it panics on a bad code.
func MustCurrency(code string) Currency {
	c, err := LookupCurrency(code)
	if err != nil {
		panic(err)
	}
	return c
}

func isCurrencyCode(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// Code is the ISO code, e.g. "CNY".
func (c Currency) Code() string {
	if c.code == 0 {
		return ""
	}
	i := 3 * int(c.code-1)
	return codeNames()[i : i+3]
}

// codeNames is every code of three upper-case letters, in order, three bytes each:
// Code slices it, so that a Currency holds no pointer, and so neither does Money.
var codeNames = sync.OnceValue(func() string {
	b := make([]byte, 0, 3*26*26*26)
	for i := 0; i < 26*26*26; i++ {
		b = append(b, byte('A'+i/(26*26)), byte('A'+i/26%26), byte('A'+i%26))
	}
	return string(b)
})

// Scale is the number of decimal places, e.g. 2.
func (c Currency) Scale() int32 { return c.scale }

// IsZero reports whether c is the invalid zero Currency.
func (c Currency) IsZero() bool { return c.code == 0 }

func (c Currency) String() string { return c.Code() }

// MaxAmount is the largest amount voucherkit holds in c: 10^15 smallest units (ten
// trillion at scale 2), so that sums of many amounts stay exact in 64-bit integers.
func (c Currency) MaxAmount() decimal.Decimal { return decimal.New(fixed.MaxUnits, -c.scale) }

// Holds reports why d cannot be an amount in c: finer than c's scale, or beyond
// ±MaxAmount; nil when it can. The error wraps ErrInvalidMoney; its problem, as a
// sentence without prefix, is Problem's.
func (c Currency) Holds(d decimal.Decimal) error {
	if p := c.Problem(d); p != "" {
		return fmt.Errorf("%w: %s", ErrInvalidMoney, p)
	}
	return nil
}

// Problem is the one check of an amount against a currency, said as a sentence for a
// positioned error ("" when d can be an amount in c). Round d to the scale first to
// check only its range.
func (c Currency) Problem(d decimal.Decimal) string {
	if !d.Equal(d.Round(c.scale)) {
		return fmt.Sprintf("%s has more than %d decimal places for %s", d, c.scale, c.Code())
	}
	if d.Abs().GreaterThan(c.MaxAmount()) {
		return fmt.Sprintf("%s is beyond the largest amount voucherkit holds in %s (%s)", d, c.Code(), c.MaxAmount())
	}
	return ""
}

// Money is an exact amount in one currency. It is immutable: every operation returns a
// new value.
//
// The story of zero: Money{} is unset: it has no currency, IsUnset reports it, and it
// adds to or compares with Money of any currency as nothing. An amount of zero in a
// currency ("0.00 CNY") is set, and IsZero reports it (as it does for Money{}, whose
// amount is zero too). Sign, IsNegative and IsPositive read the amount alone.
//
// Inputs (an Instrument's amounts, an Order's lines) are decimal.Decimal with a
// currency code beside them, as a file writes them; what voucherkit computes (Quote's
// figures, ledger entries) is Money, which carries its currency.
//
// An amount within ±Currency.MaxAmount, every amount voucherkit computes, is held as
// an integer of smallest units, and Money holds no pointer: a quote or a ledger of
// many amounts costs the garbage collector nothing to trace through them. Only an
// amount beyond it, which a caller may build but the engine never takes, is held as a
// decimal. Each amount has one form, so two equal Money values are equal structs.
type Money struct {
	units    int64            // the amount in smallest units, when wide is nil
	wide     *decimal.Decimal // an amount beyond ±MaxAmount, at the currency's scale; else nil
	currency Currency
}

// NewMoney returns amount in currency, rounded half away from zero to the currency's scale.
func NewMoney(amount decimal.Decimal, currency Currency) Money {
	if u, ok := fixed.FromDecimal(amount, currency.scale, fixed.HalfAwayFromZero); ok {
		return Money{units: u, currency: currency}
	}
	return moneyOf(amount.Round(currency.scale), currency)
}

// moneyOf returns d, which is at currency's scale, in its one form.
func moneyOf(d decimal.Decimal, currency Currency) Money {
	if u, ok := fixed.Exact(d, currency.scale); ok {
		return Money{units: u, currency: currency}
	}
	return Money{wide: &d, currency: currency}
}

// MoneyFromUnits returns units smallest units (cents at scale 2) of currency.
func MoneyFromUnits(units int64, currency Currency) Money {
	if units > fixed.MaxUnits || units < -fixed.MaxUnits {
		return moneyOf(decimal.New(units, -currency.scale), currency)
	}
	return Money{units: units, currency: currency}
}

// ParseMoney parses a decimal string such as "12.50" (never through a float) in currency.
// An amount with more decimal places than the currency's scale is an error, not rounded.
func ParseMoney(s string, currency Currency) (Money, error) {
	if currency.IsZero() {
		return Money{}, fmt.Errorf("%w: no currency for %s", ErrInvalidMoney, excerpt.Quote(s))
	}
	d, err := ParseDecimal(s)
	if err != nil {
		return Money{}, err
	}
	if !d.Equal(d.Round(currency.scale)) {
		return Money{}, fmt.Errorf("%w: %s has more than %d decimal places for %s", ErrInvalidMoney, excerpt.Quote(s), currency.scale, currency.Code())
	}
	return moneyOf(d.Round(currency.scale), currency), nil
}

// MustMoney is ParseMoney with a currency code, for tests and examples; it panics on error.
func MustMoney(s, code string) Money {
	m, err := ParseMoney(s, MustCurrency(code))
	if err != nil {
		panic(err)
	}
	return m
}

// maxExponent bounds the exponent of a decimal voucherkit accepts, so that "1e999999"
// is refused quickly instead of expanding into a million digits.
const maxExponent = 30

// maxIntegerDigits bounds the digits before the decimal point (10^24 is far beyond any
// bill), so that every accepted amount formats back into a string ParseDecimal reads.
const maxIntegerDigits = 24

// ParseDecimal parses a plain decimal string ("12.50", "-3", "1e3"), refusing floats'
// spellings it cannot represent exactly (NaN, Inf), exponents beyond ±30 and more than
// 24 digits before the point.
func ParseDecimal(s string) (decimal.Decimal, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return decimal.Decimal{}, fmt.Errorf("%w: empty amount", ErrInvalidMoney)
	}
	if len(t) > 64 {
		return decimal.Decimal{}, fmt.Errorf("%w: amount %s is longer than 64 characters", ErrInvalidMoney, excerpt.Quote(t))
	}
	d, err := decimal.NewFromString(t)
	if err != nil {
		return decimal.Decimal{}, fmt.Errorf("%w: %s is not a decimal number", ErrInvalidMoney, excerpt.Quote(s))
	}
	if e := d.Exponent(); (e > maxExponent || e < -maxExponent) && !d.IsZero() {
		return decimal.Decimal{}, fmt.Errorf("%w: %s is out of range", ErrInvalidMoney, excerpt.Quote(s))
	}
	if !d.IsZero() && d.NumDigits()+int(d.Exponent()) > maxIntegerDigits {
		return decimal.Decimal{}, fmt.Errorf("%w: %s has more than %d digits before the point", ErrInvalidMoney, excerpt.Quote(s), maxIntegerDigits)
	}
	return d, nil
}

// Amount is the decimal amount, at the currency's scale (zero: the zero decimal).
func (m Money) Amount() decimal.Decimal {
	if m.wide != nil {
		return *m.wide
	}
	return fixed.ToDecimal(m.units, m.currency.scale)
}

// Currency is the money's currency.
func (m Money) Currency() Currency { return m.currency }

// IsZero reports whether the amount is zero, in a currency or unset.
func (m Money) IsZero() bool { return m.Sign() == 0 }

// IsNegative reports whether the amount is below zero.
func (m Money) IsNegative() bool { return m.Sign() < 0 }

// Sign is -1, 0 or +1.
func (m Money) Sign() int {
	if m.wide != nil {
		return m.wide.Sign()
	}
	return cmp.Compare(m.units, 0)
}

func (m Money) same(o Money) error {
	if m.currency != o.currency && !m.IsUnset() && !o.IsUnset() {
		return fmt.Errorf("%w: %s and %s", ErrCurrencyMismatch, m.currency.Code(), o.currency.Code())
	}
	return nil
}

// IsUnset reports whether m is Money{}: no currency. Zero in a currency is not unset.
func (m Money) IsUnset() bool { return m.currency.IsZero() && m.IsZero() }

func pick(a, b Currency) Currency {
	if a.IsZero() {
		return b
	}
	return a
}

// Add returns m + o; both must be in one currency (ErrCurrencyMismatch otherwise).
func (m Money) Add(o Money) (Money, error) {
	if err := m.same(o); err != nil {
		return Money{}, err
	}
	c := pick(m.currency, o.currency)
	if m.wide == nil && o.wide == nil {
		return MoneyFromUnits(m.units+o.units, c), nil // |sum| <= 2*MaxUnits: no overflow
	}
	return moneyOf(m.Amount().Add(o.Amount()), c), nil
}

// Sub returns m - o; both must be in one currency (ErrCurrencyMismatch otherwise).
func (m Money) Sub(o Money) (Money, error) {
	if err := m.same(o); err != nil {
		return Money{}, err
	}
	c := pick(m.currency, o.currency)
	if m.wide == nil && o.wide == nil {
		return MoneyFromUnits(m.units-o.units, c), nil
	}
	return moneyOf(m.Amount().Sub(o.Amount()), c), nil
}

// Neg returns -m.
func (m Money) Neg() Money {
	if m.wide != nil {
		return moneyOf(m.wide.Neg(), m.currency)
	}
	return Money{units: -m.units, currency: m.currency}
}

// Cmp compares m and o: -1, 0 or +1; both must be in one currency.
func (m Money) Cmp(o Money) (int, error) {
	if err := m.same(o); err != nil {
		return 0, err
	}
	return m.cmp(o), nil
}

func (m Money) cmp(o Money) int {
	if m.wide == nil && o.wide == nil {
		return cmp.Compare(m.units, o.units)
	}
	return m.Amount().Cmp(o.Amount())
}

// Equal reports whether m and o are the same amount in the same currency ("300" equals "300.00").
func (m Money) Equal(o Money) bool {
	return m.same(o) == nil && m.cmp(o) == 0
}

// Units returns the amount in smallest units of its currency (cents at scale 2); ok is
// false, and units 0, when they do not fit in an int64.
func (m Money) Units() (units int64, ok bool) {
	if m.wide != nil {
		return 0, false // beyond MaxAmount
	}
	return m.units, true
}

// Format returns the amount with exactly the currency's decimal places, e.g. "300.00".
func (m Money) Format() string {
	if m.wide != nil {
		return m.wide.StringFixed(m.currency.scale)
	}
	return string(fixed.AppendUnits(nil, m.units, m.currency.scale))
}

// String returns "300.00 CNY".
func (m Money) String() string {
	if m.currency.IsZero() {
		return m.Amount().String()
	}
	return m.Format() + " " + m.currency.Code()
}

type moneyJSON struct {
	Amount   string `json:"amount"`
	Currency string `json:"currency"`
	// Scale is written only when it is not the currency's ISO scale.
	Scale *int32 `json:"scale,omitempty"`
}

// MarshalJSON writes {"amount": "300.00", "currency": "CNY"}: the amount is a string.
// A currency whose scale is not ISO's (a rule set's "USD" at scale 4) adds "scale".
func (m Money) MarshalJSON() ([]byte, error) {
	// Written by hand, as moneyJSON would be: this is the hottest value in a stored
	// quote. Neither an amount nor a currency code (NewCurrency) needs escaping.
	b := make([]byte, 0, 48)
	b = append(b, `{"amount":"`...)
	if m.wide != nil {
		b = append(b, m.Format()...)
	} else {
		b = fixed.AppendUnits(b, m.units, m.currency.scale)
	}
	b = append(b, `","currency":"`...)
	b = append(b, m.currency.Code()...)
	b = append(b, '"')
	if !m.currency.IsZero() {
		if iso, err := LookupCurrency(m.currency.Code()); err == nil && iso.scale != m.currency.scale {
			b = append(b, `,"scale":`...)
			b = strconv.AppendInt(b, int64(m.currency.scale), 10)
		}
	}
	return append(b, '}'), nil
}

// UnmarshalJSON reads what MarshalJSON writes, strictly: an amount finer than the
// currency's scale is refused, not rounded; the zero Money (no currency) round-trips.
func (m *Money) UnmarshalJSON(b []byte) error {
	var v moneyJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	if v.Currency == "" {
		d, err := ParseDecimal(v.Amount)
		if err != nil {
			return err
		}
		if !d.IsZero() {
			return fmt.Errorf("%w: amount %s has no currency", ErrInvalidMoney, v.Amount)
		}
		*m = Money{}
		return nil
	}
	c, err := LookupCurrency(v.Currency)
	if err != nil {
		return err
	}
	if v.Scale != nil {
		if c, err = NewCurrency(v.Currency, *v.Scale); err != nil {
			return err
		}
	}
	parsed, err := ParseMoney(v.Amount, c)
	if err != nil {
		return err
	}
	*m = parsed
	return nil
}

// IsPositive reports whether the amount is above zero.
func (m Money) IsPositive() bool { return m.Sign() > 0 }
