package rdb

import (
	"fmt"
	"testing"
	"time"
)

func TestBackoffNeedsAFreshFailureAfterTheThresholdAndEndsWithASuccess(t *testing.T) {
	c, conn := newTestClient(t)
	ctx := t.Context()
	schedule := []time.Duration{time.Second, 2 * time.Second}
	early := time.Now().Add(-time.Minute).UnixMilli()
	seen := map[string]bool{}
	for i, key := range []string{"a", "b", "a", "c"} {
		v, err := c.Failed(ctx, "s", "spring", key, early, early, !seen[key], 3, schedule)
		seen[key] = true
		if err != nil || v.Level != 0 {
			t.Fatalf("failure %d (%s): %+v %v; want no back-off: the threshold only makes the sender suspect", i, key, v, err)
		}
	}
	if conn.HGet(ctx, c.k.gate("s"), "suspect_at").Val() == "" {
		t.Fatal("3 distinct invites failed with no success between: the sender is not suspected")
	}
	later := time.Now().Add(time.Second).UnixMilli()
	// The same addresses failing again (their own failures) do not start it.
	if v, _ := c.Failed(ctx, "s", "spring", "b", later, later, false, 3, schedule); v.Level != 0 {
		t.Fatalf("an address that failed before, failing again, backed the sender off: %+v", v)
	}
	// A fresh invite, sent after the suspicion, failing too: the sender's.
	v, err := c.Failed(ctx, "s", "spring", "d", later, later, true, 3, schedule)
	if err != nil || v.Level != 1 || v.Wait != time.Second || v.AtMax {
		t.Fatalf("a fresh failure after the suspicion: %+v %v; want level 1, 1s", v, err)
	}
	// A request reserved before the wait ends does not escalate.
	if v, _ := c.Failed(ctx, "s", "spring", "e", later, later, true, 3, schedule); v.Level != 1 {
		t.Fatalf("an old reservation escalated: %+v", v)
	}
	afterWait := time.Now().Add(time.Hour).UnixMilli()
	if v, _ := c.Failed(ctx, "s", "spring", "f", afterWait, afterWait, true, 3, schedule); v.Level != 2 || v.Wait != 2*time.Second || !v.AtMax {
		t.Fatalf("a probe failed: %+v; want level 2, the schedule's last", v)
	}
	if err := c.Recovered(ctx, "s"); err != nil {
		t.Fatal(err)
	}
	g := conn.HGetAll(ctx, c.k.gate("s")).Val()
	if g["backoff_level"] != "0" || g["trouble"] != "0" || g["recovering"] != "1" || g["suspect_at"] != "" {
		t.Fatalf("gate after a success %v", g)
	}
	if conn.Exists(ctx, c.k.fails("s")).Val() != 0 {
		t.Fatal("the failures were not forgotten")
	}
}

// TestFailuresAmongSuccessesDoNotSlowAKeptPace: after a back-off, the
// pace the server kept holds; 5xx answers that single requests get among
// successes (a flaky server, refused addresses) are the requests' own and
// do not slow it. (It once slowed by a tenth at each such failure and
// only sped up after a quiet time that every failure restarted: a 40 %
// error rate took a sender from 0.6 s to 2.5 s between requests in 15
// failures, and never back.)
func TestFailuresAmongSuccessesDoNotSlowAKeptPace(t *testing.T) {
	c, conn := newTestClient(t)
	ctx := t.Context()
	gate := c.k.gate("s")
	early := time.Now().Add(-time.Minute).UnixMilli()
	conn.HSet(ctx, gate, "interval", 600, "kept", 600, "limited_ever", 1, "recovering", 0, "pace_set_at", early,
		"quiet_since", early, "backoff_level", 0)
	for i := range 15 {
		now := time.Now().UnixMilli()
		if _, err := c.Failed(ctx, "s", "spring", fmt.Sprintf("k%d", i), now, now, true, 3, []time.Duration{time.Second}); err != nil {
			t.Fatal(err)
		}
		if err := c.Recovered(ctx, "s"); err != nil { // the success between two failures
			t.Fatal(err)
		}
	}
	if got := conn.HGet(ctx, gate, "interval").Val(); got != "600" {
		t.Fatalf("pace after 15 failures, each among successes: %s ms; want the kept 600 ms", got)
	}
}

// A request whose slot was reserved before the sender began to back off is
// held at the last moment until the back-off's wait ends, as one reserved
// before a 429 is: it would go into the failing server (bench I11b: the
// store limit's 500s went from 14 of 54 requests to 7 of 47).
func TestBackoffHoldsRequestsReservedBeforeIt(t *testing.T) {
	c, conn, inv, p := newGateTest(t)
	ctx := t.Context()
	reserved, err := c.Acquire(ctx, inv, p, time.Minute)
	if err != nil || !reserved.Reserved || reserved.Sent || reserved.Wait <= 0 {
		t.Fatalf("second slot %+v (%v); want reserved ahead", reserved, err)
	}
	schedule := []time.Duration{time.Second, 2 * time.Second}
	early := time.Now().Add(-time.Minute).UnixMilli()
	for _, key := range []string{"a", "b", "c"} {
		if _, err := c.Failed(ctx, "s", "spring", key, early, early, true, 3, schedule); err != nil {
			t.Fatal(err)
		}
	}
	later := time.Now().Add(time.Second).UnixMilli()
	if v, err := c.Failed(ctx, "s", "spring", "d", later, later, true, 3, schedule); err != nil || v.Level != 1 {
		t.Fatalf("a fresh failure after the suspicion: %+v %v; want a back-off", v, err)
	}
	conn.HSet(ctx, c.k.invite("k"), "requests", 0)
	wait, paused, _, err := c.Send(ctx, inv, p)
	if err != nil || paused || wait < 500*time.Millisecond || wait > 1100*time.Millisecond {
		t.Fatalf("send of a slot reserved before the back-off: wait %s, paused %v (%v); want held about 1s", wait, paused, err)
	}
	if n, _ := conn.HGet(ctx, c.k.invite("k"), "requests").Int(); n != 0 {
		t.Fatalf("a held request was counted as sent (%d)", n)
	}
	// Once the sender recovers, nothing holds it.
	if err := c.Recovered(ctx, "s"); err != nil {
		t.Fatal(err)
	}
	if wait, _, _, err := c.Send(ctx, inv, p); err != nil || wait != 0 {
		t.Fatalf("send after the recovery: wait %s (%v); want at once", wait, err)
	}
}

// Failures spared at the back-off's first level are owed: a success right
// after its first wait (six adjacent refused addresses can start one)
// leaves each charged with its invite's next failure; a request sent after
// a wait failing too (level 2) proves the sender sick and forgives them.
func TestFailuresSparedAtTheFirstLevelAreOwedUntilAFailedProbe(t *testing.T) {
	c, _ := newTestClient(t)
	ctx := t.Context()
	schedule := []time.Duration{100 * time.Millisecond, time.Hour}
	start := func(sender string) {
		t.Helper()
		early := time.Now().Add(-time.Minute).UnixMilli()
		for _, key := range []string{"a", "b", "c"} {
			if _, err := c.Failed(ctx, sender, "spring", key, early, early, true, 3, schedule); err != nil {
				t.Fatal(err)
			}
		}
		later := time.Now().Add(time.Second).UnixMilli()
		if v, err := c.Failed(ctx, sender, "spring", "d", later, later, true, 3, schedule); err != nil || v.Level != 1 {
			t.Fatalf("a fresh failure after the suspicion: %+v %v; want level 1", v, err)
		}
	}
	start("s")
	if err := c.Recovered(ctx, "s"); err != nil {
		t.Fatal(err)
	}
	now := time.Now().Add(2 * time.Second).UnixMilli()
	for _, key := range []string{"a", "d"} {
		if v, _ := c.Failed(ctx, "s", "spring", key, now, now, false, 3, schedule); v.Owed != 1 {
			t.Fatalf("%s failing again after the back-off ended at its first wait: %+v; want its spared failure charged (owed 1)", key, v)
		}
	}

	start("t")
	afterWait := time.Now().Add(time.Hour).UnixMilli()
	if v, _ := c.Failed(ctx, "t", "spring", "e", afterWait, afterWait, true, 3, schedule); v.Level != 2 {
		t.Fatalf("a probe failed after the wait: %+v; want level 2", v)
	}
	if err := c.Recovered(ctx, "t"); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"a", "d"} {
		if v, _ := c.Failed(ctx, "t", "spring", key, afterWait, afterWait, false, 3, schedule); v.Owed != 0 {
			t.Fatalf("%s failing again after a sick sender recovered: %+v; want nothing charged", key, v)
		}
	}
}

// While the pace speeds up again after a back-off, only an invite's first
// failure sets it back: an invite that failed before and fails again is
// likelier failing on its own (a refused address among good ones), and
// once slowed the pace stays slow for the rest of the campaign (bench
// I20c was 4.7 s late at the tail when a twice-scripted 500 did it).
func TestOnlyAFreshFailureSetsASpeedingUpPaceBack(t *testing.T) {
	c, conn := newTestClient(t)
	ctx := t.Context()
	gate := c.k.gate("s")
	early := time.Now().Add(-time.Minute).UnixMilli()
	speedingUp := func() {
		t.Helper()
		conn.Del(ctx, gate, c.k.fails("s"), c.k.owed("s"))
		conn.HSet(ctx, gate, "interval", 100, "kept", 400, "recovering", 1, "pace_set_at", early,
			"quiet_since", early, "backoff_level", 0)
	}
	now := time.Now().UnixMilli()
	speedingUp()
	v, err := c.Failed(ctx, "s", "spring", "again", now, now, false, 3, []time.Duration{time.Second})
	if err != nil || v.Level != 0 {
		t.Fatalf("an invite failing again while the pace speeds up: %+v %v; want no back-off", v, err)
	}
	if g := conn.HMGet(ctx, gate, "interval", "recovering").Val(); g[0] != "100" || g[1] != "1" {
		t.Fatalf("an invite failing again set the pace back: interval %v, recovering %v; want 100 ms, still speeding up", g[0], g[1])
	}
	speedingUp()
	if _, err := c.Failed(ctx, "s", "spring", "fresh", now, now, true, 3, []time.Duration{time.Second}); err != nil {
		t.Fatal(err)
	}
	if g := conn.HMGet(ctx, gate, "interval", "recovering").Val(); g[0] != "200" || g[1] != "0" {
		t.Fatalf("a fresh failure while the pace speeds up: interval %v, recovering %v; want back to 200 ms and staying", g[0], g[1])
	}
	// The same for a pace that sped up after a quiet time (gate.go).
	conn.Del(ctx, gate)
	conn.HSet(ctx, gate, "interval", 100, "good", 400, "pace_set_at", early, "backoff_level", 0)
	if _, err := c.Failed(ctx, "s", "spring", "again2", now, now, false, 3, []time.Duration{time.Second}); err != nil {
		t.Fatal(err)
	}
	if iv := conn.HGet(ctx, gate, "interval").Val(); iv != "100" {
		t.Fatalf("an invite failing again after the pace sped up: interval %s, want 100 (unchanged)", iv)
	}
	if _, err := c.Failed(ctx, "s", "spring", "fresh2", now, now, true, 3, []time.Duration{time.Second}); err != nil {
		t.Fatal(err)
	}
	if iv := conn.HGet(ctx, gate, "interval").Val(); iv != "400" {
		t.Fatalf("a fresh failure after the pace sped up: interval %s, want back to the 400 that worked", iv)
	}
}
