package postgres

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/voucherkit/voucherkit/voucher"
)

// cache holds what a batch read ahead of the calls that ask for it. Account reads,
// with the account's lock, the account's instruments and reservations, which the
// wallet asks for next; they stay good while the lock is held, until the transaction
// writes. Order reads the row that Reservation asks for next (or the other way round);
// any other call drops it, so that it is never older than the calls before it.
type cache struct {
	accounts map[string]*accountRead
	order    *orderRead
}

type accountRead struct {
	insts             []voucher.StoredInstrument
	resv              []voucher.Reservation
	hasInsts, hasResv bool
}

type orderRead struct {
	id, state string // state "": no row
	body      []byte
}

var _ voucher.Tx = (*tx)(nil)

func (t *tx) Account(ctx context.Context, account string) (time.Time, bool, error) {
	t.cache.order = nil
	var clock *string
	found := false
	scanClock := func(rows pgx.Rows) error {
		for rows.Next() {
			found = true
			if err := rows.Scan(&clock); err != nil {
				return err
			}
		}
		return nil
	}
	c := &accountRead{}
	sql := t.q.readAccount
	if t.write {
		sql = t.q.lockAccount
	}
	err := t.roundTrip(ctx, t.accountReads(account, c, read{sql: sql, args: []any{t.st.key, k(account)}, scan: scanClock})...)
	if err == nil && t.write && !found {
		// A new account: make its row, to lock it. A transaction that makes it at the
		// same time waits for this one, and then finds it.
		c = &accountRead{}
		kept := t.cache.accounts // the new row changes nothing read ahead
		err = t.queue(write{sql: t.q.insertAccount, args: []any{t.st.key, k(account)}, what: fmt.Sprintf("adding account %q", account)})
		t.cache.accounts = kept
		if err == nil {
			err = t.roundTrip(ctx, t.accountReads(account, c, read{sql: t.q.lockAccount, args: []any{t.st.key, k(account)}, scan: scanClock})...)
		}
	}
	if err != nil {
		return time.Time{}, false, err
	}
	if t.cache.accounts == nil {
		t.cache.accounts = map[string]*accountRead{}
	}
	t.cache.accounts[account] = c
	if clock == nil {
		return time.Time{}, false, nil
	}
	at, err := decodeClock(account, *clock)
	return at, err == nil, err
}

// accountReads is lock, then the read of account's instruments and reservations that
// the wallet makes next, into c.
func (t *tx) accountReads(account string, c *accountRead, lock read) []read {
	c.hasInsts, c.hasResv = true, true
	return []read{lock, {sql: t.q.accountAll, args: []any{t.st.key, k(account)}, scan: func(rows pgx.Rows) error {
		for rows.Next() {
			var kind string
			var id, body []byte
			if err := rows.Scan(&kind, &id, &body); err != nil {
				return err
			}
			if kind == "i" {
				var si voucher.StoredInstrument
				if err := decode("instrument "+quote(string(id)), body, &si); err != nil {
					return err
				}
				c.insts = append(c.insts, si)
				continue
			}
			var r voucher.Reservation
			if err := decode("the reservation of order "+quote(string(id)), body, &r); err != nil {
				return err
			}
			c.resv = append(c.resv, r)
		}
		return nil
	}}}
}

func (t *tx) SetClock(_ context.Context, account string, clock time.Time) error {
	c, err := encodeClock(account, clock)
	if err != nil {
		return err
	}
	return t.queue(write{sql: t.q.setClock, args: []any{t.st.key, k(account), c}, what: fmt.Sprintf("setting the clock of account %q", account)})
}

func (t *tx) Instrument(ctx context.Context, id string) (voucher.StoredInstrument, bool, error) {
	t.cache.order = nil
	sql := t.q.instrument
	if t.write {
		sql = t.q.instrumentLock
	}
	return t.oneInstrument(ctx, sql, id, "instrument "+quote(id))
}

func (t *tx) InstrumentByCode(ctx context.Context, code string) (voucher.StoredInstrument, bool, error) {
	t.cache.order = nil
	if code == "" {
		return voucher.StoredInstrument{}, false, nil // no instrument has the empty code
	}
	sql := t.q.byCode
	if t.write {
		sql = t.q.byCodeLock
	}
	return t.oneInstrument(ctx, sql, code, "the instrument of code "+quote(code))
}

func (t *tx) oneInstrument(ctx context.Context, sql, key, what string) (voucher.StoredInstrument, bool, error) {
	var out []voucher.StoredInstrument
	err := t.roundTrip(ctx, read{sql: sql, args: []any{t.st.key, k(key)}, scan: scanBodies(&out, what)})
	if err != nil || len(out) == 0 {
		return voucher.StoredInstrument{}, false, err
	}
	return out[0], true, nil
}

func (t *tx) AccountInstruments(ctx context.Context, account string) ([]voucher.StoredInstrument, error) {
	t.cache.order = nil
	if c := t.cache.accounts[account]; c != nil && c.hasInsts {
		c.hasInsts = false
		return c.insts, nil
	}
	var out []voucher.StoredInstrument
	err := t.roundTrip(ctx, read{sql: t.q.accountInsts, args: []any{t.st.key, k(account)}, scan: scanBodies(&out, "an instrument of account "+quote(account))})
	return out, err
}

func (t *tx) Instruments(ctx context.Context, after string, limit int) ([]voucher.StoredInstrument, error) {
	t.cache.order = nil
	var out []voucher.StoredInstrument
	err := t.roundTrip(ctx, read{sql: t.q.insts, args: []any{t.st.key, k(after), sqlLimit(limit)}, scan: scanBodies(&out, "an instrument")})
	return out, err
}

func (t *tx) InsertInstrument(_ context.Context, si voucher.StoredInstrument) error {
	code, expires, body, err := instrumentRow(&si)
	if err != nil {
		return err
	}
	id := si.ID()
	return t.queue(write{sql: t.q.insertInst,
		args: []any{t.st.key, k(id), k(si.Account()), code, int16(si.Kind), expires, si.Expired, body},
		what: fmt.Sprintf("inserting instrument %q", id),
		dup: func(pe *pgconn.PgError) error {
			if pe.ConstraintName == "instruments_code" {
				return fmt.Errorf("%w: instrument %q: code %q is already the code of another instrument", voucher.ErrInvalidInstrument, id, si.Instrument.Code)
			}
			return fmt.Errorf("%w: instrument %q already exists", voucher.ErrInvalidInstrument, id)
		}})
}

// UpdateInstrument queues the update; the instrument updates queued one after another
// go to the database as one statement.
func (t *tx) UpdateInstrument(_ context.Context, si voucher.StoredInstrument) error {
	code, expires, body, err := instrumentRow(&si)
	if err != nil {
		return err
	}
	if t.err != nil {
		return t.err
	}
	var u *instUpdates
	if n := len(t.writes); n > 0 && t.writes[n-1].insts != nil {
		u = t.writes[n-1].insts
		t.cache = cache{} // a write: what was read ahead may be out of date
	} else {
		u = &instUpdates{}
		if err := t.queue(write{sql: t.q.updateInsts, insts: u}); err != nil {
			return err
		}
	}
	u.add(si.ID(), si.Account(), int16(si.Kind), expires, si.Expired, string(body), code)
	w := &t.writes[len(t.writes)-1]
	w.sql, w.args = u.statement(t.q, t.st.wallet)
	w.what = u.what()
	w.missing = "an instrument is missing, or its code would change (a code never changes)"
	return nil
}

// instUpdates are the columns of the instruments one statement updates.
type instUpdates struct {
	ids, accounts, expires, codes [][]byte
	bodies                        []string
	kinds                         []int16
	expired                       []bool
}

func (u *instUpdates) add(id, account string, kind int16, expires []byte, expired bool, body string, code []byte) {
	u.ids, u.accounts, u.kinds = append(u.ids, k(id)), append(u.accounts, k(account)), append(u.kinds, kind)
	u.expires, u.expired, u.bodies, u.codes = append(u.expires, expires), append(u.expired, expired), append(u.bodies, body), append(u.codes, code)
}

// statement is the statement that updates u's instruments, and its arguments.
func (u *instUpdates) statement(q *queries, wallet string) (string, []any) {
	if len(u.ids) == 1 {
		return q.updateInst, []any{wallet, u.ids[0], u.accounts[0], u.kinds[0], u.expires[0], u.expired[0], u.bodies[0], u.codes[0]}
	}
	return q.updateInsts, []any{wallet, u.ids, u.accounts, u.kinds, u.expires, u.expired, u.bodies, u.codes, len(u.ids)}
}

func (u *instUpdates) what() string {
	if len(u.ids) == 1 {
		return fmt.Sprintf("updating instrument %q", u.ids[0])
	}
	return fmt.Sprintf("updating instruments %q", u.ids)
}

func (t *tx) Due(ctx context.Context, upTo time.Time, from string, limit int) ([]string, error) {
	t.cache.order = nil
	key, err := timeKey("due time", upTo)
	if err != nil {
		return nil, err
	}
	var out []string
	err = t.roundTrip(ctx, read{sql: t.q.due, args: []any{t.st.key, key, k(from), sqlLimit(limit)}, scan: func(rows pgx.Rows) error {
		for rows.Next() {
			var a []byte
			if err := rows.Scan(&a); err != nil {
				return err
			}
			out = append(out, string(a))
		}
		return nil
	}})
	return out, err
}

func quote(s string) string { return fmt.Sprintf("%q", s) }

// sqlLimit is a LIMIT for limit: every row when limit is not above zero.
func sqlLimit(limit int) int64 {
	if limit <= 0 {
		return math.MaxInt64
	}
	return int64(limit)
}

// scanBodies decodes each row's first column, a JSON body, onto out; what names a
// row in an error.
func scanBodies[T any](out *[]T, what string) func(pgx.Rows) error {
	return func(rows pgx.Rows) error {
		for rows.Next() {
			var body []byte
			if err := rows.Scan(&body); err != nil {
				return err
			}
			var v T
			if err := decode(what, body, &v); err != nil {
				return err
			}
			*out = append(*out, v)
		}
		return nil
	}
}
