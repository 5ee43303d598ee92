package dashboard

import (
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/internal/redistest"
	"github.com/mxinvite/mxinvite/internal/simulator"
)

// Attacker-controlled text: a server's error message and an address (a
// valid one: & ' { } are allowed in an email local part).
const (
	hostileError   = `<script>window.__xss=1</script><img src=x onerror="window.__xss=2">refused`
	hostileAddress = `x&lt'{{.}}&amp@bad.example`
	pauseReason    = `the first 5 invites all ended ContentAccessError (104): fix the room's power levels, then resume`
)

// TestDashboardInBrowser drives the pages in headless Chromium while a real
// worker sends a campaign to the simulator through real Redis:
//   - "spring" runs while its page is open: the page updates by itself
//     (no reload) until every invite is final, and then shows exactly the
//     counts of `status --json` (Store.Counts); its chart has points; a
//     hostile error and address are shown as text; retry by status works.
//   - "autumn" is held by a pause, faked through the Source (the worker
//     package has no pauses yet): its reason is shown, and the resume
//     button (after its confirmation) starts the worker that sends it.
//   - "winter" is scheduled an hour ahead: a cross-site POST cancelling it
//     is refused, the cancel button (after its confirmation) cancels it.
func TestDashboardInBrowser(t *testing.T) {
	b := newBrowser(t)
	e := newTestEnv(t, simulator.Config{
		RateLimit: simulator.RateLimit{PerSecond: 12, Burst: 4, EarlySlack: 50 * time.Millisecond},
		Rules:     []simulator.Rule{{Pattern: "*@bad.example", Status: 403, ErrCode: "M_FORBIDDEN", Error: hostileError}},
	})
	qA, qB := redistest.Unique(t, "qa"), redistest.Unique(t, "qb")
	var spring []string
	for i := range 36 {
		spring = append(spring, fmt.Sprintf("user%02d@example.org", i))
	}
	spring = append(spring, "one@bad.example", "two@bad.example", "three@bad.example", hostileAddress)
	e.enqueue("spring", qA, spring, time.Time{})
	var autumn []string
	for i := range 8 {
		autumn = append(autumn, fmt.Sprintf("fall%d@example.org", i))
	}
	e.enqueue("autumn", qB, autumn, time.Time{})
	e.enqueue("winter", qA, []string{"a@example.org", "b@example.org", "c@example.org"}, time.Now().Add(time.Hour))

	resumed := make(chan string, 1)
	src := &pausingSource{
		Source:   NewStoreSource(e.store, qA),
		pauses:   map[string]*Pause{"autumn": {Scope: ScopeCampaign, Name: "autumn", Reason: pauseReason, Since: time.Now().Add(-3 * time.Minute)}},
		onResume: func(scope, name string) { resumed <- scope + " " + name },
	}
	h, err := New(Options{Source: src, Refresh: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)

	// The campaign page, open before the worker starts.
	b.open(ts.URL + "/c/spring")
	if got := b.number("#live .finished"); got != 0 {
		t.Fatalf("before the worker: %d finished shown, want 0", got)
	}
	eval[any](b, "window.__marker = 42")
	e.startWorker(qA)
	watchUntilDone(t, b, e, "spring", len(spring))
	if eval[int](b, "window.__marker || 0") != 42 {
		t.Fatal("the page was reloaded: live updates must not reload it")
	}
	if n, _ := strconv.Atoi(eval[string](b, "document.getElementById('live').dataset.updates || '0'")); n < 1 {
		t.Fatalf("%d live updates, want at least one", n)
	}
	final := e.counts("spring")
	checkCountsShown(t, b, final)
	checkChart(t, b, final)

	// The failures table is rendered with the page: reload it.
	b.open(ts.URL + "/c/spring")
	checkHostileText(t, b)
	b.screenshot("dashboard-campaign.png")

	// The campaigns page: every campaign, the pause and its reason.
	b.open(ts.URL + "/")
	if got := eval[int](b, "document.querySelectorAll('section.campaign').length"); got != 3 {
		t.Fatalf("campaigns page shows %d campaigns, want 3", got)
	}
	if got := b.text(`section[data-campaign="autumn"] .pause-reason`); got != pauseReason {
		t.Fatalf("autumn's pause reason shown %q, want %q", got, pauseReason)
	}
	if got := b.text(`section[data-campaign="spring"] .finished`); got != strconv.Itoa(len(spring)) {
		t.Fatalf("spring card shows %s finished, want %d", got, len(spring))
	}
	b.screenshot("dashboard-campaigns.png")
	checkNarrow(t, b, ts.URL+"/", ts.URL+"/c/spring")

	crossSitePostRefused(t, b, e, ts.URL)
	cancelFromBrowser(t, b, e, ts.URL)
	retryFromBrowser(t, b, e, ts.URL)
	resumeFromBrowser(t, b, e, ts.URL, resumed, qB, len(autumn))
}

// watchUntilDone samples the page while the campaign runs: it shows
// at most what the counters say (it lags by up to one refresh), never goes
// back, and ends showing every invite finished, by itself.
func watchUntilDone(t *testing.T, b *browser, e *testEnv, campaign string, total int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	last := 0
	for {
		shown := b.number("#live .finished")
		after := e.counts(campaign).States[record.StateDone]
		if shown < last || shown > after {
			t.Fatalf("page shows %d finished after %d; the counters say %d", shown, last, after)
		}
		last = shown
		if shown == total && eval[string](b, "document.querySelector('#live .live-root').dataset.pending") == "0" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("page still shows %d of %d finished after 2 minutes (%d live updates, stale %q)", shown, total,
				eval[int](b, "+(document.getElementById('live').dataset.updates || 0)"),
				eval[string](b, "document.getElementById('live').dataset.stale || ''"))
		}
		time.Sleep(150 * time.Millisecond)
	}
}

// checkCountsShown compares every number of the live part with the counters.
func checkCountsShown(t *testing.T, b *browser, c record.CampaignCounts) {
	t.Helper()
	total := 0
	for state, n := range c.States {
		total += n
		if got := b.number(fmt.Sprintf(`#live li[data-state=%q] .v`, state)); got != n {
			t.Errorf("state %s: page shows %d, status --json says %d", state, got, n)
		}
	}
	if got := eval[int](b, "document.querySelectorAll('#live ul.states li').length"); got != len(c.States) {
		t.Errorf("page shows %d states, status --json has %d", got, len(c.States))
	}
	for status, n := range c.Statuses {
		if got := b.number(fmt.Sprintf(`#live tr[data-status=%q] .n`, status)); got != n {
			t.Errorf("status %s: page shows %d, status --json says %d", status, got, n)
		}
	}
	if got := b.text(`#live tr[data-status="ContentAccessError"] td:nth-child(2)`); got != "104" {
		t.Errorf("ContentAccessError shown with number %q, want libQuotient's 104", got)
	}
	checks := map[string]int{
		"#live .enqueued": c.Enqueued, "#live .requests": c.Requests, "#live .rate-limited": c.RateLimited,
		"#live .total": total, "#live .finished": c.States[record.StateDone],
	}
	for css, want := range checks {
		if got := b.number(css); got != want {
			t.Errorf("%s: page shows %d, status --json says %d", css, got, want)
		}
	}
	if got := eval[string](b, "document.querySelector('#live svg.bar').dataset.done"); got != strconv.Itoa(c.States[record.StateDone]) {
		t.Errorf("progress bar's done %s, want %d", got, c.States[record.StateDone])
	}
	if got := b.number("#live .succeeded"); got != c.Statuses["Success"] {
		t.Errorf("succeeded shown %d, want %d", got, c.Statuses["Success"])
	}
	if got := b.number("#live .failed"); got != c.States[record.StateDone]-c.Statuses["Success"] {
		t.Errorf("failed shown %d, want %d", got, c.States[record.StateDone]-c.Statuses["Success"])
	}
}

// checkChart: the chart has points, and its totals are the counters' (every
// invite is final, so every request is in some minute).
func checkChart(t *testing.T, b *browser, c record.CampaignCounts) {
	t.Helper()
	for _, s := range []string{"requests", "accepted", "limited", "failed"} {
		pts := eval[string](b, fmt.Sprintf(`document.querySelector('#live g[data-series=%q] polyline').getAttribute('points')`, s))
		if len(strings.Fields(pts)) == 0 {
			t.Errorf("series %s has no points", s)
		}
	}
	if n := eval[int](b, "document.querySelectorAll('#live svg circle').length"); n == 0 {
		t.Error("the chart has no dots")
	}
	if got := b.number("#live .legend .requests b"); got != c.Requests {
		t.Errorf("chart's requests %d, counters %d", got, c.Requests)
	}
	if got := b.number("#live .legend .accepted b"); got != c.Statuses["Success"] {
		t.Errorf("chart's accepted %d, counters %d", got, c.Statuses["Success"])
	}
	if got := b.number("#live .legend .failed b"); got != c.States[record.StateDone]-c.Statuses["Success"] {
		t.Errorf("chart's failed %d, want %d", got, c.States[record.StateDone]-c.Statuses["Success"])
	}
}

// checkHostileText: attacker-controlled text is shown as text and runs nothing.
func checkHostileText(t *testing.T, b *browser) {
	t.Helper()
	b.waitFor("document.querySelectorAll('.failures-table tbody tr').length === 4", 10*time.Second)
	addrs := eval[[]string](b, "Array.from(document.querySelectorAll('.failures-table td.address')).map(td => td.textContent)")
	if !contains(addrs, hostileAddress) {
		t.Errorf("failure addresses %q: want %q shown as typed", addrs, hostileAddress)
	}
	errs := eval[[]string](b, "Array.from(document.querySelectorAll('.failures-table td.error')).map(td => td.textContent)")
	for _, got := range errs {
		if got != hostileError {
			t.Errorf("error cell shows %q, want the server's text %q", got, hostileError)
		}
	}
	if got := eval[string](b, "String(window.__xss)"); got != "undefined" {
		t.Errorf("the hostile error ran as code: window.__xss = %s", got)
	}
	if n := eval[int](b, "document.querySelectorAll('main script, main img').length"); n != 0 {
		t.Errorf("%d script/img elements inside main: hostile text became markup", n)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// checkNarrow: on a phone-sized viewport nothing makes the page scroll sideways.
func checkNarrow(t *testing.T, b *browser, urls ...string) {
	t.Helper()
	b.do(chromedp.EmulateViewport(390, 844))
	for _, u := range urls {
		b.open(u)
		if w := eval[int](b, "document.documentElement.scrollWidth - window.innerWidth"); w > 1 {
			t.Errorf("%s: %d px wider than a 390 px screen", u, w)
		}
	}
	b.do(chromedp.EmulateViewport(1200, 900))
}

// crossSitePostRefused: a page on another site posts the cancel form, with a
// valid CSRF token even: the dashboard refuses it and nothing changes.
func crossSitePostRefused(t *testing.T, b *browser, e *testEnv, dash string) {
	t.Helper()
	b.open(dash + "/c/winter/confirm?action=cancel")
	token := eval[string](b, "document.querySelector('input[name=csrf]').value")
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<!doctype html><form id=f method=post action="%s/c/winter/cancel">`+
			`<input name=csrf value="%s"></form><script>document.getElementById('f').submit()</script>`,
			html.EscapeString(dash), html.EscapeString(token))
	}))
	t.Cleanup(evil.Close)
	// localhost and 127.0.0.1 are different sites.
	b.do(chromedp.Navigate(strings.Replace(evil.URL, "127.0.0.1", "localhost", 1)))
	b.waitFor(fmt.Sprintf("location.href.startsWith(%q) && document.readyState === 'complete'", dash+"/c/winter/cancel"), 20*time.Second)
	if got := b.text("h1"); got != "Refused" {
		t.Errorf("cross-site POST answered %q, want the Refused page", got)
	}
	if c := e.counts("winter"); c.States[record.StateScheduled] != 3 {
		t.Fatalf("after a refused cross-site POST, winter's states are %v: want 3 scheduled", c.States)
	}
}

func cancelFromBrowser(t *testing.T, b *browser, e *testEnv, dash string) {
	t.Helper()
	b.open(dash + "/c/winter")
	b.clickAndWait("#cancel")
	if !strings.Contains(b.text("h1"), "Cancel campaign winter?") {
		t.Fatalf("cancel asks %q, want a confirmation", b.text("h1"))
	}
	if c := e.counts("winter"); c.States[record.StateScheduled] != 3 {
		t.Fatalf("the confirmation step changed winter: %v", c.States)
	}
	b.clickAndWait("#confirm")
	if got := b.text(".message-text"); !strings.HasPrefix(got, "3 invites cancelled") {
		t.Fatalf("cancel answered %q, want 3 cancelled", got)
	}
	if c := e.counts("winter"); c.Pending() != 0 {
		t.Fatalf("after cancel, winter has %d pending (%v)", c.Pending(), c.States)
	}
}

func retryFromBrowser(t *testing.T, b *browser, e *testEnv, dash string) {
	t.Helper()
	before := e.counts("spring")
	b.open(dash + "/c/spring")
	b.do(chromedp.SetValue(chromedp.CSS(`select[name=status]`), "ContentAccessError"))
	b.clickAndWait("#retry")
	if !strings.Contains(b.text("h1"), "Retry ContentAccessError (104)?") {
		t.Fatalf("retry asks %q, want a confirmation", b.text("h1"))
	}
	b.clickAndWait("#confirm")
	if got := b.text(".message-text"); !strings.HasPrefix(got, "4 invites that ended ContentAccessError (104) enqueued again") {
		t.Fatalf("retry answered %q", got)
	}
	after := e.waitCounts("spring", time.Minute, func(c record.CampaignCounts) bool {
		return c.Pending() == 0 && c.Statuses["ContentAccessError"] == 4
	})
	if after.Requests != before.Requests+4 {
		t.Errorf("retry sent %d requests, want 4 (one per retried invite)", after.Requests-before.Requests)
	}
}

func resumeFromBrowser(t *testing.T, b *browser, e *testEnv, dash string, resumed chan string, queue string, total int) {
	t.Helper()
	b.open(dash + "/c/autumn")
	if got := b.text("#live .pause-reason"); got != pauseReason {
		t.Fatalf("autumn shows pause reason %q, want %q", got, pauseReason)
	}
	if got := b.text("#live .eta"); got != "paused" {
		t.Errorf("a paused campaign's ETA shows %q, want paused", got)
	}
	b.clickAndWait("#resume")
	b.clickAndWait("#confirm")
	select {
	case got := <-resumed:
		if got != "campaign autumn" {
			t.Fatalf("resumed %q, want campaign autumn", got)
		}
	default:
		t.Fatalf("the resume button did not resume (page says %q)", b.text("main"))
	}
	e.startWorker(queue)
	e.waitCounts("autumn", time.Minute, func(c record.CampaignCounts) bool { return c.Statuses["Success"] == total })
	b.open(dash + "/c/autumn")
	b.waitFor("document.querySelector('#live .live-root').dataset.pending === '0'", 30*time.Second)
	if got := b.text("#live .pause"); got != "" {
		t.Errorf("after resume the page still shows a pause: %q", got)
	}
}
