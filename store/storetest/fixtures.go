package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/voucherkit/voucherkit/providers"
	"github.com/voucherkit/voucherkit/rules"
	"github.com/voucherkit/voucherkit/voucher"
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// deduction returns a stored deduction instrument (an aliyun voucher) of account.
func deduction(id, account string, expires *time.Time) voucher.StoredInstrument {
	return voucher.StoredInstrument{
		Instrument: voucher.Instrument{ID: id, Type: "voucher", Account: account, Amount: dec("100"), Balance: voucher.Ptr(dec("100"))},
		Kind:       voucher.Deduction, Expires: expires,
	}
}

// discount returns a stored discount instrument (an aliyun coupon) of account.
func discount(id, account string, expires *time.Time) voucher.StoredInstrument {
	return voucher.StoredInstrument{
		Instrument: voucher.Instrument{ID: id, Type: "coupon", Account: account, Amount: dec("5")},
		Kind:       voucher.Discount, Expires: expires,
	}
}

// fullInstrument sets every field of an instrument, with times at the edges of what
// a store must keep: nanoseconds, years 1 and 9999, zones whose offset is not whole
// minutes (Asia/Shanghai in year 1 is UTC+08:05:43), and decimals with many digits.
func fullInstrument(id string) voucher.StoredInstrument {
	year1 := time.Date(1, 1, 1, 0, 0, 0, 1, shanghai)
	year9999 := time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.FixedZone("", -5*3600))
	return voucher.StoredInstrument{
		Instrument: voucher.Instrument{
			ID: id, Type: "voucher", Account: "acct-é/1", Code: "Code-" + id, Currency: "USD",
			Amount: dec("123456789012.34"), Balance: voucher.Ptr(dec("0.00")),
			PercentOff: voucher.Ptr(dec("12.3456789012345678")), MaxDiscount: voucher.Ptr(dec("0.01")),
			MinSpend: voucher.Ptr(dec("99999999999999999999.99")),
			Products: []string{"ecs", "oss"}, ExcludeProducts: []string{"marketplace"},
			OrderTypes: []voucher.OrderType{voucher.OrderNew}, PaymentTypes: []voucher.PaymentType{voucher.PayAsYouGo},
			FirstPurchaseOnly: voucher.Ptr(false), Shared: voucher.Ptr(true),
			IssuedAt: &year1, EffectiveAt: voucher.Ptr(t0), ExpiresAt: &year9999,
			ClaimedAt: voucher.Ptr(time.Date(2026, 2, 1, 0, 0, 0, 999, time.UTC)), MaxRedemptions: voucher.Ptr(7),
			PendingActivation: true, ActivatedAt: voucher.Ptr(time.Date(1900, 1, 1, 0, 0, 0, 5, mustZone("Europe/Amsterdam"))),
			Revoked: true, Redeemed: 3, Held: dec("0.000000001"), HeldRedemptions: 2,
		},
		Kind: voucher.Deduction, Expires: &year9999, Used: true, Expired: true,
	}
}

// emptySlices is an instrument whose slices are empty and not nil: no product, no
// order type, no payment type (the engine reads nil as the type's default).
func emptySlices(id string) voucher.StoredInstrument {
	si := discount(id, "acct-1", nil)
	si.Instrument.Products = []string{}
	si.Instrument.ExcludeProducts = []string{}
	si.Instrument.OrderTypes = []voucher.OrderType{}
	si.Instrument.PaymentTypes = []voucher.PaymentType{}
	return si
}

// quoteFixture prices a two-line order of account with the aliyun engine against a
// voucher, a coupon and a promo code, so that the quote has applications split over
// lines, rejections and a trace.
func quoteFixture(t testing.TB, orderID, account string) *voucher.Quote {
	t.Helper()
	eng := aliyun(t)
	insts := []voucher.Instrument{
		{ID: "v", Type: "voucher", Account: account, Amount: dec("50"), Balance: voucher.Ptr(dec("50")), IssuedAt: voucher.Ptr(t0)},
		{ID: "c", Type: "coupon", Account: account, Amount: dec("3.33"), ClaimedAt: voucher.Ptr(t0)},
		{ID: "p", Type: "promo_code", Code: "P-10", PercentOff: voucher.Ptr(dec("10"))},
		{ID: "v2", Type: "voucher", Account: account, Amount: dec("1"), IssuedAt: voucher.Ptr(t0)},
	}
	o := voucher.Order{ID: orderID, Account: account, Type: voucher.OrderNew, Payment: voucher.PaySubscription,
		FirstPurchase: true, Codes: []string{"P-10"}, Use: nil,
		Lines: []voucher.Line{{ID: "l1", Product: "ecs", Amount: dec("33.33")}, {ID: "l2", Product: "oss", Amount: dec("66.67")}}}
	q, err := eng.Quote(o, insts, t0)
	require.NoError(t, err)
	require.NotEmpty(t, q.Applications, "the fixture order uses instruments")
	if account != "" {
		require.NotEmpty(t, q.Rejections, "the fixture order rejects an instrument")
	}
	require.NotEmpty(t, q.Trace, "the fixture quote has a trace")
	return q
}

var (
	aliyunOnce sync.Once
	aliyunEng  *rules.Engine
	aliyunErr  error
)

// aliyun is one aliyun engine for the fixtures.
func aliyun(t testing.TB) *rules.Engine {
	aliyunOnce.Do(func() {
		rs, err := providers.Load("aliyun")
		if err == nil {
			aliyunEng, err = rules.NewEngine(rs)
		}
		aliyunErr = err
	})
	require.NoError(t, aliyunErr)
	return aliyunEng
}

func orderRecord(t testing.TB, id, account string, at time.Time) voucher.OrderRecord {
	return voucher.OrderRecord{ID: id, Account: account, At: at, Quote: quoteFixture(t, id, account)}
}

func reservation(t testing.TB, id, account string, at, until time.Time) voucher.Reservation {
	return voucher.Reservation{OrderID: id, Account: account, At: at, Until: until, Quote: quoteFixture(t, id, account)}
}

// entry returns a ledger entry with every field set.
func entry(kind voucher.EntryKind, account, inst, order string, at time.Time) voucher.LedgerEntry {
	usd4, _ := voucher.NewCurrency("USD", 4)
	return voucher.LedgerEntry{At: at, Kind: kind, Account: account, Instrument: inst, Order: order,
		Amount: voucher.MustMoney("12.30", "CNY"), Delta: voucher.NewMoney(dec("-0.0001"), usd4),
		BalanceAfter: voucher.MustMoney("0", "JPY"), HeldAfter: voucher.MustMoney("1.005", "KWD"),
		RedeemedAfter: 2, HeldRedemptionsAfter: 1, Reason: "operator: " + string(kind)}
}
