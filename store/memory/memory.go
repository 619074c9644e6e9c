// Package memory is the in-memory voucher.Store: maps behind one mutex. An Update
// holds the mutex for writing and applies its writes directly, keeping a journal of
// what they replaced that puts everything back when the transaction fails (or panics);
// a View holds it for reading.
// Values go in and come out as copies, so no caller ever shares the store's state.
//
// It keeps nothing across restarts: use store/sqlite or store/postgres for a wallet
// that must survive one. It is safe for concurrent use by any number of wallets.
package memory

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/voucherkit/voucherkit/voucher"
)

// Store is an in-memory voucher.Store.
type Store struct {
	mu sync.RWMutex
	s  state
	// w is the transaction of every Update, one at a time under mu: its journals keep
	// their capacity from one Update to the next.
	w *tx
	// noHistory: keep of a committed order its id and buyer only, and no ledger entry
	// (see WithoutHistory).
	noHistory bool
}

// Option configures New.
type Option func(*Store)

// WithoutHistory keeps only what later steps read, for a long run that reads its
// ledger entries as they commit (a simulation, through a Store that wraps this one):
// of a committed order its id and buyer (Order and AccountOrders return records
// without a quote, and a wallet on the store cannot refund), and no ledger entry
// (AppendEntries numbers the entries as the contract says and keeps none; Entries
// returns none). Its memory then grows with the orders' ids, not with their quotes or
// their ledger.
func WithoutHistory() Option { return func(s *Store) { s.noHistory = true } }

type state struct {
	clocks    map[string]time.Time
	insts     map[string]voucher.StoredInstrument
	byCode    map[string]string
	byAccount map[string][]string // sorted instrument ids
	orders    map[string]storedOrder
	byBuyer   map[string][]string // sorted committed order ids (with history)
	resv      map[string]voucher.Reservation
	refunds   map[[2]string]voucher.RefundRecord
	orgs      map[string]voucher.Organization
	ledger    [][]voucher.LedgerEntry // chunks of ledgerChunk entries: appending never copies
	seq       int64
}

// New returns an empty store.
func New(opts ...Option) *Store {
	st := &Store{s: state{
		clocks: map[string]time.Time{}, insts: map[string]voucher.StoredInstrument{},
		byCode: map[string]string{}, byAccount: map[string][]string{},
		orders: map[string]storedOrder{}, byBuyer: map[string][]string{},
		resv: map[string]voucher.Reservation{}, refunds: map[[2]string]voucher.RefundRecord{},
		orgs: map[string]voucher.Organization{},
	}}
	for _, o := range opts {
		o(st)
	}
	st.w = newWriteTx(&st.s, st.noHistory)
	return st
}

var _ voucher.Store = (*Store)(nil)

// Update runs fn with the store locked for writing; when fn fails (or panics), every
// write it made is undone.
func (m *Store) Update(ctx context.Context, fn func(context.Context, voucher.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	tx := m.w
	tx.begin()
	done := false
	defer func() {
		if !done { // fn failed or panicked
			tx.rollback()
		}
		tx.end()
	}()
	if err := fn(ctx, tx); err != nil {
		return err
	}
	done = true
	return nil
}

// View runs fn with the store locked for reading.
func (m *Store) View(ctx context.Context, fn func(context.Context, voucher.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	return fn(ctx, &tx{s: &m.s})
}

// tx is one transaction: it reads and writes the state, and remembers how to undo.
type tx struct {
	s         *state
	write     bool
	noHistory bool

	// What an Update replaced, to put back when it fails: each map's journal, the
	// indexes' changes, and the ledger's length and sequence as they were at begin.
	clocks  journal[string, time.Time]
	insts   journal[string, voucher.StoredInstrument]
	byCode  journal[string, string]
	orders  journal[string, storedOrder]
	resv    journal[string, voucher.Reservation]
	refunds journal[[2]string, voucher.RefundRecord]
	orgs    journal[string, voucher.Organization]
	indexed []indexChange
	chunks  int // len(s.ledger) at begin
	last    int // the length of its last chunk then
	seq     int64
}

func newWriteTx(s *state, noHistory bool) *tx {
	return &tx{s: s, write: true, noHistory: noHistory,
		clocks: journal[string, time.Time]{m: s.clocks}, insts: journal[string, voucher.StoredInstrument]{m: s.insts},
		byCode: journal[string, string]{m: s.byCode}, orders: journal[string, storedOrder]{m: s.orders},
		resv: journal[string, voucher.Reservation]{m: s.resv}, refunds: journal[[2]string, voucher.RefundRecord]{m: s.refunds},
		orgs: journal[string, voucher.Organization]{m: s.orgs}}
}

// begin notes where the ledger stands.
func (t *tx) begin() {
	t.chunks, t.last, t.seq = len(t.s.ledger), 0, t.s.seq
	if t.chunks > 0 {
		t.last = len(t.s.ledger[t.chunks-1])
	}
}

// rollback puts back everything the transaction changed. The maps' journals are
// independent of one another (each puts back its own map's first values), and so are
// the indexes and the ledger.
func (t *tx) rollback() {
	t.clocks.undo()
	t.insts.undo()
	t.byCode.undo()
	t.orders.undo()
	t.resv.undo()
	t.refunds.undo()
	t.orgs.undo()
	for i := len(t.indexed) - 1; i >= 0; i-- {
		c := t.indexed[i]
		reindex(c.m, c.key, c.id, !c.add)
	}
	t.s.ledger = t.s.ledger[:t.chunks]
	if t.chunks > 0 {
		c := t.s.ledger[t.chunks-1]
		clear(c[t.last:])
		t.s.ledger[t.chunks-1] = c[:t.last]
	}
	t.s.seq = t.seq
}

// end forgets the transaction's journals, keeping their capacity.
func (t *tx) end() {
	t.clocks.reset()
	t.insts.reset()
	t.byCode.reset()
	t.orders.reset()
	t.resv.reset()
	t.refunds.reset()
	t.orgs.reset()
	clear(t.indexed)
	t.indexed = t.indexed[:0]
}

func (t *tx) writable() error {
	if !t.write {
		return fmt.Errorf("memory store: a View cannot write")
	}
	return nil
}

// journal is one map of the state, with the values a transaction replaced in it.
type journal[K comparable, V any] struct {
	m   map[K]V
	log []replaced[K, V]
}

type replaced[K comparable, V any] struct {
	k   K
	old V
	had bool
}

// set puts v under k, remembering what was there.
func (j *journal[K, V]) set(k K, v V) {
	old, had := j.m[k]
	j.m[k] = v
	j.log = append(j.log, replaced[K, V]{k, old, had})
}

// del deletes k, remembering what was there.
func (j *journal[K, V]) del(k K) {
	if old, had := j.m[k]; had {
		delete(j.m, k)
		j.log = append(j.log, replaced[K, V]{k, old, true})
	}
}

// undo puts back, latest first, what the journal remembers.
func (j *journal[K, V]) undo() {
	for i := len(j.log) - 1; i >= 0; i-- {
		r := j.log[i]
		if r.had {
			j.m[r.k] = r.old
		} else {
			delete(j.m, r.k)
		}
	}
}

func (j *journal[K, V]) reset() {
	clear(j.log) // no old value stays reachable
	j.log = j.log[:0]
}

// indexChange is one id added to or removed from a sorted index.
type indexChange struct {
	m       map[string][]string
	key, id string
	add     bool
}

// index adds or removes id in the sorted list of key in m, remembering the change.
func (t *tx) index(m map[string][]string, key, id string, add bool) {
	if reindex(m, key, id, add) {
		t.indexed = append(t.indexed, indexChange{m, key, id, add})
	}
}

// reindex adds or removes id in the sorted list of key in m, in place; it reports
// whether that changed the list.
func reindex(m map[string][]string, key, id string, add bool) bool {
	ids := m[key]
	i, found := slices.BinarySearch(ids, id)
	switch {
	case add && !found:
		m[key] = slices.Insert(ids, i, id)
		return true
	case !add && found:
		m[key] = slices.Delete(ids, i, i+1)
		if len(m[key]) == 0 {
			delete(m, key)
		}
		return true
	}
	return false
}

func (t *tx) Account(_ context.Context, account string) (time.Time, bool, error) {
	c, ok := t.s.clocks[account]
	return c, ok, nil
}

func (t *tx) SetClock(_ context.Context, account string, clock time.Time) error {
	if err := t.writable(); err != nil {
		return err
	}
	t.clocks.set(account, clock)
	return nil
}

func (t *tx) Instrument(_ context.Context, id string) (voucher.StoredInstrument, bool, error) {
	si, ok := t.s.insts[id]
	return si.Clone(), ok, nil
}

func (t *tx) InstrumentByCode(ctx context.Context, code string) (voucher.StoredInstrument, bool, error) {
	id, ok := t.s.byCode[code]
	if !ok {
		return voucher.StoredInstrument{}, false, nil
	}
	return t.Instrument(ctx, id)
}

func (t *tx) AccountInstruments(_ context.Context, account string) ([]voucher.StoredInstrument, error) {
	ids := t.s.byAccount[account]
	out := make([]voucher.StoredInstrument, len(ids))
	for i, id := range ids {
		out[i] = t.s.insts[id].Clone()
	}
	return out, nil
}

func (t *tx) Instruments(_ context.Context, after string, limit int) ([]voucher.StoredInstrument, error) {
	return page(t.s.insts, after, limit, voucher.StoredInstrument.Clone), nil
}

// page returns up to limit values of m with a key after after, by key.
func page[V any](m map[string]V, after string, limit int, clone func(V) V) []V {
	keys := make([]string, 0, len(m))
	for k := range m {
		if k > after {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	if limit > 0 && len(keys) > limit {
		keys = keys[:limit]
	}
	out := make([]V, len(keys))
	for i, k := range keys {
		out[i] = clone(m[k])
	}
	return out
}

func (t *tx) InsertInstrument(_ context.Context, si voucher.StoredInstrument) error {
	if err := t.writable(); err != nil {
		return err
	}
	id, code := si.ID(), si.Instrument.Code
	if _, dup := t.s.insts[id]; dup {
		return fmt.Errorf("%w: instrument %q already exists", voucher.ErrInvalidInstrument, id)
	}
	if other, dup := t.s.byCode[code]; dup && code != "" {
		return fmt.Errorf("%w: instrument %q: code %q is already the code of instrument %q", voucher.ErrInvalidInstrument, id, code, other)
	}
	t.insts.set(id, si.Clone())
	if code != "" {
		t.byCode.set(code, id)
	}
	t.index(t.s.byAccount, si.Account(), id, true)
	return nil
}

func (t *tx) UpdateInstrument(_ context.Context, si voucher.StoredInstrument) error {
	if err := t.writable(); err != nil {
		return err
	}
	old, ok := t.s.insts[si.ID()]
	if !ok {
		return fmt.Errorf("memory store: no instrument %q to update", si.ID())
	}
	if old.Instrument.Code != si.Instrument.Code {
		return fmt.Errorf("memory store: instrument %q: a code never changes", si.ID())
	}
	t.insts.set(si.ID(), si.Clone())
	if old.Account() != si.Account() {
		t.index(t.s.byAccount, old.Account(), si.ID(), false)
		t.index(t.s.byAccount, si.Account(), si.ID(), true)
	}
	return nil
}

func (t *tx) Due(_ context.Context, upTo time.Time, from string, limit int) ([]string, error) {
	due := map[string]bool{}
	for _, si := range t.s.insts {
		if si.Kind == voucher.Deduction && !si.Expired && si.Expires != nil && !upTo.Before(*si.Expires) {
			due[si.Account()] = true
		}
	}
	for _, r := range t.s.resv {
		if !upTo.Before(r.Until) {
			due[r.Account] = true
		}
	}
	var out []string
	for a := range due {
		if a >= from {
			out = append(out, a)
		}
	}
	slices.Sort(out)
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// storedOrder is a committed order: its buyer, and its record (nil without history).
type storedOrder struct {
	account string
	rec     *voucher.OrderRecord
}

func (o storedOrder) record(id string) voucher.OrderRecord {
	if o.rec == nil {
		return voucher.OrderRecord{ID: id, Account: o.account}
	}
	return o.rec.Clone()
}

func (t *tx) Order(_ context.Context, id string) (voucher.OrderRecord, bool, error) {
	o, ok := t.s.orders[id]
	if !ok {
		return voucher.OrderRecord{}, false, nil
	}
	return o.record(id), true, nil
}

func (t *tx) AccountOrders(_ context.Context, account, after string, limit int) ([]voucher.OrderRecord, error) {
	ids := t.s.byBuyer[account]
	if t.noHistory {
		ids = nil // not indexed: found by a scan, which only a reader of history does
		for id, o := range t.s.orders {
			if o.account == account {
				ids = append(ids, id)
			}
		}
		slices.Sort(ids)
	}
	var out []voucher.OrderRecord
	for _, id := range ids {
		if id > after && (limit <= 0 || len(out) < limit) {
			out = append(out, t.s.orders[id].record(id))
		}
	}
	return out, nil
}

func (t *tx) taken(id string) error {
	if _, ok := t.s.orders[id]; ok {
		return fmt.Errorf("%w: order %q is already committed", voucher.ErrDuplicateOrder, id)
	}
	if _, ok := t.s.resv[id]; ok {
		return fmt.Errorf("%w: order %q is reserved", voucher.ErrDuplicateOrder, id)
	}
	return nil
}

func (t *tx) InsertOrder(_ context.Context, rec voucher.OrderRecord) error {
	if err := t.writable(); err != nil {
		return err
	}
	if err := t.taken(rec.ID); err != nil {
		return err
	}
	t.orders.set(rec.ID, t.kept(rec))
	if !t.noHistory {
		t.index(t.s.byBuyer, rec.Account, rec.ID, true)
	}
	return nil
}

func (t *tx) UpdateOrder(_ context.Context, rec voucher.OrderRecord) error {
	if err := t.writable(); err != nil {
		return err
	}
	old, ok := t.s.orders[rec.ID]
	if !ok || old.account != rec.Account {
		return fmt.Errorf("memory store: no order %q of account %q to update", rec.ID, rec.Account)
	}
	t.orders.set(rec.ID, t.kept(rec))
	return nil
}

// kept is what the store keeps of a committed order: a copy, or without history its
// buyer only.
func (t *tx) kept(rec voucher.OrderRecord) storedOrder {
	if t.noHistory {
		return storedOrder{account: rec.Account}
	}
	c := rec.Clone()
	return storedOrder{account: rec.Account, rec: &c}
}

func (t *tx) Reservation(_ context.Context, orderID string) (voucher.Reservation, bool, error) {
	r, ok := t.s.resv[orderID]
	return r.Clone(), ok, nil
}

func (t *tx) AccountReservations(_ context.Context, account string) ([]voucher.Reservation, error) {
	var out []voucher.Reservation
	for _, r := range t.s.resv {
		if r.Account == account {
			out = append(out, r.Clone())
		}
	}
	slices.SortFunc(out, func(a, b voucher.Reservation) int { return cmp.Compare(a.OrderID, b.OrderID) })
	return out, nil
}

func (t *tx) Reservations(_ context.Context, after string, limit int) ([]voucher.Reservation, error) {
	return page(t.s.resv, after, limit, voucher.Reservation.Clone), nil
}

func (t *tx) InsertReservation(_ context.Context, r voucher.Reservation) error {
	if err := t.writable(); err != nil {
		return err
	}
	if err := t.taken(r.OrderID); err != nil {
		return err
	}
	t.resv.set(r.OrderID, r.Clone())
	return nil
}

func (t *tx) DeleteReservation(_ context.Context, orderID string) error {
	if err := t.writable(); err != nil {
		return err
	}
	if _, ok := t.s.resv[orderID]; !ok {
		return fmt.Errorf("memory store: no reservation %q to delete", orderID)
	}
	t.resv.del(orderID)
	return nil
}

func (t *tx) Refund(_ context.Context, orderID, key string) (voucher.RefundRecord, bool, error) {
	r, ok := t.s.refunds[[2]string{orderID, key}]
	return cloneRefund(r), ok, nil
}

// cloneRefund returns a copy of r that shares no slice, map or pointer with it: the
// wallet hands a repeated refund's result to its caller.
func cloneRefund(r voucher.RefundRecord) voucher.RefundRecord {
	r.Request.Lines = slices.Clone(r.Request.Lines)
	if r.Request.Consumed != nil {
		c := *r.Request.Consumed
		r.Request.Consumed = &c
	}
	r.Result.Lines = slices.Clone(r.Result.Lines)
	r.Result.Forfeited = maps.Clone(r.Result.Forfeited)
	r.Result.Restored = maps.Clone(r.Result.Restored)
	return r
}

func (t *tx) InsertRefund(_ context.Context, rec voucher.RefundRecord) error {
	if err := t.writable(); err != nil {
		return err
	}
	k := [2]string{rec.OrderID, rec.Key}
	if _, dup := t.s.refunds[k]; dup || rec.Key == "" {
		return fmt.Errorf("memory store: refund %q of order %q is already recorded (or has no key)", rec.Key, rec.OrderID)
	}
	t.refunds.set(k, cloneRefund(rec))
	return nil
}

func (t *tx) Organization(_ context.Context, id string) (voucher.Organization, bool, error) {
	o, ok := t.s.orgs[id]
	return o.Clone(), ok, nil
}

func (t *tx) AccountOrganization(_ context.Context, account string) (string, bool, error) {
	for id, o := range t.s.orgs {
		if o.Has(account) {
			return id, true, nil
		}
	}
	return "", false, nil
}

func (t *tx) PutOrganization(ctx context.Context, org voucher.Organization) error {
	if err := t.writable(); err != nil {
		return err
	}
	for _, a := range org.Accounts() {
		if other, ok, _ := t.AccountOrganization(ctx, a); ok && other != org.ID {
			return fmt.Errorf("%w: account %q is already in organization %q", voucher.ErrInvalidOrganization, a, other)
		}
	}
	t.orgs.set(org.ID, org.Clone())
	return nil
}

// ledgerChunk is how many entries one chunk of the ledger holds.
const ledgerChunk = 4096

func (t *tx) AppendEntries(_ context.Context, entries []voucher.LedgerEntry) error {
	if err := t.writable(); err != nil {
		return err
	}
	if t.noHistory {
		for i := range entries {
			t.s.seq++
			entries[i].Seq = t.s.seq
		}
		return nil
	}
	for i := range entries {
		t.s.seq++
		entries[i].Seq = t.s.seq
		n := len(t.s.ledger)
		if n == 0 || len(t.s.ledger[n-1]) == ledgerChunk {
			t.s.ledger = append(t.s.ledger, make([]voucher.LedgerEntry, 0, ledgerChunk))
			n++
		}
		t.s.ledger[n-1] = append(t.s.ledger[n-1], entries[i])
	}
	return nil
}

func (t *tx) Entries(_ context.Context, q voucher.LedgerQuery) ([]voucher.LedgerEntry, error) {
	var out []voucher.LedgerEntry
	for _, chunk := range t.s.ledger {
		for i := range chunk {
			e := &chunk[i]
			if q.Match(e) {
				out = append(out, *e)
				if q.Limit > 0 && len(out) == q.Limit {
					return out, nil
				}
			}
		}
	}
	return out, nil
}
