package deploytest

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/mxinvite/mxinvite/internal/metrics"
)

var (
	alertsFile  = filepath.Join("..", "..", "deploy", "prometheus", "alerts.yml")
	alertsTests = filepath.Join("..", "..", "deploy", "prometheus", "alerts_test.yml")
	grafanaFile = filepath.Join("..", "..", "deploy", "grafana", "mxinvite.json")
	metricsDoc  = filepath.Join("..", "..", "docs", "metrics.md")
)

// promtool finds Debian's promtool (package prometheus). Without it the
// test is skipped, unless MXINVITE_REQUIRE_PROMTOOL is set (as .ci/run
// does): then it fails, so CI cannot pass by skipping.
func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		msg := "promtool not found (apt-get install prometheus)"
		if os.Getenv("MXINVITE_REQUIRE_PROMTOOL") != "" {
			t.Fatal(msg + ", and MXINVITE_REQUIRE_PROMTOOL is set")
		}
		t.Skip(msg)
	}
	return p
}

// The rules are valid and their unit tests pass: "campaign stuck" fires
// for a campaign whose finished count stops while invites are due, and not
// for one that progresses or is paused; "sender paused" fires only for a
// pause that lasts.
func TestAlertRules(t *testing.T) {
	p := promtool(t)
	for _, args := range [][]string{{"check", "rules", alertsFile}, {"test", "rules", alertsTests}} {
		out, err := exec.Command(p, args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// Every query of the Grafana dashboard names metrics the worker exports,
// and each panel queries at least one.
func TestGrafanaQueriesNameExportedMetrics(t *testing.T) {
	raw, err := os.ReadFile(grafanaFile)
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("%s: %v", grafanaFile, err)
	}
	if len(dash.Panels) == 0 {
		t.Fatal("the dashboard has no panels")
	}
	exported := metrics.Names()
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, q := range p.Targets {
			names := metricNames(q.Expr)
			if len(names) == 0 {
				t.Errorf("panel %q: query %q names no metric", p.Title, q.Expr)
			}
			for _, n := range names {
				if !exportedName(exported, n) {
					t.Errorf("panel %q: query %q names %s, which the worker does not export", p.Title, q.Expr, n)
				}
			}
		}
	}
}

// The alert rules query exported metrics too (and Prometheus's own "up"),
// and each has a runbook line in docs/metrics.md.
func TestAlertRulesNameExportedMetricsAndHaveRunbooks(t *testing.T) {
	raw, err := os.ReadFile(alertsFile)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(metricsDoc)
	if err != nil {
		t.Fatal(err)
	}
	exported := append(metrics.Names(), "up")
	alerts := regexp.MustCompile(`(?m)^\s*- alert: (\S+)`).FindAllStringSubmatch(string(raw), -1)
	if len(alerts) < 6 {
		t.Fatalf("%d alerts in %s, want at least 6", len(alerts), alertsFile)
	}
	for _, a := range alerts {
		if !strings.Contains(string(doc), "| `"+a[1]+"` |") {
			t.Errorf("alert %s has no runbook row in docs/metrics.md", a[1])
		}
	}
	// The expressions: one-line "expr: …" or a "|" block below it.
	var exprs []string
	lines := strings.Split(string(raw), "\n")
	for i := 0; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		rest, ok := strings.CutPrefix(l, "expr:")
		if !ok {
			continue
		}
		rest = strings.TrimSpace(rest)
		if rest != "|" {
			exprs = append(exprs, rest)
			continue
		}
		var block []string
		for i+1 < len(lines) && (strings.TrimSpace(lines[i+1]) == "" || indent(lines[i+1]) > indent(lines[i])) {
			i++
			block = append(block, lines[i])
		}
		exprs = append(exprs, strings.Join(block, "\n"))
	}
	if len(exprs) != len(alerts) {
		t.Fatalf("%d expressions for %d alerts", len(exprs), len(alerts))
	}
	for _, e := range exprs {
		for _, n := range metricNames(e) {
			if !exportedName(exported, n) {
				t.Errorf("rule %q names %s, which the worker does not export", e, n)
			}
		}
	}
}

func indent(s string) int { return len(s) - len(strings.TrimLeft(s, " ")) }

// exportedName: n is an exported metric, or a histogram's series of one.
func exportedName(exported []string, n string) bool {
	if slices.Contains(exported, n) {
		return true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(n, suffix); ok && slices.Contains(exported, base) {
			return true
		}
	}
	return false
}

// The metric names a PromQL expression selects: identifiers that are not
// functions (followed by "("), keywords, label names (inside {} or the
// label lists of by/without/on/ignoring/group_*), strings or durations.
func metricNames(expr string) []string {
	expr = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'`).ReplaceAllString(expr, `""`)
	expr = regexp.MustCompile(`\{[^}]*\}`).ReplaceAllString(expr, " ")
	expr = regexp.MustCompile(`\[[^\]]*\]`).ReplaceAllString(expr, " ")
	expr = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`).ReplaceAllString(expr, " ")
	keywords := []string{"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "offset", "inf", "nan"}
	var out []string
	for _, m := range regexp.MustCompile(`[A-Za-z_:][A-Za-z0-9_:]*(\s*\()?`).FindAllString(expr, -1) {
		if strings.HasSuffix(m, "(") || slices.Contains(keywords, strings.ToLower(m)) {
			continue
		}
		if !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out
}

func TestMetricNamesOfAQuery(t *testing.T) {
	got := metricNames(`sum by (campaign) (max by (campaign, state) (x_pending{state=~"queued|a"})) > 0 and on (campaign) changes(y_finished[15m]) == 0 or vector(0) * histogram_quantile(0.5, rate(z_bucket[5m]))`)
	if !slices.Equal(got, []string{"x_pending", "y_finished", "z_bucket"}) {
		t.Fatalf("%v", got)
	}
}
