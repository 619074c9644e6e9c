package providers_test

import (
	"testing"

	"github.com/voucherkit/voucherkit/providers"
	"github.com/voucherkit/voucherkit/scenario/scenariotest"
)

// TestScenarios runs the scenarios beside each built-in rule set, testdata/NAME/*.yaml:
// every rule a rule set encodes is shown by one of them.
func TestScenarios(t *testing.T) {
	for _, name := range providers.Names() {
		t.Run(name, func(t *testing.T) {
			scenariotest.RunFiles(t, "testdata/"+name+"/*.yaml")
		})
	}
}
