package focus

import (
	"fmt"
	"time"

	"github.com/shopspring/decimal"
	"github.com/voucherkit/voucherkit/internal/excerpt"
	"github.com/voucherkit/voucherkit/voucher"
)

// Credit is value a credit (voucher, coupon) paid of one account's charges for one
// service and SKU in one billing period: a FOCUS Credit row, or the sum of several.
// Amount is what it paid, above zero for a credit that lowered the bill: the opposite
// of the rows' BilledCost.
type Credit struct {
	BillingAccountID   string    `json:"billing_account"`
	BillingAccountName string    `json:"billing_account_name,omitempty"`
	Start              time.Time `json:"period_start"`
	End                time.Time `json:"period_end"`
	Currency           string    `json:"currency"`
	// Account is the SubAccountId whose charges it paid (the billing account for a row
	// with none).
	Account        string `json:"account"`
	SubAccountName string `json:"account_name,omitempty"`
	ServiceName    string `json:"service"`
	// ServiceCategory is FOCUS's (Compute, Storage, ...; "Other" when unknown).
	ServiceCategory string `json:"service_category,omitempty"`
	SKU             string `json:"sku,omitempty"`
	// Instrument, InstrumentType, RuleSet, BillID and ChargeID are voucherkit's (its x_
	// columns): the instrument that paid, its type, the rule set, the settled bill and
	// the charge. A provider's own Credit rows have none.
	Instrument     string `json:"instrument,omitempty"`
	InstrumentType string `json:"instrument_type,omitempty"`
	RuleSet        string `json:"rule_set,omitempty"`
	BillID         string `json:"bill,omitempty"`
	ChargeID       string `json:"charge,omitempty"`
	// Description is the ChargeDescription (of the first row).
	Description       string `json:"description,omitempty"`
	ProviderName      string `json:"provider,omitempty"`
	PublisherName     string `json:"publisher,omitempty"`
	InvoiceIssuerName string `json:"invoice_issuer,omitempty"`
	// Exact is the sum at full precision; Amount is Exact rounded once to the scale.
	Exact  decimal.Decimal `json:"exact"`
	Amount decimal.Decimal `json:"amount"`
	// Rows is how many rows were summed (import only).
	Rows int `json:"rows,omitempty"`
}

// CreditsFromQuote returns what the settle of bill b (quote q) applied, as credits: one
// per instrument and charge it paid, in the order of q's applications and, within one,
// of its per-line split. Each carries the charge's account, service (its ServiceName
// when b came from a FOCUS file, else its product) and SKU, the billing period, and the
// instrument. b may be nil for a bill that did not come from a FOCUS file: then the
// billing account is the quote's account and the period its month.
func CreditsFromQuote(b *Bill, q *voucher.Quote) []Credit {
	sources := map[string]*ChargeSource{}
	var base Credit
	if b != nil {
		for i := range b.Sources {
			sources[b.Sources[i].ID] = &b.Sources[i]
		}
		base = Credit{BillingAccountID: b.BillingAccountID, BillingAccountName: b.BillingAccountName, Start: b.Start, End: b.End, BillID: b.ID}
	} else {
		base = Credit{BillingAccountID: q.Account, Start: monthStart(q.At), End: monthStart(q.At).AddDate(0, 1, 0), BillID: q.OrderID}
	}
	base.Currency, base.RuleSet = q.Currency, q.RuleSet
	lines := map[string]voucher.LineQuote{}
	for _, l := range q.Lines {
		lines[l.LineID] = l
	}
	var out []Credit
	for _, a := range q.Applications {
		for _, la := range a.Lines {
			if la.Amount.IsZero() {
				continue
			}
			c := base
			l := lines[la.LineID]
			c.Account, c.ServiceName, c.SKU, c.ChargeID = l.Account, l.Product, l.SKU, la.LineID
			if c.Account == "" {
				c.Account = q.Account
			}
			if s := sources[la.LineID]; s != nil {
				c.Account, c.SKU = s.Account, s.SKU
				c.ServiceName, c.ServiceCategory, c.SubAccountName = s.ServiceName, s.ServiceCategory, s.SubAccountName
				c.ProviderName, c.PublisherName, c.InvoiceIssuerName = s.ProviderName, s.PublisherName, s.InvoiceIssuerName
			}
			c.Instrument, c.InstrumentType = a.InstrumentID, a.Type
			c.Amount = la.Amount.Amount()
			c.Exact = c.Amount
			c.Description = fmt.Sprintf("voucherkit: %s %s (%s, rule set %s) on charge %s of bill %s",
				a.Type, excerpt.Show(a.Key), a.Kind, q.RuleSet, excerpt.Show(la.LineID), excerpt.Show(c.BillID))
			out = append(out, c)
		}
	}
	return out
}

func monthStart(t time.Time) time.Time {
	y, m, _ := t.Date()
	return time.Date(y, m, 1, 0, 0, 0, 0, t.Location())
}
