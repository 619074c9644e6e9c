package yamlx

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"
	"go.yaml.in/yaml/v3"

	"github.com/voucherkit/voucherkit/internal/excerpt"
)

// A file model is a Go struct whose fields declare the keys of one YAML mapping: each
// key is written once, in a field's tags, and Decode, the "known keys" message, the
// positions of later errors and the JSON Schema all come from that one declaration.
//
//	type item struct {
//		ID     string          `yaml:"id" check:"required,nonempty" doc:"line id"`
//		Amount decimal.Decimal `yaml:"amount" check:"required,negative" doc:"the line's amount"`
//	}
//
// Tags:
//   - yaml:"key" names the key; the fields' order is the order of the "known keys"
//     message. A field without a yaml tag is not a key.
//   - doc:"..." describes the key (the JSON Schema's description).
//   - check:"..." is a comma-separated list of: required (the key must be given);
//     nonempty (a string must not be blank); text (a string of any length; otherwise at
//     most MaxString characters); negative (a decimal may be below zero); min=N, max=N
//     (an integer's range, default 0 to 1,000,000); end (a date means through the end
//     of that day; otherwise its start); dups (a list of strings keeps duplicates, and
//     an empty list stays empty, not nil); zone (a string names an IANA time zone, and
//     times decoded after it are read in it).
//   - empty:"message" refuses an empty list or mapping with that message.
//
// Kinds of value, by the field's Go type: string; a string type registered with
// RegisterEnum (one of its values); bool; int; decimal.Decimal (never through a float);
// time.Time (RFC 3339, or a date in the zone of Ctx.Loc); time.Duration ("15m",
// "30d"); a slice of any of these or of a struct; Entries[T] (a mapping whose keys are
// ids, in document order); a nested struct; a pointer to any of these (nil when the
// key is absent); and any type whose pointer implements Decoder.

// Decoder is implemented by a type that decodes itself from a node, for values the
// tags cannot say. It reports its own errors on c.Doc and returns false on any.
type Decoder interface {
	DecodeYAML(c *Ctx, n *yaml.Node, path string) bool
}

// Ctx is one decoding of a document: the Doc that collects errors, the zone dates are
// read in, and the node of every key path decoded, for positioning later errors.
type Ctx struct {
	Doc *Doc
	// Loc is the zone a date without a time is read in (UTC when nil); a field with the
	// check zone sets it.
	Loc   *time.Location
	nodes map[string]*yaml.Node
	keys  map[string]*yaml.Node
}

// NewCtx starts a decoding on d.
func NewCtx(d *Doc) *Ctx {
	return &Ctx{Doc: d, Loc: time.UTC, nodes: map[string]*yaml.Node{}, keys: map[string]*yaml.Node{}}
}

// Node returns the value node decoded at path ("items[1].amount"), or the nearest
// enclosing one that was decoded ("items[1]", "items"); nil when none was.
func (c *Ctx) Node(path string) *yaml.Node {
	for {
		if n, ok := c.nodes[path]; ok {
			return n
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			return c.nodes[""]
		}
		path = path[:i]
	}
}

// KeyNode returns the key node of the mapping entry at path, or nil.
func (c *Ctx) KeyNode(path string) *yaml.Node { return c.keys[path] }

// Has reports whether the key at path was given.
func (c *Ctx) Has(path string) bool { return c.keys[path] != nil }

// Errorf reports a problem at the value of path (see Node).
func (c *Ctx) Errorf(path, format string, args ...any) {
	c.Doc.Errorf(c.Node(path), path, format, args...)
}

// KeyErrorf reports a problem at the key of path (the value's when the key is unknown).
func (c *Ctx) KeyErrorf(path, format string, args ...any) {
	n := c.keys[path]
	if n == nil {
		n = c.Node(path)
	}
	c.Doc.Errorf(n, path, format, args...)
}

// Decode decodes n, at key path path, into out (a pointer to a file model), reporting
// every problem on c.Doc; it returns false when it reported any.
func Decode(c *Ctx, n *yaml.Node, path string, out any) bool {
	before := c.Doc.ErrorCount()
	v := reflect.ValueOf(out)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		panic("yamlx.Decode: out must be a non-nil pointer")
	}
	c.nodes[path] = Resolve(n)
	c.value(n, path, v.Elem(), fieldSpec{})
	return c.Doc.ErrorCount() == before
}

// fieldSpec is what the tags of one field say.
type fieldSpec struct {
	key, doc, empty               string
	required, nonempty, text, neg bool
	end, dups, zone, partial      bool
	min, max                      int
	index                         int
}

var decoderType = reflect.TypeFor[Decoder]()

// Fields returns the keys a file model declares, in order.
func Fields(model any) []string {
	t := reflect.TypeOf(model)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	specs := structSpecs(t)
	keys := make([]string, len(specs))
	for i, s := range specs {
		keys[i] = s.key
	}
	return keys
}

var specCache sync.Map // reflect.Type -> []fieldSpec

func structSpecs(t reflect.Type) []fieldSpec {
	if s, ok := specCache.Load(t); ok {
		return s.([]fieldSpec)
	}
	var specs []fieldSpec
	for i := range t.NumField() {
		f := t.Field(i)
		key, ok := f.Tag.Lookup("yaml")
		if !ok || key == "-" {
			continue
		}
		specs = append(specs, parseSpec(i, key, f.Tag))
	}
	specCache.Store(t, specs)
	return specs
}

func parseSpec(index int, key string, tag reflect.StructTag) fieldSpec {
	s := fieldSpec{key: key, index: index, doc: tag.Get("doc"), empty: tag.Get("empty"), max: 1_000_000}
	for _, c := range strings.Split(tag.Get("check"), ",") {
		name, arg, _ := strings.Cut(strings.TrimSpace(c), "=")
		switch name {
		case "":
		case "required":
			s.required = true
		case "nonempty":
			s.nonempty = true
		case "text":
			s.text = true
		case "negative":
			s.neg = true
		case "end":
			s.end = true
		case "dups":
			s.dups = true
		case "zone":
			s.zone = true
		case "partial":
			s.partial = true
		case "min", "max":
			v, err := strconv.Atoi(arg)
			if err != nil {
				panic("yamlx: bad check " + c)
			}
			if name == "min" {
				s.min = v
			} else {
				s.max = v
			}
		default:
			panic("yamlx: unknown check " + c)
		}
	}
	return s
}

// Struct decodes mapping n into the struct v: known keys, duplicates, required keys,
// then each field in declaration order.
func (c *Ctx) structValue(n *yaml.Node, path string, v reflect.Value) {
	specs := structSpecs(v.Type())
	known := make([]string, len(specs))
	for i, s := range specs {
		known[i] = s.key
	}
	fields, ok := c.Doc.Map(n, path, known...)
	if !ok {
		return
	}
	given := make(map[string]Field, len(fields))
	for _, f := range fields {
		given[f.Key] = f
		c.keys[f.Path] = f.KeyNode
		c.nodes[f.Path] = Resolve(f.Value)
	}
	for _, s := range specs {
		if _, ok := given[s.key]; !ok && s.required {
			c.Doc.Errorf(n, Join(path, s.key), "is required")
		}
	}
	for _, s := range specs {
		if f, ok := given[s.key]; ok {
			c.value(f.Value, f.Path, v.Field(s.index), s)
		}
	}
}

// value decodes n into v as s says.
func (c *Ctx) value(n *yaml.Node, path string, v reflect.Value, s fieldSpec) {
	if v.CanAddr() && v.Addr().Type().Implements(decoderType) {
		v.Addr().Interface().(Decoder).DecodeYAML(c, n, path)
		return
	}
	if v.Kind() == reflect.Pointer {
		// A scalar that cannot be read stays nil; a mapping or a list is kept with what
		// could be read, so that checks of its other parts still run.
		p := reflect.New(v.Type().Elem())
		if c.value1(n, path, p.Elem(), s) || isComposite(p.Elem()) {
			v.Set(p)
		}
		return
	}
	c.value1(n, path, v, s)
}

// value1 decodes a non-pointer value; it reports whether it succeeded.
func (c *Ctx) value1(n *yaml.Node, path string, v reflect.Value, s fieldSpec) bool {
	d := c.Doc
	if v.CanAddr() && v.Addr().Type().Implements(decoderType) {
		return v.Addr().Interface().(Decoder).DecodeYAML(c, n, path)
	}
	switch t := v.Type(); {
	case t == reflect.TypeFor[decimal.Decimal]():
		x, ok := d.Decimal(n, path, s.neg)
		v.Set(reflect.ValueOf(x))
		return ok
	case t == reflect.TypeFor[time.Time]():
		kind := StartOfDay
		if s.end {
			kind = EndOfDay
		}
		x, ok := d.Time(n, path, c.Loc, kind)
		v.Set(reflect.ValueOf(x))
		return ok
	case t == reflect.TypeFor[time.Duration]():
		x, ok := d.Duration(n, path)
		v.SetInt(int64(x))
		return ok
	case isEntries(t):
		return c.entries(n, path, v, s)
	}
	switch v.Kind() {
	case reflect.String:
		return c.stringValue(n, path, v, s)
	case reflect.Bool:
		x, ok := d.Bool(n, path)
		v.SetBool(x)
		return ok
	case reflect.Int:
		x, ok := d.Int(n, path, s.min, s.max)
		v.SetInt(int64(x))
		return ok
	case reflect.Struct:
		before := d.ErrorCount()
		c.structValue(n, path, v)
		return d.ErrorCount() == before
	case reflect.Slice:
		return c.slice(n, path, v, s)
	}
	panic(fmt.Sprintf("yamlx: cannot decode into %s at %s", v.Type(), path))
}

func (c *Ctx) stringValue(n *yaml.Node, path string, v reflect.Value, s fieldSpec) bool {
	d := c.Doc
	var x string
	var ok bool
	switch {
	case s.text:
		x, ok = d.Text(n, path)
	case s.nonempty:
		x, ok = d.NonEmptyString(n, path)
	default:
		x, ok = d.String(n, path)
	}
	if !ok {
		return false
	}
	if e, isEnum := enumOf(v.Type()); isEnum && !e.has(x) {
		d.Errorf(n, path, "%s", excerpt.Unknown(e.noun, x, e.values))
		v.SetString(x)
		return false
	}
	if s.zone {
		loc, err := loadZone(x)
		if err != nil {
			d.Errorf(n, path, "unknown time zone %s; want an IANA name such as Asia/Shanghai or UTC", excerpt.Quote(x))
			return false
		}
		c.Loc = loc
	}
	v.SetString(x)
	return true
}

// loadZone loads an IANA zone by name, refusing names that are paths or Local.
func loadZone(name string) (*time.Location, error) {
	if name == "Local" || strings.HasPrefix(name, "/") || strings.Contains(name, "..") {
		return nil, fmt.Errorf("not an IANA zone name")
	}
	return time.LoadLocation(name)
}

func (c *Ctx) slice(n *yaml.Node, path string, v reflect.Value, s fieldSpec) bool {
	d := c.Doc
	items, ok := d.Seq(n, path)
	if !ok {
		return false
	}
	if len(items) == 0 && s.empty != "" {
		d.Errorf(n, path, "%s", s.empty)
	}
	elem := v.Type().Elem()
	out := reflect.MakeSlice(v.Type(), 0, len(items))
	good := true
	seen := map[string]bool{}
	item := fieldSpec{nonempty: true, neg: s.neg, end: s.end, min: s.min, max: s.max}
	for i, it := range items {
		p := Index(path, i)
		c.nodes[p] = Resolve(it)
		x := reflect.New(elem).Elem()
		if !c.value1(it, p, x, item) {
			good = false
			if elem.Kind() == reflect.Struct { // kept, so that indices match the file's
				out = reflect.Append(out, x)
			}
			continue
		}
		if elem.Kind() == reflect.String && !s.dups {
			if seen[x.String()] {
				d.Errorf(it, p, "%s is listed twice", excerpt.Quote(x.String()))
				good = false
				continue
			}
			seen[x.String()] = true
		}
		out = reflect.Append(out, x)
	}
	v.Set(out)
	return good
}

// Entries is a mapping whose keys are ids (instrument types, instrument ids), in
// document order.
type Entries[T any] []Entry[T]

// Entry is one key of Entries with its value.
type Entry[T any] struct {
	Key string
	// Path is the entry's key path, for Ctx.Errorf and Ctx.KeyErrorf.
	Path  string
	Value T
}

func (Entries[T]) entries() {}

func isEntries(t reflect.Type) bool {
	_, ok := reflect.New(t).Elem().Interface().(interface{ entries() })
	return ok
}

func (c *Ctx) entries(n *yaml.Node, path string, v reflect.Value, s fieldSpec) bool {
	d := c.Doc
	before := d.ErrorCount()
	fields, ok := d.Map(n, path)
	if !ok {
		return false
	}
	if len(fields) == 0 && s.empty != "" {
		d.Errorf(n, path, "%s", s.empty)
	}
	out := reflect.MakeSlice(v.Type(), 0, len(fields))
	for _, f := range fields {
		c.keys[f.Path] = f.KeyNode
		c.nodes[f.Path] = Resolve(f.Value)
		e := reflect.New(v.Type().Elem()).Elem()
		e.Field(0).SetString(f.Key)
		e.Field(1).SetString(f.Path)
		c.value(f.Value, f.Path, e.Field(2), fieldSpec{nonempty: true, neg: s.neg, min: s.min, max: s.max})
		out = reflect.Append(out, e)
	}
	v.Set(out)
	return d.ErrorCount() == before
}

// enum is a string type whose values are a fixed list.
type enum struct {
	noun   string
	values []string
}

func (e enum) has(s string) bool {
	for _, v := range e.values {
		if v == s {
			return true
		}
	}
	return false
}

// want lists the values as excerpt.Want does.
func (e enum) want() string { return excerpt.Want(e.values) }

var enums sync.Map // reflect.Type -> enum

// RegisterEnum declares the values of the string type T, and the noun its errors use
// ("order type": `unknown order type "x"; want one of ...`). Registering T again with
// the same values is allowed; with others, it panics.
func RegisterEnum[T ~string](noun string, values ...T) {
	e := enum{noun: noun, values: make([]string, len(values))}
	for i, v := range values {
		e.values[i] = string(v)
	}
	t := reflect.TypeFor[T]()
	if old, loaded := enums.LoadOrStore(t, e); loaded {
		o := old.(enum)
		if o.noun != e.noun || strings.Join(o.values, "\x00") != strings.Join(e.values, "\x00") {
			panic("yamlx: enum " + t.String() + " registered twice with different values")
		}
	}
}

func enumOf(t reflect.Type) (enum, bool) {
	e, ok := enums.Load(t)
	if !ok {
		return enum{}, false
	}
	return e.(enum), true
}

// EnumWant is what the error for a value of T that is not one of its values says it
// wants ("forfeit or restore").
func EnumWant[T ~string]() string {
	e, _ := enumOf(reflect.TypeFor[T]())
	return e.want()
}

// CheckKeys checks only the keys of mapping n against the file model: unknown and
// duplicate keys, and required ones missing; it decodes no value (for a part of a file
// that is decoded after it is laid over another).
func CheckKeys(c *Ctx, n *yaml.Node, path string, model any) bool {
	before := c.Doc.ErrorCount()
	t := reflect.TypeOf(model)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	specs := structSpecs(t)
	known := make([]string, len(specs))
	for i, s := range specs {
		known[i] = s.key
	}
	fields, ok := c.Doc.Map(n, path, known...)
	if !ok {
		return false
	}
	given := map[string]bool{}
	for _, f := range fields {
		given[f.Key] = true
		c.keys[f.Path] = f.KeyNode
		c.nodes[f.Path] = Resolve(f.Value)
	}
	for _, s := range specs {
		if s.required && !given[s.key] {
			c.Doc.Errorf(n, Join(path, s.key), "is required")
		}
	}
	return c.Doc.ErrorCount() == before
}

// isComposite reports whether v is decoded from a mapping or a list.
func isComposite(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Struct:
		return !(v.Type() == reflect.TypeFor[decimal.Decimal]() || v.Type() == reflect.TypeFor[time.Time]())
	case reflect.Slice:
		return true
	}
	return false
}

// Assign copies each field of the struct src into the field of the same name of the
// struct dst points at, where its type is dst's or a pointer to it (a nil pointer is
// not copied); fields dst does not have, or has with another type, are left to the
// caller. It lets a file model map onto a domain type without writing each key again.
func Assign(dst, src any) {
	d := reflect.ValueOf(dst).Elem()
	s := reflect.ValueOf(src)
	for i := range s.NumField() {
		name := s.Type().Field(i).Name
		to := d.FieldByName(name)
		if !to.IsValid() || !to.CanSet() {
			continue
		}
		from := s.Field(i)
		switch {
		case from.Type().AssignableTo(to.Type()):
			to.Set(from)
		case from.Kind() == reflect.Pointer && from.Type().Elem().AssignableTo(to.Type()):
			if !from.IsNil() {
				to.Set(from.Elem())
			}
		}
	}
}
