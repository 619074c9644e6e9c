package voucher

import (
	"errors"
	"strings"
)

// CodeError is a sentinel error that carries a stable snake_case code from the spec
// ("duplicate_order"). Match with errors.Is against the Err* values; read the code of any
// wrapped error with ErrorCode.
type CodeError struct {
	code string
	text string
}

func (e *CodeError) Error() string { return "voucher: " + e.text }

// Code is the stable snake_case code, e.g. "duplicate_order".
func (e *CodeError) Code() string { return e.code }

func newCode(code, text string) *CodeError { return &CodeError{code: code, text: text} }

// Step errors of the spec. A step that returns one of these changed nothing.
var (
	ErrClockBackwards    = newCode("clock_backwards", "clock would move backwards")
	ErrDuplicateOrder    = newCode("duplicate_order", "order id already committed or reserved")
	ErrInvalidOrder      = newCode("invalid_order", "invalid order")
	ErrCurrencyMismatch  = newCode("currency_mismatch", "currency mismatch")
	ErrUnknownInstrument = newCode("unknown_instrument", "unknown instrument")
	ErrCodeNotFound      = newCode("code_not_found", "code not found")
	ErrNotReserved       = newCode("not_reserved", "no live reservation")
	ErrUnknownOrder      = newCode("unknown_order", "unknown order")
	ErrInvalidRefund     = newCode("invalid_refund", "invalid refund")
	ErrAlreadyRefunded   = newCode("already_refunded", "already refunded")
	ErrCodeAlreadyUsed   = newCode("code_already_used", "code already used")
	ErrCodeExpired       = newCode("code_expired", "code expired")
)

// Errors that are not step outcomes but misuse of the API.
var (
	// ErrInvalidMoney reports an amount or currency that cannot be represented.
	ErrInvalidMoney = newCode("invalid_money", "invalid money")
	// ErrInvalidInstrument reports an instrument that is not well formed.
	ErrInvalidInstrument = newCode("invalid_instrument", "invalid instrument")
	// ErrInvalidOrganization reports an organization that is not well formed.
	ErrInvalidOrganization = newCode("invalid_organization", "invalid organization")
	// ErrInvalidTime reports a step time voucherkit cannot hold (see CheckTime).
	ErrInvalidTime = newCode("invalid_time", "invalid time")
)

// ErrConflict is returned by a Store whose transaction could not be serialised with
// concurrent ones after a bounded number of tries; nothing was changed, and the step
// may be retried as it is.
var ErrConflict = newCode("conflict", "the store could not serialise the step with concurrent ones; retry it")

// ErrorCode returns the code of err ("duplicate_order"), or "" when err carries none: the
// code of the first error in its chain with a Code() string method, a CodeError or a
// sentinel of another package of voucherkit (scenario.ErrInvalid: "invalid_file",
// rules.ErrInvalidRuleSet: "invalid_rule_set", providers.ErrUnknown: "unknown_provider").
func ErrorCode(err error) string {
	var ce interface{ Code() string }
	if errors.As(err, &ce) {
		return ce.Code()
	}
	return ""
}

// FieldError is one problem with one field of an input, named by its path
// ("items[1].amount").
type FieldError struct {
	Field   string
	Problem string
}

func (f FieldError) String() string { return f.Field + ": " + f.Problem }

// ValidationError lists every problem found in one input. It wraps its sentinel
// (ErrInvalidOrder, ErrInvalidInstrument), so errors.Is works on it.
type ValidationError struct {
	Sentinel *CodeError
	Problems []FieldError
}

func (v *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString(v.Sentinel.Error())
	for i, p := range v.Problems {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(p.String())
	}
	return b.String()
}

func (v *ValidationError) Unwrap() error { return v.Sentinel }
