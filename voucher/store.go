package voucher

import (
	"context"
	"time"
)

// Store keeps the state of one wallet: instruments, committed orders, live
// reservations, refunds, the ledger and a clock per account. A Wallet reads and writes
// it only inside the transactions Update and View run; the store, not the wallet,
// guarantees that a transaction commits whole or not at all, and that two
// transactions, from one process or from many, never both spend the same value (see
// Tx). Implementations: store/memory, store/sqlite, store/postgres; store/storetest is
// the suite every implementation passes.
type Store interface {
	// Update runs fn in a read-write transaction and commits it when fn returns nil;
	// when fn returns an error nothing fn wrote is kept and that error is returned.
	// A store may run fn again when the transaction could not be serialised with
	// another one; after a bounded number of tries it returns an error wrapping
	// ErrConflict. fn must therefore do nothing outside tx that it cannot repeat.
	Update(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error
	// View runs fn in a read-only transaction that sees one consistent state.
	View(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error
}

// Tx is one transaction of a Store. Every method can fail; after an error the
// transaction must not be used except to return the error from fn. A Tx keeps copies
// of the values it is given and returns copies of what it keeps: neither side ever
// shares a value's slices, maps or quotes with the other. A store may hold a write
// back and send it with the transaction's next call or with its commit (a database
// store pipelines them): then a write's error (ErrDuplicateOrder,
// ErrInvalidInstrument, a row that must exist and does not) is returned by that later
// call or by Update, and AppendEntries has set the entries' Seq by the time Update
// returns. Either way the transaction fails whole; reads always see its writes.
//
// Serialisation is by account: in an Update, Account locks the account until the
// transaction ends, and Instrument and InstrumentByCode lock the instrument they
// return, so that two transactions that read the same account or instrument run one
// after the other (a database store: SELECT ... FOR UPDATE). A wallet step locks its
// accounts first, in sorted order, then the instruments it needs that no locked
// account owns. Reads of a View take no locks.
type Tx interface {
	// Account locks account (in an Update) and returns its clock: the time of its
	// latest step. ok is false for an account that has never stepped.
	Account(ctx context.Context, account string) (clock time.Time, ok bool, err error)
	// SetClock records account's clock.
	SetClock(ctx context.Context, account string, clock time.Time) error

	// Instrument returns instrument id, locked in an Update.
	Instrument(ctx context.Context, id string) (StoredInstrument, bool, error)
	// InstrumentByCode returns the instrument whose Code is code (case-sensitive),
	// locked in an Update.
	InstrumentByCode(ctx context.Context, code string) (StoredInstrument, bool, error)
	// AccountInstruments returns the instruments account owns ("": those with no
	// owner), sorted by id. They are protected by the account's lock, not their own.
	AccountInstruments(ctx context.Context, account string) ([]StoredInstrument, error)
	// Instruments returns up to limit instruments with an id after after, sorted by id.
	Instruments(ctx context.Context, after string, limit int) ([]StoredInstrument, error)
	// InsertInstrument adds a new instrument; an id or a code the store already has
	// is an error wrapping ErrInvalidInstrument.
	InsertInstrument(ctx context.Context, si StoredInstrument) error
	// UpdateInstrument replaces the instrument with si's id, which must exist.
	UpdateInstrument(ctx context.Context, si StoredInstrument) error
	// Due returns up to limit accounts, sorted, from from on (inclusive; "" first, for
	// the instruments with no owner), that have something to record at or before upTo:
	// a deduction instrument whose Expires is at or before upTo and is not Expired, or
	// a reservation whose Until is at or before upTo.
	Due(ctx context.Context, upTo time.Time, from string, limit int) ([]string, error)

	// Order returns the committed order id.
	Order(ctx context.Context, id string) (OrderRecord, bool, error)
	// AccountOrders returns up to limit committed orders of account with an id after
	// after, sorted by id.
	AccountOrders(ctx context.Context, account, after string, limit int) ([]OrderRecord, error)
	// InsertOrder commits a new order. Order ids are one namespace with reservations:
	// an id that is committed or reserved is an error wrapping ErrDuplicateOrder.
	InsertOrder(ctx context.Context, rec OrderRecord) error
	// UpdateOrder replaces the committed order with rec's id, which must exist.
	UpdateOrder(ctx context.Context, rec OrderRecord) error

	// Reservation returns the stored reservation of order id (live or not: the
	// wallet decides by its Until).
	Reservation(ctx context.Context, orderID string) (Reservation, bool, error)
	// AccountReservations returns account's stored reservations, sorted by order id.
	AccountReservations(ctx context.Context, account string) ([]Reservation, error)
	// Reservations returns up to limit stored reservations with an order id after
	// after, sorted by order id.
	Reservations(ctx context.Context, after string, limit int) ([]Reservation, error)
	// InsertReservation stores a new reservation; its order id must be new (see
	// InsertOrder: ErrDuplicateOrder).
	InsertReservation(ctx context.Context, r Reservation) error
	// DeleteReservation removes the reservation of order id, which must exist.
	DeleteReservation(ctx context.Context, orderID string) error

	// Refund returns the refund of order orderID recorded under idempotency key key.
	Refund(ctx context.Context, orderID, key string) (RefundRecord, bool, error)
	// InsertRefund records a refund under its idempotency key (which is not empty);
	// the pair (order, key) must be new.
	InsertRefund(ctx context.Context, rec RefundRecord) error

	// Organization returns organization id.
	Organization(ctx context.Context, id string) (Organization, bool, error)
	// AccountOrganization returns the id of the organization that has account as
	// payer or member (at any time).
	AccountOrganization(ctx context.Context, account string) (string, bool, error)
	// PutOrganization inserts or replaces the organization with org's id. An account
	// another organization has is an error wrapping ErrInvalidOrganization.
	PutOrganization(ctx context.Context, org Organization) error

	// AppendEntries adds entries to the ledger in the order given, and sets each one's
	// Seq: strictly increasing, after every Seq the store has handed out before (gaps
	// are allowed).
	AppendEntries(ctx context.Context, entries []LedgerEntry) error
	// Entries returns the entries q selects, in Seq order.
	Entries(ctx context.Context, q LedgerQuery) ([]LedgerEntry, error)
}

// StoredInstrument is an instrument as a Store keeps it: the instrument with its
// state, and what the Wallet derived from its type.
type StoredInstrument struct {
	Instrument Instrument `json:"instrument"`
	// Kind of the instrument's type.
	Kind Kind `json:"kind"`
	// Expires is when the instrument stops being usable (Instrument.ExpiresOn under
	// its type's policy, fixed when it is granted or extended); nil: never.
	Expires *time.Time `json:"expires,omitempty"`
	// Used: some order has committed value from it (checkout or capture).
	Used bool `json:"used,omitempty"`
	// Expired: its expiry has been recorded (what was not held then was forfeited).
	Expired bool `json:"expired,omitempty"`
}

// ID is the instrument's id.
func (si *StoredInstrument) ID() string { return si.Instrument.ID }

// Account is the instrument's owner ("" for none).
func (si *StoredInstrument) Account() string { return si.Instrument.Account }

// Clone returns a copy that shares nothing with si.
func (si StoredInstrument) Clone() StoredInstrument {
	si.Instrument, si.Expires = si.Instrument.clone(si.Expires)
	return si
}

// OrderRecord is a committed order: the quote as committed (a wallet records it
// without its trace: see Quote.Trace), and the lines refunded so far.
type OrderRecord struct {
	ID      string `json:"id"`
	Account string `json:"account"`
	// At is when the order was committed.
	At time.Time `json:"at"`
	// Quote is the committed quote.
	Quote *Quote `json:"quote"`
	// Refunded lists the refunded line ids, in the order they were refunded.
	Refunded []string `json:"refunded,omitempty"`
}

// Clone returns a copy that shares nothing with r.
func (r OrderRecord) Clone() OrderRecord {
	r.Quote = r.Quote.Clone()
	r.Refunded = cloneStrings(r.Refunded)
	return r
}

// Reservation is a hold: what the reserved order's quote takes is held from At until
// Until (exclusive); it is live while the clock is before Until.
type Reservation struct {
	OrderID string    `json:"order"`
	Account string    `json:"account"`
	At      time.Time `json:"at"`
	Until   time.Time `json:"until"`
	// Quote is the quote as reserved (without its trace, as a wallet records it);
	// capture commits exactly this.
	Quote *Quote `json:"quote"`
}

// Clone returns a copy that shares nothing with r.
func (r Reservation) Clone() Reservation {
	r.Quote = r.Quote.Clone()
	return r
}

// RefundRecord is a refund made with an idempotency key: asking again with the same
// key returns Result and changes nothing.
type RefundRecord struct {
	OrderID string        `json:"order"`
	Key     string        `json:"key"`
	At      time.Time     `json:"at"`
	Request RefundRequest `json:"request"`
	Result  RefundResult  `json:"result"`
}

// LedgerQuery selects ledger entries; every given field must match.
type LedgerQuery struct {
	Instrument string `json:"instrument,omitempty"`
	Order      string `json:"order,omitempty"`
	Account    string `json:"account,omitempty"`
	// From (inclusive) and To (exclusive) bound the entries' At; nil: unbounded.
	From *time.Time `json:"from,omitempty"`
	To   *time.Time `json:"to,omitempty"`
	// AfterSeq pages: only entries with a Seq above it.
	AfterSeq int64 `json:"after_seq,omitempty"`
	// Limit is the most entries returned; 0: all.
	Limit int `json:"limit,omitempty"`
}

// Match reports whether e is one of the entries q selects (AfterSeq included; Limit
// is the caller's to apply).
func (q *LedgerQuery) Match(e *LedgerEntry) bool {
	return (q.Instrument == "" || e.Instrument == q.Instrument) &&
		(q.Order == "" || e.Order == q.Order) &&
		(q.Account == "" || e.Account == q.Account) &&
		(q.From == nil || !e.At.Before(*q.From)) &&
		(q.To == nil || e.At.Before(*q.To)) &&
		e.Seq > q.AfterSeq
}

func cloneStrings(s []string) []string {
	if s == nil {
		return nil
	}
	return append([]string(nil), s...)
}
