package storetest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/voucherkit/voucherkit/voucher"
)

// helperEnv carries a helper process's spec (JSON) from Processes.Run to
// HelperProcess.
const helperEnv = "VOUCHERKIT_STORETEST_HELPER"

const progressPrefix = "storetest-progress "

// helperSpec is what one helper process runs.
type helperSpec struct {
	Target  string `json:"target"`
	Load    Load   `json:"load"`
	Process int    `json:"process"`
	Stats   string `json:"stats"`
}

// Processes runs one Load in several OS processes at once, all on one store (a
// database file, a database server): each process re-executes the test binary
// (os.Args[0]) with -test.run selecting the helper test, which calls HelperProcess.
//
//	func TestHelperProcess(t *testing.T) {
//		storetest.HelperProcess(t, func(t *testing.T, target string) voucher.Store { ... open target ... })
//	}
//
//	func TestMultiProcess(t *testing.T) {
//		store := ...                                     // the parent's own handle on target
//		l, err := storetest.DefaultLoad().Setup(ctx, store, eng)
//		stats := storetest.Processes{N: 4, Target: target, Load: l}.Run(t)
//		require.NoError(t, l.Check(ctx, store, eng, stats))
//	}
type Processes struct {
	// N is how many processes run at once (default 4); process i runs the load as
	// process number i.
	N int
	// Target tells each process what to open, as HelperProcess's open receives it.
	Target string
	// Load is what each process runs (each with Load.Workers goroutines); it must be
	// set up (Load.Setup) already.
	Load Load
	// KillAfter, when above zero, makes a crash test: the last process is killed with
	// SIGKILL once it has made that many steps, in the middle of its load, and its
	// Stats are lost. The others run to their end.
	KillAfter int
	// Test is the name of the helper test (default "TestHelperProcess").
	Test string
}

// Run starts the processes, waits for them and returns their merged Stats. A process
// that fails (other than the one killed on purpose) fails t with its output.
func (p Processes) Run(t *testing.T) Stats {
	t.Helper()
	if p.N <= 0 {
		p.N = 4
	}
	if p.Test == "" {
		p.Test = "TestHelperProcess"
	}
	dir := t.TempDir()
	total := newStats()
	var mu sync.Mutex
	var wg sync.WaitGroup
	killed := false
	for i := range p.N {
		spec := helperSpec{Target: p.Target, Load: p.Load, Process: i, Stats: filepath.Join(dir, fmt.Sprintf("stats-%d.json", i))}
		victim := p.KillAfter > 0 && i == p.N-1
		cmd, out := p.start(t, spec)
		wg.Add(1)
		go func() {
			defer wg.Done()
			died := p.watch(cmd, out, victim)
			err := cmd.Wait()
			mu.Lock()
			defer mu.Unlock()
			if victim {
				killed = died
				return
			}
			if !assert.NoError(t, err, "helper process %d:\n%s", i, out.tail()) {
				return
			}
			b, err := os.ReadFile(spec.Stats)
			if assert.NoError(t, err, "helper process %d wrote no stats:\n%s", i, out.tail()) {
				var s Stats
				assert.NoError(t, json.Unmarshal(b, &s))
				total.Merge(s)
			}
		}()
	}
	wg.Wait()
	if p.KillAfter > 0 {
		require.True(t, killed, "the last process was to be killed after %d steps, and finished first", p.KillAfter)
	}
	return total
}

// output keeps the last lines a helper process wrote, for failure messages.
type output struct {
	mu    sync.Mutex
	lines []string
	pipe  *bufio.Scanner
}

func (o *output) add(line string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.lines = append(o.lines, line)
	if len(o.lines) > 40 {
		o.lines = o.lines[len(o.lines)-40:]
	}
}

func (o *output) tail() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return strings.Join(o.lines, "\n")
}

func (p Processes) start(t *testing.T, spec helperSpec) (*exec.Cmd, *output) {
	t.Helper()
	b, err := json.Marshal(spec)
	require.NoError(t, err)
	cmd := exec.Command(os.Args[0], "-test.run=^"+p.Test+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), helperEnv+"="+string(b))
	cmd.Stderr = cmd.Stdout
	pipe, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	return cmd, &output{pipe: bufio.NewScanner(pipe)}
}

// watch reads the process's output to its end; the victim is killed once it reports
// KillAfter steps. It reports whether it killed it.
func (p Processes) watch(cmd *exec.Cmd, out *output, victim bool) bool {
	died := false
	for out.pipe.Scan() {
		line := out.pipe.Text()
		n, isProgress := strings.CutPrefix(line, progressPrefix)
		if !isProgress {
			out.add(line)
			continue
		}
		if steps, err := strconv.Atoi(n); err == nil && victim && !died && steps >= p.KillAfter {
			died = cmd.Process.Kill() == nil // SIGKILL: no deferred call, no cleanup runs
		}
	}
	return died
}

// HelperProcess is the body of the helper test Processes re-executes: it opens the
// store with open (from the target Processes was given), runs its share of the load
// and writes its Stats for the parent. Run directly, not from Processes, it skips,
// saying so.
func HelperProcess(t *testing.T, open func(t *testing.T, target string) voucher.Store) {
	raw := os.Getenv(helperEnv)
	if raw == "" {
		t.Skip("storetest: a helper process of storetest.Processes; it runs only when re-executed by one")
	}
	var spec helperSpec
	require.NoError(t, json.Unmarshal([]byte(raw), &spec))
	store := open(t, spec.Target)
	eng := Engine(t, "aliyun")
	w := bufio.NewWriter(os.Stdout)
	var mu sync.Mutex
	stats := spec.Load.Run(context.Background(), store, eng, spec.Process, func(steps int) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(w, "%s%d\n", progressPrefix, steps)
		_ = w.Flush()
	})
	t.Logf("process %d: %s", spec.Process, stats.Summary())
	b, err := json.Marshal(stats)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(spec.Stats, b, 0o600))
}
