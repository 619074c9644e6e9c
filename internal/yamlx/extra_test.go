package yamlx

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExtraHelpers(t *testing.T) {
	d, root, err := Parse("x.yaml", []byte("b: 1\na: [x, x, \"\"]\n"))
	require.NoError(t, err)
	assert.Equal(t, []string{"b", "a"}, TopKeys(root), "document order")
	assert.Nil(t, TopKeys(nil))

	fields, ok := d.Map(root, "")
	require.True(t, ok)
	f, ok := Lookup(fields, "a")
	require.True(t, ok)
	assert.Equal(t, "a", f.Path)
	_, ok = Lookup(fields, "c")
	assert.False(t, ok)

	assert.Equal(t, 0, d.ErrorCount())
	list, items, ok := d.Strings(f.Value, f.Path)
	assert.False(t, ok, "an empty string is refused")
	assert.Equal(t, []string{"x", "x"}, list, "duplicates are kept")
	assert.Len(t, items, 3)
	assert.Equal(t, 1, d.ErrorCount())
	assert.Contains(t, d.Err().Error(), "x.yaml:2:11: a[2]: must not be empty")

	d2, root2, err := Parse("y.yaml", []byte("a: []\n"))
	require.NoError(t, err)
	empty, _, ok := d2.Strings(root2.Content[1], "a")
	assert.True(t, ok)
	assert.NotNil(t, empty, "[] is an explicit, empty list")
	assert.Empty(t, empty)
}
