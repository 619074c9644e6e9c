package yamlx_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/voucherkit/voucherkit/internal/yamlx"
)

// RFC 3339 (§5.6) lets T and Z be lower case and bounds an offset to 00:00-23:59;
// time.Parse does the opposite on both counts.
func TestParseTimeFollowsRFC3339(t *testing.T) {
	ok := map[string]time.Time{
		"2026-03-02t10:00:00Z":            time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC),
		"2026-03-02T10:00:00z":            time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC),
		"2026-03-02t10:00:00.5z":          time.Date(2026, 3, 2, 10, 0, 0, 500_000_000, time.UTC),
		"2026-03-02t10:00:00+08:00":       time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC),
		"2026-03-02T10:00:00+23:59":       time.Date(2026, 3, 1, 10, 1, 0, 0, time.UTC),
		"2026-03-02T10:00:00-23:59":       time.Date(2026, 3, 3, 9, 59, 0, 0, time.UTC),
		"2026-03-02T10:00:00-00:00":       time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC),
		"2026-03-02T10:00:00.123456789Z":  time.Date(2026, 3, 2, 10, 0, 0, 123_456_789, time.UTC),
		"0001-01-01T00:00:00.000000001Z":  time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC),
		"0001-01-01T00:00:00Z":            {}, // Go's zero time is a time: absence is never a sentinel
		"0001-01-01T08:00:00+08:00":       {},
		"0001-01-01T00:00:00+01:00":       time.Date(0, 12, 31, 23, 0, 0, 0, time.UTC), // year 0 in UTC, 1 as written
		"9999-12-31T23:59:59.999999999Z":  time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
		"9999-12-31T23:00:00+01:00":       time.Date(9999, 12, 31, 22, 0, 0, 0, time.UTC),
		"0001-01-02":                      time.Date(1, 1, 2, 0, 0, 0, 0, time.UTC),
		"9999-12-31":                      time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC),
		"2026-03-02T10:00:00.1234567891Z": time.Date(2026, 3, 2, 10, 0, 0, 123_456_789, time.UTC),
	}
	for in, want := range ok {
		got, err := yamlx.ParseTime(in, time.UTC, yamlx.StartOfDay)
		require.NoError(t, err, in)
		assert.True(t, want.Equal(got), "%s: want %v, got %v", in, want, got)
	}
	const notATime = ` is not a time: want RFC 3339 with an offset (2026-03-02T10:00:00+08:00) or a date (2026-03-02)`
	const outOfRange = ` is out of range: want a time in the years 0001 to 9999`
	bad := map[string]string{
		"2026-03-02T10:00:00+24:00":  notATime,
		"2026-03-02T10:00:00-24:00":  notATime,
		"2026-03-02T10:00:00+23:60":  notATime,
		"2026-03-02T10:00:00+99:00":  notATime,
		"2026-03-02T10:00:00,5Z":     notATime,
		"2026-03-02x10:00:00Z":       notATime,
		"2026-03-02T10:00:00+0800":   notATime,
		"2026-03-02T10:00:00Z ":      notATime,
		"2026-03-02T10:00Z":          notATime,
		"+2026-03-02T10:00:00Z":      notATime,
		"10000-01-01T00:00:00Z":      notATime,
		"0000-01-01T00:00:00Z":       outOfRange,
		"0000-12-31T23:59:59Z":       outOfRange,
		"0000-01-01":                 outOfRange,
		"0000-12-31T23:00:00-02:00":  outOfRange, // year 1 in UTC, year 0 as written
		"9999-12-31T23:00:00-02:00":  outOfRange, // year 10000 in UTC
		"9999-12-31T23:59:59.9-0:00": notATime,
	}
	for in, want := range bad {
		got, err := yamlx.ParseTime(in, time.UTC, yamlx.StartOfDay)
		assert.EqualError(t, err, `"`+in+`"`+want, in)
		assert.True(t, got.IsZero(), in)
	}
	// A date through the end of 9999-12-31 ends in the year 10000.
	_, err := yamlx.ParseTime("9999-12-31", time.UTC, yamlx.EndOfDay)
	assert.EqualError(t, err, `"9999-12-31"`+outOfRange)
}

// A time the library cannot hold is a positioned error.
func TestDocTimeOutOfRange(t *testing.T) {
	d, v := doc(t, "a: 0000-01-01T00:00:00Z\nb: 2026-03-02t10:00:00z\nc: 2026-03-02T10:00:00+24:00\n")
	_, ok := d.Time(v["a"], "a", time.UTC, yamlx.StartOfDay)
	assert.False(t, ok)
	b, ok := d.Time(v["b"], "b", time.UTC, yamlx.StartOfDay)
	assert.True(t, ok)
	assert.Equal(t, time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC), b)
	_, ok = d.Time(v["c"], "c", time.UTC, yamlx.StartOfDay)
	assert.False(t, ok)
	assert.Equal(t, []string{
		`t.yaml:1:4: a: "0000-01-01T00:00:00Z" is out of range: want a time in the years 0001 to 9999`,
		`t.yaml:3:4: c: "2026-03-02T10:00:00+24:00" is not a time: want RFC 3339 with an offset (2026-03-02T10:00:00+08:00) or a date (2026-03-02)`,
	}, errs(d))
}
