package scenario

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/voucherkit/voucherkit/providers"
)

// A report shows names and ids as they are, unless they hold a control character (then
// quoted and escaped: no forged line, no terminal escape) or are absurdly long (then an
// excerpt). The ids compared are the exact ones.
func TestReportShowsNamesAndIdsSafely(t *testing.T) {
	src := `name: "colours \e[31m red\nok    forged.yaml"
provider: aliyun
now: 2026-03-02
wallet:
  - {id: "v\n1", type: voucher, amount: "100"}
steps:
  - checkout:
      id: "o\n1"
      type: new
      payment: subscription
      items: [{id: "l\r1", product: ecs, amount: "30"}]
    expect:
      cash: "1"
      applied: {"v\n1": "29"}
      lines: {"l\r1": {cash: "1"}}
      wallet: {"v\n1": {balance: "71"}}
`
	s, err := Parse("t.yaml", []byte(src))
	require.NoError(t, err)
	assert.Equal(t, "o\n1", s.Steps[0].Order.ID, "ids are kept exact")
	res := Run(s)
	assert.Equal(t, `FAIL  t.yaml  ("colours \x1b[31m red\nok    forged.yaml")
    step 1 (checkout "o\n1"): cash: expected 1, got 0.00
    step 1 (checkout "o\n1"): applied."v\n1": expected 29, got 30.00
    step 1 (checkout "o\n1"): lines."l\r1".cash: expected 1, got 0.00
    step 1 (checkout "o\n1"): wallet."v\n1".balance: expected 71, got 70.00
`, res.Report())
	assert.Equal(t, `applied."v\n1"`, res.Mismatches[1].Key)

	// A Result built by hand is bounded too.
	r := Result{File: "f.yaml", Name: strings.Repeat("n", 1<<20),
		Mismatches: []Mismatch{{Step: 1, Label: stepLabel(1, ActionCapture, strings.Repeat("o", 1<<20)), Key: "error", Expected: "no error", Got: "x"}}}
	n40, o40 := `"`+strings.Repeat("n", 40)+`"…`, `"`+strings.Repeat("o", 40)+`"…`
	assert.Equal(t, "FAIL  f.yaml  ("+n40+")\n    step 1 (capture "+o40+"): error: expected no error, got x\n", r.Report())
}

// Wallet entries that comparing rule sets leaves out are listed safely too: they are
// not read, so nothing else bounds them.
func TestParseWalletForListsSkippedSafely(t *testing.T) {
	aws, err := providers.Load("aws")
	require.NoError(t, err)
	long := strings.Repeat("t", 64<<10)
	src := "- {id: \"c\\n1\", type: \"vou\\ncher\"}\n- {id: c2, type: " + long + "}\n- {id: c3, type: credit, amount: \"5\"}\n"
	insts, skipped, err := ParseWalletFor("w.yaml", []byte(src), aws, "a", time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	assert.Len(t, insts, 1)
	assert.Equal(t, []string{`"c\n1" ("vou\ncher")`, `c2 ("` + strings.Repeat("t", 40) + `"…)`}, skipped)
}
