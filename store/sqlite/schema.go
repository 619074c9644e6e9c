package sqlite

import (
	"database/sql/driver"
	"fmt"
	"strconv"
	"time"
)

// migrations are the schema's versions: migrations[i] takes a database from version
// i to i+1 (PRAGMA user_version). Append only; never change one that has shipped.
var migrations = []string{
	// 1: every table is keyed by the wallet's name first, so that wallets never mix.
	// Times in columns are timeKey text (fixed width, UTC, sorting as the instants);
	// each value is whole in data, as JSON.
	`
CREATE TABLE clocks (
	wallet  TEXT NOT NULL,
	account TEXT NOT NULL,
	clock   TEXT NOT NULL,
	PRIMARY KEY (wallet, account)
) WITHOUT ROWID;

CREATE TABLE instruments (
	wallet  TEXT NOT NULL,
	id      TEXT NOT NULL,
	account TEXT NOT NULL,            -- '' for no owner
	code    TEXT,                     -- NULL for none
	kind    INTEGER NOT NULL,         -- 1 discount, 2 deduction
	expires TEXT,                     -- NULL: never
	expired INTEGER NOT NULL,
	data    TEXT NOT NULL,
	PRIMARY KEY (wallet, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX instruments_code ON instruments (wallet, code) WHERE code IS NOT NULL;
CREATE INDEX instruments_account ON instruments (wallet, account, id);
CREATE INDEX instruments_due ON instruments (wallet, expires, account)
	WHERE kind = 2 AND expired = 0 AND expires IS NOT NULL;

-- Committed orders and live reservations: one namespace of order ids.
-- A rowid table: its rows (a whole quote each) are large, and new ones go to its end.
CREATE TABLE orders (
	wallet  TEXT NOT NULL,
	id      TEXT NOT NULL,
	account TEXT NOT NULL,
	state   TEXT NOT NULL CHECK (state IN ('reserved', 'committed')),
	until   TEXT,                     -- a reservation's end; NULL for an order
	data    TEXT NOT NULL,
	PRIMARY KEY (wallet, id)
);
CREATE INDEX orders_account ON orders (wallet, state, account, id);
CREATE INDEX orders_until ON orders (wallet, until, account) WHERE state = 'reserved';

CREATE TABLE refunds (
	wallet   TEXT NOT NULL,
	order_id TEXT NOT NULL,
	key      TEXT NOT NULL,
	data     TEXT NOT NULL,
	PRIMARY KEY (wallet, order_id, key)
) WITHOUT ROWID;

-- seq is the rowid: rows are never deleted, so a new one always takes a number above
-- every number committed before (AUTOINCREMENT would cost a write per entry).
CREATE TABLE ledger (
	seq        INTEGER PRIMARY KEY,
	wallet     TEXT NOT NULL,
	account    TEXT NOT NULL,
	instrument TEXT NOT NULL,
	order_id   TEXT NOT NULL,
	at         TEXT NOT NULL,
	data       TEXT NOT NULL
);
CREATE INDEX ledger_account ON ledger (wallet, account, seq);
CREATE INDEX ledger_instrument ON ledger (wallet, instrument, seq);
CREATE INDEX ledger_order ON ledger (wallet, order_id, seq);

-- Organizations (billing families), whole in data; organization_accounts gives each
-- account at most one organization (its primary key).
CREATE TABLE organizations (
	wallet TEXT NOT NULL,
	id     TEXT NOT NULL,
	data   TEXT NOT NULL,
	PRIMARY KEY (wallet, id)
) WITHOUT ROWID;
CREATE TABLE organization_accounts (
	wallet  TEXT NOT NULL,
	account TEXT NOT NULL,
	org     TEXT NOT NULL,
	PRIMARY KEY (wallet, account)
) WITHOUT ROWID;
CREATE INDEX organization_accounts_org ON organization_accounts (wallet, org);
`,
}

// SchemaVersion is the schema version this build writes and reads.
var SchemaVersion = len(migrations)

// migrate brings the database to SchemaVersion in one write transaction, so that
// processes opening one file at once migrate it once. A database of a newer version
// is refused: this build does not know its tables.
func migrate(c *conn, path string, retries int) error {
	return withRetry(noCancel, path, retries, func() error {
		if err := c.run(qBeginImmediate); err != nil {
			return err
		}
		if err := migrateTx(c, path); err != nil {
			_ = c.run(qRollback)
			return err
		}
		return c.run(qCommit)
	})
}

func migrateTx(c *conn, path string) error {
	var v int64
	rs, err := c.dc.(driver.QueryerContext).QueryContext(noCancel, "PRAGMA user_version", nil)
	if err != nil {
		return err
	}
	row := []driver.Value{nil}
	err = rs.Next(row)
	_ = rs.Close()
	if err != nil {
		return err
	}
	v, _ = row[0].(int64)
	if v > int64(len(migrations)) {
		return fmt.Errorf("%s has schema version %d, newer than version %d, the newest this build of voucherkit knows; open it with a newer voucherkit", path, v, len(migrations))
	}
	for i := int(v); i < len(migrations); i++ {
		if err := c.script(migrations[i]); err != nil {
			return fmt.Errorf("migrating to schema version %d: %w", i+1, err)
		}
	}
	if v < int64(len(migrations)) {
		return c.script("PRAGMA user_version = " + strconv.Itoa(len(migrations)))
	}
	return nil
}

// keyLayout writes a UTC time with a four-digit year; timeKey adds a fifth digit.
const keyLayout = "2006-01-02T15:04:05.000000000Z"

// timeKey is t as column text: UTC, fixed width, sorting as the instants do, exact to
// the nanosecond: "02026-03-02T02:00:00.123456789Z". The year has five digits because
// the UTC of a time late in year 9999 west of Greenwich is in year 10000.
func timeKey(t time.Time) string {
	u := t.UTC()
	b := make([]byte, 0, len(keyLayout)+1)
	if u.Year() < 10000 {
		b = append(b, '0')
	}
	return string(u.AppendFormat(b, keyLayout))
}

// parseTimeKey reads what timeKey writes, as a UTC time.
func parseTimeKey(s string) (time.Time, error) {
	if len(s) != len(keyLayout)+1 || s[5] != '-' {
		return time.Time{}, fmt.Errorf("store/sqlite: time %q is not a stored time", s)
	}
	year, err := strconv.Atoi(s[:5])
	if err != nil {
		return time.Time{}, fmt.Errorf("store/sqlite: time %q is not a stored time", s)
	}
	// 2000 is a leap year: every month and day parses; then the real year.
	p, err := time.Parse(keyLayout, "2000"+s[5:])
	if err != nil {
		return time.Time{}, fmt.Errorf("store/sqlite: time %q is not a stored time: %w", s, err)
	}
	return time.Date(year, p.Month(), p.Day(), p.Hour(), p.Minute(), p.Second(), p.Nanosecond(), time.UTC), nil
}
