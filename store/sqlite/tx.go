package sqlite

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"time"

	"github.com/voucherkit/voucherkit/voucher"
)

// tx is one transaction of a wallet's Store, on one connection.
type tx struct {
	s     *Store
	c     *conn
	write bool
	// seen is the last row of the orders table the transaction read (or found
	// missing), by id: the wallet reads an id's order, then its reservation. Any write
	// to the table forgets it.
	seen *seenOrder
}

type seenOrder struct {
	id, state, data string // state "": no row
}

func (t *tx) fail(what string, err error) error {
	return fmt.Errorf("store/sqlite: %s: wallet %q: %s: %w", t.s.db.path, t.s.wallet, what, err)
}

// writable refuses a write in a View.
func (t *tx) writable(what string) error {
	if !t.write {
		return fmt.Errorf("store/sqlite: %s: wallet %q: %s in a View, which cannot write", t.s.db.path, t.s.wallet, what)
	}
	return nil
}

func text(v driver.Value) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	}
	return ""
}

func decode(data string, v any) error {
	if err := json.Unmarshal([]byte(data), v); err != nil {
		return fmt.Errorf("decoding %.200s: %w", data, err)
	}
	return nil
}

// one reads the single data column of the row q selects into v.
func (t *tx) one(q query, what string, v any, args ...any) (bool, error) {
	var data string
	found := false
	err := t.c.rows(q, func(row []driver.Value) error {
		data, found = text(row[0]), true
		return nil
	}, append([]any{t.s.wallet}, args...)...)
	if err == nil && found {
		err = decode(data, v)
	}
	if err != nil {
		return false, t.fail(what, err)
	}
	return found, nil
}

// all reads the data column of every row q selects, decoding each into a T.
func all[T any](t *tx, q query, what string, args ...any) ([]T, error) {
	out := []T{}
	err := t.c.rows(q, func(row []driver.Value) error {
		var v T
		if err := decode(text(row[0]), &v); err != nil {
			return err
		}
		out = append(out, v)
		return nil
	}, append([]any{t.s.wallet}, args...)...)
	if err != nil {
		return nil, t.fail(what, err)
	}
	return out, nil
}

// exec runs a write and returns how many rows it changed.
func (t *tx) exec(q query, what string, args ...any) (int64, error) {
	if err := t.writable(what); err != nil {
		return 0, err
	}
	n, _, err := t.c.exec(q, append([]any{t.s.wallet}, args...)...)
	if err != nil {
		return 0, t.fail(what, err)
	}
	return n, nil
}

func encode(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

func limitArg(limit int) int64 {
	if limit <= 0 {
		return -1 // no limit
	}
	return int64(limit)
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func timeArg(t *time.Time) any {
	if t == nil {
		return nil
	}
	return timeKey(*t)
}

func quote(s string) string { return fmt.Sprintf("%q", s) }

func (t *tx) Account(_ context.Context, account string) (time.Time, bool, error) {
	var key string
	found := false
	err := t.c.rows(qClock, func(row []driver.Value) error {
		key, found = text(row[0]), true
		return nil
	}, t.s.wallet, account)
	var c time.Time
	if err == nil && found {
		c, err = parseTimeKey(key)
	}
	if err != nil {
		return time.Time{}, false, t.fail("reading the clock of account "+quote(account), err)
	}
	return c, found, nil
}

func (t *tx) SetClock(_ context.Context, account string, clock time.Time) error {
	_, err := t.exec(qSetClock, "setting the clock of account "+quote(account), account, timeKey(clock))
	return err
}

func (t *tx) Instrument(_ context.Context, id string) (voucher.StoredInstrument, bool, error) {
	var si voucher.StoredInstrument
	ok, err := t.one(qInstrument, "reading instrument "+quote(id), &si, id)
	return si, ok, err
}

func (t *tx) InstrumentByCode(_ context.Context, code string) (voucher.StoredInstrument, bool, error) {
	var si voucher.StoredInstrument
	if code == "" {
		return si, false, nil
	}
	ok, err := t.one(qInstrumentByCode, "reading the instrument of code "+quote(code), &si, code)
	return si, ok, err
}

func (t *tx) AccountInstruments(_ context.Context, account string) ([]voucher.StoredInstrument, error) {
	return all[voucher.StoredInstrument](t, qAccountInstruments, "reading the instruments of account "+quote(account), account)
}

func (t *tx) Instruments(_ context.Context, after string, limit int) ([]voucher.StoredInstrument, error) {
	return all[voucher.StoredInstrument](t, qInstruments, "reading instruments", after, limitArg(limit))
}

// instrumentArgs are the columns of si after the wallet: id, account, code, kind,
// expires, expired, data.
func instrumentArgs(si *voucher.StoredInstrument) ([]any, error) {
	data, err := encode(si)
	if err != nil {
		return nil, fmt.Errorf("%w: instrument %q cannot be stored: %w", voucher.ErrInvalidInstrument, si.ID(), err)
	}
	return []any{si.ID(), si.Account(), nullable(si.Instrument.Code), int64(si.Kind), timeArg(si.Expires), si.Expired, data}, nil
}

func (t *tx) InsertInstrument(ctx context.Context, si voucher.StoredInstrument) error {
	if err := t.writable("InsertInstrument"); err != nil {
		return err
	}
	args, err := instrumentArgs(&si)
	if err != nil {
		return err
	}
	n, err := t.exec(qInsertInstrument, "inserting instrument "+quote(si.ID()), args...)
	if err != nil || n == 1 {
		return err
	}
	if _, dup, err := t.Instrument(ctx, si.ID()); err != nil || dup {
		if dup {
			return fmt.Errorf("%w: instrument %q already exists", voucher.ErrInvalidInstrument, si.ID())
		}
		return err
	}
	other, _, err := t.InstrumentByCode(ctx, si.Instrument.Code)
	if err != nil {
		return err
	}
	return fmt.Errorf("%w: instrument %q: code %q is already the code of instrument %q", voucher.ErrInvalidInstrument, si.ID(), si.Instrument.Code, other.ID())
}

func (t *tx) UpdateInstrument(_ context.Context, si voucher.StoredInstrument) error {
	if err := t.writable("UpdateInstrument"); err != nil {
		return err
	}
	args, err := instrumentArgs(&si)
	if err != nil {
		return err
	}
	n, err := t.exec(qUpdateInstrument, "updating instrument "+quote(si.ID()), args...)
	if err == nil && n == 0 {
		err = fmt.Errorf("store/sqlite: wallet %q: no instrument %q to update", t.s.wallet, si.ID())
	}
	return err
}

func (t *tx) Due(_ context.Context, upTo time.Time, from string, limit int) ([]string, error) {
	var out []string
	err := t.c.rows(qDue, func(row []driver.Value) error {
		out = append(out, text(row[0]))
		return nil
	}, t.s.wallet, timeKey(upTo), from, limitArg(limit))
	if err != nil {
		return nil, t.fail("reading the accounts due", err)
	}
	return out, nil
}

// order reads the row of order id (committed or reserved): state and data, state ""
// when there is none.
func (t *tx) order(id string) (state, data string, err error) {
	if t.seen != nil && t.seen.id == id {
		return t.seen.state, t.seen.data, nil
	}
	err = t.c.rows(qOrder, func(row []driver.Value) error {
		state, data = text(row[0]), text(row[1])
		return nil
	}, t.s.wallet, id)
	if err != nil {
		return "", "", t.fail("reading order "+quote(id), err)
	}
	t.seen = &seenOrder{id: id, state: state, data: data}
	return state, data, nil
}

// ordersChanged forgets the row order read last.
func (t *tx) ordersChanged() { t.seen = nil }

func (t *tx) Order(_ context.Context, id string) (voucher.OrderRecord, bool, error) {
	var rec voucher.OrderRecord
	state, data, err := t.order(id)
	if err != nil || state != "committed" {
		return rec, false, err
	}
	if err := decode(data, &rec); err != nil {
		return rec, false, t.fail("reading order "+quote(id), err)
	}
	return rec, true, nil
}

func (t *tx) AccountOrders(_ context.Context, account, after string, limit int) ([]voucher.OrderRecord, error) {
	return all[voucher.OrderRecord](t, qAccountOrders, "reading the orders of account "+quote(account), account, after, limitArg(limit))
}

// taken says why order id is not new.
func (t *tx) taken(id string) error {
	state, _, err := t.order(id)
	switch {
	case err != nil:
		return err
	case state == "reserved":
		return fmt.Errorf("%w: order %q is reserved", voucher.ErrDuplicateOrder, id)
	}
	return fmt.Errorf("%w: order %q is already committed", voucher.ErrDuplicateOrder, id)
}

func (t *tx) InsertOrder(_ context.Context, rec voucher.OrderRecord) error {
	if err := t.writable("InsertOrder"); err != nil {
		return err
	}
	data, err := encode(rec)
	if err != nil {
		return t.fail("encoding order "+quote(rec.ID), err)
	}
	t.ordersChanged()
	n, err := t.exec(qInsertOrder, "inserting order "+quote(rec.ID), rec.ID, rec.Account, data)
	if err == nil && n == 0 {
		err = t.taken(rec.ID)
	}
	return err
}

func (t *tx) UpdateOrder(_ context.Context, rec voucher.OrderRecord) error {
	if err := t.writable("UpdateOrder"); err != nil {
		return err
	}
	data, err := encode(rec)
	if err != nil {
		return t.fail("encoding order "+quote(rec.ID), err)
	}
	t.ordersChanged()
	n, err := t.exec(qUpdateOrder, "updating order "+quote(rec.ID), rec.ID, rec.Account, data)
	if err == nil && n == 0 {
		err = fmt.Errorf("store/sqlite: wallet %q: no order %q of account %q to update", t.s.wallet, rec.ID, rec.Account)
	}
	return err
}

func (t *tx) Reservation(_ context.Context, orderID string) (voucher.Reservation, bool, error) {
	var r voucher.Reservation
	state, data, err := t.order(orderID)
	if err != nil || state != "reserved" {
		return r, false, err
	}
	if err := decode(data, &r); err != nil {
		return r, false, t.fail("reading reservation "+quote(orderID), err)
	}
	return r, true, nil
}

func (t *tx) AccountReservations(_ context.Context, account string) ([]voucher.Reservation, error) {
	return all[voucher.Reservation](t, qAccountReservations, "reading the reservations of account "+quote(account), account)
}

func (t *tx) Reservations(_ context.Context, after string, limit int) ([]voucher.Reservation, error) {
	return all[voucher.Reservation](t, qReservations, "reading reservations", after, limitArg(limit))
}

func (t *tx) InsertReservation(_ context.Context, r voucher.Reservation) error {
	if err := t.writable("InsertReservation"); err != nil {
		return err
	}
	data, err := encode(r)
	if err != nil {
		return t.fail("encoding reservation "+quote(r.OrderID), err)
	}
	t.ordersChanged()
	n, err := t.exec(qInsertReservation, "inserting reservation "+quote(r.OrderID), r.OrderID, r.Account, timeKey(r.Until), data)
	if err == nil && n == 0 {
		err = t.taken(r.OrderID)
	}
	return err
}

func (t *tx) DeleteReservation(_ context.Context, orderID string) error {
	if err := t.writable("DeleteReservation"); err != nil {
		return err
	}
	t.ordersChanged()
	n, err := t.exec(qDeleteReservation, "deleting reservation "+quote(orderID), orderID)
	if err == nil && n == 0 {
		err = fmt.Errorf("store/sqlite: wallet %q: no reservation %q to delete", t.s.wallet, orderID)
	}
	return err
}

func (t *tx) Refund(_ context.Context, orderID, key string) (voucher.RefundRecord, bool, error) {
	var rec voucher.RefundRecord
	ok, err := t.one(qRefund, "reading refund "+quote(key)+" of order "+quote(orderID), &rec, orderID, key)
	return rec, ok, err
}

func (t *tx) InsertRefund(_ context.Context, rec voucher.RefundRecord) error {
	if err := t.writable("InsertRefund"); err != nil {
		return err
	}
	if rec.Key == "" {
		return fmt.Errorf("store/sqlite: wallet %q: refund of order %q has no idempotency key", t.s.wallet, rec.OrderID)
	}
	data, err := encode(rec)
	if err != nil {
		return t.fail("encoding refund of order "+quote(rec.OrderID), err)
	}
	n, err := t.exec(qInsertRefund, "inserting refund of order "+quote(rec.OrderID), rec.OrderID, rec.Key, data)
	if err == nil && n == 0 {
		err = fmt.Errorf("store/sqlite: wallet %q: refund %q of order %q is already recorded", t.s.wallet, rec.Key, rec.OrderID)
	}
	return err
}

func (t *tx) Organization(_ context.Context, id string) (voucher.Organization, bool, error) {
	var org voucher.Organization
	ok, err := t.one(qOrganization, "reading organization "+quote(id), &org, id)
	return org, ok, err
}

func (t *tx) AccountOrganization(_ context.Context, account string) (string, bool, error) {
	var org string
	found := false
	err := t.c.rows(qAccountOrganization, func(row []driver.Value) error {
		org, found = text(row[0]), true
		return nil
	}, t.s.wallet, account)
	if err != nil {
		return "", false, t.fail("reading the organization of account "+quote(account), err)
	}
	return org, found, nil
}

func (t *tx) PutOrganization(ctx context.Context, org voucher.Organization) error {
	data, err := encode(org)
	if err != nil {
		return t.fail("encoding organization "+quote(org.ID), err)
	}
	what := "storing organization " + quote(org.ID)
	if _, err := t.exec(qPutOrganization, what, org.ID, data); err != nil {
		return err
	}
	if _, err := t.exec(qDeleteOrgAccounts, what, org.ID); err != nil {
		return err
	}
	for _, a := range org.Accounts() {
		n, err := t.exec(qInsertOrgAccount, what, a, org.ID)
		if err != nil {
			return err
		}
		if n == 0 {
			other, _, _ := t.AccountOrganization(ctx, a)
			return fmt.Errorf("%w: account %q is already in organization %q", voucher.ErrInvalidOrganization, a, other)
		}
	}
	return nil
}

func (t *tx) AppendEntries(_ context.Context, entries []voucher.LedgerEntry) error {
	if err := t.writable("AppendEntries"); err != nil {
		return err
	}
	for i := range entries {
		e := &entries[i]
		e.Seq = 0 // the row's seq is the entry's
		data, err := encode(e)
		if err != nil {
			return t.fail("encoding a ledger entry", err)
		}
		_, seq, err := t.c.exec(qInsertEntry, t.s.wallet, e.Account, e.Instrument, e.Order, timeKey(e.At), data)
		if err != nil {
			return t.fail("appending a ledger entry", err)
		}
		e.Seq = seq
	}
	return nil
}

func (t *tx) Entries(_ context.Context, q voucher.LedgerQuery) ([]voucher.LedgerEntry, error) {
	var k entriesKey
	for _, f := range []struct {
		on  bool
		bit entriesKey
	}{{q.Account != "", byAccount}, {q.Instrument != "", byInstrument}, {q.Order != "", byOrder}, {q.From != nil, byFrom}, {q.To != nil, byTo}} {
		if f.on {
			k |= f.bit
		}
	}
	var out []voucher.LedgerEntry
	err := t.c.rows(qEntries+query(k), func(row []driver.Value) error {
		var e voucher.LedgerEntry
		if err := decode(text(row[1]), &e); err != nil {
			return err
		}
		e.Seq, _ = row[0].(int64)
		out = append(out, e)
		return nil
	}, t.s.wallet, q.AfterSeq, q.Account, q.Instrument, q.Order, timeArg(q.From), timeArg(q.To), limitArg(q.Limit))
	if err != nil {
		return nil, t.fail("reading the ledger", err)
	}
	return out, nil
}
