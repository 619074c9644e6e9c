package scenario

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A scenario's errors quote at most a short, escaped excerpt of a value; a name or an
// id longer than 200 characters is refused where it is written.
func TestParseErrorsQuoteAnExcerpt(t *testing.T) {
	mid := strings.Repeat("z", 150) // under the limit of a string, over an excerpt's
	x40 := `"` + strings.Repeat("z", 40) + `"…`
	src := fmt.Sprintf(`name: %s
provider: aliyun
now: 2026-03-02
wallet:
  - {id: v, type: "%s", amount: "1"}
  - {id: w, type: voucher, amount: "1", status: "%s"}
  - {id: "x\n%s", type: voucher, amount: "1"}
  - {id: u, type: voucher, amount: "1"}
steps:
  - quote: {id: q, type: new, payment: subscription, items: [{id: l1, product: ecs, amount: "1"}]}
    expect:
      rejected: {u: %s}
      lines: {%s: {cash: "1"}}
      applied: {%s: "1"}
  - quote: {id: q, type: new, payment: subscription, items: [{id: l1, product: ecs, amount: "1"}]}
    expect: {error: %s}
`, strings.Repeat("n", 1<<20), mid, mid, strings.Repeat("z", 300), mid, mid, mid, mid)
	_, err := Parse("t.yaml", []byte(src))
	require.Error(t, err)
	for _, l := range strings.Split(err.Error(), "\n") {
		assert.Less(t, len(l), 400, l)
	}
	for _, want := range []string{
		"t.yaml:1:7: name: is 1048576 characters long; the limit is 200",
		"t.yaml:5:19: wallet[0].type: unknown instrument type " + x40 + "; rule set aliyun defines",
		"t.yaml:6:49: wallet[1].status: only pending_activation may be given, got " + x40 + ":",
		"t.yaml:7:10: wallet[2].id: is 302 characters long; the limit is 200",
		"t.yaml:12:21: steps[0].expect.rejected.u: unknown rejection reason " + x40 + "; want",
		"t.yaml:13:15: steps[0].expect.lines.zzzzz",
		"the order has no line " + x40 + "; its lines are l1",
		"t.yaml:14:17: steps[0].expect.applied.zzzz",
		x40 + " is not an instrument id of the wallet",
		"t.yaml:16:21: steps[1].expect.error: quote steps fail with one of clock_backwards, invalid_order, currency_mismatch, unknown_instrument, code_not_found, not " + x40,
	} {
		assert.Contains(t, err.Error(), want)
	}
}
