package simulate_test

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/voucherkit/voucherkit/simulate"
)

// chromium finds the headless browser the HTML report is checked in. Without one the
// test skips, saying what is missing; CI (.ci/run) installs Debian's chromium and sets
// VOUCHERKIT_REQUIRE_CHROMIUM, which turns the skip into a failure.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no chromium on PATH (looked for chromium, chromium-browser, google-chrome): install Debian's package chromium (apt-get install -y chromium) to check the HTML report in a browser"
	if os.Getenv("VOUCHERKIT_REQUIRE_CHROMIUM") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// headless runs chromium on file and returns the DOM after load, and its log.
func headless(t *testing.T, bin, file string) (dom, log string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // a guard, not a speed check
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--user-data-dir="+t.TempDir(),
		"--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000", "--dump-dom", "file://"+file)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	require.NoError(t, cmd.Run(), "chromium: %s", errOut.String())
	return out.String(), errOut.String()
}

// harness is a script added to a copy of the report: it records errors, CSP
// violations and console errors, and after load writes what each chart drew into the
// page, which --dump-dom then prints.
const harness = `<script>
window.__errors = [];
addEventListener('error', e => __errors.push('error: ' + e.message));
addEventListener('securitypolicyviolation', e => __errors.push('csp: ' + e.violatedDirective + ' ' + e.blockedURI));
console.error = (...a) => __errors.push('console.error: ' + a.join(' '));
console.warn = (...a) => __errors.push('console.warn: ' + a.join(' '));
addEventListener('load', () => {
  const charts = [...document.querySelectorAll('figure.chart')].map(f => {
    const s = f.querySelector('svg'); const r = s ? s.getBoundingClientRect() : {width: 0, height: 0};
    return {id: f.id, width: r.width, height: r.height, paths: s ? s.querySelectorAll('path').length : 0,
      texts: s ? s.querySelectorAll('text').length : 0};
  });
  const pre = document.createElement('pre'); pre.id = 'harness';
  pre.textContent = JSON.stringify({errors: __errors, scripts: document.scripts.length, charts});
  document.body.appendChild(pre);
});
</script>`

type harnessResult struct {
	Errors  []string `json:"errors"`
	Scripts int      `json:"scripts"`
	Charts  []struct {
		ID     string  `json:"id"`
		Width  float64 `json:"width"`
		Height float64 `json:"height"`
		Paths  int     `json:"paths"`
		Texts  int     `json:"texts"`
	} `json:"charts"`
}

var harnessRE = regexp.MustCompile(`(?s)<pre id="harness">(.*?)</pre>`)

// TestHTMLReportRendersInChromium opens the report in headless Chromium: as it is, its
// log must show no console message and no blocked load (it is self-contained); with
// the harness added, every chart must have drawn paths and text in a box of some size,
// and nothing may have raised an error. An instrument id that is markup must show as
// text, never run.
func TestHTMLReportRendersInChromium(t *testing.T) {
	bin := chromium(t)
	rep := twoRuleSets(t, simulate.Options{Sample: simulate.Daily})
	rep.RuleSets[0].BurnDown.Instruments[0].ID = `<script>document.title="pwned"</script>`
	var page bytes.Buffer
	require.NoError(t, rep.WriteHTML(&page))
	require.NotContains(t, page.String(), "<script", "the report has no script, and input never becomes one")
	dir := t.TempDir()
	plain := filepath.Join(dir, "report.html")
	require.NoError(t, os.WriteFile(plain, page.Bytes(), 0o644))

	dom, log := headless(t, bin, plain)
	require.Contains(t, dom, `id="chart-burn-down"`)
	for _, bad := range []string{"CONSOLE", "Uncaught", "Refused to"} {
		require.NotContains(t, log, bad, "chromium's log:\n%s", log)
	}

	withHarness := strings.Replace(page.String(), "<head>", "<head>\n"+harness, 1)
	withHarness = strings.Replace(withHarness, "default-src 'none';", "default-src 'none'; script-src 'unsafe-inline';", 1)
	checked := filepath.Join(dir, "checked.html")
	require.NoError(t, os.WriteFile(checked, []byte(withHarness), 0o644))
	got, dom, _ := runHarness(t, bin, checked)
	require.Empty(t, got.Errors)
	require.Equal(t, 1, got.Scripts, "only the harness runs")
	ids := []string{}
	for _, c := range got.Charts {
		ids = append(ids, c.ID)
		require.Greater(t, c.Width, 300.0, c.ID)
		require.Greater(t, c.Height, 100.0, c.ID)
		require.Greater(t, c.Paths, 2, c.ID)
		require.Greater(t, c.Texts, 2, c.ID)
	}
	require.Equal(t, []string{"chart-burn-down", "chart-breakage", "chart-cash", "chart-instruments-0", "chart-instruments-1"}, ids)
	require.Contains(t, dom, "<title>voucherkit simulation</title>", "the id in the page did not run")
	require.Contains(t, dom, "&lt;script&gt;document.title=", "it shows as text")

	// The checks can fail: a page that logs an error and loads from the network is caught
	// both by the harness and in chromium's log.
	probe := strings.Replace(withHarness, "<body>", `<body><script>console.error("probe")</script><img src="https://example.invalid/x.png">`, 1)
	probed := filepath.Join(dir, "probe.html")
	require.NoError(t, os.WriteFile(probed, []byte(probe), 0o644))
	got, _, log = runHarness(t, bin, probed)
	require.Contains(t, got.Errors, "console.error: probe")
	require.Contains(t, strings.Join(got.Errors, "\n"), "csp: img-src https://example.invalid/x.png")
	require.Contains(t, log, "CONSOLE")
}

// runHarness opens a page with the harness and returns what it wrote, the DOM and
// chromium's log.
func runHarness(t *testing.T, bin, file string) (harnessResult, string, string) {
	t.Helper()
	dom, log := headless(t, bin, file)
	m := harnessRE.FindStringSubmatch(dom)
	require.NotNil(t, m, "the harness wrote nothing; chromium's log:\n%s", log)
	var got harnessResult
	require.NoError(t, json.Unmarshal([]byte(html.UnescapeString(m[1])), &got))
	return got, dom, log
}
