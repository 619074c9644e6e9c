package scenario

import (
	"context"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/voucherkit/voucherkit/providers"
	"github.com/voucherkit/voucherkit/rules"
	"github.com/voucherkit/voucherkit/store/memory"
	"github.com/voucherkit/voucherkit/voucher"
)

// The wallet is granted in one step; when that is refused, each refused instrument is
// named, and each is tried against exactly the ones before it that were granted.
func TestRunnerGrantNamesEachRefusal(t *testing.T) {
	rs, err := providers.Load("aliyun")
	require.NoError(t, err)
	eng, err := rules.NewEngine(rs)
	require.NoError(t, err)
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	w := voucher.NewWallet(eng, memory.New())
	v := func(id string) voucher.Instrument {
		return voucher.Instrument{ID: id, Type: "voucher", Account: "acct", Amount: decimal.NewFromInt(10)}
	}
	// b and d are in the store already, so granting them again is refused.
	require.NoError(t, w.GrantAll(ctx, []voucher.Instrument{v("b"), v("d")}, now))

	rn := &runner{ctx: ctx, w: w, now: now}
	var r Result
	rn.grant(&r, []voucher.Instrument{v("a"), v("b"), v("c"), v("d"), v("e")}, now)
	require.Len(t, r.Mismatches, 2)
	assert.Equal(t, "wallet.b", r.Mismatches[0].Key)
	assert.Equal(t, "wallet.d", r.Mismatches[1].Key)
	for _, id := range []string{"a", "c", "e"} {
		_, ok, err := w.Instrument(ctx, id)
		require.NoError(t, err)
		assert.True(t, ok, "instrument %s was accepted and should be granted", id)
	}

	// Past maxGrantFailures refusals it stops looking.
	var many []voucher.Instrument
	for range maxGrantFailures + 5 {
		many = append(many, v("b"))
	}
	var r2 Result
	rn.grant(&r2, many, now)
	assert.Len(t, r2.Mismatches, maxGrantFailures)
}
