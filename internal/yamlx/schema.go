package yamlx

import (
	"encoding/json"
	"reflect"
	"time"

	"github.com/shopspring/decimal"
	"go.yaml.in/yaml/v3"
)

// Schemer is implemented by a Decoder type that knows its JSON Schema.
type Schemer interface {
	JSONSchema() map[string]any
}

var schemerType = reflect.TypeFor[Schemer]()

// Patterns the JSON Schemas use for the scalars Decode reads from text.
const (
	// DecimalPattern is a decimal amount as text; numbers are numbers.
	DecimalPattern = `^\s*[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?\s*$`
	// TimePattern is RFC 3339 with an offset, or a date.
	TimePattern = `^[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2}))?$`
	// DurationPattern is a Go duration or whole days.
	DurationPattern = `^([0-9]+d|([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+)$`
)

// Schema returns the JSON Schema (draft 2020-12) of the file model, as a value for
// encoding/json: every key with its description, kind, range and enum values, the
// required ones, and no other key.
func Schema(model any, title, description string) map[string]any {
	s := typeSchema(reflect.TypeOf(model), fieldSpec{max: 1_000_000})
	out := map[string]any{
		"$schema":     "https://json-schema.org/draft/2020-12/schema",
		"title":       title,
		"description": description,
	}
	for k, v := range s {
		out[k] = v
	}
	return out
}

// SchemaOf is the JSON Schema of a value of model's type, without the document header:
// for a Schemer that builds its schema from file models.
func SchemaOf(model any) map[string]any {
	return typeSchema(reflect.TypeOf(model), fieldSpec{max: 1_000_000})
}

func typeSchema(t reflect.Type, s fieldSpec) map[string]any {
	if reflect.PointerTo(t).Implements(schemerType) {
		return reflect.New(t).Interface().(Schemer).JSONSchema()
	}
	switch t {
	case reflect.TypeFor[decimal.Decimal]():
		d := map[string]any{"type": []string{"number", "string"}, "pattern": DecimalPattern}
		if !s.neg {
			d["minimum"] = 0
		}
		return d
	case reflect.TypeFor[time.Time]():
		return map[string]any{"type": "string", "pattern": TimePattern}
	case reflect.TypeFor[time.Duration]():
		return map[string]any{"type": "string", "pattern": DurationPattern}
	}
	if isEntries(t) {
		o := map[string]any{"type": "object", "additionalProperties": typeSchema(t.Elem().Field(2).Type, fieldSpec{nonempty: true, neg: s.neg, max: 1_000_000})}
		if s.empty != "" {
			o["minProperties"] = 1
		}
		return o
	}
	switch t.Kind() {
	case reflect.Pointer:
		return typeSchema(t.Elem(), s)
	case reflect.String:
		return stringSchema(t, s)
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int:
		return map[string]any{"type": "integer", "minimum": s.min, "maximum": s.max}
	case reflect.Slice:
		a := map[string]any{"type": "array", "items": typeSchema(t.Elem(), fieldSpec{nonempty: true, neg: s.neg, end: s.end, max: 1_000_000})}
		if t.Elem().Kind() == reflect.String && !s.dups {
			a["uniqueItems"] = true
		}
		if s.empty != "" {
			a["minItems"] = 1
		}
		return a
	case reflect.Struct:
		return structSchema(t, s.partial)
	}
	return map[string]any{}
}

func stringSchema(t reflect.Type, s fieldSpec) map[string]any {
	if e, ok := enumOf(t); ok {
		return map[string]any{"type": "string", "enum": e.values}
	}
	// String reads an unquoted integer as its text (an account number).
	str := map[string]any{"type": []string{"string", "integer"}}
	if !s.text {
		str["maxLength"] = MaxString
	}
	if s.nonempty {
		str["minLength"] = 1
		str["pattern"] = `\S`
	}
	return str
}

func structSchema(t reflect.Type, partial bool) map[string]any {
	props := map[string]any{}
	var required []string
	for _, s := range structSpecs(t) {
		p := typeSchema(t.Field(s.index).Type, s)
		if partial || s.partial {
			p = dropRequired(p)
		}
		if s.doc != "" {
			p["description"] = s.doc
		}
		props[s.key] = p
		if s.required && !partial {
			required = append(required, s.key)
		}
	}
	o := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

// Partial is schema s without any "required": for a part of a file that is laid over
// another.
func Partial(s map[string]any) map[string]any { return dropRequired(s) }

// dropRequired removes every "required" of a schema, for a part of a file that is laid
// over another (a rule-set version's types).
func dropRequired(s map[string]any) map[string]any {
	out := make(map[string]any, len(s))
	for k, v := range s {
		switch x := v.(type) {
		case map[string]any:
			v = dropRequired(x)
		}
		if k != "required" {
			out[k] = v
		}
	}
	if props, ok := out["properties"].(map[string]any); ok {
		for k, v := range props {
			if m, ok := v.(map[string]any); ok {
				props[k] = dropRequired(m)
			}
		}
	}
	return out
}

// ToJSON turns a parsed YAML node into the value encoding/json writes for it, as a
// JSON Schema validator reads it: scalars by their YAML tag (an unquoted date stays a
// string, an integer stays exact).
func ToJSON(n *yaml.Node) any {
	n = Resolve(n)
	if n == nil {
		return nil
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			m[Resolve(n.Content[i]).Value] = ToJSON(n.Content[i+1])
		}
		return m
	case yaml.SequenceNode:
		l := make([]any, len(n.Content))
		for i, c := range n.Content {
			l[i] = ToJSON(c)
		}
		return l
	}
	switch n.Tag {
	case "!!null":
		return nil
	case "!!bool":
		return n.Value == "true" || n.Value == "True" || n.Value == "TRUE"
	case "!!int", "!!float":
		return jsonNumber(n.Value)
	}
	return n.Value
}

// jsonNumber is a YAML number as JSON writes it; one JSON cannot hold (.inf, 0x1F) stays
// text, which a schema then refuses as it would the value.
func jsonNumber(s string) any {
	if d, err := decimal.NewFromString(s); err == nil {
		return json.Number(d.String())
	}
	return s
}
