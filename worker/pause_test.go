package worker

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/producer"
	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/matrix"
	"github.com/mxinvite/mxinvite/tasks"
)

// enqueueN enqueues n invites of campaign "spring" to the test room and
// returns them.
func (e *env) enqueueN(n int) []tasks.Invite { return e.enqueueTo(testRoom, "user", n) }

// enqueueTo enqueues n invites of campaign "spring" to room, addressed
// {label}{i}@example.org, and returns them.
func (e *env) enqueueTo(room, label string, n int) []tasks.Invite {
	e.t.Helper()
	invs := make([]tasks.Invite, n)
	for i := range invs {
		invs[i] = e.inviteTo(room, fmt.Sprintf("%s%d@example.org", label, i))
		if v := e.enqueue(invs[i], producer.Options{}); v != record.Registered {
			e.t.Fatalf("enqueue %d: %s", i, v)
		}
	}
	return invs
}

// runHeld runs a worker until idle and wants it to stop on a *record.HeldError.
func (e *env) runHeld(limit time.Duration) *record.HeldError {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	err := e.newWorker().Run(ctx, true)
	var held *record.HeldError
	if !errors.As(err, &held) {
		e.t.Fatalf("Run: %v; want a *record.HeldError (ctx %v)", err, ctx.Err())
	}
	return held
}

// counts reads the campaign's counters.
func (e *env) counts() record.CampaignCounts {
	e.t.Helper()
	c, err := e.prod.Store().Counts(context.Background(), "spring")
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func TestBreakerPausesCampaignThenResumeSendsTheRest(t *testing.T) {
	hs := newSenderHS(t, testToken)
	hs.setDecide(func(string) answer {
		return answer{status: 404, body: `{"errcode":"M_NOT_FOUND","error":"User not found."}`}
	})
	e := newEnv(t, hs.URL)
	e.enqueueN(50)

	held := e.runHeld(30 * time.Second)
	c := e.counts()
	failed := c.Statuses[matrix.NotFound.String()]
	if limit := e.cfg.WithDefaults().Breaker + e.cfg.Concurrency; failed > limit || hs.invitesTotal() > limit {
		t.Fatalf("%d invites ended NotFound, %d requests; want at most %d (breaker + in flight)", failed, hs.invitesTotal(), limit)
	}
	if held.Held != 50-failed || c.States[record.StatePaused] != 50-failed {
		t.Fatalf("held %d, paused state %d; want %d", held.Held, c.States[record.StatePaused], 50-failed)
	}
	p, err := e.prod.Store().GetPause(context.Background(), record.PauseCampaign, "spring")
	if err != nil || p == nil || p.Kind != record.PauseBreaker {
		t.Fatalf("campaign pause = %+v, %v; want a breaker pause", p, err)
	}
	t.Logf("pause: %s", p)

	hs.setDecide(nil) // the operator fixed the server
	if _, err := e.prod.Resume(context.Background(), record.PauseCampaign, "spring"); err != nil {
		t.Fatal(err)
	}
	e.runUntilIdle(30 * time.Second)
	c = e.counts()
	if c.Statuses[matrix.Success.String()] != 50-failed || c.Pending() != 0 {
		t.Fatalf("after resume: %+v; want %d Success and nothing pending", c, 50-failed)
	}
	if hs.invitesTotal() != 50 {
		t.Fatalf("%d invite requests in all; want 50 (one per address)", hs.invitesTotal())
	}
}

// writeToken writes a token file atomically (as an operator's editor or a
// secret manager would).
func writeToken(t *testing.T, path, tok string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(tok+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// revokeAfter makes the homeserver revoke tok once k invites were
// accepted; it returns a function that tells how many requests carried tok
// when it died.
func revokeAfter(hs *senderHS, tok string, k int) (atDeath func() int) {
	var mu sync.Mutex
	accepted, death := 0, -1
	hs.setDecide(func(string) answer {
		mu.Lock()
		defer mu.Unlock()
		accepted++
		if accepted == k {
			hs.setValid(tok, false)
			death = hs.requestsWith(tok)
		}
		return okAnswer
	})
	return func() int {
		mu.Lock()
		defer mu.Unlock()
		return death
	}
}

func TestDeadTokenPausesSenderAndNewTokenFileResumes(t *testing.T) {
	hs := newSenderHS(t, "token-one")
	atDeath := revokeAfter(hs, "token-one", 5)
	file := filepath.Join(t.TempDir(), "token")
	writeToken(t, file, "token-one")
	e := newEnv(t, hs.URL, func(c *Config) {
		c.Profiles[0].AccessToken, c.Profiles[0].AccessTokenFile = "", file
		c.TokenCheckInterval = 50 * time.Millisecond
	})
	invs := e.enqueueN(30)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := e.newWorker()
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx, false) }()

	store := e.prod.Store()
	waitFor(t, 20*time.Second, "the sender pauses", func() bool {
		p, _ := store.GetPause(ctx, record.PauseSender, tasks.DefaultSender)
		return p != nil && p.Kind == record.PauseDeadToken
	})
	time.Sleep(300 * time.Millisecond) // nothing more may go out with the dead token
	after := hs.requestsWith("token-one") - atDeath()
	if after > e.cfg.Concurrency {
		t.Fatalf("%d requests with the dead token after its death; want at most the concurrency %d", after, e.cfg.Concurrency)
	}
	if n := e.counts().Statuses[matrix.Unauthorised.String()]; n != 0 {
		t.Fatalf("%d invites ended Unauthorised; want none", n)
	}

	hs.setValid("token-two", true)
	writeToken(t, file, "token-two")
	waitFor(t, 30*time.Second, "every invite finishes", func() bool { c := e.counts(); return c.Pending() == 0 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, inv := range invs {
		if r := e.result(inv); r.StatusCode != matrix.Success {
			t.Fatalf("%s ended %s (%s)", inv.Address, r.Status, r.Error)
		}
	}
	if p, _ := store.GetPause(context.Background(), record.PauseSender, tasks.DefaultSender); p != nil {
		t.Fatalf("still paused: %s", p)
	}
	t.Logf("requests with the dead token after its death: %d", after)
}

func TestDeadTokenResumedByHand(t *testing.T) {
	hs := newSenderHS(t, testToken)
	revokeAfter(hs, testToken, 3)
	e := newEnv(t, hs.URL)
	e.enqueueN(12)
	held := e.runHeld(30 * time.Second)
	if len(held.Pauses) != 1 || held.Pauses[0].Scope != record.PauseSender {
		t.Fatalf("pauses %+v; want the sender's", held.Pauses)
	}
	hs.setValid(testToken, true) // revived (the revocation was a mistake)
	hs.setDecide(nil)
	if _, err := e.prod.Resume(context.Background(), record.PauseSender, tasks.DefaultSender); err != nil {
		t.Fatal(err)
	}
	if _, err := e.prod.Resume(context.Background(), record.PauseSender, tasks.DefaultSender); !errors.Is(err, record.ErrNotPaused) {
		t.Fatalf("second Resume: %v; want record.ErrNotPaused", err)
	}
	e.runUntilIdle(30 * time.Second)
	if c := e.counts(); c.Statuses[matrix.Success.String()] != 12 {
		t.Fatalf("counts %+v; want 12 Success", c)
	}
}

func TestSingle401WithWorkingWhoamiEndsUnauthorised(t *testing.T) {
	hs := newSenderHS(t, testToken)
	hs.setDecide(onlyAddress("user3@example.org", answer{status: 401, body: `{"errcode":"M_UNKNOWN_TOKEN","error":"odd"}`}))
	e := newEnv(t, hs.URL)
	invs := e.enqueueN(8)
	e.runUntilIdle(30 * time.Second)
	e.wantResult(invs[3], matrix.Unauthorised, 1)
	for i, inv := range invs {
		if i != 3 {
			e.wantResult(inv, matrix.Success, 1)
		}
	}
}

func TestWorkerWithWrongTokenDoesNotStart(t *testing.T) {
	hs := newSenderHS(t, "the-right-token")
	e := newEnv(t, hs.URL)
	invs := e.enqueueN(3)
	err := e.newWorker().Run(context.Background(), true)
	var se *SenderError
	if !errors.As(err, &se) || !errors.Is(err, ErrSenderUnusable) {
		t.Fatalf("Run: %v; want a *SenderError", err)
	}
	if r := e.result(invs[0]); r.State != record.StateQueued || hs.invitesTotal() != 0 {
		t.Fatalf("state %s, %d invites sent; want queued and none", r.State, hs.invitesTotal())
	}
	t.Logf("error: %v", err)
}

func TestUnservedSenderWaits(t *testing.T) {
	hs := newSenderHS(t, testToken)
	e := newEnv(t, hs.URL)
	inv, err := tasks.NewInvite(tasks.Invite{Campaign: "spring", RoomID: testRoom, Medium: tasks.MediumEmail,
		Address: "other@example.org", Sender: "elsewhere"})
	if err != nil {
		t.Fatal(err)
	}
	e.enqueue(inv, producer.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = e.newWorker().Run(ctx, false)
	if r := e.result(inv); r.Final() || hs.invitesTotal() != 0 {
		t.Fatalf("state %s status %s, %d sent; want it waiting, unsent", r.State, r.Status, hs.invitesTotal())
	}
	served, err := e.prod.Store().SenderServed(context.Background(), "elsewhere")
	if err != nil || served {
		t.Fatalf("SenderServed(elsewhere) = %v, %v; want false", served, err)
	}
	if served, _ := e.prod.Store().SenderServed(context.Background(), tasks.DefaultSender); !served {
		t.Fatal("the default sender is not recorded as served")
	}
}
