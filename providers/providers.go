package providers

import (
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/voucherkit/voucherkit/internal/codes"
	"github.com/voucherkit/voucherkit/internal/excerpt"
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

// ErrUnknown is wrapped by the error for a name that is not a built-in rule set
// (Source, Load, Resolve) nor, for Lookup, a path to a rule-set file.
var ErrUnknown error = codes.New("unknown_provider", "unknown provider")

// unknownError is a name that is not a built-in rule set; it wraps ErrUnknown. Its text
// has no package prefix: a program prints it after its own.
func unknownError(name string) error {
	return fmt.Errorf("%w %s; the built-in rule sets are %s", ErrUnknown, excerpt.Quote(name), strings.Join(Names(), ", "))
}

// Source returns the YAML text of the built-in rule set name.
func Source(name string) ([]byte, error) {
	if !slices.Contains(Names(), name) {
		return nil, unknownError(name)
	}
	return fs.ReadFile(files, name+".yaml")
}

// Load parses and validates the built-in rule set name through rules.Load, the same
// path a user's own file takes.
func Load(name string) (*rules.RuleSet, error) {
	if !slices.Contains(Names(), name) {
		return nil, unknownError(name)
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
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &fileError{"there is no file " + excerpt.Show(path), err}
	}
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

// ErrOutsideRoot is wrapped by the error of Lookup for a path that Within does not allow.
var ErrOutsideRoot error = codes.New("provider_path_outside_root", "rule-set path outside the allowed directory")

// LookupOption configures Lookup.
type LookupOption func(*lookupConfig)

type lookupConfig struct {
	root     string
	confined bool
}

// Within confines a rule-set path to the directory tree under root: an absolute path
// is refused, and so is a path that leads outside root, lexically or once every
// symbolic link is resolved, and one that does not name a .yaml or .yml file. It is for
// a path written in a file (a scenario's provider:), which must not make whoever runs
// the file read, or print, what is outside the tree they gave.
func Within(root string) LookupOption {
	return func(c *lookupConfig) { c.root, c.confined = root, true }
}

// Lookup returns the rule set provider names: a built-in rule set (aws, aliyun, ...), or
// else the rule-set file at that path, relative to dir unless it is absolute. A name
// that is neither a built-in nor looks like a path (it has no slash and does not end in
// .yaml or .yml) is an error that lists the built-ins. Without Within any path is read:
// that is for a path the user gave (the CLI's --provider). An error names the path,
// never the file's contents; a file that is not a valid rule set is an error wrapping
// rules.ErrInvalidRuleSet whose messages quote at most short excerpts of it.
func Lookup(provider, dir string, opts ...LookupOption) (*rules.RuleSet, error) {
	var c lookupConfig
	for _, o := range opts {
		o(&c)
	}
	if slices.Contains(Names(), provider) {
		rs, err := Load(provider)
		if err != nil {
			return nil, fmt.Errorf("built-in rule set %s does not load: %w", provider, err)
		}
		return rs, nil
	}
	q := excerpt.Quote(provider)
	if !strings.ContainsAny(provider, `/\`) && !isYAML(provider) {
		return nil, fmt.Errorf("%w %s: want a built-in rule set (%s) or a path to a rule-set YAML file",
			ErrUnknown, q, strings.Join(Names(), ", "))
	}
	path := provider
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, provider)
	}
	read := path
	if c.confined {
		var err error
		if read, err = within(provider, path, c.root); err != nil {
			return nil, err
		}
	}
	data, err := ReadFile(read)
	if err != nil {
		return nil, readError(q, err)
	}
	rs, err := Parse(path, data) // its extends: may name a built-in rule set
	if err != nil {
		return nil, fmt.Errorf("rule set %s is invalid:\n%w", q, err)
	}
	return rs, nil
}

// within checks path (provider, joined to its directory) against root, and returns the
// file to read: path with every symbolic link resolved.
func within(provider, path, root string) (string, error) {
	q, r := excerpt.Quote(provider), excerpt.Show(root)
	outside := func(format string, a ...any) error {
		return &outsideError{fmt.Sprintf("rule set path %s "+format, append([]any{q}, a...)...)}
	}
	if filepath.IsAbs(provider) || filepath.VolumeName(provider) != "" {
		return "", outside("is absolute; it must be relative and stay inside %s", r)
	}
	if !isYAML(provider) {
		return "", outside("does not name a .yaml or .yml file")
	}
	absRoot, err1 := filepath.Abs(root)
	absPath, err2 := filepath.Abs(path)
	if err := errors.Join(err1, err2); err != nil {
		return "", readError(q, err)
	}
	if !inside(absRoot, absPath) {
		return "", outside("leads outside %s", r)
	}
	realPath, err := filepath.EvalSymlinks(absPath)
	if err != nil {
		return "", readError(q, err)
	}
	realRoot, err := filepath.EvalSymlinks(absRoot)
	if err != nil {
		return "", readError(q, err)
	}
	if !inside(realRoot, realPath) {
		return "", outside("leads outside %s once symbolic links are resolved", r)
	}
	if !isYAML(realPath) {
		return "", outside("does not name a .yaml or .yml file once symbolic links are resolved")
	}
	return realPath, nil
}

// inside reports whether path is root or under it; both are absolute and clean.
func inside(root, path string) bool {
	rel, err := filepath.Rel(root, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

func isYAML(path string) bool {
	ext := strings.ToLower(filepath.Ext(path))
	return ext == ".yaml" || ext == ".yml"
}

// outsideError is a path Within refuses; it wraps ErrOutsideRoot.
type outsideError struct{ msg string }

func (e *outsideError) Error() string        { return e.msg }
func (e *outsideError) Is(target error) bool { return target == ErrOutsideRoot }

// readError is the error for rule-set file q (quoted) that cannot be read.
func readError(q string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return &fileError{"there is no rule-set file " + q, err}
	}
	return fmt.Errorf("cannot read rule set %s: %w", q, err)
}

// fileError is a file that cannot be read, said as a sentence; it wraps the os error,
// so errors.Is(err, fs.ErrNotExist) holds.
type fileError struct {
	msg string
	err error
}

func (e *fileError) Error() string { return e.msg }
func (e *fileError) Unwrap() error { return e.err }
