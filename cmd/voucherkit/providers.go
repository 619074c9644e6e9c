package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/voucherkit/voucherkit/providers"
	"github.com/voucherkit/voucherkit/rules"
)

func runProviders(args []string, stdout, stderr io.Writer) int {
	f := newFlags("providers", "[NAME]",
		"Without NAME, lists the built-in rule sets with their version, currency, time zone,\n"+
			"stages and description. With NAME, describes that rule set: its versions (the one in\n"+
			"force at an order's time applies) and what each changes, its stages and instrument\n"+
			"types. With --yaml, prints its YAML instead (a starting point for a rule set of your own).")
	asYAML := f.Bool("yaml", false, "print the rule set's YAML")
	o := newOut(f, stdout, stderr)
	if ok, code := f.parse(args, stdout, stderr); !ok {
		return code
	}
	switch {
	case f.NArg() > 1:
		return o.usageError(f, "at most one NAME")
	case *asYAML && *o.json:
		return o.usageError(f, "--yaml and --json exclude each other")
	case f.NArg() == 0 && *asYAML:
		return o.usageError(f, "--yaml needs a NAME")
	case f.NArg() == 0:
		return listProviders(o)
	case *asYAML:
		src, err := providers.Source(f.Arg(0))
		if err != nil {
			return o.fail(exitFail, "", err)
		}
		stdout.Write(src)
		return exitOK
	}
	rs, err := providers.Load(f.Arg(0))
	if err != nil {
		return o.fail(exitFail, "", err)
	}
	if *o.json {
		o.emit(ruleSetJSON(rs))
		return exitOK
	}
	describe(stdout, rs)
	return exitOK
}

// providerJSON is one rule set in providers --json.
type providerJSON struct {
	Name        string   `json:"name"`
	Versions    []string `json:"versions"`
	Currency    string   `json:"currency"`
	TimeZone    string   `json:"time_zone"`
	Stages      []string `json:"stages"`
	Description string   `json:"description"`
}

func listProviders(o *out) int {
	var all []providerJSON
	for _, name := range providers.Names() {
		rs, err := providers.Load(name)
		if err != nil {
			return o.fail(exitFail, "", err)
		}
		p := providerJSON{Name: rs.Name, Currency: rs.Currency.Code(), TimeZone: rs.TimeZone, Description: rs.Description}
		for _, st := range rs.Stages {
			p.Stages = append(p.Stages, st.Name)
		}
		for _, v := range rs.AllVersions() {
			p.Versions = append(p.Versions, v.Version)
		}
		all = append(all, p)
	}
	if *o.json {
		o.emit(all)
		return exitOK
	}
	tw := tabwriter.NewWriter(o.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVERSIONS\tCURRENCY\tTIME ZONE\tSTAGES\tDESCRIPTION")
	for _, p := range all {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", p.Name, strings.Join(p.Versions, ","), p.Currency, p.TimeZone,
			strings.Join(p.Stages, " > "), p.Description)
	}
	tw.Flush()
	return exitOK
}

// versionJSON is one version of a rule set in providers NAME --json.
type versionJSON struct {
	Version       string     `json:"version"`
	EffectiveFrom *time.Time `json:"effective_from,omitempty"`
	Description   string     `json:"description,omitempty"`
	Stages        []string   `json:"stages"`
	Types         []typeJSON `json:"types"`
}

// typeJSON is one instrument type: its name, stage, kind and facts, as describe says them.
type typeJSON struct {
	Name  string   `json:"name"`
	Stage string   `json:"stage"`
	Kind  string   `json:"kind"`
	Facts []string `json:"facts"`
}

func ruleSetJSON(rs *rules.RuleSet) map[string]any {
	var versions []versionJSON
	for _, v := range rs.AllVersions() {
		vj := versionJSON{Version: v.Version, EffectiveFrom: v.EffectiveFrom, Description: v.Description}
		for _, st := range v.Stages {
			vj.Stages = append(vj.Stages, st.Name)
		}
		for i := range v.Types {
			t := &v.Types[i]
			vj.Types = append(vj.Types, typeJSON{Name: t.Name, Stage: t.Stage, Kind: t.Kind.String(), Facts: typeFacts(t)})
		}
		versions = append(versions, vj)
	}
	return map[string]any{"name": rs.Name, "top_level_version": rs.Version, "description": rs.Description,
		"currency": rs.Currency.Code(), "scale": rs.Currency.Scale(), "time_zone": rs.TimeZone,
		"rounding": rs.Rounding, "never_covers": rs.NeverCovers, "versions": versions}
}

// describe writes a rule set for people: identity, versions with what each changes,
// stages and types.
func describe(w io.Writer, rs *rules.RuleSet) {
	fmt.Fprintf(w, "%s: %s\n", rs.Name, rs.Description)
	fmt.Fprintf(w, "currency %s (scale %d), time zone %s, rounding %s\n", rs.Currency.Code(), rs.Currency.Scale(), rs.TimeZone, rs.Rounding)
	all := rs.AllVersions()
	fmt.Fprintf(w, "\nversions (an order is priced by the one in force at its time):\n")
	for i, v := range all {
		from := "the beginning"
		if v.EffectiveFrom != nil {
			from = v.EffectiveFrom.Format(time.RFC3339)
		}
		until := ""
		if i+1 < len(all) && all[i+1].EffectiveFrom != nil {
			until = ", until " + all[i+1].EffectiveFrom.Format(time.RFC3339)
		}
		marker := ""
		if v == rs {
			marker = "  [top level]"
		}
		fmt.Fprintf(w, "  %s: from %s%s%s\n", v.Version, from, until, marker)
		if v != rs {
			if v.Description != rs.Description {
				fmt.Fprintf(w, "    %s\n", v.Description)
			}
			for _, d := range versionDiff(rs, v) {
				fmt.Fprintf(w, "    differs: %s\n", d)
			}
		}
	}
	stages := make([]string, len(rs.Stages))
	for i, st := range rs.Stages {
		stages[i] = fmt.Sprintf("%s (%s)", st.Name, st.Kind)
	}
	fmt.Fprintf(w, "\nstages (version %s): %s\n", rs.Version, strings.Join(stages, " > "))
	if len(rs.NeverCovers) > 0 {
		fmt.Fprintf(w, "never covers: %s\n", strings.Join(rs.NeverCovers, ", "))
	}
	fmt.Fprintln(w, "\ntypes:")
	for i := range rs.Types {
		t := &rs.Types[i]
		fmt.Fprintf(w, "  %s (%s, stage %s)\n", t.Name, t.Kind, t.Stage)
		for _, line := range typeFacts(t) {
			fmt.Fprintf(w, "    %s\n", line)
		}
	}
	fmt.Fprintf(w, "\nThe YAML: voucherkit providers --yaml %s\n", rs.Name)
}

// typeFacts lists what a type says, one fact a line, in a fixed order.
func typeFacts(t *rules.InstrumentType) []string {
	limit := "no per-order limit"
	if t.PerOrderLimit > 0 {
		limit = fmt.Sprintf("%d per order", t.PerOrderLimit)
	}
	facts := []string{limit}
	if t.TypedCode {
		facts = append(facts, "typed in as a code, never selected automatically")
	}
	sel := make([]string, len(t.Selection))
	for i, k := range t.Selection {
		sel[i] = string(k)
	}
	ots := make([]string, len(t.OrderTypes))
	for i, o := range t.OrderTypes {
		ots[i] = string(o)
	}
	pts := make([]string, len(t.PaymentTypes))
	for i, p := range t.PaymentTypes {
		pts[i] = string(p)
	}
	facts = append(facts,
		"selection "+strings.Join(sel, " > "),
		"allocation "+string(t.Allocation),
		"order types "+strings.Join(ots, ", "),
		"payment types "+strings.Join(pts, ", "),
		fmt.Sprintf("first purchase only: %t", t.FirstPurchaseOnly))
	if t.ValidityAfterClaim > 0 {
		facts = append(facts, fmt.Sprintf("valid %s after claim", days(t.ValidityAfterClaim)))
	}
	if t.EffectiveOnActivation {
		facts = append(facts, "effective from activation")
	}
	facts = append(facts, fmt.Sprintf("invoiceable: %t", t.Invoiceable))
	if t.Kind.String() == "deduction" {
		facts = append(facts, fmt.Sprintf("carry over: %t", t.CarryOver), "refund: "+string(t.Refund))
	}
	if len(t.NeverCovers) > 0 {
		facts = append(facts, "never covers "+strings.Join(t.NeverCovers, ", "))
	}
	return facts
}

func days(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	}
	return d.String()
}

// versionDiff lists the facts of v's types that differ from top's.
func versionDiff(top, v *rules.RuleSet) []string {
	var out []string
	for i := range v.Types {
		vt := &v.Types[i]
		tt, ok := top.Type(vt.Name)
		if !ok {
			out = append(out, "type "+vt.Name+" exists only in this version")
			continue
		}
		vf, tf := typeFacts(vt), typeFacts(tt)
		for k := range vf {
			if k >= len(tf) || vf[k] != tf[k] {
				out = append(out, vt.Name+": "+vf[k])
			}
		}
	}
	for i := range top.Types {
		if _, ok := v.Type(top.Types[i].Name); !ok {
			out = append(out, "no type "+top.Types[i].Name)
		}
	}
	if strings.Join(v.NeverCovers, ",") != strings.Join(top.NeverCovers, ",") {
		out = append(out, "never covers "+strings.Join(v.NeverCovers, ", "))
	}
	return out
}
