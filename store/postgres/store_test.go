package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/voucherkit/voucherkit/voucher"
)

var ctx = context.Background()

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func cny(s string) voucher.Money { return voucher.MustMoney(s, "CNY") }

// jsonOf is v's JSON: what the tests compare values by (a decimal or a time reads
// back equal, not identical).
func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func update(t *testing.T, s voucher.Store, fn func(tx voucher.Tx) error) {
	t.Helper()
	if err := s.Update(ctx, func(_ context.Context, tx voucher.Tx) error { return fn(tx) }); err != nil {
		t.Fatal(err)
	}
}

func view(t *testing.T, s voucher.Store, fn func(tx voucher.Tx) error) {
	t.Helper()
	if err := s.View(ctx, func(_ context.Context, tx voucher.Tx) error { return fn(tx) }); err != nil {
		t.Fatal(err)
	}
}

var (
	east    = time.FixedZone("", 8*3600)
	first   = time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC)
	last    = time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.UTC)
	someday = time.Date(2026, 3, 31, 23, 59, 59, 999_999_999, east)
)

// fullInstrument sets every field of an instrument.
func fullInstrument(id, account, code string) voucher.StoredInstrument {
	return voucher.StoredInstrument{
		Instrument: voucher.Instrument{
			ID: id, Type: "voucher", Account: account, Code: code, Currency: "CNY",
			Amount: dec("100.00"), Balance: voucher.Ptr(dec("99.99")), PercentOff: voucher.Ptr(dec("12.5")),
			MaxDiscount: voucher.Ptr(dec("7")), MinSpend: voucher.Ptr(dec("0.01")),
			Products: []string{"ecs", "rds"}, ExcludeProducts: []string{"oss"},
			OrderTypes: []voucher.OrderType{voucher.OrderNew}, PaymentTypes: []voucher.PaymentType{voucher.PayAsYouGo},
			FirstPurchaseOnly: voucher.Ptr(false), Shared: voucher.Ptr(true),
			IssuedAt: voucher.Ptr(first), EffectiveAt: voucher.Ptr(someday.Add(-time.Hour)), ExpiresAt: voucher.Ptr(last),
			ClaimedAt: voucher.Ptr(someday), MaxRedemptions: voucher.Ptr(3), ActivatedAt: voucher.Ptr(someday),
			Revoked: true, Redeemed: 1, Held: dec("0.01"), HeldRedemptions: 1,
		},
		Kind: voucher.Deduction, Expires: voucher.Ptr(someday), Used: true,
	}
}

// TestRoundTrip writes every kind of value with every field set, nanosecond times of
// the years 1 and 9999 and in other offsets included, and reads back the same values.
func TestRoundTrip(t *testing.T) {
	s := openTest(t).Wallet("w")
	si := fullInstrument("v1", "acct-1", "CODE-1")
	q := &voucher.Quote{OrderID: "o1", Account: "acct-1", RuleSet: "aliyun@1", Currency: "CNY", At: someday,
		Figures: voucher.Figures{Total: cny("10.00"), Discount: cny("1.00"), Deducted: cny("2.00"), Cash: cny("7.00"),
			Invoiceable: cny("9.00"), NonInvoiceable: cny("0.00")},
		Lines: []voucher.LineQuote{{LineID: "l1", Product: "ecs"}},
		Applications: []voucher.Application{{InstrumentID: "v1", Key: "v1", Account: "acct-1", Type: "voucher", Stage: "s",
			Kind: voucher.Deduction, Amount: cny("2.00"), Lines: []voucher.LineAmount{{LineID: "l1", Amount: cny("2.00")}}}},
		Trace: []voucher.TraceEntry{{Event: "apply", Amount: voucher.Ptr(cny("2.00"))}}}
	rec := voucher.OrderRecord{ID: "o1", Account: "acct-1", At: someday, Quote: q, Refunded: []string{"l1"}}
	resv := voucher.Reservation{OrderID: "r1", Account: "acct-1", At: first, Until: last, Quote: q}
	ref := voucher.RefundRecord{OrderID: "o1", Key: "k", At: someday,
		Request: voucher.RefundRequest{OrderID: "o1", Lines: []string{}, Consumed: voucher.Ptr(dec("0.5")), Key: "k"},
		Result:  voucher.RefundResult{OrderID: "o1", Lines: []string{"l1"}, CashRefund: cny("6.50"), Restored: map[string]voucher.Money{"v1": cny("2.00")}}}
	e := voucher.LedgerEntry{At: last, Kind: voucher.EntryDeduct, Account: "acct-1", Instrument: "v1", Order: "o1",
		Amount: cny("2.00"), Delta: cny("-2.00"), BalanceAfter: cny("97.99"), HeldAfter: cny("0.01"),
		RedeemedAfter: 1, HeldRedemptionsAfter: 2, Reason: "r"}
	update(t, s, func(tx voucher.Tx) error {
		return errors.Join(tx.InsertInstrument(ctx, si), tx.InsertOrder(ctx, rec), tx.InsertReservation(ctx, resv),
			tx.InsertRefund(ctx, ref), tx.AppendEntries(ctx, []voucher.LedgerEntry{e}), tx.SetClock(ctx, "acct-1", someday))
	})
	view(t, s, func(tx voucher.Tx) error {
		gotSI, ok, err := tx.Instrument(ctx, "v1")
		check(t, "instrument", ok, err, jsonOf(t, si), jsonOf(t, gotSI))
		gotRec, ok, err := tx.Order(ctx, "o1")
		check(t, "order", ok, err, jsonOf(t, rec), jsonOf(t, gotRec))
		gotResv, ok, err := tx.Reservation(ctx, "r1")
		check(t, "reservation", ok, err, jsonOf(t, resv), jsonOf(t, gotResv))
		gotRef, ok, err := tx.Refund(ctx, "o1", "k")
		check(t, "refund", ok, err, jsonOf(t, ref), jsonOf(t, gotRef))
		es, err := tx.Entries(ctx, voucher.LedgerQuery{})
		if len(es) != 1 {
			t.Fatalf("entries: %v, %v", es, err)
		}
		e.Seq = es[0].Seq
		check(t, "ledger entry", true, err, jsonOf(t, e), jsonOf(t, es[0]))
		clock, ok, err := tx.Account(ctx, "acct-1")
		check(t, "clock", ok, err, someday.Format(time.RFC3339Nano), clock.Format(time.RFC3339Nano))
		if !clock.Equal(someday) {
			t.Errorf("clock %v, want %v", clock, someday)
		}
		return nil
	})
}

func check(t *testing.T, what string, ok bool, err error, want, got string) {
	t.Helper()
	switch {
	case err != nil:
		t.Errorf("%s: %v", what, err)
	case !ok:
		t.Errorf("%s: not found", what)
	case want != got:
		t.Errorf("%s:\n got %s\nwant %s", what, got, want)
	}
}

// TestDuplicates: an order id is committed or reserved once (one namespace); an
// instrument id or code is taken once; the failed transaction keeps nothing, not even
// what it wrote before the duplicate.
func TestDuplicates(t *testing.T) {
	s := openTest(t).Wallet("w")
	q := &voucher.Quote{OrderID: "o1"}
	update(t, s, func(tx voucher.Tx) error {
		return errors.Join(tx.InsertInstrument(ctx, fullInstrument("v1", "a", "C1")),
			tx.InsertOrder(ctx, voucher.OrderRecord{ID: "o1", Account: "a", At: someday, Quote: q}),
			tx.InsertReservation(ctx, voucher.Reservation{OrderID: "r1", Account: "a", At: someday, Until: someday, Quote: q}))
	})
	cases := []struct {
		name  string
		write func(tx voucher.Tx) error
		want  error
		text  string
	}{
		{"order over order", func(tx voucher.Tx) error {
			return tx.InsertOrder(ctx, voucher.OrderRecord{ID: "o1", Account: "b", At: someday, Quote: q})
		}, voucher.ErrDuplicateOrder, `order "o1" is already committed or reserved`},
		{"order over reservation", func(tx voucher.Tx) error {
			return tx.InsertOrder(ctx, voucher.OrderRecord{ID: "r1", Account: "b", At: someday, Quote: q})
		}, voucher.ErrDuplicateOrder, `order "r1"`},
		{"reservation over order", func(tx voucher.Tx) error {
			return tx.InsertReservation(ctx, voucher.Reservation{OrderID: "o1", Account: "b", At: someday, Until: someday, Quote: q})
		}, voucher.ErrDuplicateOrder, `order "o1"`},
		{"instrument id", func(tx voucher.Tx) error { return tx.InsertInstrument(ctx, fullInstrument("v1", "b", "C2")) },
			voucher.ErrInvalidInstrument, `instrument "v1" already exists`},
		{"instrument code", func(tx voucher.Tx) error { return tx.InsertInstrument(ctx, fullInstrument("v2", "b", "C1")) },
			voucher.ErrInvalidInstrument, `code "C1" is already the code of another instrument`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := s.Update(ctx, func(ctx context.Context, tx voucher.Tx) error {
				if err := tx.InsertInstrument(ctx, fullInstrument("fresh", "b", "")); err != nil {
					return err
				}
				if err := tx.SetClock(ctx, "b", someday); err != nil {
					return err
				}
				if err := c.write(tx); err != nil {
					return err
				}
				_, _, err := tx.Instrument(ctx, "v1") // the queued writes go with this read
				return err
			})
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.text) {
				t.Fatalf("got %v, want %v saying %s", err, c.want, c.text)
			}
			view(t, s, func(tx voucher.Tx) error {
				_, ok, err := tx.Instrument(ctx, "fresh")
				_, clocked, err2 := tx.Account(ctx, "b")
				if err != nil || err2 != nil || ok || clocked {
					t.Errorf("the failed transaction left writes behind: instrument %v, clock %v (%v, %v)", ok, clocked, err, err2)
				}
				return nil
			})
		})
	}
}

// TestFailedStepKeepsNothing: a transaction whose fn fails after writing, or whose
// queued write finds nothing to update, keeps nothing; its commit never runs.
func TestFailedStepKeepsNothing(t *testing.T) {
	s := openTest(t).Wallet("w")
	update(t, s, func(tx voucher.Tx) error { return tx.InsertInstrument(ctx, fullInstrument("v1", "a", "")) })
	boom := errors.New("boom")
	err := s.Update(ctx, func(ctx context.Context, tx voucher.Tx) error {
		if err := tx.SetClock(ctx, "a", someday); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want boom", err)
	}
	for name, w := range map[string]func(tx voucher.Tx) error{
		"update of a missing instrument": func(tx voucher.Tx) error { return tx.UpdateInstrument(ctx, fullInstrument("nope", "a", "")) },
		"update that changes a code":     func(tx voucher.Tx) error { return tx.UpdateInstrument(ctx, fullInstrument("v1", "a", "NEW")) },
		"updates of an instrument and of a missing one": func(tx voucher.Tx) error {
			changed := fullInstrument("v1", "b", "")
			return errors.Join(tx.UpdateInstrument(ctx, changed), tx.UpdateInstrument(ctx, fullInstrument("nope", "a", "")))
		},
		"update of a missing order": func(tx voucher.Tx) error {
			return tx.UpdateOrder(ctx, voucher.OrderRecord{ID: "nope", Account: "a", Quote: &voucher.Quote{}})
		},
		"delete of a missing reservation": func(tx voucher.Tx) error { return tx.DeleteReservation(ctx, "nope") },
	} {
		err := s.Update(ctx, func(ctx context.Context, tx voucher.Tx) error {
			if err := tx.SetClock(ctx, "a", someday); err != nil {
				return err
			}
			return w(tx) // queued: it fails with the commit it goes with
		})
		if err == nil || !strings.Contains(err.Error(), "nope") && !strings.Contains(err.Error(), "code never changes") {
			t.Errorf("%s: got %v, want an error naming it", name, err)
		}
	}
	view(t, s, func(tx voucher.Tx) error {
		if _, ok, err := tx.Account(ctx, "a"); ok || err != nil {
			t.Errorf("a failed transaction set the clock (%v)", err)
		}
		if si, _, err := tx.Instrument(ctx, "v1"); si.Account() != "a" || err != nil {
			t.Errorf("a failed transaction changed instrument v1: owner %q (%v)", si.Account(), err)
		}
		return nil
	})
}
