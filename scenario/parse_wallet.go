package scenario

import (
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/voucherkit/voucherkit/internal/excerpt"
	"github.com/voucherkit/voucherkit/internal/yamlx"
	"github.com/voucherkit/voucherkit/voucher"
)

// walletEntry is one decoded wallet entry with its index in the file's list.
type walletEntry struct {
	index int
	f     instrumentFile
}

// walletEntries decodes a wallet file's list entry by entry, leaving out (with
// skipUnknownTypes) those whose type the rule set does not define.
func (p *parser) walletEntries(n *yaml.Node, path string) []walletEntry {
	items, ok := p.d.Seq(n, path)
	if !ok {
		return nil
	}
	out := make([]walletEntry, 0, len(items))
	for i, it := range items {
		if p.skipUnknownTypes && p.rs != nil {
			typ, id := scalarAt(it, "type"), scalarAt(it, "id")
			if _, known := p.rs.Type(typ); typ != "" && !known {
				p.skipped = append(p.skipped, excerpt.Show(id)+" ("+excerpt.Show(typ)+")")
				continue
			}
		}
		var f instrumentFile
		yamlx.Decode(p.ctx, it, yamlx.Index(path, i), &f)
		out = append(out, walletEntry{index: i, f: f})
	}
	return out
}

// scalarAt is the text of key in mapping n, or "".
func scalarAt(n *yaml.Node, key string) string {
	if v := yamlx.Resolve(yamlx.ValueOf(n, key)); v != nil && v.Kind == yaml.ScalarNode {
		return v.Value
	}
	return ""
}

// wallet gives each decoded entry its meaning: defaults, the type's rules, unique ids
// and codes. An entry with a problem is left out of the result.
func (p *parser) wallet(entries []walletEntry) []voucher.Instrument {
	insts := make([]voucher.Instrument, 0, len(entries))
	ids := map[string]int{}
	codes := map[string]string{}
	for _, e := range entries {
		path := yamlx.Index("wallet", e.index)
		inst, ok := p.instrument(e.f, path)
		if !ok {
			continue
		}
		if j, dup := ids[inst.ID]; dup {
			p.ctx.Errorf(yamlx.Join(path, "id"), "%s is also the id of %s", excerpt.Quote(inst.ID), yamlx.Index("wallet", j))
			continue
		}
		ids[inst.ID] = e.index
		if inst.Code != "" {
			if other, dup := codes[inst.Code]; dup {
				p.ctx.Errorf(yamlx.Join(path, "code"), "code %s is also the code of instrument %s", excerpt.Quote(inst.Code), excerpt.Quote(other))
				continue
			}
			codes[inst.Code] = inst.ID
		}
		insts = append(insts, inst)
	}
	return insts
}

// instrument turns one decoded entry into an Instrument with the spec's defaults,
// checking it against its type; false when the entry has any problem.
func (p *parser) instrument(f instrumentFile, path string) (voucher.Instrument, bool) {
	// Every key whose field is named as the Instrument's (ID, Amount, ExpiresAt, ...)
	// lands there: adding such a key is a field in instrumentFile, and its test.
	var in voucher.Instrument
	yamlx.Assign(&in, f)
	in.Account = ""
	in.PendingActivation = f.Status != nil
	policy, known := p.policy(f, path)
	p.owner(&in, f, policy, known, path)
	if known {
		p.checkAgainstType(f, policy, path)
	}
	if in.IssuedAt == nil {
		now := p.now
		in.IssuedAt = &now
	}
	if known && !p.d.FailedUnder(path) {
		p.positioned(in.Validate(policy, p.rs.Currency), path)
	}
	return in, !p.d.FailedUnder(path)
}

// policy is what the rule set says of the entry's type; known is false when there is
// no rule set or the type is not one of its.
func (p *parser) policy(f instrumentFile, path string) (voucher.TypePolicy, bool) {
	if p.rs == nil || f.Type == "" {
		return voucher.TypePolicy{}, false
	}
	t, ok := p.rs.Type(f.Type)
	if !ok {
		p.ctx.Errorf(yamlx.Join(path, "type"), "unknown instrument type %s; rule set %s defines %s",
			excerpt.Quote(f.Type), p.rs.Name, strings.Join(p.rs.TypeNames(), ", "))
		return voucher.TypePolicy{}, false
	}
	return t.Policy(), true
}

// owner sets the owner: the entry's account, the scenario's, or nobody for what nobody
// owns yet (an instrument pending activation, a typed-in code).
func (p *parser) owner(in *voucher.Instrument, f instrumentFile, policy voucher.TypePolicy, known bool, path string) {
	accountPath := yamlx.Join(path, "account")
	typedCode := known && policy.TypedCode
	switch {
	case in.PendingActivation && f.Account != nil:
		p.ctx.Errorf(accountPath, "an instrument pending activation has no owner until an account activates it")
	case typedCode && f.Account != nil:
		p.ctx.Errorf(accountPath, "type %s is typed in as a code and has no owner: any buyer who types the code may use it", in.Type)
	case f.Account != nil:
		in.Account = *f.Account
	case !in.PendingActivation && !typedCode:
		in.Account = p.account
	}
}

// checkAgainstType reports keys that do not apply to the entry's kind of type, and a
// deduction without a face value.
func (p *parser) checkAgainstType(f instrumentFile, policy voucher.TypePolicy, path string) {
	given := func(key string) bool { return p.ctx.Has(yamlx.Join(path, key)) }
	switch policy.Kind {
	case voucher.Discount:
		if given("balance") {
			p.ctx.KeyErrorf(yamlx.Join(path, "balance"), "applies to deduction instruments only; type %s is a discount", f.Type)
		}
	case voucher.Deduction:
		if given("max_redemptions") {
			p.ctx.KeyErrorf(yamlx.Join(path, "max_redemptions"), "applies to discount instruments only; type %s is a deduction", f.Type)
		}
		if !given("amount") && !given("balance") {
			p.ctx.Errorf(yamlx.Join(path, "amount"), "is required for type %s: the face value of a deduction instrument", f.Type)
		}
	}
}
