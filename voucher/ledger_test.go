package voucher

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ---- Ledger and store ----

func TestLedgerQueries(t *testing.T) {
	w := newTestWallet(t, vch("v", "a", "100"), vch("u", "b", "100"))
	_, err := w.Checkout(buy("o1", "a", "10"), wt0.Add(time.Hour))
	require.NoError(t, err)
	_, err = w.Checkout(buy("o2", "b", "20"), wt0.Add(2*time.Hour))
	require.NoError(t, err)
	_, err = w.Checkout(buy("o3", "a", "30"), wt0.Add(3*time.Hour))
	require.NoError(t, err)

	all := w.Ledger().Entries()
	require.Len(t, all, 5)
	for i, e := range all {
		assert.Equal(t, int64(i+1), e.Seq)
	}
	assert.Equal(t, []int64{3, 5}, seqsOf(w.Ledger().ByAccount("a")[1:]))
	assert.Equal(t, []int64{1, 3, 5}, seqsOf(w.Ledger().ByInstrument("v")))
	assert.Equal(t, []int64{4}, seqsOf(w.Ledger().ByOrder("o2")))
	assert.Equal(t, []int64{3, 4}, seqsOf(w.Ledger().Between(wt0.Add(time.Hour), wt0.Add(3*time.Hour))), "[from, to)")
	assert.Equal(t, []int64{5}, seqsOf(w.Ledger().Query(LedgerQuery{Account: "a", From: wt0.Add(2 * time.Hour)})))
	assert.Empty(t, w.Ledger().Between(wt0.Add(4*time.Hour), wt0.Add(5*time.Hour)))
	assert.Contains(t, all[2].String(), "deduct v order o1")
	verifyLedger(t, w)

	// Verify catches a ledger that does not add up to the balances.
	st := w.store.(*MemoryStore)
	si, _ := st.Instrument("v")
	si.Instrument.Balance = wdec("1")
	require.NoError(t, st.Commit(&Batch{Instruments: []StoredInstrument{si}}))
	err = w.Ledger().Verify()
	require.Error(t, err)
	assert.Contains(t, err.Error(), `instrument "v"`)
}

func seqsOf(es []LedgerEntry) []int64 {
	out := make([]int64, len(es))
	for i, e := range es {
		out[i] = e.Seq
	}
	return out
}

func TestMemoryStoreCommitIsAllOrNothing(t *testing.T) {
	st := NewMemoryStore()
	in := vch("v", "a", "5")
	require.NoError(t, st.Commit(&Batch{Clock: wt0, Instruments: []StoredInstrument{{Instrument: in, Kind: Deduction}},
		Entries: []LedgerEntry{{Seq: 1, At: wt0, Kind: EntryGrant, Instrument: "v"}}}))
	bad := []Batch{
		{Clock: wt0.Add(time.Hour), Instruments: []StoredInstrument{{Instrument: vch("w", "b", "1")}}, Entries: []LedgerEntry{{Seq: 5}}},
		{Clock: wt0.Add(time.Hour), Instruments: []StoredInstrument{{Instrument: vch("w", "b", "1")}}, Unreserve: []string{"none"}},
		{Clock: wt0.Add(time.Hour), Orders: []OrderRecord{{ID: "o"}}, Reserve: []Reservation{{OrderID: "r"}, {OrderID: "r"}}},
	}
	for i := range bad {
		require.Error(t, st.Commit(&bad[i]))
		assert.True(t, st.Clock().Equal(wt0))
		_, ok := st.Instrument("w")
		assert.False(t, ok)
		_, ok = st.Order("o")
		assert.False(t, ok)
		assert.Empty(t, st.Reservations())
		assert.Equal(t, 1, st.LedgerLen())
	}
	assert.Len(t, st.AccountInstruments("a"), 1)
	assert.Empty(t, st.AccountInstruments(""))
}

// failingStore refuses every commit after the first n.
type failingStore struct {
	*MemoryStore
	n int
}

func (f *failingStore) Commit(b *Batch) error {
	if f.n <= 0 {
		return errors.New("disk full")
	}
	f.n--
	return f.MemoryStore.Commit(b)
}

func TestStoreFailureChangesNothing(t *testing.T) {
	fs := &failingStore{MemoryStore: NewMemoryStore(), n: 1}
	w := NewWallet(newFakePricer(), wt0, WithStore(fs))
	require.NoError(t, w.Grant(vch("v", "a", "10")))
	before := snapshotOf(w)
	_, err := w.Checkout(buy("o1", "a", "5"), wt0.Add(time.Hour))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "disk full")
	assertUnchanged(t, w, before)
	_, err = w.Advance(wt0.Add(time.Hour))
	require.Error(t, err)
	assertUnchanged(t, w, before)

	// A wallet on a store that holds state resumes at the store's clock.
	fs.n = 1
	_, err = w.Advance(wt0.Add(time.Hour))
	require.NoError(t, err)
	w2 := NewWallet(newFakePricer(), wt0, WithStore(fs.MemoryStore))
	assert.True(t, w2.Now().Equal(wt0.Add(time.Hour)))
	b, _ := balHeld(t, w2, "v")
	assert.Equal(t, "10.00", b)
}

func TestMemoryStoreLedgerAcrossChunks(t *testing.T) {
	st := NewMemoryStore()
	const n = 2*ledgerChunk + 10
	b := Batch{Clock: wt0}
	for i := 0; i < n; i++ {
		b.Entries = append(b.Entries, LedgerEntry{Seq: int64(i + 1), At: wt0.Add(time.Duration(i) * time.Second),
			Kind: EntryGrant, Instrument: fmt.Sprintf("i%d", i%3), Account: "a"})
	}
	require.NoError(t, st.Commit(&b))
	assert.Equal(t, n, st.LedgerLen())
	all := st.Entries(LedgerQuery{})
	require.Len(t, all, n)
	for i, e := range all {
		require.Equal(t, int64(i+1), e.Seq)
	}
	from, to := ledgerChunk-5, ledgerChunk+5
	got := st.Entries(LedgerQuery{From: wt0.Add(time.Duration(from) * time.Second), To: wt0.Add(time.Duration(to) * time.Second)})
	require.Len(t, got, to-from)
	assert.Equal(t, int64(from+1), got[0].Seq)
	assert.Equal(t, int64(to), got[len(got)-1].Seq)
	assert.Len(t, st.Entries(LedgerQuery{Instrument: "i1"}), n/3)
	assert.Len(t, st.Entries(LedgerQuery{Instrument: "i1", From: wt0.Add(time.Duration(n-3) * time.Second)}), 1)
	assert.Empty(t, st.Entries(LedgerQuery{From: wt0.Add(time.Duration(n) * time.Second)}))
	assert.Equal(t, []string{"i0"}, []string{st.Entries(LedgerQuery{Account: "a", To: wt0.Add(time.Second)})[0].Instrument})
}

func TestVerifyFindsBrokenInvariants(t *testing.T) {
	mk := func() (*Wallet, *MemoryStore) {
		w := newTestWallet(t, vch("v", "a", "100"), Instrument{ID: "c", Type: "coupon", Account: "a", Amount: wdec("5")})
		_, err := w.Reserve(buy("r1", "a", "50"), wt0, time.Hour)
		require.NoError(t, err)
		require.NoError(t, w.Ledger().Verify())
		return w, w.store.(*MemoryStore)
	}
	cases := map[string]func(st *MemoryStore) Batch{
		"held not matching reservations": func(st *MemoryStore) Batch {
			si, _ := st.Instrument("v")
			si.Instrument.Held = wdec("10")
			return Batch{Instruments: []StoredInstrument{si}}
		},
		"held redemptions": func(st *MemoryStore) Batch {
			si, _ := st.Instrument("c")
			si.Instrument.HeldRedemptions = 0
			return Batch{Instruments: []StoredInstrument{si}}
		},
		"redeemed without an entry": func(st *MemoryStore) Batch {
			si, _ := st.Instrument("c")
			si.Instrument.Redeemed = 1
			si.Instrument.HeldRedemptions = 0
			return Batch{Instruments: []StoredInstrument{si}}
		},
		"entry out of time order": func(st *MemoryStore) Batch {
			return Batch{Entries: []LedgerEntry{{Seq: int64(st.LedgerLen() + 1), At: wt0.Add(-time.Hour), Kind: EntryGrant, Instrument: "zz"}}}
		},
		"delta without a balance change": func(st *MemoryStore) Batch {
			si, _ := st.Instrument("v")
			return Batch{Entries: []LedgerEntry{{Seq: int64(st.LedgerLen() + 1), At: wt0, Kind: EntryDeduct, Instrument: "v",
				Delta: wcny("-1"), BalanceAfter: wcny("100"), HeldAfter: NewMoney(si.Instrument.Held, MustCurrency("CNY"))}}}
		},
	}
	for name, breakIt := range cases {
		t.Run(name, func(t *testing.T) {
			w, st := mk()
			b := breakIt(st)
			require.NoError(t, st.Commit(&b))
			assert.Error(t, w.Ledger().Verify())
		})
	}
}
