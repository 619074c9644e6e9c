package scenario

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Files expands arguments into scenario files, each argument in turn: a directory gives
// every *.yaml and *.yml file under it (recursively, sorted); a pattern with *, ? or [
// gives its matches (sorted); anything else is taken as a file name as it is (a missing
// file fails when it is loaded). A file named twice is listed once.
func Files(args ...string) ([]string, error) {
	inputs, err := Inputs(args...)
	out := make([]string, len(inputs))
	for i, in := range inputs {
		out[i] = in.Path
	}
	return out, err
}

// Input is a scenario file with the directory tree its provider paths must stay
// inside (see WithRoot).
type Input struct {
	Path string
	// Root is the directory the argument that named Path names: the directory itself,
	// a pattern's directory (the part before the first element with *, ? or [), or a
	// file's own directory.
	Root string
}

// Inputs is Files with the root of each file.
func Inputs(args ...string) ([]Input, error) {
	var out []Input
	seen := map[string]bool{}
	add := func(f, root string) {
		if !seen[f] {
			seen[f] = true
			out = append(out, Input{Path: f, Root: root})
		}
	}
	for _, a := range args {
		if fi, err := os.Stat(a); err == nil && fi.IsDir() {
			var found []string
			err := filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if !d.IsDir() && isYAML(p) {
					found = append(found, p)
				}
				return nil
			})
			if err != nil {
				return out, err
			}
			slices.Sort(found)
			for _, f := range found {
				add(f, a)
			}
			continue
		}
		if strings.ContainsAny(a, "*?[") {
			matches, err := filepath.Glob(a)
			if err != nil {
				return out, err
			}
			slices.Sort(matches)
			for _, f := range matches {
				add(f, patternDir(a))
			}
			continue
		}
		add(a, filepath.Dir(a))
	}
	return out, nil
}

// patternDir is the directory a glob pattern names: its longest leading directory
// without *, ? or [.
func patternDir(pattern string) string {
	dir := filepath.Dir(pattern)
	for strings.ContainsAny(dir, "*?[") {
		dir = filepath.Dir(dir)
	}
	return dir
}

func isYAML(p string) bool {
	ext := strings.ToLower(filepath.Ext(p))
	return ext == ".yaml" || ext == ".yml"
}
