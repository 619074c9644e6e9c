package providers

import (
	"embed"
	"fmt"
	"io"
	"io/fs"
	"os"
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
	return rules.Load(files, name+".yaml", rules.WithResolver(Resolve))
}

// Resolve is the rules.Resolver of the built-in rule sets: `extends: aws` in a user's
// rule set finds the embedded aws.yaml.
func Resolve(name string) (string, []byte, error) {
	data, err := Source(name)
	if err != nil {
		return "", nil, err
	}
	return name + ".yaml", data, nil
}

// Parse parses a user's rule set whose `extends:` may name a built-in one.
func Parse(file string, data []byte) (*rules.RuleSet, error) {
	return rules.Parse(file, data, rules.WithResolver(Resolve))
}

// maxFile bounds a rule-set file; anything larger is refused before it is read.
const maxFile = 8 << 20

// LoadFile reads a user's rule set from path; its `extends:` may name a built-in one.
// The path must be a regular file of at most 8 MiB (a device or a FIFO is refused
// without being read).
func LoadFile(path string) (*rules.RuleSet, error) {
	data, err := ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", rules.ErrInvalidRuleSet, err)
	}
	return Parse(path, data)
}

// ReadFile reads an input file (a rule set, a scenario, a wallet or an order): a regular
// file of at most 8 MiB. A device, a FIFO or a larger file is refused without being read.
func ReadFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if fi.Size() > maxFile {
		return nil, fmt.Errorf("%s is %d bytes; the limit is %d", path, fi.Size(), maxFile)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxFile+1))
}

// Lookup returns the built-in rule set called nameOrPath, or else reads it as a file
// path (relative paths from dir): what a scenario's `provider:` or the CLI's
// --provider means.
func Lookup(nameOrPath, dir string) (*rules.RuleSet, error) {
	if slices.Contains(Names(), nameOrPath) {
		return Load(nameOrPath)
	}
	if !strings.ContainsAny(nameOrPath, "/\\") && !strings.HasSuffix(nameOrPath, ".yaml") && !strings.HasSuffix(nameOrPath, ".yml") {
		return nil, fmt.Errorf("providers: unknown rule set %q; built in: %s (or give a path to a .yaml file)", nameOrPath, strings.Join(Names(), ", "))
	}
	path := nameOrPath
	if dir != "" && !strings.HasPrefix(path, "/") {
		path = dir + "/" + path
	}
	return LoadFile(path)
}
