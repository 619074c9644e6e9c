// Package postgres is the PostgreSQL voucher.Store, through pgx (github.com/jackc/pgx/v5)
// and its connection pool.
//
//	db, err := postgres.Open(ctx, "postgres://user@host:5432/billing", postgres.WithSchema("voucherkit"))
//	...
//	defer db.Close()
//	w := voucher.NewWallet(engine, db.Wallet("cn-prod"))
//
// Open creates the schema, or migrates it: a short list of versioned migrations,
// applied in one transaction that holds the row of the schema_version table (SELECT
// ... FOR UPDATE), so that of several processes opening one database at once one
// migrates and the others find it done. It refuses a schema newer than it knows. One
// database holds any number of wallets, each named: every table is keyed by the
// wallet's name first, and no query reads another wallet's rows.
//
// # Tables and values
//
// accounts (one clock per account), instruments, orders (committed orders and
// reservations in one table, one namespace of order ids: a row's state is 'committed'
// or 'reserved'), refunds (by order and idempotency key) and ledger (seq from a
// sequence). Keys (wallet names, accounts, ids, codes) are bytea: any Go string, NUL
// bytes included, sorted by bytes as Go sorts strings, with no collation on any
// database. Times that queries compare (an instrument's expiry, a hold's end, an
// entry's time) are fixed-width UTC text in bytea, five-digit year first, which sorts
// as time does and keeps every nanosecond (TIMESTAMPTZ keeps microseconds) of the
// years 1 to 9999 in any zone. Each row's whole value is the JSON of its voucher type
// (json, not jsonb: it is kept as written); the other columns are what queries select
// and sort by, indexed.
//
// # Transactions
//
// Update is a READ COMMITTED transaction that locks rows: Tx.Account takes the account's
// row (SELECT ... FOR UPDATE; a new account's row is inserted first, ON CONFLICT DO
// NOTHING), and Tx.Instrument and Tx.InstrumentByCode the instrument's. The wallet locks
// a step's accounts first, in sorted order, then the instruments no locked account
// owns; every later read of the step is a new statement, and so sees what the
// transactions that held those locks before committed. View is a REPEATABLE READ READ
// ONLY transaction: one snapshot, no locks. A transaction that fails with
// serialization_failure (40001) or deadlock_detected (40P01) is run again, after a short
// random pause, up to WithTries times; then the error wraps voucher.ErrConflict.
//
// The statements of a transaction go in pipelined batches (pgx.Batch, prepared
// statements): BEGIN goes with the first read, writes wait for the next read or for
// COMMIT, and Tx.Account reads the account's instruments and reservations with its
// lock. A checkout is thus three round trips: lock and read the account; read the
// order id; write everything and commit. Consecutive instrument updates are one
// statement. Because of this, a failed write is reported by the call that sends it,
// the next read or the commit (Update returns it): the transaction fails whole either
// way.
//
// # Invariants
//
//   - A step is one transaction: it commits whole or not at all. A write that must find
//     its row (an instrument, order or reservation to update or delete) fails inside
//     the pipeline when it finds none, so the COMMIT queued after it never runs.
//   - Two transactions, in one process or in many, never both spend the same value:
//     each account's steps run one after another on its row lock, and so do the steps
//     that use one instrument with no owner, on the instrument's row lock.
//   - An order id is committed or reserved once (the orders table's primary key):
//     ErrDuplicateOrder. An instrument id or code is taken once: ErrInvalidInstrument.
//   - Ledger entries get strictly increasing Seq, in the order a step appends them,
//     from one sequence (gaps allowed).
//   - Values read back as written: money as exact decimal strings, times to the
//     nanosecond at the same instant (in the same zone offset when RFC 3339 can write it).
//   - The store never reads the wall clock.
//
// # Portability
//
// The SQL is plain so that it runs on PostgreSQL-compatible distributed databases
// (CockroachDB, YugabyteDB): tables, indexes (some partial), upserts (ON CONFLICT),
// SELECT ... FOR UPDATE, a sequence; no advisory locks, extensions, LISTEN/NOTIFY or
// server-side functions.
//
// # Sharding
//
// A deployment that outgrows one PostgreSQL shards by account. Every step touches one
// account, or a few locked in sorted order (a refund paid by another account's
// instrument, holds of other accounts that ended), so the shard key is (wallet,
// account): an account's row, the instruments it owns, its orders and reservations, its
// refunds and its ledger entries live on its shard, and a step on it is one local
// transaction. Two things cross shards. Instruments with no owner (typed-in promo
// codes, activation codes not yet claimed) are shared by every account: keep them on a
// home shard and make a step that uses one a transaction on two shards, or give each
// shard its own share of a promo code's redemptions (an instrument per shard), and
// claim an activation code on its home shard (a conditional update: the code taken
// once) before granting its instrument on the claimer's shard, idempotently by code.
// The order-id namespace is the other: make order ids carry their account (a prefix
// the router reads, which also routes Capture and Release by order id), or keep a
// global table of taken ids, written first. A distributed SQL database (CockroachDB,
// YugabyteDB) does both with its distributed transactions and global unique indexes,
// and runs this package's SQL unchanged. Seq is then increasing per shard, and Expire
// and Verify run shard by shard.
package postgres
