package scenario_test

// go test -run '^$' -fuzz '^FuzzParseScenario$' -fuzztime 5m -parallel 1 ./scenario

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/voucherkit/voucherkit/scenario"
)

// seedPatterns are the project's real YAML files, relative to this package: scenarios,
// rule sets, valid and broken.
var seedPatterns = []string{
	"../providers/*.yaml",
	"../providers/testdata/*/*.yaml",
	"../testdata/conformance/*.yaml",
	"testdata/*/*.yaml",
	"testdata/*/*/*.yaml",
	"../rules/testdata/*/*.yaml",
}

// seedDir is where FuzzParseScenario resolves provider paths, so that the seeds that
// name a rule set of their own (rules/mini.yaml) find it.
const seedDir = "testdata/valid"

// docLevel reports whether e is about the document as a whole (its syntax, its size,
// its shape), where no key applies.
func docLevel(e *scenario.Error) bool {
	for _, p := range []string{"invalid YAML", "document is ", "nesting is deeper", "document expands",
		"found a second YAML document", "alias to an unknown anchor"} {
		if strings.HasPrefix(e.Msg, p) {
			return true
		}
	}
	// The top level itself is not a mapping, or has a key that is not a string.
	return e.Key == "" && (strings.HasPrefix(e.Msg, "must be a mapping") || e.Msg == "keys must be plain strings")
}

// checkPositioned checks that err, from parsing file, is Errors wrapping sentinel, each
// naming file and, except whole-document errors, line, column and (where one applies)
// the key; and that they are sorted by position. It returns the first problem.
func checkPositioned(file string, err error, sentinel error) error {
	if err == nil {
		return errors.New("no error")
	}
	if !errors.Is(err, sentinel) {
		return fmt.Errorf("error does not wrap %v: %v", sentinel, err)
	}
	var es scenario.Errors
	if !errors.As(err, &es) {
		return fmt.Errorf("error is %T, not Errors: %v", err, err)
	}
	if len(es) == 0 {
		return errors.New("empty Errors")
	}
	for i, e := range es {
		if e == nil {
			return fmt.Errorf("error %d is nil", i)
		}
		if err := checkOne(file, e); err != nil {
			return err
		}
		if i > 0 {
			p := es[i-1]
			if p.Line > e.Line || p.Line == e.Line && p.Column > e.Column {
				return fmt.Errorf("errors out of order: %q before %q", p.Error(), e.Error())
			}
		}
	}
	if !strings.Contains(err.Error(), es[0].Error()) {
		return fmt.Errorf("the error's text %q leaves out %q", err.Error(), es[0].Error())
	}
	return nil
}

// checkOne checks one error of file: it names the file and, except a whole-document
// error, line, column and (where one applies) the key.
func checkOne(file string, e *scenario.Error) error {
	text := e.Error()
	if e.File != file {
		return fmt.Errorf("error names file %q, not %q: %s", e.File, file, text)
	}
	if strings.TrimSpace(e.Msg) == "" {
		return fmt.Errorf("error without a message: %q", text)
	}
	if e.Line <= 0 {
		if e.Line < 0 || e.Column != 0 || e.Key != "" || !docLevel(e) {
			return fmt.Errorf("unpositioned error that is not about the whole document: %q (line %d, column %d, key %q)", text, e.Line, e.Column, e.Key)
		}
		if !strings.HasPrefix(text, file+": ") {
			return fmt.Errorf("error %q does not start with %q", text, file+": ")
		}
		return nil
	}
	if e.Column <= 0 {
		return fmt.Errorf("error with a line but no column: %q", text)
	}
	if want := fmt.Sprintf("%s:%d:%d: ", file, e.Line, e.Column); !strings.HasPrefix(text, want) {
		return fmt.Errorf("error %q does not start with %q", text, want)
	}
	if e.Key == "" && !docLevel(e) {
		return fmt.Errorf("positioned error names no key: %q", text)
	}
	if e.Key != "" && !strings.Contains(text, ": "+e.Key+": ") {
		return fmt.Errorf("error %q does not show its key %q", text, e.Key)
	}
	return nil
}

// Regression (found by FuzzParseScenario, fixed in 4a8a6a4; its seed is
// testdata/fuzz/FuzzParseScenario/empty-key): an empty or null mapping key was reported
// as "unknown key" under the key path of its mapping joined with "", so at the top level
// the error named no key at all ("f.yaml:1:1: unknown key (known keys: ...)") and
// deeper down the path ended in a dot ("wallet[0].: unknown key"). Every positioned
// error that is not about the document as a whole must name its key.
func TestEmptyKeyIsNamed(t *testing.T) {
	for _, src := range []string{
		"\"\": 1\n",
		"? \n: 1\n",
		"&a : b\n",
		"&0000000: 000000\n", // as the fuzzer found it: an anchor named "0000000" on a null key
	} {
		_, err := scenario.Parse("f.yaml", []byte(src))
		if perr := checkPositioned("f.yaml", err, scenario.ErrInvalid); perr != nil {
			t.Errorf("%q: %v", src, perr)
		}
	}
	src := "name: x\nprovider: aliyun\nnow: 2026-03-02\nwallet:\n  - {id: v, type: voucher, amount: \"1\", \"\": 1}\nsteps: [{advance: 2026-03-03}]\n"
	_, err := scenario.Parse("f.yaml", []byte(src))
	if err == nil || strings.Contains(err.Error(), "wallet[0].: ") {
		t.Errorf("an empty key in a wallet entry: %v", err)
	}
}

// FuzzParseScenario: scenario.Parse never panics; whatever it refuses comes back as
// Errors wrapping ErrInvalid, each naming the file and, except whole-document errors,
// line, column and key, sorted by position; whatever it accepts is complete and Runs
// without a panic, grants every wallet entry it accepted, and never has a step that
// failed as expected yet changed the wallet.
func FuzzParseScenario(f *testing.F) {
	n := 0
	for _, p := range seedPatterns {
		files, err := filepath.Glob(p)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
			n++
		}
	}
	if n < 50 {
		f.Fatalf("only %d seed files", n)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := scenario.Parse("fuzz.yaml", data, scenario.WithDir(seedDir))
		if err != nil {
			if s != nil {
				t.Fatalf("Parse returned a scenario and an error: %v", err)
			}
			if perr := checkPositioned("fuzz.yaml", err, scenario.ErrInvalid); perr != nil {
				t.Fatal(perr)
			}
			return
		}
		if s == nil || s.File != "fuzz.yaml" || s.Name == "" || s.RuleSet == nil || s.Now.IsZero() || len(s.Steps) == 0 || s.Account == "" {
			t.Fatalf("accepted an incomplete scenario: %+v", s)
		}
		for i, st := range s.Steps {
			if st.N != i+1 || !slices.Contains(scenario.Actions(), st.Action) || st.Line <= 0 {
				t.Fatalf("step %d: %+v", i+1, st)
			}
		}
		done := make(chan struct{})
		defer close(done)
		go func() {
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				panic(fmt.Sprintf("FuzzParseScenario: Run took longer than 20s on:\n%s", data))
			}
		}()
		res := scenario.Run(s)
		_ = res.Report()
		for _, m := range res.Mismatches {
			switch {
			case strings.HasPrefix(m.Got, "panic:"):
				t.Fatalf("Run panicked: %s", m.Got)
			case m.Expected == "a failed step changes nothing":
				t.Fatalf("step %d failed as expected but changed the wallet: %s", m.Step, m.Got)
			case m.Expected == "granted":
				t.Fatalf("a wallet entry Parse accepted is refused by the wallet: %s: %s", m.Key, m.Got)
			}
		}
	})
}

// Regression (fixed in 4a8a6a4): a provider path was read with os.ReadFile, without a
// bound, so a scenario whose provider names a device or a FIFO (provider: /dev/zero)
// made Parse read until the process ran out of memory, and one naming /dev/stdin or a
// FIFO blocked. The size
// limit of a document (8 MiB) is applied only after the whole file has been read.
//
// The test feeds a FIFO as /dev/zero would, but stops after 64 MiB so that it ends
// while the bug is there; Parse must refuse the path having read at most a little more
// than the 8 MiB limit (or nothing at all).
func TestProviderPathThatIsNotARegularFile(t *testing.T) {
	mkfifo, err := exec.LookPath("mkfifo")
	if err != nil {
		t.Skip("no mkfifo on this system")
	}
	dir := t.TempDir()
	fifo := filepath.Join(dir, "rules.yaml")
	if out, err := exec.Command(mkfifo, fifo).CombinedOutput(); err != nil {
		t.Skipf("mkfifo: %v: %s", err, out)
	}
	const feed = 64 << 20
	var written atomic.Int64
	var opened atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		opened.Store(true)
		if err != nil {
			return
		}
		defer f.Close()
		buf := make([]byte, 1<<16)
		for written.Load() < feed {
			n, err := f.Write(buf)
			written.Add(int64(n))
			if err != nil {
				return
			}
		}
	}()
	src := "name: provider is a FIFO\nprovider: rules.yaml\nnow: 2026-03-02\nsteps: [{advance: 2026-03-03}]\n"
	s, err := scenario.Parse("fifo.yaml", []byte(src), scenario.WithDir(dir))
	if !opened.Load() {
		// Parse refused the path without opening it; let the writer go.
		if r, err := os.Open(fifo); err == nil {
			r.Close()
		}
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the FIFO's writer is still blocked")
	}
	if err == nil || s != nil {
		t.Fatalf("a provider that is a FIFO of zero bytes was accepted: %v", err)
	}
	if n := written.Load(); n > 9<<20 {
		t.Errorf("Parse read %d MiB from a provider path that is not a regular file; it would read /dev/zero until it runs out of memory", n>>20)
	}
}

// Regression (fixed in 4a8a6a4): the scale of an instrument's amounts was checked against the ISO scale of
// its currency when the entry spells the currency out, even when that currency is the
// rule set's own, which may carry another scale ("currency: USD, scale: 4"). The same
// entry is valid without `currency: USD` and refused with it, while the wallet (Grant)
// takes the rule set's scale either way. Both spellings must parse and pass.
func TestOwnCurrencySpelledOutKeepsTheRuleSetScale(t *testing.T) {
	dir := t.TempDir()
	ruleSet := "name: usd4\nversion: \"1\"\ncurrency: USD\nscale: 4\ntime_zone: UTC\n" +
		"stages:\n  - {name: gifts, kind: deduction}\n" +
		"types:\n  gift:\n    stage: gifts\n    selection: [balance_asc]\n    refund: restore\n"
	if err := os.WriteFile(filepath.Join(dir, "usd4.yaml"), []byte(ruleSet), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, cur := range []string{"", "currency: USD, "} {
		src := "name: sub-cent gift card\nprovider: usd4.yaml\nnow: 2026-03-02\nwallet:\n" +
			"  - {id: g, type: gift, " + cur + "amount: \"1.2345\"}\n" +
			"steps:\n  - checkout: {id: o1, type: new, payment: subscription, items: [{id: l1, product: p, amount: \"2.0001\"}]}\n" +
			"    expect: {deducted: \"1.2345\", cash: \"0.7656\"}\n"
		s, err := scenario.Parse("usd4-scenario.yaml", []byte(src), scenario.WithDir(dir))
		if err != nil {
			t.Errorf("with %q: %v", cur, err)
			continue
		}
		if res := scenario.Run(s); !res.Passed() {
			t.Errorf("with %q: %s", cur, res.Report())
		}
	}
}
