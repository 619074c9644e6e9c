package scenario

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Files expands arguments into scenario files, each argument in turn: a directory gives
// every *.yaml and *.yml file under it (recursively, sorted); a pattern with *, ? or [
// gives its matches (sorted); anything else is taken as a file name as it is (a missing
// file fails when it is loaded). A file named twice is listed once.
func Files(args ...string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	add := func(f string) {
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
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
				add(f)
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
				add(f)
			}
			continue
		}
		add(a)
	}
	return out, nil
}

func isYAML(p string) bool {
	ext := strings.ToLower(filepath.Ext(p))
	return ext == ".yaml" || ext == ".yml"
}

// RunFiles runs the scenario files that patterns name (see Files) from a Go test, each
// file as a subtest named after it when t is a *testing.T. A file that is not a valid
// scenario fails with its positioned errors; a scenario that does not pass fails with
// one line per mismatch (step, key, expected, got). No file at all is a failure too.
//
//	func TestScenarios(t *testing.T) { scenario.RunFiles(t, "testdata/*.yaml") }
func RunFiles(t testing.TB, patterns ...string) {
	t.Helper()
	files, err := Files(patterns...)
	if err != nil {
		t.Fatalf("scenario: %v", err)
	}
	if len(files) == 0 {
		t.Fatalf("scenario: no scenario file matches %s", strings.Join(patterns, " "))
	}
	for _, f := range files {
		check := func(t testing.TB) {
			t.Helper()
			s, err := Load(f)
			if err != nil {
				t.Errorf("%v", err)
				return
			}
			res := Run(s)
			if !res.Passed() {
				t.Errorf("%s", strings.TrimRight(res.Report(), "\n"))
			}
		}
		if tt, ok := t.(*testing.T); ok {
			name := strings.TrimSuffix(filepath.Base(f), filepath.Ext(f))
			tt.Run(name, func(t *testing.T) { check(t) })
		} else {
			check(t)
		}
	}
}
