package simulate

import (
	"fmt"
	"html/template"
	"io"
	"slices"
	"time"

	"github.com/shopspring/decimal"
	"github.com/voucherkit/voucherkit/internal/excerpt"
	"github.com/voucherkit/voucherkit/voucher"
)

// maxHTMLRows bounds the instrument table of the HTML report (the JSON and CSV have
// every instrument).
const maxHTMLRows = 50

// htmlChart is one chart of the page: its title and SVG (made by go-chart from escaped
// labels, so trusted as HTML).
type htmlChart struct {
	ID     string
	Title  string
	SVG    template.HTML
	Legend []htmlLegend
}

// htmlLegend names a rule set's colour in a bar chart.
type htmlLegend struct {
	Name  string
	Color template.CSS
}

type htmlPage struct {
	R       *Report
	Summary [][]string
	Reasons [][]string
	Charts  []htmlChart
	Changed [][]string
	Insts   []htmlInsts
	Refused [][]string
}

type htmlInsts struct {
	Name  string
	Shown int
	Total int
	Rows  [][]string
}

// WriteHTML writes the report as one self-contained HTML page: its charts are inline
// SVG, its style inline CSS, and it loads nothing (a Content-Security-Policy forbids
// every fetch), so it opens offline.
func (r *Report) WriteHTML(w io.Writer) error {
	p := htmlPage{R: r, Summary: r.summaryRows(), Reasons: r.reasonRows(), Changed: r.changedRows(), Refused: r.refusedRows()}
	names := make([]string, len(r.RuleSets))
	for i, rs := range r.RuleSets {
		names[i] = rs.Name
	}
	add := func(id, title string, svg string, legend []string, err error) error {
		if err != nil || svg == "" {
			return err
		}
		hc := htmlChart{ID: id, Title: title, SVG: template.HTML(svg)} // go-chart's output, from escaped labels
		for i, n := range legend {
			hc.Legend = append(hc.Legend, htmlLegend{Name: n, Color: template.CSS(hexColor(i))})
		}
		p.Charts = append(p.Charts, hc)
		return nil
	}
	svg, err := burnDownChart(r)
	if err := add("burn-down", "Burn-down", svg, names, err); err != nil {
		return err
	}
	svg, err = monthChart("Breakage by month (value expired unused)", r, func(m Month) decimal.Decimal { return m.Breakage })
	if err := add("breakage", "Breakage by month", svg, names, err); err != nil {
		return err
	}
	svg, err = monthChart("Cash by month", r, func(m Month) decimal.Decimal { return m.Cash })
	if err := add("cash", "Cash by month", svg, names, err); err != nil {
		return err
	}
	for i, rs := range r.RuleSets {
		svg, ids, err := instrumentChart(r, rs)
		if err := add(fmt.Sprintf("instruments-%d", i), "Instruments: "+rs.Name, svg, ids, err); err != nil {
			return err
		}
		p.Insts = append(p.Insts, instRows(rs))
	}
	return pageTemplate.Execute(w, p)
}

func (r *Report) money(rs *RuleSetReport, d decimal.Decimal) string {
	return d.StringFixed(rs.Scale)
}

// summaryRows are the totals side by side: a header row, then one row per figure.
func (r *Report) summaryRows() [][]string {
	rows := [][]string{{""}}
	for _, rs := range r.RuleSets {
		rows[0] = append(rows[0], rs.Name)
	}
	add := func(name string, cell func(rs *RuleSetReport) string) {
		row := []string{name}
		for _, rs := range r.RuleSets {
			row = append(row, cell(rs))
		}
		rows = append(rows, row)
	}
	m := func(pick func(rs *RuleSetReport) decimal.Decimal) func(rs *RuleSetReport) string {
		return func(rs *RuleSetReport) string { return r.money(rs, pick(rs)) + " " + rs.Currency }
	}
	add("rule set", func(rs *RuleSetReport) string { return rs.RuleSet })
	add("instruments", func(rs *RuleSetReport) string { return fmt.Sprint(rs.Instruments) })
	add("priced", func(rs *RuleSetReport) string { return fmt.Sprint(rs.Priced) })
	add("refused", func(rs *RuleSetReport) string { return fmt.Sprint(sumCounts(rs.Refused)) })
	add("list", m(func(rs *RuleSetReport) decimal.Decimal { return rs.Totals.List }))
	add("discount", m(func(rs *RuleSetReport) decimal.Decimal { return rs.Totals.Discount }))
	add("deducted", m(func(rs *RuleSetReport) decimal.Decimal { return rs.Totals.Deducted }))
	add("cash", m(func(rs *RuleSetReport) decimal.Decimal { return rs.Totals.Cash }))
	add("invoiceable", m(func(rs *RuleSetReport) decimal.Decimal { return rs.Totals.Invoiceable }))
	add("not invoiceable", m(func(rs *RuleSetReport) decimal.Decimal { return rs.Totals.NonInvoiceable }))
	add("granted", m(func(rs *RuleSetReport) decimal.Decimal { return rs.Granted }))
	add("breakage (expired)", m(func(rs *RuleSetReport) decimal.Decimal { return rs.Breakage }))
	add("forfeited on use", m(func(rs *RuleSetReport) decimal.Decimal { return rs.ForfeitedOnUse }))
	add("unused at the end", m(func(rs *RuleSetReport) decimal.Decimal { return rs.Unused }))
	return rows
}

func sumCounts[K comparable](m map[K]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// reasonRows count the rejections per reason, in the spec's check order.
func (r *Report) reasonRows() [][]string {
	rows := [][]string{{"reason"}}
	for _, rs := range r.RuleSets {
		rows[0] = append(rows[0], rs.Name)
	}
	for _, reason := range voucher.Reasons() {
		row := []string{string(reason)}
		any := false
		for _, rs := range r.RuleSets {
			n := rs.Rejections[reason]
			any = any || n > 0
			row = append(row, fmt.Sprint(n))
		}
		if any {
			rows = append(rows, row)
		}
	}
	for _, reason := range extraReasons(r) {
		row := []string{string(reason)}
		for _, rs := range r.RuleSets {
			row = append(row, fmt.Sprint(rs.Rejections[reason]))
		}
		rows = append(rows, row)
	}
	return rows
}

// extraReasons are reasons a rule set gave that voucher.Reasons does not list (a newer
// engine's, such as not_shared), sorted.
func extraReasons(r *Report) []voucher.Reason {
	known := map[voucher.Reason]bool{}
	for _, x := range voucher.Reasons() {
		known[x] = true
	}
	var out []voucher.Reason
	for _, rs := range r.RuleSets {
		for reason := range rs.Rejections {
			if !known[reason] {
				known[reason] = true
				out = append(out, reason)
			}
		}
	}
	slices.Sort(out)
	return out
}

func (r *Report) changedRows() [][]string {
	if len(r.Changed) == 0 {
		return nil
	}
	rows := [][]string{{"#", "item", "account", "at"}}
	for _, rs := range r.RuleSets {
		rows[0] = append(rows[0], "cash "+rs.Name)
	}
	rows[0] = append(rows[0], "spread")
	loc := r.location()
	for _, c := range r.Changed {
		row := []string{fmt.Sprint(c.Index + 1), excerpt.Show(c.ID), excerpt.Show(c.Account), c.At.In(loc).Format(time.RFC3339)}
		for i, v := range c.Cash {
			cell := "refused"
			if v != nil {
				cell = r.money(r.RuleSets[i], *v)
			}
			row = append(row, cell)
		}
		rows = append(rows, append(row, r.money(r.RuleSets[0], c.Spread)))
	}
	return rows
}

func (r *Report) refusedRows() [][]string {
	var rows [][]string
	for _, rs := range r.RuleSets {
		for _, e := range rs.Examples {
			rows = append(rows, []string{rs.Name, e.Item, e.Pos, e.Code, excerpt.Show(e.Message)})
		}
	}
	return rows
}

func instRows(rs *RuleSetReport) htmlInsts {
	out := htmlInsts{Name: rs.Name, Total: len(rs.BurnDown.Instruments)}
	last := len(rs.BurnDown.Times) - 1
	for _, ib := range largest(rs.BurnDown.Instruments, maxHTMLRows) {
		exp := "never"
		if ib.Expires != nil {
			exp = ib.Expires.Format(time.RFC3339)
		}
		out.Rows = append(out.Rows, []string{excerpt.Show(ib.ID), excerpt.Show(ib.Type), excerpt.Show(ib.Account),
			ib.Opening.String() + " " + ib.Currency, ib.At(last).String() + " " + ib.Currency, exp})
	}
	out.Shown = len(out.Rows)
	return out
}

var pageTemplate = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>voucherkit simulation</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1040px; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; font-variant-numeric: tabular-nums; }
th:first-child, td:first-child { text-align: left; }
figure { margin: 1em 0; } figure svg { width: 100%; height: auto; border: 1px solid #eee; }
.note { color: #666; font-size: 0.9em; }
.key { display: inline-block; width: 0.9em; height: 0.9em; margin-left: 0.8em; vertical-align: middle; }
</style>
</head>
<body>
<h1>voucherkit simulation</h1>
<p>{{.R.Items}} item(s): {{.R.Orders}} order(s), {{.R.Bills}} bill(s), from {{.R.Start.Format "2006-01-02 15:04 MST"}} to {{.R.End.Format "2006-01-02 15:04 MST"}}, balances sampled every {{.R.Sample}} ({{.R.Location}}).</p>
<h2>Totals</h2>
<table id="totals">{{range $i, $row := .Summary}}<tr>{{range $row}}{{if eq $i 0}}<th>{{.}}</th>{{else}}<td>{{.}}</td>{{end}}{{end}}</tr>
{{end}}</table>
<p class="note">Granted = deducted by credits + breakage + forfeited on use + unused at the end.</p>
{{range .Charts}}<figure id="chart-{{.ID}}" class="chart"><figcaption>{{.Title}}{{range .Legend}} <span class="key" style="background: {{.Color}}"></span> {{.Name}}{{end}}</figcaption>
{{.SVG}}
</figure>
{{end}}
<h2>Why instruments did not apply</h2>
{{if gt (len .Reasons) 1}}<table id="reasons">{{range $i, $row := .Reasons}}<tr>{{range $row}}{{if eq $i 0}}<th>{{.}}</th>{{else}}<td>{{.}}</td>{{end}}{{end}}</tr>
{{end}}</table>{{else}}<p>Every instrument considered applied.</p>{{end}}
{{if .Changed}}<h2>Items that changed most between rule sets</h2>
<table id="changed">{{range $i, $row := .Changed}}<tr>{{range $row}}{{if eq $i 0}}<th>{{.}}</th>{{else}}<td>{{.}}</td>{{end}}{{end}}</tr>
{{end}}</table>{{end}}
{{if .Refused}}<h2>Refused items (first examples)</h2>
<table id="refused"><tr><th>rule set</th><th>item</th><th>where</th><th>code</th><th>error</th></tr>
{{range .Refused}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table>{{end}}
{{range .Insts}}<h2>Instruments: {{.Name}}</h2>
<p class="note">The {{.Shown}} largest of {{.Total}} deduction instruments; the JSON and CSV reports list every one.</p>
<table><tr><th>id</th><th>type</th><th>account</th><th>opening</th><th>at the end</th><th>expires</th></tr>
{{range .Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table>
{{end}}
</body>
</html>
`))
