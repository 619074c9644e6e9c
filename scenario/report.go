package scenario

import (
	"fmt"
	"strings"

	"github.com/voucherkit/voucherkit/internal/excerpt"
)

// Result is the outcome of running one scenario.
type Result struct {
	// File and Name identify the scenario.
	File string
	Name string
	// Steps is how many steps ran.
	Steps int
	// Mismatches lists every difference between what the scenario expected and what
	// happened, in step order. None means the scenario passed.
	Mismatches []Mismatch
}

// Passed reports whether every step produced what it expected.
func (r *Result) Passed() bool { return len(r.Mismatches) == 0 }

// Report renders the result for people: "ok  FILE  NAME", or "FAIL  FILE  NAME" followed
// by one indented line per mismatch. The name, and the ids in step labels and keys, are
// shown as excerpt.Show shows them: as they are, or quoted and escaped when they hold a
// control character or are over 200 characters, so that no line can be forged or huge.
func (r *Result) Report() string {
	var b strings.Builder
	status := "ok  "
	if !r.Passed() {
		status = "FAIL"
	}
	fmt.Fprintf(&b, "%s  %s", status, r.File)
	if r.Name != "" {
		fmt.Fprintf(&b, "  (%s)", excerpt.Show(r.Name))
	}
	b.WriteString("\n")
	for _, m := range r.Mismatches {
		b.WriteString("    " + m.String() + "\n")
	}
	return b.String()
}

// Mismatch is one expectation that a step did not meet.
type Mismatch struct {
	// Step is the step's number, from 1; 0 is the scenario's setup (its wallet).
	Step int
	// Label names the step: "step 3 (checkout o1)".
	Label string
	// Key is the expectation: "cash", "applied.v100", "lines.l1.cash",
	// "wallet.v100.balance", "error".
	Key string
	// Expected and Got are the values, written for people.
	Expected string
	Got      string
}

func (m Mismatch) String() string {
	return fmt.Sprintf("%s: %s: expected %s, got %s", m.Label, m.Key, m.Expected, m.Got)
}

func stepLabel(n int, a Action, id string) string {
	if n == 0 {
		return "setup"
	}
	if id == "" {
		return fmt.Sprintf("step %d (%s)", n, a)
	}
	return fmt.Sprintf("step %d (%s %s)", n, a, excerpt.Show(id))
}
