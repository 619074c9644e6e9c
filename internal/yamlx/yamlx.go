package yamlx

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"
	"go.yaml.in/yaml/v3"

	"github.com/voucherkit/voucherkit/internal/excerpt"
)

// Limits on what one document may hold.
const (
	MaxDepth  = 64
	MaxNodes  = 200_000
	MaxBytes  = 8 << 20
	MaxErrors = 100
	// MaxString is the longest string scalar (a name, an id, a code) String accepts, in
	// characters; Text reads longer free text.
	MaxString = excerpt.MaxShown
)

// Error is one problem at one place.
type Error struct {
	File   string
	Line   int
	Column int
	// Key is the path of the offending key ("types.voucher.selection[1]"); may be empty.
	Key string
	Msg string
	// Err is an optional sentinel this error wraps.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Column)
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Errors is every problem of one document, sorted by position.
type Errors []*Error

func (es Errors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// Unwrap lets errors.Is and errors.As see each error.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// Doc collects the errors of one document as it is walked.
type Doc struct {
	File string
	// Origins names the file of nodes that came from another document (a rule set this
	// one extends); errors at those nodes name that file.
	Origins map[*yaml.Node]string
	errs    Errors
	nodes   int
	body    *yaml.Node
}

// MarkOrigin records that every node under n came from file.
func (d *Doc) MarkOrigin(n *yaml.Node, file string) {
	if d.Origins == nil {
		d.Origins = map[*yaml.Node]string{}
	}
	var walk func(*yaml.Node, int)
	walk = func(n *yaml.Node, depth int) {
		if n == nil || depth > MaxDepth {
			return
		}
		if _, seen := d.Origins[n]; seen {
			return
		}
		d.Origins[n] = file
		for _, c := range n.Content {
			walk(c, depth+1)
		}
	}
	walk(n, 0)
}

// Parse reads one YAML document. A syntax error is returned as Errors with the line
// the parser names.
func Parse(file string, data []byte) (*Doc, *yaml.Node, error) {
	d := &Doc{File: file}
	if len(data) > MaxBytes {
		d.Errorf(nil, "", "document is %d bytes; the limit is %d", len(data), MaxBytes)
		return d, nil, d.Err()
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			d.Errorf(nil, "", "document is empty")
		} else {
			d.syntax(err)
		}
		return d, nil, d.Err()
	}
	if root.Kind == 0 || len(root.Content) == 0 {
		d.Errorf(nil, "", "document is empty")
		return d, nil, d.Err()
	}
	// yaml.Unmarshal would silently drop every document after the first.
	var next yaml.Node
	if err := dec.Decode(&next); err == nil {
		d.Errorf(&next, "", "found a second YAML document; a file holds exactly one")
		return d, nil, d.Err()
	} else if !errors.Is(err, io.EOF) {
		d.syntax(err)
		return d, nil, d.Err()
	}
	body := root.Content[0]
	d.body = body
	if !d.checkTree(body, 0) {
		return d, nil, d.Err()
	}
	return d, body, nil
}

var lineRE = regexp.MustCompile(`line (\d+)(?:, column (\d+))?`)

// anchorRE finds the anchor name, taken from the input, in a message of yaml.v3.
var anchorRE = regexp.MustCompile(`^(.*anchor )'(.*)'( referenced| value contains itself)$`)

func (d *Doc) syntax(err error) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if m := anchorRE.FindStringSubmatch(msg); m != nil && excerpt.Show(m[2]) != m[2] {
		msg = m[1] + excerpt.Quote(m[2]) + m[3]
	}
	if excerpt.Show(msg) != msg { // a message of yaml.v3 that quotes more than it should
		msg = excerpt.Quote(msg)
	}
	e := &Error{File: d.File, Msg: "invalid YAML: " + msg}
	if m := lineRE.FindStringSubmatch(msg); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Column = 1
		if m[2] != "" {
			e.Column, _ = strconv.Atoi(m[2])
		}
		e.Msg = "invalid YAML: " + strings.TrimSpace(lineRE.ReplaceAllString(msg, ""))
		e.Msg = strings.TrimSuffix(strings.TrimPrefix(e.Msg, "invalid YAML: : "), ":")
		if !strings.HasPrefix(e.Msg, "invalid YAML") {
			e.Msg = "invalid YAML: " + e.Msg
		}
	}
	if slices.Contains(parserProblems, strings.TrimPrefix(e.Msg, "invalid YAML: ")) {
		// yaml.v3 names a parser error by the 0-based line of its context, and gives no
		// line when that is 0: both mean one line further down.
		e.Line++
		e.Column = max(e.Column, 1)
	}
	d.errs = append(d.errs, e)
}

// parserProblems are the problems yaml.v3's parser (not its scanner) reports.
var parserProblems = []string{
	"did not find expected <stream-start>",
	"did not find expected <document start>",
	"found undefined tag handle",
	"did not find expected node content",
	"did not find expected '-' indicator",
	"did not find expected key",
	"did not find expected ',' or ']'",
	"did not find expected ',' or '}'",
	"found duplicate %YAML directive",
	"found incompatible YAML document",
	"found duplicate %TAG directive",
}

// checkTree bounds depth and node count, following aliases, before anything is decoded.
func (d *Doc) checkTree(n *yaml.Node, depth int) bool {
	if depth > MaxDepth {
		d.Errorf(n, "", "nesting is deeper than %d levels", MaxDepth)
		return false
	}
	d.nodes++
	if d.nodes > MaxNodes {
		if countNodes(d.body, MaxNodes+1) > MaxNodes {
			d.Errorf(n, "", "document is too large: it has more than the limit of %d nodes (keys, values, list items)", MaxNodes)
		} else {
			d.Errorf(n, "", "document is too large: its aliases expand it to more than the limit of %d nodes (keys, values, list items)", MaxNodes)
		}
		return false
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			d.Errorf(n, "", "alias to an unknown anchor")
			return false
		}
		return d.checkTree(n.Alias, depth+1)
	}
	for _, c := range n.Content {
		if !d.checkTree(c, depth+1) {
			return false
		}
	}
	return true
}

// countNodes counts the nodes of the tree under n as written, not following aliases,
// stopping at most.
func countNodes(n *yaml.Node, most int) int {
	count, stack := 0, []*yaml.Node{n}
	for len(stack) > 0 && count < most {
		n, stack = stack[len(stack)-1], stack[:len(stack)-1]
		count++
		stack = append(stack, n.Content...)
	}
	return count
}

// Errorf records an error at node n (nil: no position) for key path.
func (d *Doc) Errorf(n *yaml.Node, key, format string, args ...any) {
	d.ErrorWrap(n, key, nil, format, args...)
}

// ErrorWrap records an error that wraps sentinel.
func (d *Doc) ErrorWrap(n *yaml.Node, key string, sentinel error, format string, args ...any) {
	if len(d.errs) >= MaxErrors {
		return
	}
	e := &Error{File: d.File, Key: key, Msg: fmt.Sprintf(format, args...), Err: sentinel}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
		if f, ok := d.Origins[n]; ok {
			e.File = f
		}
	}
	for _, x := range d.errs {
		if *x == *e {
			return
		}
	}
	d.errs = append(d.errs, e)
}

// Tag makes every recorded error without a sentinel wrap sentinel, so that callers can
// match a whole class of documents with errors.Is.
func (d *Doc) Tag(sentinel error) {
	for _, e := range d.errs {
		if e.Err == nil {
			e.Err = sentinel
		}
	}
}

// Failed reports whether any error was recorded.
func (d *Doc) Failed() bool { return len(d.errs) > 0 }

// Err returns the recorded errors sorted by position, or nil.
func (d *Doc) Err() error {
	if len(d.errs) == 0 {
		return nil
	}
	es := append(Errors(nil), d.errs...)
	sort.SliceStable(es, func(i, j int) bool {
		if (es[i].File == d.File) != (es[j].File == d.File) {
			return es[i].File == d.File
		}
		if es[i].Line != es[j].Line {
			return es[i].Line < es[j].Line
		}
		return es[i].Column < es[j].Column
	})
	return es
}

// Resolve follows aliases.
func Resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < MaxDepth; i++ {
		n = n.Alias
	}
	return n
}

// Join appends a map key to a path. The key is shown as excerpt.Show shows it: as it
// is, or quoted when it is empty, long or holds a control character.
func Join(path, key string) string {
	key = excerpt.Show(key)
	if path == "" {
		return key
	}
	return path + "." + key
}

// Index appends a list index to a path.
func Index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// Field is one key of a mapping with its value.
type Field struct {
	Key     string
	Path    string
	KeyNode *yaml.Node
	Value   *yaml.Node
}

// Map returns the fields of mapping n in document order, reporting duplicate keys and
// keys that are not in known (nil known: any key). ok is false when n is not a mapping.
func (d *Doc) Map(n *yaml.Node, path string, known ...string) ([]Field, bool) {
	n = Resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		d.Errorf(n, path, "must be a mapping, got %s", describe(n))
		return nil, false
	}
	fields := make([]Field, 0, len(n.Content)/2)
	seen := make(map[string]bool, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := Resolve(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.Errorf(k, path, "keys must be plain strings")
			continue
		}
		p := Join(path, k.Value)
		if k.Tag == "!!merge" || k.Value == "<<" && k.Style == 0 {
			d.Errorf(k, p, "merge keys are not supported")
			continue
		}
		if seen[k.Value] {
			d.Errorf(k, p, "duplicate key")
			continue
		}
		seen[k.Value] = true
		if known != nil && !contains(known, k.Value) {
			d.Errorf(k, p, "unknown key (known keys: %s)", strings.Join(known, ", "))
			continue
		}
		fields = append(fields, Field{Key: k.Value, Path: p, KeyNode: k, Value: v})
	}
	return fields, true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func describe(n *yaml.Node) string {
	if n == nil {
		return "nothing"
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "null"
		}
		return strings.TrimPrefix(n.Tag, "!!") + " " + excerpt.Quote(n.Value)
	}
	return "an unexpected node"
}

// Seq returns the items of list n; ok is false (with an error) when n is not a list.
func (d *Doc) Seq(n *yaml.Node, path string) ([]*yaml.Node, bool) {
	n = Resolve(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		d.Errorf(n, path, "must be a list, got %s", describe(n))
		return nil, false
	}
	return n.Content, true
}

func (d *Doc) scalar(n *yaml.Node, path, want string) (*yaml.Node, bool) {
	n = Resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		d.Errorf(n, path, "must be %s, got %s", want, describe(n))
		return nil, false
	}
	return n, true
}

// String reads a string scalar of at most MaxString characters: a name, an id, a code.
// An unquoted integer is read as its text (ids such as an AWS account number);
// booleans, floats and null are refused.
func (d *Doc) String(n *yaml.Node, path string) (string, bool) {
	s, ok := d.Text(n, path)
	if !ok {
		return "", false
	}
	if l := utf8.RuneCountInString(s); l > MaxString {
		d.Errorf(n, path, "is %d characters long; the limit is %d", l, MaxString)
		return "", false
	}
	return s, true
}

// Text reads a string scalar of any length (a description), as String does otherwise.
func (d *Doc) Text(n *yaml.Node, path string) (string, bool) {
	s, ok := d.scalar(n, path, "a string")
	if !ok {
		return "", false
	}
	switch s.Tag {
	case "!!str", "!!int":
		return s.Value, true
	}
	d.Errorf(s, path, "must be a string, got %s", describe(s))
	return "", false
}

// NonEmptyString is String that refuses "".
func (d *Doc) NonEmptyString(n *yaml.Node, path string) (string, bool) {
	s, ok := d.String(n, path)
	if ok && strings.TrimSpace(s) == "" {
		d.Errorf(n, path, "must not be empty")
		return "", false
	}
	return s, ok
}

// Bool reads true or false.
func (d *Doc) Bool(n *yaml.Node, path string) (bool, bool) {
	s, ok := d.scalar(n, path, "true or false")
	if !ok {
		return false, false
	}
	if s.Tag != "!!bool" {
		d.Errorf(s, path, "must be true or false, got %s", describe(s))
		return false, false
	}
	v, err := strconv.ParseBool(s.Value)
	if err != nil {
		d.Errorf(s, path, "must be true or false, got %s", excerpt.Quote(s.Value))
		return false, false
	}
	return v, true
}

// Int reads an integer in [lo, hi].
func (d *Doc) Int(n *yaml.Node, path string, lo, hi int) (int, bool) {
	s, ok := d.scalar(n, path, "an integer")
	if !ok {
		return 0, false
	}
	v, err := strconv.Atoi(s.Value)
	if s.Tag != "!!int" || err != nil {
		d.Errorf(s, path, "must be an integer, got %s", describe(s))
		return 0, false
	}
	if v < lo || v > hi {
		d.Errorf(s, path, "must be between %d and %d, got %d", lo, hi, v)
		return 0, false
	}
	return v, true
}

// Decimal reads a number or a decimal string exactly (never through a float),
// refusing NaN, infinities, exponents beyond ±30 and, unless allowNegative, values
// below zero.
func (d *Doc) Decimal(n *yaml.Node, path string, allowNegative bool) (decimal.Decimal, bool) {
	s, ok := d.scalar(n, path, "a decimal amount")
	if !ok {
		return decimal.Decimal{}, false
	}
	switch s.Tag {
	case "!!str", "!!int", "!!float":
	default:
		d.Errorf(s, path, "must be a decimal amount, got %s", describe(s))
		return decimal.Decimal{}, false
	}
	t := strings.TrimSpace(s.Value)
	if len(t) > 64 {
		d.Errorf(s, path, "amount is longer than 64 characters")
		return decimal.Decimal{}, false
	}
	v, err := decimal.NewFromString(t)
	if err != nil {
		d.Errorf(s, path, "must be a decimal amount such as \"12.50\", got %s", excerpt.Quote(s.Value))
		return decimal.Decimal{}, false
	}
	if e := v.Exponent(); (e > 30 || e < -30) && !v.IsZero() {
		d.Errorf(s, path, "amount %s is out of range", excerpt.Quote(s.Value))
		return decimal.Decimal{}, false
	}
	if v.IsNegative() && !allowNegative {
		d.Errorf(s, path, "must not be negative, got %s", excerpt.Show(s.Value))
		return decimal.Decimal{}, false
	}
	return v, true
}

// StringList reads a list of strings, refusing duplicates.
func (d *Doc) StringList(n *yaml.Node, path string) ([]string, bool) {
	items, ok := d.Seq(n, path)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(items))
	seen := make(map[string]bool, len(items))
	good := true
	for i, it := range items {
		p := Index(path, i)
		s, ok := d.NonEmptyString(it, p)
		if !ok {
			good = false
			continue
		}
		if seen[s] {
			d.Errorf(it, p, "%s is listed twice", excerpt.Quote(s))
			good = false
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	return out, good
}

// ErrDuration is wrapped by duration errors.
var ErrDuration = errors.New("invalid duration")

// Duration reads "30m", "720h" or a day count "30d" (days of 24 hours).
func (d *Doc) Duration(n *yaml.Node, path string) (time.Duration, bool) {
	s, ok := d.String(n, path)
	if !ok {
		return 0, false
	}
	v, err := ParseDuration(s)
	if err != nil {
		d.Errorf(n, path, "%v", err)
		return 0, false
	}
	return v, true
}

// ParseDuration reads a Go duration ("15m", "720h") or whole days ("30d"); it must be positive.
func ParseDuration(s string) (time.Duration, error) {
	if strings.HasSuffix(s, "d") {
		days, err := strconv.Atoi(strings.TrimSuffix(s, "d"))
		if err != nil || days <= 0 || days > 36500 {
			return 0, fmt.Errorf("%w: %s is not a positive number of days such as \"30d\"", ErrDuration, excerpt.Quote(s))
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	v, err := time.ParseDuration(s)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("%w: %s is not a positive duration such as \"15m\" or \"30d\"", ErrDuration, excerpt.Quote(s))
	}
	return v, nil
}

// TimeKind says how a date without a time is read.
type TimeKind int

const (
	// StartOfDay: a date is the start of that day.
	StartOfDay TimeKind = iota
	// EndOfDay: a date means "through the end of that day": the start of the next day.
	EndOfDay
)

// Time reads RFC 3339 with an offset, or a date (2006-01-02) in loc.
func (d *Doc) Time(n *yaml.Node, path string, loc *time.Location, kind TimeKind) (time.Time, bool) {
	s, ok := d.scalar(n, path, "a time")
	if !ok {
		return time.Time{}, false
	}
	v, err := ParseTime(s.Value, loc, kind)
	if err != nil {
		d.Errorf(s, path, "%v", err)
		return time.Time{}, false
	}
	return v, true
}

// ParseTime reads RFC 3339 with an offset, or a date (2006-01-02) in loc, as kind says.
// As RFC 3339 (§5.6) says, T and Z may be lower case and an offset is at most 23:59.
// A time the library cannot hold is refused: one outside the years 0001 to 9999 in its
// own offset, or after the year 9999 in UTC (see voucher.CheckTime).
// 0001-01-01T00:00:00Z is a time like any other.
func ParseTime(s string, loc *time.Location, kind TimeKind) (time.Time, error) {
	t, ok := parseTime(s, loc, kind)
	if !ok {
		return time.Time{}, fmt.Errorf("%s is not a time: want RFC 3339 with an offset (2026-03-02T10:00:00+08:00) or a date (2026-03-02)", excerpt.Quote(s))
	}
	if y := t.Year(); y < 1 || y > 9999 || t.UTC().Year() > 9999 {
		return time.Time{}, fmt.Errorf("%s is out of range: want a time in the years 0001 to 9999", excerpt.Quote(s))
	}
	return t, nil
}

// dateTimeRE is RFC 3339's date-time; parseTime checks the offset's range, time.Parse
// the rest.
var dateTimeRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-](\d{2}):(\d{2}))$`)

func parseTime(s string, loc *time.Location, kind TimeKind) (time.Time, bool) {
	if len(s) > 64 {
		return time.Time{}, false
	}
	if m := dateTimeRE.FindStringSubmatch(s); m != nil {
		if m[1] > "23" || m[2] > "59" { // both "" without an offset
			return time.Time{}, false
		}
		// Only T and Z can be letters here.
		t, err := time.Parse(time.RFC3339Nano, strings.ToUpper(s))
		return t, err == nil
	}
	t, err := time.ParseInLocation("2006-01-02", s, loc)
	if err != nil {
		return time.Time{}, false
	}
	if kind == EndOfDay {
		t = t.AddDate(0, 0, 1)
	}
	return t, true
}
