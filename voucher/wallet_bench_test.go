package voucher_test

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/voucherkit/voucherkit/voucher"
)

// Checkout throughput of a Wallet with the real aliyun engine (in voucher_test, since
// voucher cannot import rules), and the tests of what makes it fast: pricing outside
// the wallet's lock, and the MemoryStore keeping quotes and ledger entries packed.
//
//	go test -run x -bench 'Engine' -benchmem ./voucher
//
// Each iteration checks out a new order id: the wallet grows as it would (orders,
// ledger). orders/s is b.N over the wall time; in the Parallel variants, from
// GOMAXPROCS goroutines on one wallet.

const benchAccounts = 256

// benchEngineWallet is benchAccounts aliyun accounts, each with a large voucher, a
// small voucher that expires (accounts expire one after another, a minute apart), and
// a coupon; and one order per account, of one or two lines, a new purchase (the coupon
// applies the first time) or a renewal.
func benchEngineWallet(b testing.TB) (*voucher.Wallet, []voucher.Order, time.Time) {
	b.Helper()
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, cst)
	w := voucher.NewWallet(engine(b, "aliyun"), now)
	orders := make([]voucher.Order, 0, benchAccounts)
	for a := 0; a < benchAccounts; a++ {
		acct := fmt.Sprintf("acct-%d", a)
		for _, in := range []voucher.Instrument{
			{ID: "big-" + acct, Type: "voucher", Account: acct, Amount: d("1000000000"), Balance: d("1000000000")},
			{ID: "small-" + acct, Type: "voucher", Account: acct, Amount: d("5"), Balance: d("5"),
				ExpiresAt: now.Add(time.Duration(a+1) * time.Minute)},
			{ID: "coupon-" + acct, Type: "coupon", Account: acct, Amount: d("5"), FirstPurchaseOnly: new(bool),
				ExpiresAt: now.Add(time.Hour)},
		} {
			if err := w.Grant(in); err != nil {
				b.Fatal(err)
			}
		}
		o := voucher.Order{Account: acct, Type: voucher.OrderRenewal, Payment: voucher.PaySubscription,
			Lines: []voucher.Line{line("l1", "ecs", "30.00")}}
		if a%2 == 0 {
			o.Type = voucher.OrderNew
			o.Lines = append(o.Lines, line("l2", "rds", "12.50"))
		}
		orders = append(orders, o)
	}
	return w, orders, now
}

// grow checks out n orders (ids "pre-…") so that the wallet holds what a busy one holds.
func grow(b *testing.B, w *voucher.Wallet, orders []voucher.Order, at time.Time, n int) {
	b.Helper()
	for i := 0; i < n; i++ {
		o := orders[i%len(orders)]
		o.ID = "pre-" + strconv.Itoa(i)
		if _, err := w.Checkout(o, at); err != nil {
			b.Fatal(err)
		}
	}
}

func reportOrders(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "orders/s")
}

// checkoutSerial checks out b.N orders from one goroutine, all at at.
func checkoutSerial(b *testing.B, w *voucher.Wallet, orders []voucher.Order, at time.Time) {
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		o := orders[i%len(orders)]
		o.ID = strconv.Itoa(i)
		if _, err := w.Checkout(o, at); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportOrders(b)
}

// checkoutParallel checks out b.N orders from GOMAXPROCS goroutines, all at at; the
// goroutines take consecutive orders, so they mostly touch different accounts.
func checkoutParallel(b *testing.B, w *voucher.Wallet, orders []voucher.Order, at time.Time) {
	var n atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			o := orders[int(i)%len(orders)]
			o.ID = strconv.FormatInt(i, 10)
			if _, err := w.Checkout(o, at); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	reportOrders(b)
}

// BenchmarkEngineCheckout is checkout throughput from one goroutine with the real
// aliyun engine, on a new wallet.
func BenchmarkEngineCheckout(b *testing.B) {
	w, orders, now := benchEngineWallet(b)
	checkoutSerial(b, w, orders, now)
}

// BenchmarkEngineCheckoutParallel is the same from GOMAXPROCS goroutines.
func BenchmarkEngineCheckoutParallel(b *testing.B) {
	w, orders, now := benchEngineWallet(b)
	checkoutParallel(b, w, orders, now)
}

// grownOrders is how many orders the Grown benchmarks commit before measuring.
const grownOrders = 100_000

// BenchmarkEngineCheckoutGrown is BenchmarkEngineCheckout on a wallet that has
// already committed 100k orders: what a checkout costs as the wallet grows.
func BenchmarkEngineCheckoutGrown(b *testing.B) {
	w, orders, now := benchEngineWallet(b)
	grow(b, w, orders, now, grownOrders)
	checkoutSerial(b, w, orders, now)
}

// BenchmarkEngineCheckoutGrownParallel is BenchmarkEngineCheckoutParallel after 100k
// orders.
func BenchmarkEngineCheckoutGrownParallel(b *testing.B) {
	w, orders, now := benchEngineWallet(b)
	grow(b, w, orders, now, grownOrders)
	checkoutParallel(b, w, orders, now)
}

// BenchmarkEngineCheckoutClock checks out from one goroutine with the clock moving
// 10ms per order, so that every checkout moves the clock and some expire vouchers on
// the way (one account's small voucher every minute).
func BenchmarkEngineCheckoutClock(b *testing.B) {
	w, orders, now := benchEngineWallet(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		o := orders[i%len(orders)]
		o.ID = strconv.Itoa(i)
		if _, err := w.Checkout(o, now.Add(time.Duration(i)*10*time.Millisecond)); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportOrders(b)
}

// BenchmarkEngineQuote prices without committing (the clock does not move).
func BenchmarkEngineQuote(b *testing.B) {
	w, orders, now := benchEngineWallet(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		o := orders[i%len(orders)]
		o.ID = "q"
		if _, err := w.Quote(o, now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEngineReserveCapture is a reservation and its capture.
func BenchmarkEngineReserveCapture(b *testing.B) {
	w, orders, now := benchEngineWallet(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		o := orders[i%len(orders)]
		o.ID = strconv.Itoa(i)
		if _, err := w.Reserve(o, now, time.Minute); err != nil {
			b.Fatal(err)
		}
		if _, err := w.Capture(o.ID, now); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportOrders(b)
}

// BenchmarkEngineCheckoutContended is the worst case for pricing outside the lock:
// GOMAXPROCS goroutines checking out against one account, so that most snapshots are
// stale by the time they commit.
func BenchmarkEngineCheckoutContended(b *testing.B) {
	w, orders, now := benchEngineWallet(b)
	one := orders[1:2]
	var n atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			o := one[0]
			o.ID = strconv.FormatInt(n.Add(1), 10)
			if _, err := w.Checkout(o, now); err != nil && !errors.Is(err, voucher.ErrDuplicateOrder) {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	reportOrders(b)
}

// stubPricer takes the whole order from the buyer's first voucher that has enough,
// with no rule set and next to no work: the wallet's own cost per step, without the
// engine's. Line amounts must have two decimals and be among those of stubWallet.
type stubPricer struct {
	cur   voucher.Currency
	money map[int64]voucher.Money // by units, made once
}

func newStubPricer() *stubPricer {
	p := &stubPricer{cur: voucher.MustCurrency("CNY"), money: map[int64]voucher.Money{}}
	for _, u := range []int64{0, 250, 300, 550} {
		p.money[u] = voucher.MoneyFromUnits(u, p.cur)
	}
	return p
}

func (p *stubPricer) Currency() voucher.Currency { return p.cur }

func (p *stubPricer) Policy(t string) (voucher.TypePolicy, bool) {
	if t != "voucher" {
		return voucher.TypePolicy{}, false
	}
	return voucher.TypePolicy{Name: t, Kind: voucher.Deduction, CarryOver: true, Refund: voucher.RefundForfeit}, true
}

func (p *stubPricer) Quote(o voucher.Order, insts []voucher.Instrument, at time.Time) (*voucher.Quote, error) {
	var total int64
	for _, l := range o.Lines {
		total += l.Amount.CoefficientInt64()
	}
	zero := p.money[0]
	q := &voucher.Quote{OrderID: o.ID, Account: o.Account, RuleSet: "stub@1", Currency: p.cur.Code(), At: at,
		Lines: make([]voucher.LineQuote, len(o.Lines)), Rejections: []voucher.Rejection{}}
	var from *voucher.Instrument
	for i := range insts {
		if in := &insts[i]; in.Account == o.Account && in.Held.IsZero() && in.Balance.GreaterThanOrEqual(p.money[total].Amount()) {
			from = in
			break
		}
	}
	if from != nil {
		a := voucher.Application{InstrumentID: from.ID, Key: from.ID, Type: from.Type, Stage: "voucher",
			Kind: voucher.Deduction, Amount: p.money[total], Lines: make([]voucher.LineAmount, len(o.Lines)),
			Refund: voucher.RefundForfeit}
		for i, l := range o.Lines {
			a.Lines[i] = voucher.LineAmount{LineID: l.ID, Amount: p.money[l.Amount.CoefficientInt64()]}
		}
		q.Applications = []voucher.Application{a}
	} else {
		q.Applications = []voucher.Application{}
	}
	for i, l := range o.Lines {
		m := p.money[l.Amount.CoefficientInt64()]
		f := voucher.Figures{Total: m, Discount: zero, Deducted: zero, Cash: m, Invoiceable: m, NonInvoiceable: zero}
		if from != nil {
			f = voucher.Figures{Total: m, Discount: zero, Deducted: m, Cash: zero, Invoiceable: zero, NonInvoiceable: m}
		}
		q.Lines[i] = voucher.LineQuote{LineID: l.ID, Product: l.Product, Figures: f}
	}
	m := p.money[total]
	q.Figures = voucher.Figures{Total: m, Discount: zero, Deducted: zero, Cash: m, Invoiceable: m, NonInvoiceable: zero}
	if from != nil {
		q.Figures = voucher.Figures{Total: m, Discount: zero, Deducted: m, Cash: zero, Invoiceable: zero, NonInvoiceable: m}
	}
	return q, nil
}

// stubWallet is benchAccounts accounts with one large voucher each, priced by stubPricer.
func stubWallet(b *testing.B) (*voucher.Wallet, []voucher.Order, time.Time) {
	b.Helper()
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, cst)
	w := voucher.NewWallet(newStubPricer(), now)
	orders := make([]voucher.Order, benchAccounts)
	for a := range orders {
		acct := fmt.Sprintf("acct-%d", a)
		if err := w.Grant(voucher.Instrument{ID: "v-" + acct, Type: "voucher", Account: acct,
			Amount: d("1000000000"), Balance: d("1000000000")}); err != nil {
			b.Fatal(err)
		}
		orders[a] = voucher.Order{Account: acct, Type: voucher.OrderRenewal, Payment: voucher.PaySubscription,
			Lines: []voucher.Line{line("l1", "ecs", "3.00"), line("l2", "rds", "2.50")}}
	}
	return w, orders, now
}

// BenchmarkCheckout is the wallet's own cost of a checkout (snapshot, commit, ledger,
// the copy returned), with a pricer that does next to nothing.
func BenchmarkCheckout(b *testing.B) {
	w, orders, now := stubWallet(b)
	checkoutSerial(b, w, orders, now)
}

// BenchmarkCheckoutParallel is BenchmarkCheckout from GOMAXPROCS goroutines.
func BenchmarkCheckoutParallel(b *testing.B) {
	w, orders, now := stubWallet(b)
	checkoutParallel(b, w, orders, now)
}

// ---- Pricing outside the lock ----
//
// A priced step (Quote, Checkout, Reserve) runs the Pricer without holding the
// wallet's lock and commits only if what it priced is still so. These tests make
// another step land while the Pricer runs, through a Pricer that calls back into the
// wallet once.

// hookPricer runs hook (once) the first time Quote is called, before pricing.
type hookPricer struct {
	voucher.Pricer
	calls atomic.Int32
	hook  func()
}

func (h *hookPricer) Quote(o voucher.Order, insts []voucher.Instrument, at time.Time) (*voucher.Quote, error) {
	if h.calls.Add(1) == 1 && h.hook != nil {
		h.hook()
	}
	return h.Pricer.Quote(o, insts, at)
}

func hookedWallet(t *testing.T, now time.Time, insts ...voucher.Instrument) (*voucher.Wallet, *hookPricer) {
	t.Helper()
	hp := &hookPricer{Pricer: engine(t, "aliyun")}
	w := voucher.NewWallet(hp, now)
	for _, in := range insts {
		if err := w.Grant(in); err != nil {
			t.Fatal(err)
		}
	}
	hp.calls.Store(0)
	return w, hp
}

func renewal(id, acct, amount string) voucher.Order {
	return voucher.Order{ID: id, Account: acct, Type: voucher.OrderRenewal, Payment: voucher.PaySubscription,
		Lines: []voucher.Line{line("l1", "ecs", amount)}}
}

// A checkout that spends the voucher while another checkout is being priced: the other
// prices again and takes only what is left, as if it had run second.
func TestCheckoutPricedAgainstASpentVoucher(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, cst)
	w, hp := hookedWallet(t, now, voucher.Instrument{ID: "v", Type: "voucher", Account: "a", Amount: d("100"), Balance: d("100")})
	var first *voucher.Quote
	hp.hook = func() {
		q, err := w.Checkout(renewal("first", "a", "70"), now)
		if err != nil || !q.Deducted.Amount().Equal(d("70")) {
			t.Errorf("interfering checkout: %v, %v", q, err)
		}
		first = q
	}
	q, err := w.Checkout(renewal("second", "a", "60"), now)
	if err != nil {
		t.Fatal(err)
	}
	// What was packed for the first attempt of the second is gone; the orders are as
	// committed.
	for id, want := range map[string]*voucher.Quote{"first": first, "second": q} {
		if rec, ok := w.Order(id); !ok || !reflect.DeepEqual(rec.Quote, want) {
			t.Errorf("order %s: %+v, committed %+v", id, rec.Quote, want)
		}
	}
	if got := q.Deducted.Format(); got != "30.00" {
		t.Errorf("second checkout deducted %s, want the 30.00 left", got)
	}
	in, _ := w.Instrument("v")
	if !in.Balance.IsZero() {
		t.Errorf("balance %s, want 0", in.Balance)
	}
	if hp.calls.Load() < 3 {
		t.Errorf("the second checkout was priced %d times in all, want it priced again", hp.calls.Load()-1)
	}
	if err := w.Ledger().Verify(); err != nil {
		t.Fatal(err)
	}
}

// A voucher granted to the buyer while its checkout is being priced: the checkout
// prices again and sees it (aliyun takes the largest voucher).
func TestCheckoutPricedAgainAfterAGrant(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, cst)
	w, hp := hookedWallet(t, now, voucher.Instrument{ID: "small", Type: "voucher", Account: "a", Amount: d("100"), Balance: d("100")})
	hp.hook = func() {
		if err := w.Grant(voucher.Instrument{ID: "large", Type: "voucher", Account: "a", Amount: d("500"), Balance: d("500")}); err != nil {
			t.Error(err)
		}
	}
	q, err := w.Checkout(renewal("o", "a", "150"), now)
	if err != nil {
		t.Fatal(err)
	}
	a, ok := q.Applied("large")
	if !ok || !a.Amount.Amount().Equal(d("150")) {
		t.Errorf("applied %v, want 150 from the voucher granted meanwhile", q.Applications)
	}
	if err := w.Ledger().Verify(); err != nil {
		t.Fatal(err)
	}
}

// The clock moves past a checkout's time while it is being priced: the checkout fails
// with clock_backwards and leaves nothing behind.
func TestCheckoutOvertakenByTheClock(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, cst)
	w, hp := hookedWallet(t, now, voucher.Instrument{ID: "v", Type: "voucher", Account: "a", Amount: d("100"), Balance: d("100"),
		ExpiresAt: now.Add(30 * time.Minute)})
	hp.hook = func() {
		if _, err := w.Advance(now.Add(time.Hour)); err != nil {
			t.Error(err)
		}
	}
	n := w.Ledger().Len()
	_, err := w.Checkout(renewal("o", "a", "10"), now.Add(time.Minute))
	if !errors.Is(err, voucher.ErrClockBackwards) {
		t.Fatalf("got %v, want clock_backwards", err)
	}
	if _, ok := w.Order("o"); ok {
		t.Error("the order was committed")
	}
	if got := w.Ledger().Len(); got != n+1 {
		t.Errorf("ledger has %d entries, want %d and the expiry", got, n)
	}
	if !w.Now().Equal(now.Add(time.Hour)) {
		t.Errorf("clock at %s", w.Now())
	}
	if err := w.Ledger().Verify(); err != nil {
		t.Fatal(err)
	}
}

// A reservation that holds the promo code while a quote of another buyer is being
// priced: the quote is priced again and finds the code held.
func TestQuotePricedAgainstAHold(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, cst)
	w, hp := hookedWallet(t, now, voucher.Instrument{ID: "spring", Type: "promo_code", Code: "SPRING10", PercentOff: d("10")})
	hp.hook = func() {
		o := renewal("r", "a", "100")
		o.Codes = []string{"SPRING10"}
		if _, err := w.Reserve(o, now, time.Minute); err != nil {
			t.Error(err)
		}
	}
	o := renewal("q", "b", "100")
	o.Codes = []string{"SPRING10"}
	// At a later time, so that the quote moves the clock and commits.
	q, err := w.Quote(o, now.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := q.Rejected("SPRING10"); !ok || r.Reason != voucher.ReasonHeld {
		t.Errorf("quote %v, want SPRING10 held", q.Rejections)
	}
	if err := w.Ledger().Verify(); err != nil {
		t.Fatal(err)
	}
}

// A checkout whose snapshot is stale every time it is priced outside the lock ends up
// priced under the lock, where nothing can change under it.
func TestCheckoutPricedUnderTheLockAfterRepeatedConflicts(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, cst)
	hp := &lockProbePricer{Pricer: engine(t, "aliyun")}
	w := voucher.NewWallet(hp, now)
	if err := w.Grant(voucher.Instrument{ID: "v", Type: "voucher", Account: "a", Amount: d("100"), Balance: d("100")}); err != nil {
		t.Fatal(err)
	}
	var (
		priced, interfered int
		sawLocked          bool
		inner              bool // the interfering checkout is being priced
	)
	hp.hook = func() {
		if inner {
			return
		}
		priced++
		// The wallet is locked (for writing) only when this pricing runs under it.
		probe := make(chan struct{})
		go func() { w.Now(); close(probe) }()
		select {
		case <-probe:
		case <-time.After(250 * time.Millisecond):
			sawLocked = true
			return
		}
		inner = true
		_, err := w.Checkout(renewal(fmt.Sprintf("x%d", interfered), "a", "1"), now)
		inner = false
		if err != nil {
			t.Error(err)
		}
		interfered++
	}
	q, err := w.Checkout(renewal("o", "a", "10"), now)
	if err != nil {
		t.Fatal(err)
	}
	if !sawLocked || priced != interfered+1 {
		t.Errorf("priced %d times, %d with interference, under the lock: %t", priced, interfered, sawLocked)
	}
	in, _ := w.Instrument("v")
	want := d("100").Sub(decimal.NewFromInt(int64(interfered))).Sub(q.Deducted.Amount())
	if !in.Balance.Equal(want) || !q.Deducted.Amount().Equal(d("10")) {
		t.Errorf("balance %s after %d interfering checkouts and %s, want %s", in.Balance, interfered, q.Deducted, want)
	}
	if err := w.Ledger().Verify(); err != nil {
		t.Fatal(err)
	}
}

// lockProbePricer runs hook before every Quote.
type lockProbePricer struct {
	voucher.Pricer
	hook func()
}

func (p *lockProbePricer) Quote(o voucher.Order, insts []voucher.Instrument, at time.Time) (*voucher.Quote, error) {
	p.hook()
	return p.Pricer.Quote(o, insts, at)
}

// ---- The MemoryStore keeps committed quotes packed ----

// filler sets every field of a value, recursively, to a value of its own: strings and
// amounts repeat every few fields, so that packing finds repeats, and slices get n
// elements. A field of a kind it does not know fails the test: a field added to Quote
// must be packed too.
type filler struct {
	t     *testing.T
	n     int // elements per slice
	k     int
	every int  // strings and amounts repeat with this period (0: never)
	long  bool // strings are a hundred bytes long
}

func (f *filler) next() int {
	f.k++
	if f.every > 0 {
		return f.k % f.every
	}
	return f.k
}

func (f *filler) fill(v reflect.Value) {
	switch v.Type() {
	case reflect.TypeFor[voucher.Money]():
		v.Set(reflect.ValueOf(voucher.MoneyFromUnits(int64(f.next()), voucher.MustCurrency("CNY"))))
		return
	case reflect.TypeFor[time.Time]():
		v.Set(reflect.ValueOf(time.Date(2026, 3, 2, 10, 0, f.next(), 0, cst)))
		return
	}
	switch v.Kind() {
	case reflect.String:
		s := "s" + strconv.Itoa(f.next())
		if f.long {
			s += strings.Repeat(".", 100)
		}
		v.SetString(s)
	case reflect.Bool:
		v.SetBool(f.next()%2 == 0)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(f.next() % 100))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(f.next() % 100))
	case reflect.Struct:
		for i := range v.NumField() {
			if !v.Type().Field(i).IsExported() {
				f.t.Fatalf("%s has unexported field %s: fill it", v.Type(), v.Type().Field(i).Name)
			}
			f.fill(v.Field(i))
		}
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), f.n, f.n)
		for i := range f.n {
			f.fill(s.Index(i))
		}
		v.Set(s)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		f.fill(p.Elem())
		v.Set(p)
	default:
		f.t.Fatalf("cannot fill a %s", v.Type())
	}
}

func TestMemoryStoreKeepsQuotesAsCommitted(t *testing.T) {
	cases := map[string]func() *voucher.Quote{
		"every field set": func() *voucher.Quote {
			q := new(voucher.Quote)
			(&filler{t: t, n: 2}).fill(reflect.ValueOf(q).Elem())
			return q
		},
		"repeated strings and amounts": func() *voucher.Quote {
			q := new(voucher.Quote)
			(&filler{t: t, n: 3, every: 7}).fill(reflect.ValueOf(q).Elem())
			return q
		},
		"many distinct strings": func() *voucher.Quote {
			q := new(voucher.Quote)
			(&filler{t: t, n: 40}).fill(reflect.ValueOf(q).Elem())
			return q
		},
		"long strings": func() *voucher.Quote {
			q := new(voucher.Quote)
			(&filler{t: t, n: 2, every: 5, long: true}).fill(reflect.ValueOf(q).Elem())
			return q
		},
		"nil and empty slices": func() *voucher.Quote {
			q := new(voucher.Quote)
			(&filler{t: t, n: 1}).fill(reflect.ValueOf(q).Elem())
			q.Lines, q.Rejections, q.Trace = nil, []voucher.Rejection{}, append(q.Trace, voucher.TraceEntry{})
			q.Applications = append(q.Applications, voucher.Application{Lines: []voucher.LineAmount{}})
			return q
		},
		"zero": func() *voucher.Quote { return &voucher.Quote{} },
	}
	for name, mk := range cases {
		t.Run(name, func(t *testing.T) {
			q := mk()
			st := voucher.NewMemoryStore()
			if err := st.Commit(&voucher.Batch{Orders: []voucher.OrderRecord{{ID: "o", Quote: q}}}); err != nil {
				t.Fatal(err)
			}
			want := mk() // the same again: the store must not keep q
			(&filler{t: t}).fill(reflect.ValueOf(q).Elem())
			rec, ok := st.Order("o")
			if !ok || !reflect.DeepEqual(want, rec.Quote) {
				t.Errorf("stored\n%+v\ngot back\n%+v", want, rec.Quote)
			}
		})
	}
}

// The MemoryStore keeps ledger entries numbered (see storedEntry): what it returns is
// what was committed.
func TestMemoryStoreKeepsLedgerEntriesAsCommitted(t *testing.T) {
	st := voucher.NewMemoryStore()
	var want []voucher.LedgerEntry
	for i, every := range []int{0, 5, 3, 0, 1} {
		var e voucher.LedgerEntry
		(&filler{t: t, every: every}).fill(reflect.ValueOf(&e).Elem())
		e.Seq = int64(i + 1)
		e.At = time.Date(2026, 3, 2, 10, 0, i, 0, cst) // in time order
		if i == 3 {
			e = voucher.LedgerEntry{Seq: e.Seq, At: e.At} // every other field zero
		}
		want = append(want, e)
	}
	b := voucher.Batch{Entries: slices.Clone(want)}
	if err := st.Commit(&b); err != nil {
		t.Fatal(err)
	}
	clear(b.Entries) // the store must not keep them
	if got := st.Entries(voucher.LedgerQuery{}); !reflect.DeepEqual(want, got) {
		t.Errorf("committed\n%+v\ngot back\n%+v", want, got)
	}
	if got := st.Entries(voucher.LedgerQuery{Order: want[1].Order}); len(got) == 0 || !reflect.DeepEqual(want[1], got[0]) {
		t.Errorf("by order: %+v", got)
	}
}

// Racing checkouts, most of which find their snapshot stale and price again: every
// order keeps the quote its checkout returned, and the ledger adds up.
func TestConcurrentCheckoutsKeepTheirQuotes(t *testing.T) {
	w, orders, now := benchEngineWallet(t)
	const goroutines, each = 16, 100
	got := make([][]*voucher.Quote, goroutines)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	reading := make(chan struct{})
	go func() { // reads orders as they are committed
		defer close(reading)
		for k := 0; ; {
			select {
			case <-stop:
				return
			default:
			}
			if rec, ok := w.Order(fmt.Sprintf("g0-%d", k)); ok {
				if rec.Quote == nil || rec.Quote.OrderID != rec.ID {
					t.Errorf("order %s reads as %+v", rec.ID, rec.Quote)
				}
				k++
			}
		}
	}()
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				o := orders[(g+i)%4] // four accounts: conflicts
				o.ID = fmt.Sprintf("g%d-%d", g, i)
				q, err := w.Checkout(o, now)
				if err != nil {
					t.Error(err)
					return
				}
				got[g] = append(got[g], q)
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-reading
	for g := range got {
		for i, q := range got[g] {
			id := fmt.Sprintf("g%d-%d", g, i)
			if rec, ok := w.Order(id); !ok || !reflect.DeepEqual(rec.Quote, q) {
				t.Fatalf("order %s: %+v, committed %+v", id, rec.Quote, q)
			}
		}
	}
	if err := w.Ledger().Verify(); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkEnginePricingOnly is the engine alone on a checkout's order and
// instruments, without a wallet: the floor under BenchmarkEngineCheckout, from one
// goroutine and from GOMAXPROCS.
func BenchmarkEnginePricingOnly(b *testing.B) {
	e := engine(b, "aliyun")
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, cst)
	insts := []voucher.Instrument{
		{ID: "big-a", Type: "voucher", Account: "a", Amount: d("1000000000"), Balance: d("1000000000")},
		{ID: "small-a", Type: "voucher", Account: "a", Amount: d("5"), Balance: d("5"), ExpiresAt: now.Add(time.Hour)},
		{ID: "coupon-a", Type: "coupon", Account: "a", Amount: d("5"), FirstPurchaseOnly: new(bool), ExpiresAt: now.Add(time.Hour)},
	}
	o := renewal("o", "a", "30.00")
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := e.Quote(o, insts, now); err != nil {
				b.Fatal(err)
			}
		}
		reportOrders(b)
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := e.Quote(o, insts, now); err != nil {
					b.Error(err)
					return
				}
			}
		})
		reportOrders(b)
	})
}

// A step whose pricing fails reports an error that comes before the Pricer's if, by
// the time it fails, one applies: the order was committed, or the clock moved past it.
func TestFailedPricingReportsAnEarlierError(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, cst)
	for name, c := range map[string]struct {
		hook func(w *voucher.Wallet) error
		want *voucher.CodeError
	}{
		"committed meanwhile": {func(w *voucher.Wallet) error {
			_, err := w.Checkout(renewal("o", "a", "10"), now)
			return err
		}, voucher.ErrDuplicateOrder},
		"clock moved past it": {func(w *voucher.Wallet) error {
			_, err := w.Advance(now.Add(time.Hour))
			return err
		}, voucher.ErrClockBackwards},
		"nothing meanwhile": {func(*voucher.Wallet) error { return nil }, voucher.ErrUnknownInstrument},
	} {
		t.Run(name, func(t *testing.T) {
			w, hp := hookedWallet(t, now, voucher.Instrument{ID: "v", Type: "voucher", Account: "a", Amount: d("100"), Balance: d("100")})
			hp.hook = func() {
				if err := c.hook(w); err != nil {
					t.Error(err)
				}
			}
			o := renewal("o", "a", "10")
			o.Use = []string{"nope"}
			_, err := w.Checkout(o, now)
			if !errors.Is(err, c.want) {
				t.Errorf("got %v, want %s", err, c.want.Code())
			}
		})
	}
}
