package voucher_test

import (
	"testing"

	"github.com/voucherkit/voucherkit/voucher"
)

// BenchmarkParseMoneyHugeExponent is where the speed of refusing an exponent that would
// expand into a million digits is measured (a test asserts only that it is refused).
func BenchmarkParseMoneyHugeExponent(b *testing.B) {
	cny := voucher.MustCurrency("CNY")
	for b.Loop() {
		if _, err := voucher.ParseMoney("1e9223372036854775807", cny); err == nil {
			b.Fatal("a huge exponent must be refused")
		}
	}
}
