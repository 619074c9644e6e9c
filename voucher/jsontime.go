package voucher

import (
	"encoding/json"
	"time"
)

// The types below write their times through jsonTime, so that their JSON keeps every
// time's instant exactly, to the nanosecond: encoding/json writes a time as RFC 3339,
// whose zone offset has no seconds, and so would write a time whose zone is not a
// whole number of minutes off UTC (local mean time, as Asia/Shanghai's +08:05:43
// before 1901) at another instant. Such a time is written in UTC instead: the instant
// stays, only the zone changes. Reading is encoding/json's own.

func jsonTime(t time.Time) time.Time {
	if _, off := t.Zone(); off%60 != 0 {
		return t.UTC()
	}
	return t
}

func jsonTimePtr(p *time.Time) *time.Time {
	if p == nil {
		return nil
	}
	t := jsonTime(*p)
	return &t
}

// MarshalJSON writes the instrument with its times at their exact instants.
func (i Instrument) MarshalJSON() ([]byte, error) {
	type plain Instrument
	p := plain(i)
	p.IssuedAt, p.EffectiveAt, p.ExpiresAt = jsonTimePtr(p.IssuedAt), jsonTimePtr(p.EffectiveAt), jsonTimePtr(p.ExpiresAt)
	p.ClaimedAt, p.ActivatedAt = jsonTimePtr(p.ClaimedAt), jsonTimePtr(p.ActivatedAt)
	return json.Marshal(p)
}

// MarshalJSON writes the stored instrument with its times at their exact instants.
func (si StoredInstrument) MarshalJSON() ([]byte, error) {
	type plain StoredInstrument
	p := plain(si)
	p.Expires = jsonTimePtr(p.Expires)
	return json.Marshal(p)
}

// MarshalJSON writes the quote with its time at its exact instant.
func (q Quote) MarshalJSON() ([]byte, error) {
	type plain Quote
	p := plain(q)
	p.At = jsonTime(p.At)
	return json.Marshal(p)
}

// plainQuote is a Quote without its MarshalJSON: the types that hold a quote write
// it in the same pass (encoding/json copies and checks what each MarshalJSON returns,
// once per level).
type plainQuote Quote

func plainQuoteOf(q *Quote) *plainQuote {
	if q == nil {
		return nil
	}
	p := plainQuote(*q)
	p.At = jsonTime(p.At)
	return &p
}

// MarshalJSON writes the order with its times at their exact instants.
func (r OrderRecord) MarshalJSON() ([]byte, error) {
	type plain OrderRecord
	p := struct {
		plain
		Quote *plainQuote `json:"quote"`
	}{plain(r), plainQuoteOf(r.Quote)}
	p.At = jsonTime(p.At)
	return json.Marshal(p)
}

// MarshalJSON writes the reservation with its times at their exact instants.
func (r Reservation) MarshalJSON() ([]byte, error) {
	type plain Reservation
	p := struct {
		plain
		Quote *plainQuote `json:"quote"`
	}{plain(r), plainQuoteOf(r.Quote)}
	p.At, p.Until = jsonTime(p.At), jsonTime(p.Until)
	return json.Marshal(p)
}

// MarshalJSON writes the refund with its time at its exact instant.
func (r RefundRecord) MarshalJSON() ([]byte, error) {
	type plain RefundRecord
	p := plain(r)
	p.At = jsonTime(p.At)
	return json.Marshal(p)
}

// MarshalJSON writes the entry with its time at its exact instant.
func (e LedgerEntry) MarshalJSON() ([]byte, error) {
	type plain LedgerEntry
	p := plain(e)
	p.At = jsonTime(p.At)
	return json.Marshal(p)
}
