package focus_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
	"github.com/voucherkit/voucherkit/focus"
	"github.com/voucherkit/voucherkit/rules"
	"github.com/voucherkit/voucherkit/voucher"
)

// The engine settles bills.
var _ voucher.BillPricer = (*rules.Engine)(nil)

func credit(id, account, amount string) voucher.Instrument {
	return voucher.Instrument{ID: id, Type: "credit", Account: account, Amount: decimal.RequireFromString(amount)}
}

// settledSample settles the sample's AWS bill with two credits of the payer (the
// billing account, by default).
func settledSample(t *testing.T) (*focus.Result, []*voucher.Quote) {
	t.Helper()
	res, rs := awsImport(t, focus.Options{})
	e, err := rules.NewEngine(rs)
	require.NoError(t, err)
	start := res.Bills[0].Start
	qs, err := focus.Settle(context.Background(), e, res,
		[]voucher.Instrument{credit("promo-5", "1234567890123", "5"), credit("oss-1", "1234567890123", "1.25")}, start)
	require.NoError(t, err)
	return res, qs
}

// normal is c with its amounts in canonical form and no row count, for comparing.
func normal(c focus.Credit) focus.Credit {
	c.Amount = decimal.RequireFromString(c.Amount.String())
	c.Exact = decimal.RequireFromString(c.Exact.String())
	c.Rows = 0
	c.Start, c.End = c.Start.UTC(), c.End.UTC()
	return c
}

func TestExportThenImportGivesBackTheSameCredits(t *testing.T) {
	res, qs := settledSample(t)
	credits := focus.CreditsFromQuote(res.Bills[0], qs[0])
	require.NotEmpty(t, credits)
	var sum decimal.Decimal
	for _, c := range credits {
		sum = sum.Add(c.Amount)
	}
	require.Equal(t, "6.25", sum.String(), "both credits are used up by a 20.63 bill")

	var buf bytes.Buffer
	require.NoError(t, focus.Export(&buf, credits))
	back, err := focus.Import(bytes.NewReader(buf.Bytes()), focus.Options{})
	require.NoError(t, err)
	require.Empty(t, back.Bills, "an export holds credits only")
	require.Equal(t, len(credits), back.Rows.Credits)
	require.Len(t, back.Credits, len(credits))
	for i := range credits {
		require.Equal(t, normal(credits[i]), normal(back.Credits[i]))
	}
}

func TestExportWritesFocusCreditRows(t *testing.T) {
	res, qs := settledSample(t)
	credits := focus.CreditsFromQuote(res.Bills[0], qs[0])
	var buf bytes.Buffer
	require.NoError(t, focus.Export(&buf, credits[:1]))
	recs, err := csv.NewReader(&buf).ReadAll()
	require.NoError(t, err)
	require.Len(t, recs, 2)
	row := map[string]string{}
	for i, h := range recs[0] {
		row[h] = recs[1][i]
	}
	c := credits[0]
	neg := c.Amount.Neg().String()
	require.Equal(t, "Credit", row["ChargeCategory"])
	for _, col := range []string{"BilledCost", "EffectiveCost", "ListCost", "ContractedCost"} {
		require.Equal(t, neg, row[col], col)
	}
	require.True(t, strings.HasPrefix(neg, "-"))
	require.Equal(t, "2024-09-01T00:00:00Z", row["BillingPeriodStart"])
	require.Equal(t, "2024-10-01T00:00:00Z", row["BillingPeriodEnd"])
	require.Equal(t, c.Account, row["SubAccountId"])
	require.Equal(t, c.ServiceName, row["ServiceName"])
	require.Equal(t, c.SKU, row["SkuId"])
	require.Equal(t, "oss-1", row["x_VoucherkitInstrumentId"], "ties on expiry, scope and issue go to the id")
	require.Contains(t, row["ChargeDescription"], "credit oss-1")
	require.Equal(t, "AWS", row["ProviderName"])
	require.Equal(t, "NULL", row["ChargeClass"])
	require.Equal(t, focus.ExportColumns, recs[0])
}

func TestSettleNeedsABillPricer(t *testing.T) {
	res, rs := awsImport(t, focus.Options{})
	e, err := rules.NewEngine(rs)
	require.NoError(t, err)
	_, err = focus.Settle(context.Background(), plainPricer{e}, res, nil, time.Time{})
	require.ErrorContains(t, err, "does not settle bills")
}

// plainPricer hides any Settle method the engine has.
type plainPricer struct{ voucher.Pricer }
