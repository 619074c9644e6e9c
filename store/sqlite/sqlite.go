package sqlite

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"sync"
	"time"

	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/voucherkit/voucherkit/voucher"
)

// Option configures Open.
type Option func(*options)

type options struct {
	busyTimeout time.Duration
	retries     int
	readers     int
}

// WithBusyTimeout is how long a transaction waits for another connection's lock
// (another process's write) before it tries again (default 5s).
func WithBusyTimeout(d time.Duration) Option { return func(o *options) { o.busyTimeout = d } }

// WithRetries is how many times Update and View try a transaction that found the
// database busy after the busy timeout, before Update gives up with an error wrapping
// voucher.ErrConflict (default 3).
func WithRetries(n int) Option { return func(o *options) { o.retries = n } }

// WithReaders is how many connections serve Views at once (default 4).
func WithReaders(n int) Option { return func(o *options) { o.readers = n } }

// DB is one SQLite database file holding any number of named wallets. It is safe
// for concurrent use; other processes may open the same file at the same time.
type DB struct {
	path string
	opts options
	// w is the one write connection, the writer's; readers serve Views; ck checkpoints.
	w       *conn
	readers chan *conn
	ck      *conn
	wr      *writer

	closeOnce sync.Once
	closeErr  error
}

// Open opens the SQLite database file path, creating it if it does not exist, in WAL
// mode, and creates or migrates its schema (SchemaVersion). A file whose schema is
// newer than this build knows is refused.
func Open(ctx context.Context, path string, opts ...Option) (*DB, error) {
	o := options{busyTimeout: 5 * time.Second, retries: 3, readers: 4}
	for _, f := range opts {
		f(&o)
	}
	if o.retries < 1 || o.readers < 1 || o.busyTimeout < 0 {
		return nil, fmt.Errorf("store/sqlite: %s: retries %d and readers %d must be at least 1, the busy timeout %s not negative", path, o.retries, o.readers, o.busyTimeout)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	db := &DB{path: path, opts: o, readers: make(chan *conn, o.readers)}
	if err := db.open(); err != nil {
		_ = db.Close()
		return nil, wrapErr(path, err)
	}
	return db, nil
}

func (db *DB) open() error {
	// WAL: readers never block the writer nor the writer them. synchronous=NORMAL is
	// durable in WAL mode except for the last transactions before a power loss (never
	// corrupt), and loses nothing to a crash of the process. The page cache and the
	// memory map keep reads off the file; temp_store keeps savepoints' journals in
	// memory.
	dsn := "file:" + (&url.URL{Path: db.path}).EscapedPath() +
		"?_pragma=busy_timeout(" + strconv.FormatInt(db.opts.busyTimeout.Milliseconds(), 10) + ")" +
		"&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)" +
		"&_pragma=mmap_size(268435456)&_pragma=temp_store(MEMORY)"
	var err error
	// The writer never checkpoints on commit: the checkpointer does, in the background.
	if db.w, err = openConn(dsn + "&_pragma=wal_autocheckpoint(0)"); err != nil {
		return err
	}
	if err := migrate(db.w, db.path, db.opts.retries); err != nil {
		return err
	}
	for range db.opts.readers {
		r, err := openConn(dsn + "&_pragma=query_only(1)")
		if err != nil {
			return err
		}
		db.readers <- r
	}
	if db.ck, err = openConn(dsn); err != nil {
		return err
	}
	db.wr = newWriter(db)
	return nil
}

// Close closes the database (once; closing it again does nothing); the wallets'
// stores must not be used after it, nor while it runs.
func (db *DB) Close() error {
	db.closeOnce.Do(func() { db.closeErr = db.close() })
	return db.closeErr
}

func (db *DB) close() error {
	if db.wr != nil {
		db.wr.close()
	}
	var errs []error
	close(db.readers)
	for r := range db.readers {
		errs = append(errs, r.close())
	}
	for _, c := range []*conn{db.ck, db.w} {
		if c != nil {
			errs = append(errs, c.close())
		}
	}
	if err := errors.Join(errs...); err != nil {
		return wrapErr(db.path, err)
	}
	return nil
}

// Path is the database file's path as Open was given it.
func (db *DB) Path() string { return db.path }

// Wallet returns the store of the wallet called name in the database: every row it
// reads and writes is that wallet's, so that wallets never see each other's
// instruments, orders or ledger. A wallet needs no creating: a new name is an empty
// wallet.
func (db *DB) Wallet(name string) voucher.Store { return &Store{db: db, wallet: name} }

// Store is one wallet of a DB, a voucher.Store.
type Store struct {
	db     *DB
	wallet string
}

var _ voucher.Store = (*Store)(nil)

// Update runs fn in a write transaction (BEGIN IMMEDIATE: one writer at a time, across
// processes) and commits it when fn returns nil. Updates of every wallet of the DB
// that queue meanwhile commit together, each in a savepoint (see writer); fn may run
// again when a transaction fails as a whole. When the database stays busy (another
// process writing) past the busy timeout, the transaction is tried again; after the
// last try the error wraps voucher.ErrConflict. A panic in fn is raised again in the
// caller's goroutine.
func (s *Store) Update(ctx context.Context, fn func(context.Context, voucher.Tx) error) error {
	return s.db.wr.update(ctx, s, fn)
}

// View runs fn in a read transaction: it sees the database as it was at its first
// read, whatever commits meanwhile, and takes no lock that a writer waits for.
func (s *Store) View(ctx context.Context, fn func(context.Context, voucher.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var c *conn
	select {
	case c = <-s.db.readers:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { s.db.readers <- c }()
	return withRetry(ctx, s.db.path, s.db.opts.retries, func() error {
		if err := c.run(qBegin); err != nil {
			return wrapErr(s.db.path, err)
		}
		defer func() { _ = c.run(qRollback) }()
		return fn(ctx, &tx{s: s, c: c})
	})
}

// withRetry runs try until it succeeds, fails otherwise than with SQLITE_BUSY, or has
// been tried retries times: then the error wraps voucher.ErrConflict.
func withRetry(ctx context.Context, path string, retries int, try func() error) error {
	for n := 1; ; n++ {
		err := try()
		if err == nil || !isBusy(err) || ctx.Err() != nil {
			return err
		}
		if n >= retries {
			return fmt.Errorf("%w: store/sqlite: %s stayed busy (locked by another connection) through %d tries: %w", voucher.ErrConflict, path, n, err)
		}
	}
}

func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && (se.Code()&0xff == sqlite3.SQLITE_BUSY || se.Code()&0xff == sqlite3.SQLITE_LOCKED)
}

// wrapErr names the database in an error from SQLite (a context's error stays as it is
// for errors.Is).
func wrapErr(path string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("store/sqlite: %s: %w", path, err)
}
