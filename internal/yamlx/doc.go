// Package yamlx decodes YAML documents strictly, by walking yaml.Node trees, so that
// every problem is reported together with its file, line, column and key path.
//
// The formats are declared as file models: Go structs whose tags name each key once
// (yaml, check, doc, empty; see decode.go). Decode walks a document against a model,
// reporting unknown, duplicate and missing keys and values of the wrong kind, and
// records the node of every key path it decoded, so that a later check of what the
// values mean (a domain type's Validate naming "items[1].amount") is reported at its
// position by looking the path up, never by reading an error's text. Schema writes the
// same models as JSON Schema.
//
// One exception: yaml.v3 reports a syntax error only as text, with its line inside the
// sentence; syntax() reads the line from there, and a test pins the format of every
// syntax error the corpus holds.
//
// Invariants: an unknown or duplicate key is always an error; scalars are never read
// through float64 (money stays a decimal string); aliases are followed under a node
// budget, so an alias bomb fails with a positioned error instead of exhausting memory;
// nesting deeper than MaxDepth is an error; a string read as a name, an id or a code
// (String) is at most MaxString characters, so that no report or error can be made to
// print a huge one. A value an error echoes goes through excerpt.Quote (at most 40
// characters, escaped) and a key in a key path through excerpt.Show: an error never
// prints a whole file, nor a raw control character. Nothing here panics on any input.
package yamlx
