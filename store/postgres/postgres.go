package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/voucherkit/voucherkit/voucher"
)

// DefaultSchema is the schema Open uses when not given WithSchema.
const DefaultSchema = "voucherkit"

// DefaultTries is how many times a Store runs a transaction that could not be
// serialised with concurrent ones before it gives up with voucher.ErrConflict.
const DefaultTries = 12

// Option configures Open.
type Option func(*config)

type config struct {
	schema   string
	maxConns int32
	tries    int
	pool     func(*pgxpool.Config)
}

// WithSchema keeps the tables in schema name (DefaultSchema when not given): lower-case
// letters, digits and underscores, starting with a letter or an underscore, at most 63
// bytes. Open creates it when it does not exist.
func WithSchema(name string) Option { return func(c *config) { c.schema = name } }

// WithMaxConns sets the size of the connection pool (pgxpool's default, or the URL's
// pool_max_conns, when not given or not above zero). A transaction holds one
// connection while it runs; give at least as many as the steps that run at once.
func WithMaxConns(n int) Option { return func(c *config) { c.maxConns = int32(min(n, 1<<20)) } }

// WithPoolConfig lets fn change the pool's configuration before Open connects: TLS, a
// tracer, connection lifetimes. The store needs the default query mode (prepared
// statements, cached per connection).
func WithPoolConfig(fn func(*pgxpool.Config)) Option { return func(c *config) { c.pool = fn } }

// WithTries sets how many times a transaction is run when it could not be serialised
// with concurrent ones (DefaultTries when not given or not above zero).
func WithTries(n int) Option { return func(c *config) { c.tries = n } }

// DB is one PostgreSQL database (through a pgxpool.Pool) holding any number of named
// wallets in one schema. It is safe for concurrent use; so is every Store it returns.
type DB struct {
	pool   *pgxpool.Pool
	schema string
	tries  int
	sql    *queries
}

// Open connects to the database at url (a PostgreSQL URL or key=value string, as
// pgxpool.ParseConfig reads it), creates the schema or migrates it to SchemaVersion,
// and returns the DB. It fails on a schema newer than this package knows. Any number
// of processes may open one database at once.
func Open(ctx context.Context, url string, opts ...Option) (*DB, error) {
	cfg := config{schema: DefaultSchema, tries: DefaultTries}
	for _, o := range opts {
		o(&cfg)
	}
	if err := checkSchemaName(cfg.schema); err != nil {
		return nil, err
	}
	if cfg.tries <= 0 {
		cfg.tries = DefaultTries
	}
	pc, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres store: reading the database URL: %w", err)
	}
	if cfg.maxConns > 0 {
		pc.MaxConns = cfg.maxConns
	}
	if cfg.pool != nil {
		cfg.pool(pc)
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("postgres store: connecting: %w", err)
	}
	if err := migrate(ctx, pool, cfg.schema); err != nil {
		pool.Close()
		return nil, err
	}
	return &DB{pool: pool, schema: cfg.schema, tries: cfg.tries, sql: newQueries(cfg.schema)}, nil
}

func checkSchemaName(s string) error {
	ok := s != "" && len(s) <= 63
	for i := 0; ok && i < len(s); i++ {
		c := s[i]
		ok = c == '_' || c >= 'a' && c <= 'z' || i > 0 && c >= '0' && c <= '9'
	}
	if !ok {
		return fmt.Errorf("postgres store: schema name %q: want lower-case letters, digits and underscores, starting with a letter or an underscore, at most 63 bytes", s)
	}
	return nil
}

// Schema is the schema the DB keeps its tables in.
func (db *DB) Schema() string { return db.schema }

// Pool is the connection pool, for a caller that needs the database itself (a
// health check); the wallets' tables are the Store's alone to write.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// Close closes every connection; the DB and its stores must not be used after.
func (db *DB) Close() { db.pool.Close() }

// Wallet returns the store of the wallet named name (any string) in db. Wallets of one
// DB share its tables and connections and never each other's rows: every row is keyed
// by its wallet's name.
func (db *DB) Wallet(name string) voucher.Store {
	return &Store{db: db, wallet: name, key: []byte(name)}
}

// queries are the statements of one schema.
type queries struct {
	begin, beginView, commit string

	lockAccount, insertAccount, readAccount, setClock string

	instrument, instrumentLock, byCode, byCodeLock, accountInsts, accountAll, insts string
	insertInst, updateInst, updateInsts                                             string
	due                                                                             string

	order, accountOrders, insertOrder, updateOrder                  string
	accountResv, resvs, deleteResv                                  string
	refund, insertRefund, appendEntry, appendEntries, entriesCommon string

	organization, accountOrg, putOrg, deleteOrgAccounts, insertOrgAccount string
}

func newQueries(schema string) *queries {
	r := strings.NewReplacer("{s}", quoteIdent(schema))
	q := &queries{}
	for p, s := range map[*string]string{
		&q.begin:     `BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE`,
		&q.beginView: `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`,
		&q.commit:    `COMMIT`,

		&q.lockAccount:   `SELECT clock FROM {s}.accounts WHERE wallet = $1 AND account = $2 FOR UPDATE`,
		&q.insertAccount: `INSERT INTO {s}.accounts (wallet, account) VALUES ($1, $2) ON CONFLICT (wallet, account) DO NOTHING`,
		&q.readAccount:   `SELECT clock FROM {s}.accounts WHERE wallet = $1 AND account = $2`,
		&q.setClock: `INSERT INTO {s}.accounts (wallet, account, clock) VALUES ($1, $2, $3)
			ON CONFLICT (wallet, account) DO UPDATE SET clock = excluded.clock`,

		&q.instrument:     `SELECT body FROM {s}.instruments WHERE wallet = $1 AND id = $2`,
		&q.instrumentLock: `SELECT body FROM {s}.instruments WHERE wallet = $1 AND id = $2 FOR UPDATE`,
		&q.byCode:         `SELECT body FROM {s}.instruments WHERE wallet = $1 AND code = $2`,
		&q.byCodeLock:     `SELECT body FROM {s}.instruments WHERE wallet = $1 AND code = $2 FOR UPDATE`,
		&q.accountInsts:   `SELECT body FROM {s}.instruments WHERE wallet = $1 AND account = $2 ORDER BY id`,
		// An account's instruments and reservations, in one statement: 'i' rows, then
		// 'r' rows, each by id.
		&q.accountAll: `SELECT 'i' AS k, id, body FROM {s}.instruments WHERE wallet = $1 AND account = $2
			UNION ALL
			SELECT 'r', id, body FROM {s}.orders WHERE wallet = $1 AND account = $2 AND state = 'reserved'
			ORDER BY 1, 2`,
		&q.insts: `SELECT body FROM {s}.instruments WHERE wallet = $1 AND id > $2 ORDER BY id LIMIT $3`,
		&q.insertInst: `INSERT INTO {s}.instruments (wallet, id, account, code, kind, expires, expired, body)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		// The step's changed instruments, in one statement. An update that finds fewer
		// rows than it was given divides by zero, so that it fails inside the pipeline
		// and the transaction's COMMIT, queued after it, never runs.
		&q.updateInsts: `WITH v AS (
				SELECT * FROM unnest($2::bytea[], $3::bytea[], $4::smallint[], $5::bytea[], $6::boolean[], $7::text[], $8::bytea[])
					AS v(id, account, kind, expires, expired, body, code)),
			u AS (UPDATE {s}.instruments i
				SET account = v.account, kind = v.kind, expires = v.expires, expired = v.expired, body = v.body::json
				FROM v WHERE i.wallet = $1 AND i.id = v.id AND i.code IS NOT DISTINCT FROM v.code RETURNING 1)
			SELECT 1 / ((SELECT count(*) FROM u) / $9::integer)::integer`,
		&q.due: `SELECT account FROM (
			SELECT account FROM {s}.instruments
				WHERE wallet = $1 AND kind = 2 AND NOT expired AND expires IS NOT NULL AND expires <= $2 AND account >= $3
			UNION
			SELECT account FROM {s}.orders
				WHERE wallet = $1 AND state = 'reserved' AND until <= $2 AND account >= $3
		) d ORDER BY account LIMIT $4`,

		&q.order:         `SELECT state, body FROM {s}.orders WHERE wallet = $1 AND id = $2`,
		&q.accountOrders: `SELECT body FROM {s}.orders WHERE wallet = $1 AND account = $2 AND state = 'committed' AND id > $3 ORDER BY id LIMIT $4`,
		&q.insertOrder:   `INSERT INTO {s}.orders (wallet, id, account, state, until, body) VALUES ($1, $2, $3, $4, $5, $6)`,
		&q.updateOrder: `WITH u AS (UPDATE {s}.orders SET body = $4
			WHERE wallet = $1 AND id = $2 AND account = $3 AND state = 'committed' RETURNING 1)
			SELECT 1 / (SELECT count(*) FROM u)::integer`,
		&q.accountResv: `SELECT body FROM {s}.orders WHERE wallet = $1 AND account = $2 AND state = 'reserved' ORDER BY id`,
		&q.resvs:       `SELECT body FROM {s}.orders WHERE wallet = $1 AND state = 'reserved' AND id > $2 ORDER BY id LIMIT $3`,
		&q.deleteResv: `WITH d AS (DELETE FROM {s}.orders WHERE wallet = $1 AND id = $2 AND state = 'reserved' RETURNING 1)
			SELECT 1 / (SELECT count(*) FROM d)::integer`,

		&q.refund:       `SELECT body FROM {s}.refunds WHERE wallet = $1 AND order_id = $2 AND key = $3`,
		&q.insertRefund: `INSERT INTO {s}.refunds (wallet, order_id, key, body) VALUES ($1, $2, $3, $4)`,
		// The step's entries take the sequence's next values in order: n values are
		// drawn, sorted, and the i-th smallest goes to the i-th entry.
		&q.appendEntries: `INSERT INTO {s}.ledger (wallet, seq, account, instrument, order_id, at, body)
			SELECT $1, s.seq, e.account, e.instrument, e.order_id, e.at, e.body::json
			FROM unnest($2::bytea[], $3::bytea[], $4::bytea[], $5::bytea[], $6::text[]) WITH ORDINALITY
				AS e(account, instrument, order_id, at, body, n)
			JOIN (SELECT v AS seq, row_number() OVER (ORDER BY v) AS n
				FROM (SELECT nextval('{s}.ledger_seq') AS v FROM generate_series(1, $7::integer)) g) s USING (n)
			RETURNING seq`,
		&q.entriesCommon: `SELECT seq, body FROM {s}.ledger WHERE wallet = $1 AND seq > $2`,
	} {
		*p = r.Replace(s)
	}
	singleRowQueries(q, r)
	orgQueries(q, r)
	return q
}

// singleRowQueries sets the statements for one changed instrument, or one ledger entry
// (most steps): the same as the array statements updateInsts and appendEntries, with
// plain parameters, which the server binds several times faster.
func singleRowQueries(q *queries, r *strings.Replacer) {
	q.updateInst = r.Replace(`WITH u AS (UPDATE {s}.instruments
			SET account = $3, kind = $4, expires = $5, expired = $6, body = $7::text::json
			WHERE wallet = $1 AND id = $2 AND code IS NOT DISTINCT FROM $8 RETURNING 1)
		SELECT 1 / (SELECT count(*) FROM u)::integer`)
	q.appendEntry = r.Replace(`INSERT INTO {s}.ledger (wallet, seq, account, instrument, order_id, at, body)
		VALUES ($1, nextval('{s}.ledger_seq'), $2, $3, $4, $5, $6::text::json)
		RETURNING seq`)
}

// orgQueries sets the statements of the organizations tables.
func orgQueries(q *queries, r *strings.Replacer) {
	for p, s := range map[*string]string{
		&q.organization: `SELECT body FROM {s}.organizations WHERE wallet = $1 AND id = $2`,
		&q.accountOrg:   `SELECT org FROM {s}.organization_accounts WHERE wallet = $1 AND account = $2`,
		&q.putOrg: `INSERT INTO {s}.organizations (wallet, id, body) VALUES ($1, $2, $3)
			ON CONFLICT (wallet, id) DO UPDATE SET body = excluded.body`,
		&q.deleteOrgAccounts: `DELETE FROM {s}.organization_accounts WHERE wallet = $1 AND org = $2`,
		&q.insertOrgAccount:  `INSERT INTO {s}.organization_accounts (wallet, account, org) VALUES ($1, $2, $3)`,
	} {
		*p = r.Replace(s)
	}
}
