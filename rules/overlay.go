package rules

import (
	"go.yaml.in/yaml/v3"

	"github.com/voucherkit/voucherkit/internal/yamlx"
)

// overlay returns base with top's keys laid over it, as a new mapping node positioned
// where top is: a key in top replaces base's, except under types, where each type's
// keys are laid over the base type's. Lists are replaced whole. Keys in drop are left
// out of the result. Neither input is modified.
func overlay(base, top *yaml.Node, drop ...string) *yaml.Node {
	base, top = yamlx.Resolve(base), yamlx.Resolve(top)
	out := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: top.Line, Column: top.Column}
	idx := map[string]int{}
	add := func(k, v *yaml.Node) {
		out.Content = append(out.Content, k, v)
		idx[k.Value] = len(out.Content) - 1
	}
	for i := 0; i+1 < len(base.Content); i += 2 {
		k := base.Content[i]
		if !dropped(k.Value, drop) {
			add(k, base.Content[i+1])
		}
	}
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		if dropped(k.Value, drop) {
			continue
		}
		j, ok := idx[k.Value]
		if !ok {
			add(k, v)
			continue
		}
		if k.Value == "types" && isMap(out.Content[j]) && isMap(v) {
			out.Content[j-1], out.Content[j] = k, mergeTypes(out.Content[j], v)
			continue
		}
		out.Content[j-1], out.Content[j] = k, v
	}
	return out
}

// mergeTypes lays each type of top over the same type of base; new types are added.
func mergeTypes(base, top *yaml.Node) *yaml.Node {
	base, top = yamlx.Resolve(base), yamlx.Resolve(top)
	out := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: top.Line, Column: top.Column}
	idx := map[string]int{}
	for i := 0; i+1 < len(base.Content); i += 2 {
		out.Content = append(out.Content, base.Content[i], base.Content[i+1])
		idx[base.Content[i].Value] = len(out.Content) - 1
	}
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		j, ok := idx[k.Value]
		if !ok {
			out.Content = append(out.Content, k, v)
			idx[k.Value] = len(out.Content) - 1
			continue
		}
		if isMap(out.Content[j]) && isMap(v) {
			out.Content[j-1], out.Content[j] = k, overlay(out.Content[j], v)
			continue
		}
		out.Content[j-1], out.Content[j] = k, v
	}
	return out
}

func isMap(n *yaml.Node) bool {
	n = yamlx.Resolve(n)
	return n != nil && n.Kind == yaml.MappingNode
}

func dropped(key string, drop []string) bool {
	for _, d := range drop {
		if d == key {
			return true
		}
	}
	return false
}

// without returns a shallow copy of mapping n without the keys in drop.
func without(n *yaml.Node, drop ...string) *yaml.Node {
	n = yamlx.Resolve(n)
	out := *n
	out.Content = nil
	for i := 0; i+1 < len(n.Content); i += 2 {
		if !dropped(n.Content[i].Value, drop) {
			out.Content = append(out.Content, n.Content[i], n.Content[i+1])
		}
	}
	return &out
}
