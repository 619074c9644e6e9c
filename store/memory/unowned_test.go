package memory_test

import (
	"context"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/voucherkit/voucherkit/providers"
	"github.com/voucherkit/voucherkit/rules"
	"github.com/voucherkit/voucherkit/store/memory"
	"github.com/voucherkit/voucherkit/voucher"
)

// TestUnownedExpireInTimeOrder: unclaimed activation vouchers whose ids sort the other
// way round from their expiries expire in one sweep; the ledger of the unowned
// account ("") goes forward in time, and Verify passes. (The sweep once recorded them
// in id order, so that "" went back in time.)
func TestUnownedExpireInTimeOrder(t *testing.T) {
	ctx := context.Background()
	rs, err := providers.Load("aliyun")
	if err != nil {
		t.Fatal(err)
	}
	eng, err := rules.NewEngine(rs)
	if err != nil {
		t.Fatal(err)
	}
	w := voucher.NewWallet(eng, memory.New())
	start := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	for i, id := range []string{"g-1", "g-11", "g-13"} {
		exp := start.Add(time.Duration(3-i) * time.Hour) // g-1 last, g-13 first
		in := voucher.Instrument{ID: id, Type: "voucher", Code: "CODE-" + id, PendingActivation: true,
			Amount: decimal.RequireFromString("10"), ExpiresAt: &exp}
		if err := w.Grant(ctx, in, start); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Expire(ctx, start.Add(4*time.Hour)); err != nil {
		t.Fatal(err)
	}
	es, err := w.Ledger(ctx, voucher.LedgerQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range es {
		if e.Kind == voucher.EntryExpire {
			got = append(got, e.Instrument)
		}
	}
	if want := []string{"g-13", "g-11", "g-1"}; len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("expired %v, want %v (by expiry)", got, want)
	}
	if err := w.Verify(ctx); err != nil {
		t.Error(err)
	}
}
