package worker

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/matrix"
	"github.com/mxinvite/mxinvite/tasks"
)

// scanRedis fails the test when any key or value under the env's prefix
// (or asynq's) holds needle.
func (e *env) scanRedis(needle string) int {
	e.t.Helper()
	ctx := context.Background()
	seen := 0
	for _, pattern := range []string{e.cfg.KeyPrefix + ":*", "asynq:*"} {
		keys, err := e.rdb.Keys(ctx, pattern).Result()
		if err != nil {
			e.t.Fatal(err)
		}
		for _, k := range keys {
			seen++
			dump, err := e.rdb.Dump(ctx, k).Result()
			if err != nil {
				continue // expired meanwhile
			}
			if strings.Contains(k, needle) || strings.Contains(dump, needle) {
				e.t.Fatalf("Redis key %s holds %q", k, needle)
			}
		}
	}
	return seen
}

func TestIdentityTokenFromTheAccountAndItsTerms(t *testing.T) {
	logs := &lockedBuffer{}
	e, sim := newSimEnv(t, simulator.Config{RequireTerms: true}, func(c *Config) {
		c.Profiles[0].IDAccessToken = "" // none configured: obtained from the account
		l := zerolog.New(logs)
		c.Logger = &l
	})
	invs := e.enqueueTo(simulator.DefaultRoomID, "terms-", 6)

	// Terms not accepted and the worker not told to: the sender pauses and
	// nothing is sent.
	held := e.runHeld(30 * time.Second)
	t.Logf("logs: %s", logs.String())
	if len(held.Pauses) != 1 || held.Pauses[0].Kind != record.PauseIdentityTerms || !strings.Contains(held.Pauses[0].Reason, "--accept-identity-terms") {
		t.Fatalf("pauses %+v; want the sender's identity_terms pause naming --accept-identity-terms", held.Pauses)
	}
	for _, doc := range sim.Terms() {
		if !strings.Contains(held.Pauses[0].Reason, doc.URL) {
			t.Fatalf("the reason %q does not name the terms URL %s", held.Pauses[0].Reason, doc.URL)
		}
	}
	if st := sim.Stats(); st.InviteRequests != 0 || st.TermsAccepted[simulator.DefaultUserID] != 0 {
		t.Fatalf("%d invite requests, terms accepted %d times; want none", st.InviteRequests, st.TermsAccepted[simulator.DefaultUserID])
	}

	// With AcceptIdentityTerms a new worker accepts them once and resumes.
	e.cfg.AcceptIdentityTerms = true
	e.runUntilIdle(30 * time.Second)
	for _, inv := range invs {
		e.wantResult(inv, matrix.Success, 1)
	}
	st := sim.Stats()
	if st.TermsAccepted[simulator.DefaultUserID] != 1 || st.Registrations[simulator.DefaultUserID] != 2 {
		t.Fatalf("terms accepted %d times, %d registrations; want once, one per worker (2)",
			st.TermsAccepted[simulator.DefaultUserID], st.Registrations[simulator.DefaultUserID])
	}
	if p, _ := e.prod.Store().GetPause(context.Background(), record.PauseSender, tasks.DefaultSender); p != nil {
		t.Fatalf("still paused: %s", p)
	}
	// Neither registered token reached Redis or the logs.
	for i := 1; i <= int(st.Registrations[simulator.DefaultUserID]); i++ {
		tok := "sim-id-token-" + strconv.Itoa(i) // the simulator's minted tokens
		if n := e.scanRedis(tok); n == 0 {
			t.Fatal("no keys scanned")
		}
		if strings.Contains(logs.String(), tok) {
			t.Fatalf("the logs hold the identity token %s", tok)
		}
	}
	if strings.Contains(logs.String(), simulator.DefaultAccessToken) {
		t.Fatal("the logs hold the access token")
	}
}

func TestV12RoomCampaignOnTheWire(t *testing.T) {
	room := simulator.DefaultV12Room()
	e, sim := newSimEnv(t, simulator.Config{Rooms: []simulator.Room{room}})
	invs := e.enqueueTo(room.ID, "v12-", 5)
	e.runUntilIdle(30 * time.Second)
	for _, inv := range invs {
		e.wantResult(inv, matrix.Success, 1)
	}
	want := "/_matrix/client/v3/rooms/%21" + strings.TrimPrefix(room.ID, "!") + "/invite"
	found := false
	for path, n := range sim.Stats().InvitePaths {
		if strings.HasPrefix(path, want) && n > 0 {
			found = true
		}
	}
	if !found {
		t.Fatalf("invite paths %v; want %s…", sim.Stats().InvitePaths, want)
	}
}

// TestRevokedTokenWithTheSimulator is the dead-token test of issue 10
// against the simulator: the token is revoked after some invites; no invite
// ends Unauthorised, the requests made with the dead token after its death
// are at most the worker's concurrency, and a new token written into the
// file resumes the sender.
func TestRevokedTokenWithTheSimulator(t *testing.T) {
	file := filepath.Join(t.TempDir(), "token")
	writeToken(t, file, simulator.DefaultAccessToken)
	e, sim := newSimEnv(t, simulator.Config{Faults: simulator.Faults{Latency: 5 * time.Millisecond}}, func(c *Config) {
		c.Profiles[0].AccessToken, c.Profiles[0].AccessTokenFile = "", file
		c.TokenCheckInterval = 50 * time.Millisecond
	})
	invs := e.enqueueTo(simulator.DefaultRoomID, "revoked-", 40)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- e.newWorker().Run(ctx, false) }()

	waitFor(t, 20*time.Second, "5 invites accepted", func() bool { return sim.Stats().Accepted >= 5 })
	sim.RevokeToken(simulator.DefaultAccessToken)
	store := e.prod.Store()
	waitFor(t, 20*time.Second, "the sender pauses", func() bool {
		p, _ := store.GetPause(ctx, record.PauseSender, tasks.DefaultSender)
		return p != nil
	})
	time.Sleep(300 * time.Millisecond) // nothing more may go out with the dead token
	dead := sim.Stats().RevokedTokenRequests[simulator.DefaultAccessToken]
	if dead > int64(e.cfg.Concurrency) {
		t.Fatalf("%d requests with the dead token after its death; want at most the concurrency %d", dead, e.cfg.Concurrency)
	}
	if err := sim.AddToken("a-new-token", simulator.DefaultUserID); err != nil {
		t.Fatal(err)
	}
	writeToken(t, file, "a-new-token")
	waitFor(t, 30*time.Second, "every invite finishes", func() bool { return e.counts().Pending() == 0 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, inv := range invs {
		if r := e.result(inv); r.StatusCode != matrix.Success {
			t.Fatalf("%s ended %s (%s)", inv.Address, r.Status, r.Error)
		}
	}
	if st := sim.Stats(); st.Duplicates != 0 || st.Accepted != int64(len(invs)) {
		t.Fatalf("%d accepted, %d duplicates; want %d and 0", st.Accepted, st.Duplicates, len(invs))
	}
	t.Logf("requests with the dead token after its death: %d (concurrency %d)", dead, e.cfg.Concurrency)
}
