package simulate

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/voucherkit/voucherkit/internal/excerpt"
)

// WriteText writes a summary for people: the totals side by side, the rejection
// counts, the refused items' codes and the items that changed most.
func (r *Report) WriteText(w io.Writer) error {
	loc := r.location()
	fmt.Fprintf(w, "%d item(s): %d order(s), %d bill(s), from %s to %s\n\n", r.Items, r.Orders, r.Bills,
		r.Start.In(loc).Format(time.RFC3339), r.End.In(loc).Format(time.RFC3339))
	writeTable(w, r.summaryRows())
	if rows := r.reasonRows(); len(rows) > 1 {
		fmt.Fprintln(w, "\nwhy instruments did not apply:")
		writeTable(w, rows)
	}
	for _, rs := range r.RuleSets {
		if len(rs.Refused) > 0 {
			fmt.Fprintf(w, "\n%s refused:", rs.Name)
			for _, code := range sortedKeys(rs.Refused) {
				fmt.Fprintf(w, " %s %d", code, rs.Refused[code])
			}
			fmt.Fprintln(w)
			for _, e := range rs.Examples {
				fmt.Fprintf(w, "  %s (%s): %s\n", e.Item, e.Pos, excerpt.Show(e.Message))
			}
		}
		if len(rs.Skipped) > 0 {
			fmt.Fprintf(w, "\n%s left out (type not in this rule set): %s\n", rs.Name, strings.Join(rs.Skipped, ", "))
		}
	}
	if rows := r.changedRows(); len(rows) > 0 {
		fmt.Fprintln(w, "\nchanged most between rule sets:")
		writeTable(w, rows)
	}
	return nil
}

func writeTable(w io.Writer, rows [][]string) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	for _, row := range rows {
		fmt.Fprintln(tw, strings.Join(row, "\t")+"\t")
	}
	tw.Flush()
}

func sortedKeys[K ~string, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// WriteJSON writes the report as indented JSON (amounts as decimal strings).
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// CSVTables are the tables WriteCSV writes, one CSV each.
var CSVTables = []string{"totals", "months", "rejections", "burn_down", "instruments", "changed", "refused"}

// WriteCSV writes one of CSVTables as CSV with a header row: totals (one row per rule
// set), months (per rule set and month), rejections (per rule set and reason),
// burn_down (per rule set, instrument and sample time: every instrument's usable
// balance, "" for the total), instruments (per rule set and instrument), changed (the
// items that changed most, one row per rule set) and refused (per rule set and code).
func (r *Report) WriteCSV(table string, w io.Writer) error {
	cw := csv.NewWriter(w)
	var rows [][]string
	switch table {
	case "totals":
		rows = r.totalsCSV()
	case "months":
		rows = r.monthsCSV()
	case "rejections":
		rows = [][]string{{"rule_set", "reason", "count"}}
		for _, rs := range r.RuleSets {
			for _, reason := range sortedKeys(rs.Rejections) {
				rows = append(rows, []string{rs.Name, string(reason), fmt.Sprint(rs.Rejections[reason])})
			}
		}
	case "burn_down":
		return r.burnDownCSV(cw)
	case "instruments":
		rows = r.instrumentsCSV()
	case "changed":
		rows = r.changedCSV()
	case "refused":
		rows = [][]string{{"rule_set", "code", "count"}}
		for _, rs := range r.RuleSets {
			for _, code := range sortedKeys(rs.Refused) {
				rows = append(rows, []string{rs.Name, code, fmt.Sprint(rs.Refused[code])})
			}
		}
	default:
		return fmt.Errorf("simulate: no CSV table %s; tables: %s", excerpt.Quote(table), strings.Join(CSVTables, ", "))
	}
	if err := cw.WriteAll(rows); err != nil {
		return err
	}
	return cw.Error()
}

func (r *Report) totalsCSV() [][]string {
	rows := [][]string{{"rule_set", "version", "currency", "instruments", "priced", "refused", "list", "discount", "deducted",
		"cash", "invoiceable", "non_invoiceable", "granted", "breakage", "forfeited_on_use", "unused"}}
	for _, rs := range r.RuleSets {
		t := rs.Totals
		rows = append(rows, []string{rs.Name, rs.RuleSet, rs.Currency, fmt.Sprint(rs.Instruments), fmt.Sprint(rs.Priced),
			fmt.Sprint(sumCounts(rs.Refused)), t.List.String(), t.Discount.String(), t.Deducted.String(), t.Cash.String(),
			t.Invoiceable.String(), t.NonInvoiceable.String(), rs.Granted.String(), rs.Breakage.String(),
			rs.ForfeitedOnUse.String(), rs.Unused.String()})
	}
	return rows
}

func (r *Report) monthsCSV() [][]string {
	rows := [][]string{{"rule_set", "month", "list", "discount", "deducted", "cash", "breakage"}}
	for _, rs := range r.RuleSets {
		for _, m := range rs.Months {
			rows = append(rows, []string{rs.Name, m.Month, m.List.String(), m.Discount.String(), m.Deducted.String(),
				m.Cash.String(), m.Breakage.String()})
		}
	}
	return rows
}

// burnDownCSV streams one row per rule set, instrument and sample.
func (r *Report) burnDownCSV(cw *csv.Writer) error {
	if err := cw.Write([]string{"rule_set", "instrument", "at", "balance"}); err != nil {
		return err
	}
	for _, rs := range r.RuleSets {
		bd := &rs.BurnDown
		for k, t := range bd.Times {
			if err := cw.Write([]string{rs.Name, "", t.UTC().Format(time.RFC3339Nano), bd.Total[k].String()}); err != nil {
				return err
			}
		}
		for i := range bd.Instruments {
			ib := &bd.Instruments[i]
			for k, t := range bd.Times {
				if err := cw.Write([]string{rs.Name, ib.ID, t.UTC().Format(time.RFC3339Nano), ib.At(k).String()}); err != nil {
					return err
				}
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

func (r *Report) instrumentsCSV() [][]string {
	rows := [][]string{{"rule_set", "instrument", "type", "account", "currency", "opening", "end", "expires"}}
	for _, rs := range r.RuleSets {
		last := len(rs.BurnDown.Times) - 1
		for _, ib := range rs.BurnDown.Instruments {
			exp := ""
			if ib.Expires != nil {
				exp = ib.Expires.UTC().Format(time.RFC3339Nano)
			}
			rows = append(rows, []string{rs.Name, ib.ID, ib.Type, ib.Account, ib.Currency, ib.Opening.String(), ib.At(last).String(), exp})
		}
	}
	return rows
}

func (r *Report) changedCSV() [][]string {
	rows := [][]string{{"rank", "index", "item", "account", "at", "rule_set", "cash", "spread"}}
	for n, c := range r.Changed {
		for i, v := range c.Cash {
			cash := ""
			if v != nil {
				cash = v.String()
			}
			rows = append(rows, []string{fmt.Sprint(n + 1), fmt.Sprint(c.Index), c.ID, c.Account, c.At.UTC().Format(time.RFC3339Nano),
				r.RuleSets[i].Name, cash, c.Spread.String()})
		}
	}
	return rows
}
