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
	f := newFlags("providers", "[--yaml] [NAME]",
		"Without NAME, lists the built-in rule sets with their version, currency, time zone,\n"+
			"stages and description. With NAME, describes that rule set: its versions (the one in\n"+
			"force at an order's time applies) and what each changes, its stages and instrument\n"+
			"types. With --yaml, prints its YAML instead (a starting point for a rule set of your own).")
	asYAML := f.Bool("yaml", false, "print the rule set's YAML")
	if ok, code := f.parse(args, stdout, stderr); !ok {
		return code
	}
	switch f.NArg() {
	case 0:
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tVERSIONS\tCURRENCY\tTIME ZONE\tSTAGES\tDESCRIPTION")
		for _, name := range providers.Names() {
			rs, err := providers.Load(name)
			if err != nil {
				fmt.Fprintf(stderr, "voucherkit providers: %v\n", err)
				return exitFail
			}
			stages := make([]string, len(rs.Stages))
			for i, st := range rs.Stages {
				stages[i] = st.Name
			}
			var vs []string
			for _, v := range rs.AllVersions() {
				vs = append(vs, v.Version)
			}
			version := strings.Join(vs, ",")
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", rs.Name, version, rs.Currency.Code(), rs.TimeZone,
				strings.Join(stages, " > "), rs.Description)
		}
		tw.Flush()
		return exitOK
	case 1:
		name := f.Arg(0)
		if *asYAML {
			src, err := providers.Source(name)
			if err != nil {
				fmt.Fprintf(stderr, "voucherkit providers: %v\n", err)
				return exitFail
			}
			stdout.Write(src)
			return exitOK
		}
		rs, err := providers.Load(name)
		if err != nil {
			fmt.Fprintf(stderr, "voucherkit providers: %v\n", err)
			return exitFail
		}
		describe(stdout, rs)
		return exitOK
	}
	fmt.Fprintln(stderr, "voucherkit providers: at most one NAME")
	f.usage(stderr)
	return exitInvalid
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
		if !v.EffectiveFrom.IsZero() {
			from = v.EffectiveFrom.Format(time.RFC3339)
		}
		until := ""
		if i+1 < len(all) {
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
