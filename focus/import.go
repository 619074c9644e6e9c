package focus

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"github.com/voucherkit/voucherkit/internal/excerpt"
	"github.com/voucherkit/voucherkit/rules"
	"github.com/voucherkit/voucherkit/voucher"
)

// Options configures Import.
type Options struct {
	// RuleSet gives the currency every kept row must be billed in, and the scale and
	// rounding of each charge. Nil: each bill's BillingCurrency at its ISO scale,
	// rounded half away from zero.
	RuleSet *rules.RuleSet
	// Mapping names each row's product and which providers' rows are read. Nil: every
	// provider's rows, each ServiceName its own product.
	Mapping *Mapping
	// Providers, when given, replaces the mapping's ProviderNames: only rows whose
	// provider (ProviderName; in FOCUS 1.3 and later HostProviderName or
	// ServiceProviderName) is one of these are read, compared without regard to case.
	Providers []string
	// Payers names the payer account of a billing account's organization (billing
	// account id → account), and Payer that of every other one. A FOCUS file does not
	// say which account pays; without either the payer is the billing account itself.
	Payers map[string]string
	Payer  string
	// Organizations replace the default organization of the billing account whose id
	// is theirs; every account with a row on that billing account must be in it.
	Organizations []voucher.Organization
}

// Result is what Import read.
type Result struct {
	// Bills, one per billing account and billing period, by period then billing account.
	Bills []*Bill
	// Organizations, one per billing account, in the order of Bills.
	Organizations []voucher.Organization
	// Credits are the credits the provider applied (Credit rows), in the order they
	// first appear.
	Credits []Credit
	Rows    Rows
}

// Rows counts what the import did with the rows it read.
type Rows struct {
	// Read is every data row.
	Read int `json:"read"`
	// Charges is the Usage and Purchase rows summed into charges; Credits the Credit rows.
	Charges int `json:"charges"`
	Credits int `json:"credits"`
	// Skipped counts the rows left out, by why: "provider Microsoft" (another
	// provider's row), "category Tax", "category Adjustment".
	Skipped map[string]int `json:"skipped,omitempty"`
}

// Bill is one billing account's bill for one billing period: the voucher.Bill a wallet
// settles, and where each charge came from.
type Bill struct {
	voucher.Bill
	BillingAccountID   string
	BillingAccountName string
	Currency           voucher.Currency
	// Sources are the charges of Bill, in the same order, with what they were summed
	// from; Adjustments are the sums that came out below zero after rounding (refunds
	// and corrections), which are no charge a credit pays and are not in Bill.Charges.
	Sources     []ChargeSource
	Adjustments []ChargeSource
	// Accounts are the totals per account (SubAccountId), in the order each first
	// appears: BilledCost summed at full precision, and the sum of its rounded charges
	// and adjustments.
	Accounts []AccountTotal
}

// ChargeSource is one charge: the BilledCost of the Usage and Purchase rows of one
// account, product and SKU in a bill, summed at full precision and rounded once.
type ChargeSource struct {
	// ID is the charge's line id in the bill: "c1", "c2", ... in the order the first row
	// of each appears.
	ID      string
	Account string
	Product string
	SKU     string
	// ServiceName, ServiceCategory, ProviderName, PublisherName and InvoiceIssuerName
	// are those of its first row.
	ServiceName, ServiceCategory, ProviderName, PublisherName, InvoiceIssuerName, SubAccountName string
	// Exact is the sum of BilledCost; Amount is Exact rounded to the scale.
	Exact  decimal.Decimal
	Amount decimal.Decimal
	// IncurredAt is the earliest ChargePeriodStart of its rows, within the billing period
	// (one before the period's start is read as its start, one after it as its last instant).
	IncurredAt time.Time
	Rows       int
}

// AccountTotal is one account's BilledCost on a bill.
type AccountTotal struct {
	Account string
	Exact   decimal.Decimal
	Rounded decimal.Decimal
}

// RoundingDifference is the rounded charges (and adjustments) less the exact BilledCost.
func (b *Bill) RoundingDifference() decimal.Decimal {
	var d decimal.Decimal
	for _, a := range b.Accounts {
		d = d.Add(a.Rounded.Sub(a.Exact))
	}
	return d
}

// RoundingDifference is the rounded charges of every bill less their exact BilledCost.
func (r *Result) RoundingDifference() decimal.Decimal {
	var d decimal.Decimal
	for _, b := range r.Bills {
		d = d.Add(b.RoundingDifference())
	}
	return d
}

// Import reads a FOCUS export (1.0 and later) as CSV with a header row, by column name;
// columns it does not use, x_ extensions among them, are ignored. Usage and Purchase
// rows become charges, summed per billing account, billing period, account
// (SubAccountId, or the billing account for a row with none), product and SKU; Credit
// rows become the credits the provider applied; Tax and Adjustment rows, and rows of
// providers not read, are counted and left out. It streams: it keeps one running sum per
// charge and per credit, never a row. It returns everything or an error: a malformed
// row is a *RowError naming the row, its line, the column and an excerpt of the value.
func Import(r io.Reader, opts Options) (*Result, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	names, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: the file is empty: a FOCUS CSV starts with a header row", ErrInvalid)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: header (line 1): %v", ErrInvalid, err)
	}
	h, err := newHeader(names)
	if err != nil {
		return nil, err
	}
	cr.FieldsPerRecord = h.n
	im := newImporter(opts)
	for n := 1; ; n++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line := 0
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line, err = pe.StartLine, pe.Err
			}
			return nil, &RowError{Row: n, Line: line, Problem: "is not valid CSV: " + err.Error()}
		}
		line, _ := cr.FieldPos(0)
		if err := im.add(&row{h: h, fields: rec, num: n, line: line}); err != nil {
			return nil, err
		}
	}
	return im.result()
}

// maxSkipReasons bounds the distinct reasons Rows.Skipped counts; the rest are counted
// under one "provider (others)".
const maxSkipReasons = 64

type billKey struct {
	billing string
	start   int64
}

type chargeKey struct{ account, product, sku string }

type creditKey struct {
	billing                                string
	start                                  int64
	account, service, sku, instrument, cid string
}

// billAcc is a bill being summed.
type billAcc struct {
	billing, billingName string
	start, end           time.Time
	currency             voucher.Currency
	firstRow             int
	charges              map[chargeKey]*ChargeSource
	order                []*ChargeSource
}

type importer struct {
	opts      Options
	mapping   *Mapping
	providers []string
	bills     map[billKey]*billAcc
	billOrder []*billAcc
	credits   map[creditKey]*Credit
	creditOrd []*Credit
	// billingOf is the billing account each account was first seen under.
	billingOf map[string]string
	rows      Rows
}

func newImporter(opts Options) *importer {
	m := opts.Mapping
	if m == nil {
		m = &Mapping{}
	}
	providers := opts.Providers
	if len(providers) == 0 {
		providers = m.ProviderNames
	}
	return &importer{opts: opts, mapping: m, providers: providers, bills: map[billKey]*billAcc{},
		credits: map[creditKey]*Credit{}, billingOf: map[string]string{}, rows: Rows{Skipped: map[string]int{}}}
}

func (im *importer) skip(reason string) {
	if _, ok := im.rows.Skipped[reason]; !ok && len(im.rows.Skipped) >= maxSkipReasons {
		reason = "provider (others)"
	}
	im.rows.Skipped[reason]++
}

// readsProvider reports whether rows of provider p are read.
func (im *importer) readsProvider(p string) bool {
	if len(im.providers) == 0 {
		return true
	}
	for _, x := range im.providers {
		if strings.EqualFold(x, p) {
			return true
		}
	}
	return false
}

// add reads one row.
func (im *importer) add(r *row) error {
	im.rows.Read++
	cat, err := r.oneOf(colChargeCategory, categoryUsage, categoryPurchase, categoryCredit, categoryTax, categoryAdjustment)
	if err != nil {
		return err
	}
	if cat == "" {
		return r.errorf(colChargeCategory, nullToken, "must not be null")
	}
	provider, err := r.first(providerColumns)
	if err != nil {
		return err
	}
	if !im.readsProvider(provider) {
		im.skip("provider " + excerpt.Show(provider))
		return nil
	}
	if cat == categoryTax || cat == categoryAdjustment {
		im.skip("category " + cat)
		return nil
	}
	c, err := readCommon(r)
	if err != nil {
		return err
	}
	c.provider = provider
	b, err := im.bill(r, c)
	if err != nil {
		return err
	}
	if cat == categoryCredit {
		im.rows.Credits++
		return im.credit(r, b, c)
	}
	im.rows.Charges++
	return im.charge(r, b, c, cat)
}

// common is what every kept row gives.
type common struct {
	billing, billingName, currency string
	start, end, chargeStart        time.Time
	cost                           decimal.Decimal
	account, accountName           string
	service, serviceCategory, sku  string
	provider, publisher, issuer    string
}

func readCommon(r *row) (*common, error) {
	var c common
	var errs [16]error
	c.billing, errs[0] = r.must(colBillingAccountID)
	c.billingName, errs[1] = r.text(colBillingAccountName)
	c.currency, errs[2] = r.must(colBillingCurrency)
	c.start, errs[3] = r.time(colBillingPeriodStart)
	c.end, errs[4] = r.time(colBillingPeriodEnd)
	c.chargeStart, errs[5] = r.time(colChargePeriodStart)
	c.cost, errs[6] = r.decimal(colBilledCost)
	c.account, errs[7] = r.text(colSubAccountID)
	c.accountName, errs[8] = r.text(colSubAccountName)
	c.service, errs[9] = r.must(colServiceName)
	c.serviceCategory, errs[10] = r.text(colServiceCategory)
	c.sku, errs[11] = r.text(colSkuID)
	c.publisher, errs[12] = r.first(sellerColumns)
	c.issuer, errs[13] = r.text(colInvoiceIssuerName)
	if err := firstError(errs[:]); err != nil {
		return nil, err // the first problem, in the order the columns are read above
	}
	if c.account == "" {
		c.account = c.billing // FOCUS: a charge of no sub account is the billing account's
	}
	if !c.end.After(c.start) {
		return nil, r.errorf(colBillingPeriodEnd, c.end.Format(exportTimeLayout), "is not after BillingPeriodStart %s", c.start.Format(exportTimeLayout))
	}
	return &c, nil
}

// bill returns the bill of the row's billing account and period, checking that its
// rows agree on the period's end and the currency, and that an account stays under one
// billing account.
func (im *importer) bill(r *row, c *common) (*billAcc, error) {
	k := billKey{c.billing, c.start.UnixNano()}
	b, ok := im.bills[k]
	if !ok {
		cur, err := im.currency(r, c.currency)
		if err != nil {
			return nil, err
		}
		b = &billAcc{billing: strings.Clone(c.billing), billingName: strings.Clone(c.billingName), start: c.start, end: c.end,
			currency: cur, firstRow: r.num, charges: map[chargeKey]*ChargeSource{}}
		im.bills[k] = b
		im.billOrder = append(im.billOrder, b)
	}
	if !c.end.Equal(b.end) {
		return nil, r.errorf(colBillingPeriodEnd, c.end.Format(exportTimeLayout), "differs from row %d's %s for the same billing account and BillingPeriodStart",
			b.firstRow, b.end.Format(exportTimeLayout))
	}
	if c.currency != b.currency.Code() {
		return nil, r.errorf(colBillingCurrency, c.currency, "differs from row %d's %s for the same billing account and period", b.firstRow, b.currency.Code())
	}
	switch other, seen := im.billingOf[c.account]; {
	case !seen:
		im.billingOf[strings.Clone(c.account)] = b.billing
	case other != c.billing:
		return nil, r.errorf(colSubAccountID, c.account, "is also under billing account %s: an account is in one organization", excerpt.Quote(other))
	}
	return b, nil
}

// currency is the currency of a new bill: the rule set's (which the row must be billed
// in), or the row's at its ISO scale.
func (im *importer) currency(r *row, code string) (voucher.Currency, error) {
	if rs := im.opts.RuleSet; rs != nil {
		if code != rs.Currency.Code() {
			return voucher.Currency{}, r.errorf(colBillingCurrency, code, "is not the rule set's currency %s", rs.Currency.Code())
		}
		return rs.Currency, nil
	}
	cur, err := voucher.LookupCurrency(code)
	if err != nil {
		return voucher.Currency{}, r.errorf(colBillingCurrency, code, "is not an ISO 4217 currency code voucherkit knows the scale of")
	}
	return cur, nil
}

// charge adds a Usage or Purchase row to its charge.
func (im *importer) charge(r *row, b *billAcc, c *common, cat string) error {
	rp := rowProduct{service: c.service, publisher: c.publisher, issuer: c.issuer}
	if cat == categoryPurchase {
		freq, err := r.oneOf(colChargeFrequency, frequencyOneTime, "Recurring", "Usage-Based")
		if err != nil {
			return err
		}
		if freq == frequencyOneTime {
			if rp.upfrontCategory, err = r.oneOf(colCommitmentCategory, "Spend", "Usage"); err != nil {
				return err
			}
		}
	}
	k := chargeKey{c.account, im.mapping.product(rp), c.sku}
	cs, ok := b.charges[k]
	if !ok {
		k = chargeKey{strings.Clone(k.account), strings.Clone(k.product), strings.Clone(k.sku)}
		cs = &ChargeSource{ID: fmt.Sprintf("c%d", len(b.order)+1), Account: k.account, Product: k.product, SKU: k.sku,
			ServiceName: strings.Clone(c.service), ServiceCategory: strings.Clone(c.serviceCategory),
			ProviderName: strings.Clone(c.provider), PublisherName: strings.Clone(c.publisher),
			InvoiceIssuerName: strings.Clone(c.issuer), SubAccountName: strings.Clone(c.accountName),
			IncurredAt: c.chargeStart}
		b.charges[k] = cs
		b.order = append(b.order, cs)
	}
	cs.Exact = cs.Exact.Add(c.cost)
	cs.Rows++
	if c.chargeStart.Before(cs.IncurredAt) {
		cs.IncurredAt = c.chargeStart
	}
	return nil
}

// credit adds a Credit row to its credit.
func (im *importer) credit(r *row, b *billAcc, c *common) error {
	var x [6]string
	var errs [6]error
	x[0], errs[0] = r.text(colXInstrumentID)
	x[1], errs[1] = r.text(colXInstrumentType)
	x[2], errs[2] = r.text(colXRuleSet)
	x[3], errs[3] = r.text(colXBillID)
	x[4], errs[4] = r.text(colXChargeID)
	x[5], errs[5] = r.text(colChargeDescription)
	if err := firstError(errs[:]); err != nil {
		return err
	}
	k := creditKey{b.billing, b.start.UnixNano(), c.account, c.service, c.sku, x[0], x[4]}
	cr, ok := im.credits[k]
	if !ok {
		cr = &Credit{BillingAccountID: b.billing, BillingAccountName: b.billingName, Start: b.start, End: b.end,
			Currency: b.currency.Code(), Account: strings.Clone(c.account), SubAccountName: strings.Clone(c.accountName),
			ServiceName: strings.Clone(c.service), ServiceCategory: strings.Clone(c.serviceCategory), SKU: strings.Clone(c.sku),
			Instrument: strings.Clone(x[0]), InstrumentType: strings.Clone(x[1]), RuleSet: strings.Clone(x[2]),
			BillID: strings.Clone(x[3]), ChargeID: strings.Clone(x[4]), Description: strings.Clone(x[5]),
			ProviderName: strings.Clone(c.provider), PublisherName: strings.Clone(c.publisher), InvoiceIssuerName: strings.Clone(c.issuer)}
		k = creditKey{k.billing, k.start, cr.Account, cr.ServiceName, cr.SKU, cr.Instrument, cr.ChargeID}
		im.credits[k] = cr
		im.creditOrd = append(im.creditOrd, cr)
	}
	cr.Exact = cr.Exact.Sub(c.cost) // a credit's BilledCost is negative: what it paid is its opposite
	cr.Rows++
	return nil
}

// firstError returns the first error that is not nil.
func firstError(errs []error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
