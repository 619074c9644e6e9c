package voucher

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/shopspring/decimal"
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

	// packed is Quote packed for a MemoryStore, ahead of Commit (see Wallet.tryPriced).
	packed *packedQuote
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
// writes atomically. A Store serves one Wallet, which never calls Commit while another
// call is in progress but may make read calls concurrently with each other (steps read
// their snapshots in parallel). Values a Store returns may share slices and quotes with
// the store and are never modified by the Wallet. Commit must copy what it keeps of b
// and of its slices, which the Wallet reuses once Commit has returned; the quotes they
// point to are the store's to keep.
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

// MemoryStore is the in-memory Store. It is safe for concurrent use. It keeps the
// quotes of committed orders and the ledger's entries packed, in a fraction of the
// memory of the values it returns, which it makes afresh on each read: a wallet grows
// by under 1 KB per checkout (aliyun: one or two lines, a voucher and a coupon).
type MemoryStore struct {
	mu        sync.RWMutex
	clock     time.Time
	insts     map[string]*StoredInstrument
	byCode    map[string]string
	byAccount map[string][]string // sorted ids
	expiry    []timeKey           // sorted; instruments with an expiry
	resv      map[string]Reservation
	ending    []timeKey       // sorted (Until, order id) of resv
	ledger    [][]storedEntry // chunks of ledgerChunk entries: appending never copies
	ledgerN   int             // number of entries
	// names, kinds and curs number the accounts and instruments, the entry kinds and
	// the currencies of the ledger's entries (see storedEntry).
	names   []string
	nameNum map[string]int32
	kinds   []EntryKind
	curs    []Currency
	// entriesByInstrument and entriesByAccount are the positions of the entries
	// naming each instrument and each account.
	entriesByInstrument map[string][]int32
	entriesByAccount    map[string][]int32
	// byOrder finds the slot of each order id that is committed or named by an entry;
	// slots are in chunks of orderChunk, so that adding one never copies the others.
	byOrder map[string]int32
	slots   [][]orderSlot
	nSlots  int
	// arena packs the quotes of orders committed without a packed quote.
	arena quoteArena
}

// orderSlot is what the store keeps of one order id: the committed order, if any (its
// record less the id and the quote, which is packed), and the positions of the ledger
// entries that name it.
type orderSlot struct {
	id        string
	account   string
	at        time.Time
	refunded  []string
	packed    *packedQuote
	entries   positions
	committed bool
}

// record is the committed order of the slot.
func (sl *orderSlot) record() OrderRecord {
	rec := OrderRecord{ID: sl.id, Account: sl.account, At: sl.at, Refunded: sl.refunded}
	if sl.packed != nil {
		rec.Quote = sl.packed.unpack()
	}
	return rec
}

// positions are ledger positions in increasing order; the first few are kept inline.
type positions struct {
	n     int32
	small [3]int32
	more  *[]int32 // all of them, once there are more than len(small)
}

func (p *positions) add(pos int32) {
	switch {
	case int(p.n) < len(p.small):
		p.small[p.n] = pos
	case p.more == nil:
		more := append(make([]int32, 0, 4*len(p.small)), p.small[:]...)
		more = append(more, pos)
		p.more = &more
	default:
		*p.more = append(*p.more, pos)
	}
	p.n++
}

func (p *positions) list() []int32 {
	if int(p.n) <= len(p.small) {
		return p.small[:p.n]
	}
	return *p.more
}

const (
	ledgerChunk = 4096
	orderChunk  = 1024
)

// slot returns the slot of order id, adding it when add is set (nil otherwise).
func (m *MemoryStore) slot(id string, add bool) *orderSlot {
	k, ok := m.slotNum(id, add)
	if !ok {
		return nil
	}
	return m.slotAt(k)
}

// slotNum is the number of slot(id, add).
func (m *MemoryStore) slotNum(id string, add bool) (int32, bool) {
	if k, ok := m.byOrder[id]; ok || !add {
		return k, ok
	}
	if m.nSlots%orderChunk == 0 {
		m.slots = append(m.slots, make([]orderSlot, orderChunk))
	}
	k := int32(m.nSlots)
	m.nSlots++
	m.byOrder[id] = k
	m.slotAt(k).id = id
	return k, true
}

func (m *MemoryStore) slotAt(k int32) *orderSlot { return &m.slots[k/orderChunk][k%orderChunk] }

// storedEntry is a ledger entry as a MemoryStore keeps it, in half the memory: its Seq
// is its position, its strings and currencies are numbers (see MemoryStore.names),
// and its amounts are the very decimals of the entry's Money.
type storedEntry struct {
	at                                     time.Time
	amount, delta, balanceAfter, heldAfter decimal.Decimal
	redeemedAfter, heldRedemptionsAfter    int
	account, instrument                    int32 // in names
	order                                  int32 // slot number + 1; 0: none
	kind                                   uint8 // in kinds
	cur                                    [4]uint8
}

func (m *MemoryStore) entry(i int) *storedEntry {
	return &m.ledger[i/ledgerChunk][i%ledgerChunk]
}

// numName numbers s in m.names ("" is 0).
func (m *MemoryStore) numName(s string) int32 {
	if s == "" {
		return 0
	}
	if k, ok := m.nameNum[s]; ok {
		return k
	}
	k := int32(len(m.names))
	m.names = append(m.names, s)
	m.nameNum[s] = k
	return k
}

// numKind numbers k in m.kinds.
func (m *MemoryStore) numKind(k EntryKind) uint8 {
	for i, x := range m.kinds {
		if x == k {
			return uint8(i)
		}
	}
	m.kinds = append(m.kinds, k)
	return uint8(len(m.kinds) - 1)
}

// numCur numbers c in m.curs.
func (m *MemoryStore) numCur(c Currency) uint8 {
	for i, x := range m.curs {
		if x == c {
			return uint8(i)
		}
	}
	m.curs = append(m.curs, c)
	return uint8(len(m.curs) - 1)
}

// checkEntryNumbers refuses entries that would take the entry kinds or the currencies
// past what storedEntry numbers (256 of each).
func (m *MemoryStore) checkEntryNumbers(b *Batch) error {
	var kinds []EntryKind
	var curs []Currency
	for i := range b.Entries {
		e := &b.Entries[i]
		if !slices.Contains(m.kinds, e.Kind) && !slices.Contains(kinds, e.Kind) {
			kinds = append(kinds, e.Kind)
		}
		for _, c := range [4]Currency{e.Amount.currency, e.Delta.currency, e.BalanceAfter.currency, e.HeldAfter.currency} {
			if !slices.Contains(m.curs, c) && !slices.Contains(curs, c) {
				curs = append(curs, c)
			}
		}
	}
	if len(m.kinds)+len(kinds) > 256 || len(m.curs)+len(curs) > 256 {
		return fmt.Errorf("voucher: memory store: a ledger holds at most 256 entry kinds and 256 currencies")
	}
	return nil
}

// appendEntry appends e, naming slot number order-1 (0: no order).
func (m *MemoryStore) appendEntry(e *LedgerEntry, order int32) int {
	if m.ledgerN%ledgerChunk == 0 {
		m.ledger = append(m.ledger, make([]storedEntry, 0, ledgerChunk))
	}
	last := len(m.ledger) - 1
	m.ledger[last] = append(m.ledger[last], storedEntry{at: e.At,
		amount: e.Amount.amount, delta: e.Delta.amount, balanceAfter: e.BalanceAfter.amount, heldAfter: e.HeldAfter.amount,
		redeemedAfter: e.RedeemedAfter, heldRedemptionsAfter: e.HeldRedemptionsAfter,
		account: m.numName(e.Account), instrument: m.numName(e.Instrument), order: order, kind: m.numKind(e.Kind),
		cur: [4]uint8{m.numCur(e.Amount.currency), m.numCur(e.Delta.currency),
			m.numCur(e.BalanceAfter.currency), m.numCur(e.HeldAfter.currency)}})
	m.ledgerN++
	return m.ledgerN - 1
}

// entryAt returns the entry at position i.
func (m *MemoryStore) entryAt(i int) LedgerEntry {
	s := m.entry(i)
	e := LedgerEntry{Seq: int64(i + 1), At: s.at, Kind: m.kinds[s.kind],
		Account: m.names[s.account], Instrument: m.names[s.instrument],
		Amount:        Money{amount: s.amount, currency: m.curs[s.cur[0]]},
		Delta:         Money{amount: s.delta, currency: m.curs[s.cur[1]]},
		BalanceAfter:  Money{amount: s.balanceAfter, currency: m.curs[s.cur[2]]},
		HeldAfter:     Money{amount: s.heldAfter, currency: m.curs[s.cur[3]]},
		RedeemedAfter: s.redeemedAfter, HeldRedemptionsAfter: s.heldRedemptionsAfter}
	if s.order > 0 {
		e.Order = m.slotAt(s.order - 1).id
	}
	return e
}

// firstAt returns the position of the first entry at or after t (entries are in time order).
func (m *MemoryStore) firstAt(t time.Time) int {
	return sort.Search(m.ledgerN, func(i int) bool { return !m.entry(i).at.Before(t) })
}

// NewMemoryStore returns an empty in-memory Store.
func NewMemoryStore() *MemoryStore {
	m := &MemoryStore{
		insts:     make(map[string]*StoredInstrument),
		byCode:    make(map[string]string),
		byAccount: make(map[string][]string),
		resv:      make(map[string]Reservation),

		entriesByInstrument: make(map[string][]int32),
		entriesByAccount:    make(map[string][]int32),
		byOrder:             make(map[string]int32),

		names:   []string{""},
		nameNum: make(map[string]int32),
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

// appendAccountInstruments is AccountInstruments into a buffer (see txn.gather).
func (m *MemoryStore) appendAccountInstruments(dst []Instrument, account string) []Instrument {
	if account == "" {
		return dst
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, id := range m.byAccount[account] {
		dst = append(dst, m.insts[id].Instrument)
	}
	return dst
}

// sameState implements stateComparer.
func (m *MemoryStore) sameState(in *Instrument) bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	si, ok := m.insts[in.ID]
	return ok && sameState(&si.Instrument, in)
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
	if sl := m.slot(id, false); sl != nil && sl.committed {
		return sl.record(), true
	}
	return OrderRecord{}, false
}

// hasOrder reports whether order id is committed (see orderChecker).
func (m *MemoryStore) hasOrder(id string) bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	sl := m.slot(id, false)
	return sl != nil && sl.committed
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
		idx = m.entriesByInstrument[q.Instrument]
	case q.Order != "":
		if sl := m.slot(q.Order, false); sl != nil {
			idx = sl.entries.list()
		}
	case q.Account != "":
		idx = m.entriesByAccount[q.Account]
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
				out = append(out, m.entryAt(i))
			}
		}
		return out
	}
	for _, i := range idx {
		if e := m.entryAt(int(i)); q.match(&e) {
			out = append(out, e)
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
	var (
		lastID string // entries of one step mostly name one order
		last   int32  // its slot number
	)
	for _, o := range b.Orders {
		k, _ := m.slotNum(o.ID, true)
		sl := m.slotAt(k)
		p := o.packed
		if p == nil && o.Quote != nil {
			p = m.arena.pack(o.Quote)
		}
		sl.account, sl.at, sl.refunded, sl.packed, sl.committed = o.Account, o.At, o.Refunded, p, true
		lastID, last = o.ID, k
	}
	for _, r := range b.Reserve {
		m.resv[r.OrderID] = r
		m.ending = insertKey(m.ending, timeKey{r.Until, r.OrderID})
	}
	for i := range b.Entries {
		e := &b.Entries[i]
		order := int32(-1)
		if e.Order != "" {
			if lastID != e.Order {
				last, _ = m.slotNum(e.Order, true)
				lastID = e.Order
			}
			order = last
		}
		pos := int32(m.appendEntry(e, order+1))
		if e.Instrument != "" {
			m.entriesByInstrument[e.Instrument] = append(m.entriesByInstrument[e.Instrument], pos)
		}
		if e.Account != "" {
			m.entriesByAccount[e.Account] = append(m.entriesByAccount[e.Account], pos)
		}
		if order >= 0 {
			m.slotAt(order).entries.add(pos)
		}
	}
	if !b.Clock.IsZero() {
		m.clock = b.Clock
	}
	return nil
}

func (m *MemoryStore) check(b *Batch) error {
	var gone, adding map[string]bool
	if len(b.Unreserve) > 0 {
		gone = make(map[string]bool, len(b.Unreserve))
	}
	for _, id := range b.Unreserve {
		if _, ok := m.resv[id]; !ok || gone[id] {
			return fmt.Errorf("voucher: memory store: no reservation %q to remove", id)
		}
		gone[id] = true
	}
	if len(b.Reserve) > 0 {
		adding = make(map[string]bool, len(b.Reserve))
	}
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
	if err := m.checkEntryNumbers(b); err != nil {
		return err
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
	if exists {
		// Readers copy under m.mu: the stored value can change in place.
		*old = si
		return
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

// packedQuote is a committed order's quote as a MemoryStore keeps it, in a third of
// the memory of the Quote: each money value the quote repeats is kept once, strings
// are numbered (names) once for all the quotes of an arena, and the rest is small
// integers. unpack gives back a quote equal, field by field (as reflect.DeepEqual sees
// it), to the one packed; its money values are the very values packed, which are
// immutable.
type packedQuote struct {
	orderID string
	at      time.Time
	money   []Money    // distinct values (==), in order of first use
	names   *nameTable // the strings the code numbers (even numbers)
	strs    []string   // the strings names has no room for (odd numbers)
	code    []byte     // the walk of the quote (see codeQuote), as uvarints
}

// nameTable numbers strings for good, up to nameChunk*nameChunks of them. It is
// filled by one goroutine at a time (an arena's); a name is written before any quote
// that uses it is committed, and never changes, so reading the names of committed
// quotes needs no lock.
type nameTable struct {
	num    map[string]uint32
	n      int
	chunks [nameChunks]*[nameChunk]string
	// recent are names numbered lately, by a rough hash of the string: most strings
	// are found here, without hashing them whole.
	recent [512]struct {
		s   string
		id  uint32
		set bool
	}
}

const (
	nameChunk  = 1024
	nameChunks = 1024
	// nameMax is the length of the longest string a nameTable numbers: longer ones are
	// mostly one of a kind.
	nameMax = 64
)

// id returns the number of s, numbering it if it is new and there is room.
func (t *nameTable) id(s string) (uint32, bool) {
	n := len(s)
	if n > nameMax {
		return 0, false
	}
	h := uint(n) * 131
	if n > 0 {
		h += uint(s[0])*31 + uint(s[n-1])*7 + uint(s[n/2])
	}
	r := &t.recent[h%uint(len(t.recent))]
	if r.set && r.s == s {
		return r.id, true
	}
	k, ok := t.num[s]
	if !ok {
		if t.n == nameChunk*nameChunks {
			return 0, false
		}
		if t.n%nameChunk == 0 {
			t.chunks[t.n/nameChunk] = new([nameChunk]string)
		}
		k = uint32(t.n)
		t.chunks[k/nameChunk][k%nameChunk] = s
		t.n++
		t.num[s] = k
	}
	r.s, r.id, r.set = s, k, true
	return k, true
}

func (t *nameTable) name(k int) string { return t.chunks[k/nameChunk][k%nameChunk] }

// quoteArena packs quotes into chunks, which committed orders keep for good: packing
// then allocates nothing of its own. An arena is used by one goroutine at a time.
type quoteArena struct {
	packs []packedQuote
	money []Money
	strs  []string
	code  []byte
	// names numbers the strings of the arena's quotes; texts keeps one copy of the
	// longer texts that quotes repeat, which a Pricer makes afresh for each quote.
	names *nameTable
	texts *textCache
	c     quoteCodec
}

// arenaMark is where an arena stood (see mark).
type arenaMark struct {
	packs []packedQuote
	money []Money
	strs  []string
	code  []byte
}

// mark returns where a stands, for rollback.
func (a *quoteArena) mark() arenaMark {
	return arenaMark{packs: a.packs, money: a.money, strs: a.strs, code: a.code}
}

// rollback forgets the packs made since m: their room in the chunks is free again.
func (a *quoteArena) rollback(m arenaMark) {
	a.packs, a.money, a.strs, a.code = m.packs, m.money, m.strs, m.code
}

// textCache is a small table of strings by a rough hash; a string takes the place of
// another on collision, so that it stays small whatever the quotes say.
type textCache [256]string

// canon returns a string equal to s: the one in the cache if there is one.
func (c *textCache) canon(s string) string {
	n := len(s)
	if n < 8 || n > 256 {
		return s // short ones are constants; long ones are rare
	}
	h := uint(n)*131 + uint(s[n/2])*31 + uint(s[n-1])*7 + uint(s[n/3])
	k := h % uint(len(c))
	if c[k] == s {
		return c[k]
	}
	c[k] = s
	return s
}

// arenaChunk is how many quotes' worth a chunk of an arena holds, about.
const arenaChunk = 64

// carveFrom appends src to *buf and returns the appended elements, starting a chunk of
// at least per*arenaChunk elements when *buf has no room.
func carveFrom[T any](buf *[]T, src []T, per int) []T {
	n := len(src)
	if n == 0 {
		return nil
	}
	if cap(*buf)-len(*buf) < n {
		*buf = make([]T, 0, max(per*arenaChunk, n))
	}
	k := len(*buf)
	*buf = append(*buf, src...)
	return (*buf)[k : k+n : k+n]
}

// pack packs q, which it only reads.
func (a *quoteArena) pack(q *Quote) *packedQuote {
	if a.names == nil {
		a.names = &nameTable{num: make(map[string]uint32)}
		a.texts = new(textCache)
	}
	c := &a.c
	c.reset(nil)
	c.names, c.cache = a.names, a.texts
	codeQuote(q, c)
	if cap(a.packs) == len(a.packs) {
		a.packs = make([]packedQuote, 0, arenaChunk)
	}
	a.packs = append(a.packs, packedQuote{orderID: q.OrderID, at: q.At, names: a.names,
		money: carveFrom(&a.money, c.monies, 4),
		strs:  carveFrom(&a.strs, c.local, 4),
		code:  carveFrom(&a.code, c.code, 128)})
	c.reset(nil)
	return &a.packs[len(a.packs)-1]
}

// unpack returns a new Quote equal to the one p was packed from.
func (p *packedQuote) unpack() *Quote {
	q := &Quote{OrderID: p.orderID, At: p.at}
	c := quoteCodec{from: p}
	codeQuote(q, &c)
	return q
}

// quoteCodec packs a quote (from == nil: it reads the quote and appends to its
// buffers) or unpacks one (from != nil: it reads from and fills the quote), as
// codeQuote walks the quote's fields.
type quoteCodec struct {
	from *packedQuote
	off  int
	// packing
	code   []byte
	monies []Money
	local  []string // the strings names has no room for
	names  *nameTable
	cache  *textCache
}

func (c *quoteCodec) reset(from *packedQuote) {
	clear(c.monies)
	clear(c.local)
	c.from, c.off = from, 0
	c.code, c.monies, c.local = c.code[:0], c.monies[:0], c.local[:0]
}

func (c *quoteCodec) next() int {
	v, n := binary.Uvarint(c.from.code[c.off:])
	c.off += n
	return int(v)
}

func (c *quoteCodec) put(v int) { c.code = binary.AppendUvarint(c.code, uint64(v)) }

// num codes a non-negative integer: v when packing; what was packed when unpacking.
func (c *quoteCodec) num(v int) int {
	if c.from != nil {
		return c.next()
	}
	c.put(v)
	return v
}

func (c *quoteCodec) money(m *Money) {
	if c.from != nil {
		*m = c.from.money[c.next()]
		return
	}
	for i := range c.monies {
		if c.monies[i] == *m {
			c.put(i)
			return
		}
	}
	c.put(len(c.monies))
	c.monies = append(c.monies, *m)
}

// str codes a string as 2k for name k, or 2j+1 for the quote's own string j (one the
// names have no room for, kept once per quote).
func (c *quoteCodec) str(s *string) {
	if c.from != nil {
		if v := c.next(); v%2 == 0 {
			*s = c.from.names.name(v / 2)
		} else {
			*s = c.from.strs[v/2]
		}
		return
	}
	if k, ok := c.names.id(*s); ok {
		c.put(2 * int(k))
		return
	}
	j := slices.Index(c.local, *s)
	if j < 0 {
		j = len(c.local)
		c.local = append(c.local, c.cache.canon(*s))
	}
	c.put(2*j + 1)
}

// codeString codes a field of a string type.
func codeString[S ~string](c *quoteCodec, s *S) {
	v := string(*s)
	c.str(&v)
	if c.from != nil {
		*s = S(v)
	}
}

// codeSlice codes whether *s is nil, its length, then each element; unpacking makes
// the slice first.
func codeSlice[T any](c *quoteCodec, s *[]T, each func(*T)) {
	n := len(*s) + 1
	if *s == nil {
		n = 0
	}
	n = c.num(n) - 1
	if n < 0 {
		return
	}
	if c.from != nil {
		*s = make([]T, n)
	}
	for i := range *s {
		each(&(*s)[i])
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// codeQuote codes every field of q but OrderID and At. A field added to Quote,
// LineQuote, Application, LineAmount, Rejection or TraceEntry must be added here.
func codeQuote(q *Quote, c *quoteCodec) {
	c.str(&q.Account)
	c.str(&q.RuleSet)
	c.str(&q.Currency)
	codeFigures(&q.Figures, c)
	codeSlice(c, &q.Lines, func(l *LineQuote) {
		c.str(&l.LineID)
		c.str(&l.Product)
		codeFigures(&l.Figures, c)
	})
	codeSlice(c, &q.Applications, func(a *Application) {
		c.str(&a.InstrumentID)
		c.str(&a.Key)
		c.str(&a.Type)
		c.str(&a.Stage)
		if k := Kind(c.num(int(a.Kind))); c.from != nil {
			a.Kind = k
		}
		c.money(&a.Amount)
		codeSlice(c, &a.Lines, func(l *LineAmount) {
			c.str(&l.LineID)
			c.money(&l.Amount)
		})
		if inv := c.num(b2i(a.Invoiceable)) == 1; c.from != nil {
			a.Invoiceable = inv
		}
		codeString(c, &a.Refund)
	})
	codeSlice(c, &q.Rejections, func(r *Rejection) {
		c.str(&r.InstrumentID)
		c.str(&r.Key)
		c.str(&r.Type)
		c.str(&r.Stage)
		codeString(c, &r.Reason)
		c.str(&r.Detail)
		c.str(&r.Hint)
	})
	codeSlice(c, &q.Trace, func(e *TraceEntry) {
		c.str(&e.Stage)
		c.str(&e.Instrument)
		c.str(&e.Event)
		codeString(c, &e.Reason)
		if c.num(b2i(e.Amount != nil)) == 1 {
			if c.from != nil {
				e.Amount = new(Money)
			}
			c.money(e.Amount)
		}
		c.str(&e.Note)
	})
}

func codeFigures(f *Figures, c *quoteCodec) {
	c.money(&f.Total)
	c.money(&f.Discount)
	c.money(&f.Deducted)
	c.money(&f.Cash)
	c.money(&f.Invoiceable)
	c.money(&f.NonInvoiceable)
}
