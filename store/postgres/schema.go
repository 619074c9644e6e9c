package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// migrations are the schema's versions: migrations[i] brings a schema at version i to
// version i+1. Each runs in the transaction that holds schema_version's row, so that
// of several processes opening one database at once, one migrates and the others wait
// and find it done. A migration never changes once released: add a new one.
//
// Every table is keyed by the wallet's name first. Keys (names, ids, codes) are bytea:
// they hold any Go string, NUL bytes included, and sort by bytes as Go strings do,
// with no collation on any database. Times that queries compare are fixed-width UTC
// text in bytea (timeKey), which sorts as time does and holds every nanosecond of the
// years 1 to 9999 in any zone; each row's whole value is JSON in body.
var migrations = [][]string{{
	`CREATE TABLE {s}.accounts (
			wallet  bytea NOT NULL,
			account bytea NOT NULL,
			clock   text,
			PRIMARY KEY (wallet, account))`,
	`CREATE TABLE {s}.instruments (
			wallet  bytea NOT NULL,
			id      bytea NOT NULL,
			account bytea NOT NULL,
			code    bytea,
			kind    smallint NOT NULL,
			expires bytea,
			expired boolean NOT NULL,
			body    json NOT NULL,
			PRIMARY KEY (wallet, id))`,
	`CREATE UNIQUE INDEX instruments_code ON {s}.instruments (wallet, code)`,
	`CREATE INDEX instruments_account ON {s}.instruments (wallet, account, id)`,
	`CREATE INDEX instruments_due ON {s}.instruments (wallet, expires)
			WHERE kind = 2 AND NOT expired AND expires IS NOT NULL`,
	// Committed orders and reservations share one table, so that an order id is
	// taken once whichever it is: state is 'committed' or 'reserved'.
	`CREATE TABLE {s}.orders (
			wallet  bytea NOT NULL,
			id      bytea NOT NULL,
			account bytea NOT NULL,
			state   text NOT NULL CHECK (state IN ('committed', 'reserved')),
			until   bytea,
			body    json NOT NULL,
			PRIMARY KEY (wallet, id))`,
	`CREATE INDEX orders_committed ON {s}.orders (wallet, account, id) WHERE state = 'committed'`,
	`CREATE INDEX orders_reserved ON {s}.orders (wallet, account, id) WHERE state = 'reserved'`,
	`CREATE INDEX orders_reserved_id ON {s}.orders (wallet, id) WHERE state = 'reserved'`,
	`CREATE INDEX orders_until ON {s}.orders (wallet, until) WHERE state = 'reserved'`,
	`CREATE TABLE {s}.refunds (
			wallet   bytea NOT NULL,
			order_id bytea NOT NULL,
			key      bytea NOT NULL,
			body     json NOT NULL,
			PRIMARY KEY (wallet, order_id, key))`,
	`CREATE SEQUENCE {s}.ledger_seq`,
	`CREATE TABLE {s}.ledger (
			wallet     bytea NOT NULL,
			seq        bigint NOT NULL,
			account    bytea NOT NULL,
			instrument bytea NOT NULL,
			order_id   bytea NOT NULL,
			at         bytea NOT NULL,
			body       json NOT NULL,
			PRIMARY KEY (wallet, seq))`,
	`CREATE INDEX ledger_instrument ON {s}.ledger (wallet, instrument, seq)`,
	`CREATE INDEX ledger_account ON {s}.ledger (wallet, account, seq)`,
	`CREATE INDEX ledger_order ON {s}.ledger (wallet, order_id, seq) WHERE order_id <> ''::bytea`,
}, {
	// 2: organizations (billing families), whole in body; organization_accounts gives
	// each account at most one organization (its primary key).
	`CREATE TABLE {s}.organizations (
			wallet bytea NOT NULL,
			id     bytea NOT NULL,
			body   json NOT NULL,
			PRIMARY KEY (wallet, id))`,
	`CREATE TABLE {s}.organization_accounts (
			wallet  bytea NOT NULL,
			account bytea NOT NULL,
			org     bytea NOT NULL,
			PRIMARY KEY (wallet, account))`,
	`CREATE INDEX organization_accounts_org ON {s}.organization_accounts (wallet, org)`,
}}

// SchemaVersion is the version of the schema this package creates and reads.
func SchemaVersion() int { return len(migrations) }

// bootstrap is what every open runs first; each statement is idempotent.
var bootstrap = []string{
	`CREATE SCHEMA IF NOT EXISTS {s}`,
	`CREATE TABLE IF NOT EXISTS {s}.schema_version (
		singleton integer PRIMARY KEY CHECK (singleton = 1),
		version   integer NOT NULL)`,
	`INSERT INTO {s}.schema_version (singleton, version) VALUES (1, 0) ON CONFLICT (singleton) DO NOTHING`,
}

// migrate creates the schema or brings it to SchemaVersion; it refuses a schema newer
// than that.
func migrate(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	q := func(s string) string { return strings.ReplaceAll(s, "{s}", quoteIdent(schema)) }
	for try := 1; ; try++ {
		err := runBootstrap(ctx, pool, q)
		if err == nil {
			break
		}
		// Two processes creating the same schema or table at once: one of them fails
		// on the catalog's unique index; the other's work is done, so try again.
		if try < 10 && isCode(err, "23505", "42P06", "42P07", "42710") {
			continue
		}
		return fmt.Errorf("postgres store: creating schema %q: %w", schema, err)
	}
	return pgx.BeginTxFunc(ctx, pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
		var v int
		if err := tx.QueryRow(ctx, q(`SELECT version FROM {s}.schema_version WHERE singleton = 1 FOR UPDATE`)).Scan(&v); err != nil {
			return fmt.Errorf("postgres store: reading the version of schema %q: %w", schema, err)
		}
		if v > len(migrations) {
			return fmt.Errorf("postgres store: schema %q is at version %d, newer than version %d, the newest this voucherkit knows; upgrade voucherkit",
				schema, v, len(migrations))
		}
		for ; v < len(migrations); v++ {
			for _, stmt := range migrations[v] {
				if _, err := tx.Exec(ctx, q(stmt)); err != nil {
					return fmt.Errorf("postgres store: migrating schema %q to version %d: %w", schema, v+1, err)
				}
			}
			if _, err := tx.Exec(ctx, q(`UPDATE {s}.schema_version SET version = $1 WHERE singleton = 1`), v+1); err != nil {
				return fmt.Errorf("postgres store: migrating schema %q to version %d: %w", schema, v+1, err)
			}
		}
		return nil
	})
}

func runBootstrap(ctx context.Context, pool *pgxpool.Pool, q func(string) string) error {
	for _, stmt := range bootstrap {
		if _, err := pool.Exec(ctx, q(stmt)); err != nil {
			return err
		}
	}
	return nil
}

// isCode reports whether err is a PostgreSQL error with one of codes (SQLSTATE).
func isCode(err error, codes ...string) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	for _, c := range codes {
		if pe.Code == c {
			return true
		}
	}
	return false
}

// quoteIdent quotes an SQL identifier.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
