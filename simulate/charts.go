package simulate

import (
	"bytes"
	"cmp"
	"fmt"
	"html"
	"slices"
	"time"

	"github.com/shopspring/decimal"
	"github.com/voucherkit/voucherkit/internal/excerpt"
	chart "github.com/wcharczuk/go-chart/v2"
	"github.com/wcharczuk/go-chart/v2/drawing"
)

// Charts are drawn with go-chart, which writes SVG. Its text is written into the SVG
// as it is given, unescaped: every label that comes from input (rule set names,
// instrument ids, months) goes through label first. Figures are exact decimals
// everywhere in the report; only here, to place points on a chart, are they turned
// into float64 coordinates, and every number a chart shows is in a table beside it.

const (
	chartWidth  = 960
	chartHeight = 320
	// maxBars is the most bars a bar chart draws; beyond, months are drawn as lines.
	maxBars = 48
	// topInstruments is how many instruments a rule set's instrument chart draws.
	topInstruments = 8
)

// palette colours the rule sets (and instruments) in order.
var palette = []drawing.Color{
	{R: 0x1f, G: 0x77, B: 0xb4, A: 255}, {R: 0xff, G: 0x7f, B: 0x0e, A: 255}, {R: 0x2c, G: 0xa0, B: 0x2c, A: 255},
	{R: 0xd6, G: 0x27, B: 0x28, A: 255}, {R: 0x94, G: 0x67, B: 0xbd, A: 255}, {R: 0x8c, G: 0x56, B: 0x4b, A: 255},
	{R: 0xe3, G: 0x77, B: 0xc2, A: 255}, {R: 0x7f, G: 0x7f, B: 0x7f, A: 255},
}

func color(i int) drawing.Color { return palette[i%len(palette)] }

// dashes tell lines that lie on one another apart: solid, dashed, dotted.
var dashes = [][]float64{nil, {8, 5}, {2, 4}}

// hexColor is colour i as CSS.
func hexColor(i int) string {
	c := color(i)
	return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B)
}

// label makes input text safe to hand to go-chart: bounded, escaped for control
// characters (excerpt.Show) and for SVG markup.
func label(s string) string { return html.EscapeString(excerpt.Show(s)) }

func float(d decimal.Decimal) float64 { return d.InexactFloat64() }

// series is one named line over times.
type series struct {
	name   string
	times  []time.Time
	values []decimal.Decimal
}

// lineChart draws series over time as an SVG, series i in colour i (the page's legend
// names them); a series of fewer than two points is left out, and with none left it
// returns "".
func lineChart(title string, loc *time.Location, ss []series) (string, error) {
	c := chart.Chart{Title: label(title), Width: chartWidth, Height: chartHeight,
		Background: chart.Style{Padding: chart.Box{Top: 40, Left: 10, Right: 10, Bottom: 10}},
		XAxis: chart.XAxis{ValueFormatter: func(v any) string {
			f, _ := v.(float64)
			return chart.TimeFromFloat64(f).In(loc).Format("2006-01-02")
		}}}
	hi := 0.0
	for i, s := range ss {
		if len(s.times) < 2 {
			continue
		}
		ts := chart.TimeSeries{Name: label(s.name), XValues: s.times, YValues: make([]float64, len(s.values)),
			Style: chart.Style{StrokeColor: color(i), StrokeWidth: 2, StrokeDashArray: dashes[i%len(dashes)]}}
		for k, v := range s.values {
			ts.YValues[k] = float(v)
			hi = max(hi, ts.YValues[k])
		}
		c.Series = append(c.Series, ts)
	}
	if len(c.Series) == 0 {
		return "", nil
	}
	c.YAxis = chart.YAxis{Range: &chart.ContinuousRange{Min: 0, Max: niceMax(hi)}}
	c.YAxisSecondary = chart.YAxis{Style: chart.Hidden()} // no series uses it
	var b bytes.Buffer
	if err := c.Render(chart.SVG, &b); err != nil {
		return "", fmt.Errorf("simulate: chart %s: %w", excerpt.Quote(title), err)
	}
	return b.String(), nil
}

// bar is one bar of a bar chart.
type bar struct {
	label string
	value decimal.Decimal
	color int
}

// barChart draws bars as an SVG ("" for none).
func barChart(title string, bars []bar) (string, error) {
	if len(bars) == 0 {
		return "", nil
	}
	width := max(chartWidth, 120+len(bars)*24)
	c := chart.BarChart{Title: label(title), Width: width, Height: chartHeight,
		BarWidth: min(80, (width-120)/len(bars)-12), BarSpacing: 12,
		Background: chart.Style{Padding: chart.Box{Top: 40, Left: 10, Right: 10, Bottom: 20}}}
	hi := 0.0
	for _, b := range bars {
		v := float(b.value)
		hi = max(hi, v)
		c.Bars = append(c.Bars, chart.Value{Label: label(b.label), Value: v,
			Style: chart.Style{FillColor: color(b.color), StrokeColor: color(b.color)}})
	}
	c.YAxis = chart.YAxis{Range: &chart.ContinuousRange{Min: 0, Max: niceMax(hi)}}
	var b bytes.Buffer
	if err := c.Render(chart.SVG, &b); err != nil {
		return "", fmt.Errorf("simulate: chart %s: %w", excerpt.Quote(title), err)
	}
	return b.String(), nil
}

// niceMax is a y-axis top above hi (1 when everything is zero, so the range is never
// empty).
func niceMax(hi float64) float64 {
	if hi <= 0 {
		return 1
	}
	return hi * 1.1
}

// monthChart draws one figure per month and rule set: bars (grouped by month, each
// rule set in its colour: the page's legend names them) while they fit, else one line
// per rule set.
func monthChart(title string, r *Report, pick func(Month) decimal.Decimal) (string, error) {
	months := allMonths(r)
	if len(months)*len(r.RuleSets) <= maxBars {
		var bars []bar
		for _, m := range months {
			for i, rs := range r.RuleSets {
				bars = append(bars, bar{label: m, value: pick(monthOf(rs, m)), color: i})
			}
		}
		return barChart(title, bars)
	}
	loc := r.location()
	var ss []series
	for _, rs := range r.RuleSets {
		s := series{name: rs.Name}
		for _, m := range months {
			t, _ := time.ParseInLocation("2006-01", m, loc)
			s.times, s.values = append(s.times, t), append(s.values, pick(monthOf(rs, m)))
		}
		ss = append(ss, s)
	}
	return lineChart(title, loc, ss)
}

// allMonths is every month any rule set has, sorted.
func allMonths(r *Report) []string {
	var ms []string
	for _, rs := range r.RuleSets {
		for _, m := range rs.Months {
			if !slices.Contains(ms, m.Month) {
				ms = append(ms, m.Month)
			}
		}
	}
	slices.Sort(ms)
	return ms
}

func monthOf(rs *RuleSetReport, m string) Month {
	for _, x := range rs.Months {
		if x.Month == m {
			return x
		}
	}
	return Month{Month: m}
}

// burnDownChart draws every rule set's total usable balance over time.
func burnDownChart(r *Report) (string, error) {
	var ss []series
	for _, rs := range r.RuleSets {
		ss = append(ss, series{name: rs.Name, times: rs.BurnDown.Times, values: rs.BurnDown.Total})
	}
	return lineChart("Remaining balance of all instruments (burn-down)", r.location(), ss)
}

// instrumentChart draws the balances of a rule set's largest instruments, and returns
// their ids in colour order.
func instrumentChart(r *Report, rs *RuleSetReport) (string, []string, error) {
	var ss []series
	var ids []string
	for _, ib := range largest(rs.BurnDown.Instruments, topInstruments) {
		s := series{name: ib.ID, times: rs.BurnDown.Times}
		for k := range rs.BurnDown.Times {
			s.values = append(s.values, ib.At(k))
		}
		ss = append(ss, s)
		ids = append(ids, ib.ID)
	}
	svg, err := lineChart(fmt.Sprintf("%s: the %d largest instruments", rs.Name, len(ss)), r.location(), ss)
	return svg, ids, err
}

// largest returns up to n instruments with the largest opening balance (ties by id).
func largest(insts []InstrumentBurn, n int) []InstrumentBurn {
	out := slices.Clone(insts)
	slices.SortFunc(out, func(a, b InstrumentBurn) int {
		return cmp.Or(b.Opening.Cmp(a.Opening), cmp.Compare(a.ID, b.ID))
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}

func (r *Report) location() *time.Location {
	if r.loc != nil {
		return r.loc
	}
	if loc, err := time.LoadLocation(r.Location); err == nil {
		return loc
	}
	return time.UTC
}
