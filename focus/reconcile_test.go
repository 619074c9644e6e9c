package focus_test

import (
	"context"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
	"github.com/voucherkit/voucherkit/focus"
	"github.com/voucherkit/voucherkit/rules"
	"github.com/voucherkit/voucherkit/voucher"
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func TestReconcileLevels(t *testing.T) {
	sep := time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC)
	c := func(account, service, sku, amount string) focus.Credit {
		return focus.Credit{BillingAccountID: "B", Start: sep, Account: account, ServiceName: service, SKU: sku, Amount: dec(amount)}
	}
	expected := []focus.Credit{c("a1", "EC2", "sku-usage", "2.61"), c("a2", "S3", "s", "1.00")}
	actual := []focus.Credit{c("a1", "EC2", "sku-credit", "2.61"), c("a2", "S3", "s", "0.99")}

	r := focus.Reconcile(expected, actual, focus.BySKU)
	require.False(t, r.Matches())
	require.Equal(t, 3, r.Differ)
	require.Len(t, r.Lines, 3)
	require.Equal(t, "sku-credit", r.Lines[0].SKU)
	require.Equal(t, "2.61", r.Lines[0].Difference.String())
	require.Equal(t, "-2.61", r.Lines[1].Difference.String())
	require.Equal(t, "-0.01", r.Lines[2].Difference.String())
	require.Equal(t, "3.61", r.Expected.String())
	require.Equal(t, "3.6", r.Actual.String())

	r = focus.Reconcile(expected, actual, focus.ByService)
	require.Equal(t, 1, r.Differ, "per service the EC2 credit matches")
	require.True(t, r.Lines[0].Match)
	require.Contains(t, r.Text(), "1 of 2 lines differ")

	r = focus.Reconcile(expected, expected, focus.BySKU)
	require.True(t, r.Matches())
	require.Contains(t, r.Text(), "0 of 2 lines differ")

	// Different periods never cancel out.
	later := c("a2", "S3", "s", "1.00")
	later.Start = sep.AddDate(0, 1, 0)
	r = focus.Reconcile(expected[1:], []focus.Credit{later}, focus.ByAccount)
	require.Equal(t, 2, r.Differ)

	_, err := focus.ParseLevel("region")
	require.ErrorContains(t, err, `unknown level "region"`)
}

// TestSettleTheSampleBySpendDesc settles the sample's AWS September 2024 bill with the
// engine's own Settle and an AWS credit owned by an account outside the file, as the
// sample's one Credit row is ("credit from account: 391835788720"), and shows where
// spend_desc puts it: the account with the most to pay (11353890204, 16.22 of the
// bill's 20.63 after rounding), its largest service (Amazon Elastic Compute Cloud,
// 16.18), and that service's largest SKU (4GQWNPC9K2PZAY97, 10.20) — the account and
// service the provider's own Credit row names.
func TestSettleTheSampleBySpendDesc(t *testing.T) {
	res, rs := awsImport(t, focus.Options{Payers: map[string]string{"1234567890123": "391835788720"}})
	e, err := rules.NewEngine(rs)
	require.NoError(t, err)
	qs, err := focus.Settle(context.Background(), e, res,
		[]voucher.Instrument{credit("open-source", "391835788720", "2.61")}, res.Bills[0].Start)
	require.NoError(t, err)
	got := focus.CreditsFromQuote(res.Bills[0], qs[0])
	require.Len(t, got, 1, "2.61 fits in the largest SKU's 10.20")
	require.Equal(t, "11353890204", got[0].Account)
	require.Equal(t, "Amazon Elastic Compute Cloud", got[0].ServiceName)
	require.Equal(t, "4GQWNPC9K2PZAY97", got[0].SKU)
	require.Equal(t, "2.61", got[0].Amount.String())
	r := focus.Reconcile(got, res.Credits, focus.ByService)
	require.True(t, r.Matches(), r.Text())
	r = focus.Reconcile(got, res.Credits, focus.BySKU)
	require.Equal(t, 2, r.Differ, "AWS books the credit under the credit's own SKU (S78KHHH96AJF23KZ), not the usage SKU it paid")
}
