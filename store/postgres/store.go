package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/voucherkit/voucherkit/voucher"
)

// Store is one named wallet of a DB: a voucher.Store.
type Store struct {
	db     *DB
	wallet string
	key    []byte // wallet as the tables' key column
}

var _ voucher.Store = (*Store)(nil)

// Name is the wallet's name.
func (s *Store) Name() string { return s.wallet }

// Update runs fn in a READ COMMITTED transaction in which Account and Instrument lock
// rows (SELECT ... FOR UPDATE) and commits it when fn returns nil. A transaction that
// failed on a serialisation failure or a deadlock is run again, up to the DB's tries,
// after a short random pause; then the error wraps voucher.ErrConflict.
func (s *Store) Update(ctx context.Context, fn func(context.Context, voucher.Tx) error) error {
	return s.retry(ctx, true, fn)
}

// View runs fn in a REPEATABLE READ READ ONLY transaction: every read sees one
// snapshot, and nothing is locked.
func (s *Store) View(ctx context.Context, fn func(context.Context, voucher.Tx) error) error {
	return s.retry(ctx, false, fn)
}

func (s *Store) retry(ctx context.Context, write bool, fn func(context.Context, voucher.Tx) error) error {
	for try := 1; ; try++ {
		err := s.run(ctx, write, fn)
		if err == nil || !retryable(err) {
			return err
		}
		if try >= s.db.tries {
			return fmt.Errorf("%w: postgres store: wallet %q: gave up after %d tries: %w", voucher.ErrConflict, s.wallet, try, err)
		}
		if err := pause(ctx, try); err != nil {
			return err
		}
	}
}

// retryable reports a transaction that failed only because of concurrent ones:
// serialization_failure or deadlock_detected.
func retryable(err error) bool { return isCode(err, "40001", "40P01") }

// pause waits a random time that grows with try, up to about 64ms.
func pause(ctx context.Context, try int) error {
	ceil := time.Millisecond << min(try, 6)
	t := time.NewTimer(rand.N(ceil) + time.Millisecond/4)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// run runs fn once in a transaction on a connection of the pool.
func (s *Store) run(ctx context.Context, write bool, fn func(context.Context, voucher.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	pc, err := s.db.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres store: wallet %q: %w", s.wallet, err)
	}
	defer pc.Release() // a connection left inside a transaction is closed, not reused
	t := &tx{st: s, q: s.db.sql, conn: pc.Conn(), write: write}
	err = fn(ctx, t)
	if err == nil {
		err = t.commit(ctx)
	}
	if err != nil && t.begun {
		t.rollback(ctx)
	}
	return err
}

// tx is one transaction. Writes are queued and sent, in order, with the next read or
// with COMMIT, in one pipelined batch; so is BEGIN with the first statement. A step
// that reads, then writes, then commits thus costs one round trip per read and one for
// all its writes and the commit. A queued write that fails fails the batch it went in,
// and the transaction: its error is the one the next call, or Update, returns.
type tx struct {
	st     *Store
	q      *queries
	conn   *pgx.Conn
	write  bool
	begun  bool
	err    error // the first error: the transaction is over
	writes []write
	cache  cache
}

// write is a queued statement that returns no rows (or only seq numbers).
type write struct {
	sql  string
	args []any
	// what names the write in an error; dup, when not nil, says what a unique
	// violation means; missing, when not empty, is what a row not found means (the
	// statement divides by zero then).
	what    string
	dup     func(*pgconn.PgError) error
	missing string
	// seqs receives the seq numbers the statement returns, sorted (AppendEntries).
	seqs []voucher.LedgerEntry
	// insts are the rows of an instrument update, which the next updates join.
	insts *instUpdates
}

// read is a statement whose rows scan reads.
type read struct {
	sql  string
	args []any
	scan func(pgx.Rows) error
}

// queue adds a write to send with the next batch.
func (t *tx) queue(w write) error {
	if t.err != nil {
		return t.err
	}
	if !t.write {
		return fmt.Errorf("postgres store: wallet %q: %s: a View cannot write", t.st.wallet, w.what)
	}
	t.cache = cache{}
	t.writes = append(t.writes, w)
	return nil
}

// roundTrip sends BEGIN (first time), the queued writes and reads in one batch, and
// scans the reads' rows.
func (t *tx) roundTrip(ctx context.Context, reads ...read) error {
	if t.err != nil {
		return t.err
	}
	b := &pgx.Batch{QueuedQueries: make([]*pgx.QueuedQuery, 0, 1+len(t.writes)+len(reads))}
	begin := !t.begun
	if begin {
		if t.write {
			b.Queue(t.q.begin)
		} else {
			b.Queue(t.q.beginView)
		}
		t.begun = true
	}
	for i := range t.writes {
		b.Queue(t.writes[i].sql, t.writes[i].args...)
	}
	for i := range reads {
		b.Queue(reads[i].sql, reads[i].args...)
	}
	writes := t.writes
	t.writes = nil
	br := t.conn.SendBatch(ctx, b)
	err := t.results(br, begin, writes, reads)
	if cerr := br.Close(); err == nil && cerr != nil {
		err = t.wrap("", cerr)
	}
	if err != nil {
		t.err = err
	}
	return err
}

// results reads a batch's results in order, up to the first error.
func (t *tx) results(br pgx.BatchResults, begin bool, writes []write, reads []read) error {
	if begin {
		if _, err := br.Exec(); err != nil {
			return t.wrap("beginning a transaction", err)
		}
	}
	for i := range writes {
		if err := t.writeResult(br, &writes[i]); err != nil {
			return err
		}
	}
	for i := range reads {
		rows, err := br.Query()
		if err == nil {
			err = reads[i].scan(rows)
			rows.Close()
			if err == nil {
				err = rows.Err()
			}
		}
		if err != nil {
			return t.wrap("", err)
		}
	}
	return nil
}

func (t *tx) writeResult(br pgx.BatchResults, w *write) error {
	if w.seqs == nil {
		_, err := br.Exec()
		return t.writeErr(w, err)
	}
	rows, err := br.Query()
	if err != nil {
		return t.writeErr(w, err)
	}
	seqs, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err == nil && len(seqs) != len(w.seqs) {
		err = fmt.Errorf("%d seq numbers for %d entries", len(seqs), len(w.seqs))
	}
	if err != nil {
		return t.writeErr(w, err)
	}
	slices.Sort(seqs)
	for i := range w.seqs {
		w.seqs[i].Seq = seqs[i]
	}
	return nil
}

// writeErr explains a failed write: a unique violation as w.dup, a row not found as
// w.missing.
func (t *tx) writeErr(w *write, err error) error {
	var pe *pgconn.PgError
	switch {
	case err == nil:
		return nil
	case w.dup != nil && errors.As(err, &pe) && pe.Code == "23505":
		return fmt.Errorf("postgres store: wallet %q: %w", t.st.wallet, w.dup(pe))
	case w.missing != "" && isCode(err, "22012"):
		return fmt.Errorf("postgres store: wallet %q: %s: %s", t.st.wallet, w.what, w.missing)
	}
	return t.wrap(w.what, err)
}

// wrap adds the wallet and what was done to err, keeping it for errors.Is and As.
func (t *tx) wrap(what string, err error) error {
	if what == "" {
		return fmt.Errorf("postgres store: wallet %q: %w", t.st.wallet, err)
	}
	return fmt.Errorf("postgres store: wallet %q: %s: %w", t.st.wallet, what, err)
}

// commit sends the queued writes and COMMIT in one batch.
func (t *tx) commit(ctx context.Context) error {
	if t.err != nil {
		return t.err
	}
	if !t.begun && len(t.writes) == 0 {
		return nil
	}
	var tag pgconn.CommandTag
	err := t.roundTrip(ctx, read{sql: t.q.commit, scan: func(r pgx.Rows) error {
		for r.Next() {
		}
		tag = r.CommandTag()
		return nil
	}})
	if err != nil {
		return err
	}
	if tag.String() != "COMMIT" {
		return t.wrap("committing", errors.New("the transaction did not commit ("+tag.String()+")"))
	}
	t.begun = false
	return nil
}

// rollback ends a failed transaction; a connection that cannot is closed, and the
// pool drops it.
func (t *tx) rollback(ctx context.Context) {
	ctx = context.WithoutCancel(ctx) // a cancelled step still ends its transaction
	if t.conn.IsClosed() {
		return
	}
	if _, err := t.conn.Exec(ctx, "ROLLBACK"); err != nil {
		_ = t.conn.Close(ctx)
	}
}
