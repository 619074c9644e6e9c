package yamlx

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExtraHelpers(t *testing.T) {
	d, root, err := Parse("x.yaml", []byte("b: 1\na: [x, {c: 2}]\n"))
	require.NoError(t, err)
	assert.Equal(t, []string{"b", "a"}, TopKeys(root), "document order")
	assert.Nil(t, TopKeys(nil))

	assert.Equal(t, "1", ValueOf(root, "b").Value)
	assert.Nil(t, ValueOf(root, "z"))
	assert.Nil(t, ValueOf(nil, "b"))

	n := NodeAt(root, "a[1].c")
	assert.Equal(t, "2", n.Value)
	assert.Equal(t, 2, n.Line)
	assert.Equal(t, ValueOf(root, "a").Content[1], NodeAt(root, "a[1].nothing"), "the deepest node on the way")
	assert.Equal(t, ValueOf(root, "a"), NodeAt(root, "a[7]"))
	assert.Equal(t, root, NodeAt(root, ""))

	assert.Equal(t, 0, d.ErrorCount())
	d.Errorf(n, "a[1].c", "bad")
	assert.True(t, d.FailedUnder("a"))
	assert.True(t, d.FailedUnder("a[1]"))
	assert.True(t, d.FailedUnder("a[1].c"))
	assert.False(t, d.FailedUnder("a[0]"))
	assert.False(t, d.FailedUnder("b"))
}
