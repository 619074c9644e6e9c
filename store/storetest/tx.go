package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/voucherkit/voucherkit/voucher"
)

// runTx checks the Tx contract method by method, each check on a new store.
func runTx(t *testing.T, newStore NewStore) {
	for _, c := range []struct {
		name string
		fn   func(t *testing.T, s voucher.Store)
	}{
		{"EmptyStore", txEmpty},
		{"Clocks", txClocks},
		{"InstrumentRoundTrip", txInstrumentRoundTrip},
		{"InstrumentIndexes", txInstrumentIndexes},
		{"InstrumentUniqueness", txInstrumentUniqueness},
		{"UpdatesFailTogether", txUpdatesFailTogether},
		{"Orders", txOrders},
		{"Reservations", txReservations},
		{"OrderNamespace", txOrderNamespace},
		{"Refunds", txRefunds},
		{"Organizations", txOrganizations},
		{"LedgerSeq", txLedgerSeq},
		{"LedgerFilters", txLedgerFilters},
		{"Due", txDue},
		{"ReadYourWrites", txReadYourWrites},
		{"Copies", txCopies},
		{"RollbackLeavesNothing", txRollback},
		{"PanicLeavesNothing", txPanic},
		{"ViewCannotWrite", txViewCannotWrite},
		{"CancelledContext", txCancelled},
	} {
		t.Run(c.name, func(t *testing.T) { c.fn(t, newStore(t)) })
	}
}

func txEmpty(t *testing.T, s voucher.Store) {
	view(t, s, func(tx voucher.Tx) {
		_, ok, err := tx.Account(ctxb, "a")
		require.NoError(t, err)
		assert.False(t, ok, "Account of an account that never stepped")
		_, ok, err = tx.Instrument(ctxb, "i")
		require.NoError(t, err)
		assert.False(t, ok, "Instrument")
		_, ok, err = tx.InstrumentByCode(ctxb, "C")
		require.NoError(t, err)
		assert.False(t, ok, "InstrumentByCode")
		for _, a := range []string{"", "a"} {
			insts, err := tx.AccountInstruments(ctxb, a)
			require.NoError(t, err)
			assert.Empty(t, insts, "AccountInstruments(%q)", a)
			resv, err := tx.AccountReservations(ctxb, a)
			require.NoError(t, err)
			assert.Empty(t, resv, "AccountReservations(%q)", a)
			orders, err := tx.AccountOrders(ctxb, a, "", 10)
			require.NoError(t, err)
			assert.Empty(t, orders, "AccountOrders(%q)", a)
		}
		insts, err := tx.Instruments(ctxb, "", 10)
		require.NoError(t, err)
		assert.Empty(t, insts, "Instruments")
		due, err := tx.Due(ctxb, time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), "", 10)
		require.NoError(t, err)
		assert.Empty(t, due, "Due")
		_, ok, err = tx.Order(ctxb, "o")
		require.NoError(t, err)
		assert.False(t, ok, "Order")
		_, ok, err = tx.Reservation(ctxb, "o")
		require.NoError(t, err)
		assert.False(t, ok, "Reservation")
		resv, err := tx.Reservations(ctxb, "", 10)
		require.NoError(t, err)
		assert.Empty(t, resv, "Reservations")
		_, ok, err = tx.Refund(ctxb, "o", "k")
		require.NoError(t, err)
		assert.False(t, ok, "Refund")
		entries, err := tx.Entries(ctxb, voucher.LedgerQuery{})
		require.NoError(t, err)
		assert.Empty(t, entries, "Entries")
	})
}

func txClocks(t *testing.T, s voucher.Store) {
	year1 := time.Date(1, 1, 1, 0, 0, 0, 1, shanghai)
	year9999 := time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.FixedZone("", -14*3600))
	update(t, s, func(tx voucher.Tx) {
		require.NoError(t, tx.SetClock(ctxb, "a", year1))
		require.NoError(t, tx.SetClock(ctxb, "b", year9999))
		require.NoError(t, tx.SetClock(ctxb, "", t0))
	})
	update(t, s, func(tx voucher.Tx) {
		require.NoError(t, tx.SetClock(ctxb, "a", t0.Add(time.Nanosecond)))
	})
	view(t, s, func(tx voucher.Tx) {
		for a, want := range map[string]time.Time{"a": t0.Add(time.Nanosecond), "b": year9999, "": t0} {
			got, ok, err := tx.Account(ctxb, a)
			require.NoError(t, err)
			require.True(t, ok, "account %q has a clock", a)
			requireSame(t, want, got, "clock of "+a)
		}
		_, ok, err := tx.Account(ctxb, "A")
		require.NoError(t, err)
		assert.False(t, ok, "account names are case-sensitive")
	})
}

func txInstrumentRoundTrip(t *testing.T, s voucher.Store) {
	full := fullInstrument("full")
	minimal := voucher.StoredInstrument{Instrument: voucher.Instrument{ID: "min", Type: "coupon"}, Kind: voucher.Discount}
	empty := emptySlices("empty")
	zeroBalance := deduction("zero", "acct-1", nil)
	zeroBalance.Instrument.Balance = voucher.Ptr(dec("0"))
	noBalance := deduction("nobal", "acct-1", nil)
	noBalance.Instrument.Balance = nil
	all := []voucher.StoredInstrument{full, minimal, empty, zeroBalance, noBalance}
	update(t, s, func(tx voucher.Tx) {
		for _, si := range all {
			require.NoError(t, tx.InsertInstrument(ctxb, si))
		}
	})
	view(t, s, func(tx voucher.Tx) {
		for _, want := range all {
			got, ok, err := tx.Instrument(ctxb, want.ID())
			require.NoError(t, err)
			require.True(t, ok, "instrument %q", want.ID())
			requireSame(t, want, got, "instrument "+want.ID())
		}
		got, ok, err := tx.InstrumentByCode(ctxb, "Code-full")
		require.NoError(t, err)
		require.True(t, ok)
		requireSame(t, full, got, "instrument by code")
	})
	// An update replaces the whole value, clearing fields too.
	changed := full.Clone()
	changed.Instrument.Balance, changed.Instrument.ExpiresAt, changed.Expires = nil, nil, nil
	changed.Instrument.Products, changed.Instrument.OrderTypes = nil, []voucher.OrderType{}
	changed.Used, changed.Expired, changed.Instrument.Redeemed = false, false, 0
	update(t, s, func(tx voucher.Tx) { require.NoError(t, tx.UpdateInstrument(ctxb, changed)) })
	view(t, s, func(tx voucher.Tx) {
		got, _, err := tx.Instrument(ctxb, "full")
		require.NoError(t, err)
		requireSame(t, changed, got, "updated instrument")
	})
}

func ids(insts []voucher.StoredInstrument) []string {
	out := []string{}
	for _, si := range insts {
		out = append(out, si.ID())
	}
	return out
}

func txInstrumentIndexes(t *testing.T, s voucher.Store) {
	update(t, s, func(tx voucher.Tx) {
		for _, si := range []voucher.StoredInstrument{
			deduction("i3", "a", nil), discount("i1", "a", nil), deduction("i2", "b", nil),
			deduction("u2", "", nil), discount("u1", "", nil), deduction("i0", "ab", nil), deduction("I9", "a", nil),
		} {
			if si.ID()[0] == 'u' {
				si.Instrument.Code, si.Instrument.PendingActivation = "CODE-"+si.ID(), true
			}
			require.NoError(t, tx.InsertInstrument(ctxb, si))
		}
	})
	accountIDs := func(tx voucher.Tx, a string) []string {
		insts, err := tx.AccountInstruments(ctxb, a)
		require.NoError(t, err)
		return ids(insts)
	}
	view(t, s, func(tx voucher.Tx) {
		assert.Equal(t, []string{"I9", "i1", "i3"}, accountIDs(tx, "a"), "sorted by id (bytewise), only account a's")
		assert.Equal(t, []string{"i2"}, accountIDs(tx, "b"))
		assert.Equal(t, []string{"u1", "u2"}, accountIDs(tx, ""), `"": the instruments with no owner`)
		assert.Equal(t, []string{}, accountIDs(tx, "A"))
		_, ok, err := tx.InstrumentByCode(ctxb, "code-u1")
		require.NoError(t, err)
		assert.False(t, ok, "codes are case-sensitive")
		var pages [][]string
		after := ""
		for {
			page, err := tx.Instruments(ctxb, after, 3)
			require.NoError(t, err)
			if len(page) == 0 {
				break
			}
			pages = append(pages, ids(page))
			after = page[len(page)-1].ID()
		}
		assert.Equal(t, [][]string{{"I9", "i0", "i1"}, {"i2", "i3", "u1"}, {"u2"}}, pages, "Instruments pages by id")
		page, err := tx.Instruments(ctxb, "i1", 2)
		require.NoError(t, err)
		assert.Equal(t, []string{"i2", "i3"}, ids(page), "after is exclusive")
	})
	// Activation: the instrument moves from the unowned to its new account.
	update(t, s, func(tx voucher.Tx) {
		si, ok, err := tx.InstrumentByCode(ctxb, "CODE-u1")
		require.NoError(t, err)
		require.True(t, ok)
		si.Instrument.Account, si.Instrument.PendingActivation = "b", false
		require.NoError(t, tx.UpdateInstrument(ctxb, si))
		assert.Equal(t, []string{"i2", "u1"}, accountIDs(tx, "b"), "moved within the transaction")
		assert.Equal(t, []string{"u2"}, accountIDs(tx, ""))
	})
	view(t, s, func(tx voucher.Tx) {
		assert.Equal(t, []string{"i2", "u1"}, accountIDs(tx, "b"), "moved to its new account")
		assert.Equal(t, []string{"u2"}, accountIDs(tx, ""), "no longer unowned")
		si, ok, err := tx.InstrumentByCode(ctxb, "CODE-u1")
		require.NoError(t, err)
		require.True(t, ok, "the code stays the instrument's")
		assert.Equal(t, "b", si.Account())
	})
	err := s.Update(ctxb, func(ctx context.Context, tx voucher.Tx) error {
		return tx.UpdateInstrument(ctx, deduction("nope", "a", nil))
	})
	assert.Error(t, err, "UpdateInstrument of an instrument the store does not have")
}

// txUpdatesFailTogether: updates of several instruments in one transaction (one
// statement on a database): one missing fails the transaction, and the others' changes
// do not stay.
func txUpdatesFailTogether(t *testing.T, s voucher.Store) {
	update(t, s, func(tx voucher.Tx) { require.NoError(t, tx.InsertInstrument(ctxb, deduction("i2", "b", nil))) })
	err := s.Update(ctxb, func(ctx context.Context, tx voucher.Tx) error {
		si, ok, err := tx.Instrument(ctx, "i2")
		require.NoError(t, err)
		require.True(t, ok)
		si.Instrument.Redeemed = 7
		require.NoError(t, tx.UpdateInstrument(ctx, si))
		if err := tx.UpdateInstrument(ctx, deduction("nope", "a", nil)); err != nil {
			return err
		}
		_, err = tx.AccountInstruments(ctx, "b") // a read sends what is queued
		return err
	})
	assert.Error(t, err, "UpdateInstrument of two instruments, one of which the store does not have")
	view(t, s, func(tx voucher.Tx) {
		si, _, err := tx.Instrument(ctxb, "i2")
		require.NoError(t, err)
		assert.Zero(t, si.Instrument.Redeemed, "the other instrument's update did not stay")
	})
}

func txInstrumentUniqueness(t *testing.T, s voucher.Store) {
	first := deduction("i1", "a", nil)
	first.Instrument.Code = "C1"
	update(t, s, func(tx voucher.Tx) { require.NoError(t, tx.InsertInstrument(ctxb, first)) })
	sameID := deduction("i1", "b", nil)
	sameCode := deduction("i2", "b", nil)
	sameCode.Instrument.Code = "C1"
	for name, si := range map[string]voucher.StoredInstrument{"an existing id": sameID, "an existing code": sameCode} {
		err := s.Update(ctxb, func(ctx context.Context, tx voucher.Tx) error { return tx.InsertInstrument(ctx, si) })
		require.ErrorIs(t, err, voucher.ErrInvalidInstrument, "InsertInstrument with %s", name)
	}
	// Within one transaction too, and the instrument inserted before stays out.
	err := s.Update(ctxb, func(ctx context.Context, tx voucher.Tx) error {
		require.NoError(t, tx.InsertInstrument(ctx, deduction("i3", "b", nil)))
		return tx.InsertInstrument(ctx, deduction("i3", "c", nil))
	})
	require.ErrorIs(t, err, voucher.ErrInvalidInstrument)
	// Instruments without a code never clash on it; another case is another code.
	other := deduction("i4", "b", nil)
	other.Instrument.Code = "c1"
	update(t, s, func(tx voucher.Tx) {
		require.NoError(t, tx.InsertInstrument(ctxb, deduction("i5", "b", nil)))
		require.NoError(t, tx.InsertInstrument(ctxb, deduction("i6", "b", nil)))
		require.NoError(t, tx.InsertInstrument(ctxb, other))
	})
	view(t, s, func(tx voucher.Tx) {
		all, err := tx.Instruments(ctxb, "", 100)
		require.NoError(t, err)
		assert.Equal(t, []string{"i1", "i4", "i5", "i6"}, ids(all))
		got, _, err := tx.Instrument(ctxb, "i1")
		require.NoError(t, err)
		requireSame(t, first, got, "the first instrument, untouched by the refused inserts")
	})
}

func orderIDs(recs []voucher.OrderRecord) []string {
	out := []string{}
	for _, r := range recs {
		out = append(out, r.ID)
	}
	return out
}

func txOrders(t *testing.T, s voucher.Store) {
	o1 := orderRecord(t, "o1", "a", t0)
	o2 := orderRecord(t, "o2", "a", time.Date(1, 1, 1, 0, 0, 0, 0, shanghai))
	o2.Refunded = []string{"l2"}
	o0 := orderRecord(t, "o0", "b", t0)
	o3 := orderRecord(t, "o3", "a", t0)
	update(t, s, func(tx voucher.Tx) {
		for _, rec := range []voucher.OrderRecord{o3, o1, o2, o0} {
			require.NoError(t, tx.InsertOrder(ctxb, rec))
		}
	})
	view(t, s, func(tx voucher.Tx) {
		for _, want := range []voucher.OrderRecord{o1, o2, o0} {
			got, ok, err := tx.Order(ctxb, want.ID)
			require.NoError(t, err)
			require.True(t, ok, "order %q", want.ID)
			requireSame(t, want, got, "order "+want.ID)
		}
		page, err := tx.AccountOrders(ctxb, "a", "", 2)
		require.NoError(t, err)
		assert.Equal(t, []string{"o1", "o2"}, orderIDs(page), "sorted by id, only account a's, up to limit")
		page, err = tx.AccountOrders(ctxb, "a", "o2", 2)
		require.NoError(t, err)
		assert.Equal(t, []string{"o3"}, orderIDs(page), "after is exclusive")
		page, err = tx.AccountOrders(ctxb, "b", "", 10)
		require.NoError(t, err)
		assert.Equal(t, []string{"o0"}, orderIDs(page))
	})
	o1.Refunded = []string{"l2", "l1"}
	update(t, s, func(tx voucher.Tx) { require.NoError(t, tx.UpdateOrder(ctxb, o1)) })
	view(t, s, func(tx voucher.Tx) {
		got, _, err := tx.Order(ctxb, "o1")
		require.NoError(t, err)
		requireSame(t, o1, got, "updated order")
	})
	err := s.Update(ctxb, func(ctx context.Context, tx voucher.Tx) error {
		return tx.UpdateOrder(ctx, orderRecord(t, "o9", "a", t0))
	})
	assert.Error(t, err, "UpdateOrder of an order the store does not have")
}

func orderIDsOf(rs []voucher.Reservation) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.OrderID)
	}
	return out
}

func txReservations(t *testing.T, s voucher.Store) {
	r1 := reservation(t, "r1", "a", t0, t0.Add(30*time.Minute))
	r2 := reservation(t, "r2", "a", t0, time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC))
	r0 := reservation(t, "r0", "b", time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC), t0)
	r3 := reservation(t, "r3", "", t0, t0)
	update(t, s, func(tx voucher.Tx) {
		for _, r := range []voucher.Reservation{r2, r1, r0, r3} {
			require.NoError(t, tx.InsertReservation(ctxb, r))
		}
	})
	view(t, s, func(tx voucher.Tx) {
		for _, want := range []voucher.Reservation{r1, r2, r0} {
			got, ok, err := tx.Reservation(ctxb, want.OrderID)
			require.NoError(t, err)
			require.True(t, ok, "reservation %q", want.OrderID)
			requireSame(t, want, got, "reservation "+want.OrderID)
		}
		got, err := tx.AccountReservations(ctxb, "a")
		require.NoError(t, err)
		assert.Equal(t, []string{"r1", "r2"}, orderIDsOf(got), "sorted by order id, only account a's")
		got, err = tx.AccountReservations(ctxb, "")
		require.NoError(t, err)
		assert.Equal(t, []string{"r3"}, orderIDsOf(got))
		got, err = tx.Reservations(ctxb, "", 3)
		require.NoError(t, err)
		assert.Equal(t, []string{"r0", "r1", "r2"}, orderIDsOf(got))
		got, err = tx.Reservations(ctxb, "r2", 3)
		require.NoError(t, err)
		assert.Equal(t, []string{"r3"}, orderIDsOf(got))
		_, ok, err := tx.Order(ctxb, "r1")
		require.NoError(t, err)
		assert.False(t, ok, "a reservation is not a committed order")
		orders, err := tx.AccountOrders(ctxb, "a", "", 10)
		require.NoError(t, err)
		assert.Empty(t, orders, "AccountOrders lists committed orders only")
	})
	update(t, s, func(tx voucher.Tx) { require.NoError(t, tx.DeleteReservation(ctxb, "r1")) })
	view(t, s, func(tx voucher.Tx) {
		_, ok, err := tx.Reservation(ctxb, "r1")
		require.NoError(t, err)
		assert.False(t, ok, "deleted")
		got, err := tx.AccountReservations(ctxb, "a")
		require.NoError(t, err)
		assert.Equal(t, []string{"r2"}, orderIDsOf(got))
	})
	err := s.Update(ctxb, func(ctx context.Context, tx voucher.Tx) error { return tx.DeleteReservation(ctx, "r1") })
	assert.Error(t, err, "DeleteReservation of a reservation the store does not have")
}

func txOrderNamespace(t *testing.T, s voucher.Store) {
	insert := func(kind, id string) error {
		return s.Update(ctxb, func(ctx context.Context, tx voucher.Tx) error {
			if kind == "order" {
				return tx.InsertOrder(ctx, orderRecord(t, id, "a", t0))
			}
			return tx.InsertReservation(ctx, reservation(t, id, "b", t0, t0.Add(time.Hour)))
		})
	}
	require.NoError(t, insert("order", "x1"))
	require.ErrorIs(t, insert("reservation", "x1"), voucher.ErrDuplicateOrder, "reservation after order")
	require.ErrorIs(t, insert("order", "x1"), voucher.ErrDuplicateOrder, "order after order")
	require.NoError(t, insert("reservation", "x2"))
	require.ErrorIs(t, insert("order", "x2"), voucher.ErrDuplicateOrder, "order after reservation")
	require.ErrorIs(t, insert("reservation", "x2"), voucher.ErrDuplicateOrder, "reservation after reservation")
	// Capture: one transaction deletes the reservation and commits the order.
	require.NoError(t, s.Update(ctxb, func(ctx context.Context, tx voucher.Tx) error {
		if err := tx.DeleteReservation(ctx, "x2"); err != nil {
			return err
		}
		return tx.InsertOrder(ctx, orderRecord(t, "x2", "b", t0))
	}), "reservation deleted, then the order, in one transaction")
	require.NoError(t, insert("reservation", "x3"))
	require.NoError(t, s.Update(ctxb, func(ctx context.Context, tx voucher.Tx) error { return tx.DeleteReservation(ctx, "x3") }))
	require.NoError(t, insert("order", "x3"), "reservation deleted, then the order")
	view(t, s, func(tx voucher.Tx) {
		for _, id := range []string{"x1", "x2", "x3"} {
			rec, ok, err := tx.Order(ctxb, id)
			require.NoError(t, err)
			require.True(t, ok, "order %s committed", id)
			assert.Equal(t, id, rec.ID)
			_, ok, err = tx.Reservation(ctxb, id)
			require.NoError(t, err)
			assert.False(t, ok, "order %s has no reservation", id)
		}
	})
}

func txRefunds(t *testing.T, s voucher.Store) {
	res := voucher.RefundResult{OrderID: "o1", Lines: []string{"l1"}, CashRefund: voucher.MustMoney("10.5", "CNY"),
		Forfeited: map[string]voucher.Money{"v": voucher.MustMoney("3", "CNY")}, Restored: map[string]voucher.Money{}}
	all := voucher.RefundRecord{OrderID: "o1", Key: "k-nil", At: t0,
		Request: voucher.RefundRequest{OrderID: "o1", Key: "k-nil", Lines: nil}, Result: res}
	none := voucher.RefundRecord{OrderID: "o1", Key: "k-empty", At: t0,
		Request: voucher.RefundRequest{OrderID: "o1", Key: "k-empty", Lines: []string{}, Consumed: voucher.Ptr(dec("0.10"))}, Result: res}
	other := voucher.RefundRecord{OrderID: "o2", Key: "k-nil", At: time.Date(9999, 1, 1, 0, 0, 0, 1, time.UTC),
		Request: voucher.RefundRequest{OrderID: "o2", Key: "k-nil", Lines: []string{"l1", "l2"}}, Result: voucher.RefundResult{OrderID: "o2"}}
	update(t, s, func(tx voucher.Tx) {
		for _, r := range []voucher.RefundRecord{all, none, other} {
			require.NoError(t, tx.InsertRefund(ctxb, r))
		}
	})
	view(t, s, func(tx voucher.Tx) {
		for _, want := range []voucher.RefundRecord{all, none, other} {
			got, ok, err := tx.Refund(ctxb, want.OrderID, want.Key)
			require.NoError(t, err)
			require.True(t, ok, "refund %s/%s", want.OrderID, want.Key)
			requireSame(t, want, got, "refund "+want.OrderID+"/"+want.Key)
		}
		got, _, err := tx.Refund(ctxb, "o1", "k-nil")
		require.NoError(t, err)
		assert.Nil(t, got.Request.Lines, "nil lines (every line) stay nil")
		got, _, err = tx.Refund(ctxb, "o1", "k-empty")
		require.NoError(t, err)
		assert.NotNil(t, got.Request.Lines, "empty lines stay empty, not nil")
		_, ok, err := tx.Refund(ctxb, "o1", "K-NIL")
		require.NoError(t, err)
		assert.False(t, ok, "keys are case-sensitive")
	})
	err := s.Update(ctxb, func(ctx context.Context, tx voucher.Tx) error {
		return tx.InsertRefund(ctx, voucher.RefundRecord{OrderID: "o1", Key: "k-nil", At: t0})
	})
	assert.Error(t, err, "InsertRefund with an (order, key) the store has")
	view(t, s, func(tx voucher.Tx) {
		got, _, err := tx.Refund(ctxb, "o1", "k-nil")
		require.NoError(t, err)
		requireSame(t, all, got, "the first refund, untouched")
	})
}

func txOrganizations(t *testing.T, s voucher.Store) {
	joined := time.Date(2026, 1, 11, 0, 0, 0, 0, time.UTC)
	fam := voucher.Organization{ID: "fam", Payer: "p",
		Members: []voucher.Member{{Account: "a"}, {Account: "b", JoinedAt: &joined}},
		Sharing: []voucher.SharingChange{{Sharing: voucher.ShareAll}, {At: voucher.Ptr(t0), Sharing: voucher.Sharing{Accounts: []string{"a"}}}}}
	view(t, s, func(tx voucher.Tx) {
		_, ok, err := tx.Organization(ctxb, "fam")
		require.NoError(t, err)
		assert.False(t, ok, "no organization yet")
		_, ok, err = tx.AccountOrganization(ctxb, "a")
		require.NoError(t, err)
		assert.False(t, ok)
	})
	update(t, s, func(tx voucher.Tx) { require.NoError(t, tx.PutOrganization(ctxb, fam)) })
	view(t, s, func(tx voucher.Tx) {
		got, ok, err := tx.Organization(ctxb, "fam")
		require.NoError(t, err)
		require.True(t, ok)
		requireSame(t, fam, got, "organization fam")
		for _, a := range []string{"p", "a", "b"} {
			id, ok, err := tx.AccountOrganization(ctxb, a)
			require.NoError(t, err)
			assert.True(t, ok && id == "fam", "account %s is in fam, got %q %v", a, id, ok)
		}
	})
	// Replacing it drops the accounts it no longer has; another organization may not
	// take an account fam still has.
	smaller := fam.Clone()
	smaller.Members = smaller.Members[:1]
	smaller.Sharing = nil
	update(t, s, func(tx voucher.Tx) { require.NoError(t, tx.PutOrganization(ctxb, smaller)) })
	err := s.Update(ctxb, func(ctx context.Context, tx voucher.Tx) error {
		return tx.PutOrganization(ctx, voucher.Organization{ID: "other", Payer: "b", Members: []voucher.Member{{Account: "a"}}})
	})
	assert.ErrorIs(t, err, voucher.ErrInvalidOrganization, "account a is in fam")
	view(t, s, func(tx voucher.Tx) {
		_, ok, err := tx.AccountOrganization(ctxb, "b")
		require.NoError(t, err)
		assert.False(t, ok, "b left fam, and the failed put of other wrote nothing")
		_, ok, err = tx.Organization(ctxb, "other")
		require.NoError(t, err)
		assert.False(t, ok)
	})
}
