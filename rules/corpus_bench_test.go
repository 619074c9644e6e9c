package rules_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/voucherkit/voucherkit/rules"
	"github.com/voucherkit/voucherkit/scenario"
)

// corpusLimit is the most parsing one malformed file may take.
const corpusLimit = time.Second

// BenchmarkMalformedCorpus parses every file of the malformed corpus — the rule sets of
// testdata/malformed and the scenarios of ../scenario/testdata/invalid and
// ../scenario/testdata/corpus (alias bombs, deep nesting, 1e999999, 70-digit amounts,
// garbage bytes, ...) — one sub-benchmark per file, so that ns/op is per file. A file
// that does not fail to parse, or that takes more than a second a parse on average,
// fails the benchmark:
//
//	go test -run '^$' -bench BenchmarkMalformedCorpus -benchtime 3x ./rules
func BenchmarkMalformedCorpus(b *testing.B) {
	dirs := []struct {
		dir   string
		parse func(path string, data []byte) error
	}{
		{"testdata/malformed", func(path string, data []byte) error {
			_, err := rules.Parse(path, data)
			return err
		}},
		{"../scenario/testdata/invalid", func(path string, data []byte) error {
			_, err := scenario.Parse(path, data)
			return err
		}},
		{"../scenario/testdata/corpus", func(path string, data []byte) error {
			_, err := scenario.Parse(path, data)
			return err
		}},
	}
	for _, d := range dirs {
		files, err := filepath.Glob(filepath.Join(d.dir, "*.yaml"))
		if err != nil {
			b.Fatal(err)
		}
		if len(files) == 0 {
			b.Fatalf("%s: no files", d.dir)
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				b.Fatal(err)
			}
			name := filepath.Base(d.dir) + "/" + strings.TrimSuffix(filepath.Base(f), ".yaml")
			b.Run(name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(data)))
				for i := 0; i < b.N; i++ {
					if err := d.parse(f, data); err == nil {
						b.Fatalf("%s parsed without an error", f)
					}
				}
				if per := b.Elapsed() / time.Duration(b.N); per > corpusLimit {
					b.Fatalf("%s: %v a parse, more than %v", f, per, corpusLimit)
				}
			})
		}
	}
}
