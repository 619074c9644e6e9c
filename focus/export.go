package focus

import (
	"encoding/csv"
	"io"

	"github.com/shopspring/decimal"
)

// ExportColumns are the columns Export writes: the FOCUS 1.0 columns, in the
// specification's (alphabetical) order, then voucherkit's own x_ columns.
var ExportColumns = []string{
	colAvailabilityZone, colBilledCost, colBillingAccountID, colBillingAccountName, colBillingCurrency,
	colBillingPeriodEnd, colBillingPeriodStart, colChargeCategory, colChargeClass, colChargeDescription,
	colChargeFrequency, colChargePeriodEnd, colChargePeriodStart, colCommitmentCategory,
	"CommitmentDiscountId", "CommitmentDiscountName", "CommitmentDiscountStatus", "CommitmentDiscountType",
	"ConsumedQuantity", "ConsumedUnit", colContractedCost, "ContractedUnitPrice", colEffectiveCost,
	colInvoiceIssuerName, colListCost, "ListUnitPrice", "PricingCategory", "PricingQuantity", "PricingUnit",
	colProviderName, colPublisherName, "RegionId", "RegionName", "ResourceId", "ResourceName", "ResourceType",
	colServiceCategory, colServiceName, colSkuID, "SkuPriceId", colSubAccountID, colSubAccountName, "Tags",
	colXInstrumentID, colXInstrumentType, colXRuleSet, colXBillID, colXChargeID,
}

// Writer writes credits as FOCUS Credit rows (CSV, header first): BilledCost is the
// opposite of what the credit paid, and EffectiveCost, ListCost and ContractedCost
// equal it, as FOCUS requires of a charge unrelated to other charges; the charge
// period is the billing period; ChargeFrequency is One-Time. Values a credit does not
// have are NULL, except the ones FOCUS 1.0 does not allow to be null: ServiceCategory
// ("Other"), and ProviderName, PublisherName and InvoiceIssuerName (the credit's rule
// set when it has none).
type Writer struct {
	w      *csv.Writer
	header bool
	rec    []string
	idx    map[string]int
}

// NewWriter returns a Writer on w; call Flush when done.
func NewWriter(w io.Writer) *Writer {
	idx := make(map[string]int, len(ExportColumns))
	for i, c := range ExportColumns {
		idx[c] = i
	}
	return &Writer{w: csv.NewWriter(w), rec: make([]string, len(ExportColumns)), idx: idx}
}

// Write writes one credit (the header before the first).
func (w *Writer) Write(c Credit) error {
	if !w.header {
		w.header = true
		if err := w.w.Write(ExportColumns); err != nil {
			return err
		}
	}
	for i := range w.rec {
		w.rec[i] = nullToken
	}
	cost := c.Amount.Neg()
	if cost.IsZero() {
		cost = decimal.Zero
	}
	set := func(col, v string) {
		if v != "" {
			w.rec[w.idx[col]] = v
		}
	}
	for _, col := range []string{colBilledCost, colEffectiveCost, colListCost, colContractedCost} {
		set(col, cost.String())
	}
	start, end := c.Start.UTC().Format(exportTimeLayout), c.End.UTC().Format(exportTimeLayout)
	set(colBillingAccountID, c.BillingAccountID)
	set(colBillingAccountName, c.BillingAccountName)
	set(colBillingCurrency, c.Currency)
	set(colBillingPeriodStart, start)
	set(colBillingPeriodEnd, end)
	set(colChargePeriodStart, start)
	set(colChargePeriodEnd, end)
	set(colChargeCategory, categoryCredit)
	set(colChargeDescription, c.Description)
	set(colChargeFrequency, exportChargeFrequency)
	set(colServiceName, c.ServiceName)
	set(colServiceCategory, orDefault(c.ServiceCategory, defaultServiceCategory))
	set(colSkuID, c.SKU)
	set(colSubAccountID, c.Account)
	set(colSubAccountName, c.SubAccountName)
	set(colProviderName, orDefault(c.ProviderName, c.RuleSet))
	set(colPublisherName, orDefault(c.PublisherName, orDefault(c.ProviderName, c.RuleSet)))
	set(colInvoiceIssuerName, orDefault(c.InvoiceIssuerName, orDefault(c.ProviderName, c.RuleSet)))
	set(colXInstrumentID, c.Instrument)
	set(colXInstrumentType, c.InstrumentType)
	set(colXRuleSet, c.RuleSet)
	set(colXBillID, c.BillID)
	set(colXChargeID, c.ChargeID)
	return w.w.Write(w.rec)
}

// Flush writes what is buffered and reports any error of the writes.
func (w *Writer) Flush() error {
	w.w.Flush()
	return w.w.Error()
}

// Export writes credits as FOCUS Credit rows (see Writer).
func Export(w io.Writer, credits []Credit) error {
	fw := NewWriter(w)
	for _, c := range credits {
		if err := fw.Write(c); err != nil {
			return err
		}
	}
	return fw.Flush()
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
