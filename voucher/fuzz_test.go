package voucher_test

// Fuzz targets of the voucher package, seeded from the project's real files:
//
//	go test -run '^$' -fuzz '^FuzzParseMoney$'  -fuzztime 5m -parallel 1 ./voucher
//	go test -run '^$' -fuzz '^FuzzWalletSteps$' -fuzztime 5m -parallel 1 ./voucher
//
// Without -fuzz, `go test` runs each target over its seeds only. (The allocator's
// fuzz target, FuzzProportional, is in internal/fixed with the allocator.)

import (
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

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

// fzParseAllocLimit bounds what parsing one input of the money fuzzer may allocate:
// refusing "1e999999" or a 60-digit amount must be cheap, never an expansion into a
// million digits. (It was a wall-clock limit; the bytes allocated say the same without
// depending on how loaded the machine is.)
const fzParseAllocLimit = 256 << 10

// FuzzParseMoney: ParseDecimal and ParseMoney never panic; NaN, infinities, exponents
// beyond ±30 and over-long input are refused, cheaply; what is accepted is exactly the
// decimal that math/big reads, and a Money round-trips exactly through Format/String and
// through JSON (its own JSON, and any JSON that UnmarshalJSON accepts).
func FuzzParseMoney(f *testing.F) {
	curs := fzCurrencies()
	fzAddMoneySeeds(f)
	f.Fuzz(func(t *testing.T, s string, which uint8) {
		cur := curs[int(which)%len(curs)]
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		d, derr := voucher.ParseDecimal(s)
		m, merr := voucher.ParseMoney(s, cur)
		runtime.ReadMemStats(&after)
		if n := after.TotalAlloc - before.TotalAlloc; n > fzParseAllocLimit {
			t.Fatalf("parsing %q allocated %d bytes", s, n)
		}
		fzCheckParseDecimal(t, s, d, derr)
		fzCheckParseMoney(t, s, cur, d, derr, m, merr)

		// Any JSON that UnmarshalJSON accepts round-trips too.
		var j voucher.Money
		if err := json.Unmarshal([]byte(s), &j); err == nil && !j.IsUnset() {
			fzCheckMoneyRoundTrip(t, "JSON "+s, j, j.Currency())
		}
	})
}

// fzAddMoneySeeds seeds FuzzParseMoney with the amounts of the project's YAML files,
// each once, then with amounts at and past every edge ParseDecimal has; the second
// argument, which picks the currency, counts up from zero.
func fzAddMoneySeeds(f *testing.F) {
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
}

// fzCheckParseDecimal checks what ParseDecimal(s) returned: no NaN or infinity, at
// most 64 characters, an exponent within ±30, exactly what math/big reads; or an error
// that wraps ErrInvalidMoney.
func fzCheckParseDecimal(t *testing.T, s string, d decimal.Decimal, derr error) {
	t.Helper()
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
}

// fzCheckParseMoney checks what ParseMoney(s, cur) returned against ParseDecimal's
// d and derr: it accepts exactly what ParseDecimal accepts at the currency's scale
// (refusing, never rounding, what is finer), its errors wrap ErrInvalidMoney, and what
// it accepts is ParseDecimal's value and round-trips.
func fzCheckParseMoney(t *testing.T, s string, cur voucher.Currency, d decimal.Decimal, derr error, m voucher.Money, merr error) {
	t.Helper()
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
	_, _ = m.Units() // must not panic, whatever the magnitude
}
