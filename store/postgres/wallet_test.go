package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/voucherkit/voucherkit/providers"
	"github.com/voucherkit/voucherkit/rules"
	"github.com/voucherkit/voucherkit/store/postgres"
	"github.com/voucherkit/voucherkit/voucher"
)

func aliyun(t testing.TB) *rules.Engine {
	t.Helper()
	rs, err := providers.Load("aliyun")
	if err != nil {
		t.Fatal(err)
	}
	e, err := rules.NewEngine(rs)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

var now = time.Date(2026, 3, 2, 10, 0, 0, 0, east)

func renewal(id, account, amount string) voucher.Order {
	return voucher.Order{ID: id, Account: account, Type: voucher.OrderRenewal, Payment: voucher.PaySubscription,
		Lines: []voucher.Line{{ID: "l1", Product: "ecs", Amount: dec(amount)}}}
}

// TestWalletsAreSeparate: two wallets of one database with the same instrument ids,
// accounts and order ids never see each other's rows; each ledger has its own entries.
func TestWalletsAreSeparate(t *testing.T) {
	db := openTest(t)
	eng := aliyun(t)
	wa, wb := voucher.NewWallet(eng, db.Wallet("a")), voucher.NewWallet(eng, db.Wallet("b"))
	for w, amount := range map[*voucher.Wallet]string{wa: "100", wb: "30"} {
		if err := w.Grant(ctx, voucher.Instrument{ID: "v", Type: "voucher", Account: "acct", Amount: dec(amount), Code: "C"}, now); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Checkout(ctx, renewal("o1", "acct", "50"), now); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		w              *voucher.Wallet
		balance, taken string
	}{{wa, "50", "50"}, {wb, "0", "30"}} {
		si, ok, err := c.w.Instrument(ctx, "v")
		if err != nil || !ok || !si.Instrument.CurrentBalance().Equal(dec(c.balance)) {
			t.Errorf("balance %v (%v, %v), want %s", si.Instrument.CurrentBalance(), ok, err, c.balance)
		}
		es, err := c.w.Ledger(ctx, voucher.LedgerQuery{})
		if err != nil || len(es) != 2 {
			t.Fatalf("ledger %v (%v), want a grant and a deduction", es, err)
		}
		if es[0].Kind != voucher.EntryGrant || es[1].Kind != voucher.EntryDeduct || !es[1].Delta.Amount().Neg().Equal(dec(c.taken)) {
			t.Errorf("ledger %v, want a grant and a deduction of %s", es, c.taken)
		}
		if err := c.w.Verify(ctx); err != nil {
			t.Error(err)
		}
	}
	wc := voucher.NewWallet(eng, db.Wallet("c"))
	if _, ok, err := wc.Instrument(ctx, "v"); ok || err != nil {
		t.Errorf("a third wallet sees another's instrument (%v)", err)
	}
}

// TestDeadlockIsRetried: two transactions that lock two accounts in opposite orders
// deadlock; PostgreSQL fails one, which the store runs again, and both commit. With
// one try, the one that fails returns voucher.ErrConflict.
func TestDeadlockIsRetried(t *testing.T) {
	db := openTest(t)
	for _, tries := range []int{postgres.DefaultTries, 1} {
		t.Run(fmt.Sprint("tries=", tries), func(t *testing.T) {
			s := db.Wallet(fmt.Sprint("deadlock-", tries))
			if tries == 1 {
				s = openTestAt(t, db.Schema(), postgres.WithTries(1)).Wallet(fmt.Sprint("deadlock-", tries))
			}
			update(t, s, func(tx voucher.Tx) error {
				return errors.Join(tx.SetClock(ctx, "a", now), tx.SetClock(ctx, "b", now))
			})
			var runs atomic.Int32
			var both sync.WaitGroup // each holds its first lock before either takes its second
			both.Add(2)
			lockBoth := func(first, second string) error {
				var once sync.Once
				return s.Update(ctx, func(ctx context.Context, tx voucher.Tx) error {
					runs.Add(1)
					if _, _, err := tx.Account(ctx, first); err != nil {
						return err
					}
					once.Do(func() { both.Done(); both.Wait() })
					if _, _, err := tx.Account(ctx, second); err != nil {
						return err
					}
					return tx.SetClock(ctx, first, now)
				})
			}
			errs := make(chan error, 2)
			go func() { errs <- lockBoth("a", "b") }()
			go func() { errs <- lockBoth("b", "a") }()
			e1, e2 := <-errs, <-errs
			if tries > 1 {
				if e1 != nil || e2 != nil || runs.Load() < 3 {
					t.Fatalf("got %v and %v after %d runs; want both to commit, one of them run again", e1, e2, runs.Load())
				}
				return
			}
			if (e1 == nil) == (e2 == nil) {
				t.Fatalf("got %v and %v; want one deadlock victim", e1, e2)
			}
			if err := errors.Join(e1, e2); !errors.Is(err, voucher.ErrConflict) || !strings.Contains(err.Error(), "1 tries") {
				t.Fatalf("got %v, want a conflict after 1 try", err)
			}
		})
	}
}

// openTestAt opens another DB on an existing test schema.
func openTestAt(t testing.TB, schema string, opts ...postgres.Option) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(ctx, testURL(t), append([]postgres.Option{postgres.WithSchema(schema)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}

// TestOpenConcurrently: several pools opening one new schema at once all succeed, and
// it is created once, at the version this package knows.
func TestOpenConcurrently(t *testing.T) {
	url := testURL(t)
	schema := randomSchema(t)
	dropSchemaAtCleanup(t, url, schema)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			db, err := postgres.Open(ctx, url, postgres.WithSchema(schema), postgres.WithMaxConns(1))
			if err == nil {
				db.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if v := schemaVersion(t, url, schema); v != postgres.SchemaVersion() {
		t.Fatalf("schema at version %d, want %d", v, postgres.SchemaVersion())
	}
}

func schemaVersion(t *testing.T, url, schema string) int {
	t.Helper()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var v int
	if err := conn.QueryRow(ctx, "SELECT version FROM "+schema+".schema_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestNewerSchemaRefused: a schema a later voucherkit migrated is not opened.
func TestNewerSchemaRefused(t *testing.T) {
	db := openTest(t)
	url := testURL(t)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "UPDATE "+db.Schema()+".schema_version SET version = version + 1"); err != nil {
		t.Fatal(err)
	}
	_, err = postgres.Open(ctx, url, postgres.WithSchema(db.Schema()))
	want := fmt.Sprintf("schema %q is at version %d, newer than version %d", db.Schema(), postgres.SchemaVersion()+1, postgres.SchemaVersion())
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("got %v, want %q", err, want)
	}
}

// TestBadInputs: what the store cannot hold is refused with the field and value.
func TestBadInputs(t *testing.T) {
	db := openTest(t)
	if _, err := postgres.Open(ctx, testURL(t), postgres.WithSchema("Bad-Name")); err == nil || !strings.Contains(err.Error(), `schema name "Bad-Name"`) {
		t.Errorf("got %v, want the schema name refused", err)
	}
	s := db.Wallet("w")
	for name, fn := range map[string]func(tx voucher.Tx) error{
		`instrument id "\xff"`: func(tx voucher.Tx) error {
			return tx.InsertInstrument(ctx, voucher.StoredInstrument{Instrument: voucher.Instrument{ID: "\xff"}, Kind: voucher.Deduction})
		},
		"outside the years 1 to 9999": func(tx voucher.Tx) error {
			return tx.InsertReservation(ctx, voucher.Reservation{OrderID: "r", Until: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)})
		},
		"a View cannot write": func(tx voucher.Tx) error { return tx.SetClock(ctx, "a", now) },
		`order id "o\xfe"`: func(tx voucher.Tx) error {
			return tx.InsertOrder(ctx, voucher.OrderRecord{ID: "o\xfe", Quote: &voucher.Quote{}})
		},
	} {
		err := s.View(ctx, func(_ context.Context, tx voucher.Tx) error { return fn(tx) })
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("got %v, want an error naming %s", err, name)
		}
	}
}

// TestDueAndEntries: Due pages accounts from a bound that ends in NUL bytes (as
// Wallet.Expire pages), and Entries selects and pages the ledger in Seq order.
func TestDueAndEntries(t *testing.T) {
	s := openTest(t).Wallet("w")
	var entries []voucher.LedgerEntry
	update(t, s, func(tx voucher.Tx) error {
		for i, a := range []string{"", "a", "b", "b\x01", "c"} {
			si := fullInstrument("i"+a, a, "")
			si.Expires = voucher.Ptr(now.Add(time.Duration(i) * time.Nanosecond))
			if err := tx.InsertInstrument(ctx, si); err != nil {
				return err
			}
			entries = append(entries, voucher.LedgerEntry{At: now.Add(time.Duration(i)), Kind: voucher.EntryGrant, Account: a, Instrument: "i" + a,
				Amount: cny("1"), Delta: cny("0"), BalanceAfter: cny("1"), HeldAfter: cny("0")})
		}
		return tx.AppendEntries(ctx, entries)
	})
	for i := 1; i < len(entries); i++ {
		if entries[i].Seq <= entries[i-1].Seq {
			t.Fatalf("seq not increasing in the entries' order: %d then %d", entries[i-1].Seq, entries[i].Seq)
		}
	}
	view(t, s, func(tx voucher.Tx) error {
		for _, c := range []struct {
			upTo time.Time
			from string
			want []string
		}{
			{now.Add(10), "", []string{"", "a", "b", "b\x01", "c"}},
			{now.Add(2), "", []string{"", "a", "b"}},
			{now.Add(10), "b", []string{"b", "b\x01", "c"}},
			{now.Add(10), "b\x00", []string{"b\x01", "c"}},
			{now.Add(10), "b\x00\x00", []string{"b\x01", "c"}},
		} {
			got, err := tx.Due(ctx, c.upTo, c.from, 0)
			if err != nil || !slices.Equal(got, c.want) {
				t.Errorf("Due(%v, %q) = %q, %v; want %q", c.upTo, c.from, got, err, c.want)
			}
		}
		if got, _ := tx.Due(ctx, now.Add(10), "", 2); !slices.Equal(got, []string{"", "a"}) {
			t.Errorf("Due with limit 2 = %q", got)
		}
		for _, c := range []struct {
			q    voucher.LedgerQuery
			want []int
		}{
			{voucher.LedgerQuery{}, []int{0, 1, 2, 3, 4}},
			{voucher.LedgerQuery{Account: "b"}, []int{2}},
			{voucher.LedgerQuery{Instrument: "ic"}, []int{4}},
			{voucher.LedgerQuery{From: voucher.Ptr(now.Add(1)), To: voucher.Ptr(now.Add(3))}, []int{1, 2}},
			{voucher.LedgerQuery{AfterSeq: entries[2].Seq, Limit: 1}, []int{3}},
			{voucher.LedgerQuery{Order: "none"}, nil},
		} {
			got, err := tx.Entries(ctx, c.q)
			var idx []int
			for _, e := range got {
				idx = append(idx, slices.IndexFunc(entries, func(x voucher.LedgerEntry) bool { return x.Seq == e.Seq }))
			}
			if err != nil || !slices.Equal(idx, c.want) {
				t.Errorf("Entries(%+v) = entries %v, %v; want %v", c.q, idx, err, c.want)
			}
		}
		return nil
	})
}

// TestConcurrentRefunds: 16 goroutines refund the same line of one order, each under
// its own idempotency key, and 16 more activate one code for accounts of their own: one
// refund and one activation succeed, the others fail already_refunded and
// code_already_used, and the order lists the line refunded once.
func TestConcurrentRefunds(t *testing.T) {
	db := openTest(t, postgres.WithMaxConns(34))
	w := voucher.NewWallet(aliyun(t), db.Wallet("w"))
	for _, in := range []voucher.Instrument{
		{ID: "v", Type: "voucher", Account: "acct", Amount: dec("100")},
		{ID: "gift", Type: "voucher", Code: "GIFT", PendingActivation: true, Amount: dec("10")},
	} {
		if err := w.Grant(ctx, in, now); err != nil {
			t.Fatal(err)
		}
	}
	o := renewal("o1", "acct", "50")
	o.Lines = append(o.Lines, voucher.Line{ID: "l2", Product: "ecs", Amount: dec("20")})
	if _, err := w.Checkout(ctx, o, now); err != nil {
		t.Fatal(err)
	}
	const n = 16
	var wg sync.WaitGroup
	codes := make([]string, 2*n)
	for i := range n {
		wg.Go(func() {
			_, err := w.Refund(ctx, voucher.RefundRequest{OrderID: "o1", Lines: []string{"l1"}, Key: fmt.Sprint("k", i)}, now)
			codes[i] = voucher.ErrorCode(err)
			if err != nil && codes[i] == "" {
				codes[i] = err.Error()
			}
		})
		wg.Go(func() {
			_, err := w.Activate(ctx, "GIFT", fmt.Sprint("buyer-", i), now)
			codes[n+i] = voucher.ErrorCode(err)
			if err != nil && codes[n+i] == "" {
				codes[n+i] = err.Error()
			}
		})
	}
	wg.Wait()
	count := func(cs []string, c string) int {
		return len(slices.DeleteFunc(slices.Clone(cs), func(x string) bool { return x != c }))
	}
	if ok, dup := count(codes[:n], ""), count(codes[:n], "already_refunded"); ok != 1 || dup != n-1 {
		t.Errorf("refunds: %q; want one success, the others already_refunded", codes[:n])
	}
	if ok, dup := count(codes[n:], ""), count(codes[n:], "code_already_used"); ok != 1 || dup != n-1 {
		t.Errorf("activations: %q; want one success, the others code_already_used", codes[n:])
	}
	rec, _, err := w.Order(ctx, "o1")
	if err != nil || !slices.Equal(rec.Refunded, []string{"l1"}) {
		t.Errorf("order o1 refunded %q (%v), want l1 once", rec.Refunded, err)
	}
	if err := w.Verify(ctx); err != nil {
		t.Error(err)
	}
}

// counter counts the batches (round trips) and statements a pool sends.
type counter struct{ batches, statements, queries atomic.Int64 }

func (c *counter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.queries.Add(1)
	return ctx
}
func (c *counter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (c *counter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceBatchStartData) context.Context {
	c.batches.Add(1)
	c.statements.Add(int64(d.Batch.Len()))
	return ctx
}
func (c *counter) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (c *counter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

// TestRoundTrips pins what makes the store fast: a checkout is three round trips of
// nine statements in all (BEGIN with the order id's read; the account's lock with its
// instruments and reservations; the writes with COMMIT), a quote two.
func TestRoundTrips(t *testing.T) {
	var c counter
	db := openTest(t, postgres.WithMaxConns(1), postgres.WithPoolConfig(func(pc *pgxpool.Config) { pc.ConnConfig.Tracer = &c }))
	w := voucher.NewWallet(aliyun(t), db.Wallet("w"))
	for _, in := range []voucher.Instrument{
		{ID: "v", Type: "voucher", Account: "acct", Amount: dec("1000")},
		{ID: "c", Type: "coupon", Account: "acct", Amount: dec("5"), FirstPurchaseOnly: voucher.Ptr(false), MaxRedemptions: voucher.Ptr(100)},
	} {
		if err := w.Grant(ctx, in, now); err != nil {
			t.Fatal(err)
		}
	}
	o := renewal("", "acct", "30")
	o.Type = voucher.OrderNew
	o.Lines = append(o.Lines, voucher.Line{ID: "l2", Product: "rds", Amount: dec("12.50")})
	for i := range 4 { // the first ones prepare the statements on the connection
		o.ID = fmt.Sprint("o", i)
		c.batches.Store(0)
		c.statements.Store(0)
		c.queries.Store(0)
		q, err := w.Checkout(ctx, o, now)
		if err != nil {
			t.Fatal(err)
		}
		if len(q.Applications) != 2 {
			t.Fatalf("the checkout applied %d instruments, want the coupon and the voucher", len(q.Applications))
		}
	}
	if b, s, q := c.batches.Load(), c.statements.Load(), c.queries.Load(); b != 3 || s != 9 || q != 0 {
		t.Errorf("a checkout: %d round trips, %d statements, %d single queries; want 3, 9 and 0", b, s, q)
	}
	c.batches.Store(0)
	if _, err := w.Quote(ctx, o, now); err != nil {
		t.Fatal(err)
	}
	if b := c.batches.Load(); b != 2 {
		t.Errorf("a quote: %d round trips, want 2", b)
	}
}
