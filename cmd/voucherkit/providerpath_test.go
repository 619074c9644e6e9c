package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/voucherkit/voucherkit/internal/testfixture"
)

const secret = testfixture.Secret

// hostileTree lays out ROOT/scen (scenarios), ROOT/rules/mini.yaml and, outside ROOT,
// a secret file; scen/steal.yaml names the secret by an absolute path, scen/up.yaml the
// rule set by ../rules/mini.yaml.
func hostileTree(t *testing.T) (root, secretFile string) {
	t.Helper()
	root = t.TempDir()
	secretFile = filepath.Join(t.TempDir(), "passwd.yaml")
	require.NoError(t, os.WriteFile(secretFile, []byte("root:x:0:0:root:/root:/bin/bash\n"+secret+"\n"), 0o644))
	scen := func(provider string) string {
		return "name: x\nprovider: " + provider + "\nnow: 2026-03-02\nwallet: [{id: g, type: gift, amount: \"10\"}]\n" +
			"steps:\n  - quote: {id: q, type: new, payment: subscription, items: [{id: l1, product: book, amount: \"4\"}]}\n" +
			"    expect: {cash: \"0\"}\n"
	}
	for name, body := range map[string]string{
		"scen/steal.yaml": scen(secretFile),
		"scen/up.yaml":    scen("../rules/mini.yaml"),
		"rules/mini.yaml": testfixture.MiniRuleSet,
	} {
		p := filepath.Join(root, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	}
	return root, secretFile
}

const pathHint = "a scenario's provider path must be relative and stay inside the working directory (for a scenario outside it, " +
	"the directory named or the file's own); --provider-root DIR widens that, --allow-any-provider-path lifts it\n"

// voucherkit test and lint keep a scenario's provider path inside the directory named,
// never print the file it points at, and say once how to allow more.
func TestProviderPathFlags(t *testing.T) {
	root, secretFile := hostileTree(t)
	scen := filepath.Join(root, "scen")

	code, out, errOut := call(t, "test", scen)
	assert.Equal(t, 2, code)
	assert.Contains(t, out, "FAIL  "+filepath.Join(scen, "steal.yaml")+"  (not a valid scenario: see standard error)\n")
	assert.Contains(t, errOut, filepath.Join(scen, "steal.yaml")+`:2:11: provider: rule set path "`+secretFile[:40]+`"… is absolute; it must be relative and stay inside `+scen+"\n")
	assert.Contains(t, errOut, filepath.Join(scen, "up.yaml")+`:2:11: provider: rule set path "../rules/mini.yaml" leads outside `+scen+"\n")
	assert.Equal(t, 1, strings.Count(errOut, "voucherkit test: "+pathHint), errOut)
	assert.NotContains(t, out+errOut, secret)
	assert.Equal(t, "0 passed, 2 failed", lastLine(out))

	// A file alone: its own directory.
	code, _, errOut = call(t, "test", filepath.Join(scen, "up.yaml"))
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, `leads outside `+scen)

	code, out, errOut = call(t, "test", "--provider-root", root, scen)
	assert.Equal(t, 2, code)
	assert.Contains(t, out, "ok    "+filepath.Join(scen, "up.yaml"))
	assert.Contains(t, errOut, `is absolute; it must be relative and stay inside `+root+"\n")

	// Allowed any path, the secret file is read, and is not a rule set: quoted in part only.
	code, out, errOut = call(t, "test", "--allow-any-provider-path", scen)
	assert.Equal(t, 2, code)
	assert.Contains(t, out, "ok    "+filepath.Join(scen, "up.yaml"))
	assert.Contains(t, errOut, `must be a mapping, got str "root:x:0:0:root:/root:/bin/bash SECRET_T"…`)
	assert.NotContains(t, out+errOut, secret)
	assert.NotContains(t, errOut, pathHint)

	code, out, errOut = call(t, "lint", scen)
	assert.Equal(t, 1, code)
	assert.Contains(t, out, `steal.yaml:2:11: provider: rule set path "`)
	assert.Contains(t, out, `up.yaml:2:11: provider: rule set path "../rules/mini.yaml" leads outside `+scen+"\n")
	assert.Equal(t, "voucherkit lint: "+pathHint, errOut)
	assert.NotContains(t, out, secret)

	code, out, errOut = call(t, "lint", "--provider-root", root, filepath.Join(scen, "up.yaml"))
	assert.Equal(t, 0, code, out+errOut)
	code, out, errOut = call(t, "lint", "--allow-any-provider-path", filepath.Join(scen, "up.yaml"))
	assert.Equal(t, 0, code, out+errOut)
}

// quote's and compare's --provider is the user's own choice: any path.
func TestProviderFlagAnyPath(t *testing.T) {
	root, _ := hostileTree(t)
	order := writeFiles(t, map[string]string{"order.yaml": "id: o1\ntype: new\npayment: subscription\nitems: [{id: l1, product: book, amount: \"4\"}]\n"})
	mini := filepath.Join(root, "rules", "mini.yaml")
	code, out, errOut := call(t, "quote", "--provider", mini, "--order", filepath.Join(order, "order.yaml"), "--at", "2026-03-02")
	assert.Equal(t, 0, code, out+errOut)
	code, out, errOut = call(t, "compare", "--providers", "aws,"+mini, "--order", filepath.Join(order, "order.yaml"), "--at", "2026-03-02")
	assert.Equal(t, 0, code, out+errOut)
}

// Named by a relative path inside the working directory, a scenario's provider path may
// lead anywhere inside the working directory (a sibling directory of rule sets), and
// still not outside it or to an absolute path.
func TestProviderPathInsideWorkingDirectory(t *testing.T) {
	root, secretFile := hostileTree(t)
	t.Chdir(root)
	code, out, errOut := call(t, "test", filepath.Join("scen", "up.yaml"))
	assert.Equal(t, 0, code, out+errOut)
	assert.Contains(t, out, "ok    "+filepath.Join("scen", "up.yaml"))

	code, out, errOut = call(t, "test", "scen")
	assert.Equal(t, 2, code)
	assert.Contains(t, out, "ok    "+filepath.Join("scen", "up.yaml"))
	assert.Contains(t, errOut, filepath.Join("scen", "steal.yaml")+`:2:11: provider: rule set path "`+secretFile[:40]+`"… is absolute; it must be relative and stay inside .`+"\n")
	assert.NotContains(t, out+errOut, secret)

	// Below the working directory, a path up and out of it is still refused.
	t.Chdir(filepath.Join(root, "scen"))
	code, _, errOut = call(t, "test", "up.yaml")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, `up.yaml:2:11: provider: rule set path "../rules/mini.yaml" leads outside .`+"\n")
}
