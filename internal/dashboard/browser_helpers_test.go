package dashboard

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath finds Debian's chromium: MXINVITE_CHROMIUM, /usr/bin/chromium,
// or chromium on PATH.
func chromiumPath() string {
	if p := os.Getenv("MXINVITE_CHROMIUM"); p != "" {
		return p
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	p, _ := exec.LookPath("chromium")
	return p
}

// browser is a headless Chromium tab for one test.
type browser struct {
	t   *testing.T
	ctx context.Context
}

// newBrowser starts a fresh headless Chromium (its own profile directory).
// Without chromium the test is skipped, unless MXINVITE_REQUIRE_BROWSER is
// set (as .ci/run does): then it fails, so CI cannot pass by skipping.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		msg := "dashboard: chromium not found (apt-get install chromium, or set MXINVITE_CHROMIUM)"
		if os.Getenv("MXINVITE_REQUIRE_BROWSER") != "" {
			t.Fatal(msg + ", and MXINVITE_REQUIRE_BROWSER is set")
		}
		t.Skip(msg)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // tests run as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1200, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelTime := context.WithTimeout(ctx, 5*time.Minute)
	t.Cleanup(func() { cancelTime(); cancelTab(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium %s: %v", path, err)
	}
	return &browser{t: t, ctx: ctx}
}

// do runs steps, failing the test on error.
func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("browser: %v", err)
	}
}

// open navigates to url and waits for the page's main element.
func (b *browser) open(url string) {
	b.t.Helper()
	b.do(chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS("main")))
}

// eval evaluates a JavaScript expression.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// text is the textContent of the first element matching css ("" if none).
func (b *browser) text(css string) string {
	b.t.Helper()
	return eval[string](b, fmt.Sprintf(`(document.querySelector(%s) || {textContent: ""}).textContent.trim()`, strconv.Quote(css)))
}

// number reads the first element matching css as an integer (-1 if none).
func (b *browser) number(css string) int {
	b.t.Helper()
	s := b.text(css)
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return -1
	}
	return n
}

// waitFor polls a JavaScript condition until true, failing after limit.
func (b *browser) waitFor(cond string, limit time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(limit)
	for !eval[bool](b, "!!("+cond+")") {
		if time.Now().After(deadline) {
			b.t.Fatalf("browser: %s still false after %s (page %s)", cond, limit, eval[string](b, "location.href"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// click clicks the element matching css and waits for the next page.
func (b *browser) clickAndWait(css string) {
	b.t.Helper()
	before := eval[string](b, "String(performance.timeOrigin)")
	b.do(chromedp.Click(chromedp.CSS(css)))
	b.waitFor("String(performance.timeOrigin) !== "+strconv.Quote(before)+" && document.readyState === 'complete'", 30*time.Second)
}

// screenshot writes a full-page PNG to MXINVITE_SCREENSHOT_DIR (`make
// screenshots` sets it to docs/); without it, to the test's temporary
// directory, so a test run leaves the checkout as it was.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot: %v", err)
	}
	dir := os.Getenv("MXINVITE_SCREENSHOT_DIR")
	if dir == "" {
		dir = b.t.TempDir()
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		b.t.Fatalf("write screenshot: %v", err)
	}
}
