package dashboard

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/internal/redistest"
	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/tasks"
)

// switchSource reads through live until down is set, then through dead: a
// StoreSource over a Redis address nothing listens on (the real adapter's
// real errors, as when Redis goes away under an open page).
type switchSource struct {
	Source
	dead Source
	down atomic.Bool
}

func (s *switchSource) pick() Source {
	if s.down.Load() {
		return s.dead
	}
	return s.Source
}

func (s *switchSource) Campaigns(ctx context.Context) ([]Campaign, error) {
	return s.pick().Campaigns(ctx)
}

func (s *switchSource) Campaign(ctx context.Context, name string) (Campaign, error) {
	return s.pick().Campaign(ctx, name)
}

func (s *switchSource) Timeline(ctx context.Context, name string) (Timeline, error) {
	return s.pick().Timeline(ctx, name)
}

func (s *switchSource) Results(ctx context.Context, name string, failedOnly bool, fn func(record.Result) error) error {
	return s.pick().Results(ctx, name, failedOnly, fn)
}

// TestOperatorToolsInBrowser drives the operator's tools in headless
// Chromium against a worker, the simulator and real Redis:
//   - "ops" runs to its end: its failures are grouped by cause with the
//     right counts (3 × 403 M_FORBIDDEN, 2 × 404 M_NOT_FOUND);
//   - the header's search finds an invite typed in another case;
//   - retrying one failed invite from its page re-sends only it: the
//     simulator sees exactly one more request;
//   - "queue" has 3 invites queued on a queue no worker serves: cancelling
//     one from its page leaves the two others queued, their tasks too;
//   - "held" is paused (a real pause in Redis) and then cancelled from its
//     page: it then says "cancelled", with no Resume and no Paused banner;
//   - with Redis gone, an open page says "stale since …", a new page is a
//     styled error page saying Redis is unreachable; both recover.
//
// It writes the screenshots of docs/ at 1400 and 390 px, light and dark.
func TestOperatorToolsInBrowser(t *testing.T) {
	b := newBrowser(t)
	e := newTestEnv(t, simulator.Config{Rules: []simulator.Rule{
		{Pattern: "*@bad.example", Status: 403, ErrCode: "M_FORBIDDEN", Error: "You are not allowed to invite to this room"},
		{Pattern: "*@gone.example", Status: 404, ErrCode: "M_NOT_FOUND", Error: "Unknown identity server"},
	}})
	qA, qB := redistest.Unique(t, "qa"), redistest.Unique(t, "qb")
	var ops []string
	for i := range 12 {
		ops = append(ops, fmt.Sprintf("user%02d@example.org", i))
	}
	ops = append(ops, "one@bad.example", "two@bad.example", "three@bad.example", "four@gone.example", "five@gone.example")
	e.enqueue("ops", qA, ops, time.Time{})
	e.enqueue("queue", qB, []string{"q1@example.org", "q2@example.org", "q3@example.org"}, time.Time{})
	e.enqueue("held", qB, []string{"h1@example.org", "h2@example.org"}, time.Time{})
	ctx := context.Background()
	if _, err := e.store.SetPause(ctx, record.PauseCampaign, "held", record.PauseManual, "held by an operator while the room is fixed"); err != nil {
		t.Fatal(err)
	}
	e.startWorker(qA)
	e.waitCounts("ops", time.Minute, func(c record.CampaignCounts) bool { return c.Pending() == 0 })

	// Two dashboards over the same Redis: one acting on qA, one on qB
	// (a dashboard acts on one queue, as the CLI's --queue).
	dead := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { _ = dead.Close() })
	src := &switchSource{Source: NewStoreSource(e.store, qA), dead: NewStoreSource(rdb.New(dead, rdb.Options{Prefix: e.prefix}), qA)}
	h, err := New(Options{Source: src, Refresh: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	hB, err := New(Options{Source: NewStoreSource(e.store, qB), Refresh: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	tsB := httptest.NewServer(hB)
	t.Cleanup(tsB.Close)

	failuresGrouped(t, b, ts.URL)
	shots(t, b, ts.URL)
	searchAnyCase(t, b, ts.URL)
	retryOne(t, b, e, ts.URL)
	cancelOne(t, b, e, tsB.URL, qB)
	cancelledCampaign(t, b, e, tsB.URL)
	staleAndErrorPage(t, b, src, ts.URL)
}

func failuresGrouped(t *testing.T, b *browser, dash string) {
	t.Helper()
	b.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Asia/Kolkata"})
		return err
	}))
	b.open(dash + "/c/ops")
	// Times are local (+05:30 here), with UTC on hover.
	created := eval[[]string](b, `(t => [t.getAttribute('datetime'), t.textContent, t.title])(document.querySelector('#live .created time'))`)
	if at, err := time.Parse(time.RFC3339, created[0]); err != nil ||
		created[1] != at.In(time.FixedZone("IST", 5*3600+1800)).Format("2006-01-02 15:04:05") ||
		!strings.HasPrefix(created[2], at.UTC().Format("2006-01-02 15:04:05 UTC")) {
		t.Errorf("created time shown %q (title %q) for %s: want local time with UTC on hover", created[1], created[2], created[0])
	}
	groups := eval[[]string](b, `Array.from(document.querySelectorAll('#failures details.group')).map(d =>
		d.querySelector('.group-n').textContent + ' ' + d.querySelector('.group-http').textContent + ' ' + d.querySelector('.group-errcode').textContent)`)
	if strings.Join(groups, ", ") != "3 403 M_FORBIDDEN, 2 404 M_NOT_FOUND" {
		t.Fatalf("failure groups %q, want 3 × 403 M_FORBIDDEN then 2 × 404 M_NOT_FOUND", groups)
	}
	if got := b.text("#failures h2 .count"); got != "(5)" {
		t.Errorf("failures count %q, want (5)", got)
	}
	// Expanding a group shows its invites, newest first.
	b.do(chromedp.Click(chromedp.CSS(`#failures details.group summary`)))
	b.waitFor(`document.querySelector('#failures details.group').open`, 5*time.Second)
	rows := eval[[]string](b, `Array.from(document.querySelectorAll('#failures details.group')[0].querySelectorAll('td.when time')).map(t => t.getAttribute('datetime'))`)
	if len(rows) != 3 {
		t.Fatalf("the first group lists %d invites, want 3", len(rows))
	}
	for i := 1; i < len(rows); i++ {
		if rows[i] > rows[i-1] {
			t.Errorf("group rows not newest first: %v", rows)
		}
	}
	// Each group downloads alone.
	csv, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`fetch(document.querySelector('#failures details.group a.download').href).then(r => r.text())`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(strings.TrimSpace(csv), "\n"); n != 3 || !strings.Contains(csv, "@bad.example") || strings.Contains(csv, "@gone.example") {
		t.Errorf("the first group's download has %d rows:\n%s", n, csv)
	}
	// The bar shows successes and failures apart.
	if s, f := b.number("#live .succeeded"), b.number("#live .failed"); s != 12 || f != 5 {
		t.Errorf("bar: %d succeeded, %d failed; want 12 and 5", s, f)
	}
	if got := b.text("#live .state-label"); got != "finished" {
		t.Errorf("ops's state label %q, want finished", got)
	}
}

func searchAnyCase(t *testing.T, b *browser, dash string) {
	t.Helper()
	b.open(dash + "/")
	b.do(chromedp.SendKeys(chromedp.CSS("#find"), "  USER03@Example.ORG\n"))
	b.waitFor(`location.pathname === '/search' && document.readyState === 'complete'`, 20*time.Second)
	got := eval[[]string](b, `Array.from(document.querySelectorAll('.invites-table td.address')).map(td => td.textContent)`)
	if len(got) != 1 || got[0] != "user03@example.org" {
		t.Fatalf("search for USER03@Example.ORG found %q, want user03@example.org", got)
	}
	b.clickAndWait(".invites-table td.address a")
	if got := b.text(".invite .state"); got != "done" {
		t.Errorf("invite page state %q, want done", got)
	}
	if got := b.text(".invite .status"); got != "Success (0)" {
		t.Errorf("invite page status %q", got)
	}
	if n := eval[int](b, `document.querySelectorAll('#retry-invite, #cancel-invite').length`); n != 0 {
		t.Errorf("a delivered invite offers %d actions, want none", n)
	}
	// A task ID finds it too.
	id := b.text(".invite .task code")
	b.open(dash + "/search?q=" + id)
	if got := b.text(".invites-table td.address"); got != "user03@example.org" {
		t.Errorf("search by task ID %s found %q", id, got)
	}
}

func retryOne(t *testing.T, b *browser, e *testEnv, dash string) {
	t.Helper()
	before, beforeCounts := e.sim.Stats().InviteRequests, e.counts("ops")
	b.open(dash + "/search?q=Two@Bad.Example")
	b.clickAndWait(".invites-table td.address a")
	if got := b.text(".invite .errcode"); got != "M_FORBIDDEN" {
		t.Fatalf("two@bad.example's errcode %q", got)
	}
	b.clickAndWait("#retry-invite")
	if !strings.Contains(b.text("h1"), "Retry the invite of two@bad.example?") {
		t.Fatalf("retry asks %q", b.text("h1"))
	}
	if e.sim.Stats().InviteRequests != before {
		t.Fatal("the confirmation step sent a request")
	}
	b.clickAndWait("#confirm")
	if got := b.text(".message-text"); !strings.Contains(got, "enqueued again") {
		t.Fatalf("retry answered %q", got)
	}
	after := e.waitCounts("ops", time.Minute, func(c record.CampaignCounts) bool {
		return c.Pending() == 0 && c.Requests > beforeCounts.Requests
	})
	if got := e.sim.Stats().InviteRequests - before; got != 1 {
		t.Errorf("retrying one invite made the simulator see %d requests, want 1", got)
	}
	if after.Requests != beforeCounts.Requests+1 || after.Statuses["ContentAccessError"] != beforeCounts.Statuses["ContentAccessError"] {
		t.Errorf("counts after retry %+v, before %+v", after, beforeCounts)
	}
}

func cancelOne(t *testing.T, b *browser, e *testEnv, dash, queue string) {
	t.Helper()
	b.open(dash + "/search?q=q2@example.org")
	b.clickAndWait(".invites-table td.address a")
	b.clickAndWait("#cancel-invite")
	b.clickAndWait("#confirm")
	if got := b.text(".message-text"); !strings.Contains(got, "is cancelled (it was queued); its task is removed from the queue") {
		t.Fatalf("cancel answered %q", got)
	}
	c := e.counts("queue")
	if c.States[record.StateQueued] != 2 || c.States[record.StateCancelled] != 1 {
		t.Fatalf("after cancelling one: %v, want 2 queued and 1 cancelled", c.States)
	}
	in := asynq.NewInspectorFromRedisClient(e.rdb)
	lane, err := e.store.QueueOfCampaign(context.Background(), queue, "queue") // the campaign's lane under the base queue
	if err != nil {
		t.Fatal(err)
	}
	pending, err := in.ListPendingTasks(lane)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range pending {
		ids = append(ids, p.ID)
	}
	all := strings.Join(ids, " ")
	if strings.Contains(all, taskIDOf(t, "queue", "q2@example.org")) ||
		!strings.Contains(all, taskIDOf(t, "queue", "q1@example.org")) || !strings.Contains(all, taskIDOf(t, "queue", "q3@example.org")) {
		t.Fatalf("pending tasks after cancelling q2: %v, want q1's and q3's and not q2's", ids)
	}
	b.open(dash + "/search?q=q1@example.org")
	if got := b.text(".invites-table td.state"); got != "queued" {
		t.Errorf("the neighbour q1 is %q, want queued", got)
	}
}

func taskIDOf(t *testing.T, campaign, addr string) string {
	t.Helper()
	inv, err := tasks.NewInvite(tasks.Invite{Campaign: campaign, RoomID: simulator.DefaultRoomID, Medium: tasks.MediumEmail, Address: addr})
	if err != nil {
		t.Fatal(err)
	}
	return inv.TaskID()
}

func cancelledCampaign(t *testing.T, b *browser, e *testEnv, dash string) {
	t.Helper()
	b.open(dash + "/c/held")
	if got := b.text("#live .state-label"); got != "paused" {
		t.Fatalf("held's state label %q, want paused", got)
	}
	if b.text("#live .pause") == "" || eval[int](b, `document.querySelectorAll('#resume').length`) != 1 {
		t.Fatal("a paused campaign shows no Paused banner or no Resume")
	}
	b.clickAndWait("#cancel")
	b.clickAndWait("#confirm")
	if c := e.counts("held"); c.States[record.StateCancelled] != 2 {
		t.Fatalf("held after cancel: %v", c.States)
	}
	for _, u := range []string{dash + "/c/held", dash + "/?q=held"} {
		b.open(u)
		if got := b.text(`.state-label`); got != "cancelled" {
			t.Errorf("%s: state label %q, want cancelled", u, got)
		}
		if n := eval[int](b, `document.querySelectorAll('#resume, .pause').length`); n != 0 {
			t.Errorf("%s: a cancelled campaign still shows %d Resume/Paused elements", u, n)
		}
	}
	b.open(dash + "/?state=cancelled")
	if got := eval[[]string](b, `Array.from(document.querySelectorAll('section.campaign')).map(s => s.dataset.campaign)`); len(got) != 1 || got[0] != "held" {
		t.Errorf("state filter cancelled shows %q, want [held]", got)
	}
}

func staleAndErrorPage(t *testing.T, b *browser, src *switchSource, dash string) {
	t.Helper()
	b.open(dash + "/c/ops")
	if !eval[bool](b, `document.getElementById('stale').hidden`) {
		t.Fatal("a fresh page says it is stale")
	}
	src.down.Store(true)
	b.waitFor(`!document.getElementById('stale').hidden`, 30*time.Second)
	if got := b.text("#stale"); !strings.HasPrefix(got, "Stale since ") || !strings.Contains(got, "HTTP 500") {
		t.Errorf("stale banner says %q", got)
	}
	b.screenshot("dashboard-stale.png")
	// A new page: the styled error page, not plain text.
	b.open(dash + "/c/ops")
	if got := b.text("h1"); got != "Redis is unreachable" {
		t.Errorf("error page title %q", got)
	}
	if !strings.Contains(b.text(".message-text"), "connection refused") {
		t.Errorf("error page says %q; want the cause", b.text(".message-text"))
	}
	if n := eval[int](b, `document.querySelectorAll('link[rel=stylesheet]').length`); n != 1 {
		t.Error("the error page has no stylesheet")
	}
	src.down.Store(false)
	b.open(dash + "/c/ops")
	b.waitFor(`+(document.getElementById('live').dataset.updates || 0) >= 1`, 30*time.Second)
	if !eval[bool](b, `document.getElementById('stale').hidden`) {
		t.Error("after Redis is back the page still says stale")
	}
}

// shots writes the screenshots of docs/: the campaign list and a campaign
// page at 1400 px and 390 px, light and dark (prefers-color-scheme).
func shots(t *testing.T, b *browser, dash string) {
	t.Helper()
	for _, scheme := range []string{"light", "dark"} {
		b.do(colorScheme(scheme))
		for _, w := range []int64{1400, 390} {
			b.do(chromedp.EmulateViewport(w, 900))
			for page, path := range map[string]string{"campaigns": "/", "campaign": "/c/ops"} {
				b.open(dash + path)
				if page == "campaign" {
					b.do(chromedp.Click(chromedp.CSS(`#failures details.group summary`)))
				}
				if over := eval[int](b, "document.documentElement.scrollWidth - window.innerWidth"); over > 1 {
					t.Errorf("%s at %d px (%s): %d px too wide", path, w, scheme, over)
				}
				b.screenshot(fmt.Sprintf("dashboard-%s-%s-%s.png", page, strconv.FormatInt(w, 10), scheme))
			}
		}
	}
	b.do(colorScheme("light"))
	b.do(chromedp.EmulateViewport(1200, 900))
}

// colorScheme emulates the system's light or dark setting.
func colorScheme(scheme string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
		})
		return err
	})
}
