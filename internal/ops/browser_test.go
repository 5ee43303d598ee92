package ops_test

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/hibiken/asynq"

	"github.com/mxinvite/mxinvite/internal/ops"
	"github.com/mxinvite/mxinvite/internal/redistest"
	"github.com/mxinvite/mxinvite/internal/webguard"
)

// chromium starts a headless Chromium for one test (see
// internal/dashboard's browser tests: skipped without chromium unless
// MXINVITE_REQUIRE_BROWSER is set).
func chromium(t *testing.T) context.Context {
	t.Helper()
	path := os.Getenv("MXINVITE_CHROMIUM")
	if path == "" {
		if _, err := os.Stat("/usr/bin/chromium"); err == nil {
			path = "/usr/bin/chromium"
		} else {
			path, _ = exec.LookPath("chromium")
		}
	}
	if path == "" {
		if os.Getenv("MXINVITE_REQUIRE_BROWSER") != "" {
			t.Fatal("ops: chromium not found, and MXINVITE_REQUIRE_BROWSER is set")
		}
		t.Skip("ops: chromium not found (apt-get install chromium, or set MXINVITE_CHROMIUM)")
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.UserDataDir(t.TempDir()))
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelTime := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelTime(); cancelTab(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium %s: %v", path, err)
	}
	return ctx
}

func evalJS[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

func waitJS(t *testing.T, ctx context.Context, cond string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !evalJS[bool](t, ctx, "!!("+cond+")") {
		if time.Now().After(deadline) {
			t.Fatalf("browser: %s still false after %s (page %s)", cond, limit, evalJS[string](t, ctx, "location.href"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestAsynqmonInBrowser logs in through the plain login form, then opens
// asynqmon: its page renders its queues under its CSP with no violation
// (no third-party font, no blocked script), and a pause sent from the page
// (same origin, the session cookie) pauses the queue.
func TestAsynqmonInBrowser(t *testing.T) {
	ctx := chromium(t)
	r := redistest.Start(t)
	rdb := r.Client(t)
	queue := redistest.Unique(t, "q")
	if _, err := asynq.NewClientFromRedisClient(rdb).Enqueue(asynq.NewTask("t", nil), asynq.Queue(queue)); err != nil {
		t.Fatal(err)
	}
	g, err := webguard.New(webguard.Options{Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	base := start(t, ops.Config{Guard: g}, func(s *ops.Server) {
		if err := s.MountAsynqmon(asynq.RedisClientOpt{Addr: r.Addr}, true); err != nil {
			t.Fatal(err)
		}
	})
	// Record CSP violations from the first script of every page on.
	if err := chromedp.Do(ctx, func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: `window.__csp = [];
			document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));`})
		return chromedp.Void{}, err
	}, chromedp.Navigate(base+"/asynq/")); err != nil {
		t.Fatal(err)
	}
	if got := evalJS[string](t, ctx, "location.pathname"); got != "/login" {
		t.Fatalf("without a session the browser is at %s, want /login", got)
	}
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`input[name=token]`), testToken),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button`)),
	); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "location.pathname === '/asynq/' && document.readyState === 'complete'", 30*time.Second)
	waitJS(t, ctx, "document.body.innerText.includes("+strconv.Quote(queue)+")", 60*time.Second)
	if v := evalJS[[]string](t, ctx, "window.__csp"); len(v) != 0 {
		t.Errorf("CSP violations on asynqmon's page: %q", v)
	}
	if got := evalJS[string](t, ctx, "document.cookie"); got != "" {
		t.Errorf("document.cookie = %q: the session cookie must be HttpOnly", got)
	}
	status := evalJS[int](t, ctx, "fetch('/asynq/api/queues/"+url.PathEscape(queue)+":pause', {method: 'POST'}).then(r => r.status)")
	qi, err := asynq.NewInspectorFromRedisClient(rdb).GetQueueInfo(queue)
	if err != nil {
		t.Fatal(err)
	}
	if status/100 != 2 || !qi.Paused {
		t.Errorf("pause from asynqmon's page: %d, queue paused %v", status, qi.Paused)
	}
	if strings.Contains(evalJS[string](t, ctx, "document.documentElement.outerHTML"), testToken) {
		t.Error("the page holds the token")
	}
}
