package settletest_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/voucherkit/voucherkit/store/memory"
	"github.com/voucherkit/voucherkit/voucher"
)

// TestWalletSettlesAndRefundsVerify: an organization settles March, April and May on
// the memory store, with refunds of random charges after each settle; after every
// step the wallet's ledger and balances agree (Wallet.Verify), and each settle's
// figures add up.
func TestWalletSettlesAndRefundsVerify(t *testing.T) {
	e := awsEngine(t)
	ctx := context.Background()
	for seed := range uint64(300) {
		g := newGen(seed)
		w := voucher.NewWallet(e, memory.New())
		org := g.org(true)
		require.NoError(t, w.PutOrganization(ctx, org, start.Add(-48*time.Hour)), "seed %d", seed)
		for _, in := range g.credits(10, org.Accounts(), true) {
			require.NoError(t, w.Grant(ctx, in, start.Add(-24*time.Hour)), "seed %d %s", seed, in.ID)
		}
		for month := range 3 {
			from, to := start.AddDate(0, month, 0), start.AddDate(0, month+1, 0)
			b := voucher.Bill{ID: from.Format("bill-2006-01"), Start: from, End: to, Organization: org.ID,
				Charges: g.charges(25, org.MembersDuring(from, to))}
			for i := range b.Charges {
				c := &b.Charges[i]
				c.IncurredAt = from.Add(c.IncurredAt.Sub(start))
				if !c.IncurredAt.Before(to) {
					c.IncurredAt = from
				}
			}
			res, err := w.Settle(ctx, b)
			require.NoError(t, err, "seed %d %s", seed, b.ID)
			checkFigures(t, seed, res.Quote)
			require.NoError(t, w.Verify(ctx), "seed %d after %s", seed, b.ID)
			refundSome(t, ctx, g, w, seed, &b)
		}
	}
}

// refundSome refunds a random part of bill b's charges, once or twice, at its period's
// last instant, and verifies the wallet after each.
func refundSome(t *testing.T, ctx context.Context, g *gen, w *voucher.Wallet, seed uint64, b *voucher.Bill) {
	t.Helper()
	left := make([]string, len(b.Charges))
	for i, c := range b.Charges {
		left[i] = c.ID
	}
	for range g.r.IntN(3) {
		var lines []string
		for _, id := range left {
			if g.r.IntN(3) == 0 {
				lines = append(lines, id)
			}
		}
		if len(lines) == 0 {
			continue
		}
		_, err := w.Refund(ctx, voucher.RefundRequest{OrderID: b.ID, Lines: lines}, b.At())
		require.NoError(t, err, "seed %d refund of %s %v", seed, b.ID, lines)
		left = slices.DeleteFunc(left, func(id string) bool { return slices.Contains(lines, id) })
		require.NoError(t, w.Verify(ctx), "seed %d after refunding %v of %s", seed, lines, b.ID)
	}
}

// An account of an organization settles alone only for a period it is a member at no
// time of; and a not_shared rejection says why.
func TestWalletSettleAloneAndNotSharedDetail(t *testing.T) {
	e := awsEngine(t)
	ctx := context.Background()
	w := voucher.NewWallet(e, memory.New())
	joined := time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC)
	org := voucher.Organization{ID: "fam", Payer: "acct-p", Members: []voucher.Member{{Account: "joiner", JoinedAt: &joined}, {Account: "acct-a"}},
		Sharing: []voucher.SharingChange{{Sharing: voucher.Sharing{Accounts: []string{"acct-a"}}}}}
	require.NoError(t, w.PutOrganization(ctx, org, start.Add(-24*time.Hour)))
	off := false
	for _, in := range []voucher.Instrument{
		{ID: "pc", Type: "credit", Account: "acct-p", Amount: decimal.NewFromInt(10), Shared: &off},
		{ID: "jc", Type: "credit", Account: "joiner", Amount: decimal.NewFromInt(10)},
		{ID: "ac", Type: "credit", Account: "acct-a", Amount: decimal.NewFromInt(10), Products: []string{"s3"}},
	} {
		require.NoError(t, w.Grant(ctx, in, start.Add(-24*time.Hour)))
	}
	charge := func(id, acct, product string) voucher.Charge {
		return voucher.Charge{Line: voucher.Line{ID: id, Product: product, Amount: decimal.NewFromInt(5)}, Account: acct, IncurredAt: start.Add(20 * 24 * time.Hour)}
	}
	feb := voucher.Bill{ID: "joiner-feb", Start: start.AddDate(0, -1, 0), End: start, Account: "joiner", Charges: []voucher.Charge{charge("j1", "joiner", "ec2")}}
	feb.Charges[0].IncurredAt = feb.Start
	res, err := w.Settle(ctx, feb)
	require.NoError(t, err, "before joining, the joiner settles alone")
	assert.Equal(t, "5.00", res.Quote.Deducted.Format())

	mar := voucher.Bill{ID: "joiner-mar", Start: start, End: end, Account: "joiner", Charges: []voucher.Charge{charge("j1", "joiner", "ec2")}}
	_, err = w.Settle(ctx, mar)
	require.ErrorIs(t, err, voucher.ErrInvalidOrder, "a member during March is on the organization's bill")
	assert.Contains(t, err.Error(), `account "joiner" is a member of organization "fam" during the period`)

	bill := voucher.Bill{ID: "fam-mar", Start: start, End: end, Organization: "fam",
		Charges: []voucher.Charge{charge("a1", "acct-a", "ec2"), charge("j2", "joiner", "s3")}}
	res, err = w.Settle(ctx, bill)
	require.NoError(t, err)
	details := map[string]string{}
	for _, r := range res.Quote.Rejections {
		require.Equal(t, voucher.ReasonNotShared, r.Reason, r.Key)
		details[r.Key] = r.Detail
	}
	assert.Equal(t, map[string]string{
		"pc": "none of the charges in its scope is one it may pay: sharing is off for this credit",
		"jc": "none of the charges in its scope is one it may pay: joiner joined organization fam after the period began: its credits pay its own charges from before joining",
		"ac": "none of the charges in its scope is one it may pay: sharing is off for joiner in organization fam",
	}, details)
}
