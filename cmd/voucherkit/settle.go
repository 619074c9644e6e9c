package main

import (
	"io"
	"slices"

	"github.com/voucherkit/voucherkit/providers"
	"github.com/voucherkit/voucherkit/rules"
	"github.com/voucherkit/voucherkit/scenario"
	"github.com/voucherkit/voucherkit/voucher"
)

func runSettle(args []string, stdout, stderr io.Writer) int {
	f := newFlags("settle", "",
		"Prices one billing period's bill against a wallet under a rule set, at the period's\n"+
			"last instant, and prints it: the totals, each account's figures, each charge, where\n"+
			"each credit went (by account and charge) and every instrument that did not apply\n"+
			"with its reason and detail. The org file is a YAML list of organizations, the wallet\n"+
			"file a list of instruments and the bill file one settle, all in the scenario syntax.\n"+
			"Only the instruments of the bill's accounts are considered. Nothing is changed. Exit\n"+
			"status 1 when the rule set refuses the bill, 2 when an input is invalid.")
	provider := providerFlag(f)
	orgFile := f.String("org", "", "the organizations `FILE` (needed for an organization's bill)")
	walletFile := f.String("wallet", "", "the wallet `FILE`")
	billFile := f.String("bill", "", "the bill `FILE`")
	o := newOut(f, stdout, stderr)
	f.require("provider", "wallet", "bill")
	if ok, code := f.parse(args, stdout, stderr); !ok {
		return code
	}
	if m := f.missing(); m != "" {
		return o.usageError(f, "missing "+m)
	}
	if f.NArg() > 0 {
		return o.usageError(f, "takes no arguments besides its flags, got "+f.Arg(0))
	}
	rs, err := providers.Lookup(*provider, ".")
	if err != nil {
		return o.fail(exitInvalid, "--provider", err)
	}
	b, org, insts, err := readSettle(rs, *orgFile, *walletFile, *billFile)
	if err != nil {
		return o.fail(exitInvalid, "", err)
	}
	e, err := rules.NewEngine(rs)
	if err != nil {
		return o.fail(exitInvalid, "", err)
	}
	q, err := e.Settle(b, org, insts)
	if err != nil {
		return o.fail(exitFail, "the bill is refused", err)
	}
	if *o.json {
		o.emit(q)
		return exitOK
	}
	io.WriteString(stdout, q.Text())
	return exitOK
}

// readSettle reads the bill, its organization (nil for one account's bill) and the
// wallet's instruments of the bill's accounts.
func readSettle(rs *rules.RuleSet, orgFile, walletFile, billFile string) (voucher.Bill, *voucher.Organization, []voucher.Instrument, error) {
	var b voucher.Bill
	var orgs []voucher.Organization
	if orgFile != "" {
		data, err := providers.ReadFile(orgFile)
		if err != nil {
			return b, nil, nil, err
		}
		if orgs, err = scenario.ParseOrganizations(orgFile, data, rs); err != nil {
			return b, nil, nil, err
		}
	}
	data, err := providers.ReadFile(billFile)
	if err != nil {
		return b, nil, nil, err
	}
	if b, err = scenario.ParseBill(billFile, data, rs, orgs, scenario.DefaultAccount); err != nil {
		return b, nil, nil, err
	}
	accounts := []string{b.Account}
	var org *voucher.Organization
	if i := slices.IndexFunc(orgs, func(o voucher.Organization) bool { return o.ID == b.Organization }); i >= 0 {
		org = &orgs[i]
		accounts = org.MembersDuring(b.Start, b.End)
	}
	if data, err = providers.ReadFile(walletFile); err != nil {
		return b, nil, nil, err
	}
	all, err := scenario.ParseWallet(walletFile, data, rs, scenario.DefaultAccount, b.Start)
	if err != nil {
		return b, nil, nil, err
	}
	insts := slices.DeleteFunc(all, func(in voucher.Instrument) bool { return !slices.Contains(accounts, in.Account) })
	return b, org, insts, nil
}
