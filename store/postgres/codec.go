package postgres

import (
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/voucherkit/voucherkit/voucher"
)

// k is s as a key column's value: its bytes, never NULL.
func k(s string) []byte {
	if s == "" {
		return []byte{}
	}
	return []byte(s)
}

// timeKeyLayout is the fixed-width UTC text a time is compared by, after a five-digit
// year: every key has the same length, so that byte order is time order, to the
// nanosecond (TIMESTAMPTZ holds only microseconds). A time of the years 1 to 9999 in
// any zone is in the years 0 to 10000 in UTC.
const timeKeyLayout = "-01-02T15:04:05.000000000Z"

// timeKey is t as the key queries compare; field names t in an error.
func timeKey(field string, t time.Time) ([]byte, error) {
	u := t.UTC()
	y := u.Year()
	if ly := t.Year(); ly < 1 || ly > 9999 || y < 0 || y > 10000 {
		return nil, fmt.Errorf("postgres store: %s %s is outside the years 1 to 9999", field, t.Format(time.RFC3339Nano))
	}
	b := make([]byte, 0, 5+len(timeKeyLayout))
	b = append(b, byte('0'+y/10000), byte('0'+y/1000%10), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10))
	return u.AppendFormat(b, timeKeyLayout), nil
}

// optTimeKey is timeKey for an optional time: nil (NULL) for none.
func optTimeKey(field string, t *time.Time) ([]byte, error) {
	if t == nil {
		return nil, nil
	}
	return timeKey(field, *t)
}

// checkUTF8 refuses a key that is not valid UTF-8: stored values are JSON, which
// cannot hold it (encoding/json would write U+FFFD instead); pairs are a field's name
// and its value.
func checkUTF8(pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if !utf8.ValidString(pairs[i+1]) {
			return fmt.Errorf("postgres store: %s %q is not valid UTF-8, which the JSON of stored values cannot hold", pairs[i], pairs[i+1])
		}
	}
	return nil
}

// encode is v's JSON; what names v in an error.
func encode(what string, v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("postgres store: encoding %s: %w", what, err)
	}
	return b, nil
}

// decode reads body into v; what names the row in an error.
func decode(what string, body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("postgres store: decoding %s: %w", what, err)
	}
	return nil
}

// instrumentRow is the columns of an instrument row: its code (nil: none), its
// expiry key (nil: never), its body.
func instrumentRow(si *voucher.StoredInstrument) (code, expires, body []byte, err error) {
	id := si.ID()
	if err := checkUTF8("instrument id", id, "instrument account", si.Account(), "instrument code", si.Instrument.Code); err != nil {
		return nil, nil, nil, err
	}
	if si.Instrument.Code != "" {
		code = []byte(si.Instrument.Code)
	}
	if expires, err = optTimeKey(fmt.Sprintf("instrument %q: expires", id), si.Expires); err != nil {
		return nil, nil, nil, err
	}
	body, err = encode(fmt.Sprintf("instrument %q", id), si)
	return code, expires, body, err
}

// encodeClock is an account's clock as stored: RFC 3339 with nanoseconds and the
// clock's own offset, so that it reads back as the same instant in the same offset;
// in UTC when the offset is not a whole number of minutes, which RFC 3339 cannot write.
func encodeClock(account string, t time.Time) (string, error) {
	if _, off := t.Zone(); off%60 != 0 {
		t = t.UTC()
	}
	b, err := t.MarshalText()
	if err != nil {
		return "", fmt.Errorf("postgres store: account %q: clock: %w", account, err)
	}
	return string(b), nil
}

func decodeClock(account string, s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("postgres store: account %q: stored clock %q: %w", account, s, err)
	}
	return t, nil
}
