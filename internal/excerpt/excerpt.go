// Package excerpt is the one place where text taken from an input file is made safe to
// show in an error message or a report: bounded in length, with control characters and
// invalid UTF-8 escaped, so that an error never echoes a whole file (a rule set that is
// really /etc/passwd, a 7 MB line) and a value cannot forge lines of output.
package excerpt

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxQuoted is how many runes of a value Quote keeps.
const MaxQuoted = 40

// MaxShown is the longest text Show prints as it is: as long as the longest name or id
// the file formats accept (yamlx.MaxString), so that every accepted one is shown whole.
const MaxShown = 200

// Ellipsis follows the closing quote of a value Quote cut short.
const Ellipsis = "…"

// Quote returns s double-quoted and escaped as strconv.Quote does (control characters,
// invalid UTF-8, quotes and backslashes), keeping at most MaxQuoted runes of it; a
// value cut short is followed by Ellipsis, outside the quotes: "root:x:0:0:root"….
func Quote(s string) string {
	cut, short := prefix(s, MaxQuoted)
	q := strconv.Quote(cut)
	if short {
		q += Ellipsis
	}
	return q
}

// Show returns s as it is when it is printable text (valid UTF-8 without control
// characters) of at most MaxShown runes, and Quote(s) otherwise. It is for names and ids
// written into reports and key paths, where the usual value must read unquoted.
func Show(s string) string {
	if s == "" {
		return `""`
	}
	if utf8.RuneCountInString(s) > MaxShown || !printable(s) {
		return Quote(s)
	}
	return s
}

// printable reports whether s is valid UTF-8 of printable runes only (strconv.IsPrint:
// no control character, no line break, no tab).
func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	return strings.IndexFunc(s, func(r rune) bool { return !strconv.IsPrint(r) }) < 0
}

// prefix returns the first n runes of s (an invalid byte counts as one rune), and
// whether anything was left out.
func prefix(s string, n int) (string, bool) {
	i := 0
	for k := 0; k < n; k++ {
		if i >= len(s) {
			return s, false
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return s[:i], i < len(s)
}

// Unknown is the one wording of a value that is not one of a fixed list, for every
// input of voucherkit: `unknown order type "neww"; want one of new, renewal, ...` (up to
// four values: `want a, b or c`). value is quoted as Quote quotes it.
func Unknown(noun, value string, values []string) string {
	return "unknown " + noun + " " + Quote(value) + "; want " + Want(values)
}

// Want lists values as Unknown does: "a or b", "a, b or c" up to four, "one of a, b,
// ..." beyond.
func Want(values []string) string {
	switch {
	case len(values) > 4:
		return "one of " + strings.Join(values, ", ")
	case len(values) == 0:
		return "nothing"
	case len(values) == 1:
		return values[0]
	}
	return strings.Join(values[:len(values)-1], ", ") + " or " + values[len(values)-1]
}
