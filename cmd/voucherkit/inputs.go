package main

import (
	"fmt"
	"time"

	"github.com/voucherkit/voucherkit/internal/yamlx"
	"github.com/voucherkit/voucherkit/providers"
	"github.com/voucherkit/voucherkit/rules"
	"github.com/voucherkit/voucherkit/scenario"
	"github.com/voucherkit/voucherkit/voucher"
)

// pricingInputs are the flags quote and compare share: an order, a wallet, a time and
// a default account, read once and priced under one rule set at a time.
type pricingInputs struct {
	wallet, order, at, account *string
	walletData                 []byte
	parsedOrder                voucher.Order
}

func addPricingFlags(f *flags, atHelp string) *pricingInputs {
	return &pricingInputs{
		wallet:  f.String("wallet", "", "`FILE` holding a YAML list of instruments, as in a scenario's wallet (none when omitted)"),
		order:   f.String("order", "", "`FILE` holding one YAML order, as in a scenario's quote step"),
		at:      f.String("at", "", "`TIME` "+atHelp),
		account: f.String("account", scenario.DefaultAccount, "`NAME` of the account that owns wallet entries and buys the order when they name none"),
	}
}

// read reads the order and wallet files.
func (in *pricingInputs) read() error {
	data, err := providers.ReadFile(*in.order)
	if err != nil {
		return err
	}
	if in.parsedOrder, err = scenario.ParseOrder(*in.order, data, *in.account); err != nil {
		return err
	}
	if *in.wallet != "" {
		if in.walletData, err = providers.ReadFile(*in.wallet); err != nil {
			return err
		}
	}
	return nil
}

// time is --at in rs's time zone, or the wall clock when it is not given.
func (in *pricingInputs) time(rs *rules.RuleSet) (time.Time, error) {
	if *in.at == "" {
		return time.Now().In(rs.Location), nil
	}
	at, err := yamlx.ParseTime(*in.at, rs.Location, yamlx.StartOfDay)
	if err != nil {
		return time.Time{}, fmt.Errorf("--at: %v", err)
	}
	return at, nil
}

// priced is the order priced under one rule set.
type priced struct {
	// ruleSet is "name@version" of the version in force at the pricing time.
	ruleSet string
	quote   *voucher.Quote
	// refused is the step error when the rule set refuses the order (quote is nil).
	refused error
	// skipped are wallet entries left out because the rule set has no such type.
	skipped []string
}

// price quotes the order against the wallet under rs at its time. With skipUnknown,
// wallet entries of types rs does not define are left out and listed; without, they
// are errors. An error is an input error; the rule set refusing the order is not.
func (in *pricingInputs) price(rs *rules.RuleSet, skipUnknown bool) (priced, error) {
	at, err := in.time(rs)
	if err != nil {
		return priced{}, err
	}
	// Every entry of the wallet given is accounted for: one of another account is listed
	// as not applied (not_owner), not left out.
	engine, err := rules.NewEngine(rs, rules.WithOthersListed(true))
	if err != nil {
		return priced{}, err
	}
	out := priced{ruleSet: engine.RuleSetAt(at).ID()}
	var insts []voucher.Instrument
	if in.walletData != nil {
		if skipUnknown {
			insts, out.skipped, err = scenario.ParseWalletFor(*in.wallet, in.walletData, rs, *in.account, at)
		} else {
			insts, err = scenario.ParseWallet(*in.wallet, in.walletData, rs, *in.account, at)
		}
		if err != nil {
			return priced{}, err
		}
	}
	out.quote, out.refused = engine.Quote(in.parsedOrder, insts, at)
	return out, nil
}

// providerFlag declares --provider, the one rule set a command prices under: a built-in
// name or a rule-set file (the user's own choice: any path).
func providerFlag(f *flags) *string {
	return f.String("provider", "", "`NAME|FILE` of a built-in rule set (aws, aliyun, ...) or of a rule-set YAML file")
}
