package providers_test

import (
	"testing"

	"github.com/voucherkit/voucherkit/providers"
	"github.com/voucherkit/voucherkit/rules"
)

// BenchmarkLoad measures loading (parsing and validating) each built-in rule set and
// compiling it into an engine, the cost paid once per process.
func BenchmarkLoad(b *testing.B) {
	for _, name := range providers.Names() {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				rs, err := providers.Load(name)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := rules.NewEngine(rs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
