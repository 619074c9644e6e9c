package yamlx

import (
	"go.yaml.in/yaml/v3"
)

// Lookup returns the field called key, or false.
func Lookup(fields []Field, key string) (Field, bool) {
	for _, f := range fields {
		if f.Key == key {
			return f, true
		}
	}
	return Field{}, false
}

// TopKeys returns the keys of mapping n in document order, without recording any error;
// nil when n is not a mapping. It is for telling kinds of documents apart.
func TopKeys(n *yaml.Node) []string {
	n = Resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	keys := make([]string, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := Resolve(n.Content[i]); k != nil && k.Kind == yaml.ScalarNode {
			keys = append(keys, k.Value)
		}
	}
	return keys
}

// Strings reads a list of non-empty strings, keeping duplicates (callers that treat a
// repeated entry as a later, semantic error use it instead of StringList). It returns the
// list's item nodes too, so that later errors can point at an item.
func (d *Doc) Strings(n *yaml.Node, path string) ([]string, []*yaml.Node, bool) {
	items, ok := d.Seq(n, path)
	if !ok {
		return nil, nil, false
	}
	out := make([]string, 0, len(items))
	good := true
	for i, it := range items {
		s, ok := d.NonEmptyString(it, Index(path, i))
		if !ok {
			good = false
			continue
		}
		out = append(out, s)
	}
	return out, items, good
}

// ErrorCount is how many errors have been recorded so far, so that a caller can tell
// whether one part of a document added any.
func (d *Doc) ErrorCount() int { return len(d.errs) }
