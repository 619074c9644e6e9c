package simulate

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"github.com/voucherkit/voucherkit/focus"
	"github.com/voucherkit/voucherkit/internal/excerpt"
	"github.com/voucherkit/voucherkit/internal/yamlx"
	"github.com/voucherkit/voucherkit/voucher"
)

// Item is one element of a stream: an order checked out at At, or a bill settled at
// its period's last instant.
type Item struct {
	Order *voucher.Order
	At    time.Time
	Bill  *voucher.Bill
	// Pos says where the item came from ("line 12"), for errors.
	Pos string
}

// Time is when the item happens: the order's At, or the bill's last instant.
func (it *Item) Time() time.Time {
	if it.Bill != nil {
		return it.Bill.At()
	}
	return it.At
}

// begin is the earliest instant the item concerns: a bill's period start.
func (it *Item) begin() time.Time {
	if it.Bill != nil {
		return it.Bill.Start
	}
	return it.At
}

// ID is the order's or the bill's id.
func (it *Item) ID() string {
	if it.Bill != nil {
		return it.Bill.ID
	}
	return it.Order.ID
}

// Account is the order's buyer, or whose bill it is.
func (it *Item) Account() string {
	if it.Bill != nil {
		if it.Bill.Organization != "" {
			return it.Bill.Organization
		}
		return it.Bill.Account
	}
	return it.Order.Account
}

// Source yields a stream's items in time order; Next returns io.EOF after the last.
type Source interface {
	Next() (Item, error)
}

// ErrInput is wrapped by every error about a stream's contents.
var ErrInput = errors.New("simulate: invalid input")

func inputErr(pos, format string, a ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrInput, pos, fmt.Sprintf(format, a...))
}

// MaxLine bounds one line of a JSON-lines stream.
const MaxLine = 4 << 20

// jsonLine is one line of a JSON-lines stream: an order (with "at") or a bill (with
// "start"), in voucher.Order's and voucher.Bill's snake_case JSON.
type jsonLine struct {
	voucher.Order
	Items        []voucher.Charge `json:"items"`
	At           *time.Time       `json:"at"`
	Start        *time.Time       `json:"start"`
	End          *time.Time       `json:"end"`
	Organization string           `json:"organization"`
}

type jsonSource struct {
	sc   *bufio.Scanner
	line int
}

// JSONLines reads a stream of JSON objects, one per line (blank lines are skipped):
// an order, as voucher.Order's JSON plus "at" (RFC 3339), or a bill, as voucher.Bill's
// JSON (its "start" tells it apart). Unknown keys are errors.
func JSONLines(r io.Reader) Source {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxLine)
	return &jsonSource{sc: sc}
}

func (s *jsonSource) Next() (Item, error) {
	for s.sc.Scan() {
		s.line++
		b := bytes.TrimSpace(s.sc.Bytes())
		if len(b) == 0 {
			continue
		}
		return decodeLine(b, fmt.Sprintf("line %d", s.line))
	}
	if err := s.sc.Err(); err != nil {
		return Item{}, inputErr(fmt.Sprintf("line %d", s.line+1), "%v", err)
	}
	return Item{}, io.EOF
}

func decodeLine(b []byte, pos string) (Item, error) {
	var l jsonLine
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		return Item{}, inputErr(pos, "%s", jsonProblem(err))
	}
	if l.Start != nil {
		if l.End == nil || l.At != nil || l.Type != "" || l.Payment != "" || l.Use != nil || len(l.Codes) > 0 || l.FirstPurchase {
			return Item{}, inputErr(pos, "a bill has id, start, end, organization or account, and items; not at, type, payment, use, codes or first_purchase")
		}
		return Item{Bill: &voucher.Bill{ID: l.ID, Start: *l.Start, End: *l.End, Organization: l.Organization,
			Account: l.Account, Charges: l.Items}, Pos: pos}, nil
	}
	if l.At == nil {
		return Item{}, inputErr(pos, "an order needs \"at\" (when it is checked out); a bill needs \"start\" and \"end\"")
	}
	if l.End != nil || l.Organization != "" {
		return Item{}, inputErr(pos, "an order has no end or organization (a bill has start and end)")
	}
	o := l.Order
	o.Lines = make([]voucher.Line, len(l.Items))
	for i, c := range l.Items {
		if c.Account != "" || !c.IncurredAt.IsZero() {
			return Item{}, inputErr(pos, "items[%d]: an order's item has no account or incurred_at (a bill's charge has)", i)
		}
		o.Lines[i] = c.Line
	}
	return Item{Order: &o, At: *l.At, Pos: pos}, nil
}

// jsonProblem describes a JSON decoding error without echoing the input.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("not valid JSON at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("%s must be %s", excerpt.Show(te.Field), te.Type)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown key " + excerpt.Quote(strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`))
	}
	return excerpt.Quote(err.Error())
}

// csvColumns are the columns of an orders CSV; the first seven are required.
var csvColumns = []string{"id", "at", "account", "type", "payment", "product", "amount", "item", "sku", "currency", "first_purchase"}

type csvSource struct {
	r       *csv.Reader
	col     map[string]int
	loc     *time.Location
	row     int
	pending *Item
	done    bool
}

// OrdersCSV reads orders from CSV with a header row naming the columns id, at, account,
// type, payment, product and amount, and optionally item (the line id; default its
// position in the order, from 1), sku, currency and first_purchase (true or false).
// Each row is one line; consecutive rows with the same id are one order, and must
// agree on at, account, type, payment and first_purchase. at is RFC 3339, or a date
// (the start of that day in loc).
func OrdersCSV(r io.Reader, loc *time.Location) (Source, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return nil, inputErr("line 1", "an orders CSV starts with a header row: %v", err)
	}
	col := map[string]int{}
	for i, h := range head {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\uFEFF"))
		if !contains(csvColumns, h) {
			return nil, inputErr("line 1", "unknown column %s (columns: %s)", excerpt.Quote(h), strings.Join(csvColumns, ", "))
		}
		if _, dup := col[h]; dup {
			return nil, inputErr("line 1", "column %s is named twice", h)
		}
		col[h] = i
	}
	for _, c := range csvColumns[:7] {
		if _, ok := col[c]; !ok {
			return nil, inputErr("line 1", "column %s is missing (required: %s)", c, strings.Join(csvColumns[:7], ", "))
		}
	}
	cr.FieldsPerRecord = len(head)
	return &csvSource{r: cr, col: col, loc: loc}, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (s *csvSource) Next() (Item, error) {
	for !s.done {
		rec, err := s.r.Read()
		if errors.Is(err, io.EOF) {
			s.done = true
			break
		}
		s.row++
		if err != nil {
			return Item{}, inputErr(fmt.Sprintf("row %d", s.row), "not valid CSV: %v", err)
		}
		line, _ := s.r.FieldPos(0)
		it, err := s.add(rec, fmt.Sprintf("line %d", line))
		if err != nil || it != nil {
			return derefItem(it), err
		}
	}
	if s.pending != nil {
		it := *s.pending
		s.pending = nil
		return it, nil
	}
	return Item{}, io.EOF
}

func derefItem(it *Item) Item {
	if it == nil {
		return Item{}
	}
	return *it
}

// add reads one row into the pending order; it returns the previous order when this
// row starts another.
func (s *csvSource) add(rec []string, pos string) (*Item, error) {
	get := func(c string) string {
		if i, ok := s.col[c]; ok {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	at, err := yamlx.ParseTime(get("at"), s.loc, yamlx.StartOfDay)
	if err != nil {
		return nil, inputErr(pos, "at: %v", err)
	}
	amount, err := decimal.NewFromString(get("amount"))
	if err != nil || len(get("amount")) > 64 {
		return nil, inputErr(pos, "amount: %s is not a decimal number", excerpt.Quote(get("amount")))
	}
	first := get("first_purchase")
	if first != "" && first != "true" && first != "false" {
		return nil, inputErr(pos, "first_purchase: %s is not true or false", excerpt.Quote(first))
	}
	o := voucher.Order{ID: strings.Clone(get("id")), Account: strings.Clone(get("account")), Type: voucher.OrderType(strings.Clone(get("type"))),
		Payment: voucher.PaymentType(strings.Clone(get("payment"))), FirstPurchase: first == "true"}
	line := voucher.Line{ID: strings.Clone(get("item")), Product: strings.Clone(get("product")), SKU: strings.Clone(get("sku")),
		Amount: amount, Currency: strings.Clone(get("currency"))}
	var done *Item
	if p := s.pending; p != nil && p.Order.ID == o.ID {
		po := p.Order
		if !p.At.Equal(at) || po.Account != o.Account || po.Type != o.Type || po.Payment != o.Payment || po.FirstPurchase != o.FirstPurchase {
			return nil, inputErr(pos, "order %s: its rows disagree on at, account, type, payment or first_purchase", excerpt.Quote(o.ID))
		}
		s.addLine(po, line)
		return nil, nil
	} else if p != nil {
		done = p
	}
	s.pending = &Item{Order: &o, At: at, Pos: pos}
	s.addLine(&o, line)
	return done, nil
}

func (s *csvSource) addLine(o *voucher.Order, l voucher.Line) {
	if l.ID == "" {
		l.ID = fmt.Sprint(len(o.Lines) + 1)
	}
	o.Lines = append(o.Lines, l)
}

// FocusBills is the stream of the bills a FOCUS import read, in period order.
func FocusBills(res *focus.Result) Source {
	return &sliceSource{n: len(res.Bills), get: func(i int) Item {
		return Item{Bill: &res.Bills[i].Bill, Pos: "bill " + excerpt.Show(res.Bills[i].ID)}
	}}
}

// Items is a stream of the given items.
func Items(items ...Item) Source {
	return &sliceSource{n: len(items), get: func(i int) Item { return items[i] }}
}

// Generate is a stream of n items made by gen, one at a time (nothing is held).
func Generate(n int, gen func(i int) Item) Source {
	return &sliceSource{n: n, get: gen}
}

type sliceSource struct {
	i, n int
	get  func(int) Item
}

func (s *sliceSource) Next() (Item, error) {
	if s.i >= s.n {
		return Item{}, io.EOF
	}
	s.i++
	return s.get(s.i - 1), nil
}
