package sqlite

import (
	"io"
	"strings"
)

var errEOF = io.EOF

// query is one of the statements a connection prepares; ?1 is always the wallet.
type query int

const (
	qClock query = iota
	qInstrument
	qInstrumentByCode
	qAccountInstruments
	qInstruments
	qDue
	qOrder
	qAccountOrders
	qAccountReservations
	qReservations
	qRefund
	qOrganization
	qAccountOrganization
	qSetClock
	qInsertInstrument
	qUpdateInstrument
	qInsertOrder
	qUpdateOrder
	qInsertReservation
	qDeleteReservation
	qInsertRefund
	qPutOrganization
	qDeleteOrgAccounts
	qInsertOrgAccount
	qInsertEntry
	qBegin
	qBeginImmediate
	qCommit
	qRollback
	qSavepoint
	qRelease
	qRollbackTo
	qEntries   // + an entriesKey: one statement per combination of filters
	numQueries = qEntries + query(entriesKeys)
)

var querySQL = [qEntries]string{
	qClock:              `SELECT clock FROM clocks WHERE wallet = ?1 AND account = ?2`,
	qInstrument:         `SELECT data FROM instruments WHERE wallet = ?1 AND id = ?2`,
	qInstrumentByCode:   `SELECT data FROM instruments WHERE wallet = ?1 AND code = ?2`,
	qAccountInstruments: `SELECT data FROM instruments INDEXED BY instruments_account WHERE wallet = ?1 AND account = ?2 ORDER BY id`,
	qInstruments:        `SELECT data FROM instruments WHERE wallet = ?1 AND id > ?2 ORDER BY id LIMIT ?3`,
	qDue: `SELECT account FROM instruments INDEXED BY instruments_due
		WHERE wallet = ?1 AND kind = 2 AND expired = 0 AND expires <= ?2 AND account >= ?3
		UNION
		SELECT account FROM orders INDEXED BY orders_until WHERE wallet = ?1 AND state = 'reserved' AND until <= ?2 AND account >= ?3
		ORDER BY account LIMIT ?4`,
	// One read for both states: the wallet asks for an id's order and then its
	// reservation (see tx.order).
	qOrder:               `SELECT state, data FROM orders WHERE wallet = ?1 AND id = ?2`,
	qAccountOrders:       `SELECT data FROM orders INDEXED BY orders_account WHERE wallet = ?1 AND state = 'committed' AND account = ?2 AND id > ?3 ORDER BY id LIMIT ?4`,
	qAccountReservations: `SELECT data FROM orders INDEXED BY orders_account WHERE wallet = ?1 AND state = 'reserved' AND account = ?2 ORDER BY id`,
	qReservations:        `SELECT data FROM orders WHERE wallet = ?1 AND state = 'reserved' AND id > ?2 ORDER BY id LIMIT ?3`,
	qRefund:              `SELECT data FROM refunds WHERE wallet = ?1 AND order_id = ?2 AND key = ?3`,
	qOrganization:        `SELECT data FROM organizations WHERE wallet = ?1 AND id = ?2`,
	qAccountOrganization: `SELECT org FROM organization_accounts WHERE wallet = ?1 AND account = ?2`,

	qSetClock: `INSERT INTO clocks (wallet, account, clock) VALUES (?1, ?2, ?3)
		ON CONFLICT (wallet, account) DO UPDATE SET clock = excluded.clock`,
	qInsertInstrument: `INSERT INTO instruments (wallet, id, account, code, kind, expires, expired, data)
		VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO NOTHING`,
	qUpdateInstrument: `UPDATE instruments SET account = ?3, code = ?4, kind = ?5, expires = ?6, expired = ?7, data = ?8
		WHERE wallet = ?1 AND id = ?2`,
	qInsertOrder: `INSERT INTO orders (wallet, id, account, state, until, data)
		VALUES (?1, ?2, ?3, 'committed', NULL, ?4) ON CONFLICT DO NOTHING`,
	qUpdateOrder: `UPDATE orders SET data = ?4 WHERE wallet = ?1 AND id = ?2 AND account = ?3 AND state = 'committed'`,
	qInsertReservation: `INSERT INTO orders (wallet, id, account, state, until, data)
		VALUES (?1, ?2, ?3, 'reserved', ?4, ?5) ON CONFLICT DO NOTHING`,
	qDeleteReservation: `DELETE FROM orders WHERE wallet = ?1 AND id = ?2 AND state = 'reserved'`,
	qInsertRefund:      `INSERT INTO refunds (wallet, order_id, key, data) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING`,
	qPutOrganization: `INSERT INTO organizations (wallet, id, data) VALUES (?1, ?2, ?3)
		ON CONFLICT (wallet, id) DO UPDATE SET data = excluded.data`,
	qDeleteOrgAccounts: `DELETE FROM organization_accounts WHERE wallet = ?1 AND org = ?2`,
	qInsertOrgAccount:  `INSERT INTO organization_accounts (wallet, account, org) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING`,
	qInsertEntry: `INSERT INTO ledger (wallet, account, instrument, order_id, at, data)
		VALUES (?1, ?2, ?3, ?4, ?5, ?6)`,

	qBegin:          `BEGIN`,
	qBeginImmediate: `BEGIN IMMEDIATE`,
	qCommit:         `COMMIT`,
	qRollback:       `ROLLBACK`,
	qSavepoint:      `SAVEPOINT u`,
	qRelease:        `RELEASE u`,
	qRollbackTo:     `ROLLBACK TO u`,
}

func (q query) sql() string {
	if q >= qEntries {
		return entriesKey(q - qEntries).sql()
	}
	return querySQL[q]
}

// entriesKey says which filters an Entries query has; each combination is one
// statement, so that SQLite plans it on the index of its filter.
type entriesKey uint8

const (
	byAccount entriesKey = 1 << iota
	byInstrument
	byOrder
	byFrom
	byTo
	entriesKeys = 1 << iota // how many combinations there are
)

func (k entriesKey) sql() string {
	var b strings.Builder
	b.WriteString("SELECT seq, data FROM ledger WHERE wallet = ?1 AND seq > ?2")
	for _, f := range []struct {
		bit  entriesKey
		cond string
	}{{byAccount, " AND account = ?3"}, {byInstrument, " AND instrument = ?4"}, {byOrder, " AND order_id = ?5"},
		{byFrom, " AND at >= ?6"}, {byTo, " AND at < ?7"}} {
		if k&f.bit != 0 {
			b.WriteString(f.cond)
		}
	}
	b.WriteString(" ORDER BY seq LIMIT ?8")
	return b.String()
}
