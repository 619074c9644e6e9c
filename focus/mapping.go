package focus

import (
	"fmt"
	"strings"

	"github.com/voucherkit/voucherkit/internal/excerpt"
	"github.com/voucherkit/voucherkit/internal/yamlx"
	"github.com/voucherkit/voucherkit/providers"
)

// Mapping says which rows of a FOCUS export a rule set reads and which of its products
// each row is. The built-in rule sets ship one each (providers/focus/NAME.yaml); a user
// writes one for a rule set of their own. The zero Mapping reads every provider's rows
// and keeps each ServiceName as the product.
type Mapping struct {
	// RuleSet is the name of the rule set the products belong to ("aws").
	RuleSet string
	// ProviderNames are the ProviderName values whose rows are read (compared without
	// regard to case); empty: every provider's.
	ProviderNames []string
	// OwnSellers are the provider's own legal entities as PublisherName and
	// InvoiceIssuerName write them; an entry ending in "*" matches a prefix. Empty:
	// no row is a third party's.
	OwnSellers []string
	// ThirdParty is the product of a row that one of its sellers (PublisherName or
	// InvoiceIssuerName) is not among OwnSellers: a marketplace charge.
	ThirdParty string
	// Sellers maps a third-party seller (PublisherName) to a product of its own, before
	// ThirdParty applies.
	Sellers map[string]string
	// Services maps a ServiceName to a product; a service not listed keeps its name.
	Services map[string]string
	// Upfront maps the CommitmentDiscountCategory of a one-time Purchase row (an
	// upfront commitment fee) to a product.
	Upfront map[string]string
}

// mappingFile is a mapping file: each key declared once (see internal/yamlx), which
// gives ParseMapping its positioned errors and MappingSchema its JSON Schema.
type mappingFile struct {
	RuleSet       string                `yaml:"rule_set" check:"required,nonempty" doc:"the rule set whose products the mapping names"`
	ProviderNames []string              `yaml:"provider_names" doc:"the ProviderName values whose rows are read (without regard to case); default: every provider's"`
	OwnSellers    []string              `yaml:"own_sellers" doc:"the provider's own sellers as PublisherName and InvoiceIssuerName write them; a trailing * matches a prefix"`
	ThirdParty    string                `yaml:"third_party" check:"nonempty" doc:"the product of a row a third party sells (a seller not among own_sellers)"`
	Sellers       yamlx.Entries[string] `yaml:"sellers" doc:"a third-party seller's own product, by PublisherName"`
	Services      yamlx.Entries[string] `yaml:"services" doc:"a product by ServiceName; a service not listed keeps its name"`
	Upfront       yamlx.Entries[string] `yaml:"upfront" doc:"the product of a one-time Purchase row, by CommitmentDiscountCategory"`
}

// MappingSchema is the JSON Schema of a FOCUS mapping file.
func MappingSchema() map[string]any {
	return yamlx.Schema(mappingFile{}, "voucherkit FOCUS mapping",
		"Which rows of a FOCUS export a rule set reads, and which of its products each row is.")
}

// ParseMapping reads a mapping file. Every problem is reported with file, line, column
// and key; an unknown key is an error.
func ParseMapping(file string, data []byte) (*Mapping, error) {
	d, root, err := yamlx.Parse(file, data)
	if err != nil {
		return nil, err
	}
	c := yamlx.NewCtx(d)
	var f mappingFile
	yamlx.Decode(c, root, "", &f)
	if f.ThirdParty != "" && len(f.OwnSellers) == 0 {
		c.KeyErrorf("third_party", "needs own_sellers: without them no row is a third party's")
	}
	m := &Mapping{RuleSet: f.RuleSet, ProviderNames: f.ProviderNames, OwnSellers: f.OwnSellers, ThirdParty: f.ThirdParty,
		Sellers: stringMap(c, f.Sellers), Services: stringMap(c, f.Services), Upfront: stringMap(c, f.Upfront)}
	if d.Failed() {
		return nil, d.Err()
	}
	return m, nil
}

// stringMap turns entries of non-empty strings into a map; an empty key or value is a
// problem at its place.
func stringMap(c *yamlx.Ctx, es yamlx.Entries[string]) map[string]string {
	if es == nil {
		return nil
	}
	out := make(map[string]string, len(es))
	for _, e := range es {
		switch {
		case strings.TrimSpace(e.Key) == "":
			c.KeyErrorf(e.Path, "must not be empty")
		case strings.TrimSpace(e.Value) == "":
			c.Errorf(e.Path, "must not be empty")
		default:
			out[e.Key] = e.Value
		}
	}
	return out
}

// LoadMapping returns the FOCUS mapping of built-in rule set name.
func LoadMapping(name string) (*Mapping, error) {
	data, ok := providers.FocusMapping(name)
	if !ok {
		return nil, fmt.Errorf("focus: no built-in FOCUS mapping for rule set %s; built in: %s",
			excerpt.Quote(name), strings.Join(providers.FocusMappingNames(), ", "))
	}
	return ParseMapping("providers/focus/"+name+".yaml", data)
}

// MappingFor returns the built-in mapping of rule set name, or the zero Mapping (every
// provider, products as ServiceName) when it ships none.
func MappingFor(name string) (*Mapping, error) {
	if _, ok := providers.FocusMapping(name); !ok {
		return &Mapping{}, nil
	}
	return LoadMapping(name)
}

// own reports whether seller is one of the provider's own entities; a null seller
// (FOCUS allows none for some rows) is.
func (m *Mapping) own(seller string) bool {
	if seller == "" {
		return true
	}
	for _, s := range m.OwnSellers {
		if p, ok := strings.CutSuffix(s, "*"); ok {
			if strings.HasPrefix(seller, p) {
				return true
			}
		} else if seller == s {
			return true
		}
	}
	return false
}

// rowProduct is what the mapping needs of a row to name its product.
type rowProduct struct {
	service, publisher, issuer string
	// upfrontCategory is the CommitmentDiscountCategory of a one-time Purchase row, ""
	// for any other row.
	upfrontCategory string
}

// product returns the product of a row.
func (m *Mapping) product(r rowProduct) string {
	if len(m.OwnSellers) > 0 && (!m.own(r.publisher) || !m.own(r.issuer)) {
		if p, ok := m.Sellers[r.publisher]; ok {
			return p
		}
		if m.ThirdParty != "" {
			return m.ThirdParty
		}
	}
	if r.upfrontCategory != "" {
		if p, ok := m.Upfront[r.upfrontCategory]; ok {
			return p
		}
	}
	if p, ok := m.Services[r.service]; ok {
		return p
	}
	return r.service
}
