package focus_test

import (
	"encoding/csv"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
	"github.com/voucherkit/voucherkit/focus"
	"github.com/voucherkit/voucherkit/providers"
	"github.com/voucherkit/voucherkit/rules"
	"github.com/voucherkit/voucherkit/voucher"
)

const samplePath = "../testdata/focus/focus-1.0-sample.csv"

func openSample(t testing.TB) *os.File {
	t.Helper()
	f, err := os.Open(samplePath)
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	return f
}

func awsImport(t testing.TB, opts focus.Options) (*focus.Result, *rules.RuleSet) {
	t.Helper()
	rs, err := providers.Load("aws")
	require.NoError(t, err)
	m, err := focus.LoadMapping("aws")
	require.NoError(t, err)
	opts.RuleSet, opts.Mapping = rs, m
	res, err := focus.Import(openSample(t), opts)
	require.NoError(t, err)
	return res, rs
}

// independentSums reads the sample with encoding/csv and sums BilledCost per
// SubAccountId of the rows keep selects, at full precision, and rounded per
// (account, service, SKU) to two places half away from zero. It shares no code with
// package focus: the columns are looked up by name here, and the values parsed with
// decimal.NewFromString directly.
func independentSums(t *testing.T, keep func(rec map[string]string) bool) (exact, rounded map[string]decimal.Decimal) {
	t.Helper()
	r := csv.NewReader(openSample(t))
	head, err := r.Read()
	require.NoError(t, err)
	type key struct{ account, service, sku string }
	perCharge := map[key]decimal.Decimal{}
	exact = map[string]decimal.Decimal{}
	for {
		fields, err := r.Read()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		rec := map[string]string{}
		for i, h := range head {
			rec[h] = fields[i]
		}
		if !keep(rec) {
			continue
		}
		v, err := decimal.NewFromString(rec["BilledCost"])
		require.NoError(t, err)
		k := key{rec["SubAccountId"], rec["ServiceName"], rec["SkuId"]}
		perCharge[k] = perCharge[k].Add(v)
		exact[k.account] = exact[k.account].Add(v)
	}
	rounded = map[string]decimal.Decimal{}
	for k, v := range perCharge {
		rounded[k.account] = rounded[k.account].Add(v.Round(2))
	}
	return exact, rounded
}

func TestImportReproducesTheSamplesPerAccountTotals(t *testing.T) {
	res, _ := awsImport(t, focus.Options{})
	exact, rounded := independentSums(t, func(rec map[string]string) bool {
		return rec["ProviderName"] == "AWS" && rec["ChargeCategory"] == "Usage"
	})
	require.Len(t, res.Bills, 1)
	b := res.Bills[0]
	require.Equal(t, "1234567890123@2024-09-01", b.ID)
	require.Len(t, b.Accounts, 66)
	require.Len(t, exact, 66)
	var sumExact, sumRounded decimal.Decimal
	for _, a := range b.Accounts {
		require.Truef(t, a.Exact.Equal(exact[a.Account]), "account %s: exact %s, independently %s", a.Account, a.Exact, exact[a.Account])
		require.Truef(t, a.Rounded.Equal(rounded[a.Account]), "account %s: rounded %s, independently %s", a.Account, a.Rounded, rounded[a.Account])
		sumExact, sumRounded = sumExact.Add(a.Exact), sumRounded.Add(a.Rounded)
	}
	// The figures the data's README gives.
	require.Equal(t, "20.6203386184", sumExact.String())
	require.Equal(t, "16.2301825497", exact["11353890204"].String())
	require.Equal(t, "20.63", sumRounded.String())
	require.Equal(t, sumRounded.Sub(sumExact).String(), b.RoundingDifference().String())
	require.Equal(t, "0.0096613816", res.RoundingDifference().String())
	// The charges are the rounded sums; none is negative; each is rounded to cents.
	var charges decimal.Decimal
	for _, c := range b.Charges {
		require.False(t, c.Amount.IsNegative())
		require.Equal(t, c.Amount.String(), c.Amount.Round(2).String())
		charges = charges.Add(c.Amount)
	}
	require.Equal(t, "20.63", charges.String())
	require.Empty(t, b.Adjustments)
	require.Equal(t, focus.Rows{Read: 1000, Charges: 941, Credits: 1,
		Skipped: map[string]int{"provider Microsoft": 51, "provider Oracle": 7}}, res.Rows)
}

func TestImportMapsProductsAndMarksSellersRows(t *testing.T) {
	res, _ := awsImport(t, focus.Options{})
	products := map[string]string{}
	for _, s := range res.Bills[0].Sources {
		products[s.ServiceName] = s.Product
	}
	require.Equal(t, "ec2", products["Amazon Elastic Compute Cloud"])
	require.Equal(t, "s3", products["Amazon Simple Storage Service"])
	require.Equal(t, "lambda", products["AWS Lambda"])
	require.Equal(t, "Amazon Virtual Private Cloud", products["Amazon Virtual Private Cloud"])
	// The one row sold by Red Hat (PublisherName) is a Marketplace charge.
	require.Equal(t, "marketplace", products["Red Hat OpenShift Service on AWS"])
}

func TestImportAllProvidersByBillingAccountAndPeriod(t *testing.T) {
	res, err := focus.Import(openSample(t), focus.Options{})
	require.NoError(t, err)
	ids := []string{}
	for _, b := range res.Bills {
		ids = append(ids, b.ID)
	}
	require.Equal(t, []string{"/providers/Microsoft.Billing/billingAccounts/8611537@2024-09-01",
		"1234567890123@2024-09-01", "20209880@2024-09-01", "20209880@2024-10-01"}, ids)
	exact, _ := independentSums(t, func(rec map[string]string) bool {
		return rec["ChargeCategory"] == "Usage" || rec["ChargeCategory"] == "Purchase"
	})
	got := map[string]decimal.Decimal{}
	for _, b := range res.Bills {
		for _, a := range b.Accounts {
			got[a.Account] = got[a.Account].Add(a.Exact)
		}
	}
	require.Len(t, got, len(exact))
	for a, v := range exact {
		require.Truef(t, v.Equal(got[a]), "account %s: %s, independently %s", a, got[a], v)
	}
	// Microsoft's negative usage (refunds) that nets below zero is an adjustment.
	ms := res.Bills[0]
	require.NotEmpty(t, ms.Adjustments)
	for _, a := range ms.Adjustments {
		require.True(t, a.Amount.IsNegative())
	}
	// The Oracle row billed in October but charged on 30 September is incurred at the
	// October period's start.
	oct := res.Bills[3]
	require.Len(t, oct.Charges, 1)
	require.True(t, oct.Charges[0].IncurredAt.Equal(oct.Start))
	require.Equal(t, map[string]int{"category Adjustment": 2}, res.Rows.Skipped)
	// Default organizations: the billing account pays, every sub-account is a member.
	require.Len(t, res.Organizations, 3)
	require.Equal(t, "1234567890123", res.Organizations[1].Payer)
	require.Len(t, res.Organizations[1].Members, 66)
}

func TestImportReadsTheProvidersCredit(t *testing.T) {
	res, _ := awsImport(t, focus.Options{})
	require.Len(t, res.Credits, 1)
	c := res.Credits[0]
	require.Equal(t, "11353890204", c.Account)
	require.Equal(t, "Amazon Elastic Compute Cloud", c.ServiceName)
	require.Equal(t, "S78KHHH96AJF23KZ", c.SKU)
	require.Equal(t, "2.6137", c.Exact.String())
	require.Equal(t, "2.61", c.Amount.String())
	require.Contains(t, c.Description, "credit from account: 391835788720")
}

func TestImportPayerAndGivenOrganization(t *testing.T) {
	res, _ := awsImport(t, focus.Options{Payers: map[string]string{"1234567890123": "391835788720"}})
	require.Equal(t, "391835788720", res.Organizations[0].Payer)

	rs, _ := providers.Load("aws")
	_, err := focus.Import(openSample(t), focus.Options{RuleSet: rs, Providers: []string{"aws"},
		Organizations: []voucher.Organization{{ID: "1234567890123", Payer: "391835788720"}}})
	require.ErrorIs(t, err, focus.ErrInvalid)
	require.ErrorContains(t, err, "has charges on billing account \"1234567890123\"'s bill for 2024-09-01 but is not in organization")
}

func TestImportProviderFilterIsCaseInsensitive(t *testing.T) {
	res, err := focus.Import(openSample(t), focus.Options{Providers: []string{"oracle"}})
	require.NoError(t, err)
	require.Len(t, res.Bills, 2)
	require.Equal(t, 941+1+51, res.Rows.Skipped["provider AWS"]+res.Rows.Skipped["provider Microsoft"])
}

func TestImportErrorsNameRowColumnAndExcerpt(t *testing.T) {
	head := "BilledCost,BillingAccountId,BillingCurrency,BillingPeriodStart,BillingPeriodEnd,ChargeCategory,ChargePeriodStart,ServiceName,SubAccountId,x_Custom"
	good := "1.5,B,USD,2024-09-01T00:00:00Z,2024-10-01T00:00:00Z,Usage,2024-09-02T00:00:00Z,EC2,a1,anything"
	long := strings.Repeat("9", 300)
	cases := []struct{ name, body, want string }{
		{"float spelling", strings.Replace(good, "1.5", "1.5.1", 1), `row 2 (line 3), column BilledCost: "1.5.1" is not a decimal number`},
		{"long value is excerpted", strings.Replace(good, "1.5", long, 1), `column BilledCost: "` + long[:40] + `"… is not a decimal`},
		{"plus sign", strings.Replace(good, "1.5", "+1.5", 1), `column BilledCost: "+1.5" is not a decimal`},
		{"null cost", strings.Replace(good, "1.5", "NULL", 1), "row 2 (line 3), column BilledCost: NULL must not be null"},
		{"bad time", strings.Replace(good, "2024-09-02T00:00:00Z", "yesterday", 1), `column ChargePeriodStart: "yesterday" is not a date/time`},
		{"unknown category", strings.Replace(good, "Usage", "Gift", 1), `column ChargeCategory: "Gift" is not one of Usage, Purchase, Credit, Tax, Adjustment`},
		{"period backwards", strings.Replace(good, "2024-10-01T00:00:00Z", "2024-08-01T00:00:00Z", 1), "column BillingPeriodEnd"},
		{"short row", "1,2,3", "row 2 (line 3): is not valid CSV: wrong number of fields"},
		{"other currency", strings.Replace(good, "USD", "EUR", 1), `row 2 (line 3), column BillingCurrency: "EUR" differs from row 1's USD`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := focus.Import(strings.NewReader(head+"\n"+good+"\n"+c.body+"\n"), focus.Options{})
			require.ErrorIs(t, err, focus.ErrInvalid)
			require.ErrorContains(t, err, c.want)
			var re *focus.RowError
			require.True(t, errors.As(err, &re))
			require.NotContains(t, err.Error(), "anything", "the error must not echo the row")
		})
	}
}

func TestImportHeaderErrors(t *testing.T) {
	_, err := focus.Import(strings.NewReader(""), focus.Options{})
	require.ErrorContains(t, err, "the file is empty")
	_, err = focus.Import(strings.NewReader("BilledCost,ServiceName\n"), focus.Options{})
	require.ErrorContains(t, err, "missing column BillingAccountId, BillingCurrency, BillingPeriodStart, BillingPeriodEnd, ChargeCategory, ChargePeriodStart")
	_, err = focus.Import(strings.NewReader("BilledCost,BilledCost\n"), focus.Options{})
	require.ErrorContains(t, err, `column "BilledCost" is both column 1 and column 2`)
}

func TestImportRuleSetCurrencyAndNothingHalfImported(t *testing.T) {
	rs, err := providers.Load("aliyun") // CNY
	require.NoError(t, err)
	res, err := focus.Import(openSample(t), focus.Options{RuleSet: rs})
	require.Nil(t, res)
	require.ErrorContains(t, err, `row 1 (line 2), column BillingCurrency: "USD" is not the rule set's currency CNY`)
}

// TestImportFocus13Columns reads the columns of FOCUS 1.3, where HostProviderName and
// ServiceProviderName replace ProviderName and PublisherName: the provider filter and
// the third-party check use them; a one-time commitment purchase is an upfront fee; a
// row with a null SubAccountId is the billing account's; x_ columns are ignored.
func TestImportFocus13Columns(t *testing.T) {
	in := `BilledCost,BillingAccountId,BillingCurrency,BillingPeriodStart,BillingPeriodEnd,ChargeCategory,ChargeFrequency,ChargePeriodStart,CommitmentDiscountCategory,ServiceName,ServiceProviderName,HostProviderName,InvoiceIssuerName,SkuId,SubAccountId,x_Anything
100,B,USD,2024-09-01T00:00:00Z,2024-10-01T00:00:00Z,Purchase,One-Time,2024-09-03T00:00:00Z,Usage,Amazon Elastic Compute Cloud,Amazon Web Services,AWS,"Amazon Web Services, Inc.",RI1,NULL,x
10,B,USD,2024-09-01T00:00:00Z,2024-10-01T00:00:00Z,Purchase,Recurring,2024-09-02T00:00:00Z,Usage,Amazon Elastic Compute Cloud,Amazon Web Services,AWS,"Amazon Web Services, Inc.",RI1,a1,x
5,B,USD,2024-09-01T00:00:00Z,2024-10-01T00:00:00Z,Usage,Usage-Based,2024-09-05T00:00:00Z,NULL,OpenShift,Red Hat,AWS,"Amazon Web Services, Inc.",RH,a1,
7,G,USD,2024-09-01T00:00:00Z,2024-10-01T00:00:00Z,Usage,Usage-Based,2024-09-05T00:00:00Z,NULL,Compute Engine,Google Cloud,Google Cloud,Google,CE,p1,
`
	m, err := focus.LoadMapping("aws")
	require.NoError(t, err)
	res, err := focus.Import(strings.NewReader(in), focus.Options{Mapping: m})
	require.NoError(t, err)
	require.Equal(t, map[string]int{"provider Google Cloud": 1}, res.Rows.Skipped)
	require.Len(t, res.Bills, 1)
	got := map[string]string{}
	for _, c := range res.Bills[0].Charges {
		got[c.Account+" "+c.Product] = c.Amount.String()
	}
	require.Equal(t, map[string]string{"B ri_upfront": "100", "a1 ec2": "10", "a1 marketplace": "5"}, got)
	require.Equal(t, "2024-09-02T00:00:00Z", res.Bills[0].Charges[1].IncurredAt.Format(time.RFC3339))
	require.Equal(t, []string{"a1"}, []string{res.Organizations[0].Members[0].Account}, "the billing account is the payer")
}
