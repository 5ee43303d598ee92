package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/hibiken/asynq"

	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/tasks"
)

// v12Room is a room version 12 ID: "!" and 43 URL-safe base64 characters,
// no server part (issue 10).
const v12Room = "!31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogLM"

// pathRecorder is a homeserver that accepts every request with {} and
// records the escaped paths it was asked for.
type pathRecorder struct {
	mu    sync.Mutex
	paths []string
}

func (p *pathRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.paths = append(p.paths, r.Method+" "+r.URL.EscapedPath())
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if strings.HasSuffix(r.URL.Path, "/account/whoami") { // the worker's check at start
		_, _ = w.Write([]byte(`{"user_id":"@inviter:example.org"}`))
		return
	}
	_, _ = w.Write([]byte("{}"))
}

func (p *pathRecorder) seen() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.paths...)
}

// TestInviteV12RoomOnTheWire: a version 12 room ID is accepted by invite,
// kept as given in the task, and sent percent-encoded in the invite path.
func TestInviteV12RoomOnTheWire(t *testing.T) {
	e := newCLIEnv(t, simulator.Config{})
	r := mxinvite(t, join([]string{"invite", "--room", v12Room, "--campaign", "v12", "--address", "alice@example.org"}, e.redisArgs())...)
	if r.code != 0 || !strings.Contains(r.stdout, "enqueued ") {
		t.Fatalf("invite: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	pending, err := asynq.NewInspectorFromRedisClient(e.rdb).ListPendingTasks(e.laneOf("v12"))
	if err != nil || len(pending) != 1 {
		t.Fatalf("pending %v (%v)", pending, err)
	}
	// The task refers to the invite's record, which holds the room.
	d, err := tasks.DecodeDelivery(pending[0].ID, pending[0].Payload)
	if err != nil || d.Whole != nil {
		t.Fatalf("task payload %s: %+v (%v), want a reference", pending[0].Payload, d, err)
	}
	got, ok, err := rdb.New(e.rdb, rdb.Options{Prefix: e.prefix}).Get(t.Context(), d.Key)
	if err != nil || !ok || got.RoomID != v12Room {
		t.Fatalf("record room %q (found %v, %v)", got.RoomID, ok, err)
	}

	hs := &pathRecorder{}
	ts := httptest.NewServer(hs)
	t.Cleanup(ts.Close)
	worker := join([]string{"worker", "--until-idle", "--no-txn-id"}, e.redisArgs(), []string{
		"--homeserver", ts.URL, "--access-token-file", e.file("token", "tok"),
		"--id-server", "id.example.org", "--id-access-token-file", e.file("id-token", "idtok"),
	})
	if r := mxinvite(t, worker...); r.code != 0 {
		t.Fatalf("worker: exit %d %s", r.code, r.stderr)
	}
	want := "POST /_matrix/client/v3/rooms/%2131hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogLM/invite"
	var invites []string
	for _, p := range hs.seen() {
		if strings.HasSuffix(p, "/invite") {
			invites = append(invites, p)
		}
	}
	if len(invites) != 1 || invites[0] != want {
		t.Fatalf("invite requests %q, want [%s]", invites, want)
	}
	res := mxinvite(t, join([]string{"results", "--campaign", "v12", "--format", "csv"}, e.redisArgs())...)
	if res.code != 0 || !strings.Contains(res.stdout, v12Room) {
		t.Errorf("results: exit %d\n%s", res.code, res.stdout)
	}
}

// TestRoomFlagForms: every command taking --room accepts both forms and
// refuses anything else with one line naming --room and both forms, exit 2,
// before Redis or a homeserver is reached.
func TestRoomFlagForms(t *testing.T) {
	list := listPath("good_bad_dups.csv")
	// Nothing may be reached: Redis and the homeserver are closed ports.
	redisOnly := []string{"--redis", "redis://127.0.0.1:1"}
	withHS := append([]string{"--homeserver", "http://127.0.0.1:1"}, redisOnly...)
	commands := map[string][]string{
		"invite":       join([]string{"invite", "--campaign", "c", "--address", "a@example.org"}, redisOnly),
		"enqueue":      join([]string{"enqueue", "--campaign", "c", "--file", list, "--no-preflight", "--dry-run"}, withHS),
		"preflight":    join([]string{"preflight"}, withHS),
		"schedule add": join([]string{"schedule", "add", "--campaign", "c", "--cron", "@daily", "--file", list}, withHS),
	}
	for name, base := range commands {
		for _, bad := range []string{"room-name", "!short", v12Room + "x", "!31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3og+M", "!:example.org"} {
			r := mxinvite(t, join(base, []string{"--room", bad})...)
			if r.code != exitUsage || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "--room ") ||
				(bad != "!:example.org" && !strings.Contains(r.stderr, "room version 12")) {
				t.Errorf("%s --room %q: exit %d, stderr %q; want exit 2 naming --room and the forms", name, bad, r.code, r.stderr)
			}
		}
	}
	// enqueue --dry-run with a v12 room reaches Redis (and fails there):
	// the room was accepted.
	r := mxinvite(t, join(commands["enqueue"], []string{"--room", v12Room})...)
	if r.code != exitUsage || !strings.Contains(r.stderr, "--redis") {
		t.Errorf("enqueue --room %s: exit %d, stderr %q; want it past the room check", v12Room, r.code, r.stderr)
	}
}
