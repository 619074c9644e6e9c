package yamlx_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/voucherkit/voucherkit/internal/yamlx"
)

// doc parses src and returns the document and its top-level mapping's values by key.
func doc(t *testing.T, src string) (*yamlx.Doc, map[string]*yaml.Node) {
	t.Helper()
	d, root, err := yamlx.Parse("t.yaml", []byte(src))
	require.NoError(t, err)
	fields, ok := d.Map(root, "")
	require.True(t, ok)
	require.False(t, d.Failed(), "%v", d.Err())
	values := map[string]*yaml.Node{}
	for _, f := range fields {
		values[f.Key] = f.Value
	}
	return d, values
}

// errs returns the recorded errors as strings.
func errs(d *yamlx.Doc) []string {
	err := d.Err()
	if err == nil {
		return nil
	}
	var out []string
	for _, e := range err.(yamlx.Errors) {
		out = append(out, e.Error())
	}
	return out
}

func TestParseDuration(t *testing.T) {
	cases := []struct {
		in   string
		want time.Duration
		err  string
	}{
		{in: "15m", want: 15 * time.Minute},
		{in: "720h", want: 720 * time.Hour},
		{in: "1h30m", want: 90 * time.Minute},
		{in: "30d", want: 30 * 24 * time.Hour},
		{in: "1d", want: 24 * time.Hour},
		{in: "36500d", want: 36500 * 24 * time.Hour},
		{in: "36501d", err: `invalid duration: "36501d" is not a positive number of days such as "30d"`},
		{in: "0d", err: `invalid duration: "0d" is not a positive number of days such as "30d"`},
		{in: "-1d", err: `invalid duration: "-1d" is not a positive number of days such as "30d"`},
		{in: "1.5d", err: `invalid duration: "1.5d" is not a positive number of days such as "30d"`},
		{in: "d", err: `invalid duration: "d" is not a positive number of days such as "30d"`},
		{in: "thirty days", err: `invalid duration: "thirty days" is not a positive duration such as "15m" or "30d"`},
		{in: "0s", err: `invalid duration: "0s" is not a positive duration such as "15m" or "30d"`},
		{in: "-5m", err: `invalid duration: "-5m" is not a positive duration such as "15m" or "30d"`},
		{in: "", err: `invalid duration: "" is not a positive duration such as "15m" or "30d"`},
		{in: "30", err: `invalid duration: "30" is not a positive duration such as "15m" or "30d"`},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := yamlx.ParseDuration(tc.in)
			if tc.err != "" {
				require.Error(t, err)
				assert.EqualError(t, err, tc.err)
				assert.ErrorIs(t, err, yamlx.ErrDuration)
				assert.Zero(t, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestParseTime(t *testing.T) {
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	cases := []struct {
		name string
		in   string
		loc  *time.Location
		kind yamlx.TimeKind
		want time.Time
	}{
		{"RFC 3339 with offset", "2026-03-02T10:00:00+08:00", shanghai, yamlx.StartOfDay,
			time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)},
		{"RFC 3339 in UTC", "2026-03-02T10:00:00Z", shanghai, yamlx.StartOfDay,
			time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)},
		{"fractional seconds", "2026-03-02T10:00:00.25+00:00", time.UTC, yamlx.StartOfDay,
			time.Date(2026, 3, 2, 10, 0, 0, 250_000_000, time.UTC)},
		{"a full time is not moved by EndOfDay", "2026-03-02T10:00:00+08:00", shanghai, yamlx.EndOfDay,
			time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)},
		{"date: start of that day in the zone", "2026-03-02", shanghai, yamlx.StartOfDay,
			time.Date(2026, 3, 1, 16, 0, 0, 0, time.UTC)},
		{"date: through the end of the day is the next midnight", "2026-03-02", shanghai, yamlx.EndOfDay,
			time.Date(2026, 3, 3, 0, 0, 0, 0, shanghai)},
		{"end of year", "2026-12-31", shanghai, yamlx.EndOfDay,
			time.Date(2027, 1, 1, 0, 0, 0, 0, shanghai)},
		{"end of a 23-hour day (DST starts)", "2026-03-29", berlin, yamlx.EndOfDay,
			time.Date(2026, 3, 29, 22, 0, 0, 0, time.UTC)},
		{"date in UTC", "2026-03-02", time.UTC, yamlx.StartOfDay,
			time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := yamlx.ParseTime(tc.in, tc.loc, tc.kind)
			require.NoError(t, err)
			assert.True(t, tc.want.Equal(got), "want %v, got %v", tc.want, got)
		})
	}

	for _, bad := range []string{"2026-03-02T10:00:00", "2026-13-01", "2026-02-30", "03/02/2026", "2026-03-02 10:00", "now", ""} {
		t.Run("bad "+bad, func(t *testing.T) {
			got, err := yamlx.ParseTime(bad, shanghai, yamlx.StartOfDay)
			require.Error(t, err)
			assert.EqualError(t, err, fmt.Sprintf("%q is not a time: want RFC 3339 with an offset (2026-03-02T10:00:00+08:00) or a date (2026-03-02)", bad))
			assert.True(t, got.IsZero())
		})
	}
}

func TestDocTime(t *testing.T) {
	d, v := doc(t, "a: 2026-03-02\nb: 2026-03-02T10:00:00+08:00\nc: tomorrow\nd: [2026-03-02]\n")
	a, ok := d.Time(v["a"], "a", time.UTC, yamlx.EndOfDay)
	require.True(t, ok)
	assert.Equal(t, time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC), a)
	b, ok := d.Time(v["b"], "b", time.UTC, yamlx.StartOfDay)
	require.True(t, ok)
	assert.True(t, b.Equal(time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)))
	_, ok = d.Time(v["c"], "c", time.UTC, yamlx.StartOfDay)
	assert.False(t, ok)
	_, ok = d.Time(v["d"], "d", time.UTC, yamlx.StartOfDay)
	assert.False(t, ok)
	assert.Equal(t, []string{
		`t.yaml:3:4: c: "tomorrow" is not a time: want RFC 3339 with an offset (2026-03-02T10:00:00+08:00) or a date (2026-03-02)`,
		`t.yaml:4:4: d: must be a time, got a list`,
	}, errs(d))
}

func TestDecimal(t *testing.T) {
	src := `
quoted: "0.1"
plain: 0.2
trailing: 12.50
integer: 100
big: 123456789012345678.99
spaced: " 7.25 "
exponent: "1e2"
negative: "-1.5"
negzero: -0
`
	cases := []struct {
		key           string
		allowNegative bool
		want          string // decimal.Decimal.String()
		exponent      int32
	}{
		{"quoted", false, "0.1", -1},
		{"plain", false, "0.2", -1},
		{"trailing", false, "12.5", -2},
		{"integer", false, "100", 0},
		{"big", false, "123456789012345678.99", -2},
		{"spaced", false, "7.25", -2},
		{"exponent", false, "100", 2},
		{"negative", true, "-1.5", -1},
		{"negzero", false, "0", 0},
	}
	d, v := doc(t, src)
	for _, tc := range cases {
		t.Run(tc.key, func(t *testing.T) {
			got, ok := d.Decimal(v[tc.key], tc.key, tc.allowNegative)
			require.True(t, ok, "%v", d.Err())
			assert.Equal(t, tc.want, got.String())
			assert.Equal(t, tc.exponent, got.Exponent(), "the literal's digits are kept, never a float's")
		})
	}
	assert.False(t, d.Failed(), "%v", d.Err())

	// Exact, where a float64 is not: 0.1 + 0.2 is 0.3.
	a, _ := d.Decimal(v["quoted"], "quoted", false)
	b, _ := d.Decimal(v["plain"], "plain", false)
	assert.True(t, a.Add(b).Equal(decimal.RequireFromString("0.3")))
}

func TestDecimalRefused(t *testing.T) {
	cases := []struct {
		name  string
		value string
		msg   string
	}{
		{"negative", `"-1.5"`, `must not be negative, got -1.5`},
		{"negative plain", `-0.01`, `must not be negative, got -0.01`},
		{"NaN", `.nan`, `must be a decimal amount such as "12.50", got ".nan"`},
		{"NaN string", `NaN`, `must be a decimal amount such as "12.50", got "NaN"`},
		{"infinity", `.inf`, `must be a decimal amount such as "12.50", got ".inf"`},
		{"minus infinity", `-.inf`, `must be a decimal amount such as "12.50", got "-.inf"`},
		{"Infinity string", `"Infinity"`, `must be a decimal amount such as "12.50", got "Infinity"`},
		{"huge exponent", `1e999999`, `must be a decimal amount such as "12.50", got "1e999999"`},
		{"exponent 31", `"1e31"`, `amount "1e31" is out of range`},
		{"31 decimal places", `0.0000000000000000000000000000001`, `amount "0.0000000000000000000000000000001" is out of range`},
		{"too long", `"` + strings.Repeat("1", 65) + `"`, `amount is longer than 64 characters`},
		{"comma", `"12,50"`, `must be a decimal amount such as "12.50", got "12,50"`},
		{"hex", `0x10`, `must be a decimal amount such as "12.50", got "0x10"`},
		{"underscores", `1_000`, `must be a decimal amount such as "12.50", got "1_000"`},
		{"currency sign", `"$5"`, `must be a decimal amount such as "12.50", got "$5"`},
		{"bool", `true`, `must be a decimal amount, got bool "true"`},
		{"null", `~`, `must be a decimal amount, got null`},
		{"list", `[1]`, `must be a decimal amount, got a list`},
		{"mapping", `{a: 1}`, `must be a decimal amount, got a mapping`},
		{"timestamp", `2026-03-02`, `must be a decimal amount, got timestamp "2026-03-02"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, v := doc(t, "amount: "+tc.value+"\n")
			got, ok := d.Decimal(v["amount"], "amount", false)
			assert.False(t, ok)
			assert.True(t, got.IsZero())
			assert.Equal(t, []string{"t.yaml:1:9: amount: " + tc.msg}, errs(d))
		})
	}
	t.Run("exponent 30 is in range", func(t *testing.T) {
		d, v := doc(t, "amount: \"1e30\"\n")
		got, ok := d.Decimal(v["amount"], "amount", false)
		require.True(t, ok)
		assert.True(t, got.Equal(decimal.New(1, 30)))
	})
}

// scalarsSrc holds a value of each YAML scalar kind, for TestScalars.
const scalarsSrc = `
str: hello
quoted: "true"
int: 123
float: 1.5
bool: true
null:
empty: ""
blank: "  "
list: [a]
date: 2026-03-02
yes: yes
Cap: True
one: 1
hex: 0x10
neg: -3
`

func TestScalars(t *testing.T) {
	d, v := doc(t, scalarsSrc)

	t.Run("String", func(t *testing.T) {
		for key, want := range map[string]string{"str": "hello", "quoted": "true", "int": "123", "empty": "", "yes": "yes"} {
			got, ok := d.String(v[key], key)
			assert.True(t, ok, key)
			assert.Equal(t, want, got, key)
		}
		for _, key := range []string{"float", "bool", "null", "list", "date"} {
			got, ok := d.String(v[key], key)
			assert.False(t, ok, key)
			assert.Empty(t, got, key)
		}
	})
	t.Run("NonEmptyString", func(t *testing.T) {
		_, ok := d.NonEmptyString(v["empty"], "empty")
		assert.False(t, ok)
		_, ok = d.NonEmptyString(v["blank"], "blank")
		assert.False(t, ok)
		s, ok := d.NonEmptyString(v["str"], "str")
		assert.True(t, ok)
		assert.Equal(t, "hello", s)
	})
	t.Run("Bool", func(t *testing.T) {
		b, ok := d.Bool(v["bool"], "bool")
		assert.True(t, ok)
		assert.True(t, b)
		b, ok = d.Bool(v["Cap"], "Cap")
		assert.True(t, ok)
		assert.True(t, b)
		for _, key := range []string{"quoted", "yes", "one", "null"} {
			_, ok := d.Bool(v[key], key)
			assert.False(t, ok, key)
		}
	})
	t.Run("Int", func(t *testing.T) {
		n, ok := d.Int(v["int"], "int", 0, 1000)
		assert.True(t, ok)
		assert.Equal(t, 123, n)
		n, ok = d.Int(v["neg"], "neg", -3, 0)
		assert.True(t, ok)
		assert.Equal(t, -3, n)
		for _, key := range []string{"float", "str", "quoted", "hex", "null"} {
			_, ok := d.Int(v[key], key, 0, 1000)
			assert.False(t, ok, key)
		}
		_, ok = d.Int(v["int"], "int", 0, 122)
		assert.False(t, ok)
	})

	assert.Equal(t, []string{
		`t.yaml:2:6: str: must be an integer, got str "hello"`,
		`t.yaml:3:9: quoted: must be true or false, got str "true"`,
		`t.yaml:3:9: quoted: must be an integer, got str "true"`,
		`t.yaml:4:6: int: must be between 0 and 122, got 123`,
		`t.yaml:5:8: float: must be a string, got float "1.5"`,
		`t.yaml:5:8: float: must be an integer, got float "1.5"`,
		`t.yaml:6:7: bool: must be a string, got bool "true"`,
		`t.yaml:7:6: null: must be a string, got null`,
		`t.yaml:7:6: null: must be true or false, got null`,
		`t.yaml:7:6: null: must be an integer, got null`,
		`t.yaml:8:8: empty: must not be empty`,
		`t.yaml:9:8: blank: must not be empty`,
		`t.yaml:10:7: list: must be a string, got a list`,
		`t.yaml:11:7: date: must be a string, got timestamp "2026-03-02"`,
		`t.yaml:12:6: yes: must be true or false, got str "yes"`,
		`t.yaml:14:6: one: must be true or false, got int "1"`,
		`t.yaml:15:6: hex: must be an integer, got int "0x10"`,
	}, errs(d))
}

func TestMap(t *testing.T) {
	src := `
anchored: &anchor {k: v}
top:
  b: 1
  a: 2
  b: 3
  zz: 4
  <<: {c: 5}
  [x]: 6
  alias: *anchor
`
	d, root, err := yamlx.Parse("t.yaml", []byte(src))
	require.NoError(t, err)
	top, ok := d.Map(root, "", "top", "anchored")
	require.True(t, ok)
	require.Len(t, top, 2)
	assert.Equal(t, "top", top[1].Key)
	assert.Equal(t, "top", top[1].Path)
	assert.Equal(t, 3, top[1].KeyNode.Line)

	fields, ok := d.Map(top[1].Value, "top", "a", "b", "alias")
	require.True(t, ok)
	var keys, paths []string
	for _, f := range fields {
		keys = append(keys, f.Key)
		paths = append(paths, f.Path)
	}
	assert.Equal(t, []string{"b", "a", "alias"}, keys, "document order, each key once")
	assert.Equal(t, []string{"top.b", "top.a", "top.alias"}, paths)

	// An alias value resolves to the anchored mapping.
	inner, ok := d.Map(fields[2].Value, fields[2].Path)
	require.True(t, ok)
	require.Len(t, inner, 1)
	assert.Equal(t, "k", inner[0].Key)
	assert.Equal(t, "top.alias.k", inner[0].Path)

	_, ok = d.Map(fields[0].Value, "top.b")
	assert.False(t, ok)

	assert.Equal(t, []string{
		"t.yaml:4:6: top.b: must be a mapping, got int \"1\"",
		"t.yaml:6:3: top.b: duplicate key",
		"t.yaml:7:3: top.zz: unknown key (known keys: a, b, alias)",
		"t.yaml:8:3: top.<<: merge keys are not supported",
		"t.yaml:9:3: top: keys must be plain strings",
	}, errs(d))
}

func TestMapAnyKey(t *testing.T) {
	d, root, err := yamlx.Parse("t.yaml", []byte("x: 1\ny: 2\n"))
	require.NoError(t, err)
	fields, ok := d.Map(root, "p")
	require.True(t, ok)
	assert.Len(t, fields, 2, "no known list: any key")
	assert.Empty(t, errs(d))
}

func TestSeqAndStringList(t *testing.T) {
	d, v := doc(t, "ok: [a, b]\ndup: [a, b, a]\nbad: [a, 1.5, \"\"]\nnot: a\nnone: []\n")
	got, ok := d.StringList(v["ok"], "ok")
	assert.True(t, ok)
	assert.Equal(t, []string{"a", "b"}, got)
	got, ok = d.StringList(v["none"], "none")
	assert.True(t, ok)
	assert.Empty(t, got)
	got, ok = d.StringList(v["dup"], "dup")
	assert.False(t, ok)
	assert.Equal(t, []string{"a", "b"}, got)
	_, ok = d.StringList(v["bad"], "bad")
	assert.False(t, ok)
	_, ok = d.StringList(v["not"], "not")
	assert.False(t, ok)
	items, ok := d.Seq(v["ok"], "ok")
	assert.True(t, ok)
	assert.Len(t, items, 2)
	assert.Equal(t, []string{
		`t.yaml:2:13: dup[2]: "a" is listed twice`,
		`t.yaml:3:10: bad[1]: must be a string, got float "1.5"`,
		`t.yaml:3:15: bad[2]: must not be empty`,
		`t.yaml:4:6: not: must be a list, got str "a"`,
	}, errs(d))
}

func TestDocDuration(t *testing.T) {
	d, v := doc(t, "a: 30d\nb: 15m\nc: 0d\nd: 30\n")
	a, ok := d.Duration(v["a"], "a")
	assert.True(t, ok)
	assert.Equal(t, 720*time.Hour, a)
	b, ok := d.Duration(v["b"], "b")
	assert.True(t, ok)
	assert.Equal(t, 15*time.Minute, b)
	_, ok = d.Duration(v["c"], "c")
	assert.False(t, ok)
	_, ok = d.Duration(v["d"], "d")
	assert.False(t, ok)
	assert.Equal(t, []string{
		`t.yaml:3:4: c: invalid duration: "0d" is not a positive number of days such as "30d"`,
		`t.yaml:4:4: d: invalid duration: "30" is not a positive duration such as "15m" or "30d"`,
	}, errs(d))
}

func TestParseWholeDocument(t *testing.T) {
	deep := func(n int) string { return "a: " + strings.Repeat("[", n) + strings.Repeat("]", n) + "\n" }
	bomb := "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	for _, c := range "bcdefghi" {
		prev := string(c - 1)
		bomb += fmt.Sprintf("%c: &%c [%s]\n", c, c, strings.Repeat("*"+prev+", ", 9)+"*"+prev)
	}
	cases := []struct {
		name string
		src  string
		want []string // nil: parses
	}{
		{"empty", "", []string{"t.yaml: document is empty"}},
		{"only a comment", "# nothing\n", []string{"t.yaml: document is empty"}},
		{"null document", "---\n", nil},
		{"scalar", "hello\n", nil},
		// The body is at depth 0 and its values at depth 1: MaxDepth nested lists under a
		// key are allowed, one more is not.
		{"nesting at the limit", deep(yamlx.MaxDepth), nil},
		{"nesting past the limit", deep(yamlx.MaxDepth + 1), []string{"t.yaml:1:68: nesting is deeper than 64 levels"}},
		{"alias bomb", bomb, []string{"t.yaml:1:4: document is too large: its aliases expand it to more than the limit of 200000 nodes (keys, values, list items)"}},
		{"alias cycle", "a: &x [*x]\n", []string{"t.yaml:1:4: nesting is deeper than 64 levels"}},
		{"too large", "a: \"" + strings.Repeat("x", yamlx.MaxBytes) + "\"\n",
			[]string{fmt.Sprintf("t.yaml: document is %d bytes; the limit is %d", yamlx.MaxBytes+6, yamlx.MaxBytes)}},
		{"unknown anchor", "a: *nope\n", []string{"t.yaml: invalid YAML: unknown anchor 'nope' referenced"}},
		{"control character", "a: \x01\n", []string{"t.yaml: invalid YAML: control characters are not allowed"}},
		{"second document", "a: 1\n---\nb: 2\n", []string{"t.yaml:2:1: found a second YAML document; a file holds exactly one"}},
		{"empty second document", "a: 1\n---\n", []string{"t.yaml:2:1: found a second YAML document; a file holds exactly one"}},
		{"syntax error in a second document", "a: 1\n---\nb: [1\n", []string{"t.yaml:3:1: invalid YAML: did not find expected ',' or ']'"}},
		{"document end marker", "a: 1\n...\n", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			d, body, err := yamlx.Parse("t.yaml", []byte(tc.src))
			assert.Less(t, time.Since(start), 5*time.Second)
			require.NotNil(t, d)
			if tc.want == nil {
				require.NoError(t, err)
				assert.NotNil(t, body)
				return
			}
			require.Error(t, err)
			assert.Nil(t, body)
			assert.Equal(t, tc.want, errs(d))
			assert.Equal(t, strings.Join(tc.want, "\n"), err.Error())
		})
	}
}

// yaml.v3 gives scanner errors their 1-based line, but parser errors the 0-based line
// of their context (and no line at all when that is 0). Each case's problem is on the
// line named.
func TestSyntaxErrorLines(t *testing.T) {
	cases := []struct {
		name string
		src  string
		want string
	}{
		{"scanner: mapping value", "a: 1\nb: c: d\n", "t.yaml:2:1: invalid YAML: mapping values are not allowed in this context"},
		{"scanner: tab", "a: 1\n\tb: 2\n", "t.yaml:2:1: invalid YAML: found a tab character that violates indentation"},
		{"scanner: bad token", "a: 1\nb: @x\n", "t.yaml:2:1: invalid YAML: found character that cannot start any token"},
		{"parser: flow sequence opened on line 2", "a: 1\nb: [1, 2\nc: 3\n", "t.yaml:2:1: invalid YAML: did not find expected ',' or ']'"},
		{"parser: flow mapping opened on line 2", "a: 1\nb: {x: 1\nc: 3\n", "t.yaml:2:1: invalid YAML: did not find expected ',' or '}'"},
		{"parser: block sequence opened on line 2", "a:\n  - 1\n  x: 2\n", "t.yaml:2:1: invalid YAML: did not find expected '-' indicator"},
		{"parser: list item in a mapping on line 3", "a: 1\nb: 2\n- c\n", "t.yaml:3:1: invalid YAML: did not find expected key"},
		{"parser: mapping after a top-level list, line 2", "- a\nb: 1\n", "t.yaml:2:1: invalid YAML: did not find expected '-' indicator"},
		{"parser: all on line 1", "a: [1, 2}\n", "t.yaml:1:1: invalid YAML: did not find expected ',' or ']'"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := yamlx.Parse("t.yaml", []byte(tc.src))
			require.Error(t, err)
			assert.Equal(t, tc.want, err.Error())
		})
	}
}

func TestErrorFormat(t *testing.T) {
	sentinel := errors.New("sentinel")
	cases := []struct {
		e    yamlx.Error
		want string
	}{
		{yamlx.Error{File: "f.yaml", Line: 3, Column: 7, Key: "types.v", Msg: "bad"}, "f.yaml:3:7: types.v: bad"},
		{yamlx.Error{File: "f.yaml", Line: 3, Column: 7, Msg: "bad"}, "f.yaml:3:7: bad"},
		{yamlx.Error{File: "f.yaml", Key: "k", Msg: "bad"}, "f.yaml: k: bad"},
		{yamlx.Error{File: "f.yaml", Msg: "bad"}, "f.yaml: bad"},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, tc.e.Error())
	}
	e := &yamlx.Error{File: "f", Msg: "m", Err: sentinel}
	assert.ErrorIs(t, e, sentinel)
	assert.NoError(t, (&yamlx.Error{}).Unwrap())
}

func TestErrorsSortedAndUnwrapped(t *testing.T) {
	sentinel := errors.New("sentinel")
	other := errors.New("other")
	d, root, err := yamlx.Parse("f.yaml", []byte("a: 1\nb: 2\nc: 3\n"))
	require.NoError(t, err)
	fields, _ := d.Map(root, "")
	// Recorded out of order; two at the same place keep their order.
	d.Errorf(fields[2].Value, "c", "third line")
	d.Errorf(fields[0].Value, "a", "first line, first")
	d.ErrorWrap(fields[0].Value, "a", other, "first line, second")
	d.Errorf(nil, "", "whole document")
	d.Errorf(fields[1].KeyNode, "b", "second line, column 1")
	d.Errorf(fields[1].Value, "b", "second line, column 4")
	assert.True(t, d.Failed())
	d.Tag(sentinel)

	err = d.Err()
	require.Error(t, err)
	assert.Equal(t, strings.Join([]string{
		"f.yaml: whole document",
		"f.yaml:1:4: a: first line, first",
		"f.yaml:1:4: a: first line, second",
		"f.yaml:2:1: b: second line, column 1",
		"f.yaml:2:4: b: second line, column 4",
		"f.yaml:3:4: c: third line",
	}, "\n"), err.Error())

	var es yamlx.Errors
	require.ErrorAs(t, err, &es)
	require.Len(t, es, 6)
	assert.Len(t, es.Unwrap(), 6)
	assert.ErrorIs(t, err, sentinel)
	assert.ErrorIs(t, err, other, "a sentinel given with ErrorWrap is kept")
	assert.ErrorIs(t, es[0], sentinel)
	assert.NotErrorIs(t, es[2], sentinel, "Tag does not replace a sentinel")
	assert.ErrorIs(t, es[2], other)

	var one *yamlx.Error
	require.ErrorAs(t, err, &one)
	assert.Equal(t, "whole document", one.Msg)

	// Err returns a sorted copy: recording more later does not reorder what was returned.
	d.Errorf(fields[0].KeyNode, "a", "later")
	assert.Equal(t, "third line", es[5].Msg)
}

func TestNoErrors(t *testing.T) {
	d, _, err := yamlx.Parse("f.yaml", []byte("a: 1\n"))
	require.NoError(t, err)
	assert.False(t, d.Failed())
	assert.NoError(t, d.Err())
}

func TestErrorCap(t *testing.T) {
	var b strings.Builder
	for i := range 2 * yamlx.MaxErrors {
		fmt.Fprintf(&b, "k%d: 1\n", i)
	}
	d, root, err := yamlx.Parse("f.yaml", []byte(b.String()))
	require.NoError(t, err)
	_, ok := d.Map(root, "", "known")
	require.True(t, ok)
	var es yamlx.Errors
	require.ErrorAs(t, d.Err(), &es)
	assert.Len(t, es, yamlx.MaxErrors)
	assert.Equal(t, "f.yaml:1:1: k0: unknown key (known keys: known)", es[0].Error())
}

func TestPaths(t *testing.T) {
	assert.Equal(t, "a", yamlx.Join("", "a"))
	assert.Equal(t, "a.b", yamlx.Join("a", "b"))
	assert.Equal(t, "a[3]", yamlx.Index("a", 3))
	assert.Equal(t, "types.v.selection[0]", yamlx.Index(yamlx.Join(yamlx.Join("types", "v"), "selection"), 0))
}

func TestResolve(t *testing.T) {
	assert.Nil(t, yamlx.Resolve(nil))
	_, root, err := yamlx.Parse("f.yaml", []byte("a: &x {k: v}\nb: *x\n"))
	require.NoError(t, err)
	a, b := root.Content[1], root.Content[3]
	require.Equal(t, yaml.AliasNode, b.Kind)
	assert.Same(t, a, yamlx.Resolve(b))
	assert.Same(t, a, yamlx.Resolve(a))
}
