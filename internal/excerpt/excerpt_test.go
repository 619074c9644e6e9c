package excerpt_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"

	"github.com/voucherkit/voucherkit/internal/excerpt"
)

func TestQuote(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", `""`},
		{"ecs", `"ecs"`},
		{`say "hi"\`, `"say \"hi\"\\"`},
		{"a\nb\tc\x00d\x1b[2J", `"a\nb\tc\x00d\x1b[2J"`},
		{"bad \xff\xfe utf-8", `"bad \xff\xfe utf-8"`},
		{"阿里云代金券", `"阿里云代金券"`},
		{strings.Repeat("x", 40), `"` + strings.Repeat("x", 40) + `"`},
		{strings.Repeat("x", 41), `"` + strings.Repeat("x", 40) + `"…`},
		{strings.Repeat("云", 50), `"` + strings.Repeat("云", 40) + `"…`},
		{"root:x:0:0:root:/root:/bin/bash\nSECRET=hunter2\n", `"root:x:0:0:root:/root:/bin/bash\nSECRET=h"…`},
		// An invalid byte counts as one rune and is escaped.
		{strings.Repeat("\xff", 41), `"` + strings.Repeat(`\xff`, 40) + `"…`},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, excerpt.Quote(c.in), "Quote(%q)", c.in)
	}
}

// A 7 MB value, text or binary, comes back as a short excerpt, quickly.
func TestQuoteHuge(t *testing.T) {
	huge := strings.Repeat("a", 7<<20)
	assert.Equal(t, `"`+strings.Repeat("a", 40)+`"…`, excerpt.Quote(huge))
	garbage := make([]byte, 7<<20)
	for i := range garbage {
		garbage[i] = byte(i*131 + i>>8)
	}
	q := excerpt.Quote(string(garbage))
	assert.Less(t, len(q), 4*40+3+len(excerpt.Ellipsis)+1, q)
	assert.True(t, utf8.ValidString(q))
	assert.NotContains(t, q, "\n")
}

func TestShow(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", `""`},
		{"o1", "o1"},
		{"order with spaces", "order with spaces"},
		{`say "hi"`, `say "hi"`},
		{"阿里云", "阿里云"},
		{strings.Repeat("x", 200), strings.Repeat("x", 200)},
		{strings.Repeat("x", 201), `"` + strings.Repeat("x", 40) + `"…`},
		// What could forge a line of a report is escaped.
		{"o1)\nok    fake.yaml", `"o1)\nok    fake.yaml"`},
		{"a\rb", `"a\rb"`},
		{"tab\there", `"tab\there"`},
		{"\xff", `"\xff"`},
		{"nbsp\u00a0", `"nbsp\u00a0"`},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, excerpt.Show(c.in), "Show(%q)", c.in)
	}
}

func TestUnknown(t *testing.T) {
	assert.Equal(t, `unknown refund rule "x"; want forfeit or restore`, excerpt.Unknown("refund rule", "x", []string{"forfeit", "restore"}))
	assert.Equal(t, `unknown rounding "x"; want a, b, c or d`, excerpt.Unknown("rounding", "x", []string{"a", "b", "c", "d"}))
	assert.Equal(t, `unknown status "x"; want one of a, b, c, d, e`, excerpt.Unknown("status", "x", []string{"a", "b", "c", "d", "e"}))
	assert.Equal(t, "a", excerpt.Want([]string{"a"}))
}
