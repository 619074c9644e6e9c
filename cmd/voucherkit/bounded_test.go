package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// A 7 MB name is refused where it is written, and never printed whole.
func TestTestHugeName(t *testing.T) {
	dir := writeFiles(t, map[string]string{"huge.yaml": "name: " + strings.Repeat("n", 7<<20) +
		"\nprovider: aws\nnow: 2026-03-02\nsteps:\n  - advance: 2026-03-03\n"})
	file := filepath.Join(dir, "huge.yaml")
	code, out, errOut := call(t, "test", file)
	assert.Equal(t, 2, code)
	assert.Equal(t, "FAIL  "+file+"  (not a valid scenario: see standard error)\n0 passed, 1 failed\n", out)
	assert.Equal(t, file+":1:7: name: is 7340032 characters long; the limit is 200\n", errOut)
}
