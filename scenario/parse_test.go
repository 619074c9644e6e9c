package scenario

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/voucherkit/voucherkit/providers"
	"github.com/voucherkit/voucherkit/voucher"
)

// Each file in testdata/invalid starts with "# want: LINE:COL: KEY: MESSAGE": the
// error Parse must report, after the file name.
func TestParseInvalidFiles(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".yaml"), func(t *testing.T) {
			data, err := os.ReadFile(f)
			require.NoError(t, err)
			first, _, _ := bytes.Cut(data, []byte("\n"))
			want, ok := strings.CutPrefix(string(first), "# want: ")
			require.True(t, ok, "first line must be '# want: LINE:COL: KEY: MESSAGE'")
			s, err := Parse(f, data)
			require.Error(t, err)
			assert.Nil(t, s)
			assert.True(t, errors.Is(err, ErrInvalid), "errors.Is(err, ErrInvalid)")
			var es Errors
			require.True(t, errors.As(err, &es), "want Errors, got %T", err)
			assert.Contains(t, err.Error(), f+":"+want)
		})
	}
}

const defaultsYAML = `
name: defaults
provider: aliyun
now: 2026-03-02
account: acct-1
wallet:
  - {id: v, type: voucher, amount: "100", expires_at: 2026-03-31}
  - {id: v-own, type: voucher, account: acct-2, amount: 50, balance: "20.5", issued_at: 2026-01-01}
  - {id: gift, type: voucher, code: G-1, status: pending_activation, amount: "50"}
  - {id: promo, type: promo_code, code: P10, percent_off: "10", max_redemptions: 3}
  - {id: c, type: coupon, amount: "30", claimed_at: 2026-03-01, first_purchase_only: false, order_types: [new], payment_types: [subscription]}
steps:
  - quote:
      id: q1
      type: new
      payment: subscription
      items: [{id: l1, product: ecs, amount: 12.50}]
  - checkout:
      id: o1
      account: acct-2
      type: renewal
      payment: pay_as_you_go
      first_purchase: true
      use: []
      codes: [P10]
      items: [{id: l1, product: ecs, amount: "0", currency: CNY}]
    at: 2026-03-03T10:00:00+08:00
    expect:
      applied: {}
      rejected: {P10: payment_type}
  - reserve: {id: r1, type: new, payment: subscription, use: [v], items: [{id: l1, product: ecs, amount: "1"}]}
  - reserve: {id: r2, type: new, payment: subscription, items: [{id: l1, product: ecs, amount: "1"}]}
    hold: 15m
  - capture: {order: r1}
  - release: {order: r2}
  - refund: {order: o1}
  - refund: {order: o1, lines: [], consumed: "-1"}
  - refund: {order: o1, lines: [l1, l1]}
  - activate: {code: G-1}
  - activate: {code: G-1, account: acct-9}
  - advance: 2026-04-01
    expect:
      forfeited: {v: "100"}
      wallet: {v: {balance: "100", held: "0", status: expired}, c: {status: expired}}
`

func TestParseDefaults(t *testing.T) {
	s, err := Parse("defaults.yaml", []byte(defaultsYAML))
	require.NoError(t, err)
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, shanghai) }

	assert.Equal(t, "defaults", s.Name)
	assert.Equal(t, "aliyun", s.Provider)
	assert.Equal(t, "aliyun", s.RuleSet.Name)
	assert.True(t, s.Now.Equal(day(2026, 3, 2)), "now: a date is the start of that day in the rule set's zone, got %s", s.Now)
	assert.Equal(t, "acct-1", s.Account)

	require.Len(t, s.Wallet, 5)
	v, own, gift, promo, c := s.Wallet[0], s.Wallet[1], s.Wallet[2], s.Wallet[3], s.Wallet[4]
	assert.Equal(t, "acct-1", v.Account, "account defaults to the scenario's")
	assert.Nil(t, v.Balance, "balance not given: nil, which is the face value")
	assert.True(t, v.CurrentBalance().Equal(decimal.NewFromInt(100)), "balance defaults to amount")
	require.NotNil(t, v.IssuedAt)
	assert.True(t, v.IssuedAt.Equal(s.Now), "issued_at defaults to now")
	require.NotNil(t, v.ExpiresAt)
	assert.True(t, v.ExpiresAt.Equal(day(2026, 4, 1)), "expires_at: a date is valid through the end of that day, got %s", v.ExpiresAt)
	assert.Equal(t, "", v.Currency, "currency: empty means the rule set's")

	assert.Equal(t, "acct-2", own.Account)
	assert.True(t, own.Amount.Equal(decimal.NewFromInt(50)), "a plain number is an amount")
	require.NotNil(t, own.Balance)
	assert.True(t, own.Balance.Equal(decimal.RequireFromString("20.5")))
	require.NotNil(t, own.IssuedAt)
	assert.True(t, own.IssuedAt.Equal(day(2026, 1, 1)))

	assert.Equal(t, "", gift.Account, "pending activation: no owner")
	assert.True(t, gift.PendingActivation)
	assert.Equal(t, "G-1", gift.Code)

	assert.Equal(t, "", promo.Account, "a typed-in type has no owner")
	assert.Equal(t, voucher.Ptr(3), promo.MaxRedemptions)
	require.NotNil(t, promo.PercentOff)
	assert.True(t, promo.PercentOff.Equal(decimal.NewFromInt(10)))
	assert.Nil(t, promo.MaxDiscount, "not given")
	assert.Nil(t, promo.MinSpend, "not given")

	require.NotNil(t, c.ClaimedAt)
	assert.True(t, c.ClaimedAt.Equal(day(2026, 3, 1)), "claimed_at: start of that day")
	assert.Nil(t, c.ExpiresAt)
	require.NotNil(t, c.FirstPurchaseOnly)
	assert.False(t, *c.FirstPurchaseOnly)
	assert.Equal(t, []voucher.OrderType{voucher.OrderNew}, c.OrderTypes)
	assert.Equal(t, []voucher.PaymentType{voucher.PaySubscription}, c.PaymentTypes)

}

func TestParseDefaultSteps(t *testing.T) {
	s, err := Parse("defaults.yaml", []byte(defaultsYAML))
	require.NoError(t, err)
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, shanghai) }

	require.Len(t, s.Steps, 12)
	q := s.Steps[0]
	assert.Equal(t, 1, q.N)
	assert.Equal(t, ActionQuote, q.Action)
	assert.Nil(t, q.At, "no at: the current clock")
	assert.Equal(t, "acct-1", q.Order.Account, "order account defaults to the scenario's")
	assert.Nil(t, q.Order.Use, "use omitted: automatic selection")
	assert.True(t, q.Order.Lines[0].Amount.Equal(decimal.RequireFromString("12.5")))
	assert.Equal(t, Expect{}, q.Expect)
	assert.Equal(t, "step 1 (quote q1)", q.Label())

	o := s.Steps[1]
	assert.Equal(t, "acct-2", o.Order.Account)
	assert.Equal(t, voucher.OrderRenewal, o.Order.Type)
	assert.Equal(t, voucher.PayAsYouGo, o.Order.Payment)
	assert.True(t, o.Order.FirstPurchase)
	assert.NotNil(t, o.Order.Use, "use: [] is an explicit empty choice")
	assert.Empty(t, o.Order.Use)
	assert.Equal(t, []string{"P10"}, o.Order.Codes)
	assert.Equal(t, "CNY", o.Order.Lines[0].Currency)
	require.NotNil(t, o.At)
	assert.True(t, o.At.Equal(time.Date(2026, 3, 3, 2, 0, 0, 0, time.UTC)))
	assert.NotNil(t, o.Expect.Applied)
	assert.Empty(t, o.Expect.Applied)
	assert.Equal(t, map[string]voucher.Reason{"P10": voucher.ReasonPaymentType}, o.Expect.Rejected)

	assert.Equal(t, DefaultHold, s.Steps[2].Hold, "reserve holds 30m by default")
	assert.Equal(t, []string{"v"}, s.Steps[2].Order.Use)
	assert.Equal(t, 15*time.Minute, s.Steps[3].Hold)
	assert.Equal(t, "r1", s.Steps[4].OrderID)
	assert.Equal(t, ActionCapture, s.Steps[4].Action)
	assert.Equal(t, "r2", s.Steps[5].OrderID)

	all := s.Steps[6].Refund
	assert.Equal(t, "o1", all.OrderID)
	assert.Nil(t, all.Lines, "no lines: every line not yet refunded")
	assert.Nil(t, all.Consumed, "no consumed: none")
	none := s.Steps[7].Refund
	assert.NotNil(t, none.Lines, "lines: [] stays an explicit empty list (invalid_refund at run time)")
	require.NotNil(t, none.Consumed)
	assert.True(t, none.Consumed.Equal(decimal.NewFromInt(-1)), "a negative consumed is the step's error, not the file's")
	assert.Equal(t, []string{"l1", "l1"}, s.Steps[8].Refund.Lines)

	assert.Equal(t, "G-1", s.Steps[9].Code)
	assert.Equal(t, "acct-1", s.Steps[9].Account, "activate defaults to the scenario's account")
	assert.Equal(t, "acct-9", s.Steps[10].Account)

	adv := s.Steps[11]
	assert.True(t, adv.To.Equal(day(2026, 4, 1)))
	assert.True(t, adv.Expect.Forfeited["v"].Equal(decimal.NewFromInt(100)))
	assert.Equal(t, voucher.StatusExpired, adv.Expect.Wallet["v"].Status)
	require.NotNil(t, adv.Expect.Wallet["v"].Held)
	assert.True(t, adv.Expect.Wallet["v"].Held.IsZero())
	assert.Nil(t, adv.Expect.Wallet["c"].Balance)
}

// What the spec makes a step error must parse, so that a scenario can test it.
func TestParseKeepsStepErrors(t *testing.T) {
	_, err := Parse("step-errors.yaml", []byte(`
name: step errors parse
provider: aliyun
now: 2026-03-02
steps:
  - quote: {id: q1, type: rental, payment: monthly, use: [a, a], codes: [X, X], items: []}
    expect: {error: invalid_order}
  - quote: {id: q2, type: new, payment: subscription, items: [{id: l1, product: ecs, amount: "-1"}, {id: l1, product: ecs, amount: "1", currency: USD}]}
    expect: {error: invalid_order}
  - hold: 5m
    advance: 2026-03-03
`))
	require.Error(t, err, "a hold on an advance is refused")
	assert.Contains(t, err.Error(), "step-errors.yaml:10:5: steps[2].hold: applies to reserve steps only, not to advance")
	assert.NotContains(t, err.Error(), "steps[0]")
	assert.NotContains(t, err.Error(), "steps[1]")
}

func TestParseReportsEveryProblem(t *testing.T) {
	_, err := Parse("many.yaml", []byte(`
name: many problems
provider: aliyun
now: yesterday
colour: blue
wallet:
  - {id: v, type: voucher, amount: "-5"}
steps:
  - quote: {id: q1, type: new, payment: subscription, items: [{id: l1, product: ecs, amount: "1"}], extra: 1}
`))
	require.Error(t, err)
	var es Errors
	require.True(t, errors.As(err, &es))
	msgs := err.Error()
	assert.Contains(t, msgs, "many.yaml:4:6: now: \"yesterday\" is not a time")
	assert.Contains(t, msgs, "many.yaml:5:1: colour: unknown key")
	assert.Contains(t, msgs, "many.yaml:7:36: wallet[0].amount: must not be negative")
	assert.Contains(t, msgs, "many.yaml:9:101: steps[0].quote.extra: unknown key")
	for i := 1; i < len(es); i++ {
		assert.LessOrEqual(t, es[i-1].Line, es[i].Line, "sorted by position")
	}
}

func TestParseProviderPath(t *testing.T) {
	s, err := Load("testdata/valid/own-rules.yaml")
	require.NoError(t, err)
	assert.Equal(t, "mini", s.RuleSet.Name)
	assert.Equal(t, "rules/mini.yaml", s.Provider)

	// The same file read from elsewhere, with its directory given.
	data, err := os.ReadFile("testdata/valid/own-rules.yaml")
	require.NoError(t, err)
	_, err = Parse("own-rules.yaml", data)
	require.Error(t, err, "relative to the file's own directory, which is now .")
	_, err = Parse("own-rules.yaml", data, WithDir("testdata/valid"))
	require.NoError(t, err)

	// WithRuleSet wins over built-ins and paths.
	aliyun, err := providers.Load("aliyun")
	require.NoError(t, err)
	s, err = Parse("own-rules.yaml", data, WithRuleSet("rules/mini.yaml", aliyun))
	require.Error(t, err, "mini's type 'gift' is not an aliyun type")
	assert.Nil(t, s)
	assert.Contains(t, err.Error(), `unknown instrument type "gift"`)
}

func TestLoadUnreadable(t *testing.T) {
	_, err := Load("testdata/no-such-file.yaml")
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrInvalid))
	assert.True(t, errors.Is(err, os.ErrNotExist))
}

func TestParseBrokenRuleSetFile(t *testing.T) {
	_, err := Load("testdata/valid/broken-rules.yaml")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `broken-rules.yaml:2:11: provider: rule set "rules/broken.yaml" is invalid:`)
	assert.Contains(t, err.Error(), "rules/broken.yaml:")
}

// A file Load cannot read is a sentence that wraps ErrInvalid and the reason.
func TestLoadMissingFile(t *testing.T) {
	_, err := Load("testdata/nosuch.yaml")
	require.Error(t, err)
	assert.Equal(t, "there is no file testdata/nosuch.yaml", err.Error())
	assert.ErrorIs(t, err, ErrInvalid)
	assert.ErrorIs(t, err, fs.ErrNotExist)
	assert.Equal(t, "invalid_file", voucher.ErrorCode(err))
}
