package rules_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/voucherkit/voucherkit/rules"
)

// A rule set's errors quote at most a short, escaped excerpt of a value, however long.
func TestLoadErrorsQuoteAnExcerpt(t *testing.T) {
	long := strings.Repeat("z", 5000)
	mid := strings.Repeat("z", 150) // under the limit of a string, over an excerpt's
	x40 := `"` + strings.Repeat("z", 40) + `"…`
	src := `name: t
currency: CNY
description: ` + long + `
rounding: ` + mid + `
time_zone: "Asia/` + long + `"
stages:
  - {name: s, kind: "` + long + `"}
types:
  ? "t\n` + long + `"
  : {stage: s}
  v:
    stage: "` + long + `"
    allocation: ` + mid + `
    selection: [` + long + `]
    order_types: [` + long + `]
    payment_types: [` + long + `]
    refund: ` + mid + `
`
	_, err := rules.Parse("t.yaml", []byte(src))
	require.Error(t, err)
	lines := strings.Split(err.Error(), "\n")
	for _, l := range lines {
		assert.Less(t, len(l), 300, l)
	}
	for _, want := range []string{
		"t.yaml:4:11: rounding: unknown rounding " + x40 + "; want",
		`t.yaml:5:12: time_zone: is 5005 characters long; the limit is 200`,
		"t.yaml:7:21: stages[0].kind: is 5000 characters long; the limit is 200",
		`t.yaml:9:5: types."t\n` + strings.Repeat("z", 38) + `"…: type name "t\n` + strings.Repeat("z", 38) + `"… must be lower-case letters, digits and underscores`,
		"t.yaml:12:12: types.v.stage: is 5000 characters long; the limit is 200",
		"t.yaml:13:17: types.v.allocation: unknown allocation " + x40 + "; want",
		"t.yaml:14:17: types.v.selection[0]: is 5000 characters long; the limit is 200",
		"t.yaml:17:13: types.v.refund: unknown refund rule " + x40 + "; want",
	} {
		assert.Contains(t, err.Error(), want)
	}
	assert.NotContains(t, err.Error(), "description", "a long description is fine")
}
