package voucher

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"
)

// StoredInstrument is an instrument as a Store keeps it: its state (Balance, Redeemed,
// Held, HeldRedemptions, PendingActivation, ActivatedAt, Account) and what the Wallet
// derived from its type when it was granted.
type StoredInstrument struct {
	Instrument Instrument
	// Kind of the instrument's type.
	Kind Kind
	// Expires is when the instrument stops being usable (Instrument.ExpiresOn under its
	// type's policy, fixed at grant); zero: never.
	Expires time.Time
	// Used: some order has committed value from it (checkout or capture).
	Used bool
}

// OrderRecord is a committed order: the quote exactly as committed, and the lines
// refunded so far.
type OrderRecord struct {
	ID      string
	Account string
	// At is when the order was committed.
	At time.Time
	// Quote is the committed quote. It is shared: never modify it.
	Quote *Quote
	// Refunded lists the refunded line ids, in the order they were refunded.
	Refunded []string
}

// Reservation is a live hold: what the reserved order's quote takes is held from At
// until Until (exclusive).
type Reservation struct {
	OrderID string
	Account string
	At      time.Time
	Until   time.Time
	// Quote is the quote as reserved; capture commits exactly this. Never modify it.
	Quote *Quote
}

// LedgerQuery selects ledger entries; every non-zero field must match.
type LedgerQuery struct {
	Instrument string
	Order      string
	Account    string
	// From (inclusive) and To (exclusive) bound the entries' At; zero: unbounded.
	From, To time.Time
}

func (q *LedgerQuery) match(e *LedgerEntry) bool {
	return (q.Instrument == "" || e.Instrument == q.Instrument) &&
		(q.Order == "" || e.Order == q.Order) &&
		(q.Account == "" || e.Account == q.Account) &&
		(q.From.IsZero() || !e.At.Before(q.From)) &&
		(q.To.IsZero() || e.At.Before(q.To))
}

// Batch is every write of one wallet step. A Store applies a batch entirely or not at
// all: Unreserve first, then Instruments, Orders, Reserve and Entries, then Clock.
type Batch struct {
	// Clock is the wallet's clock after the step.
	Clock time.Time
	// Instruments are inserted or replaced, by Instrument.ID.
	Instruments []StoredInstrument
	// Orders are inserted or replaced, by ID.
	Orders []OrderRecord
	// Unreserve removes reservations, by order id; each must exist.
	Unreserve []string
	// Reserve inserts reservations; none may exist (after Unreserve).
	Reserve []Reservation
	// Entries are appended to the ledger; their Seq must continue it (1, 2, ...).
	Entries []LedgerEntry
}

func (b *Batch) empty() bool {
	return len(b.Instruments) == 0 && len(b.Orders) == 0 && len(b.Unreserve) == 0 &&
		len(b.Reserve) == 0 && len(b.Entries) == 0
}

// Store keeps a Wallet's state: instruments, committed orders, live reservations, the
// ledger and the clock. Reads see committed state only; Commit applies one step's
// writes atomically. A Wallet serialises its own calls, so a Store serves one Wallet;
// values it returns may share slices and quotes with the store and are never modified
// by the Wallet.
type Store interface {
	// Clock is the clock of the last commit; zero for a store never committed to.
	Clock() time.Time
	// Instrument returns the instrument with id.
	Instrument(id string) (StoredInstrument, bool)
	// InstrumentByCode returns the instrument whose Code is code (case-sensitive).
	InstrumentByCode(code string) (StoredInstrument, bool)
	// AccountInstruments returns the instruments whose Account is account (non-empty),
	// sorted by id.
	AccountInstruments(account string) []Instrument
	// Instruments returns every instrument, sorted by id.
	Instruments() []StoredInstrument
	// Expiring returns the instruments whose Expires is in (after, upTo], sorted by
	// Expires, then id.
	Expiring(after, upTo time.Time) []StoredInstrument
	// Order returns the committed order with id.
	Order(id string) (OrderRecord, bool)
	// Reservation returns the reservation of order id.
	Reservation(orderID string) (Reservation, bool)
	// Reservations returns every stored reservation, sorted by order id.
	Reservations() []Reservation
	// ReservationsEnding returns the reservations whose Until is in (after, upTo],
	// sorted by Until, then order id.
	ReservationsEnding(after, upTo time.Time) []Reservation
	// Entries returns the ledger entries q selects, in Seq order.
	Entries(q LedgerQuery) []LedgerEntry
	// LedgerLen is the number of ledger entries.
	LedgerLen() int
	// Commit applies b entirely, or returns an error and applies nothing.
	Commit(b *Batch) error
}

type timeKey struct {
	t  time.Time
	id string
}

func cmpTimeKey(a, b timeKey) int {
	if c := a.t.Compare(b.t); c != 0 {
		return c
	}
	return cmp.Compare(a.id, b.id)
}

// between returns the keys of sorted keys with t in (after, upTo].
func between(keys []timeKey, after, upTo time.Time) []timeKey {
	lo, _ := slices.BinarySearchFunc(keys, after, func(k timeKey, t time.Time) int {
		if k.t.After(t) {
			return 1
		}
		return -1
	})
	hi, _ := slices.BinarySearchFunc(keys, upTo, func(k timeKey, t time.Time) int {
		if k.t.After(t) {
			return 1
		}
		return -1
	})
	return keys[lo:hi]
}

func insertSorted(ids []string, id string) []string {
	i, found := slices.BinarySearch(ids, id)
	if found {
		return ids
	}
	return slices.Insert(ids, i, id)
}

func removeSorted(ids []string, id string) []string {
	i, found := slices.BinarySearch(ids, id)
	if !found {
		return ids
	}
	return slices.Delete(ids, i, i+1)
}

// MemoryStore is the in-memory Store. It is safe for concurrent use.
type MemoryStore struct {
	mu        sync.RWMutex
	clock     time.Time
	insts     map[string]*StoredInstrument
	byCode    map[string]string
	byAccount map[string][]string // sorted ids
	expiry    []timeKey           // sorted; instruments with an expiry
	orders    map[string]OrderRecord
	resv      map[string]Reservation
	ending    []timeKey             // sorted (Until, order id) of resv
	ledger    [][]LedgerEntry       // chunks of ledgerChunk entries: appending never copies
	ledgerN   int                   // number of entries
	ledgerBy  [3]map[string][]int32 // instrument, order, account -> positions
}

const ledgerChunk = 4096

func (m *MemoryStore) entry(i int) *LedgerEntry {
	return &m.ledger[i/ledgerChunk][i%ledgerChunk]
}

func (m *MemoryStore) appendEntry(e LedgerEntry) int {
	if m.ledgerN%ledgerChunk == 0 {
		m.ledger = append(m.ledger, make([]LedgerEntry, 0, ledgerChunk))
	}
	last := len(m.ledger) - 1
	m.ledger[last] = append(m.ledger[last], e)
	m.ledgerN++
	return m.ledgerN - 1
}

// firstAt returns the position of the first entry at or after t (entries are in time order).
func (m *MemoryStore) firstAt(t time.Time) int {
	return sort.Search(m.ledgerN, func(i int) bool { return !m.entry(i).At.Before(t) })
}

// NewMemoryStore returns an empty in-memory Store.
func NewMemoryStore() *MemoryStore {
	m := &MemoryStore{
		insts:     make(map[string]*StoredInstrument),
		byCode:    make(map[string]string),
		byAccount: make(map[string][]string),
		orders:    make(map[string]OrderRecord),
		resv:      make(map[string]Reservation),
	}
	for i := range m.ledgerBy {
		m.ledgerBy[i] = make(map[string][]int32)
	}
	return m
}

// Clock implements Store.
func (m *MemoryStore) Clock() time.Time {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.clock
}

// Instrument implements Store.
func (m *MemoryStore) Instrument(id string) (StoredInstrument, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	si, ok := m.insts[id]
	if !ok {
		return StoredInstrument{}, false
	}
	return *si, true
}

// InstrumentByCode implements Store.
func (m *MemoryStore) InstrumentByCode(code string) (StoredInstrument, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	id, ok := m.byCode[code]
	if !ok {
		return StoredInstrument{}, false
	}
	return *m.insts[id], true
}

// AccountInstruments implements Store.
func (m *MemoryStore) AccountInstruments(account string) []Instrument {
	if account == "" {
		return nil
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	ids := m.byAccount[account]
	out := make([]Instrument, len(ids))
	for i, id := range ids {
		out[i] = m.insts[id].Instrument
	}
	return out
}

// Instruments implements Store.
func (m *MemoryStore) Instruments() []StoredInstrument {
	m.mu.RLock()
	out := make([]StoredInstrument, 0, len(m.insts))
	for _, si := range m.insts {
		out = append(out, *si)
	}
	m.mu.RUnlock()
	slices.SortFunc(out, func(a, b StoredInstrument) int { return cmp.Compare(a.Instrument.ID, b.Instrument.ID) })
	return out
}

// Expiring implements Store.
func (m *MemoryStore) Expiring(after, upTo time.Time) []StoredInstrument {
	m.mu.RLock()
	defer m.mu.RUnlock()
	keys := between(m.expiry, after, upTo)
	if len(keys) == 0 {
		return nil
	}
	out := make([]StoredInstrument, len(keys))
	for i, k := range keys {
		out[i] = *m.insts[k.id]
	}
	return out
}

// Order implements Store.
func (m *MemoryStore) Order(id string) (OrderRecord, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	o, ok := m.orders[id]
	return o, ok
}

// Reservation implements Store.
func (m *MemoryStore) Reservation(orderID string) (Reservation, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	r, ok := m.resv[orderID]
	return r, ok
}

// Reservations implements Store.
func (m *MemoryStore) Reservations() []Reservation {
	m.mu.RLock()
	out := make([]Reservation, 0, len(m.resv))
	for _, r := range m.resv {
		out = append(out, r)
	}
	m.mu.RUnlock()
	slices.SortFunc(out, func(a, b Reservation) int { return cmp.Compare(a.OrderID, b.OrderID) })
	return out
}

// ReservationsEnding implements Store.
func (m *MemoryStore) ReservationsEnding(after, upTo time.Time) []Reservation {
	m.mu.RLock()
	defer m.mu.RUnlock()
	keys := between(m.ending, after, upTo)
	if len(keys) == 0 {
		return nil
	}
	out := make([]Reservation, len(keys))
	for i, k := range keys {
		out[i] = m.resv[k.id]
	}
	return out
}

// Entries implements Store.
func (m *MemoryStore) Entries(q LedgerQuery) []LedgerEntry {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []LedgerEntry
	var idx []int32
	switch {
	case q.Instrument != "":
		idx = m.ledgerBy[0][q.Instrument]
	case q.Order != "":
		idx = m.ledgerBy[1][q.Order]
	case q.Account != "":
		idx = m.ledgerBy[2][q.Account]
	default:
		// Entries are in time order: bound the range by binary search.
		lo, hi := 0, m.ledgerN
		if !q.From.IsZero() {
			lo = m.firstAt(q.From)
		}
		if !q.To.IsZero() {
			hi = m.firstAt(q.To)
		}
		if hi > lo {
			out = make([]LedgerEntry, 0, hi-lo)
			for i := lo; i < hi; i++ {
				out = append(out, *m.entry(i))
			}
		}
		return out
	}
	for _, i := range idx {
		if e := m.entry(int(i)); q.match(e) {
			out = append(out, *e)
		}
	}
	return out
}

// LedgerLen implements Store.
func (m *MemoryStore) LedgerLen() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.ledgerN
}

// Commit implements Store: it checks the whole batch first, then applies it.
func (m *MemoryStore) Commit(b *Batch) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(b); err != nil {
		return err
	}
	for _, id := range b.Unreserve {
		r := m.resv[id]
		delete(m.resv, id)
		m.ending = removeKey(m.ending, timeKey{r.Until, id})
	}
	for i := range b.Instruments {
		m.putInstrument(b.Instruments[i])
	}
	for _, o := range b.Orders {
		m.orders[o.ID] = o
	}
	for _, r := range b.Reserve {
		m.resv[r.OrderID] = r
		m.ending = insertKey(m.ending, timeKey{r.Until, r.OrderID})
	}
	for _, e := range b.Entries {
		pos := int32(m.appendEntry(e))
		for k, key := range [3]string{e.Instrument, e.Order, e.Account} {
			if key != "" {
				m.ledgerBy[k][key] = append(m.ledgerBy[k][key], pos)
			}
		}
	}
	if !b.Clock.IsZero() {
		m.clock = b.Clock
	}
	return nil
}

func (m *MemoryStore) check(b *Batch) error {
	gone := make(map[string]bool, len(b.Unreserve))
	for _, id := range b.Unreserve {
		if _, ok := m.resv[id]; !ok || gone[id] {
			return fmt.Errorf("voucher: memory store: no reservation %q to remove", id)
		}
		gone[id] = true
	}
	adding := make(map[string]bool, len(b.Reserve))
	for _, r := range b.Reserve {
		if _, ok := m.resv[r.OrderID]; (ok && !gone[r.OrderID]) || adding[r.OrderID] {
			return fmt.Errorf("voucher: memory store: reservation %q exists", r.OrderID)
		}
		adding[r.OrderID] = true
	}
	for i := range b.Instruments {
		in := &b.Instruments[i].Instrument
		if in.ID == "" {
			return fmt.Errorf("voucher: memory store: instrument without id")
		}
		if in.Code != "" {
			if id, ok := m.byCode[in.Code]; ok && id != in.ID {
				return fmt.Errorf("voucher: memory store: code %q belongs to instrument %q", in.Code, id)
			}
		}
		if old, ok := m.insts[in.ID]; ok && (old.Instrument.Code != in.Code || !old.Expires.Equal(b.Instruments[i].Expires)) {
			return fmt.Errorf("voucher: memory store: instrument %q: code and expiry are fixed at grant", in.ID)
		}
	}
	for i, e := range b.Entries {
		if want := int64(m.ledgerN + i + 1); e.Seq != want {
			return fmt.Errorf("voucher: memory store: ledger entry seq %d, want %d", e.Seq, want)
		}
	}
	return nil
}

func (m *MemoryStore) putInstrument(si StoredInstrument) {
	id := si.Instrument.ID
	old, exists := m.insts[id]
	if !exists {
		if si.Instrument.Code != "" {
			m.byCode[si.Instrument.Code] = id
		}
		if !si.Expires.IsZero() {
			m.expiry = insertKey(m.expiry, timeKey{si.Expires, id})
		}
	}
	oldAcct, newAcct := "", si.Instrument.Account
	if exists {
		oldAcct = old.Instrument.Account
	}
	if !exists || oldAcct != newAcct {
		if oldAcct != "" {
			m.byAccount[oldAcct] = removeSorted(m.byAccount[oldAcct], id)
		}
		if newAcct != "" {
			m.byAccount[newAcct] = insertSorted(m.byAccount[newAcct], id)
		}
	}
	cp := si
	m.insts[id] = &cp
}

func insertKey(keys []timeKey, k timeKey) []timeKey {
	i, found := slices.BinarySearchFunc(keys, k, cmpTimeKey)
	if found {
		return keys
	}
	return slices.Insert(keys, i, k)
}

func removeKey(keys []timeKey, k timeKey) []timeKey {
	i, found := slices.BinarySearchFunc(keys, k, cmpTimeKey)
	if !found {
		return keys
	}
	return slices.Delete(keys, i, i+1)
}
