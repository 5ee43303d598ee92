package dashboard

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/internal/redistest"
	"github.com/mxinvite/mxinvite/internal/simulator"
)

// TestStoreSourceShowsARealPauseAndResumesIt: the adapter reads the
// worker's pause of a campaign (a breaker against a server without 3PID
// invites), its metadata, and resumes it; the held invites then go out.
func TestStoreSourceShowsARealPauseAndResumesIt(t *testing.T) {
	e := newTestEnv(t, simulator.Config{NoThreePID: simulator.NoThreePIDConduit})
	queue := redistest.Unique(t, "q")
	addrs := make([]string, 12)
	for i := range addrs {
		addrs[i] = "held" + string(rune('a'+i)) + "@example.org"
	}
	e.enqueue("held", queue, addrs, time.Time{})
	e.startWorker(queue)
	src := NewStoreSource(e.store, queue)
	ctx := context.Background()
	var c Campaign
	deadline := time.Now().Add(30 * time.Second)
	for {
		var err error
		if c, err = src.Campaign(ctx, "held"); err != nil {
			t.Fatal(err)
		}
		if c.Pause != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the campaign did not pause: %+v", c)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if c.Pause.Scope != ScopeCampaign || !strings.Contains(c.Pause.Reason, "M_NOT_FOUND") || c.ETASeconds != nil {
		t.Fatalf("pause %+v, ETA %v; want the campaign's breaker pause and no ETA", c.Pause, c.ETASeconds)
	}
	if c.Room != simulator.DefaultRoomID || c.Sender != "default" || c.Created.IsZero() {
		t.Fatalf("metadata room %q sender %q created %v", c.Room, c.Sender, c.Created)
	}
	failed := c.Counts.Statuses["NotFound"]

	// Fix the server (over the simulator's control API: this env keeps
	// only its URL), then resume through the dashboard's source.
	postJSON(t, e.simURL+"/_sim/no_3pid", `{"style":""}`)
	if err := src.Resume(ctx, ScopeCampaign, "held"); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(30 * time.Second)
	for {
		counts, err := e.store.Counts(ctx, "held")
		if err != nil {
			t.Fatal(err)
		}
		if counts.Pending() == 0 {
			// Invites whose request was out when the pause began end
			// NotFound after it was seen (more of them since resolve-first
			// looks addresses up before the gate): every other one succeeds.
			nf := counts.Statuses["NotFound"]
			if nf < failed || counts.Statuses["Success"] != len(addrs)-nf {
				t.Fatalf("after resume %+v; want every invite not failed before the resume Success (%d failed at the pause)", counts, failed)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not finished after resume: %+v", counts)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if p, _ := rdb.New(e.rdb, rdb.Options{Prefix: e.prefix}).GetPause(ctx, record.PauseCampaign, "held"); p != nil {
		t.Fatalf("still paused: %s", p)
	}
}

func postJSON(t *testing.T, url, body string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("POST %s: %s", url, resp.Status)
	}
}
