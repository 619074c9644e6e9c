package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/voucherkit/voucherkit/voucher"
)

func seqs(es []voucher.LedgerEntry) []int64 {
	out := []int64{}
	for _, e := range es {
		out = append(out, e.Seq)
	}
	return out
}

// appendEntries appends es in one Update and returns them with their Seq.
func appendEntries(t *testing.T, s voucher.Store, es ...voucher.LedgerEntry) []voucher.LedgerEntry {
	t.Helper()
	update(t, s, func(tx voucher.Tx) { require.NoError(t, tx.AppendEntries(ctxb, es)) })
	return es
}

func txLedgerSeq(t *testing.T, s voucher.Store) {
	first := appendEntries(t, s,
		entry(voucher.EntryGrant, "a", "i1", "", t0),
		entry(voucher.EntryDeduct, "a", "i1", "o1", t0),
		entry(voucher.EntryGrant, "", "u1", "", time.Date(1, 1, 1, 0, 0, 0, 1, shanghai)))
	second := appendEntries(t, s, entry(voucher.EntryExtend, "b", "i2", "", time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)))
	all := append(append([]voucher.LedgerEntry{}, first...), second...)
	for i := 1; i < len(all); i++ {
		require.Greater(t, all[i].Seq, all[i-1].Seq, "AppendEntries sets Seq strictly increasing, across transactions")
	}
	require.Positive(t, all[0].Seq)
	view(t, s, func(tx voucher.Tx) {
		got, err := tx.Entries(ctxb, voucher.LedgerQuery{})
		require.NoError(t, err)
		requireSame(t, all, got, "the ledger")
	})
}

func txLedgerFilters(t *testing.T, s voucher.Store) {
	h := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }
	es := appendEntries(t, s,
		entry(voucher.EntryGrant, "a", "i1", "", h(0)),
		entry(voucher.EntryGrant, "b", "i2", "", h(0)),
		entry(voucher.EntryDeduct, "a", "i1", "o1", h(1)),
		entry(voucher.EntryRedeem, "a", "c1", "o1", h(1)),
		entry(voucher.EntryDeduct, "b", "i2", "o2", h(2)))
	es = append(es, appendEntries(t, s,
		entry(voucher.EntryRefundForfeit, "a", "i1", "o1", h(3)),
		entry(voucher.EntryExpire, "", "u1", "", h(4)),
		entry(voucher.EntryDeduct, "a", "i2", "o3", h(4).Add(time.Nanosecond)))...)
	pick := func(idx ...int) []int64 {
		out := []int64{}
		for _, i := range idx {
			out = append(out, es[i].Seq)
		}
		return out
	}
	from, to := h(1), h(4)
	for name, c := range map[string]struct {
		q    voucher.LedgerQuery
		want []int64
	}{
		"all":               {voucher.LedgerQuery{}, pick(0, 1, 2, 3, 4, 5, 6, 7)},
		"instrument":        {voucher.LedgerQuery{Instrument: "i1"}, pick(0, 2, 5)},
		"order":             {voucher.LedgerQuery{Order: "o1"}, pick(2, 3, 5)},
		"account":           {voucher.LedgerQuery{Account: "a"}, pick(0, 2, 3, 5, 7)},
		"account and inst":  {voucher.LedgerQuery{Account: "a", Instrument: "i2"}, pick(7)},
		"order and inst":    {voucher.LedgerQuery{Order: "o1", Instrument: "c1"}, pick(3)},
		"from inclusive":    {voucher.LedgerQuery{From: &from}, pick(2, 3, 4, 5, 6, 7)},
		"to exclusive":      {voucher.LedgerQuery{To: &to}, pick(0, 1, 2, 3, 4, 5)},
		"from and to":       {voucher.LedgerQuery{From: &from, To: &to}, pick(2, 3, 4, 5)},
		"to in other zone":  {voucher.LedgerQuery{To: voucher.Ptr(h(4).UTC().Add(time.Nanosecond))}, pick(0, 1, 2, 3, 4, 5, 6)},
		"after seq":         {voucher.LedgerQuery{AfterSeq: es[2].Seq}, pick(3, 4, 5, 6, 7)},
		"limit":             {voucher.LedgerQuery{Limit: 3}, pick(0, 1, 2)},
		"page":              {voucher.LedgerQuery{Account: "a", AfterSeq: es[2].Seq, Limit: 2}, pick(3, 5)},
		"account after all": {voucher.LedgerQuery{Account: "a", AfterSeq: es[7].Seq}, pick()},
		"unknown account":   {voucher.LedgerQuery{Account: "z"}, pick()},
		"unowned":           {voucher.LedgerQuery{Instrument: "u1", Account: ""}, pick(6)},
	} {
		view(t, s, func(tx voucher.Tx) {
			got, err := tx.Entries(ctxb, c.q)
			require.NoError(t, err)
			assert.Equal(t, c.want, seqs(got), "Entries %s", name)
			for i := range got {
				for j := range es {
					if es[j].Seq == got[i].Seq {
						requireSame(t, es[j], got[i], "entry")
					}
				}
			}
		})
	}
}

func txDue(t *testing.T, s voucher.Store) {
	before, after := t0.Add(-time.Hour), t0.Add(time.Hour)
	expired := deduction("d3", "c", &before)
	expired.Expired = true
	update(t, s, func(tx voucher.Tx) {
		for _, si := range []voucher.StoredInstrument{
			deduction("d1", "b", &t0),     // due at t0
			deduction("d2", "a", &after),  // due an hour later
			expired,                       // its expiry is recorded: never due
			discount("x1", "d", &before),  // a discount has no balance to lose
			deduction("u1", "", &before),  // unowned: ""
			deduction("n1", "e", nil),     // never expires
			deduction("d4", "b", &before), // b again: listed once
			deduction("z1", "\x00", &t0),  // the smallest non-empty name
			deduction("d5", "h", voucher.Ptr(t0.In(time.UTC).Add(time.Nanosecond))), // a nanosecond late
		} {
			require.NoError(t, tx.InsertInstrument(ctxb, si))
		}
		require.NoError(t, tx.InsertReservation(ctxb, reservation(t, "r1", "f", before, t0)))
		require.NoError(t, tx.InsertReservation(ctxb, reservation(t, "r2", "g", before, after)))
		require.NoError(t, tx.InsertReservation(ctxb, reservation(t, "r3", "b", before, t0)))
	})
	due := func(upTo time.Time, from string, limit int) []string {
		var out []string
		view(t, s, func(tx voucher.Tx) {
			var err error
			out, err = tx.Due(ctxb, upTo, from, limit)
			require.NoError(t, err)
		})
		if out == nil {
			out = []string{}
		}
		return out
	}
	assert.Equal(t, []string{"", "\x00", "b", "f"}, due(t0, "", 10), "at t0")
	assert.Equal(t, []string{"", "\x00", "b", "f"}, due(t0.In(time.UTC), "", 10), "the same instant in another zone")
	assert.Equal(t, []string{"", "b"}, due(t0.Add(-time.Nanosecond), "", 10), "a nanosecond before t0")
	assert.Equal(t, []string{"", "\x00", "a", "b", "f", "g", "h"}, due(after, "", 10), "an hour later")
	assert.Equal(t, []string{"", "\x00"}, due(t0, "", 2), "limit")
	assert.Equal(t, []string{"b", "f"}, due(t0, "b", 10), "from is inclusive")
	assert.Equal(t, []string{"f"}, due(t0, "b\x00", 10), "from after b")
	assert.Equal(t, []string{}, due(t0, "g", 10))
	assert.Equal(t, []string{}, due(before.Add(-time.Nanosecond), "", 10), "nothing due before the first expiry")
}

func txReadYourWrites(t *testing.T, s voucher.Store) {
	update(t, s, func(tx voucher.Tx) {
		si := deduction("i1", "a", &t0)
		si.Instrument.Code = "C"
		require.NoError(t, tx.InsertInstrument(ctxb, si))
		got, ok, err := tx.Instrument(ctxb, "i1")
		require.NoError(t, err)
		require.True(t, ok)
		requireSame(t, si, got, "an instrument inserted in the transaction")
		_, ok, err = tx.InstrumentByCode(ctxb, "C")
		require.NoError(t, err)
		assert.True(t, ok)
		si.Instrument.Balance = voucher.Ptr(dec("1"))
		require.NoError(t, tx.UpdateInstrument(ctxb, si))
		got, _, err = tx.Instrument(ctxb, "i1")
		require.NoError(t, err)
		requireSame(t, si, got, "an instrument updated in the transaction")
		require.NoError(t, tx.SetClock(ctxb, "a", t0))
		clock, ok, err := tx.Account(ctxb, "a")
		require.NoError(t, err)
		require.True(t, ok)
		requireSame(t, t0, clock, "a clock set in the transaction")
		require.NoError(t, tx.InsertReservation(ctxb, reservation(t, "r1", "a", t0, t0)))
		due, err := tx.Due(ctxb, t0, "", 10)
		require.NoError(t, err)
		assert.Equal(t, []string{"a"}, due)
		es := []voucher.LedgerEntry{entry(voucher.EntryGrant, "a", "i1", "", t0)}
		require.NoError(t, tx.AppendEntries(ctxb, es))
		got2, err := tx.Entries(ctxb, voucher.LedgerQuery{Instrument: "i1"})
		require.NoError(t, err)
		requireSame(t, es, got2, "entries appended in the transaction")
	})
}

// txCopies: values go in and come out as copies.
func txCopies(t *testing.T, s voucher.Store) {
	si := fullInstrument("i1")
	rec := orderRecord(t, "o1", "a", t0)
	update(t, s, func(tx voucher.Tx) {
		require.NoError(t, tx.InsertInstrument(ctxb, si))
		require.NoError(t, tx.InsertOrder(ctxb, rec))
	})
	want, wantRec := si.Clone(), rec.Clone()
	si.Instrument.Products[0] = "changed"
	*si.Instrument.Balance = dec("42")
	rec.Quote.Applications[0].InstrumentID = "changed"
	view(t, s, func(tx voucher.Tx) {
		got, _, err := tx.Instrument(ctxb, "i1")
		require.NoError(t, err)
		requireSame(t, want, got, "an instrument changed by its caller after the insert")
		got.Instrument.Products[0] = "changed again"
		gotRec, _, err := tx.Order(ctxb, "o1")
		require.NoError(t, err)
		requireSame(t, wantRec, gotRec, "an order changed by its caller after the insert")
		gotRec.Quote.Lines[0].LineID = "changed"
	})
	view(t, s, func(tx voucher.Tx) {
		got, _, err := tx.Instrument(ctxb, "i1")
		require.NoError(t, err)
		requireSame(t, want, got, "an instrument changed by a reader")
		gotRec, _, err := tx.Order(ctxb, "o1")
		require.NoError(t, err)
		requireSame(t, wantRec, gotRec, "an order changed by a reader")
	})
}

// snapshot is everything a store holds that the tests know to ask about.
type snapshot struct {
	Clocks        map[string]*time.Time
	Instruments   []voucher.StoredInstrument
	ByAccount     map[string][]string
	ByCode        map[string]string
	Orders        map[string]*voucher.OrderRecord
	AccountOrders map[string][]string
	Reservations  []voucher.Reservation
	AccountResv   map[string][]string
	Refunds       map[string]*voucher.RefundRecord
	Entries       []voucher.LedgerEntry
	Due           []string
}

var snapAccounts = []string{"", "a", "b", "c"}

func takeSnapshot(t *testing.T, s voucher.Store, orders []string, codes []string) snapshot {
	t.Helper()
	sn := snapshot{Clocks: map[string]*time.Time{}, ByAccount: map[string][]string{}, ByCode: map[string]string{},
		Orders: map[string]*voucher.OrderRecord{}, AccountOrders: map[string][]string{}, AccountResv: map[string][]string{},
		Refunds: map[string]*voucher.RefundRecord{}}
	view(t, s, func(tx voucher.Tx) {
		for _, a := range snapAccounts {
			if c, ok, err := tx.Account(ctxb, a); assert.NoError(t, err) && ok {
				sn.Clocks[a] = &c
			}
			insts, err := tx.AccountInstruments(ctxb, a)
			require.NoError(t, err)
			sn.ByAccount[a] = ids(insts)
			orders, err := tx.AccountOrders(ctxb, a, "", 1000)
			require.NoError(t, err)
			sn.AccountOrders[a] = orderIDs(orders)
			resv, err := tx.AccountReservations(ctxb, a)
			require.NoError(t, err)
			sn.AccountResv[a] = orderIDsOf(resv)
		}
		var err error
		sn.Instruments, err = tx.Instruments(ctxb, "", 1000)
		require.NoError(t, err)
		for _, c := range codes {
			if si, ok, err := tx.InstrumentByCode(ctxb, c); assert.NoError(t, err) && ok {
				sn.ByCode[c] = si.ID()
			}
		}
		for _, id := range orders {
			if rec, ok, err := tx.Order(ctxb, id); assert.NoError(t, err) && ok {
				sn.Orders[id] = &rec
			}
			if rec, ok, err := tx.Refund(ctxb, id, "k"); assert.NoError(t, err) && ok {
				sn.Refunds[id] = &rec
			}
		}
		sn.Reservations, err = tx.Reservations(ctxb, "", 1000)
		require.NoError(t, err)
		sn.Entries, err = tx.Entries(ctxb, voucher.LedgerQuery{})
		require.NoError(t, err)
		sn.Due, err = tx.Due(ctxb, t0.Add(1000*time.Hour), "", 1000)
		require.NoError(t, err)
	})
	return sn
}

var errBoom = errors.New("storetest: fn failed on purpose")

// writeEverything makes one write of every kind.
func writeEverything(t *testing.T, ctx context.Context, tx voucher.Tx) []error {
	i1 := deduction("i1", "b", voucher.Ptr(t0.Add(2*time.Hour)))
	i1.Instrument.Code = "C1"
	rec := orderRecord(t, "o1", "a", t0)
	rec.Refunded = []string{"l1"}
	return []error{
		tx.InsertInstrument(ctx, func() voucher.StoredInstrument { si := deduction("i9", "c", &t0); si.Instrument.Code = "C9"; return si }()),
		tx.UpdateInstrument(ctx, i1),
		tx.InsertOrder(ctx, orderRecord(t, "o9", "b", t0)),
		tx.UpdateOrder(ctx, rec),
		tx.InsertReservation(ctx, reservation(t, "r9", "c", t0, t0)),
		tx.DeleteReservation(ctx, "r1"),
		tx.InsertRefund(ctx, voucher.RefundRecord{OrderID: "o9", Key: "k", At: t0}),
		tx.AppendEntries(ctx, []voucher.LedgerEntry{entry(voucher.EntryGrant, "c", "i9", "", t0), entry(voucher.EntryDeduct, "b", "i9", "o9", t0)}),
		tx.SetClock(ctx, "a", t0.Add(time.Hour)),
		tx.SetClock(ctx, "c", t0),
	}
}

// seedForRollback writes a state that writeEverything changes in every way.
func seedForRollback(t *testing.T, s voucher.Store) {
	update(t, s, func(tx voucher.Tx) {
		i1 := deduction("i1", "a", voucher.Ptr(t0.Add(time.Hour)))
		i1.Instrument.Code = "C1"
		require.NoError(t, tx.InsertInstrument(ctxb, i1))
		require.NoError(t, tx.InsertOrder(ctxb, orderRecord(t, "o1", "a", t0)))
		require.NoError(t, tx.InsertReservation(ctxb, reservation(t, "r1", "a", t0, t0.Add(time.Hour))))
		require.NoError(t, tx.InsertRefund(ctxb, voucher.RefundRecord{OrderID: "o1", Key: "k", At: t0}))
		require.NoError(t, tx.AppendEntries(ctxb, []voucher.LedgerEntry{entry(voucher.EntryGrant, "a", "i1", "", t0)}))
		require.NoError(t, tx.SetClock(ctxb, "a", t0))
	})
}

var snapOrders, snapCodes = []string{"o1", "o9", "r1", "r9"}, []string{"C1", "C9"}

func txRollback(t *testing.T, s voucher.Store) {
	seedForRollback(t, s)
	before := takeSnapshot(t, s, snapOrders, snapCodes)
	err := s.Update(ctxb, func(ctx context.Context, tx voucher.Tx) error {
		for i, err := range writeEverything(t, ctx, tx) {
			require.NoError(t, err, "write %d", i)
		}
		return errBoom
	})
	require.ErrorIs(t, err, errBoom, "Update returns fn's error")
	requireSame(t, before, takeSnapshot(t, s, snapOrders, snapCodes), "the store after a failed Update")
	// A failed write fails the transaction with it: nothing written before it stays.
	err = s.Update(ctxb, func(ctx context.Context, tx voucher.Tx) error {
		require.NoError(t, tx.SetClock(ctx, "b", t0))
		require.NoError(t, tx.AppendEntries(ctx, []voucher.LedgerEntry{entry(voucher.EntryGrant, "b", "i2", "", t0)}))
		return tx.InsertOrder(ctx, orderRecord(t, "r1", "b", t0))
	})
	require.ErrorIs(t, err, voucher.ErrDuplicateOrder)
	requireSame(t, before, takeSnapshot(t, s, snapOrders, snapCodes), "the store after a write failed")
	// The ledger goes on after every Seq it has shown.
	last := before.Entries[len(before.Entries)-1].Seq
	es := appendEntries(t, s, entry(voucher.EntryAdjust, "a", "i1", "", t0))
	assert.Greater(t, es[0].Seq, last)
	// And the writes succeed when fn does.
	update(t, s, func(tx voucher.Tx) {
		for i, err := range writeEverything(t, ctxb, tx) {
			require.NoError(t, err, "write %d", i)
		}
	})
	after := takeSnapshot(t, s, snapOrders, snapCodes)
	assert.Equal(t, []string{"i1", "i9"}, ids(after.Instruments))
	assert.Equal(t, []string{"i1"}, after.ByAccount["b"], "i1 moved to b")
	assert.Len(t, after.Entries, 4)
	assert.Equal(t, []string{"r9"}, orderIDsOf(after.Reservations))
}

// txPanic: an Update whose fn panics after writing everything passes the panic on,
// keeps none of the writes, and leaves the store usable.
func txPanic(t *testing.T, s voucher.Store) {
	seedForRollback(t, s)
	before := takeSnapshot(t, s, snapOrders, snapCodes)
	func() {
		defer func() {
			// A store that runs fn on another goroutine may add where it ran.
			assert.Contains(t, fmt.Sprint(recover()), "boom", "Update passes fn's panic on")
		}()
		_ = s.Update(ctxb, func(ctx context.Context, tx voucher.Tx) error {
			for i, err := range writeEverything(t, ctx, tx) {
				require.NoError(t, err, "write %d", i)
			}
			panic("boom")
		})
	}()
	requireSame(t, before, takeSnapshot(t, s, snapOrders, snapCodes), "the store after an Update panicked")
	update(t, s, func(tx voucher.Tx) {
		for i, err := range writeEverything(t, ctxb, tx) {
			require.NoError(t, err, "write %d after the panic", i)
		}
	})
}

func txViewCannotWrite(t *testing.T, s voucher.Store) {
	seedForRollback(t, s)
	before := takeSnapshot(t, s, snapOrders, snapCodes)
	err := s.View(ctxb, func(ctx context.Context, tx voucher.Tx) error {
		for i, err := range writeEverything(t, ctx, tx) {
			assert.Error(t, err, "write %d in a View", i)
		}
		return nil
	})
	require.NoError(t, err, "View returns fn's nil")
	requireSame(t, before, takeSnapshot(t, s, snapOrders, snapCodes), "the store after writes in a View")
	err = s.View(ctxb, func(context.Context, voucher.Tx) error { return errBoom })
	require.ErrorIs(t, err, errBoom, "View returns fn's error")
}

func txCancelled(t *testing.T, s voucher.Store) {
	seedForRollback(t, s)
	before := takeSnapshot(t, s, snapOrders, snapCodes)
	ctx, cancel := context.WithCancel(ctxb)
	cancel()
	err := s.Update(ctx, func(ctx context.Context, tx voucher.Tx) error {
		writeEverything(t, ctx, tx)
		return nil
	})
	require.ErrorIs(t, err, context.Canceled, "Update with a cancelled context")
	err = s.View(ctx, func(context.Context, voucher.Tx) error { return nil })
	require.ErrorIs(t, err, context.Canceled, "View with a cancelled context")
	requireSame(t, before, takeSnapshot(t, s, snapOrders, snapCodes), "the store after an Update with a cancelled context")
}
