package providers_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/voucherkit/voucherkit/internal/testfixture"
	"github.com/voucherkit/voucherkit/providers"
	"github.com/voucherkit/voucherkit/rules"
)

const (
	miniRuleSet = testfixture.MiniRuleSet
	secret      = testfixture.Secret
	passwd      = testfixture.Passwd
)

func tree(t *testing.T, files map[string]string) string { return testfixture.Tree(t, files) }

func TestLookupBuiltInAndUnknown(t *testing.T) {
	rs, err := providers.Lookup("aws", "", providers.Within(t.TempDir()))
	require.NoError(t, err)
	assert.Equal(t, "aws", rs.Name)
	_, err = providers.Lookup("alicloud", ".")
	assert.EqualError(t, err, `unknown provider "alicloud": want a built-in rule set (`+
		strings.Join(providers.Names(), ", ")+`) or a path to a rule-set YAML file`)
}

// Within keeps a path inside the root: what leads out is refused before anything is
// read, with an error that names the path and nothing of the file.
func TestLookupWithin(t *testing.T) {
	outside := tree(t, map[string]string{"secret.yaml": passwd, "mini.yaml": miniRuleSet})
	root := tree(t, map[string]string{
		"rules/mini.yaml":          miniRuleSet,
		"scen/local.yaml":          miniRuleSet,
		"secret.env":               passwd,
		"scen/escape.yaml":         "->" + filepath.Join(outside, "secret.yaml"),
		"scen/escape-rel.yaml":     "->../../" + filepath.Base(outside) + "/mini.yaml",
		"scen/to-env.yaml":         "->../secret.env",
		"scen/to-inside.yaml":      "->../rules/mini.yaml",
		"linked-dir":               "->" + outside,
		"scen/linked-dir/x.yaml":   miniRuleSet, // scen/linked-dir is a real directory
		"scen/link-to-parent.yaml": "->..",
	})
	dir := filepath.Join(root, "scen")
	ok := []string{"local.yaml", "../rules/mini.yaml", "to-inside.yaml", "./local.yaml", "linked-dir/x.yaml",
		"../scen/../rules/mini.yaml"}
	for _, p := range ok {
		t.Run("ok "+p, func(t *testing.T) {
			rs, err := providers.Lookup(p, dir, providers.Within(root))
			require.NoError(t, err)
			assert.Equal(t, "mini", rs.Name)
		})
	}
	refused := map[string]string{
		"/etc/passwd": `rule set path "/etc/passwd" is absolute; it must be relative and stay inside ` + root,
		filepath.Join(outside, "mini.yaml"): `rule set path "` + filepath.Join(outside, "mini.yaml")[:40] +
			`"… is absolute; it must be relative and stay inside ` + root,
		"../../" + filepath.Base(outside) + "/mini.yaml": `rule set path "../../` + filepath.Base(outside) +
			`/mini.yaml" leads outside ` + root,
		"../../../../../../../../etc/passwd.yaml": `rule set path "../../../../../../../../etc/passwd.yaml" leads outside ` + root,
		"secret.env/../secret.env":                `rule set path "secret.env/../secret.env" does not name a .yaml or .yml file`,
		"../secret.env":                           `rule set path "../secret.env" does not name a .yaml or .yml file`,
		"escape.yaml":                             `rule set path "escape.yaml" leads outside ` + root + ` once symbolic links are resolved`,
		"escape-rel.yaml":                         `rule set path "escape-rel.yaml" leads outside ` + root + ` once symbolic links are resolved`,
		"../linked-dir/mini.yaml":                 `rule set path "../linked-dir/mini.yaml" leads outside ` + root + ` once symbolic links are resolved`,
		"to-env.yaml":                             `rule set path "to-env.yaml" does not name a .yaml or .yml file once symbolic links are resolved`,
	}
	for p, want := range refused {
		t.Run("refused "+p, func(t *testing.T) {
			rs, err := providers.Lookup(p, dir, providers.Within(root))
			require.Error(t, err)
			assert.Nil(t, rs)
			assert.Equal(t, want, err.Error())
			assert.True(t, errors.Is(err, providers.ErrOutsideRoot))
			assert.NotContains(t, err.Error(), "root:x")
		})
	}

	// The root may be given relative, and through a symbolic link.
	t.Chdir(root)
	_, err := providers.Lookup("mini.yaml", "rules", providers.Within("."))
	require.NoError(t, err)
	_, err = providers.Lookup("../rules/mini.yaml", "rules", providers.Within("rules"))
	require.NoError(t, err, "../rules is rules itself")
	_, err = providers.Lookup("../secret.yaml", "linked-dir", providers.Within("linked-dir"))
	assert.EqualError(t, err, `rule set path "../secret.yaml" leads outside linked-dir`)
	_, err = providers.Lookup("mini.yaml", "linked-dir", providers.Within("linked-dir"))
	require.NoError(t, err)

	// A missing file is an error that is not about the root.
	_, err = providers.Lookup("missing.yaml", "rules", providers.Within("."))
	require.Error(t, err)
	assert.True(t, errors.Is(err, os.ErrNotExist))
	assert.False(t, errors.Is(err, providers.ErrOutsideRoot))
	assert.Equal(t, `there is no rule-set file "missing.yaml"`, err.Error())
}

// Without Within, any path is read: the user's own --provider.
func TestLookupAnyPath(t *testing.T) {
	outside := tree(t, map[string]string{"mini.yaml": miniRuleSet})
	rs, err := providers.Lookup(filepath.Join(outside, "mini.yaml"), t.TempDir())
	require.NoError(t, err)
	assert.Equal(t, "mini", rs.Name)
	rs, err = providers.Lookup("../"+filepath.Base(outside)+"/mini.yaml", outside)
	require.NoError(t, err)
	assert.Equal(t, "mini", rs.Name)
}

// A file inside the root that is not a rule set gives short errors that quote at most
// a short excerpt of it: never a whole file.
func TestLookupInvalidFileQuotesAnExcerpt(t *testing.T) {
	garbage := make([]byte, 7<<20)
	for i := range garbage {
		garbage[i] = byte(i*131 + i>>8)
	}
	root := tree(t, map[string]string{
		"passwd.yaml":   passwd,
		"line.yaml":     strings.Repeat("x", 7<<20) + secret,
		"garbage.yaml":  string(garbage),
		"key-line.yaml": "name: t\n? " + strings.Repeat("k", 1<<20) + secret + "\n: 1\n",
		"flow.yaml":     "[" + strings.Repeat("x, ", 100_000) + secret + "]",
	})
	want := map[string]string{
		"passwd.yaml": `rule set "passwd.yaml" is invalid:` + "\n" +
			filepath.Join(root, "passwd.yaml") + `:1:1: must be a mapping, got str "root:x:0:0:root:/root:/bin/bash daemon:x"…`,
		"line.yaml": `rule set "line.yaml" is invalid:` + "\n" +
			filepath.Join(root, "line.yaml") + `:1:1: must be a mapping, got str "` + strings.Repeat("x", 40) + `"…`,
	}
	for name := range map[string]bool{"passwd.yaml": true, "line.yaml": true, "garbage.yaml": true, "key-line.yaml": true, "flow.yaml": true} {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			_, err := providers.Lookup(name, root, providers.Within(root))
			assert.Less(t, time.Since(start), timeBudget)
			require.Error(t, err)
			assert.True(t, errors.Is(err, rules.ErrInvalidRuleSet))
			assert.NotContains(t, err.Error(), secret)
			for _, line := range strings.Split(err.Error(), "\n") {
				assert.Less(t, len(line), 300, line)
			}
			if w, ok := want[name]; ok {
				assert.Equal(t, w, err.Error())
			}
		})
	}
}

func TestUnknownLongName(t *testing.T) {
	_, err := providers.Source("x\n" + strings.Repeat("y", 1<<20))
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), `unknown provider "x\n`+strings.Repeat("y", 38)+`"…; the built-in rule sets are `), err.Error())
	_, err = providers.Load(strings.Repeat("y", 1<<20))
	assert.Less(t, len(err.Error()), 200)
}
