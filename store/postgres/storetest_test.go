package postgres_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/voucherkit/voucherkit/store/postgres"
	"github.com/voucherkit/voucherkit/store/storetest"
	"github.com/voucherkit/voucherkit/voucher"
)

// TestStore runs the store conformance suite on PostgreSQL: every store it asks for is
// a new wallet of one database, so that the suite also shows that wallets share
// nothing. Its concurrent load gets holds long enough to be captured and released
// with every step a few round trips (and slower yet under the race detector).
func TestStore(t *testing.T) {
	db := openTest(t, postgres.WithMaxConns(24))
	var n atomic.Int64
	storetest.Run(t, func(t *testing.T) voucher.Store {
		return db.Wallet("storetest-" + t.Name() + "-" + string(rune('a'+n.Add(1)%26)) + itoa(n.Load()))
	}, storetest.WithLoad(storetest.Load{Span: 10 * time.Second, Hold: 5 * time.Second}))
}

func itoa(n int64) string {
	const digits = "0123456789"
	if n < 10 {
		return digits[n : n+1]
	}
	return itoa(n/10) + digits[n%10:n%10+1]
}
