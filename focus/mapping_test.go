package focus_test

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/voucherkit/voucherkit/focus"
	"github.com/voucherkit/voucherkit/providers"
)

// TestBuiltInMappings loads every rule set's FOCUS mapping: each is for the rule set
// of its name, reads some provider's rows, and the products it names that the rule
// set never covers (marketplace, Route 53 domains, upfront fees, ...) are in the rule
// set's list, spelled the same.
func TestBuiltInMappings(t *testing.T) {
	require.Equal(t, providers.Names(), providers.FocusMappingNames(), "every built-in rule set ships a mapping")
	for _, name := range providers.FocusMappingNames() {
		m, err := focus.LoadMapping(name)
		require.NoError(t, err, name)
		require.Equal(t, name, m.RuleSet)
		require.NotEmpty(t, m.ProviderNames, name)
		require.Equal(t, "marketplace", m.ThirdParty, name)
		rs, err := providers.Load(name)
		require.NoError(t, err)
		require.Contains(t, rs.NeverCovers, m.ThirdParty, name)
		for _, p := range m.Sellers {
			require.Contains(t, rs.NeverCovers, p, "%s: seller product %s", name, p)
		}
		for _, p := range m.Upfront {
			require.Contains(t, rs.NeverCovers, p, "%s: upfront product %s", name, p)
		}
	}
	aws, err := focus.LoadMapping("aws")
	require.NoError(t, err)
	rs, err := providers.Load("aws")
	require.NoError(t, err)
	for _, p := range []string{"route53_domains", "mechanical_turk", "managed_services", "support_enterprise", "professional_services", "training", "certification"} {
		require.True(t, slices.Contains(rs.NeverCovers, p), p)
		require.Containsf(t, valuesOf(aws.Services), p, "the aws mapping names %s", p)
	}
}

func valuesOf(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func TestParseMappingErrors(t *testing.T) {
	_, err := focus.ParseMapping("m.yaml", []byte("rule_set: x\ncolour: red\n"))
	require.ErrorContains(t, err, "m.yaml:2:1: colour: unknown key")
	_, err = focus.ParseMapping("m.yaml", []byte("third_party: marketplace\n"))
	require.ErrorContains(t, err, "rule_set: is required")
	require.ErrorContains(t, err, "third_party: needs own_sellers")
	_, err = focus.LoadMapping("oracle")
	require.ErrorContains(t, err, `no built-in FOCUS mapping for rule set "oracle"; built in: aliyun, aws, azure, gcp, huaweicloud, tencentcloud`)
	m, err := focus.MappingFor("reseller")
	require.NoError(t, err)
	require.Equal(t, focus.Mapping{}, *m, "a rule set without a mapping reads every row, products as ServiceName")
}
