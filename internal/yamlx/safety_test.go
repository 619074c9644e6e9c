package yamlx_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/voucherkit/voucherkit/internal/yamlx"
)

const secret = "SECRET_TOKEN=hunter2"

// passwd is /etc/passwd-like text with a secret line past the first 40 characters.
var passwd = "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n" + secret + "\n"

// An error quotes at most a short, escaped excerpt of the value it could not read:
// never a whole file, never a raw control character.
func TestErrorsQuoteAnExcerpt(t *testing.T) {
	long := strings.Repeat("x", 64<<10) // one long line
	x40 := `"` + strings.Repeat("x", 40) + `"…`
	cases := []struct {
		name string
		src  string
		read func(d *yamlx.Doc, v map[string]*yaml.Node)
		want string
	}{
		{"a mapping expected, a file's text found", "a: |\n" + indent(passwd), func(d *yamlx.Doc, v map[string]*yaml.Node) {
			d.Map(v["a"], "a")
		}, `t.yaml:1:4: a: must be a mapping, got str "root:x:0:0:root:/root:/bin/bash\ndaemon:x"…`},
		{"a 7 MB line where a mapping goes", "a: " + long + "\n", func(d *yamlx.Doc, v map[string]*yaml.Node) {
			d.Seq(v["a"], "a")
		}, `t.yaml:1:4: a: must be a list, got str ` + x40},
		{"bool", "a: " + long + "\n", func(d *yamlx.Doc, v map[string]*yaml.Node) {
			d.Bool(v["a"], "a")
		}, `t.yaml:1:4: a: must be true or false, got str ` + x40},
		{"decimal", "a: \"12\\x01" + strings.Repeat("9", 50) + "\"\n", func(d *yamlx.Doc, v map[string]*yaml.Node) {
			d.Decimal(v["a"], "a", false)
		}, `t.yaml:1:4: a: must be a decimal amount such as "12.50", got "12\x01` + strings.Repeat("9", 37) + `"…`},
		{"time", "a: " + long + "\n", func(d *yamlx.Doc, v map[string]*yaml.Node) {
			d.Time(v["a"], "a", time.UTC, yamlx.StartOfDay)
		}, `t.yaml:1:4: a: ` + x40 + ` is not a time: want RFC 3339 with an offset (2026-03-02T10:00:00+08:00) or a date (2026-03-02)`},
		{"duration", "a: " + strings.Repeat("9", 100) + "d\n", func(d *yamlx.Doc, v map[string]*yaml.Node) {
			d.Duration(v["a"], "a")
		}, `t.yaml:1:4: a: invalid duration: "` + strings.Repeat("9", 40) + `"… is not a positive number of days such as "30d"`},
		{"a name listed twice", "a: [\"n\\e" + strings.Repeat("y", 60) + "\", \"n\\e" + strings.Repeat("y", 60) + "\"]\n", func(d *yamlx.Doc, v map[string]*yaml.Node) {
			d.StringList(v["a"], "a")
		}, `t.yaml:1:72: a[1]: "n\x1b` + strings.Repeat("y", 38) + `"… is listed twice`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, v := doc(t, tc.src)
			tc.read(d, v)
			got := errs(d)
			require.Len(t, got, 1)
			assert.Equal(t, tc.want, got[0])
			assert.NotContains(t, got[0], secret)
		})
	}
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n  ") + "\n"
}

// A key is part of an error's key path: a long or unprintable one is quoted and cut.
func TestKeyPathsAreBounded(t *testing.T) {
	long := strings.Repeat("k", 64<<10)
	d, root, err := yamlx.Parse("t.yaml", []byte("ok: 1\n? "+long+"\n: 2\n\"a\\nb\": 3\n"))
	require.NoError(t, err)
	d.Map(root, "top", "ok")
	assert.Equal(t, []string{
		`t.yaml:2:3: top."` + strings.Repeat("k", 40) + `"…: unknown key (known keys: ok)`,
		`t.yaml:4:1: top."a\nb": unknown key (known keys: ok)`,
	}, errs(d))
	assert.Equal(t, "a.b-c_d 1", yamlx.Join("a", "b-c_d 1"), "a plain key is shown as it is")
}

// yaml.v3 names an unknown anchor in its message; the name is quoted and cut.
func TestSyntaxErrorQuotesAnExcerpt(t *testing.T) {
	name := strings.Repeat("n", 64<<10)
	_, _, err := yamlx.Parse("t.yaml", []byte("a: *"+name+"\n"))
	require.Error(t, err)
	assert.Equal(t, `t.yaml: invalid YAML: unknown anchor "`+strings.Repeat("n", 40)+`"… referenced`, err.Error())
}

// Binary garbage and a 7 MB single line parse to short errors, quickly.
func TestGarbageGivesShortErrors(t *testing.T) {
	garbage := make([]byte, 7<<20)
	for i := range garbage {
		garbage[i] = byte(i*131 + i>>8)
	}
	inputs := map[string][]byte{
		"binary":      garbage,
		"one line":    []byte(strings.Repeat("x", 7<<20)),
		"passwd":      []byte(passwd),
		"quoted line": []byte(`"` + strings.Repeat("\\x01", 1<<20) + `"`),
	}
	for name, data := range inputs {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			d, root, err := yamlx.Parse("t.yaml", data)
			if err == nil {
				d.Map(root, "")
				err = d.Err()
			}
			assert.Less(t, time.Since(start), timeBudget)
			require.Error(t, err)
			assert.Less(t, len(err.Error()), 300, err.Error())
			assert.NotContains(t, err.Error(), secret)
			assert.NotContains(t, err.Error(), "\x01")
		})
	}
}

// Names and ids are at most MaxString characters: a file cannot make a report or an
// error print a 7 MB name.
func TestStringLimit(t *testing.T) {
	ok200 := strings.Repeat("云", 200)
	d, v := doc(t, fmt.Sprintf("a: %s\nb: %s\nc: %s\n", ok200, ok200+"x", strings.Repeat("x", 1<<20)))
	s, ok := d.String(v["a"], "a")
	assert.True(t, ok)
	assert.Equal(t, ok200, s)
	_, ok = d.NonEmptyString(v["b"], "b")
	assert.False(t, ok)
	_, ok = d.String(v["c"], "c")
	assert.False(t, ok)
	assert.Equal(t, []string{
		"t.yaml:2:4: b: is 201 characters long; the limit is 200",
		"t.yaml:3:4: c: is 1048576 characters long; the limit is 200",
	}, errs(d))
}

// A document with too many nodes is too large; aliases are named only when it is their
// expansion that goes over the limit.
func TestNodeLimitMessage(t *testing.T) {
	var b strings.Builder
	b.WriteString("a: &x [1]\nb: *x\nsteps:\n")
	for range yamlx.MaxNodes {
		b.WriteString("  - 1\n")
	}
	const plain = "document is too large: it has more than the limit of 200000 nodes (keys, values, list items)"
	// 1 mapping, a, [1], 1, b, *x, [1], 1, steps, the list: item 199991, on line 199994, is one
	// too many; without b, item 199995.
	_, _, err := yamlx.Parse("t.yaml", []byte(b.String()))
	assert.EqualError(t, err, "t.yaml:199994:5: "+plain)
	noAlias := strings.Replace(b.String(), "b: *x\n", "", 1)
	_, _, err = yamlx.Parse("t.yaml", []byte(noAlias))
	assert.EqualError(t, err, "t.yaml:199997:5: "+plain)

	bomb := "a: &x [" + strings.Repeat("1, ", 999) + "1]\nb: [" + strings.Repeat("*x, ", 299) + "*x]\n"
	_, _, err = yamlx.Parse("t.yaml", []byte(bomb))
	assert.EqualError(t, err, "t.yaml:1:1799: document is too large: its aliases expand it to more than the limit of 200000 nodes (keys, values, list items)")
}
