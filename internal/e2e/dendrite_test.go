package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mxinvite/mxinvite/internal/dendritetest"
	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/internal/redistest"
	"github.com/mxinvite/mxinvite/matrix"
)

// dendriteRun is one mxinvite campaign against a real Dendrite: the list is
// imported with `mxinvite enqueue` and sent with `mxinvite worker --until-idle`.
type dendriteRun struct {
	t      *testing.T
	hs     *dendritetest.Homeserver
	rdb    *redis.Client
	redis  *redistest.Server
	prefix string
	queue  string
	logDir string
}

func newDendriteRun(t *testing.T, hs *dendritetest.Homeserver) *dendriteRun {
	r := redistest.Start(t)
	return &dendriteRun{t: t, hs: hs, redis: r, rdb: r.Client(t),
		prefix: redistest.Unique(t, "mx"), queue: redistest.Unique(t, "q"), logDir: t.TempDir()}
}

// run imports addresses into campaign for room and sends them with token
// (Dendrite ignores the identity token; a dummy one is passed as a real
// operator would), naming idServer.
func (d *dendriteRun) run(campaign, room, token, idServer string, addresses []string) {
	d.t.Helper()
	if code, stderr := d.runExit(campaign, room, token, idServer, addresses); code != 0 {
		d.t.Fatalf("worker exited %d:\n%s", code, stderr)
	}
}

// runExit is run, returning the worker's exit code and what it wrote to
// stderr.
func (d *dendriteRun) runExit(campaign, room, token, idServer string, addresses []string) (int, string) {
	d.t.Helper()
	dir := d.t.TempDir()
	list, tokFile := filepath.Join(dir, "list.txt"), filepath.Join(dir, "token")
	if err := os.WriteFile(list, []byte(strings.Join(addresses, "\n")+"\n"), 0o600); err != nil {
		d.t.Fatal(err)
	}
	if err := os.WriteFile(tokFile, []byte(token+"\n"), 0o600); err != nil {
		d.t.Fatal(err)
	}
	common := []string{"--redis", d.redis.URL(), "--prefix", d.prefix, "--queue", d.queue,
		"--homeserver", d.hs.URL, "--access-token-file", tokFile, "--id-server", idServer}
	// No preflight: Dendrite's identity servers speak v1 only, and the
	// preflight's identity check asks the v2 API (hash_details).
	code, out, errOut := runCommand(d.t, d.logDir, "enqueue", nil, append([]string{"enqueue",
		"--room", room, "--campaign", campaign, "--file", list, "--no-preflight"}, common...)...)
	if code != 0 {
		d.t.Fatalf("enqueue exited %d:\n%s\n%s", code, out, errOut)
	}
	w := startProcess(d.t, d.logDir, "worker-"+campaign, nil, append([]string{"worker",
		"--until-idle", "--concurrency", "5", "--retry-waits", "200ms,400ms", "--timeouts", "10s",
		"--log-format", "json"}, common...)...)
	code, ok := w.wait(2 * time.Minute)
	if !ok {
		w.dump()
		d.t.Fatalf("worker did not finish")
	}
	_, stderr := w.output()
	return code, string(stderr)
}

func (d *dendriteRun) results(campaign string) map[string]record.Result {
	d.t.Helper()
	out := map[string]record.Result{}
	err := rdb.New(d.rdb, rdb.Options{Prefix: d.prefix}).Results(context.Background(), campaign, func(r record.Result) error {
		out[r.Address] = r
		return nil
	})
	if err != nil {
		d.t.Fatal(err)
	}
	return out
}

func addresses(campaign string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%02d@dendrite.example", campaign, i)
	}
	return out
}

// checkAllInvited asserts every address ended Success and the room holds
// exactly one third-party invite per address, from one store-invite each.
func (d *dendriteRun) checkAllInvited(campaign, room, token string, addrs []string) map[string]record.Result {
	d.t.Helper()
	res := d.results(campaign)
	invites := d.hs.ThirdPartyInvites(d.t, token, room)
	for _, a := range addrs {
		r, ok := res[a]
		if !ok || !r.Final() || r.StatusCode != matrix.Success {
			d.t.Errorf("%s: result %+v; want Success", a, r)
		}
		if n := dendritetest.CountByDisplayName(invites, a); n != 1 {
			d.t.Errorf("%s: %d m.room.third_party_invite events in the room, want 1", a, n)
		}
		if n := d.hs.Identity.StoreInvites(a); n != 1 {
			d.t.Errorf("%s: %d store-invite calls at the identity server, want 1", a, n)
		}
	}
	if len(invites) != len(addrs) {
		d.t.Errorf("%d third-party invites in the room for %d addresses", len(invites), len(addrs))
	}
	return res
}

func TestDendriteCampaign(t *testing.T) {
	skipShort(t)
	hs := dendritetest.Start(t, dendritetest.Options{})
	_, token := hs.CreateUser(t, "inviter", false)
	room := hs.CreateRoom(t, token)
	d := newDendriteRun(t, hs)

	addrs := addresses("plain", 50)
	d.run("plain", room, token, hs.IDServer, addrs)
	res := d.checkAllInvited("plain", room, token, addrs)
	for _, r := range res {
		// Dendrite has no PUT /invite/{txnId}: the first attempt of the run
		// learns it (404 M_UNRECOGNIZED, then POST); the rest POST at once.
		if r.Attempts != 1 || r.Requests > 2 {
			t.Errorf("%s: %d attempts, %d requests", r.Address, r.Attempts, r.Requests)
		}
	}

	t.Run("sender not in the room", func(t *testing.T) {
		_, other := hs.CreateUser(t, "outsider", false)
		elsewhere := hs.CreateRoom(t, other)
		a := "notjoined@dendrite.example"
		d.run("notjoined", elsewhere, token, hs.IDServer, []string{a})
		r := d.results("notjoined")[a]
		// Dendrite answers 500 {"Err":""} after store-invite; the re-check
		// sees the sender is not joined and ends the invite without resending.
		// (A fresh worker process may first try PUT /invite/{txnId}, which
		// Dendrite answers 404 M_UNRECOGNIZED without acting: two requests.)
		if r.StatusCode != matrix.ContentAccessError || r.Attempts != 1 || r.Requests > 2 {
			t.Errorf("result %+v; want ContentAccessError after 1 attempt", r)
		}
		if n := hs.Identity.StoreInvites(a); n != 1 {
			t.Errorf("%d store-invite calls (emails), want 1", n)
		}
	})
	t.Run("bad token", func(t *testing.T) {
		a := "badtoken@dendrite.example"
		// A worker whose token the homeserver refuses says so at once, in
		// one line, and exits 2 before taking a task: no invite ends
		// Unauthorised because of a typo'd token file.
		code, stderr := d.runExit("badtoken", room, "not-a-valid-token", hs.IDServer, []string{a})
		if code != 2 || !strings.Contains(stderr, "M_UNKNOWN_TOKEN") || !strings.Contains(stderr, "refuses its access token") {
			t.Errorf("worker exited %d with %q; want 2 and a line naming the refused token", code, stderr)
		}
		if r := d.results("badtoken")[a]; r.Final() || r.Requests != 0 {
			t.Errorf("result %+v; want the invite still queued, unsent", r)
		}
	})
	t.Run("untrusted identity server", func(t *testing.T) {
		a := "untrusted@dendrite.example"
		d.run("untrusted", room, token, "127.0.0.1:1", []string{a})
		if r := d.results("untrusted")[a]; r.StatusCode != matrix.IncorrectRequest || r.ErrCode != "M_SERVER_NOT_TRUSTED" {
			t.Errorf("result %+v; want IncorrectRequest M_SERVER_NOT_TRUSTED", r)
		}
	})
}

func TestDendriteRateLimited(t *testing.T) {
	skipShort(t)
	hs := dendritetest.Start(t, dendritetest.Options{RateLimit: true, Threshold: 5, CooloffMS: 500})
	_, token := hs.CreateUser(t, "inviter", false)
	room := hs.CreateRoom(t, token)
	d := newDendriteRun(t, hs)

	addrs := addresses("limited", 50)
	d.run("limited", room, token, hs.IDServer, addrs)
	res := d.checkAllInvited("limited", room, token, addrs)
	limited := 0
	for _, r := range res {
		limited += r.RateLimited
	}
	c, err := rdb.New(d.rdb, rdb.Options{Prefix: d.prefix}).Counts(context.Background(), "limited")
	if err != nil {
		t.Fatal(err)
	}
	if limited == 0 || c.RateLimited != limited {
		t.Errorf("%d 429s in the records, %d in the counters; want the same, more than 0", limited, c.RateLimited)
	}
	t.Logf("50 invites through Dendrite's limiter (5 per 500 ms): %d answered 429, all Success", limited)
}
