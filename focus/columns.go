package focus

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"github.com/voucherkit/voucherkit/internal/excerpt"
	"github.com/voucherkit/voucherkit/voucher"
)

// ErrInvalid is wrapped by every error about the contents of a FOCUS file: a missing
// column, a malformed value, rows that contradict each other.
var ErrInvalid = errors.New("focus: invalid FOCUS data")

// RowError is a malformed value: the data row (1 is the first row after the header),
// the line of the file it starts on, the column, and an excerpt of the value (at most
// 40 characters, escaped: never the whole row).
type RowError struct {
	Row    int
	Line   int
	Column string
	// Value is excerpt.Quote of the value ("NULL" for a null one).
	Value   string
	Problem string
}

func (e *RowError) Error() string {
	col := ""
	if e.Column != "" {
		col = ", column " + e.Column
	}
	val := ""
	if e.Value != "" {
		val = " " + e.Value
	}
	return fmt.Sprintf("focus: row %d (line %d)%s:%s %s", e.Row, e.Line, col, val, e.Problem)
}

// Unwrap makes errors.Is(err, ErrInvalid) hold.
func (e *RowError) Unwrap() error { return ErrInvalid }

// FOCUS column IDs voucherkit reads or writes.
const (
	colAvailabilityZone     = "AvailabilityZone"
	colBilledCost           = "BilledCost"
	colBillingAccountID     = "BillingAccountId"
	colBillingAccountName   = "BillingAccountName"
	colBillingCurrency      = "BillingCurrency"
	colBillingPeriodEnd     = "BillingPeriodEnd"
	colBillingPeriodStart   = "BillingPeriodStart"
	colChargeCategory       = "ChargeCategory"
	colChargeClass          = "ChargeClass"
	colChargeDescription    = "ChargeDescription"
	colChargeFrequency      = "ChargeFrequency"
	colChargePeriodEnd      = "ChargePeriodEnd"
	colChargePeriodStart    = "ChargePeriodStart"
	colCommitmentCategory   = "CommitmentDiscountCategory"
	colContractedCost       = "ContractedCost"
	colEffectiveCost        = "EffectiveCost"
	colInvoiceIssuerName    = "InvoiceIssuerName"
	colListCost             = "ListCost"
	colProviderName         = "ProviderName"
	colServiceProviderName  = "ServiceProviderName" // FOCUS 1.3, replacing ProviderName
	colHostProviderName     = "HostProviderName"    // FOCUS 1.3
	colPublisherName        = "PublisherName"
	colServiceCategory      = "ServiceCategory"
	colServiceName          = "ServiceName"
	colSkuID                = "SkuId"
	colSubAccountID         = "SubAccountId"
	colSubAccountName       = "SubAccountName"
	colXInstrumentID        = "x_VoucherkitInstrumentId"
	colXInstrumentType      = "x_VoucherkitInstrumentType"
	colXRuleSet             = "x_VoucherkitRuleSet"
	colXBillID              = "x_VoucherkitBillId"
	colXChargeID            = "x_VoucherkitChargeId"
	maxKeptValue            = 1024
	nullToken               = "NULL"
	categoryUsage           = "Usage"
	categoryPurchase        = "Purchase"
	categoryCredit          = "Credit"
	categoryTax             = "Tax"
	categoryAdjustment      = "Adjustment"
	frequencyOneTime        = "One-Time"
	defaultServiceCategory  = "Other"
	exportChargeFrequency   = frequencyOneTime
	exportTimeLayout        = "2006-01-02T15:04:05Z"
	requiredColumnsSentence = "BilledCost, BillingAccountId, BillingCurrency, BillingPeriodStart, BillingPeriodEnd, ChargeCategory, ChargePeriodStart, ServiceName"
)

// required are the columns import cannot do without (FOCUS makes them mandatory).
var required = []string{colBilledCost, colBillingAccountID, colBillingCurrency, colBillingPeriodStart,
	colBillingPeriodEnd, colChargeCategory, colChargePeriodStart, colServiceName}

// header is the column index of each column by name; -1 for an absent one.
type header struct {
	cols map[string]int
	n    int
}

// newHeader reads the header row: names must be unique and not empty; a UTF-8 byte
// order mark before the first is dropped. Every required column must be present.
func newHeader(names []string) (*header, error) {
	h := &header{cols: make(map[string]int, len(names)), n: len(names)}
	for i, name := range names {
		if i == 0 {
			name = strings.TrimPrefix(name, "\uFEFF")
		}
		if strings.TrimSpace(name) == "" {
			return nil, fmt.Errorf("%w: header (line 1): column %d has no name", ErrInvalid, i+1)
		}
		if j, dup := h.cols[name]; dup {
			return nil, fmt.Errorf("%w: header (line 1): column %s is both column %d and column %d", ErrInvalid, excerpt.Quote(name), j+1, i+1)
		}
		h.cols[strings.Clone(name)] = i
	}
	var missing []string
	for _, c := range required {
		if _, ok := h.cols[c]; !ok {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: header (line 1): missing column %s (a FOCUS file has %s)", ErrInvalid,
			strings.Join(missing, ", "), requiredColumnsSentence)
	}
	return h, nil
}

// index is the column's index, or -1.
func (h *header) index(name string) int {
	if i, ok := h.cols[name]; ok {
		return i
	}
	return -1
}

// row is one data row being read; its fields belong to the CSV reader and are only
// valid until the next row.
type row struct {
	h      *header
	fields []string
	num    int
	line   int
}

// value returns the column's value and whether it is present: FOCUS writes NULL for a
// missing value, and an empty field is read the same way (FOCUS forbids empty strings
// as values). An absent column is null.
func (r *row) value(col string) (string, bool) {
	i := r.h.index(col)
	if i < 0 {
		return "", false
	}
	v := r.fields[i]
	if v == "" || v == nullToken {
		return "", false
	}
	return v, true
}

// text returns the column's value ("" for null). A value longer than maxKeptValue
// bytes is an error, so that nothing the import keeps is unbounded.
func (r *row) text(col string) (string, error) {
	v, _ := r.value(col)
	if len(v) > maxKeptValue {
		return "", r.errorf(col, v, "is %d bytes long; the limit is %d", len(v), maxKeptValue)
	}
	return v, nil
}

// must returns the value of a column that FOCUS does not allow to be null.
func (r *row) must(col string) (string, error) {
	v, ok := r.value(col)
	if !ok {
		return "", r.errorf(col, nullToken, "must not be null")
	}
	if len(v) > maxKeptValue {
		return "", r.errorf(col, v, "is %d bytes long; the limit is %d", len(v), maxKeptValue)
	}
	return v, nil
}

func (r *row) errorf(col, value, format string, a ...any) error {
	q := ""
	if value == nullToken {
		q = nullToken
	} else if value != "" || col != "" {
		q = excerpt.Quote(value)
	}
	return &RowError{Row: r.num, Line: r.line, Column: col, Value: q, Problem: fmt.Sprintf(format, a...)}
}

// decimal reads a non-null decimal column exactly (FOCUS NumericFormat: an integer, a
// decimal or E notation; never read through a float).
func (r *row) decimal(col string) (decimal.Decimal, error) {
	v, err := r.must(col)
	if err != nil {
		return decimal.Decimal{}, err
	}
	d, err := voucher.ParseDecimal(v)
	if err != nil || strings.HasPrefix(v, "+") || strings.TrimSpace(v) != v {
		return decimal.Decimal{}, r.errorf(col, v, "is not a decimal number (FOCUS NumericFormat: such as -100.2, 4 or 35.2E-7)")
	}
	return d, nil
}

// time reads a non-null date/time column.
func (r *row) time(col string) (time.Time, error) {
	v, err := r.must(col)
	if err != nil {
		return time.Time{}, err
	}
	t, ok := parseTime(v)
	if !ok {
		return time.Time{}, r.errorf(col, v, "is not a date/time (FOCUS DateTimeFormat: 2024-09-01T00:00:00Z)")
	}
	return t, nil
}

// timeLayouts are the date/time spellings import reads: FOCUS's own (ISO 8601 in UTC,
// "2024-09-01T00:00:00Z"), RFC 3339 with any offset and fractional seconds, and the
// space-separated form without a zone that some exports write (the FOCUS 1.0 sample
// data: "2024-09-01 00:00:00"), read as UTC as FOCUS requires every value to be.
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02 15:04:05Z07:00", "2006-01-02T15:04:05",
	"2006-01-02 15:04:05", "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999", "2006-01-02"}

func parseTime(s string) (time.Time, bool) {
	if len(s) > 64 {
		return time.Time{}, false
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil && voucher.CheckTime(t) == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// oneOf reads a column with allowed values, compared without regard to case (exports
// differ in case: the FOCUS 1.0 sample has both "Usage-Based" and "Usage-based"); it
// returns the allowed spelling, or "" for null.
func (r *row) oneOf(col string, allowed ...string) (string, error) {
	v, ok := r.value(col)
	if !ok {
		return "", nil
	}
	for _, a := range allowed {
		if strings.EqualFold(v, a) {
			return a, nil
		}
	}
	return "", r.errorf(col, v, "is not one of %s", strings.Join(allowed, ", "))
}

// providerColumns are the columns naming whose bill a row is on, in the order they are
// looked at: ProviderName (FOCUS 1.0-1.2), HostProviderName and ServiceProviderName
// (1.3 and later, where ProviderName is deprecated).
var providerColumns = []string{colProviderName, colHostProviderName, colServiceProviderName}

// sellerColumns name who sold what a row charges for: PublisherName (1.0-1.2), then
// ServiceProviderName (1.3 and later).
var sellerColumns = []string{colPublisherName, colServiceProviderName}

// first returns the first non-null value among cols.
func (r *row) first(cols []string) (string, error) {
	for _, c := range cols {
		if _, ok := r.value(c); ok {
			return r.text(c)
		}
	}
	return "", nil
}
