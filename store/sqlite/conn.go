package sqlite

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"

	sqlite "modernc.org/sqlite"
)

// conn is one SQLite connection, used through the driver's own interfaces rather than
// database/sql: a store's transactions are short and many, and database/sql's pool,
// locks and per-query goroutines cost more than SQLite does. Each statement is
// prepared once per connection. A conn is used by one goroutine at a time.
type conn struct {
	dc    driver.Conn
	stmts [numQueries]driver.Stmt
	args  []driver.NamedValue
}

var sqliteDriver = &sqlite.Driver{}

// noCancel is the context of every statement: a statement is short, and a context
// that can be cancelled makes the driver watch it with a goroutine per statement. A
// transaction checks its caller's context before it starts.
var noCancel = context.Background()

func openConn(dsn string) (*conn, error) {
	dc, err := sqliteDriver.Open(dsn)
	if err != nil {
		return nil, err
	}
	return &conn{dc: dc}, nil
}

func (c *conn) close() error {
	var errs []error
	for i, st := range c.stmts {
		if st != nil {
			errs = append(errs, st.Close())
			c.stmts[i] = nil
		}
	}
	return errors.Join(append(errs, c.dc.Close())...)
}

// stmt is query q prepared on c.
func (c *conn) stmt(q query) (driver.Stmt, error) {
	if st := c.stmts[q]; st != nil {
		return st, nil
	}
	st, err := c.dc.(driver.ConnPrepareContext).PrepareContext(noCancel, q.sql())
	if err != nil {
		return nil, fmt.Errorf("preparing %s: %w", q.sql(), err)
	}
	c.stmts[q] = st
	return st, nil
}

func (c *conn) bind(args []any) []driver.NamedValue {
	c.args = c.args[:0]
	for i, a := range args {
		if n, ok := a.(int); ok {
			a = int64(n)
		}
		c.args = append(c.args, driver.NamedValue{Ordinal: i + 1, Value: a})
	}
	return c.args
}

// exec runs q and returns how many rows it changed and the last row id it inserted.
func (c *conn) exec(q query, args ...any) (changed, lastID int64, err error) {
	st, err := c.stmt(q)
	if err != nil {
		return 0, 0, err
	}
	res, err := st.(driver.StmtExecContext).ExecContext(noCancel, c.bind(args))
	if err != nil {
		return 0, 0, err
	}
	if changed, err = res.RowsAffected(); err != nil {
		return 0, 0, err
	}
	lastID, err = res.LastInsertId()
	return changed, lastID, err
}

// run executes a statement that takes no arguments and returns no rows (BEGIN,
// SAVEPOINT, ...), prepared once like the others.
func (c *conn) run(q query) error {
	_, _, err := c.exec(q)
	return err
}

// script executes sql, statements that run once (a migration).
func (c *conn) script(sql string) error {
	_, err := c.dc.(driver.ExecerContext).ExecContext(noCancel, sql, nil)
	return err
}

// rows reads q's rows: each calls fn with the row's values, which are valid only
// during the call.
func (c *conn) rows(q query, fn func(row []driver.Value) error, args ...any) error {
	st, err := c.stmt(q)
	if err != nil {
		return err
	}
	rs, err := st.(driver.StmtQueryContext).QueryContext(noCancel, c.bind(args))
	if err != nil {
		return err
	}
	row := make([]driver.Value, len(rs.Columns()))
	for {
		if err = rs.Next(row); err != nil {
			break
		}
		if err = fn(row); err != nil {
			break
		}
	}
	if cerr := rs.Close(); err == nil || errors.Is(err, errEOF) {
		err = cerr
	}
	return err
}
