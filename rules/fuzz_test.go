package rules_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/voucherkit/voucherkit/providers"
	"github.com/voucherkit/voucherkit/rules"
	"github.com/voucherkit/voucherkit/voucher"
)

// bytesource turns fuzz input into choices; when it runs dry every choice is zero.
type bytesource struct {
	b []byte
}

func (s *bytesource) byte() byte {
	if len(s.b) == 0 {
		return 0
	}
	c := s.b[0]
	s.b = s.b[1:]
	return c
}

func (s *bytesource) intn(n int) int { return int(s.byte()) % n }

func (s *bytesource) pick(opts []string) string { return opts[s.intn(len(opts))] }

// amount returns 0 to 655.35 with 0 to 3 decimals, sometimes a large or odd value.
func (s *bytesource) amount() decimal.Decimal {
	v := int64(s.byte())<<8 | int64(s.byte())
	switch s.intn(8) {
	case 0:
		return decimal.New(v, 0)
	case 1:
		return decimal.New(v, -3)
	case 2:
		return decimal.New(v*1_000_000_000, 0)
	}
	return decimal.New(v, -2)
}

var (
	fuzzProducts = []string{"ecs", "rds", "oss", "ec2", "s3", "marketplace", "support_enterprise"}
	fuzzAccounts = []string{"a", "a", "a", "b", ""}
)

func fuzzCase(s *bytesource, types []string) (voucher.Order, []voucher.Instrument, time.Time) {
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(s.intn(120)) * 24 * time.Hour)
	o := voucher.Order{ID: "o", Account: "a",
		Type:          voucher.OrderTypes()[s.intn(6)],
		Payment:       voucher.PaymentTypes()[s.intn(2)],
		FirstPurchase: s.intn(2) == 0}
	for i, n := 0, 1+s.intn(5); i < n; i++ {
		o.Lines = append(o.Lines, voucher.Line{ID: fmt.Sprintf("l%d", i), Product: s.pick(fuzzProducts), Amount: s.amount()})
	}
	var insts []voucher.Instrument
	for i, n := 0, s.intn(9); i < n; i++ {
		in := voucher.Instrument{ID: fmt.Sprintf("i%d", i), Type: s.pick(types), Account: s.pick(fuzzAccounts)}
		switch s.intn(3) {
		case 0:
			in.PercentOff = voucher.Ptr(decimal.New(int64(1+s.intn(100)), 0))
			if s.intn(2) == 0 {
				if m := s.amount(); !m.IsZero() { // zero was "no cap"; a given cap is above zero
					in.MaxDiscount = voucher.Ptr(m)
				}
			}
		default:
			in.Amount = s.amount()
			in.Balance = voucher.Ptr(in.Amount.Mul(decimal.New(int64(s.intn(101)), -2)).Round(2))
			in.Held = in.Balance.Mul(decimal.New(int64(s.intn(3)), -1)).Round(2)
		}
		if s.intn(3) == 0 {
			in.MinSpend = voucher.Ptr(s.amount())
		}
		if s.intn(3) == 0 {
			in.Products = []string{s.pick(fuzzProducts), s.pick(fuzzProducts)}
		}
		if s.intn(3) == 0 {
			in.ExpiresAt = voucher.Ptr(at.Add(time.Duration(s.intn(48)-24) * time.Hour))
		}
		if s.intn(4) == 0 {
			in.Code = fmt.Sprintf("CODE%d", s.intn(3))
			if s.intn(2) == 0 {
				o.Codes = append(o.Codes, in.Code)
			}
		}
		in.Redeemed = s.intn(2)
		if n := s.intn(3); n > 0 { // 0 was "1", which nil means now
			in.MaxRedemptions = voucher.Ptr(n)
		}
		insts = append(insts, in)
	}
	if s.intn(3) == 0 {
		o.Use = []string{}
		for _, in := range insts {
			if s.intn(2) == 0 {
				o.Use = append(o.Use, in.ID)
			}
		}
	}
	return o, insts, at
}

// FuzzQuote prices generated orders and wallets under both built-in rule sets: the engine
// never panics, every error carries a spec code or is an invalid instrument, and every
// quote adds up.
func FuzzQuote(f *testing.F) {
	for _, seed := range [][]byte{
		{}, {1, 2, 3, 4, 5, 6, 7, 8}, []byte("voucherkit"), []byte("0123456789abcdefghijklmnopqrstuvwxyz"),
		{255, 255, 255, 255, 0, 0, 0, 0, 9, 9, 9, 9, 200, 100, 50, 25},
	} {
		f.Add(seed)
	}
	var engines []*rules.Engine
	var typeLists [][]string
	for _, name := range providers.Names() {
		rs, err := providers.Load(name)
		if err != nil {
			f.Fatal(err)
		}
		e, err := rules.NewEngine(rs)
		if err != nil {
			f.Fatal(err)
		}
		engines = append(engines, e)
		typeLists = append(typeLists, rs.TypeNames())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := &bytesource{b: data}
		k := s.intn(len(engines))
		o, insts, at := fuzzCase(s, typeLists[k])
		q, err := engines[k].Quote(o, insts, at)
		if err != nil {
			if voucher.ErrorCode(err) == "" {
				t.Fatalf("error without a code: %v", err)
			}
			if errors.Is(err, voucher.ErrInvalidInstrument) {
				return
			}
			return
		}
		checkQuoteAddsUp(t, q)
	})
}

func checkQuoteAddsUp(t *testing.T, q *voucher.Quote) {
	t.Helper()
	check := func(where string, f voucher.Figures) {
		sum := f.Discount.Amount().Add(f.Deducted.Amount()).Add(f.Cash.Amount())
		if !sum.Equal(f.Total.Amount()) {
			t.Fatalf("%s: discount %s + deducted %s + cash %s != total %s", where, f.Discount, f.Deducted, f.Cash, f.Total)
		}
		inv := f.Invoiceable.Amount().Add(f.NonInvoiceable.Amount())
		if !inv.Equal(f.Total.Amount().Sub(f.Discount.Amount())) {
			t.Fatalf("%s: invoiceable %s + non-invoiceable %s != total − discount", where, f.Invoiceable, f.NonInvoiceable)
		}
		for _, m := range []voucher.Money{f.Total, f.Discount, f.Deducted, f.Cash, f.Invoiceable, f.NonInvoiceable} {
			if m.IsNegative() {
				t.Fatalf("%s: negative figure %s", where, m)
			}
		}
	}
	check("order", q.Figures)
	for _, l := range q.Lines {
		check("line "+l.LineID, l.Figures)
	}
	for _, a := range q.Applications {
		sum := decimal.Zero
		for _, l := range a.Lines {
			if l.Amount.IsNegative() {
				t.Fatalf("%s: negative share", a.Key)
			}
			sum = sum.Add(l.Amount.Amount())
		}
		if !sum.Equal(a.Amount.Amount()) || !a.Amount.IsPositive() {
			t.Fatalf("%s: split %s does not add up to %s", a.Key, sum, a.Amount)
		}
	}
}
