package focus

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/shopspring/decimal"
	"github.com/voucherkit/voucherkit/internal/excerpt"
	"github.com/voucherkit/voucherkit/store/memory"
	"github.com/voucherkit/voucherkit/voucher"
)

// Settle settles every bill of res, in period order, on a fresh wallet (an in-memory
// store) priced by p, which must settle bills (voucher.BillPricer). The wallet holds
// res's organizations and insts from start on (start must not be after the first
// bill's period). It returns each bill's quote, in the order of res.Bills.
func Settle(ctx context.Context, p voucher.Pricer, res *Result, insts []voucher.Instrument, start time.Time) ([]*voucher.Quote, error) {
	if _, ok := p.(voucher.BillPricer); !ok {
		return nil, fmt.Errorf("focus: the pricer does not settle bills (it is not a voucher.BillPricer)")
	}
	w := voucher.NewWallet(p, memory.New())
	for _, o := range res.Organizations {
		if err := w.PutOrganization(ctx, o, start); err != nil {
			return nil, fmt.Errorf("organization %s: %w", excerpt.Quote(o.ID), err)
		}
	}
	for _, in := range insts {
		if err := w.Grant(ctx, in, start); err != nil {
			return nil, err
		}
	}
	out := make([]*voucher.Quote, 0, len(res.Bills))
	for _, b := range res.Bills {
		r, err := w.Settle(ctx, b.Bill)
		if err != nil {
			return nil, fmt.Errorf("bill %s: %w", excerpt.Quote(b.ID), err)
		}
		out = append(out, r.Quote)
	}
	return out, nil
}

// Level is how finely Reconcile compares.
type Level string

// The levels of Reconcile.
const (
	BySKU     Level = "sku"
	ByService Level = "service"
	ByAccount Level = "account"
)

// ParseLevel reads "sku", "service" or "account".
func ParseLevel(s string) (Level, error) {
	switch l := Level(s); l {
	case BySKU, ByService, ByAccount:
		return l, nil
	}
	return "", fmt.Errorf("focus: unknown level %s: want sku, service or account", excerpt.Quote(s))
}

// Difference is one line of a reconciliation: the credits the rule set computes and
// those the provider applied, for one billing account, period, account and (as the
// level says) service and SKU.
type Difference struct {
	BillingAccountID string          `json:"billing_account"`
	PeriodStart      time.Time       `json:"period_start"`
	Account          string          `json:"account"`
	ServiceName      string          `json:"service,omitempty"`
	SKU              string          `json:"sku,omitempty"`
	Expected         decimal.Decimal `json:"expected"`
	Actual           decimal.Decimal `json:"actual"`
	// Difference is Actual − Expected.
	Difference decimal.Decimal `json:"difference"`
	Match      bool            `json:"match"`
}

// Reconciliation compares computed credits with applied ones.
type Reconciliation struct {
	By       Level           `json:"by"`
	Lines    []Difference    `json:"lines"`
	Expected decimal.Decimal `json:"expected"`
	Actual   decimal.Decimal `json:"actual"`
	// Differ is how many lines do not match.
	Differ int `json:"differ"`
}

// Matches reports whether every line matches.
func (r *Reconciliation) Matches() bool { return r.Differ == 0 }

type reconKey struct {
	billing               string
	start                 int64
	account, service, sku string
}

// Reconcile compares expected credits (what a settle applied: CreditsFromQuote) with
// actual ones (a provider's Credit rows: Result.Credits), summing each side's rounded
// Amount per billing account, billing period, account and, as by says, service and
// SKU. Lines are sorted by billing account, period, account, service and SKU; a key
// only one side has is a line with zero on the other.
func Reconcile(expected, actual []Credit, by Level) *Reconciliation {
	type sums struct {
		key              reconKey
		start            time.Time
		expected, actual decimal.Decimal
	}
	m := map[reconKey]*sums{}
	add := func(c Credit, exp bool) {
		k := reconKey{c.BillingAccountID, c.Start.UnixNano(), c.Account, c.ServiceName, c.SKU}
		if by != BySKU {
			k.sku = ""
		}
		if by == ByAccount {
			k.service = ""
		}
		s, ok := m[k]
		if !ok {
			s = &sums{key: k, start: c.Start}
			m[k] = s
		}
		if exp {
			s.expected = s.expected.Add(c.Amount)
		} else {
			s.actual = s.actual.Add(c.Amount)
		}
	}
	for _, c := range expected {
		add(c, true)
	}
	for _, c := range actual {
		add(c, false)
	}
	r := &Reconciliation{By: by}
	for _, s := range m {
		d := Difference{BillingAccountID: s.key.billing, PeriodStart: s.start, Account: s.key.account, ServiceName: s.key.service,
			SKU: s.key.sku, Expected: s.expected, Actual: s.actual, Difference: s.actual.Sub(s.expected)}
		d.Match = d.Difference.IsZero()
		if !d.Match {
			r.Differ++
		}
		r.Expected, r.Actual = r.Expected.Add(s.expected), r.Actual.Add(s.actual)
		r.Lines = append(r.Lines, d)
	}
	slices.SortFunc(r.Lines, func(a, b Difference) int {
		return cmp.Or(cmp.Compare(a.BillingAccountID, b.BillingAccountID), a.PeriodStart.Compare(b.PeriodStart),
			cmp.Compare(a.Account, b.Account), cmp.Compare(a.ServiceName, b.ServiceName), cmp.Compare(a.SKU, b.SKU))
	})
	return r
}

// Text renders the reconciliation as a table, then one line with the totals and how
// many lines differ.
func (r *Reconciliation) Text() string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	head := []string{"billing account", "period", "account"}
	if r.By != ByAccount {
		head = append(head, "service")
	}
	if r.By == BySKU {
		head = append(head, "sku")
	}
	fmt.Fprintln(tw, strings.Join(append(head, "expected", "actual", "difference", ""), "\t"))
	for _, d := range r.Lines {
		cells := []string{excerpt.Show(d.BillingAccountID), d.PeriodStart.UTC().Format("2006-01"), excerpt.Show(d.Account)}
		if r.By != ByAccount {
			cells = append(cells, excerpt.Show(d.ServiceName))
		}
		if r.By == BySKU {
			cells = append(cells, excerpt.Show(d.SKU))
		}
		mark := "ok"
		if !d.Match {
			mark = "DIFFERS"
		}
		cells = append(cells, d.Expected.String(), d.Actual.String(), d.Difference.String(), mark)
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	tw.Flush()
	fmt.Fprintf(&b, "expected %s, actual %s: %d of %d lines differ\n", r.Expected, r.Actual, r.Differ, len(r.Lines))
	return b.String()
}
