package sqlite

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"

	"github.com/voucherkit/voucherkit/voucher"
)

// maxBatch is the most Updates one SQLite transaction commits together.
const maxBatch = 64

// checkpointEvery is how many commits the writer makes between two background WAL
// checkpoints.
const checkpointEvery = 128

// writer is the goroutine that runs every Update of a DB on its one write connection.
// Updates that queue while a transaction runs are committed together in the next
// one (group commit), each in a savepoint of its own: an Update whose fn fails rolls
// back to its savepoint, leaving the others; one transaction, one commit, one set of
// WAL frames for them all. A batch whose transaction fails as a whole runs again
// (the contract lets a store run fn again), each Update a bounded number of times.
type writer struct {
	db   *DB
	reqs chan *request
	quit chan struct{}
	done sync.WaitGroup // the writer and the checkpointer
	// ckpt wakes the checkpointer; commits counts commits since the last wake-up.
	ckpt    chan struct{}
	commits int
}

// request is one Update waiting for the writer.
type request struct {
	ctx   context.Context
	s     *Store
	fn    func(context.Context, voucher.Tx) error
	tries int
	done  chan error
}

// panicked carries a panic of fn back to the goroutine that called Update.
type panicked struct {
	v     any
	stack []byte
}

func (p *panicked) Error() string {
	return fmt.Sprintf("store/sqlite: fn panicked: %v\n%s", p.v, p.stack)
}

var errClosed = errors.New("store/sqlite: the database is closed")

func newWriter(db *DB) *writer {
	w := &writer{db: db, reqs: make(chan *request), quit: make(chan struct{}), ckpt: make(chan struct{}, 1)}
	w.done.Add(2)
	go w.run()
	go w.checkpointer()
	return w
}

// update hands fn to the writer and waits for its outcome.
func (w *writer) update(ctx context.Context, s *Store, fn func(context.Context, voucher.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := &request{ctx: ctx, s: s, fn: fn, done: make(chan error, 1)}
	select {
	case w.reqs <- r:
	case <-ctx.Done():
		return ctx.Err()
	case <-w.quit:
		return errClosed
	}
	err := <-r.done
	if p, ok := err.(*panicked); ok {
		panic(fmt.Sprintf("%v\n\nfn's goroutine (the writer of %s):\n%s", p.v, w.db.path, p.stack))
	}
	return err
}

// close stops the writer and the checkpointer, once each has finished what it does.
func (w *writer) close() {
	close(w.quit)
	w.done.Wait()
}

func (w *writer) run() {
	defer w.done.Done()
	batch := make([]*request, 0, maxBatch)
	for {
		select {
		case r := <-w.reqs:
			batch = append(batch[:0], r)
		case <-w.quit:
			return
		}
		// Let the callers that are ready queue up: they commit with this one.
		runtime.Gosched()
	drain:
		for len(batch) < maxBatch {
			select {
			case r := <-w.reqs:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		for again := batch; len(again) > 0; {
			again = w.commit(again)
		}
	}
}

// commit runs batch in one transaction and answers each request; it returns the
// requests to run again when the transaction failed as a whole.
func (w *writer) commit(batch []*request) []*request {
	c := w.db.w
	if err := withRetry(noCancel, w.db.path, w.db.opts.retries, func() error { return c.run(qBeginImmediate) }); err != nil {
		for _, r := range batch {
			r.done <- wrapErr(w.db.path, err)
		}
		return nil
	}
	var ok []*request
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.done <- err
			continue
		}
		r.tries++
		t := &tx{s: r.s, c: c, write: true}
		if len(batch) == 1 {
			return w.commitOne(r, t)
		}
		broken, err := w.inSavepoint(r, t)
		if broken != nil {
			// The transaction is gone: the others run again; r too when it may.
			_ = c.run(qRollback)
			return append(append(ok, w.again(r, broken)...), batch[i+1:]...)
		}
		if err != nil {
			r.done <- err
			continue
		}
		ok = append(ok, r)
	}
	if err := c.run(qCommit); err != nil {
		_ = c.run(qRollback)
		return w.failed(ok, wrapErr(w.db.path, err))
	}
	w.committed(ok)
	return nil
}

// commitOne runs the batch's only request without a savepoint.
func (w *writer) commitOne(r *request, t *tx) []*request {
	c := w.db.w
	if err := callFn(r, t); err != nil {
		_ = c.run(qRollback)
		if isBusy(err) {
			return w.again(r, err)
		}
		r.done <- err
		return nil
	}
	if err := c.run(qCommit); err != nil {
		_ = c.run(qRollback)
		return w.failed([]*request{r}, wrapErr(w.db.path, err))
	}
	w.committed([]*request{r})
	return nil
}

// inSavepoint runs r's fn in a savepoint. err is fn's error (its writes undone);
// broken, when not nil, says the transaction itself failed.
func (w *writer) inSavepoint(r *request, t *tx) (broken, err error) {
	c := w.db.w
	if err := c.run(qSavepoint); err != nil {
		return err, nil
	}
	if err = callFn(r, t); err == nil {
		if err := c.run(qRelease); err != nil {
			return err, nil
		}
		return nil, nil
	}
	if isBusy(err) {
		return err, nil
	}
	if err := c.run(qRollbackTo); err != nil {
		return err, nil // e.g. SQLite rolled back the whole transaction on an I/O error
	}
	if err := c.run(qRelease); err != nil {
		return err, nil
	}
	return nil, err
}

// callFn runs r's fn, turning a panic into a *panicked for Update to raise again.
func callFn(r *request, t *tx) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &panicked{v: v, stack: debug.Stack()}
		}
	}()
	return r.fn(r.ctx, t)
}

// again returns r to be run once more, or answers it when it has had its tries.
func (w *writer) again(r *request, cause error) []*request {
	if p, ok := cause.(*panicked); ok {
		r.done <- p
		return nil
	}
	if r.tries < w.db.opts.retries {
		return []*request{r}
	}
	r.done <- fmt.Errorf("%w: store/sqlite: %s: the transaction failed %d times: %w", voucher.ErrConflict, w.db.path, r.tries, cause)
	return nil
}

// failed handles a commit that failed: busy requests run again, the others fail.
func (w *writer) failed(rs []*request, err error) []*request {
	var again []*request
	for _, r := range rs {
		if isBusy(err) {
			again = append(again, w.again(r, err)...)
		} else {
			r.done <- err
		}
	}
	return again
}

func (w *writer) committed(rs []*request) {
	for _, r := range rs {
		r.done <- nil
	}
	if w.commits++; w.commits >= checkpointEvery {
		w.commits = 0
		select {
		case w.ckpt <- struct{}{}:
		default: // one is running or pending already
		}
	}
}

// checkpointer copies the WAL into the database file in the background (PASSIVE:
// it waits for no reader or writer), so that no commit pays for it.
func (w *writer) checkpointer() {
	defer w.done.Done()
	for {
		select {
		case <-w.ckpt:
			_ = w.db.ck.script("PRAGMA wal_checkpoint(PASSIVE)")
		case <-w.quit:
			return
		}
	}
}
