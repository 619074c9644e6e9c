package yamlx

import (
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

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

// ErrorCount is how many errors have been recorded so far, so that a caller can tell
// whether one part of a document added any.
func (d *Doc) ErrorCount() int { return len(d.errs) }

// ValueOf returns the value node of key in mapping n, without recording any error; nil
// when n is not a mapping or has no such key.
func ValueOf(n *yaml.Node, key string) *yaml.Node {
	n = Resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := Resolve(n.Content[i]); k != nil && k.Kind == yaml.ScalarNode && k.Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// NodeAt returns the node at key path path ("items[1].amount") under n, or the deepest
// node on the way that exists (n itself for ""); it records no error. It positions the
// problems a domain type's Validate names by field path (voucher.FieldError).
func NodeAt(n *yaml.Node, path string) *yaml.Node {
	for path != "" {
		var next *yaml.Node
		if strings.HasPrefix(path, "[") {
			end := strings.IndexByte(path, ']')
			if end < 0 {
				return n
			}
			i, err := strconv.Atoi(path[1:end])
			if s := Resolve(n); err == nil && s != nil && s.Kind == yaml.SequenceNode && i >= 0 && i < len(s.Content) {
				next = s.Content[i]
			}
			path = strings.TrimPrefix(path[end+1:], ".")
		} else {
			end := strings.IndexAny(path, ".[")
			if end < 0 {
				end = len(path)
			}
			next = ValueOf(n, path[:end])
			path = strings.TrimPrefix(path[end:], ".")
		}
		if next == nil {
			return n
		}
		n = next
	}
	return n
}

// FailedUnder reports whether an error was recorded at key path path or under it
// ("wallet[1]" covers "wallet[1].amount" and "wallet[1].products[0]").
func (d *Doc) FailedUnder(path string) bool {
	for _, e := range d.errs {
		if e.Key == path || strings.HasPrefix(e.Key, path+".") || strings.HasPrefix(e.Key, path+"[") {
			return true
		}
	}
	return false
}
