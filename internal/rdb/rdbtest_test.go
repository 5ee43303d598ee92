package rdb

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/internal/redistest"
	"github.com/mxinvite/mxinvite/tasks"
)

// testRoom is the room of the tests' invites.
const testRoom = "!room:test"

// newTestClient is a Client over a Redis of the test's own (or REDIS_ADDR,
// under a prefix unique to the test), and a raw connection to look at it.
func newTestClient(t testing.TB, opts ...func(*Options)) (*Client, *redis.Client) {
	t.Helper()
	r := redistest.Start(t)
	conn := r.Client(t)
	o := Options{Prefix: redistest.Unique(t, "mx")}
	for _, f := range opts {
		f(&o)
	}
	return New(conn, o), conn
}

// testInvite is a valid invite of campaign "spring" to testRoom.
func testInvite(t testing.TB, address string) tasks.Invite {
	t.Helper()
	return testInviteIn(t, "spring", address)
}

func testInviteIn(t testing.TB, campaign, address string) tasks.Invite {
	t.Helper()
	inv, err := tasks.NewInvite(tasks.Invite{Campaign: campaign, RoomID: testRoom, Medium: tasks.MediumEmail, Address: address,
		EnqueuedAt: time.Now().UTC()})
	if err != nil {
		t.Fatalf("NewInvite(%q): %v", address, err)
	}
	return inv
}

// register registers invites (each one's Generation set) and returns the
// verdicts.
func register(t testing.TB, c *Client, opts record.RegisterOptions, invs ...*tasks.Invite) []record.Verdict {
	t.Helper()
	regs := make([]record.Registration, len(invs))
	for i, inv := range invs {
		regs[i].Invite = *inv
	}
	if err := c.Register(t.Context(), regs, opts); err != nil {
		t.Fatalf("Register: %v", err)
	}
	out := make([]record.Verdict, len(invs))
	for i := range regs {
		*invs[i] = regs[i].Invite
		out[i] = regs[i].Verdict
	}
	return out
}

// success is a final Success answered 200.
func success() record.Final {
	return record.Final{Status: 0, HTTPStatus: 200, FinishedAt: time.Now()}
}

// waitFor polls cond every 20 ms, failing the test after limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not %s within %s", what, limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
