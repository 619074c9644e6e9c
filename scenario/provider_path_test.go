package scenario_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/voucherkit/voucherkit/internal/testfixture"
	"github.com/voucherkit/voucherkit/providers"
	"github.com/voucherkit/voucherkit/scenario"
)

const (
	secret      = testfixture.Secret
	miniRuleSet = testfixture.MiniRuleSet
)

// scenarioNaming is a scenario whose provider is path.
func scenarioNaming(path string) string {
	return fmt.Sprintf(`name: provider %s
provider: %q
now: 2026-03-02
wallet: [{id: g, type: gift, amount: "10"}]
steps:
  - checkout: {id: o1, type: new, payment: subscription, items: [{id: l1, product: book, amount: "4"}]}
    expect: {cash: "0", wallet: {g: {balance: "6"}}}
`, filepath.Base(path), path)
}

// layout: ROOT/scen/*.yaml are scenarios, ROOT/rules/mini.yaml a rule set, OUT holds
// a secret, ROOT/scen/link.yaml is a symbolic link to it.
func layout(t *testing.T) (root, out string) {
	t.Helper()
	root, out = t.TempDir(), t.TempDir()
	secretFile := filepath.Join(out, "secret.yaml")
	require.NoError(t, os.WriteFile(secretFile, []byte("root:x:0:0:root:/root:/bin/bash\n"+secret+"\n"), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(root, "scen"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(root, "rules"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "rules", "mini.yaml"), []byte(miniRuleSet), 0o644))
	require.NoError(t, os.Symlink(secretFile, filepath.Join(root, "scen", "link.yaml")))
	for name, provider := range map[string]string{
		"absolute.yaml": secretFile,
		"escape.yaml":   "../../" + filepath.Base(out) + "/secret.yaml",
		"symlink.yaml":  "link.yaml",
		"dotdot.yaml":   "secret.env/../secret.env",
		"sibling.yaml":  "../rules/mini.yaml",
	} {
		require.NoError(t, os.WriteFile(filepath.Join(root, "scen", name), []byte(scenarioNaming(provider)), 0o644))
	}
	require.NoError(t, os.WriteFile(filepath.Join(root, "scen", "secret.env"), []byte(secret), 0o644))
	return root, out
}

// A provider path stays inside the scenario file's directory unless an option allows
// more; what leads out is refused with a positioned error naming the path and nothing
// of the file it points at.
func TestProviderPathStaysInside(t *testing.T) {
	root, out := layout(t)
	scen := filepath.Join(root, "scen")
	secretFile := filepath.Join(out, "secret.yaml")
	want := map[string]string{
		"absolute.yaml": `:2:11: provider: rule set path "` + secretFile[:40] + `"… is absolute; it must be relative and stay inside ` + scen,
		"escape.yaml":   `:2:11: provider: rule set path "../../` + filepath.Base(out) + `/secret.yaml" leads outside ` + scen,
		"symlink.yaml":  `:2:11: provider: rule set path "link.yaml" leads outside ` + scen + ` once symbolic links are resolved`,
		"dotdot.yaml":   `:2:11: provider: rule set path "secret.env/../secret.env" does not name a .yaml or .yml file`,
		"sibling.yaml":  `:2:11: provider: rule set path "../rules/mini.yaml" leads outside ` + scen,
	}
	for name, w := range want {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(scen, name)
			s, err := scenario.Load(file)
			require.Error(t, err)
			assert.Nil(t, s)
			assert.Equal(t, file+w, err.Error())
			assert.NotContains(t, err.Error(), secret)
			assert.NotContains(t, err.Error(), "root:x")
			assert.True(t, errors.Is(err, scenario.ErrInvalid))
			assert.True(t, errors.Is(err, providers.ErrOutsideRoot))
		})
	}

	// WithRoot widens the tree: the sibling rule set is inside ROOT; the rest is not.
	s, err := scenario.Load(filepath.Join(scen, "sibling.yaml"), scenario.WithRoot(root))
	require.NoError(t, err)
	assert.Equal(t, "mini", s.RuleSet.Name)
	res := scenario.Run(s)
	assert.True(t, res.Passed(), res.Report())
	_, err = scenario.Load(filepath.Join(scen, "escape.yaml"), scenario.WithRoot(root))
	assert.True(t, errors.Is(err, providers.ErrOutsideRoot))

	// WithAnyProviderPath reads any path; a file that is not a rule set is still only
	// quoted in part.
	for _, name := range []string{"absolute.yaml", "escape.yaml", "symlink.yaml"} {
		_, err = scenario.Load(filepath.Join(scen, name), scenario.WithAnyProviderPath())
		require.Error(t, err, name)
		assert.False(t, errors.Is(err, providers.ErrOutsideRoot), name)
		assert.Contains(t, err.Error(), `must be a mapping, got str "root:x:0:0:root:/root:/bin/bash SECRET_T"…`, name)
		assert.NotContains(t, err.Error(), secret, name)
	}
	s, err = scenario.Load(filepath.Join(scen, "sibling.yaml"), scenario.WithAnyProviderPath())
	require.NoError(t, err)
	assert.Equal(t, "mini", s.RuleSet.Name)

	// Parse without options: the file's own directory; WithDir moves both.
	data, err := os.ReadFile(filepath.Join(scen, "sibling.yaml"))
	require.NoError(t, err)
	_, err = scenario.Parse(filepath.Join(scen, "sibling.yaml"), data)
	assert.True(t, errors.Is(err, providers.ErrOutsideRoot))
	_, err = scenario.Parse("sibling.yaml", data, scenario.WithDir(scen))
	assert.True(t, errors.Is(err, providers.ErrOutsideRoot))
	_, err = scenario.Parse("sibling.yaml", data, scenario.WithDir(scen), scenario.WithRoot(root))
	assert.NoError(t, err)
}

func TestInputsRoots(t *testing.T) {
	root, _ := layout(t)
	t.Chdir(root)
	inputs, err := scenario.Inputs("scen", "scen/s*.yaml", "rules/mini.yaml", "s*/abs*.yaml", "scen/missing.yaml")
	require.NoError(t, err)
	assert.Equal(t, []scenario.Input{
		{Path: "scen/absolute.yaml", Root: "scen"},
		{Path: "scen/dotdot.yaml", Root: "scen"},
		{Path: "scen/escape.yaml", Root: "scen"},
		{Path: "scen/link.yaml", Root: "scen"},
		{Path: "scen/sibling.yaml", Root: "scen"},
		{Path: "scen/symlink.yaml", Root: "scen"},
		{Path: "rules/mini.yaml", Root: "rules"},
		{Path: "scen/missing.yaml", Root: "scen"},
	}, inputs)
	inputs, err = scenario.Inputs("s*/abs*.yaml", "*/mini.yaml")
	require.NoError(t, err)
	assert.Equal(t, []scenario.Input{{Path: "scen/absolute.yaml", Root: "."}, {Path: "rules/mini.yaml", Root: "."}}, inputs)
	files, err := scenario.Files("scen/s*.yaml")
	require.NoError(t, err)
	assert.Equal(t, []string{"scen/sibling.yaml", "scen/symlink.yaml"}, files)
}
