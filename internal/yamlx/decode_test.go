package yamlx_test

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/voucherkit/voucherkit/internal/yamlx"
)

type color string

func init() { yamlx.RegisterEnum[color]("color", "red", "green") }

type item struct {
	ID     string          `yaml:"id" check:"required,nonempty" doc:"the id"`
	Amount decimal.Decimal `yaml:"amount" check:"negative"`
}

type model struct {
	Name   string                  `yaml:"name" check:"required,nonempty"`
	Zone   *string                 `yaml:"zone" check:"zone"`
	When   *time.Time              `yaml:"when" check:"end"`
	Count  int                     `yaml:"count" check:"min=1,max=3"`
	Color  *color                  `yaml:"color"`
	Tags   []string                `yaml:"tags" empty:"must list a tag"`
	Use    []string                `yaml:"use" check:"dups"`
	Items  []item                  `yaml:"items"`
	ByID   yamlx.Entries[item]     `yaml:"by_id"`
	Wait   *time.Duration          `yaml:"wait"`
	Flag   bool                    `yaml:"flag"`
	Ignore string                  `yaml:"-"`
	Extra  yamlx.Entries[[]string] `yaml:"extra"`
}

func decode(t *testing.T, src string) (*yamlx.Ctx, model, []string) {
	t.Helper()
	d, root, err := yamlx.Parse("m.yaml", []byte(src))
	require.NoError(t, err)
	c := yamlx.NewCtx(d)
	var m model
	yamlx.Decode(c, root, "", &m)
	var msgs []string
	if err := d.Err(); err != nil {
		for _, e := range err.(yamlx.Errors) {
			msgs = append(msgs, e.Error())
		}
	}
	return c, m, msgs
}

func TestDecodeValues(t *testing.T) {
	c, m, errs := decode(t, `
name: n
zone: Asia/Shanghai
when: 2026-03-02
count: 2
color: green
tags: [a, b]
use: [x, x]
items: [{id: i1, amount: "-1.50"}]
by_id: {z: {id: z1}, a: {id: a1}}
wait: 30d
flag: true
`)
	require.Empty(t, errs)
	assert.Equal(t, "n", m.Name)
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	assert.True(t, m.When.Equal(time.Date(2026, 3, 3, 0, 0, 0, 0, shanghai)), "end: through the end of the day, in the zone decoded before it")
	assert.Equal(t, 2, m.Count)
	assert.Equal(t, color("green"), *m.Color)
	assert.Equal(t, []string{"x", "x"}, m.Use, "dups keeps duplicates")
	assert.True(t, m.Items[0].Amount.Equal(decimal.RequireFromString("-1.5")))
	require.Len(t, m.ByID, 2)
	assert.Equal(t, "z", m.ByID[0].Key, "document order")
	assert.Equal(t, "by_id.z", m.ByID[0].Path)
	assert.Equal(t, 30*24*time.Hour, *m.Wait)
	assert.True(t, m.Flag)
	assert.Nil(t, m.Extra)

	// Positions of every key path decoded, for errors found later.
	assert.Equal(t, 9, c.Node("items[0].amount").Line)
	assert.Equal(t, 9, c.Node("items[0].amount.whatever").Line, "the nearest enclosing node")
	assert.Equal(t, 10, c.KeyNode("by_id.a").Line)
	assert.Nil(t, c.KeyNode("by_id.b"))
	assert.True(t, c.Has("flag"))
	assert.False(t, c.Has("ignore"))
}

func TestDecodeErrors(t *testing.T) {
	_, m, errs := decode(t, `
zone: Local
count: 9
color: blue
tags: []
use: []
items: [{amount: "1"}, 5]
wait: soon
flag: 1
nope: 1
`)
	assert.Equal(t, []string{
		"m.yaml:2:1: name: is required",
		"m.yaml:2:7: zone: unknown time zone \"Local\"; want an IANA name such as Asia/Shanghai or UTC",
		"m.yaml:3:8: count: must be between 1 and 3, got 9",
		"m.yaml:4:8: color: unknown color \"blue\"; want red or green",
		"m.yaml:5:7: tags: must list a tag",
		"m.yaml:7:9: items[0].id: is required",
		"m.yaml:7:24: items[1]: must be a mapping, got int \"5\"",
		"m.yaml:8:7: wait: invalid duration: \"soon\" is not a positive duration such as \"15m\" or \"30d\"",
		"m.yaml:9:7: flag: must be true or false, got int \"1\"",
		"m.yaml:10:1: nope: unknown key (known keys: name, zone, when, count, color, tags, use, items, by_id, wait, flag, extra)",
	}, errs)
	assert.Nil(t, m.Zone, "a value that cannot be read is nil")
	assert.Nil(t, m.Color)
	assert.NotNil(t, m.Use, "use: [] is an explicit, empty list")
	assert.Len(t, m.Items, 2, "list items that are mappings with problems are kept, so indices match")
}

func TestSchemaOfModel(t *testing.T) {
	s := yamlx.Schema(model{}, "m", "a model")
	assert.Equal(t, "m", s["title"])
	assert.Equal(t, []string{"name"}, s["required"])
	props := s["properties"].(map[string]any)
	assert.Equal(t, []string{"red", "green"}, props["color"].(map[string]any)["enum"])
	assert.Equal(t, 1, props["count"].(map[string]any)["minimum"])
	assert.Equal(t, true, props["tags"].(map[string]any)["uniqueItems"])
	assert.Nil(t, props["use"].(map[string]any)["uniqueItems"], "dups allows duplicates")
	item := props["items"].(map[string]any)["items"].(map[string]any)
	assert.Equal(t, "the id", item["properties"].(map[string]any)["id"].(map[string]any)["description"])
	assert.Equal(t, false, item["additionalProperties"])
	assert.NotContains(t, props, "ignore")
	assert.Equal(t, []string{"name", "zone", "when", "count", "color", "tags", "use", "items", "by_id", "wait", "flag", "extra"}, yamlx.Fields(model{}))
}

func TestAssign(t *testing.T) {
	type file struct {
		ID     string
		Amount *decimal.Decimal
		Cap    *decimal.Decimal
		Note   *string
		Only   int
	}
	type domain struct {
		ID     string
		Amount decimal.Decimal
		Cap    *decimal.Decimal
		Note   string
		Other  bool
	}
	ten := decimal.NewFromInt(10)
	var d domain
	yamlx.Assign(&d, file{ID: "x", Amount: &ten, Cap: &ten, Only: 3})
	assert.Equal(t, "x", d.ID)
	assert.True(t, d.Amount.Equal(ten), "a pointer is copied into its value")
	assert.Same(t, &ten, d.Cap, "a pointer into a pointer")
	assert.Equal(t, "", d.Note, "a nil pointer is not copied")
	assert.False(t, d.Other)
}
