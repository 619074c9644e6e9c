package providers

import (
	"embed"
	"io/fs"
	"slices"
	"strings"
)

// focusFiles are the FOCUS mappings of the built-in rule sets: focus/NAME.yaml says
// which rows of a FOCUS billing export are that provider's and which of the rule set's
// products each is. Package focus parses them; they are data, as the rule sets are.
//
//go:embed focus/*.yaml
var focusFiles embed.FS

// FocusMappingNames lists the built-in rule sets that ship a FOCUS mapping, sorted.
func FocusMappingNames() []string {
	entries, _ := fs.ReadDir(focusFiles, "focus")
	var names []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".yaml"); ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}

// FocusMapping returns the YAML text of the FOCUS mapping of built-in rule set name,
// and false when it ships none.
func FocusMapping(name string) ([]byte, bool) {
	if !slices.Contains(FocusMappingNames(), name) {
		return nil, false
	}
	data, err := fs.ReadFile(focusFiles, "focus/"+name+".yaml")
	return data, err == nil
}
