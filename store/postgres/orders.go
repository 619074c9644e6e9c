package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/voucherkit/voucherkit/voucher"
)

const (
	stateCommitted = "committed"
	stateReserved  = "reserved"
)

// orderRow reads the row of order id, committed or reserved, and keeps it in the cache
// for the Order or Reservation call that comes next.
func (t *tx) orderRow(ctx context.Context, id string) (state string, body []byte, err error) {
	if c := t.cache.order; c != nil && c.id == id {
		t.cache.order = nil
		return c.state, c.body, nil
	}
	t.cache.order = nil
	err = t.roundTrip(ctx, read{sql: t.q.order, args: []any{t.st.key, k(id)}, scan: func(rows pgx.Rows) error {
		for rows.Next() {
			if err := rows.Scan(&state, &body); err != nil {
				return err
			}
		}
		return nil
	}})
	if err != nil {
		return "", nil, err
	}
	t.cache.order = &orderRead{id: id, state: state, body: body}
	return state, body, nil
}

func (t *tx) Order(ctx context.Context, id string) (voucher.OrderRecord, bool, error) {
	var rec voucher.OrderRecord
	state, body, err := t.orderRow(ctx, id)
	if err != nil || state != stateCommitted {
		return rec, false, err
	}
	err = decode("order "+quote(id), body, &rec)
	return rec, err == nil, err
}

func (t *tx) Reservation(ctx context.Context, orderID string) (voucher.Reservation, bool, error) {
	var r voucher.Reservation
	state, body, err := t.orderRow(ctx, orderID)
	if err != nil || state != stateReserved {
		return r, false, err
	}
	err = decode("the reservation of order "+quote(orderID), body, &r)
	return r, err == nil, err
}

func (t *tx) AccountOrders(ctx context.Context, account, after string, limit int) ([]voucher.OrderRecord, error) {
	t.cache.order = nil
	var out []voucher.OrderRecord
	err := t.roundTrip(ctx, read{sql: t.q.accountOrders, args: []any{t.st.key, k(account), k(after), sqlLimit(limit)},
		scan: scanBodies(&out, "an order of account "+quote(account))})
	return out, err
}

func (t *tx) InsertOrder(_ context.Context, rec voucher.OrderRecord) error {
	if err := checkUTF8("order id", rec.ID, "order account", rec.Account); err != nil {
		return err
	}
	body, err := encode("order "+quote(rec.ID), rec)
	if err != nil {
		return err
	}
	return t.queue(write{sql: t.q.insertOrder, args: []any{t.st.key, k(rec.ID), k(rec.Account), stateCommitted, nil, body},
		what: fmt.Sprintf("committing order %q", rec.ID), dup: duplicateOrder(rec.ID)})
}

func duplicateOrder(id string) func(*pgconn.PgError) error {
	return func(*pgconn.PgError) error {
		return fmt.Errorf("%w: order %q is already committed or reserved", voucher.ErrDuplicateOrder, id)
	}
}

func (t *tx) UpdateOrder(_ context.Context, rec voucher.OrderRecord) error {
	if err := checkUTF8("order id", rec.ID, "order account", rec.Account); err != nil {
		return err
	}
	body, err := encode("order "+quote(rec.ID), rec)
	if err != nil {
		return err
	}
	return t.queue(write{sql: t.q.updateOrder, args: []any{t.st.key, k(rec.ID), k(rec.Account), body},
		what: fmt.Sprintf("updating order %q", rec.ID), missing: fmt.Sprintf("account %q has no committed order %q", rec.Account, rec.ID)})
}

func (t *tx) AccountReservations(ctx context.Context, account string) ([]voucher.Reservation, error) {
	t.cache.order = nil
	if c := t.cache.accounts[account]; c != nil && c.hasResv {
		c.hasResv = false
		return c.resv, nil
	}
	var out []voucher.Reservation
	err := t.roundTrip(ctx, read{sql: t.q.accountResv, args: []any{t.st.key, k(account)},
		scan: scanBodies(&out, "a reservation of account "+quote(account))})
	return out, err
}

func (t *tx) Reservations(ctx context.Context, after string, limit int) ([]voucher.Reservation, error) {
	t.cache.order = nil
	var out []voucher.Reservation
	err := t.roundTrip(ctx, read{sql: t.q.resvs, args: []any{t.st.key, after, sqlLimit(limit)}, scan: scanBodies(&out, "a reservation")})
	return out, err
}

func (t *tx) InsertReservation(_ context.Context, r voucher.Reservation) error {
	if err := checkUTF8("order id", r.OrderID, "reservation account", r.Account); err != nil {
		return err
	}
	until, err := timeKey(fmt.Sprintf("reservation %q: until", r.OrderID), r.Until)
	if err != nil {
		return err
	}
	body, err := encode("the reservation of order "+quote(r.OrderID), r)
	if err != nil {
		return err
	}
	return t.queue(write{sql: t.q.insertOrder, args: []any{t.st.key, k(r.OrderID), k(r.Account), stateReserved, until, body},
		what: fmt.Sprintf("reserving order %q", r.OrderID), dup: duplicateOrder(r.OrderID)})
}

func (t *tx) DeleteReservation(_ context.Context, orderID string) error {
	return t.queue(write{sql: t.q.deleteResv, args: []any{t.st.key, k(orderID)},
		what: fmt.Sprintf("deleting the reservation of order %q", orderID), missing: "there is no such reservation"})
}

func (t *tx) Refund(ctx context.Context, orderID, key string) (voucher.RefundRecord, bool, error) {
	t.cache.order = nil
	var out []voucher.RefundRecord
	err := t.roundTrip(ctx, read{sql: t.q.refund, args: []any{t.st.key, k(orderID), k(key)},
		scan: scanBodies(&out, fmt.Sprintf("refund %q of order %q", key, orderID))})
	if err != nil || len(out) == 0 {
		return voucher.RefundRecord{}, false, err
	}
	return out[0], true, nil
}

func (t *tx) InsertRefund(_ context.Context, rec voucher.RefundRecord) error {
	if rec.Key == "" {
		return fmt.Errorf("postgres store: wallet %q: refund of order %q: the idempotency key is empty", t.st.wallet, rec.OrderID)
	}
	if err := checkUTF8("order id", rec.OrderID, "refund key", rec.Key); err != nil {
		return err
	}
	body, err := encode(fmt.Sprintf("refund %q of order %q", rec.Key, rec.OrderID), rec)
	if err != nil {
		return err
	}
	return t.queue(write{sql: t.q.insertRefund, args: []any{t.st.key, k(rec.OrderID), k(rec.Key), body},
		what: fmt.Sprintf("recording refund %q of order %q", rec.Key, rec.OrderID),
		dup: func(*pgconn.PgError) error {
			return fmt.Errorf("refund %q of order %q is already recorded", rec.Key, rec.OrderID)
		}})
}

// AppendEntries queues the entries' insert; their Seq are set when it has run: by the
// next call that reads, or by the commit.
func (t *tx) AppendEntries(_ context.Context, entries []voucher.LedgerEntry) error {
	if len(entries) == 0 {
		return nil
	}
	n := len(entries)
	keys := [4][][]byte{make([][]byte, n), make([][]byte, n), make([][]byte, n), make([][]byte, n)}
	bodies := make([]string, n)
	for i := range entries {
		e := &entries[i]
		if err := checkUTF8("ledger entry account", e.Account, "ledger entry instrument", e.Instrument, "ledger entry order", e.Order); err != nil {
			return err
		}
		at, err := timeKey(fmt.Sprintf("ledger entry %d (%s of instrument %q): at", i, e.Kind, e.Instrument), e.At)
		if err != nil {
			return err
		}
		body, err := encode(fmt.Sprintf("ledger entry %d (%s of instrument %q)", i, e.Kind, e.Instrument), e)
		if err != nil {
			return err
		}
		keys[0][i], keys[1][i], keys[2][i], keys[3][i], bodies[i] = k(e.Account), k(e.Instrument), k(e.Order), at, string(body)
	}
	w := write{sql: t.q.appendEntries,
		args: []any{t.st.key, keys[0], keys[1], keys[2], keys[3], bodies, n},
		what: fmt.Sprintf("appending %d ledger entries", n), seqs: entries}
	if n == 1 {
		w.sql, w.args = t.q.appendEntry, []any{t.st.key, keys[0][0], keys[1][0], keys[2][0], keys[3][0], bodies[0]}
	}
	return t.queue(w)
}

func (t *tx) Entries(ctx context.Context, q voucher.LedgerQuery) ([]voucher.LedgerEntry, error) {
	t.cache.order = nil
	var b strings.Builder
	b.WriteString(t.q.entriesCommon)
	args := []any{t.st.key, q.AfterSeq}
	cond := func(col, op string, v any) {
		args = append(args, v)
		b.WriteString(" AND " + col + " " + op + " $" + strconv.Itoa(len(args)))
	}
	if q.Instrument != "" {
		cond("instrument", "=", k(q.Instrument))
	}
	if q.Order != "" {
		cond("order_id", "=", k(q.Order))
	}
	if q.Account != "" {
		cond("account", "=", k(q.Account))
	}
	for _, bound := range []struct {
		field, op string
		t         *time.Time
	}{{"ledger query from", ">=", q.From}, {"ledger query to", "<", q.To}} {
		if bound.t == nil {
			continue
		}
		k, err := timeKey(bound.field, *bound.t)
		if err != nil {
			return nil, err
		}
		cond("at", bound.op, k)
	}
	b.WriteString(" ORDER BY seq")
	if q.Limit > 0 {
		args = append(args, q.Limit)
		b.WriteString(" LIMIT $" + strconv.Itoa(len(args)))
	}
	var out []voucher.LedgerEntry
	err := t.roundTrip(ctx, read{sql: b.String(), args: args, scan: func(rows pgx.Rows) error {
		for rows.Next() {
			var seq int64
			var body []byte
			if err := rows.Scan(&seq, &body); err != nil {
				return err
			}
			var e voucher.LedgerEntry
			if err := decode("ledger entry "+strconv.FormatInt(seq, 10), body, &e); err != nil {
				return err
			}
			e.Seq = seq
			out = append(out, e)
		}
		return nil
	}})
	return out, err
}

func (t *tx) Organization(ctx context.Context, id string) (voucher.Organization, bool, error) {
	t.cache.order = nil
	var out []voucher.Organization
	err := t.roundTrip(ctx, read{sql: t.q.organization, args: []any{t.st.key, k(id)},
		scan: scanBodies(&out, fmt.Sprintf("organization %q", id))})
	if err != nil || len(out) == 0 {
		return voucher.Organization{}, false, err
	}
	return out[0], true, nil
}

func (t *tx) AccountOrganization(ctx context.Context, account string) (string, bool, error) {
	t.cache.order = nil
	var org []byte
	found := false
	err := t.roundTrip(ctx, read{sql: t.q.accountOrg, args: []any{t.st.key, k(account)},
		scan: func(rows pgx.Rows) error {
			for rows.Next() {
				if err := rows.Scan(&org); err != nil {
					return err
				}
				found = true
			}
			return rows.Err()
		}})
	return string(org), found, err
}

func (t *tx) PutOrganization(_ context.Context, org voucher.Organization) error {
	accounts := org.Accounts()
	if err := checkUTF8("organization id", org.ID); err != nil {
		return err
	}
	for _, a := range accounts {
		if err := checkUTF8("organization account", a); err != nil {
			return err
		}
	}
	what := fmt.Sprintf("storing organization %q", org.ID)
	body, err := encode(what, org)
	if err != nil {
		return err
	}
	if err := t.queue(write{sql: t.q.putOrg, args: []any{t.st.key, k(org.ID), body}, what: what}); err != nil {
		return err
	}
	if err := t.queue(write{sql: t.q.deleteOrgAccounts, args: []any{t.st.key, k(org.ID)}, what: what}); err != nil {
		return err
	}
	for _, a := range accounts {
		err := t.queue(write{sql: t.q.insertOrgAccount, args: []any{t.st.key, k(a), k(org.ID)}, what: what,
			dup: func(*pgconn.PgError) error {
				return fmt.Errorf("%w: account %q is already in another organization", voucher.ErrInvalidOrganization, a)
			}})
		if err != nil {
			return err
		}
	}
	return nil
}
