// Package yamlx decodes YAML documents strictly, by walking yaml.Node trees, so that
// every problem is reported together with its file, line, column and key path.
//
// Invariants: an unknown or duplicate key is always an error; scalars are never read
// through float64 (money stays a decimal string); aliases are followed under a node
// budget, so an alias bomb fails with a positioned error instead of exhausting memory;
// nesting deeper than MaxDepth is an error. Nothing here panics on any input.
package yamlx
