package scenario_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/voucherkit/voucherkit/rules"
	"github.com/voucherkit/voucherkit/scenario"
)

// The malformed corpus: every rule set of rules/testdata/malformed, every scenario of
// testdata/invalid (each checked in detail by its own table test) and of
// testdata/corpus (the classes those two leave out). Whatever the file, parsing it
// gives Errors whose text names the file with line and column — or only the file, for
// an error about the whole document — and the key where one applies, and never panics.
// BenchmarkMalformedCorpus in package rules times each file.
var corpusDirs = []struct {
	dir   string
	parse func(path string, data []byte) (bool, error) // bool: it returned a value
	is    error
}{
	{"../rules/testdata/malformed", func(path string, data []byte) (bool, error) {
		rs, err := rules.Parse(path, data)
		return rs != nil, err
	}, rules.ErrInvalidRuleSet},
	{"testdata/invalid", parseScenario, scenario.ErrInvalid},
	{"testdata/corpus", parseScenario, scenario.ErrInvalid},
}

func parseScenario(path string, data []byte) (bool, error) {
	s, err := scenario.Parse(path, data)
	return s != nil, err
}

// corpusWant is the error each file of testdata/corpus must report, after its name:
// ":LINE:COL: KEY: MESSAGE" (a prefix of it), or ": MESSAGE" for a whole-document error.
// TestCorpusFilesAreAllListed keeps the table and the directory in step.
var corpusWant = map[string]string{
	// Numbers: never through a float, never expanded.
	"huge-amount.yaml":          `:5:36: wallet[0].amount: must be a decimal amount such as "12.50", got "1e999999"`,
	"huge-item-amount.yaml":     `:9:46: steps[0].quote.items[0].amount: must be a decimal amount such as "12.50", got "1e999999"`,
	"huge-expect.yaml":          `:7:14: steps[0].expect.total: amount "-1e31" is out of range`,
	"long-amount.yaml":          `:7:13: wallet[0].amount: amount is longer than 64 characters`,
	"nan-amount.yaml":           `:5:36: wallet[0].amount: must be a decimal amount such as "12.50", got ".nan"`,
	"huge-max-redemptions.yaml": `:5:58: wallet[0].max_redemptions: must be an integer`,

	// The shape of the document: nesting, aliases, documents, bytes.
	"deep-nesting.yaml":    `:7:79: nesting is deeper than 64 levels`,
	"alias-bomb.yaml":      `:4:25: document is too large: its aliases expand it to more than the limit of 200000 nodes (keys, values, list items)`,
	"unknown-anchor.yaml":  `: invalid YAML: unknown anchor 'nothing' referenced`,
	"merge-key.yaml":       `:4:1: base: unknown key`,
	"second-document.yaml": `:6:1: found a second YAML document; a file holds exactly one`,
	"empty.yaml":           `: document is empty`,
	"comment-only.yaml":    `: document is empty`,
	"not-a-mapping.yaml":   `:1:1: must be a mapping, got a list`,
	"tab-in-flow.yaml":     `:6:1: invalid YAML: found character that cannot start any token`,
	"garbage-bytes.yaml":   `: invalid YAML: invalid leading UTF-8 octet`,
	"control-char.yaml":    `: invalid YAML: control characters are not allowed`,

	// Times: dates that do not exist, offsets out of range, zone names, no offset.
	"bad-date.yaml":   `:3:6: now: "2026-02-30" is not a time`,
	"bad-offset.yaml": `:5:14: steps[0].advance: "2026-03-03T10:00:00+25:00" is not a time`,
	"offset-24.yaml":  `:5:14: steps[0].advance: "2026-03-03T10:00:00+24:00" is not a time`,
	"year-zero.yaml":  `:3:6: now: "0000-06-01T00:00:00Z" is out of range: want a time in the years 0001 to 9999`,
	"year-10000.yaml": `:5:53: wallet[0].expires_at: "9999-12-31" is out of range`,
	"zone-name.yaml":  `:5:55: wallet[0].expires_at: "2026-03-31T00:00:00 Asia/Shanghai" is not a time`,
	"no-offset.yaml":  `:6:9: steps[0].at: "2026-03-02T10:00:00" is not a time`,
	"bad-hold.yaml":   `:6:11: steps[0].hold: invalid duration: "-15m" is not a positive duration`,

	// Duplicates.
	"duplicate-code.yaml":              `:6:38: wallet[1].code: code "SPRING" is also the code of instrument "p1"`,
	"duplicate-product.yaml":           `:5:64: wallet[0].products[2]: "ecs" is listed twice`,
	"duplicate-key.yaml":               `:9:7: steps[0].quote.id: duplicate key`,
	"duplicate-top-key.yaml":           `:4:1: name: duplicate key`,
	"two-actions-refund-activate.yaml": `:6:5: steps[0].activate: a step has exactly one action, and this one already has refund`,

	// Wrong types.
	"expect-total-list.yaml":     `:7:14: steps[0].expect.total: must be a decimal amount, got a list`,
	"expect-applied-scalar.yaml": `:7:16: steps[0].expect.applied: must be a mapping, got str "10"`,
	"expect-error-bool.yaml":     `:7:14: steps[0].expect.error: must be a string, got bool "true"`,
	"expect-wallet-list.yaml":    `:9:15: steps[0].expect.wallet: must be a mapping, got a list`,
	"steps-null.yaml":            `:4:8: steps: must be a list, got null`,

	// Values the library cannot hold make the file invalid where they are given.
	"out-of-range-amount.yaml":   `:8:36: wallet[0].amount: 100000000000000000000 is beyond the largest amount voucherkit holds in CNY`,
	"out-of-range-line.yaml":     `:10:46: steps[0].quote.items[0].amount: 100000000000000 is beyond the largest amount voucherkit holds in CNY`,
	"zero-max-discount.yaml":     `:6:73: wallet[0].max_discount: must be above zero (omit it for no cap)`,
	"out-of-range-consumed.yaml": `:6:35: steps[0].refund.consumed: 100000000000000000000 is beyond the largest amount voucherkit holds in CNY`,
}

func TestMalformedCorpus(t *testing.T) {
	total := 0
	for _, c := range corpusDirs {
		files, err := filepath.Glob(filepath.Join(c.dir, "*.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if len(files) == 0 {
			t.Fatalf("%s: no files", c.dir)
		}
		total += len(files)
		for _, f := range files {
			t.Run(filepath.Base(c.dir)+"/"+filepath.Base(f), func(t *testing.T) {
				data, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				got, err := c.parse(f, data) // a panic fails the test
				if got {
					t.Errorf("returned a value as well as %v", err)
				}
				if perr := checkPositioned(f, err, c.is); perr != nil {
					t.Fatal(perr)
				}
				if want, ok := corpusWant[filepath.Base(f)]; ok && c.dir == "testdata/corpus" {
					if !strings.Contains(err.Error(), f+want) {
						t.Errorf("got\n%v\nwant an error starting\n%s%s", err, f, want)
					}
				}
			})
		}
	}
	if total < 100 {
		t.Errorf("the corpus has %d files, want at least 100", total)
	}
}

func TestCorpusFilesAreAllListed(t *testing.T) {
	files, err := filepath.Glob("testdata/corpus/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	for _, n := range names {
		if _, ok := corpusWant[n]; !ok {
			t.Errorf("testdata/corpus/%s has no row in corpusWant", n)
		}
	}
	for n := range corpusWant {
		if !slices.Contains(names, n) {
			t.Errorf("corpusWant lists %s, which testdata/corpus does not have", n)
		}
	}
}
