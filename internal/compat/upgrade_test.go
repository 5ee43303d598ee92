package compat

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mxinvite/mxinvite/internal/redistest"
	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/internal/simulator/simtest"
	"github.com/mxinvite/mxinvite/internal/snapshot"
)

// snapshots are Redis data written by earlier releases, each by
// testdata/snapshots/make-snapshot.sh (what they hold:
// testdata/snapshots/README.md): session2 by c7b0e37, the release before
// issue 18's restructuring; session4 by f6112c9, the release before issue
// 26's smaller records (whole invites in the tasks, full finished records,
// RFC 3339 nanosecond times, worker liveness).
var snapshots = []string{"session2", "session4"}

// snapshotFile is the file of a snapshot named in snapshots.
func snapshotFile(name string) string { return "../../testdata/snapshots/" + name + ".json" }

// closedRoom is the room campaign "closed" invites to: it did not exist on
// the simulator that wrote the snapshot, so the breaker paused the campaign.
const closedRoom = "!closed:sim.local"

// loadSnapshot restores the snapshot into rdb.
func loadSnapshot(t *testing.T, ctx context.Context, rdb *redis.Client, name string) snapshot.Snapshot {
	t.Helper()
	s, err := snapshot.ReadFile(snapshotFile(name))
	if err != nil {
		t.Fatal(err)
	}
	if err := snapshot.Load(ctx, rdb, s); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestUpgradeFinishesTheCampaignsOfEarlierReleases loads Redis data written
// by an earlier release with campaigns mid-flight and runs today's worker on it
// until every invite is final: finished invites keep their result and are
// not sent again, the two invites in flight when the old worker was killed
// are re-checked and flagged possible duplicates, the scheduled, queued,
// retrying and paused ones go out once each, the pauses are honoured and
// end (the dead-token pause by the worker's start check, the breaker's by
// resume), the counts add up before, between and after, and the recurring
// campaign is still listed.
func TestUpgradeFinishesTheCampaignsOfEarlierReleases(t *testing.T) {
	for _, name := range snapshots {
		t.Run(name, func(t *testing.T) { testUpgradeFinishes(t, name) })
	}
}

func testUpgradeFinishes(t *testing.T, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	srv := redistest.StartOwned(t, redistest.Options{}) // fixed key names: a Redis of its own
	rdb := srv.Client(t)
	snap := loadSnapshot(t, ctx, rdb, name)
	if !slices.Contains(snap.Patterns, "asynq:*") {
		t.Errorf("the snapshot's patterns are %v: asynq's keys are not in it", snap.Patterns)
	}

	before := readAll(t, ctx, rdb)
	if p := problems(before); len(p) > 0 {
		t.Fatalf("the snapshot's counts do not add up:\n%s", strings.Join(p, "\n"))
	}
	checkSnapshotHolds(t, ctx, rdb, before)
	waitUntilDue(t, before)

	// Today's simulator, with the room and tokens the records need: the
	// default room, and a new token for sender "second" (the snapshot's was
	// revoked; records never hold tokens, only the sender's name).
	sim, ts := simtest.NewServer(t, simulator.Config{})
	const secondToken = "sim-second-token-new"
	if err := sim.AddToken(secondToken, simulator.DefaultUserID); err != nil {
		t.Fatal(err)
	}
	idServer := simtest.IDServer(ts)
	senders := []sender{
		{Name: "default", HomeserverURL: ts.URL, AccessToken: simulator.DefaultAccessToken, IDServer: idServer, IDAccessToken: simulator.DefaultIDAccessToken},
		{Name: "second", HomeserverURL: ts.URL, AccessToken: secondToken, IDServer: idServer, IDAccessToken: simulator.DefaultIDAccessToken},
	}

	// The scheduled invites were due an hour after the snapshot was written;
	// asynq would move them by itself once that has passed, but the test
	// does not rely on the clock: it makes them due now, as asynqmon's "run"
	// would, and checks that asynq read its scheduled set from the snapshot.
	moved, err := runScheduledNow(rdb)
	if err != nil {
		t.Fatal(err)
	}
	if want := stateCounts(before["spring"].Records)[stateScheduled]; moved != want {
		t.Errorf("%d scheduled tasks made due, want %d (the scheduled invites)", moved, want)
	}

	// Run 1: everything goes out but campaign closed, whose breaker pause
	// holds it. Sender second's dead-token pause ends at the worker's start
	// (its token works now).
	held, err := runWorkerUntilIdle(ctx, srv.Addr, senders)
	if err != nil {
		t.Fatal(err)
	}
	wantHeld := []pause{{Scope: "campaign", Name: "closed", Kind: "breaker"}}
	if !slices.Equal(sortedPauses(held), wantHeld) {
		t.Fatalf("run 1 ended held by %v, want %v", held, wantHeld)
	}
	if ps, err := pauses(ctx, rdb); err != nil || !slices.Equal(sortedPauses(ps), wantHeld) {
		t.Fatalf("after run 1 the pauses are %v (%v), want %v: the dead-token pause of sender second should end at start", ps, err, wantHeld)
	}
	mid := readAll(t, ctx, rdb)
	if p := problems(mid); len(p) > 0 {
		t.Fatalf("after run 1 the counts do not add up:\n%s", strings.Join(p, "\n"))
	}
	for name, d := range mid {
		pending := stateCounts(d.Records)
		delete(pending, stateDone)
		delete(pending, stateCancelled)
		want := map[string]int{}
		if name == "closed" {
			want[statePaused] = 2
		}
		if !maps.Equal(pending, want) {
			t.Errorf("after run 1, campaign %s has pending invites %v, want %v", name, pending, want)
		}
	}

	// The operator fixes the cause (the room exists now) and resumes.
	if err := sim.AddRoom(simulator.Room{ID: closedRoom, Members: map[string]string{simulator.DefaultUserID: "join"},
		PowerLevels: map[string]int{simulator.DefaultUserID: 100}, InviteLevel: simulator.DefaultInviteLevel}); err != nil {
		t.Fatal(err)
	}
	woken, err := resumeCampaign(ctx, rdb, "closed")
	if err != nil {
		t.Fatal(err)
	}
	// asynq's "run all retry tasks" wakes every task in the retry set: the 2
	// held invites of campaign closed, and, on a loaded machine, the odd
	// task of a finished invite that was handed back before it finished
	// (it finds its invite done and sends nothing; run 2 checks that every
	// invite is final and none went twice).
	if woken < 2 {
		t.Errorf("resume woke %d tasks, want at least the 2 held invites of campaign closed", woken)
	}
	if held, err = runWorkerUntilIdle(ctx, srv.Addr, senders); err != nil || held != nil {
		t.Fatalf("run 2: held by %v, error %v; want every invite final", held, err)
	}
	if ps, err := pauses(ctx, rdb); err != nil || len(ps) != 0 {
		t.Errorf("after resume the pauses are %v (%v), want none", ps, err)
	}

	after := readAll(t, ctx, rdb)
	if p := problems(after); len(p) > 0 {
		t.Fatalf("after the upgrade the counts do not add up:\n%s", strings.Join(p, "\n"))
	}
	checkOutcomes(t, before, after, sim)
	checkRecurring(t, ctx, rdb)
	checkOldCampaignTakesNewInvites(t, ctx, rdb, srv.Addr, senders, after["spring"].Records)
}

// checkOldCampaignTakesNewInvites goes on with campaign spring, whose index
// is the sorted set of the release that wrote the snapshot: a new invite
// and a re-invite of a finished one (--again) go to this release's list,
// and every walk meets each invite once, the sorted set's first; then a
// purge deletes the campaign with both parts of its index.
func checkOldCampaignTakesNewInvites(t *testing.T, ctx context.Context, rdb *redis.Client, addr string, senders []sender, spring []record) {
	t.Helper()
	if n, err := rdb.Exists(ctx, indexKeys("spring")...).Result(); err != nil || n != 1 {
		t.Fatalf("campaign spring has %d index keys (%v), want the sorted set only", n, err)
	}
	var again record
	for _, r := range spring {
		if r.State == stateDone && r.Status == "Success" && r.Sender == "default" && r.RoomID == simulator.DefaultRoomID {
			again = r
			break
		}
	}
	if again.Key == "" {
		t.Fatal("campaign spring has no Success of the default sender to re-invite")
	}
	if err := enqueueInvites(ctx, rdb, "spring", false, "newcomer@example.org"); err != nil {
		t.Fatal(err)
	}
	if err := enqueueInvites(ctx, rdb, "spring", true, again.Address); err != nil {
		t.Fatal(err)
	}
	if held, err := runWorkerUntilIdle(ctx, addr, senders); err != nil || held != nil {
		t.Fatalf("run 3: held by %v, error %v; want every invite final", held, err)
	}
	now := readAll(t, ctx, rdb)
	if p := problems(now); len(p) > 0 {
		t.Fatalf("after new invites into an old campaign the counts do not add up:\n%s", strings.Join(p, "\n"))
	}
	recs := now["spring"].Records
	if len(recs) != len(spring)+1 || now["spring"].Counts.Enqueued != len(spring)+1 {
		t.Fatalf("campaign spring walks %d invites and counts %d enqueued, want %d", len(recs), now["spring"].Counts.Enqueued, len(spring)+1)
	}
	last := recs[len(recs)-2:]
	if last[0].Address != "newcomer@example.org" || last[1].Key != again.Key || last[1].Generation != again.Generation+1 {
		t.Errorf("campaign spring ends with %s (%s) and %s generation %d; want the newcomer, then %s re-invited as generation %d",
			last[0].Key, last[0].Address, last[1].Key, last[1].Generation, again.Key, again.Generation+1)
	}
	for _, r := range recs {
		if r.State != stateDone {
			t.Errorf("invite %s of campaign spring is %s after run 3", r.Key, r.State)
		}
	}
	if n, err := listLength(ctx, rdb, "spring"); err != nil || n != 2 {
		t.Errorf("campaign spring's list has %d entries (%v), want the newcomer and the re-invite", n, err)
	}
	deleted, err := purgeCampaign(ctx, rdb, "spring")
	if err != nil || !deleted {
		t.Fatalf("purge of campaign spring: deleted %v, %v", deleted, err)
	}
	if n, err := rdb.Exists(ctx, indexKeys("spring")...).Result(); err != nil || n != 0 {
		t.Errorf("%d index keys of the purged campaign spring left (%v)", n, err)
	}
}

// checkSnapshotHolds checks that the snapshot holds what
// testdata/snapshots/README.md says (make-snapshot.sh checks the same
// numbers with the old binary before it dumps): without these, the test
// would prove less than it claims.
func checkSnapshotHolds(t *testing.T, ctx context.Context, rdb *redis.Client, before map[string]campaignData) {
	t.Helper()
	wantStates := map[string]map[string]int{
		"spring": {stateDone: 10, stateActive: 2, stateQueued: 4, stateRetrying: 1, stateScheduled: 3},
		"closed": {stateDone: 5, statePaused: 2},
		"autumn": {stateDone: 2, statePaused: 3},
		"winter": {stateCancelled: 2, stateQueued: 1},
	}
	wantStatuses := map[string]map[string]int{
		"spring": {"Success": 8, "ContentAccessError": 2},
		"closed": {"ContentAccessError": 5},
		"autumn": {"Success": 2},
		"winter": {},
	}
	if got := slices.Sorted(maps.Keys(before)); !slices.Equal(got, slices.Sorted(maps.Keys(wantStates))) {
		t.Fatalf("the snapshot's campaigns are %v, want %v", got, slices.Sorted(maps.Keys(wantStates)))
	}
	for name, want := range wantStates {
		if got := stateCounts(before[name].Records); !maps.Equal(got, want) {
			t.Errorf("snapshot: campaign %s has invites by state %v, want %v", name, got, want)
		}
		if got := before[name].Counts.Statuses; !maps.Equal(got, wantStatuses[name]) {
			t.Errorf("snapshot: campaign %s has final statuses %v, want %v", name, got, wantStatuses[name])
		}
	}
	var inflight, retrying, secondGen int
	for _, r := range byKey(before) {
		switch {
		case r.State == stateActive && r.Inflight:
			inflight++
		case r.State == stateRetrying && r.Ambiguous == 1 && !r.NotBefore.IsZero(): // session2's release also counts it in retries, later ones in failures
			retrying++
		case r.State == stateQueued && r.Generation == 1:
			secondGen++
		}
		if r.Campaign == "autumn" && r.Sender != "second" || r.Campaign == "closed" && r.RoomID != closedRoom {
			t.Errorf("snapshot: record %s of campaign %s: sender %q, room %q", r.Key, r.Campaign, r.Sender, r.RoomID)
		}
	}
	if inflight != 2 || retrying != 1 || secondGen != 1 {
		t.Errorf("snapshot: %d invites in flight (want 2), %d retrying after an ambiguous 500 (want 1), %d re-invited as generation 1 (want 1)",
			inflight, retrying, secondGen)
	}
	ps, err := pauses(ctx, rdb)
	if err != nil {
		t.Fatal(err)
	}
	wantPauses := []pause{{Scope: "campaign", Name: "closed", Kind: "breaker"}, {Scope: "sender", Name: "second", Kind: "dead_token"}}
	if !slices.Equal(sortedPauses(ps), wantPauses) {
		t.Errorf("snapshot: pauses %v, want %v", ps, wantPauses)
	}
	checkRecurring(t, ctx, rdb)
}

// checkRecurring checks that the schedule store lists the recurring campaign.
func checkRecurring(t *testing.T, ctx context.Context, rdb *redis.Client) {
	t.Helper()
	rs, err := recurringCampaigns(ctx, rdb)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || rs[0].Name != "weekly" || rs[0].Cron != "0 9 * * 1" || rs[0].RoomID != simulator.DefaultRoomID {
		t.Errorf("recurring campaigns %+v, want weekly on \"0 9 * * 1\" into %s", rs, simulator.DefaultRoomID)
	}
}

// waitUntilDue waits until no pending invite's not_before is in the
// future: only a snapshot written in the last minute has one (the retrying
// invite's retry is 60 s after it was written). Longer waits are refused.
func waitUntilDue(t *testing.T, before map[string]campaignData) {
	t.Helper()
	var due time.Time
	for _, r := range byKey(before) {
		if r.State != stateDone && r.State != stateCancelled && r.NotBefore.After(due) {
			due = r.NotBefore
		}
	}
	wait := time.Until(due)
	if wait > 2*time.Minute {
		t.Fatalf("an invite of the snapshot is not due before %v: the snapshot was not written as make-snapshot.sh writes it", due)
	}
	if wait > 0 {
		t.Logf("the snapshot is fresh: waiting %v until its retrying invite is due", wait.Round(time.Second))
		time.Sleep(wait)
	}
}

// checkOutcomes compares every invite after the upgrade with what it was in
// the snapshot, and with what the simulator saw per address.
func checkOutcomes(t *testing.T, before, after map[string]campaignData, sim *simulator.Server) {
	t.Helper()
	accepted := map[string]int{}
	for _, inv := range sim.Accepted() {
		accepted[inv.Address]++
	}
	stats := sim.Stats()
	old, now := byKey(before), byKey(after)
	if len(now) != len(old) {
		t.Errorf("%d records after the upgrade, %d before", len(now), len(old))
	}
	sent, ambiguous := 0, 0
	sentIn, ambiguousIn := map[string]int{}, map[string]int{}
	for key, b := range old {
		a, ok := now[key]
		seen := accepted[b.Address] + int(stats.Emails[b.Address])
		switch {
		case !ok:
			t.Errorf("invite %s (%s): record gone", key, b.Address)
		case b.State == stateDone:
			if a.State != stateDone || a.Status != b.Status || a.StatusCode != b.StatusCode || !a.FinishedAt.Equal(b.FinishedAt) ||
				a.Attempts != b.Attempts || a.Requests != b.Requests || a.PossibleDuplicate != b.PossibleDuplicate {
				t.Errorf("finished invite %s (%s) changed: %+v, was %+v", key, b.Address, a, b)
			}
			if seen != 0 {
				t.Errorf("finished invite %s (%s, %s) was sent again: %d acceptances and emails", key, b.Address, b.Status, seen)
			}
		case b.State == stateCancelled:
			if a.State != stateCancelled || seen != 0 {
				t.Errorf("cancelled invite %s (%s): now %s, sent %d times", key, b.Address, a.State, seen)
			}
		default:
			sent++
			sentIn[b.Campaign]++
			wasAmbiguous := b.Inflight || b.Ambiguous > 0
			if wasAmbiguous {
				ambiguous++
				ambiguousIn[b.Campaign]++
			}
			if a.State != stateDone || a.Status != "Success" || a.Generation != b.Generation {
				t.Errorf("%s invite %s (%s) ended %s %s generation %d, want done Success generation %d",
					b.State, key, b.Address, a.State, a.Status, a.Generation, b.Generation)
			}
			if accepted[b.Address] != 1 || stats.Emails[b.Address] != 1 {
				t.Errorf("%s invite %s (%s): the server accepted it %d times and emailed %d times, want once",
					b.State, key, b.Address, accepted[b.Address], stats.Emails[b.Address])
			}
			if a.PossibleDuplicate != wasAmbiguous {
				t.Errorf("%s invite %s (%s, in flight %v, ambiguous %d): possible_duplicate %v, want %v",
					b.State, key, b.Address, b.Inflight, b.Ambiguous, a.PossibleDuplicate, wasAmbiguous)
			}
			// The attempt the killed worker left in flight counts as one
			// ambiguous attempt (begin), then one more attempt succeeds.
			wantAttempts, wantAmbiguous := b.Attempts+1, b.Ambiguous
			if b.Inflight {
				wantAttempts, wantAmbiguous = b.Attempts+2, b.Ambiguous+1
			}
			if a.Attempts != wantAttempts || a.Ambiguous != wantAmbiguous || a.Requests != b.Requests+1 {
				t.Errorf("%s invite %s (%s): attempts %d, ambiguous %d, requests %d; want %d, %d, %d",
					b.State, key, b.Address, a.Attempts, a.Ambiguous, a.Requests, wantAttempts, wantAmbiguous, b.Requests+1)
			}
		}
	}
	if stats.InviteRequests != int64(sent) || stats.Duplicates != 0 || len(accepted) != sent {
		t.Errorf("the simulator got %d invite requests for %d addresses (%d duplicates); want one each for the %d pending invites",
			stats.InviteRequests, len(accepted), stats.Duplicates, sent)
	}
	// Each ambiguous invite is re-checked (membership and power levels)
	// before it is sent again.
	if got := stats.Requests["state_event"]; got < int64(2*ambiguous) {
		t.Errorf("%d state reads, want at least 2 re-check reads for each of the %d ambiguous invites", got, ambiguous)
	}
	for name, a := range after {
		b := before[name].Counts
		c := a.Counts
		if c.Enqueued != b.Enqueued || c.Requests != b.Requests+sentIn[name] ||
			c.PossibleDuplicates != b.PossibleDuplicates+ambiguousIn[name] ||
			c.Statuses["Success"] != b.Statuses["Success"]+sentIn[name] {
			t.Errorf("campaign %s: counts %+v after, %+v before; %d sent, %d of them ambiguous", name, c, b, sentIn[name], ambiguousIn[name])
		}
	}
}

// TestCheckerCatchesACorruptedSnapshot is the test of the test: the same
// snapshot with one record changed must make the counts check fail, naming
// the campaign and what no longer adds up.
func TestCheckerCatchesACorruptedSnapshot(t *testing.T) {
	for _, tc := range []struct {
		name          string
		state, status string // the record to corrupt: first of spring in this state and status
		field, value  string
		want          []string
	}{
		{"a queued record says done", stateQueued, "", "state", stateDone,
			[]string{"campaign spring: 3 records are queued, the counter says 4", "campaign spring: 11 records are done, the counter says 10"}},
		{"a finished record changed its status", stateDone, "Success", "status", "NotFound",
			[]string{"campaign spring: 7 done records ended Success, the counter says 8", "campaign spring: 1 done records ended NotFound, the counter says 0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			rdb := redistest.StartOwned(t, redistest.Options{}).Client(t)
			loadSnapshot(t, ctx, rdb, snapshots[0])
			if p := problems(readAll(t, ctx, rdb)); len(p) > 0 {
				t.Fatalf("the snapshot is broken before the corruption:\n%s", strings.Join(p, "\n"))
			}
			key := ""
			for _, r := range readAll(t, ctx, rdb)["spring"].Records {
				if r.State == tc.state && r.Status == tc.status {
					key = r.Key
					break
				}
			}
			if key == "" {
				t.Fatalf("no %s %s record in campaign spring", tc.state, tc.status)
			}
			if err := corruptRecord(ctx, rdb, key, tc.field, tc.value); err != nil {
				t.Fatal(err)
			}
			got := problems(readAll(t, ctx, rdb))
			for _, w := range tc.want {
				if !slices.Contains(got, w) {
					t.Errorf("the checker reports %q, want it to report %q", got, w)
				}
			}
		})
	}
}
