package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/matrix"
)

// Synapse answers every rate-limited request after a 0.5 s pause: the
// scripted 429s of these tests do too.
const synapsePause = 500 * time.Millisecond

// addressList is n addresses label0@example.org … as a plain list.
func addrs(label string, from, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%d@example.org", label, from+i)
	}
	return out
}

// workerInBackground runs `mxinvite worker` with the test's Redis and
// sender until stop is called; stop returns its exit code and stderr.
func (e *cliEnv) workerInBackground(extra ...string) (stop func() (int, string)) {
	e.t.Helper()
	return runInBackground(e.t, join([]string{"worker", "--log-level", "error"}, e.redisArgs(), e.profileArgs(), extra)...)
}

// runInBackground runs mxinvite with args until stop is called (or the
// test ends); stop returns its exit code and stderr.
func runInBackground(t *testing.T, args ...string) (stop func() (int, string)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, append([]string{"mxinvite"}, args...), discardWriter{}, &stderr) }()
	stopped := false
	stop = func() (int, string) {
		if stopped {
			return 0, ""
		}
		stopped = true
		cancel()
		select {
		case code := <-done:
			return code, stderr.String()
		case <-time.After(time.Minute):
			t.Fatal("mxinvite did not stop within a minute")
			return -1, ""
		}
	}
	t.Cleanup(func() { stop() })
	return stop
}

type discardWriter struct{}

func (discardWriter) Write(b []byte) (int, error) { return len(b), nil }

// waitFinal waits (at most limit) until campaign has n final invites.
func (e *cliEnv) waitFinal(campaign string, n int, limit time.Duration) record.CampaignCounts {
	e.t.Helper()
	store := rdb.New(e.rdb, rdb.Options{Prefix: e.prefix})
	deadline := time.Now().Add(limit)
	for {
		c, err := store.Counts(context.Background(), campaign)
		if err != nil {
			e.t.Fatal(err)
		}
		if c.States[record.StateDone] >= n {
			return c
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("campaign %s: %d of %d final after %s (counts %+v)", campaign, c.States[record.StateDone], n, limit, c)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// 20.1: two invitees limited for two minutes among 80 plain addresses: the
// 429s are theirs, the 80 go out without waiting for them, nothing is sent
// to the two before their advised time, and status says whose the waits were.
func TestInviteeLimitsHoldOnlyTheInvitee(t *testing.T) {
	popular := []string{"popular0@example.org", "popular1@example.org"}
	var rules []simulator.Rule
	for _, a := range popular {
		rules = append(rules, simulator.Rule{Pattern: a, Status: 429, ErrCode: "M_LIMIT_EXCEEDED", Error: "Too Many Requests",
			RetryAfterMS: 120_000, Delay: synapsePause})
	}
	// 50 ms per answer: the 80 alone take about 0.4 s at concurrency 10.
	e := newCLIEnv(t, simulator.Config{Rules: rules, Faults: simulator.Faults{Latency: 50 * time.Millisecond}})
	plain := addrs("plain", 0, 80)
	list := append(append(append([]string{}, plain[:40]...), popular...), plain[40:]...)
	if r := mxinvite(t, e.enqueueArgs("mixed", e.file("mixed.txt", strings.Join(list, "\n")+"\n"))...); r.code != 0 {
		t.Fatalf("enqueue: exit %d %s", r.code, r.stderr)
	}
	stop := e.workerInBackground("--concurrency", "10")
	c := e.waitFinal("mixed", 80, time.Minute)
	code, stderr := stop()
	if code != 0 {
		t.Fatalf("worker: exit %d %s", code, stderr)
	}
	recs := e.records("mixed")
	for _, a := range plain {
		if r := recs[a]; r.StatusCode != matrix.Success || r.Requests != 1 {
			t.Errorf("%s: %s after %d requests", a, r.Status, r.Requests)
		}
	}
	for _, a := range popular {
		r := recs[a]
		if r.Final() || r.LimitScope != record.ScopeInvitee || r.RateLimited < 1 {
			t.Errorf("%s: state %s, limit scope %q, %d 429s; want waiting its own advice (invitee)", a, r.State, r.LimitScope, r.RateLimited)
		}
	}
	st := e.sim.Stats()
	if st.EarlyRequests != 0 || st.EarlyByAddress[popular[0]]+st.EarlyByAddress[popular[1]] != 0 {
		t.Errorf("requests before the advised time: %d (%v)", st.EarlyRequests, st.EarlyByAddress)
	}
	if c.RateLimitedBy[record.ScopeSender] != 0 {
		t.Errorf("the invitees' 429s held the sender: %v", c.RateLimitedBy)
	}
	r := mxinvite(t, join([]string{"status", "--campaign", "mixed"}, e.redisArgs())...)
	if !strings.Contains(r.stdout, "rate limited 2 (invitee 2)") {
		t.Errorf("status does not say whose the waits were:\n%s", r.stdout)
	}
}

// 20.3: six adjacent addresses the identity server always refuses (500)
// among 80 good ones end on their own schedule: four requests each, no
// back-off of the sender, no pause.
func TestAdjacentRefusedAddressesEndOnTheirOwnSchedule(t *testing.T) {
	refused := addrs("refused", 0, 6)
	var rules []simulator.Rule
	for _, a := range refused {
		rules = append(rules, simulator.Rule{Pattern: a, Status: 500, ErrCode: "M_UNKNOWN", Error: "Internal server error"})
	}
	e := newCLIEnv(t, simulator.Config{Rules: rules})
	good := addrs("good", 0, 80)
	list := append(append(append([]string{}, good[:37]...), refused...), good[37:]...)
	if r := mxinvite(t, e.enqueueArgs("adjacent", e.file("adjacent.txt", strings.Join(list, "\n")+"\n"))...); r.code != 0 {
		t.Fatalf("enqueue: exit %d %s", r.code, r.stderr)
	}
	args := join([]string{"worker", "--until-idle", "--log-level", "debug", "--concurrency", "10",
		"--retry-waits", "100ms,200ms,300ms", "--max-retries", "3"}, e.redisArgs(), e.profileArgs())
	if r := mxinviteWithin(t, 30*time.Second, args...); r.code != 0 {
		t.Fatalf("worker: exit %d\n%s", r.code, r.stderr)
	}
	recs := e.records("adjacent")
	for _, a := range good {
		if r := recs[a]; r.StatusCode != matrix.Success {
			t.Errorf("%s: %s", a, r.Status)
		}
	}
	for _, a := range refused {
		r := recs[a]
		if r.StatusCode != matrix.NetworkError || r.Requests != 4 || r.Attempts != 4 {
			t.Errorf("%s: %s after %d requests, %d attempts; want NetworkError after 4", a, r.Status, r.Requests, r.Attempts)
		}
	}
	if n := e.sim.Stats().InviteRequests; n != 80+6*4 {
		t.Errorf("the server saw %d invite requests, want %d (80 + 6 × 4)", n, 80+6*4)
	}
	if r := mxinvite(t, join([]string{"status", "--campaign", "adjacent"}, e.redisArgs())...); strings.Contains(r.stdout, "PAUSED") || strings.Contains(r.stdout, "backs off") {
		t.Errorf("status shows a pause or back-off:\n%s", r.stdout)
	}
}

// 20.1: invites into one room refused by the room's limit (Synapse's
// rc_invites per_room, for addresses bound to accounts) while the sender's
// invites into another room are accepted: the room's invites wait, the
// other room's do not. With --lookup off the bound addresses go as 3PID
// invites that Synapse turns into invites of their accounts, on the same
// gate as the other room's, whose answers show the 429s are the room's;
// with resolve-first (issue 25) they go by Matrix ID on a gate of their
// own, which no 429 of theirs can close for the other room's 3PID invites.
func TestRoomLimitHoldsOnlyItsRoom(t *testing.T) {
	for _, lookup := range []string{"off", "on"} {
		t.Run("lookup "+lookup, func(t *testing.T) { roomLimitHoldsOnlyItsRoom(t, lookup) })
	}
}

func roomLimitHoldsOnlyItsRoom(t *testing.T, lookup string) {
	hot := simulator.Room{ID: "!hot:sim.local", Members: map[string]string{simulator.DefaultUserID: "join"},
		PowerLevels: map[string]int{simulator.DefaultUserID: 100}, InviteLevel: 0}
	var bindings []simulator.Binding
	for i := range 6 {
		bindings = append(bindings, simulator.Binding{Address: fmt.Sprintf("member%d@example.org", i), UserID: fmt.Sprintf("@member%d:sim.local", i)})
	}
	cfg := simulator.Config{Rooms: []simulator.Room{simulator.DefaultRoom(), hot}, Bindings: bindings,
		InviteLimits: simulator.InviteLimits{PerRoom: simulator.RateLimit{Burst: 2, PerSecond: 2, Pause: synapsePause}}}
	e := newCLIEnv(t, cfg)
	hotList := e.file("hot.txt", strings.Join(addrs("member", 0, 6), "\n")+"\n")
	calmList := e.file("calm.txt", strings.Join(addrs("calm", 0, 40), "\n")+"\n")
	args := join([]string{"enqueue", "--no-preflight"}, e.redisArgs(), e.profileArgs(), []string{"--room", hot.ID, "--campaign", "hot", "--file", hotList})
	if r := mxinvite(t, args...); r.code != 0 {
		t.Fatalf("enqueue hot: exit %d %s", r.code, r.stderr)
	}
	if r := mxinvite(t, e.enqueueArgs("calm", calmList)...); r.code != 0 {
		t.Fatalf("enqueue calm: exit %d %s", r.code, r.stderr)
	}
	wargs := join([]string{"worker", "--until-idle", "--log-level", "error", "--concurrency", "6", "--lookup", lookup}, e.redisArgs(), e.profileArgs())
	if r := mxinvite(t, wargs...); r.code != 0 {
		t.Fatalf("worker: exit %d\n%s", r.code, r.stderr)
	}
	store := rdb.New(e.rdb, rdb.Options{Prefix: e.prefix})
	hotCounts, _ := store.Counts(context.Background(), "hot")
	calmCounts, _ := store.Counts(context.Background(), "calm")
	if hotCounts.Statuses["Success"] != 6 || calmCounts.Statuses["Success"] != 40 {
		t.Fatalf("hot %+v, calm %+v: want every invite Success", hotCounts, calmCounts)
	}
	if lookup == "off" && (hotCounts.RateLimitedBy[record.ScopeRoom] == 0 || hotCounts.RateLimitedBy[record.ScopeSender] != 0) {
		t.Errorf("hot room's 429s by scope %v: want the room's, never the sender's", hotCounts.RateLimitedBy)
	}
	if calmCounts.RateLimited != 0 {
		t.Errorf("the calm room's invites were limited: %+v", calmCounts)
	}
	st := e.sim.Stats()
	if st.EarlyByScope["per_room"] != 0 {
		t.Errorf("%d requests into the limited room before its advised time", st.EarlyByScope["per_room"])
	}
}

// mixedScript is a campaign whose addresses each get their own answers
// first (429s with advice in the body, the header or both, 5xx, timeouts,
// odd bodies), then are accepted; failures counts each one's scripted
// answers, all of which the retry budget allows.
func mixedScript() (rules []simulator.Rule, failures map[string]int) {
	failures = map[string]int{}
	add := func(address string, n int, r simulator.Rule) {
		r.Pattern, r.Times = address, n
		if r.Status == 429 {
			r.ErrCode, r.Error, r.Delay = "M_LIMIT_EXCEEDED", "Too Many Requests", synapsePause
		}
		rules = append(rules, r)
		failures[address] += n
	}
	for i, ms := range []int{100, 300, 500, 800, 1200, 2000} {
		add(fmt.Sprintf("body%d@example.org", i), 1+i%2, simulator.Rule{Status: 429, RetryAfterMS: int64(ms)})
	}
	for i := range 4 {
		add(fmt.Sprintf("header%d@example.org", i), 1, simulator.Rule{Status: 429, RetryAfter: "1"})
	}
	for i := range 2 {
		add(fmt.Sprintf("both%d@example.org", i), 2, simulator.Rule{Status: 429, RetryAfterMS: 400, RetryAfter: "1"})
	}
	for i := range 4 {
		add(fmt.Sprintf("fivexx%d@example.org", i), 1+i%2, simulator.Rule{Status: 500, ErrCode: "M_UNKNOWN", Error: "Internal server error"})
	}
	for i := range 3 {
		add(fmt.Sprintf("hang%d@example.org", i), 1, simulator.Rule{Status: 200, Hang: true})
	}
	add("html@example.org", 1, simulator.Rule{Status: 502, Body: "<html>Bad Gateway</html>", ContentType: "text/html"})
	add("notjson@example.org", 1, simulator.Rule{Status: 200, Body: "ok", ContentType: "text/plain"})
	add("empty@example.org", 1, simulator.Rule{Status: 200, EmptyBody: true})
	for i := range 6 {
		failures[fmt.Sprintf("plain%d@example.org", i)] = 0
	}
	return rules, failures
}

// 20.1/20.3: a campaign mixing per-address answers: every invite waits its
// own advice and retry waits only (no request before its advised time),
// spends exactly its scripted answers plus the one accepted, and ends
// Success; most of its 429s are told for the invitee's.
func TestPerAddressAnswersKeepTheirOwnWaits(t *testing.T) {
	rules, failures := mixedScript()
	e := newCLIEnv(t, simulator.Config{Rules: rules})
	var list []string
	for a := range failures {
		list = append(list, a)
	}
	if len(list) != 28 {
		t.Fatalf("%d addresses in the script, want 28", len(list))
	}
	if r := mxinvite(t, e.enqueueArgs("mixed", e.file("mixed.txt", strings.Join(list, "\n")+"\n"))...); r.code != 0 {
		t.Fatalf("enqueue: exit %d %s", r.code, r.stderr)
	}
	args := join([]string{"worker", "--until-idle", "--log-level", "debug", "--concurrency", "10",
		"--retry-waits", "100ms,200ms,300ms", "--timeouts", "1s", "--max-retries", "3"}, e.redisArgs(), e.profileArgs())
	// Usually about 5 s. Rarely, at the tail, when only addresses failing
	// on their own are left and little is accepted between their answers,
	// the sender's back-off closes its gate (three failures with no
	// success between) and doubles its wait with each failed probe, or the
	// scope rules take an invitee's 429 for the sender's and pace the
	// sender at its advice (docs/NOTES.md, sessions 9 and 10): every
	// request still waits what it must, so what this test asserts holds,
	// but the run can take a minute or more under -race. How late waits
	// are is the bench's row I20c, not this test's; the limit only stops a
	// hang. (Debug logs are printed if it is reached: "sender backs off"
	// and "whose the 429 is" say which.)
	if r := mxinviteWithin(t, 4*time.Minute, args...); r.code != 0 {
		t.Fatalf("worker: exit %d\n%s", r.code, r.stderr)
	}
	recs := e.records("mixed")
	total429 := 0
	for a, n := range failures {
		r := recs[a]
		if r.StatusCode != matrix.Success || r.Requests != n+1 {
			t.Errorf("%s: %s after %d requests, want Success after %d", a, r.Status, r.Requests, n+1)
		}
		total429 += r.RateLimited
	}
	st := e.sim.Stats()
	for a, n := range st.EarlyByAddress {
		if n > 0 {
			t.Errorf("%s: %d requests before its advised time", a, n)
		}
	}
	if st.EarlyRequests != 0 {
		t.Errorf("%d requests before an advised time", st.EarlyRequests)
	}
	c, _ := rdb.New(e.rdb, rdb.Options{Prefix: e.prefix}).Counts(context.Background(), "mixed")
	// While plain invites still flow, the accepted ones tell each 429 for
	// the invitee's; at the tail, when only scripted invites are left,
	// nothing does, and a first 429 holds the sender for its advice (see
	// internal/rdb/scope.go). Most are the invitee's.
	if total429 != 17 || c.RateLimitedBy[record.ScopeInvitee]*2 < total429 {
		t.Errorf("429s by scope %v of %d; want 17, most of them the invitee's", c.RateLimitedBy, total429)
	}
}
