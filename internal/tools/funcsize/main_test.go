package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const sample = `package x

func small() int { return 1 }

func branchy(a, b bool, n int) int {
	if a && b || !a {
		return 1
	}
	for i := 0; i < n; i++ {
		switch i {
		case 1, 2:
		case 3:
		default:
		}
	}
	f := func() {
		if a {
		}
	}
	f()
	return 0
}
`

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "x.go"), []byte(sample), 0o644); err != nil {
		t.Fatal(err)
	}
	// branchy: 1 + if + && + || + for + 2 cases = 7; its literal is counted apart (2).
	got, err := check(dir, 80, 6, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !strings.Contains(got[0], "branchy: cyclomatic complexity 7 (at most 6)") {
		t.Fatalf("got %q", got)
	}
	got, _ = check(dir, 15, 25, true, nil)
	if len(got) != 1 || !strings.Contains(got[0], "x.go:5: branchy: 18 lines (at most 15)") {
		t.Fatalf("got %q", got)
	}
	got, _ = check(dir, 15, 6, true, map[string]bool{filepath.Join(dir, "x.go"): true})
	if len(got) != 0 {
		t.Fatalf("an excepted file is not checked: %q", got)
	}
	if err := os.WriteFile(filepath.Join(dir, "bad.go"), []byte("package x\nfunc {"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := check(dir, 80, 25, true, nil); err == nil {
		t.Fatal("a file that does not parse is an error")
	}
}
