package rules_test

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/voucherkit/voucherkit/providers"
	"github.com/voucherkit/voucherkit/rules"
	"github.com/voucherkit/voucherkit/voucher"
)

// WithOthersListed lists another account's instrument as not_owner; by default it is
// left out of the quote.
func TestOthersListed(t *testing.T) {
	rs, err := providers.Load("aliyun")
	require.NoError(t, err)
	order := voucher.Order{ID: "o", Account: "a", Type: voucher.OrderNew, Payment: voucher.PaySubscription,
		Lines: []voucher.Line{{ID: "l1", Product: "ecs", Amount: decimal.NewFromInt(100)}}}
	wallet := []voucher.Instrument{
		{ID: "mine", Type: "voucher", Account: "a", Amount: decimal.NewFromInt(10)},
		{ID: "theirs", Type: "voucher", Account: "b", Amount: decimal.NewFromInt(10)},
	}
	at := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

	quiet, err := rules.NewEngine(rs)
	require.NoError(t, err)
	q, err := quiet.Quote(order, wallet, at)
	require.NoError(t, err)
	_, listed := q.Rejected("theirs")
	assert.False(t, listed, "by default another account's instrument is not mentioned")

	all, err := rules.NewEngine(rs, rules.WithOthersListed(true))
	require.NoError(t, err)
	q2, err := all.Quote(order, wallet, at)
	require.NoError(t, err)
	r, listed := q2.Rejected("theirs")
	require.True(t, listed)
	assert.Equal(t, voucher.ReasonNotOwner, r.Reason)
	assert.Equal(t, q.Figures, q2.Figures, "listing changes nothing else")
	_, applied := q2.Applied("mine")
	assert.True(t, applied)
}
