package voucher_test

// Fuzz targets of the voucher package, seeded from the project's real files:
//
//	go test -run x -fuzz '^FuzzParseMoney$'  -fuzztime 5m -parallel 1 ./voucher
//	go test -run x -fuzz '^FuzzAllocate$'    -fuzztime 5m -parallel 1 ./voucher
//	go test -run x -fuzz '^FuzzWalletSteps$' -fuzztime 5m -parallel 1 ./voucher
//
// Without -fuzz, `go test` runs each target over its seeds only.

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/voucherkit/voucherkit/providers"
	"github.com/voucherkit/voucherkit/rules"
	"github.com/voucherkit/voucherkit/voucher"
)

// fzSeedPatterns are the project's real YAML files, relative to this package.
var fzSeedPatterns = []string{
	"../providers/*.yaml",
	"../providers/testdata/*/*.yaml",
	"../testdata/conformance/*.yaml",
	"../scenario/testdata/*/*.yaml",
	"../scenario/testdata/*/*/*.yaml",
	"../rules/testdata/*/*.yaml",
}

// fzSeedFiles reads every file of patterns (sorted, each once); it fails when a pattern
// matches nothing, so that a moved directory does not silently drop the seeds.
func fzSeedFiles(f *testing.F, patterns ...string) map[string][]byte {
	f.Helper()
	out := map[string][]byte{}
	for _, p := range patterns {
		files, err := filepath.Glob(p)
		if err != nil {
			f.Fatal(err)
		}
		if len(files) == 0 && !strings.Contains(p, "/*/*/") {
			f.Fatalf("seed pattern %s matches no file", p)
		}
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			out[file] = data
		}
	}
	return out
}

func fzSortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// fzNumberRE finds the numbers and quoted amounts of YAML files ("12.50", 300, 1e999999).
var fzNumberRE = regexp.MustCompile(`[-+]?[0-9][0-9_.]*(?:[eE][-+]?[0-9]+)?|"[-+0-9.eE ]+"`)

// fzAmounts returns the amount-looking scalars of data, unquoted, at most max of them.
func fzAmounts(data []byte, max int) []string {
	var out []string
	for _, m := range fzNumberRE.FindAll(data, -1) {
		out = append(out, strings.Trim(string(m), `"`))
		if len(out) == max {
			break
		}
	}
	return out
}

// fzCurrencies are the currencies the money fuzzers pick from: ISO scales 0, 2 and 3,
// and rule-set scales that are not ISO's.
func fzCurrencies() []voucher.Currency {
	out := []voucher.Currency{voucher.MustCurrency("CNY"), voucher.MustCurrency("USD"),
		voucher.MustCurrency("JPY"), voucher.MustCurrency("KWD")}
	for _, c := range []struct {
		code  string
		scale int32
	}{{"USD", 4}, {"XTS", 8}, {"CNY", 0}} {
		cur, err := voucher.NewCurrency(c.code, c.scale)
		if err != nil {
			panic(err)
		}
		out = append(out, cur)
	}
	return out
}

// fzRat parses s exactly as a decimal with math/big, the independent reference for
// ParseDecimal; ok is false for what is not a plain decimal (hex, fractions, ...).
func fzRat(s string) (*big.Rat, bool) {
	t := strings.TrimSpace(s)
	if t == "" || strings.ContainsAny(t, "/xXoObBpP_") {
		return nil, false
	}
	r, ok := new(big.Rat).SetString(t)
	return r, ok
}

func fzDecRat(d decimal.Decimal) *big.Rat { return d.Rat() }

// fzTimeLimit bounds one input of the money fuzzer: refusing "1e999999" or a 60-digit
// amount must be quick, never an expansion into a million digits. It is generous so
// that a loaded machine does not make it flaky.
const fzTimeLimit = time.Second

// FuzzParseMoney: ParseDecimal and ParseMoney never panic; NaN, infinities, exponents
// beyond ±30 and over-long input are refused, quickly; what is accepted is exactly the
// decimal that math/big reads, and a Money round-trips exactly through Format/String and
// through JSON (its own JSON, and any JSON that UnmarshalJSON accepts).
func FuzzParseMoney(f *testing.F) {
	curs := fzCurrencies()
	files := fzSeedFiles(f, fzSeedPatterns...)
	seen := map[string]bool{}
	k := uint8(0)
	for _, name := range fzSortedKeys(files) {
		for _, s := range fzAmounts(files[name], 40) {
			if !seen[s] {
				seen[s] = true
				f.Add(s, k)
				k++
			}
		}
	}
	for _, s := range []string{"", " ", "0", "-0", "+0.00", "12.50", "-7.25", "1e3", "1E-2", ".5", "5.",
		"NaN", "nan", "-Inf", "+Infinity", "inf", "1e30", "1e31", "1e-30", "1e-31", "0e-9999", "0e10000",
		"1e999999", "-1e999999", "1e-999999", "0x10", "1_000", "1,5", "١٢", " 12.50 ", "12.50 CNY",
		strings.Repeat("9", 64), strings.Repeat("9", 65), strings.Repeat("9", 61) + "e30",
		`{"amount":"12.50","currency":"CNY"}`, `{"amount":"1.2345","currency":"USD","scale":4}`,
		`{"amount":"0","currency":""}`, `{"amount":"1","currency":"USD","scale":9}`, `null`,
	} {
		f.Add(s, k)
		k++
	}
	f.Fuzz(func(t *testing.T, s string, which uint8) {
		cur := curs[int(which)%len(curs)]
		start := time.Now()
		defer func() {
			if el := time.Since(start); el > fzTimeLimit {
				t.Fatalf("%q took %v", s, el)
			}
		}()

		d, derr := voucher.ParseDecimal(s)
		m, merr := voucher.ParseMoney(s, cur)
		trimmed := strings.TrimSpace(s)
		lower := strings.ToLower(trimmed)
		if derr == nil {
			if strings.Contains(lower, "nan") || strings.Contains(lower, "inf") {
				t.Fatalf("ParseDecimal(%q) accepted %s", s, d)
			}
			if len(trimmed) > 64 {
				t.Fatalf("ParseDecimal accepted %d characters", len(trimmed))
			}
			if e := d.Exponent(); !d.IsZero() && (e > 30 || e < -30) {
				t.Fatalf("ParseDecimal(%q) accepted exponent %d", s, e)
			}
			if r, ok := fzRat(s); ok && r.Cmp(fzDecRat(d)) != 0 {
				t.Fatalf("ParseDecimal(%q) = %s, math/big reads %s", s, d, r.RatString())
			}
		} else if !errors.Is(derr, voucher.ErrInvalidMoney) {
			t.Fatalf("ParseDecimal(%q): error does not wrap ErrInvalidMoney: %v", s, derr)
		}

		// ParseMoney accepts exactly what ParseDecimal accepts at the currency's scale.
		if derr != nil {
			if merr == nil {
				t.Fatalf("ParseMoney(%q) accepted %s, ParseDecimal refused: %v", s, m, derr)
			}
		} else {
			fits := d.Equal(d.Round(cur.Scale()))
			scaled := new(big.Rat).Mul(fzDecRat(d), new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(cur.Scale())), nil)))
			if fits != scaled.IsInt() {
				t.Fatalf("%q at scale %d: decimal says fits=%t, math/big says %t", s, cur.Scale(), fits, scaled.IsInt())
			}
			switch {
			case fits && merr != nil:
				t.Fatalf("ParseMoney(%q, %s/%d) refused a value with at most %d decimals: %v", s, cur.Code(), cur.Scale(), cur.Scale(), merr)
			case !fits && merr == nil:
				t.Fatalf("ParseMoney(%q, %s/%d) accepted %s: rounded instead of refused", s, cur.Code(), cur.Scale(), m)
			}
		}
		if merr != nil {
			if !errors.Is(merr, voucher.ErrInvalidMoney) {
				t.Fatalf("ParseMoney(%q): error does not wrap ErrInvalidMoney: %v", s, merr)
			}
		} else {
			fzCheckMoneyRoundTrip(t, s, m, cur)
			if !m.Amount().Equal(d) {
				t.Fatalf("ParseMoney(%q) = %s, ParseDecimal = %s", s, m, d)
			}
		}

		// Any JSON that UnmarshalJSON accepts round-trips too.
		var j voucher.Money
		if err := json.Unmarshal([]byte(s), &j); err == nil && !j.IsZeroMoney() {
			fzCheckMoneyRoundTrip(t, "JSON "+s, j, j.Currency())
		}
	})
}

// Regression (found by FuzzParseMoney's seeds, fixed in 553db6e): every amount
// ParseMoney accepts must come back from its own Format and its own JSON. An amount of
// 62 or more integer digits (at scale 2) was accepted, but its Format is longer than 64
// characters, which ParseDecimal refuses; so its JSON did not decode either.
func TestMoneyRoundTripsAtEveryAcceptedMagnitude(t *testing.T) {
	for _, tc := range []struct{ in, code string }{
		{"1" + strings.Repeat("0", 31) + "e30", "CNY"}, // 10^61: Format has 65 characters
		{strings.Repeat("9", 64), "CNY"},               // 64 characters in, 67 out
		{strings.Repeat("9", 56), "XTS8"},              // scale 8: 56 digits in, 65 out
	} {
		cur := voucher.MustCurrency("CNY")
		if tc.code == "XTS8" {
			var err error
			if cur, err = voucher.NewCurrency("XTS", 8); err != nil {
				t.Fatal(err)
			}
		}
		m, err := voucher.ParseMoney(tc.in, cur)
		if err != nil {
			continue // refusing such a magnitude up front is a fine fix too
		}
		if back, err := voucher.ParseMoney(m.Format(), cur); err != nil || !back.Equal(m) {
			t.Errorf("ParseMoney(%q) accepted it (%d characters formatted), but its Format %q does not parse back: %v", tc.in, len(m.Format()), m.Format(), err)
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Errorf("MarshalJSON(%s): %v", tc.in, err)
			continue
		}
		var j voucher.Money
		if err := json.Unmarshal(b, &j); err != nil || !j.Equal(m) {
			t.Errorf("ParseMoney(%q) accepted it, but its JSON %s does not decode: %v", tc.in, b, err)
		}
	}
}

// fzCheckMoneyRoundTrip checks that m (read from src) survives Format, String and JSON
// exactly, with its currency and scale.
func fzCheckMoneyRoundTrip(t *testing.T, src string, m voucher.Money, cur voucher.Currency) {
	t.Helper()
	if m.Currency() != cur {
		t.Fatalf("%s: currency %v, want %v", src, m.Currency(), cur)
	}
	formatted := m.Format()
	if i := strings.IndexByte(formatted, '.'); cur.Scale() == 0 && i >= 0 || cur.Scale() > 0 && (i < 0 || len(formatted)-i-1 != int(cur.Scale())) {
		t.Fatalf("%s: Format %q does not have exactly %d decimals", src, formatted, cur.Scale())
	}
	if m.String() != formatted+" "+cur.Code() {
		t.Fatalf("%s: String %q is not Format %q and the code", src, m.String(), formatted)
	}
	back, err := voucher.ParseMoney(formatted, cur)
	if err != nil {
		t.Fatalf("%s: its Format %q does not parse back: %v", src, formatted, err)
	}
	if !back.Equal(m) || back.Format() != formatted {
		t.Fatalf("%s: Format %q parses back as %s", src, formatted, back)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatalf("%s: MarshalJSON: %v", src, err)
	}
	var j voucher.Money
	if err := json.Unmarshal(b, &j); err != nil {
		t.Fatalf("%s: its JSON %s does not decode: %v", src, b, err)
	}
	if !j.Equal(m) || j.Currency() != m.Currency() || j.Format() != formatted {
		t.Fatalf("%s: JSON %s decodes as %s (scale %d), want %s (scale %d)", src, b, j, j.Currency().Scale(), m, cur.Scale())
	}
	_ = m.Units() // must not panic, whatever the magnitude
}

// fzAllocateRef is the reference allocation, in exact rationals: each share rounded
// down to the unit, the leftover units one each to the largest remainders, ties to the
// earlier index.
func fzAllocateRef(units *big.Int, ws []*big.Rat) []*big.Int {
	sum := new(big.Rat)
	for _, w := range ws {
		sum.Add(sum, w)
	}
	out := make([]*big.Int, len(ws))
	rems := make([]*big.Rat, len(ws))
	given := new(big.Int)
	for i, w := range ws {
		exact := new(big.Rat).Quo(new(big.Rat).Mul(new(big.Rat).SetInt(units), w), sum)
		q := new(big.Int).Quo(exact.Num(), exact.Denom()) // exact >= 0: Quo rounds down
		out[i] = q
		rems[i] = new(big.Rat).Sub(exact, new(big.Rat).SetInt(q))
		given.Add(given, q)
	}
	order := make([]int, len(ws))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return rems[b].Cmp(rems[a]) })
	left := new(big.Int).Sub(units, given).Int64()
	for k := 0; k < int(left); k++ {
		out[order[k]].Add(out[order[k]], big.NewInt(1))
	}
	return out
}

// FuzzAllocate: Allocate never panics; bad input (no currency, a negative amount, no
// weights, a negative weight, a weight out of range, weights summing to zero with
// something to allocate) is an ErrInvalidMoney error; otherwise the shares add up to
// the amount exactly, none is negative, the same input gives the same split, and the
// split is the exact reference one: rounded down, leftover units by largest remainder,
// ties to the earlier index.
func FuzzAllocate(f *testing.F) {
	curs := fzCurrencies()
	files := fzSeedFiles(f, fzSeedPatterns...)
	k := uint8(0)
	for _, name := range fzSortedKeys(files) {
		nums := fzAmounts(files[name], 9)
		if len(nums) < 2 {
			continue
		}
		f.Add(nums[0], strings.Join(nums[1:], ","), k)
		k++
	}
	for _, s := range [][2]string{{"0.02", "1,3"}, {"0.01", "1,1,1"}, {"0.05", "1,1,1,1,1,1"}, {"100", "0,0"},
		{"0", "0,0"}, {"1", ""}, {"-1", "1"}, {"1", "-1,2"}, {"1", "1e40"}, {"1", "1e-31"}, {"", "1"},
		{"999999999.99", "0.001,0.002,0.003"}, {"1e30", "1e30,1e-30"}, {"0.07", "33.33,33.33,33.34"}} {
		f.Add(s[0], s[1], k)
		k++
	}
	f.Fuzz(func(t *testing.T, amount, weights string, which uint8) {
		cur := curs[int(which)%len(curs)]
		var m voucher.Money // "" stands for the zero Money, which has no currency
		if amount != "" {
			d, err := decimal.NewFromString(strings.TrimSpace(amount))
			if err != nil || d.Exponent() < -40 || d.Exponent() > 40 {
				return
			}
			m = voucher.NewMoney(d, cur)
		}
		var ws []decimal.Decimal
		if weights != "" {
			for _, w := range strings.Split(weights, ",") {
				d, err := decimal.NewFromString(strings.TrimSpace(w))
				if err != nil {
					return
				}
				ws = append(ws, d)
			}
		}
		if len(ws) > 256 {
			return
		}
		// What Allocate must refuse.
		var bad []string
		if m.Currency().IsZero() {
			bad = append(bad, "no currency")
		}
		if m.IsNegative() {
			bad = append(bad, "negative amount")
		}
		if len(ws) == 0 {
			bad = append(bad, "no weights")
		}
		sumPos := false
		for i, w := range ws {
			if w.IsNegative() {
				bad = append(bad, fmt.Sprintf("weight %d negative", i))
			}
			if e := w.Exponent(); e < -30 || e > 30 {
				bad = append(bad, fmt.Sprintf("weight %d exponent %d", i, e))
			}
			if w.Sign() > 0 {
				sumPos = true
			}
		}
		if !sumPos && !m.IsZero() {
			bad = append(bad, "weights sum to zero")
		}

		got, err := voucher.Allocate(m, ws)
		if err != nil {
			if !errors.Is(err, voucher.ErrInvalidMoney) {
				t.Fatalf("Allocate(%s, %v): error does not wrap ErrInvalidMoney: %v", m, ws, err)
			}
			if got != nil {
				t.Fatalf("Allocate returned shares and an error")
			}
			if len(bad) == 0 {
				t.Fatalf("Allocate(%s, %v) refused good input: %v", m, ws, err)
			}
			return
		}
		if len(bad) > 0 {
			t.Fatalf("Allocate(%s, %v) accepted bad input (%s): %v", m, ws, strings.Join(bad, "; "), got)
		}
		if len(got) != len(ws) {
			t.Fatalf("%d shares for %d weights", len(got), len(ws))
		}
		again, err := voucher.Allocate(m, slices.Clone(ws))
		if err != nil {
			t.Fatalf("second call failed: %v", err)
		}
		sum := decimal.Zero
		for i, g := range got {
			if g.IsNegative() {
				t.Fatalf("share %d is negative: %s", i, g)
			}
			if g.Currency() != cur {
				t.Fatalf("share %d in %v, want %v", i, g.Currency(), cur)
			}
			if !g.Equal(again[i]) {
				t.Fatalf("not deterministic: share %d is %s, then %s", i, g, again[i])
			}
			if ws[i].IsZero() && !g.IsZero() {
				t.Fatalf("share %d of a zero weight is %s", i, g)
			}
			sum = sum.Add(g.Amount())
		}
		if !sum.Equal(m.Amount()) {
			t.Fatalf("shares add up to %s, not %s", sum, m.Amount())
		}
		units := m.Amount().Shift(cur.Scale()).BigInt()
		rws := make([]*big.Rat, len(ws))
		for i, w := range ws {
			rws[i] = w.Rat()
		}
		if !sumPos {
			return // zero amount over zero weights: all zero, checked above
		}
		want := fzAllocateRef(units, rws)
		for i, g := range got {
			if gu := g.Amount().Shift(cur.Scale()).BigInt(); gu.Cmp(want[i]) != 0 {
				t.Fatalf("Allocate(%s, %v): share %d is %s units, the reference gives %s", m, ws, i, gu, want[i])
			}
		}
	})
}

// fzSrc turns fuzz input into choices; when it runs dry every choice is zero.
type fzSrc struct{ b []byte }

func (s *fzSrc) byte() byte {
	if len(s.b) == 0 {
		return 0
	}
	c := s.b[0]
	s.b = s.b[1:]
	return c
}

func (s *fzSrc) intn(n int) int         { return int(s.byte()) % n }
func (s *fzSrc) chance(n int) bool      { return s.intn(n) == 0 }
func (s *fzSrc) pick(o []string) string { return o[s.intn(len(o))] }

// amount returns 0 to 655.35, at 2 decimals mostly, sometimes whole, finer than the
// scale, or very large.
func (s *fzSrc) amount() decimal.Decimal {
	v := int64(s.byte())<<8 | int64(s.byte())
	switch s.intn(16) {
	case 0:
		return decimal.New(v, 0)
	case 1:
		return decimal.New(v, -3)
	case 2:
		return decimal.New(v, 6)
	case 3:
		return decimal.Zero
	}
	return decimal.New(v, -2)
}

// dur returns a step of the clock: mostly forward (minutes, hours, days), sometimes
// none, sometimes backwards.
func (s *fzSrc) dur() time.Duration {
	n := time.Duration(1 + s.intn(48))
	switch s.intn(8) {
	case 0:
		return 0
	case 1:
		return -n * time.Minute
	case 2, 3:
		return n * time.Minute
	case 4, 5:
		return n * time.Hour
	}
	return n * 24 * time.Hour
}

var (
	fzAccounts = []string{"a", "a", "a", "b", ""}
	fzProducts = []string{"ecs", "rds", "oss", "ec2", "s3", "marketplace", "support_enterprise"}
	fzOrderIDs = []string{"o0", "o1", "o2", "o3", "o4"}
	fzCodes    = []string{"C0", "C1", "C2", "C3"}
)

func fzInstID(s *fzSrc) string { return fmt.Sprintf("i%d", s.intn(10)) }

// fzInstrument generates an instrument of one of the engine's types, sometimes invalid.
func fzInstrument(s *fzSrc, e *rules.Engine, types []string, now time.Time) voucher.Instrument {
	in := voucher.Instrument{ID: fzInstID(s), Type: s.pick(types), Account: s.pick(fzAccounts)}
	if s.chance(32) {
		in.Type = "bogus"
	}
	pol, _ := e.Policy(in.Type)
	if pol.Kind == voucher.Discount {
		if s.chance(2) {
			in.PercentOff = decimal.New(int64(1+s.intn(100)), 0)
			if s.chance(2) {
				in.MaxDiscount = s.amount()
			}
			if s.chance(16) {
				in.Amount = s.amount() // invalid together with percent_off
			}
		} else {
			in.Amount = s.amount()
		}
		in.MaxRedemptions = s.intn(4)
		if s.chance(4) {
			in.Redeemed = s.intn(3)
		}
	} else {
		in.Amount = s.amount()
		in.Balance = in.Amount
		if s.chance(3) {
			in.Balance = in.Amount.Mul(decimal.New(int64(s.intn(120)), -2)).Round(2) // may exceed amount: invalid
		}
	}
	if s.chance(4) {
		in.MinSpend = s.amount()
	}
	if s.chance(3) {
		in.Products = []string{s.pick(fzProducts)}
		if s.chance(2) {
			in.Products = append(in.Products, s.pick(fzProducts)) // may repeat
		}
	}
	if s.chance(6) {
		in.ExcludeProducts = []string{s.pick(fzProducts)}
	}
	if s.chance(6) {
		in.OrderTypes = []voucher.OrderType{voucher.OrderTypes()[s.intn(6)]}
	}
	if s.chance(6) {
		in.PaymentTypes = []voucher.PaymentType{voucher.PaymentTypes()[s.intn(2)]}
	}
	if s.chance(6) {
		b := s.chance(2)
		in.FirstPurchaseOnly = &b
	}
	if s.chance(2) {
		in.ExpiresAt = now.Add(s.dur() * 3)
	}
	if s.chance(4) {
		in.EffectiveAt = now.Add(s.dur())
	}
	if s.chance(4) {
		in.ClaimedAt = now.Add(-s.dur())
	}
	if s.chance(3) || pol.TypedCode {
		in.Code = s.pick(fzCodes)
		if s.chance(2) {
			in.PendingActivation = true
		}
	}
	if s.chance(8) {
		in.IssuedAt = now.Add(-s.dur())
	}
	return in
}

// fzOrder generates an order, sometimes invalid or in another currency.
func fzOrder(s *fzSrc) voucher.Order {
	o := voucher.Order{ID: s.pick(fzOrderIDs), Account: s.pick(fzAccounts[:4]),
		Type: voucher.OrderTypes()[s.intn(6)], Payment: voucher.PaymentTypes()[s.intn(2)],
		FirstPurchase: s.chance(2)}
	if s.chance(2) {
		o.Type, o.Payment = voucher.OrderUsage, voucher.PayAsYouGo // what aws credits cover
	}
	for i, n := 0, 1+s.intn(4); i < n; i++ {
		l := voucher.Line{ID: fmt.Sprintf("l%d", i), Product: s.pick(fzProducts), Amount: s.amount()}
		switch s.intn(64) {
		case 0:
			l.Amount = l.Amount.Neg()
		case 1:
			l.ID = "l0"
		case 2:
			l.Currency = "EUR"
		}
		o.Lines = append(o.Lines, l)
	}
	if s.chance(64) {
		o.Lines = nil
	}
	if s.chance(4) {
		o.Use = []string{}
		for i, n := 0, s.intn(4); i < n; i++ {
			o.Use = append(o.Use, fzInstID(s))
		}
	}
	if s.chance(3) {
		for i, n := 0, 1+s.intn(2); i < n; i++ {
			o.Codes = append(o.Codes, s.pick(fzCodes))
		}
	}
	return o
}

// fzStepCodes are the error codes each step may fail with: the spec's, and for grant and
// activate the API's own invalid_instrument (a malformed instrument, an empty account).
var fzStepCodes = map[string][]string{
	"grant":    {"invalid_instrument"},
	"quote":    {"clock_backwards", "invalid_order", "currency_mismatch", "unknown_instrument", "code_not_found"},
	"checkout": {"clock_backwards", "duplicate_order", "invalid_order", "currency_mismatch", "unknown_instrument", "code_not_found"},
	"reserve":  {"clock_backwards", "duplicate_order", "invalid_order", "currency_mismatch", "unknown_instrument", "code_not_found"},
	"capture":  {"clock_backwards", "not_reserved"},
	"release":  {"clock_backwards", "not_reserved"},
	"refund":   {"clock_backwards", "unknown_order", "invalid_refund", "already_refunded"},
	"activate": {"clock_backwards", "code_not_found", "code_already_used", "code_expired", "invalid_instrument"},
	"advance":  {"clock_backwards"},
}

// fzLogLine is one step as the failure message shows it; it is formatted only then.
type fzLogLine struct {
	format string
	args   []any
	err    error
}

func fzLine(format string, args ...any) fzLogLine { return fzLogLine{format: format, args: args} }

func (l fzLogLine) String() string {
	s := fmt.Sprintf(l.format, l.args...)
	if l.err != nil {
		s += " -> " + l.err.Error()
	}
	return s
}

// fzState is what a failed step must leave as it was.
type fzState struct {
	now    time.Time
	ledger int
	insts  []voucher.Instrument
	orders []string
}

func fzTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func fzSnapshot(w *voucher.Wallet) fzState {
	st := fzState{now: w.Now(), ledger: w.Ledger().Len(), insts: w.Instruments()}
	for _, id := range fzOrderIDs {
		rec, committed := w.Order(id)
		_, reserved := w.Reservation(id)
		if committed || reserved {
			st.orders = append(st.orders, fmt.Sprintf("%s committed=%t refunded=%v reserved=%t", id, committed, rec.Refunded, reserved))
		}
	}
	return st
}

// fzInstText is an instrument's whole state, for comparing and for messages.
func fzInstText(in voucher.Instrument) string {
	fpo := "-"
	if in.FirstPurchaseOnly != nil {
		fpo = fmt.Sprint(*in.FirstPurchaseOnly)
	}
	return fmt.Sprintf("%s %s acct=%q code=%q bal=%s held=%s amt=%s red=%d/%d pend=%t act=%s eff=%s exp=%s claim=%s iss=%s fpo=%s",
		in.ID, in.Type, in.Account, in.Code, in.Balance, in.Held, in.Amount, in.Redeemed, in.HeldRedemptions,
		in.PendingActivation, fzTime(in.ActivatedAt), fzTime(in.EffectiveAt), fzTime(in.ExpiresAt), fzTime(in.ClaimedAt),
		fzTime(in.IssuedAt), fpo)
}

// fzSameState is a quick check of what a failed step may not change.
func fzSameInst(a, b voucher.Instrument) bool {
	return a.ID == b.ID && a.Account == b.Account && a.Balance.Equal(b.Balance) && a.Held.Equal(b.Held) &&
		a.Redeemed == b.Redeemed && a.HeldRedemptions == b.HeldRedemptions && a.PendingActivation == b.PendingActivation &&
		a.ActivatedAt.Equal(b.ActivatedAt) && a.ExpiresAt.Equal(b.ExpiresAt) && a.EffectiveAt.Equal(b.EffectiveAt)
}

func (a fzState) diff(b fzState) string {
	var parts []string
	if !a.now.Equal(b.now) {
		parts = append(parts, fmt.Sprintf("clock %s -> %s", fzTime(a.now), fzTime(b.now)))
	}
	if a.ledger != b.ledger {
		parts = append(parts, fmt.Sprintf("ledger %d -> %d entries", a.ledger, b.ledger))
	}
	same := len(a.insts) == len(b.insts)
	for i := 0; same && i < len(a.insts); i++ {
		same = fzSameInst(a.insts[i], b.insts[i])
	}
	if !same {
		var ta, tb []string
		for _, in := range a.insts {
			ta = append(ta, fzInstText(in))
		}
		for _, in := range b.insts {
			tb = append(tb, fzInstText(in))
		}
		parts = append(parts, fmt.Sprintf("instruments\n  %s\n->\n  %s", strings.Join(ta, "\n  "), strings.Join(tb, "\n  ")))
	}
	if !slices.Equal(a.orders, b.orders) {
		parts = append(parts, fmt.Sprintf("orders %v -> %v", a.orders, b.orders))
	}
	return strings.Join(parts, "; ")
}

// fzBalancesChanged describes an instrument whose balance or redemptions used changed
// from a to b ("" when none): only a committed order, a refund or the forfeit of a used
// balance that does not carry over may change them, never a quote or the clock.
func fzBalancesChanged(a, b fzState) string {
	for i := range b.insts {
		if i < len(a.insts) && (!a.insts[i].Balance.Equal(b.insts[i].Balance) || a.insts[i].Redeemed != b.insts[i].Redeemed) {
			return fzInstText(a.insts[i]) + " -> " + fzInstText(b.insts[i])
		}
	}
	return ""
}

// fzCheckFigures checks that a quote adds up on every line and in total.
func fzCheckFigures(q *voucher.Quote) error {
	check := func(where string, f voucher.Figures) error {
		if !f.Discount.Amount().Add(f.Deducted.Amount()).Add(f.Cash.Amount()).Equal(f.Total.Amount()) {
			return fmt.Errorf("%s: discount %s + deducted %s + cash %s != total %s", where, f.Discount, f.Deducted, f.Cash, f.Total)
		}
		if !f.Invoiceable.Amount().Add(f.NonInvoiceable.Amount()).Equal(f.Total.Amount().Sub(f.Discount.Amount())) {
			return fmt.Errorf("%s: invoiceable %s + non-invoiceable %s != total %s - discount %s", where, f.Invoiceable, f.NonInvoiceable, f.Total, f.Discount)
		}
		for _, m := range []voucher.Money{f.Total, f.Discount, f.Deducted, f.Cash, f.Invoiceable, f.NonInvoiceable} {
			if m.IsNegative() {
				return fmt.Errorf("%s: negative figure %s", where, m)
			}
		}
		return nil
	}
	if err := check("order", q.Figures); err != nil {
		return err
	}
	sum := [4]decimal.Decimal{}
	for _, l := range q.Lines {
		if err := check("line "+l.LineID, l.Figures); err != nil {
			return err
		}
		sum[0], sum[1] = sum[0].Add(l.Total.Amount()), sum[1].Add(l.Discount.Amount())
		sum[2], sum[3] = sum[2].Add(l.Deducted.Amount()), sum[3].Add(l.Cash.Amount())
	}
	for i, m := range []voucher.Money{q.Total, q.Discount, q.Deducted, q.Cash} {
		if !sum[i].Equal(m.Amount()) {
			return fmt.Errorf("lines add up to %s, the order says %s", sum[i], m)
		}
	}
	for _, a := range q.Applications {
		s := decimal.Zero
		for _, l := range a.Lines {
			if l.Amount.IsNegative() {
				return fmt.Errorf("%s: negative share on %s", a.Key, l.LineID)
			}
			s = s.Add(l.Amount.Amount())
		}
		if !s.Equal(a.Amount.Amount()) || !a.Amount.IsPositiveAmount() {
			return fmt.Errorf("%s: split %s does not add up to %s", a.Key, s, a.Amount)
		}
	}
	return nil
}

// fzQuoteDiff describes how two quotes of one order differ in what they charge: figures,
// lines, applications with their per-line splits, and the rejections ("" when equal).
func fzQuoteDiff(a, b *voucher.Quote) string {
	ra, rb := fzRender(a), fzRender(b)
	if ra == rb {
		return ""
	}
	return ra + "\nvs\n  " + rb
}

// fzRender is what a quote charges, as text: figures, lines, applications with their
// splits, rejections, and the order, account and time it is for.
func fzRender(q *voucher.Quote) string {
	if q == nil {
		return "<nil>"
	}
	fig := func(f voucher.Figures) string {
		return fmt.Sprintf("total %s discount %s deducted %s cash %s inv %s non-inv %s",
			f.Total.Format(), f.Discount.Format(), f.Deducted.Format(), f.Cash.Format(), f.Invoiceable.Format(), f.NonInvoiceable.Format())
	}
	out := []string{"order " + fig(q.Figures)}
	for _, l := range q.Lines {
		out = append(out, "line "+l.LineID+" "+l.Product+" "+fig(l.Figures))
	}
	for _, ap := range q.Applications {
		s := fmt.Sprintf("applied %s key=%s %s %s/%s %s inv=%t refund=%s:", ap.InstrumentID, ap.Key, ap.Type, ap.Stage, ap.Kind, ap.Amount.Format(), ap.Invoiceable, ap.Refund)
		for _, l := range ap.Lines {
			s += " " + l.LineID + "=" + l.Amount.Format()
		}
		out = append(out, s)
	}
	for _, r := range q.Rejections {
		out = append(out, fmt.Sprintf("rejected %s key=%s %s", r.InstrumentID, r.Key, r.Reason))
	}
	return strings.Join(out, "\n  ")
}

// fzEngines returns the real aliyun and aws engines with their type names.
func fzEngines(tb testing.TB) ([]*rules.Engine, [][]string) {
	tb.Helper()
	var es []*rules.Engine
	var types [][]string
	for _, name := range []string{"aliyun", "aws"} {
		rs, err := providers.Load(name)
		if err != nil {
			tb.Fatal(err)
		}
		e, err := rules.NewEngine(rs)
		if err != nil {
			tb.Fatal(err)
		}
		es = append(es, e)
		types = append(types, rs.TypeNames())
	}
	return es, types
}

// fzStart is the wallets' clock at the start: midnight in Shanghai, where aliyun's
// dates fall.
var fzStart = time.Date(2026, 3, 1, 0, 0, 0, 0, time.FixedZone("UTC+8", 8*3600))

// FuzzWalletSteps drives a wallet on the real aliyun and aws engines through a
// byte-driven sequence of steps — grant, quote, checkout (sometimes right after a
// quote of the same order), reserve, capture, release, refund, activate, advance — at
// random times with random amounts. It never panics; every error carries a code the
// spec allows for that step (a step before the clock is clock_backwards); after every
// step Ledger().Verify() passes, no balance is below zero or above its face value,
// held <= balance, redemptions used and held stay within the instrument's; a failed
// step leaves instruments, orders, reservations, clock and ledger length as they were;
// a successful step moves the clock to its time; a quote changes no balance or
// redemption; every quote adds up; a checkout after a quote of the same order at the
// same time charges what the quote said, and a capture what the reservation priced;
// a quote once returned, and the quote a committed order keeps, never change later.
func FuzzWalletSteps(f *testing.F) {
	engines, typeLists := fzEngines(f)
	files := fzSeedFiles(f, "../providers/testdata/aliyun/*.yaml", "../providers/testdata/aws/*.yaml", "../testdata/conformance/*.yaml")
	for _, name := range fzSortedKeys(files) {
		f.Add(files[name])
	}
	for _, seed := range [][]byte{{}, {1}, {0, 0, 0, 0, 1, 1, 2, 2}, []byte("voucherkit"),
		{0, 2, 0, 3, 50, 0, 0, 0, 0, 2, 9, 1, 1, 5, 1, 1, 3, 0, 0, 0, 0, 4, 1, 6, 0, 8, 200},
		{1, 0, 0, 1, 40, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 7, 3, 0, 0, 2, 1, 7, 1},
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// A step that never returns would stall the fuzzer without a trace: turn it into
		// a crash, which the fuzzer records as a crasher with its input.
		done := make(chan struct{})
		defer close(done)
		go func() {
			select {
			case <-done:
			case <-time.After(fzHangLimit):
				panic(fmt.Sprintf("FuzzWalletSteps: one input ran longer than %v: %x", fzHangLimit, data))
			}
		}()
		fzWalletSteps(t, engines, typeLists, data)
	})
}

// fzHangLimit is far more than any input needs (milliseconds).
const fzHangLimit = 20 * time.Second

// fzWalletSteps is FuzzWalletSteps' body: one byte-driven run of wallet steps.
func fzWalletSteps(t *testing.T, engines []*rules.Engine, typeLists [][]string, data []byte) {
	s := &fzSrc{b: data}
	k := s.intn(len(engines))
	e, types := engines[k], typeLists[k]
	w := voucher.NewWallet(e, fzStart)
	reserved := map[string]*voucher.Quote{}
	// Quotes returned to the caller, with their text when returned: the wallet must
	// never change them afterwards (it reuses its own buffers between steps).
	type kept struct {
		q    *voucher.Quote
		text string
	}
	var returned []kept
	committed := map[string]string{} // order id -> its quote's text when committed
	var fail func(format string, a ...any)
	// checkKept checks, every few steps, that no quote returned earlier and no
	// committed record has changed since.
	checkKept := func(op string) {
		t.Helper()
		for _, k := range returned {
			if now := fzRender(k.q); now != k.text {
				fail("after %s, a quote returned earlier has changed:\n  %s\nto\n  %s", op, k.text, now)
			}
		}
		for id, text := range committed {
			rec, ok := w.Order(id)
			if !ok {
				fail("committed order %s is gone", id)
			}
			if now := fzRender(rec.Quote); now != text {
				fail("after %s, the committed quote of %s is\n  %s\nnot what was committed:\n  %s", op, id, now, text)
			}
		}
	}
	var lastReserved, lastCommitted string
	// orderID is mostly the order the last reserve (or checkout) was about, so that
	// captures, releases and refunds reach the orders that exist.
	orderID := func(last string) string {
		if last != "" && !s.chance(4) {
			return last
		}
		return s.pick(fzOrderIDs)
	}
	var log []fzLogLine
	fail = func(format string, a ...any) {
		t.Helper()
		lines := make([]string, len(log))
		for i, l := range log {
			lines[i] = l.String()
		}
		t.Fatalf("engine %s, steps:\n  %s\n%s", e.RuleSet().Name, strings.Join(lines, "\n  "), fmt.Sprintf(format, a...))
	}
	for n := 0; n < 64 && len(s.b) > 0; n++ {
		before := fzSnapshot(w)
		at := w.Now().Add(s.dur())
		if s.chance(3) {
			at = w.Now().Add(time.Duration(s.intn(40)) * time.Minute) // within a hold
		}
		var (
			op  string
			err error
			q   *voucher.Quote
		)
		switch s.intn(10) {
		case 0, 1:
			op = "grant"
			in := fzInstrument(s, e, types, w.Now())
			log = append(log, fzLine("grant %+v", in))
			err = w.Grant(in)
			at = before.now
		case 2:
			op = "quote"
			o := fzOrder(s)
			log = append(log, fzLine("quote at %s %+v", fzTime(at), o))
			q, err = w.Quote(o, at)
			if err == nil {
				if d := fzBalancesChanged(before, fzSnapshot(w)); d != "" {
					fail("a quote changed an instrument: %s", d)
				}
			}
		case 3, 4:
			op = "checkout"
			o := fzOrder(s)
			var pre *voucher.Quote
			if s.chance(2) {
				if pq, perr := w.Quote(o, at); perr == nil {
					pre = pq
					before = fzSnapshot(w) // the quote moved the clock
				}
			}
			log = append(log, fzLine("checkout at %s (quoted first: %t) %+v", fzTime(at), pre != nil, o))
			q, err = w.Checkout(o, at)
			if err == nil {
				lastCommitted = o.ID
			}
			if err == nil && pre != nil {
				if d := fzQuoteDiff(pre, q); d != "" {
					fail("checkout differs from the quote just before:\n  %s", d)
				}
			}
		case 5:
			op = "reserve"
			o := fzOrder(s)
			hold := time.Duration(s.intn(180)) * time.Minute
			log = append(log, fzLine("reserve at %s hold %v %+v", fzTime(at), hold, o))
			q, err = w.Reserve(o, at, hold)
			if err == nil {
				reserved[o.ID] = q
				lastReserved = o.ID
			}
		case 6:
			id := orderID(lastReserved)
			if s.chance(2) {
				op = "capture"
				log = append(log, fzLine("capture %s at %s", id, fzTime(at)))
				q, err = w.Capture(id, at)
				if err == nil {
					lastCommitted = id
					if d := fzQuoteDiff(reserved[id], q); reserved[id] == nil || d != "" {
						fail("capture differs from the reservation:\n  %s", d)
					}
				}
			} else {
				op = "release"
				log = append(log, fzLine("release %s at %s", id, fzTime(at)))
				_, err = w.Release(id, at)
			}
		case 7:
			op = "refund"
			r := voucher.RefundRequest{OrderID: orderID(lastCommitted)}
			switch s.intn(4) {
			case 0:
				r.Lines = []string{}
				for i, n := 0, s.intn(4); i < n; i++ {
					r.Lines = append(r.Lines, fmt.Sprintf("l%d", s.intn(5)))
				}
			case 1:
				r.Consumed = s.amount()
				if s.chance(8) {
					r.Consumed = r.Consumed.Neg()
				}
			}
			log = append(log, fzLine("refund at %s %+v", fzTime(at), r))
			var res *voucher.RefundResult
			res, err = w.Refund(r, at)
			if err == nil {
				if res.CashRefund.IsNegative() {
					fail("negative cash refund %s", res.CashRefund)
				}
				for id, m := range res.Forfeited {
					if !m.IsPositiveAmount() {
						fail("forfeited %s of %s: only amounts above zero are listed", m, id)
					}
				}
				for id, m := range res.Restored {
					if !m.IsPositiveAmount() {
						fail("restored %s to %s: only amounts above zero are listed", m, id)
					}
				}
			}
		case 8:
			op = "activate"
			code, acct := s.pick(fzCodes), s.pick(fzAccounts)
			if !s.chance(3) {
				for _, in := range w.Instruments() {
					if in.PendingActivation {
						code = in.Code
						break
					}
				}
			}
			log = append(log, fzLine("activate %s for %q at %s", code, acct, fzTime(at)))
			_, err = w.Activate(code, acct, at)
		default:
			op = "advance"
			log = append(log, fzLine("advance to %s", fzTime(at)))
			var res *voucher.ClockResult
			res, err = w.Advance(at)
			if err == nil {
				if d := fzBalancesChanged(before, fzSnapshot(w)); d != "" {
					fail("advance changed a balance: %s", d)
				}
				for id, m := range res.Forfeited {
					if !m.IsPositiveAmount() {
						fail("forfeited %s of %s: only amounts above zero are listed", m, id)
					}
				}
			}
		}
		if err != nil {
			log[len(log)-1].err = err
			code := voucher.ErrorCode(err)
			if !slices.Contains(fzStepCodes[op], code) {
				fail("%s failed with code %q, not one the spec allows (%v): %v", op, code, fzStepCodes[op], err)
			}
			if op != "grant" && at.Before(before.now) && code != "clock_backwards" {
				fail("%s before the clock failed with %s, want clock_backwards", op, code)
			}
			if d := before.diff(fzSnapshot(w)); d != "" {
				fail("failed %s changed the wallet: %s", op, d)
			}
		} else {
			if op != "grant" && at.Before(before.now) {
				fail("%s before the clock succeeded", op)
			}
			if now := w.Now(); !now.Equal(at) {
				fail("after %s at %s the clock is %s", op, fzTime(at), fzTime(now))
			}
			if q != nil {
				if err := fzCheckFigures(q); err != nil {
					fail("%s: quote does not add up: %v", op, err)
				}
				returned = append(returned, kept{q, fzRender(q)})
				if len(returned) > 6 {
					returned = returned[1:]
				}
				if op == "checkout" || op == "capture" {
					committed[q.OrderID] = fzRender(q)
				}
			}
		}
		if err := w.Ledger().Verify(); err != nil {
			fail("after %s: Verify: %v", op, err)
		}
		if n%8 == 7 || len(s.b) == 0 {
			checkKept(op)
		}
		for _, in := range w.Instruments() {
			pol, ok := e.Policy(in.Type)
			if !ok {
				fail("instrument %s of unknown type %s was granted", in.ID, in.Type)
			}
			if pol.Kind == voucher.Deduction {
				if in.Balance.IsNegative() || in.Held.IsNegative() || in.Held.GreaterThan(in.Balance) || in.Balance.GreaterThan(in.Amount) {
					fail("after %s: %s has amount %s balance %s held %s", op, in.ID, in.Amount, in.Balance, in.Held)
				}
			} else if in.Redeemed < 0 || in.HeldRedemptions < 0 || in.Redeemed+in.HeldRedemptions > in.Redemptions() {
				fail("after %s: %s has %d redeemed + %d held of %d", op, in.ID, in.Redeemed, in.HeldRedemptions, in.Redemptions())
			}
		}
	}
}
