package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/voucherkit/voucherkit/focus"
	"github.com/voucherkit/voucherkit/providers"
	"github.com/voucherkit/voucherkit/rules"
	"github.com/voucherkit/voucherkit/scenario"
	"github.com/voucherkit/voucherkit/voucher"
)

// focusFlags are the flags of reconcile and simulate that say how a FOCUS file is read.
type focusFlags struct {
	mapping, providerNames, payer, org *string
}

func addFocusFlags(f *flags) *focusFlags {
	return &focusFlags{
		mapping:       f.String("mapping", "", "FOCUS mapping: `NAME|FILE` of a built-in rule set or of a mapping YAML file (default: the rule set's built-in one, if any)"),
		providerNames: f.String("provider-name", "", "read only the FOCUS rows of these `PROVIDERS` (ProviderName, comma-separated; default: the mapping's)"),
		payer:         f.String("payer", "", "the payer `ACCOUNT` of the billing account's organization, or BILLING=ACCOUNT,... (default: the billing account)"),
		org:           f.String("org", "", "organizations `FILE`: a YAML list as in a scenario's organizations; one whose id is a billing account's replaces its default"),
	}
}

// mappingFor returns the mapping --mapping names, or rs's built-in one.
func (ff *focusFlags) mappingFor(rs *rules.RuleSet) (*focus.Mapping, error) {
	name := *ff.mapping
	if name == "" {
		return focus.MappingFor(rs.Name)
	}
	if _, ok := providers.FocusMapping(name); ok {
		return focus.LoadMapping(name)
	}
	data, err := providers.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("--mapping: %v", err)
	}
	return focus.ParseMapping(name, data)
}

// options returns the import options of rs.
func (ff *focusFlags) options(rs *rules.RuleSet, m *focus.Mapping) (focus.Options, error) {
	opts := focus.Options{RuleSet: rs, Mapping: m}
	if *ff.providerNames != "" {
		opts.Providers = splitList(*ff.providerNames)
	}
	if *ff.payer != "" {
		opts.Payers = map[string]string{}
		for _, p := range splitList(*ff.payer) {
			if billing, account, ok := strings.Cut(p, "="); ok {
				opts.Payers[billing] = account
			} else {
				opts.Payer = p
			}
		}
	}
	if *ff.org != "" {
		orgs, err := readOrgs(*ff.org, rs)
		if err != nil {
			return opts, err
		}
		opts.Organizations = orgs
	}
	return opts, nil
}

// importFile imports the FOCUS file at path (standard input for "-").
func importFile(path string, opts focus.Options) (*focus.Result, error) {
	r, closeFn, err := openInput(path)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	return focus.Import(r, opts)
}

// openInput opens a data file (a FOCUS export, an order stream): a regular file of any
// size, read as a stream, or standard input for "-".
func openInput(path string) (io.Reader, func(), error) {
	if path == "-" {
		return os.Stdin, func() {}, nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("%s is not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	return f, func() { f.Close() }, nil
}

// readOrgs reads an organizations file: a YAML list of organizations in the scenario
// syntax (as settle's --org), dates in rs's time zone.
func readOrgs(path string, rs *rules.RuleSet) ([]voucher.Organization, error) {
	data, err := providers.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--org: %v", err)
	}
	orgs, err := scenario.ParseOrganizations(path, data, rs)
	if err != nil {
		return nil, fmt.Errorf("invalid organizations file:\n%v", err)
	}
	return orgs, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
