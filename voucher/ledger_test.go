package voucher_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/voucherkit/voucherkit/store/memory"
	"github.com/voucherkit/voucherkit/voucher"
)

// ---- Ledger and store ----

func TestLedgerQueries(t *testing.T) {
	w := newTestWallet(t, vch("v", "a", "100"), vch("u", "b", "100"))
	_, err := w.Checkout(ctx, buy("o1", "a", "10"), wt0.Add(time.Hour))
	require.NoError(t, err)
	_, err = w.Checkout(ctx, buy("o2", "b", "20"), wt0.Add(2*time.Hour))
	require.NoError(t, err)
	_, err = w.Checkout(ctx, buy("o3", "a", "30"), wt0.Add(3*time.Hour))
	require.NoError(t, err)

	// grant v, grant u, deduct o1, deduct o2, deduct o3
	all := ledger(t, w.Wallet, voucher.LedgerQuery{})
	require.Len(t, all, 5)
	for i := 1; i < len(all); i++ {
		assert.Greater(t, all[i].Seq, all[i-1].Seq, "seq strictly increasing")
	}
	seq := func(i ...int) []int64 {
		out := make([]int64, len(i))
		for k, n := range i {
			out[k] = all[n].Seq
		}
		return out
	}
	from2h := wt0.Add(2 * time.Hour)
	assert.Equal(t, seq(2, 4), seqsOf(ledger(t, w.Wallet, voucher.LedgerQuery{Account: "a"})[1:]))
	assert.Equal(t, seq(0, 2, 4), seqsOf(byInstrument(t, w.Wallet, "v")))
	assert.Equal(t, seq(3), seqsOf(byOrder(t, w.Wallet, "o2")))
	assert.Equal(t, seq(2, 3), seqsOf(between(t, w.Wallet, wt0.Add(time.Hour), wt0.Add(3*time.Hour))), "[from, to)")
	assert.Equal(t, seq(4), seqsOf(ledger(t, w.Wallet, voucher.LedgerQuery{Account: "a", From: &from2h})))
	assert.Empty(t, between(t, w.Wallet, wt0.Add(4*time.Hour), wt0.Add(5*time.Hour)))
	assert.Contains(t, all[2].String(), "deduct v order o1")
	// Paging: AfterSeq and Limit.
	assert.Equal(t, seq(0, 1), seqsOf(ledger(t, w.Wallet, voucher.LedgerQuery{Limit: 2})))
	assert.Equal(t, seq(2, 3), seqsOf(ledger(t, w.Wallet, voucher.LedgerQuery{AfterSeq: all[1].Seq, Limit: 2})))
	assert.Equal(t, seq(4), seqsOf(ledger(t, w.Wallet, voucher.LedgerQuery{AfterSeq: all[3].Seq, Limit: 2})))
	assert.Equal(t, seq(4), seqsOf(ledger(t, w.Wallet, voucher.LedgerQuery{Instrument: "v", AfterSeq: all[2].Seq})))
	assert.Empty(t, ledger(t, w.Wallet, voucher.LedgerQuery{AfterSeq: all[4].Seq}))
	verifyLedger(t, w.Wallet)

	// Verify catches a stored balance that the ledger does not add up to.
	require.NoError(t, w.st.Update(ctx, func(ctx context.Context, tx voucher.Tx) error {
		si, _, err := tx.Instrument(ctx, "v")
		if err != nil {
			return err
		}
		si.Instrument.Balance = voucher.Ptr(wdec("1"))
		return tx.UpdateInstrument(ctx, si)
	}))
	err = w.Verify(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `instrument "v"`)
}

func seqsOf(es []voucher.LedgerEntry) []int64 {
	out := make([]int64, len(es))
	for i, e := range es {
		out[i] = e.Seq
	}
	return out
}

// The memory store keeps nothing of a transaction whose fn fails: not the clock, the
// instruments, orders, reservations, refunds or ledger entries it wrote.
func TestMemoryStoreUpdateIsAllOrNothing(t *testing.T) {
	st := memory.New()
	in := vch("v", "a", "5")
	require.NoError(t, st.Update(ctx, func(ctx context.Context, tx voucher.Tx) error {
		if err := tx.SetClock(ctx, "a", wt0); err != nil {
			return err
		}
		if err := tx.InsertInstrument(ctx, voucher.StoredInstrument{Instrument: in, Kind: voucher.Deduction}); err != nil {
			return err
		}
		return tx.AppendEntries(ctx, []voucher.LedgerEntry{{At: wt0, Kind: voucher.EntryGrant, Instrument: "v", Account: "a"}})
	}))
	before := snapshotOf(t, st)
	q := &voucher.Quote{OrderID: "o"}
	bad := map[string]func(ctx context.Context, tx voucher.Tx) error{
		"fn fails after writing everything": func(ctx context.Context, tx voucher.Tx) error {
			for _, err := range []error{
				tx.SetClock(ctx, "a", wt0.Add(time.Hour)),
				tx.SetClock(ctx, "b", wt0.Add(time.Hour)),
				tx.InsertInstrument(ctx, voucher.StoredInstrument{Instrument: vch("w", "b", "1"), Kind: voucher.Deduction}),
				tx.UpdateInstrument(ctx, voucher.StoredInstrument{Instrument: vch("v", "b", "1"), Kind: voucher.Deduction}),
				tx.InsertOrder(ctx, voucher.OrderRecord{ID: "o", Account: "a", Quote: q}),
				tx.InsertReservation(ctx, voucher.Reservation{OrderID: "r", Account: "a", Quote: q}),
				tx.InsertRefund(ctx, voucher.RefundRecord{OrderID: "o", Key: "k"}),
				tx.AppendEntries(ctx, []voucher.LedgerEntry{{At: wt0, Kind: voucher.EntryGrant, Instrument: "w"}}),
			} {
				if err != nil {
					return err
				}
			}
			return errors.New("changed my mind")
		},
		"a duplicate id": func(ctx context.Context, tx voucher.Tx) error {
			if err := tx.InsertInstrument(ctx, voucher.StoredInstrument{Instrument: vch("w", "b", "1")}); err != nil {
				return err
			}
			return tx.InsertInstrument(ctx, voucher.StoredInstrument{Instrument: vch("v", "b", "1")})
		},
		"a reservation reusing an order id": func(ctx context.Context, tx voucher.Tx) error {
			if err := tx.InsertOrder(ctx, voucher.OrderRecord{ID: "o", Account: "a", Quote: q}); err != nil {
				return err
			}
			return tx.InsertReservation(ctx, voucher.Reservation{OrderID: "o", Account: "a", Quote: q})
		},
		"deleting a reservation that is not there": func(ctx context.Context, tx voucher.Tx) error {
			if err := tx.AppendEntries(ctx, []voucher.LedgerEntry{{At: wt0, Kind: voucher.EntryGrant, Instrument: "w"}}); err != nil {
				return err
			}
			return tx.DeleteReservation(ctx, "none")
		},
	}
	for name, fn := range bad {
		t.Run(name, func(t *testing.T) {
			require.Error(t, st.Update(ctx, fn))
			after := snapshotOf(t, st)
			assert.Equal(t, before, after)
			err := st.View(ctx, func(ctx context.Context, tx voucher.Tx) error {
				_, ok, err := tx.Refund(ctx, "o", "k")
				assert.False(t, ok, "refund kept")
				insts, _ := tx.AccountInstruments(ctx, "b")
				assert.Empty(t, insts, "account index kept")
				return err
			})
			require.NoError(t, err)
		})
	}
	err := st.View(ctx, func(ctx context.Context, tx voucher.Tx) error {
		insts, err := tx.AccountInstruments(ctx, "a")
		assert.Len(t, insts, 1)
		return err
	})
	require.NoError(t, err)
	// A View cannot write.
	err = st.View(ctx, func(ctx context.Context, tx voucher.Tx) error { return tx.SetClock(ctx, "a", wt0.Add(time.Hour)) })
	require.Error(t, err)
	assert.Equal(t, before, snapshotOf(t, st))
}

// failingStore refuses to commit every Update after the first n: what the step wrote
// is undone, as a database that fails at commit would.
type failingStore struct {
	*memory.Store
	n int
}

func (f *failingStore) Update(ctx context.Context, fn func(context.Context, voucher.Tx) error) error {
	return f.Store.Update(ctx, func(ctx context.Context, tx voucher.Tx) error {
		if err := fn(ctx, tx); err != nil {
			return err
		}
		if f.n <= 0 {
			return errors.New("disk full")
		}
		f.n--
		return nil
	})
}

func TestStoreFailureChangesNothing(t *testing.T) {
	fs := &failingStore{Store: memory.New(), n: 1}
	w := voucher.NewWallet(newFakePricer(), fs)
	require.NoError(t, w.Grant(ctx, vch("v", "a", "10"), wt0))
	before := snapshotOf(t, fs.Store)
	_, err := w.Checkout(ctx, buy("o1", "a", "5"), wt0.Add(time.Hour))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "disk full")
	assert.Equal(t, before, snapshotOf(t, fs.Store))
	_, err = w.Advance(ctx, "a", wt0.Add(time.Hour))
	require.Error(t, err)
	assert.Equal(t, before, snapshotOf(t, fs.Store))

	// A wallet on a store that holds state resumes at the store's clocks.
	fs.n = 1
	_, err = w.Advance(ctx, "a", wt0.Add(time.Hour))
	require.NoError(t, err)
	w2 := voucher.NewWallet(newFakePricer(), fs.Store)
	assert.True(t, clockOf(t, w2, "a").Equal(wt0.Add(time.Hour)))
	_, err = w2.Checkout(ctx, buy("o1", "a", "5"), wt0)
	require.ErrorIs(t, err, voucher.ErrClockBackwards)
	si, ok, err := w2.Instrument(ctx, "v")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, "10", si.Instrument.CurrentBalance().String())
	require.NoError(t, w2.Verify(ctx))
}

func TestMemoryStoreLedgerQueries(t *testing.T) {
	st := memory.New()
	const n = 2100
	var es []voucher.LedgerEntry
	for i := 0; i < n; i++ {
		es = append(es, voucher.LedgerEntry{At: wt0.Add(time.Duration(i) * time.Second),
			Kind: voucher.EntryGrant, Instrument: fmt.Sprintf("i%d", i%3), Account: "a"})
	}
	// In three transactions, so that the store numbers across them.
	for _, part := range [][]voucher.LedgerEntry{es[:1000], es[1000:1001], es[1001:]} {
		require.NoError(t, st.Update(ctx, func(ctx context.Context, tx voucher.Tx) error { return tx.AppendEntries(ctx, part) }))
	}
	entries := func(q voucher.LedgerQuery) []voucher.LedgerEntry {
		var out []voucher.LedgerEntry
		require.NoError(t, st.View(ctx, func(ctx context.Context, tx voucher.Tx) error {
			var err error
			out, err = tx.Entries(ctx, q)
			return err
		}))
		return out
	}
	at := func(s int) *time.Time { v := wt0.Add(time.Duration(s) * time.Second); return &v }
	all := entries(voucher.LedgerQuery{})
	require.Len(t, all, n)
	for i, e := range all {
		require.Equal(t, es[i].Instrument, e.Instrument)
		if i > 0 {
			require.Greater(t, e.Seq, all[i-1].Seq)
		}
	}
	from, to := 995, 1005
	got := entries(voucher.LedgerQuery{From: at(from), To: at(to)})
	require.Len(t, got, to-from)
	assert.Equal(t, all[from].Seq, got[0].Seq)
	assert.Equal(t, all[to-1].Seq, got[len(got)-1].Seq)
	assert.Len(t, entries(voucher.LedgerQuery{Instrument: "i1"}), n/3)
	assert.Len(t, entries(voucher.LedgerQuery{Instrument: "i1", From: at(n - 3)}), 1)
	assert.Empty(t, entries(voucher.LedgerQuery{From: at(n)}))
	assert.Empty(t, entries(voucher.LedgerQuery{Account: "b"}))
	assert.Equal(t, "i0", entries(voucher.LedgerQuery{Account: "a", To: at(1)})[0].Instrument)
	// Paging through everything with AfterSeq and Limit gives everything once.
	var paged []voucher.LedgerEntry
	for after := int64(0); ; {
		page := entries(voucher.LedgerQuery{AfterSeq: after, Limit: 256})
		paged = append(paged, page...)
		if len(page) < 256 {
			break
		}
		after = page[len(page)-1].Seq
	}
	assert.Equal(t, all, paged)
}

// Verify replays the ledger against what the store holds; each broken invariant is
// reported (by the part of VerifyLedger that checks it).
func TestVerifyFindsBrokenInvariants(t *testing.T) {
	mk := func(t *testing.T) *testWallet {
		w := newTestWallet(t, vch("v", "a", "100"), voucher.Instrument{ID: "c", Type: "coupon", Account: "a", Amount: wdec("5")})
		_, err := w.Reserve(ctx, buy("r1", "a", "50"), wt0, time.Hour)
		require.NoError(t, err)
		verifyLedger(t, w.Wallet)
		return w
	}
	update := func(id string, f func(si *voucher.StoredInstrument)) func(ctx context.Context, tx voucher.Tx) error {
		return func(ctx context.Context, tx voucher.Tx) error {
			si, _, err := tx.Instrument(ctx, id)
			if err != nil {
				return err
			}
			f(&si)
			return tx.UpdateInstrument(ctx, si)
		}
	}
	appendEntry := func(e voucher.LedgerEntry) func(ctx context.Context, tx voucher.Tx) error {
		return func(ctx context.Context, tx voucher.Tx) error { return tx.AppendEntries(ctx, []voucher.LedgerEntry{e}) }
	}
	cny := voucher.MustCurrency("CNY")
	cases := map[string]struct {
		breakIt func(ctx context.Context, tx voucher.Tx) error
		want    string
	}{
		"held not matching reservations": {update("v", func(si *voucher.StoredInstrument) { si.Instrument.Held = wdec("10") }),
			`instrument "v": held is 10`},
		"held redemptions": {update("c", func(si *voucher.StoredInstrument) { si.Instrument.HeldRedemptions = 0 }),
			`instrument "c": 0 used and 0 held`},
		"redeemed without an entry": {update("c", func(si *voucher.StoredInstrument) {
			si.Instrument.Redeemed, si.Instrument.HeldRedemptions = 1, 0
		}), `instrument "c": 1 used and 0 held`},
		"an account's entry out of time order": {appendEntry(voucher.LedgerEntry{At: wt0.Add(-time.Hour), Kind: voucher.EntryExtend,
			Account: "a", Instrument: "v", BalanceAfter: wcny("100"), HeldAfter: wcny("50")}),
			`of account "a" (2026-03-02T09:00:00Z) is before the account's previous entry`},
		"entries of an instrument the store does not have": {appendEntry(voucher.LedgerEntry{At: wt0, Kind: voucher.EntryGrant, Instrument: "zz"}),
			`entries name instrument "zz", which the store does not have`},
		"an instrument without entries": {func(ctx context.Context, tx voucher.Tx) error {
			return tx.InsertInstrument(ctx, voucher.StoredInstrument{Instrument: vch("ghost", "a", "1"), Kind: voucher.Deduction})
		}, `instrument "ghost" has no entries`},
		"delta without a balance change": {appendEntry(voucher.LedgerEntry{At: wt0, Kind: voucher.EntryDeduct, Instrument: "v", Account: "a",
			Amount: wcny("1"), Delta: wcny("-1"), BalanceAfter: wcny("100"), HeldAfter: voucher.NewMoney(wdec("50"), cny)}),
			`instrument "v": entry`},
		"a negative amount": {appendEntry(voucher.LedgerEntry{At: wt0, Kind: voucher.EntryExtend, Instrument: "v", Account: "a",
			Amount: wcny("-1"), BalanceAfter: wcny("100"), HeldAfter: wcny("50")}),
			`has negative amount`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			w := mk(t)
			require.NoError(t, w.st.Update(ctx, c.breakIt))
			err := w.Verify(ctx)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

// filler sets every field of a value, recursively, to a value of its own: nil slices to
// n elements, nil maps to n entries; slices, maps and pointers that are set it changes
// in place, so that whoever shares them sees the change. A field of a kind it does not know fails the test, so that a field added
// later is covered too.
type filler struct {
	t *testing.T
	n int
	k int
}

func (f *filler) next() int { f.k++; return f.k }

func (f *filler) fill(v reflect.Value) {
	switch v.Type() {
	case reflect.TypeFor[voucher.Money]():
		v.Set(reflect.ValueOf(voucher.MoneyFromUnits(int64(f.next()), voucher.MustCurrency("CNY"))))
		return
	case reflect.TypeFor[time.Time]():
		v.Set(reflect.ValueOf(wt0.Add(time.Duration(f.next()) * time.Second)))
		return
	case reflect.TypeFor[decimal.Decimal]():
		v.Set(reflect.ValueOf(decimal.New(int64(f.next()), -2)))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString("s" + strconv.Itoa(f.next()))
	case reflect.Bool:
		v.SetBool(f.next()%2 == 0)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(f.next() % 100))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(f.next() % 100))
	case reflect.Struct:
		for i := range v.NumField() {
			if !v.Type().Field(i).IsExported() {
				f.t.Fatalf("%s has unexported field %s: fill it", v.Type(), v.Type().Field(i).Name)
			}
			f.fill(v.Field(i))
		}
	case reflect.Slice:
		if !v.IsNil() { // in place: a store sharing the array sees it
			for i := range v.Len() {
				f.fill(v.Index(i))
			}
			return
		}
		s := reflect.MakeSlice(v.Type(), f.n, f.n)
		for i := range f.n {
			f.fill(s.Index(i))
		}
		v.Set(s)
	case reflect.Map:
		m := v
		if v.IsNil() {
			m = reflect.MakeMap(v.Type())
			v.Set(m)
		}
		for _, k := range m.MapKeys() { // in place: a store sharing the map sees it
			e := reflect.New(v.Type().Elem()).Elem()
			f.fill(e)
			m.SetMapIndex(k, e)
		}
		for range f.n {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			f.fill(k)
			f.fill(e)
			m.SetMapIndex(k, e)
		}
	case reflect.Pointer:
		if !v.IsNil() { // in place: a store sharing the pointer sees it
			f.fill(v.Elem())
			return
		}
		p := reflect.New(v.Type().Elem())
		f.fill(p.Elem())
		v.Set(p)
	default:
		f.t.Fatalf("cannot fill a %s", v.Type())
	}
}

// The memory store keeps what a transaction wrote as it was written, and gives out
// copies: changing a value after writing it, or a value read back, changes nothing
// stored. Every field of every record is set, so that none escapes.
func TestMemoryStoreKeepsWhatWasCommitted(t *testing.T) {
	mk := func() (voucher.StoredInstrument, voucher.OrderRecord, voucher.Reservation, voucher.RefundRecord, voucher.LedgerEntry) {
		f := &filler{t: t, n: 2}
		var (
			si  voucher.StoredInstrument
			rec voucher.OrderRecord
			rv  voucher.Reservation
			rf  voucher.RefundRecord
			e   voucher.LedgerEntry
		)
		for _, p := range []any{&si, &rec, &rv, &rf, &e} {
			f.fill(reflect.ValueOf(p).Elem())
		}
		si.Kind = voucher.Deduction
		rec.ID, rv.OrderID, rf.Key = "o", "r", "k"
		return si, rec, rv, rf, e
	}
	si, rec, rv, rf, e := mk()
	st := memory.New()
	require.NoError(t, st.Update(ctx, func(ctx context.Context, tx voucher.Tx) error {
		for _, err := range []error{tx.InsertInstrument(ctx, si), tx.InsertOrder(ctx, rec), tx.InsertReservation(ctx, rv),
			tx.InsertRefund(ctx, rf), tx.AppendEntries(ctx, []voucher.LedgerEntry{e})} {
			if err != nil {
				return err
			}
		}
		return nil
	}))
	// Scribble over everything that was written.
	f := &filler{t: t, n: 3, k: 1000}
	for _, p := range []any{&si, &rec, &rv, &rf, &e} {
		f.fill(reflect.ValueOf(p).Elem())
	}
	wantSI, wantRec, wantRV, wantRF, wantE := mk()
	read := func() (voucher.StoredInstrument, voucher.OrderRecord, voucher.Reservation, voucher.RefundRecord, voucher.LedgerEntry) {
		var (
			gotSI  voucher.StoredInstrument
			gotRec voucher.OrderRecord
			gotRV  voucher.Reservation
			gotRF  voucher.RefundRecord
			gotE   []voucher.LedgerEntry
		)
		require.NoError(t, st.View(ctx, func(ctx context.Context, tx voucher.Tx) error {
			var err error
			if gotSI, _, err = tx.Instrument(ctx, wantSI.ID()); err != nil {
				return err
			}
			if gotRec, _, err = tx.Order(ctx, "o"); err != nil {
				return err
			}
			if gotRV, _, err = tx.Reservation(ctx, "r"); err != nil {
				return err
			}
			if gotRF, _, err = tx.Refund(ctx, wantRF.OrderID, "k"); err != nil {
				return err
			}
			gotE, err = tx.Entries(ctx, voucher.LedgerQuery{})
			return err
		}))
		require.Len(t, gotE, 1)
		return gotSI, gotRec, gotRV, gotRF, gotE[0]
	}
	gotSI, gotRec, gotRV, gotRF, gotE := read()
	wantE.Seq = gotE.Seq // the store numbers entries
	assert.Equal(t, wantSI, gotSI)
	assert.Equal(t, wantRec, gotRec)
	assert.Equal(t, wantRV, gotRV)
	assert.Equal(t, wantRF, gotRF)
	assert.Equal(t, wantE, gotE)
	// Scribble over what was read back, and read again.
	for _, p := range []any{&gotSI, &gotRec, &gotRV, &gotRF, &gotE} {
		f.fill(reflect.ValueOf(p).Elem())
	}
	gotSI, gotRec, gotRV, gotRF, gotE = read()
	assert.Equal(t, wantSI, gotSI)
	assert.Equal(t, wantRec, gotRec)
	assert.Equal(t, wantRV, gotRV)
	assert.Equal(t, wantRF, gotRF)
	assert.Equal(t, wantE, gotE)
}
