package voucher

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Reason is why an instrument was not applied: a stable snake_case code.
type Reason string

// Rejection reasons, in the order the checks run.
const (
	ReasonNotOwner          Reason = "not_owner"
	ReasonUsedUp            Reason = "used_up"
	ReasonExpired           Reason = "expired"
	ReasonPendingActivation Reason = "pending_activation"
	ReasonHeld              Reason = "held"
	ReasonNotYetEffective   Reason = "not_yet_effective"
	ReasonCurrencyMismatch  Reason = "currency_mismatch"
	ReasonOrderType         Reason = "order_type"
	ReasonPaymentType       Reason = "payment_type"
	ReasonFirstPurchaseOnly Reason = "first_purchase_only"
	ReasonProductScope      Reason = "product_scope"
	ReasonNotShared         Reason = "not_shared"
	ReasonMinSpend          Reason = "min_spend"
	ReasonPerOrderLimit     Reason = "per_order_limit"
	ReasonNotSelected       Reason = "not_selected"
	ReasonNothingLeft       Reason = "nothing_left"
)

// Reasons lists every rejection reason in check order.
func Reasons() []Reason {
	return []Reason{ReasonNotOwner, ReasonUsedUp, ReasonExpired, ReasonPendingActivation,
		ReasonHeld, ReasonNotYetEffective, ReasonCurrencyMismatch, ReasonOrderType,
		ReasonPaymentType, ReasonFirstPurchaseOnly, ReasonProductScope, ReasonNotShared, ReasonMinSpend,
		ReasonPerOrderLimit, ReasonNotSelected, ReasonNothingLeft}
}

// Figures are the money of an order or of one line. Always
// Total = Discount + Deducted + Cash and Total − Discount = Invoiceable + NonInvoiceable.
type Figures struct {
	// Total is the list amount.
	Total Money `json:"total"`
	// Discount is what discount instruments took.
	Discount Money `json:"discount"`
	// Deducted is what deduction instruments took.
	Deducted Money `json:"deducted"`
	// Cash is what the buyer pays.
	Cash Money `json:"cash"`
	// Invoiceable is the part of Total − Discount that may be invoiced.
	Invoiceable Money `json:"invoiceable"`
	// NonInvoiceable is the part of Total − Discount that may not be invoiced.
	NonInvoiceable Money `json:"non_invoiceable"`
}

// LineQuote is the figures of one line.
type LineQuote struct {
	LineID  string `json:"line"`
	Product string `json:"product"`
	SKU     string `json:"sku,omitempty"`
	// Account is who incurred the charge (bills only).
	Account string `json:"account,omitempty"`
	Figures
}

// AccountQuote is the figures of one account's charges on a settled bill.
type AccountQuote struct {
	Account string `json:"account"`
	Figures
}

// LineAmount is an application's share of one line.
type LineAmount struct {
	LineID string `json:"line"`
	Amount Money  `json:"amount"`
}

// Application is one instrument that applied, and what it took.
type Application struct {
	InstrumentID string `json:"instrument"`
	// Key is how the buyer knows it: the code as typed for a typed-in code, else the id.
	Key string `json:"key"`
	// Account is the instrument's owner ("" for a typed-in code).
	Account string `json:"account,omitempty"`
	Type    string `json:"type"`
	Stage   string `json:"stage"`
	Kind    Kind   `json:"kind"`
	// Amount is what it took, in all; Lines is its split over the lines: only the lines
	// it took something from (a non-zero share each), in the order's line order, adding
	// up to Amount exactly. A line it took nothing from is not listed; Quote.Lines has
	// every line's figures.
	Amount Money        `json:"amount"`
	Lines  []LineAmount `json:"lines"`
	// Invoiceable and Refund are the type's rules, carried for commit and refund.
	Invoiceable bool       `json:"invoiceable"`
	Refund      RefundRule `json:"refund,omitempty"`
}

// Rejection is one instrument considered and not applied, and why.
type Rejection struct {
	InstrumentID string `json:"instrument"`
	Key          string `json:"key"`
	Type         string `json:"type"`
	Stage        string `json:"stage"`
	Reason       Reason `json:"reason"`
	// Detail is for people: "needs 500.00, has 499.99".
	Detail string `json:"detail,omitempty"`
	// Hint says what would make it apply, where the buyer can act: "spend 0.01 more".
	Hint string `json:"hint,omitempty"`
}

// TraceEntry is one decision of the engine, in the order it was made.
type TraceEntry struct {
	Stage      string `json:"stage,omitempty"`
	Instrument string `json:"instrument,omitempty"`
	// Event is "stage", "consider", "apply" or "reject".
	Event  string `json:"event"`
	Reason Reason `json:"reason,omitempty"`
	Amount *Money `json:"amount,omitempty"`
	Note   string `json:"note,omitempty"`
}

func (e TraceEntry) String() string {
	var b strings.Builder
	if e.Stage != "" {
		b.WriteString("[" + e.Stage + "] ")
	}
	b.WriteString(e.Event)
	if e.Instrument != "" {
		b.WriteString(" " + e.Instrument)
	}
	if e.Reason != "" {
		b.WriteString(": " + string(e.Reason))
	}
	if e.Amount != nil {
		b.WriteString(" " + e.Amount.String())
	}
	if e.Note != "" {
		b.WriteString(" (" + e.Note + ")")
	}
	return b.String()
}

// Quote is a priced order: it changes nothing, and the Wallet commits it as it is.
type Quote struct {
	OrderID string `json:"order"`
	Account string `json:"account"`
	// RuleSet is "name@version".
	RuleSet  string    `json:"rule_set"`
	Currency string    `json:"currency"`
	At       time.Time `json:"at"`
	Figures
	Lines []LineQuote `json:"lines"`
	// Accounts are the figures per account with a charge, for a settled bill, in the
	// order their first charge comes.
	Accounts     []AccountQuote `json:"accounts,omitempty"`
	Applications []Application  `json:"applications"`
	Rejections   []Rejection    `json:"rejections"`
	// Trace is how the engine came to the quote, decision by decision, for whoever
	// reads the quote as it is made. A wallet's records (OrderRecord, Reservation)
	// keep the quote without it: what the engine decided, and why each instrument did
	// not apply, is in the figures, Applications and Rejections, and the stages'
	// order is the rule set's (RuleSet).
	Trace []TraceEntry `json:"trace,omitempty"`
}

// recorded is q as a wallet records it: without its trace (see Quote.Trace).
func (q *Quote) recorded() *Quote {
	if q.Trace == nil {
		return q
	}
	c := *q
	c.Trace = nil
	return &c
}

// Clone returns a deep copy of q (nil for nil).
func (q *Quote) Clone() *Quote {
	if q == nil {
		return nil
	}
	c := *q
	c.Lines = slices.Clone(q.Lines)
	c.Accounts = slices.Clone(q.Accounts)
	c.Applications = slices.Clone(q.Applications)
	// The applications' splits share one allocation, and so do the trace's amounts:
	// a copy kept for the record is a few objects, whatever its length.
	var n int
	for _, a := range q.Applications {
		n += len(a.Lines)
	}
	splits := make([]LineAmount, 0, n)
	for i := range c.Applications {
		if ls := c.Applications[i].Lines; ls != nil {
			k := len(splits)
			splits = append(splits, ls...)
			c.Applications[i].Lines = splits[k:len(splits):len(splits)]
		}
	}
	c.Rejections = slices.Clone(q.Rejections)
	c.Trace = slices.Clone(q.Trace)
	n = 0
	for _, e := range q.Trace {
		if e.Amount != nil {
			n++
		}
	}
	amounts := make([]Money, 0, n)
	for i := range c.Trace {
		if c.Trace[i].Amount != nil {
			amounts = append(amounts, *c.Trace[i].Amount)
			c.Trace[i].Amount = &amounts[len(amounts)-1]
		}
	}
	return &c
}

// Applied returns the application of the instrument with key (id or typed code).
func (q *Quote) Applied(key string) (Application, bool) {
	for _, a := range q.Applications {
		if a.Key == key || a.InstrumentID == key {
			return a, true
		}
	}
	return Application{}, false
}

// Rejected returns the rejection of the instrument with key (id or typed code).
func (q *Quote) Rejected(key string) (Rejection, bool) {
	for _, r := range q.Rejections {
		if r.Key == key || r.InstrumentID == key {
			return r, true
		}
	}
	return Rejection{}, false
}

// Line returns the figures of line id.
func (q *Quote) Line(id string) (LineQuote, bool) {
	for _, l := range q.Lines {
		if l.LineID == id {
			return l, true
		}
	}
	return LineQuote{}, false
}

// Text renders the quote for people: totals, each line, each application with its
// split, each rejection with its reason, detail and hint. For a settled bill it also
// gives each account's figures, each charge's account, and each application's split by
// account.
func (q *Quote) Text() string {
	var b strings.Builder
	what := "order"
	if len(q.Accounts) > 0 {
		what = "bill"
	}
	fmt.Fprintf(&b, "%s %s (account %s, %s, rule set %s)\n", what, q.OrderID, q.Account, q.At.Format(time.RFC3339Nano), q.RuleSet)
	writeFigures(&b, "  ", q.Figures)
	for _, a := range q.Accounts {
		fmt.Fprintf(&b, "  account %s: total %s, discount %s, deducted %s, cash %s, invoiceable %s\n",
			a.Account, a.Total.Format(), a.Discount.Format(), a.Deducted.Format(), a.Cash.Format(), a.Invoiceable.Format())
	}
	account := make(map[string]string, len(q.Lines))
	for _, l := range q.Lines {
		by := ""
		if l.Account != "" {
			by = ", account " + l.Account
			account[l.LineID] = l.Account
		}
		fmt.Fprintf(&b, "  line %s (%s%s): total %s, discount %s, deducted %s, cash %s, invoiceable %s\n",
			l.LineID, l.Product, by, l.Total.Format(), l.Discount.Format(), l.Deducted.Format(), l.Cash.Format(), l.Invoiceable.Format())
	}
	if len(q.Applications) > 0 {
		b.WriteString("  applied:\n")
	}
	for _, a := range q.Applications {
		writeApplication(&b, a, account)
	}
	if len(q.Rejections) > 0 {
		b.WriteString("  not applied:\n")
	}
	for _, r := range q.Rejections {
		fmt.Fprintf(&b, "    %s (%s): %s", r.Key, r.Type, r.Reason)
		if r.Detail != "" {
			b.WriteString(": " + r.Detail)
		}
		if r.Hint != "" {
			b.WriteString("; hint: " + r.Hint)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// writeApplication writes what an application took and its split over the lines; on a
// bill (account maps each charge to who incurred it), the split by account, each with
// its lines.
func writeApplication(b *strings.Builder, a Application, account map[string]string) {
	fmt.Fprintf(b, "    %s (%s %s, stage %s", a.Key, a.Kind, a.Type, a.Stage)
	if a.Account != "" && len(account) > 0 {
		b.WriteString(", of " + a.Account)
	}
	b.WriteString("): " + a.Amount.String())
	var parts []string
	var groups []string // on a bill: "acct: line amount, ..." per account, in first-line order
	byAcct := map[string][]string{}
	for _, l := range a.Lines {
		if l.Amount.IsZero() {
			continue
		}
		part := l.LineID + " " + l.Amount.Format()
		if acct, ok := account[l.LineID]; ok {
			if _, seen := byAcct[acct]; !seen {
				groups = append(groups, acct)
			}
			byAcct[acct] = append(byAcct[acct], part)
			continue
		}
		parts = append(parts, part)
	}
	for _, acct := range groups {
		parts = append(parts, acct+": "+strings.Join(byAcct[acct], ", "))
	}
	if len(parts) > 0 {
		sep := ", "
		if len(groups) > 0 {
			sep = "; "
		}
		b.WriteString(" [" + strings.Join(parts, sep) + "]")
	}
	b.WriteString("\n")
}

func writeFigures(b *strings.Builder, indent string, f Figures) {
	cur := f.Total.Currency().Code()
	fmt.Fprintf(b, "%stotal %s %s\n", indent, f.Total.Format(), cur)
	fmt.Fprintf(b, "%s- discount %s\n", indent, f.Discount.Format())
	fmt.Fprintf(b, "%s- deducted %s\n", indent, f.Deducted.Format())
	fmt.Fprintf(b, "%s= cash %s\n", indent, f.Cash.Format())
	// What may be invoiced is split from what the buyer owes before deductions, not
	// from the cash: say what the parts add up to.
	owed, err := f.Total.Sub(f.Discount)
	if err != nil {
		owed = f.Total
	}
	fmt.Fprintf(b, "%sinvoiceable %s + not invoiceable %s = %s (total less discount)\n", indent,
		f.Invoiceable.Format(), f.NonInvoiceable.Format(), owed.Format())
}
