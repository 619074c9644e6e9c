package testfixture_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/voucherkit/voucherkit/internal/testfixture"
	"github.com/voucherkit/voucherkit/providers"
)

func TestFixtures(t *testing.T) {
	if _, err := providers.Parse("mini.yaml", []byte(testfixture.MiniRuleSet)); err != nil {
		t.Fatalf("MiniRuleSet must be valid: %v", err)
	}
	if !strings.Contains(testfixture.Passwd, testfixture.Secret) {
		t.Fatal("Passwd must hold the Secret")
	}
	dir := testfixture.Tree(t, map[string]string{"a/b.yaml": "x", "link": "->a/b.yaml"})
	got, err := os.ReadFile(filepath.Join(dir, "link"))
	if err != nil || string(got) != "x" {
		t.Fatalf("Tree: got %q, %v", got, err)
	}
}
