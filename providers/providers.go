package providers

import (
	"embed"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/voucherkit/voucherkit/rules"
)

//go:embed *.yaml
var files embed.FS

// FS is the embedded rule-set files, one NAME.yaml per provider.
func FS() fs.FS { return files }

// Names lists the built-in rule sets, sorted.
func Names() []string {
	entries, _ := fs.ReadDir(files, ".")
	var names []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".yaml"); ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}

// Source returns the YAML text of the built-in rule set name.
func Source(name string) ([]byte, error) {
	if !slices.Contains(Names(), name) {
		return nil, fmt.Errorf("providers: unknown rule set %q; built in: %s", name, strings.Join(Names(), ", "))
	}
	return fs.ReadFile(files, name+".yaml")
}

// Load parses and validates the built-in rule set name through rules.Load, the same
// path a user's own file takes.
func Load(name string) (*rules.RuleSet, error) {
	if !slices.Contains(Names(), name) {
		return nil, fmt.Errorf("providers: unknown rule set %q; built in: %s", name, strings.Join(Names(), ", "))
	}
	return rules.Load(files, name+".yaml")
}
