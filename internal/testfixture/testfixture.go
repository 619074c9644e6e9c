// Package testfixture holds what the tests of several packages share: a secret that no
// error may print, a small valid rule set, and a helper that lays out a file tree. It
// is imported by tests only.
//
// Invariants: MiniRuleSet is a valid rule set (providers and scenario tests rely on it);
// Passwd contains Secret; Tree writes exactly the files it is given.
package testfixture

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Secret stands for what a file outside the allowed tree holds: no error, report or
// output may contain it.
const Secret = "SECRET_TOKEN=hunter2"

// Passwd is /etc/passwd-like text with a Secret line.
const Passwd = "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n" + Secret + "\n"

// MiniRuleSet is the smallest useful rule set: one deduction type, gift, in EUR.
const MiniRuleSet = `name: mini
currency: EUR
stages: [{name: gifts, kind: deduction}]
types: {gift: {stage: gifts}}
`

// Tree lays out files (path: content; content "->TARGET" makes a symbolic link) under
// a new temporary directory and returns it.
func Tree(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if target, ok := strings.CutPrefix(content, "->"); ok {
			if err := os.Symlink(target, p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
