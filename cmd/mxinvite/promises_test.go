package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/internal/simulator"
)

// enqueueArgs are the flags of an enqueue into the simulator's room without
// preflight, for campaign.
func (e *cliEnv) enqueueArgs(campaign, file string, extra ...string) []string {
	return join([]string{"enqueue", "--no-preflight"}, e.redisArgs(), e.profileArgs(), []string{
		"--room", simulator.DefaultRoomID, "--campaign", campaign, "--file", file,
	}, extra)
}

// records returns campaign's records by address.
func (e *cliEnv) records(campaign string) map[string]record.Result {
	e.t.Helper()
	out := map[string]record.Result{}
	err := rdb.New(e.rdb, rdb.Options{Prefix: e.prefix}).Results(context.Background(), campaign, func(r record.Result) error {
		out[r.Address] = r
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

// 12.1: spellings of one address that the servers treat as one person are
// one invite: one request, one email.
func TestOnePersonOneInvite(t *testing.T) {
	e := newCLIEnv(t, simulator.Config{})
	list := e.file("pairs.txt", "USER60@example.org\nuser60@example.org\nuser@bücher.de\nuser@xn--bcher-kva.de\n"+
		"User@Bücher.DE\njürgen@example.org\n")
	r := mxinvite(t, e.enqueueArgs("spring", list)...)
	if r.code != 0 || !strings.Contains(r.stdout, "read 6, valid 5, enqueued 2, duplicates 3,") {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	rejects, _ := os.ReadFile(filepath.Join(e.dir, "pairs.rejects.txt"))
	if !strings.Contains(string(rejects), "jürgen@example.org  # line 6: bad syntax: email local part must be ASCII: internationalised local parts (RFC 6531) need SMTPUTF8") {
		t.Errorf("rejects:\n%s", rejects)
	}
	e.runWorker()
	st := e.sim.Stats()
	if st.InviteRequests != 2 || st.ExtraEmails != 0 || st.Emails["user60@example.org"] != 1 || st.Emails["user@xn--bcher-kva.de"] != 1 {
		t.Errorf("the homeserver saw %d requests, %d extra emails, emails %v; want one each for two people",
			st.InviteRequests, st.ExtraEmails, st.Emails)
	}
	got := slices.Sorted(func(yield func(string) bool) {
		for a := range e.records("spring") {
			if !yield(a) {
				return
			}
		}
	})
	if !slices.Equal(got, []string{"user60@example.org", "user@xn--bcher-kva.de"}) {
		t.Errorf("records %q", got)
	}
}

// 12.2: a rejects file that cannot be created stops the import before
// anything is written to Redis (tests run as root: permissions cannot make
// creation fail, a parent that is a file or does not exist does).
func TestUnwritableRejectsEnqueuesNothing(t *testing.T) {
	e := newCLIEnv(t, simulator.Config{})
	list := e.file("list.txt", "alice@example.org\nnot an address\n")
	notDir := e.file("not-a-dir", "")
	for _, rejects := range []string{filepath.Join(notDir, "rejects.txt"), filepath.Join(e.dir, "missing", "rejects.txt")} {
		for _, extra := range [][]string{nil, {"--dry-run"}} {
			r := mxinvite(t, e.enqueueArgs("spring", list, append([]string{"--rejects", rejects}, extra...)...)...)
			if r.code != exitUsage || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "--rejects") ||
				!strings.Contains(r.stderr, rejects) || r.stdout != "" {
				t.Errorf("--rejects %s %v: exit %d, stdout %q, stderr %q; want exit 2, one line naming it", rejects, extra, r.code, r.stdout, r.stderr)
			}
		}
	}
	if k := e.keys(); len(k) != 0 {
		t.Fatalf("keys written although the rejects could not be kept: %v", k)
	}
}

// 12.2: invites another campaign holds are reported under its name, and
// nothing says they were scheduled.
func TestEnqueueNamesTheCampaignHoldingAnInvite(t *testing.T) {
	e := newCLIEnv(t, simulator.Config{})
	if r := mxinvite(t, e.enqueueArgs("autumn", e.file("a.txt", "a@example.org\nb@example.org\n"))...); r.code != 0 {
		t.Fatalf("exit %d %s", r.code, r.stderr)
	}
	at := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	r := mxinvite(t, e.enqueueArgs("spring", e.file("s.txt", "a@example.org\nB@example.org\n"), "--at", at)...)
	if r.code != 0 || !strings.Contains(r.stdout, "enqueued 0, duplicates 0, already queued 2,") ||
		!strings.Contains(r.stdout, "held by other campaigns (sent under them, not this one): autumn 2 queued 0 done") ||
		strings.Contains(r.stdout, "scheduled") {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	r = mxinvite(t, e.enqueueArgs("spring", e.file("s2.txt", "a@example.org\nc@example.org\n"), "--at", at, "--json")...)
	var got struct {
		Enqueued       int64                     `json:"enqueued"`
		OtherCampaigns map[string]map[string]int `json:"other_campaigns"`
		ScheduledFrom  string                    `json:"scheduled_from"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || got.Enqueued != 1 || got.OtherCampaigns["autumn"]["queued"] != 1 || got.ScheduledFrom != at {
		t.Fatalf("json %s (%v)", r.stdout, err)
	}
	if recs := e.records("spring"); len(recs) != 1 || recs["c@example.org"].Campaign != "spring" {
		t.Errorf("spring's records: %v", recs)
	}
}
