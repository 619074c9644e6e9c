package scenario

import (
	"slices"

	"github.com/voucherkit/voucherkit/internal/yamlx"
	"github.com/voucherkit/voucherkit/rules"
)

// Kind is what a YAML file of voucherkit holds, as Sniff tells it.
type Kind int

// The kinds of file Sniff tells apart.
const (
	// KindUnknown: Sniff cannot tell (not YAML, not a mapping, or keys of both kinds).
	KindUnknown Kind = iota
	// KindScenario: a scenario file (keys name, provider, now, account, wallet, steps).
	KindScenario
	// KindRuleSet: a rule set (keys name, currency, stages, types, ...).
	KindRuleSet
)

func (k Kind) String() string {
	switch k {
	case KindScenario:
		return "scenario"
	case KindRuleSet:
		return "rule set"
	}
	return "unknown"
}

// KindHelp says what tells the kinds of file apart, for an error about a file Sniff
// cannot place.
const KindHelp = "cannot tell whether this is a scenario (keys name, provider, now, steps) or a rule set (keys name, currency, stages, types)"

// onlyIn returns the keys of one kind of file that the other kind does not have: the
// two lists are the file models' own (ScenarioKeys, rules.TopKeys).
func onlyIn(keys, other []string) []string {
	var out []string
	for _, k := range keys {
		if !slices.Contains(other, k) {
			out = append(out, k)
		}
	}
	return out
}

// Sniff tells a scenario file from a rule-set file by its top-level keys, without
// reporting anything: a file with keys of only one kind is of that kind.
func Sniff(data []byte) Kind {
	_, root, err := yamlx.Parse("", data)
	if err != nil {
		return KindUnknown
	}
	scenarioOnly, ruleSetOnly := onlyIn(ScenarioKeys(), rules.TopKeys()), onlyIn(rules.TopKeys(), ScenarioKeys())
	var isScenario, isRuleSet bool
	for _, k := range yamlx.TopKeys(root) {
		isScenario = isScenario || slices.Contains(scenarioOnly, k)
		isRuleSet = isRuleSet || slices.Contains(ruleSetOnly, k)
	}
	switch {
	case isScenario && !isRuleSet:
		return KindScenario
	case isRuleSet && !isScenario:
		return KindRuleSet
	}
	return KindUnknown
}
