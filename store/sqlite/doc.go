// Package sqlite is the embedded, durable voucher.Store: one SQLite file (pure Go,
// modernc.org/sqlite) holding any number of named wallets.
//
//	db, err := sqlite.Open(ctx, "wallets.db")
//	defer db.Close()
//	w := voucher.NewWallet(engine, db.Wallet("shop"))
//
// Invariants:
//   - A transaction commits whole or not at all, and survives any crash of the
//     process once Update has returned: the file is in WAL mode; synchronous=NORMAL,
//     which in WAL mode never corrupts the file and loses nothing to a process crash,
//     only the last commits to a power loss or an operating-system crash.
//   - One writer at a time, across every process that opens the file: a write
//     transaction begins with BEGIN IMMEDIATE, which takes the database's write lock,
//     so every lock the voucher.Tx contract asks for (an account, an instrument) is
//     held by holding the whole database. In a process, one goroutine (the writer)
//     runs every Update of the DB on its one write connection; Updates that queue
//     while it works commit together in its next transaction (group commit), each in
//     a savepoint of its own, so that one whose fn fails leaves nothing and the
//     others keep everything. An Update returns once the transaction holding it has
//     committed. When another process holds the lock past the busy timeout, the
//     transaction is tried again; after the last try Update fails with an error
//     wrapping voucher.ErrConflict, having changed nothing. A transaction that fails
//     as a whole runs its fns again (the contract allows it), each a bounded number
//     of times.
//   - The WAL is copied into the file by a background checkpoint (PASSIVE) every 128
//     commits, never by a commit.
//   - A View reads one snapshot (a deferred read transaction on one of a few
//     read-only connections) and takes no lock a writer waits for; it cannot write.
//   - Statements are prepared once per connection and run through the driver's own
//     interfaces (database/sql's pool and per-query goroutines cost more than SQLite).
//     A context is checked when a transaction starts, not while a statement runs.
//   - Every table is keyed by the wallet's name first: wallets never see each other's
//     rows, and their ledgers never mix. A ledger entry's Seq is its row id in the
//     file's one ledger table, whose rows are never deleted: a wallet's Seq are
//     strictly increasing, with gaps where other wallets wrote.
//   - Committed orders and reservations are one table keyed by (wallet, order id): an
//     order id is taken once, by the primary key.
//   - Each value is stored whole as JSON (voucher's types round-trip exactly), beside
//     the columns its queries need; times in columns are fixed-width UTC text that
//     sorts as the instants do, to the nanosecond. Every query searches an index.
//   - The schema is versioned (PRAGMA user_version) and migrated by Open in one write
//     transaction; a file of a newer version than the build knows is refused.
//   - No foreign keys: no row refers to another that a transaction could remove.
package sqlite
