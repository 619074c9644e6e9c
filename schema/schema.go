// Package schema publishes the JSON Schemas of voucherkit's input files, generated from
// the same declarations the parsers read (see internal/yamlx): ruleset.json for rule
// sets, scenario.json for scenario files, wallet.json for wallet files, order.json
// for order files and focus-mapping.json for FOCUS mapping files. Editors that speak JSON Schema (yaml-language-server, VS Code's YAML
// extension) complete and check the files with them.
//
// Invariants: the committed *.json files are exactly what Files returns (a test
// regenerates them and fails when they are stale; `go generate ./schema` rewrites
// them); every built-in rule set and every testdata file meant to be valid validates
// against its schema.
package schema

//go:generate go test -run TestSchemasAreCurrent -update .

import (
	"encoding/json"
	"maps"
	"slices"

	"github.com/voucherkit/voucherkit/focus"
	"github.com/voucherkit/voucherkit/rules"
	"github.com/voucherkit/voucherkit/scenario"
)

// Schemas returns each schema by file name.
func Schemas() map[string]map[string]any {
	return map[string]map[string]any{
		"ruleset.json":       rules.Schema(),
		"scenario.json":      scenario.Schema(),
		"wallet.json":        scenario.WalletSchema(),
		"order.json":         scenario.OrderSchema(),
		"focus-mapping.json": focus.MappingSchema(),
	}
}

// Names lists the schema files, sorted.
func Names() []string { return slices.Sorted(maps.Keys(Schemas())) }

// File returns the text of schema name as it is committed.
func File(name string) ([]byte, error) {
	b, err := json.MarshalIndent(Schemas()[name], "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
