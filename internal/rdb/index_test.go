package rdb

import (
	"slices"
	"strconv"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/tasks"
)

// resultKeys is the campaign's invites as Results walks them.
func resultKeys(t *testing.T, c *Client, campaign string) []string {
	t.Helper()
	var keys []string
	if err := c.Results(t.Context(), campaign, func(r record.Result) error {
		keys = append(keys, r.Key)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return keys
}

func keysOf(invs ...tasks.Invite) []string {
	out := make([]string, len(invs))
	for i, inv := range invs {
		out[i] = inv.Key()
	}
	return out
}

// A registered invite goes to the end of its campaign's list, its record
// keeping its position; a re-invite blanks the old entry and takes a new
// one, so every walk (results, cancel, purge) meets each invite once, in
// the order it was registered.
func TestIndexListsEachInviteOnceInRegistrationOrder(t *testing.T) {
	c, conn := newTestClient(t)
	ctx := t.Context()
	queue := "q-" + t.Name()
	a, b, d := testInvite(t, "a@example.org"), testInvite(t, "b@example.org"), testInvite(t, "d@example.org")
	register(t, c, record.RegisterOptions{}, &a, &b)
	register(t, c, record.RegisterOptions{}, &d)
	if got := conn.LRange(ctx, c.k.order("spring"), 0, -1).Val(); !slices.Equal(got, keysOf(a, b, d)) {
		t.Fatalf("list %v, want a b d", got)
	}
	for i, inv := range []tasks.Invite{a, b, d} {
		if ix := conn.HGet(ctx, c.k.invite(inv.Key()), fieldPosition).Val(); ix != strconv.Itoa(i+1) {
			t.Errorf("invite %d keeps position %q", i, ix)
		}
	}
	if n := conn.Exists(ctx, c.k.invites("spring")).Val(); n != 0 {
		t.Fatal("a registration wrote the sorted set of earlier releases")
	}

	finishNow(t, c, b, success())
	again := b
	if v := register(t, c, record.RegisterOptions{Again: true}, &again); v[0] != record.Registered {
		t.Fatalf("again: %v", v[0])
	}
	if got := conn.LRange(ctx, c.k.order("spring"), 0, -1).Val(); !slices.Equal(got, []string{a.Key(), "", d.Key(), b.Key()}) {
		t.Fatalf("list after the re-invite %q, want b's first entry blanked and b at the end", got)
	}
	if got := resultKeys(t, c, "spring"); !slices.Equal(got, keysOf(a, d, b)) {
		t.Fatalf("results %v, want a d b", got)
	}
	if n := checkIdentity(t, c, "spring"); n.Enqueued != 3 {
		t.Fatalf("enqueued %d, want 3", n.Enqueued)
	}
	if first, _, ok, err := c.FirstInvite(ctx, "spring"); err != nil || !ok || first.Key != a.Key() || first.EnqueuedAt.IsZero() {
		t.Fatalf("first invite %+v %v %v", first, ok, err)
	}

	st, err := c.Cancel(ctx, "spring", queue)
	if err != nil || st.Cancelled != 3 || st.AlreadyCancelled != 0 {
		t.Fatalf("cancel %+v %v: want 3 cancelled, each once", st, err)
	}
	pst, err := c.Purge(ctx, queue, record.PurgeOptions{Campaign: "spring"})
	if err != nil || pst.Records != 3 || pst.StaleIndexEntries != 0 || len(pst.CampaignsDeleted) != 1 {
		t.Fatalf("purge %+v %v: want 3 records, the campaign deleted", pst, err)
	}
	if n := conn.Exists(ctx, c.k.order("spring"), c.k.counts("spring")).Val(); n != 0 {
		t.Fatalf("%d keys of the deleted campaign left", n)
	}
}

// Campaigns registered by earlier releases keep their sorted set: it is
// read first, then the list; a re-invite moves an invite from the one to
// the other.
func TestIndexReadsTheSortedSetOfEarlierReleases(t *testing.T) {
	c, conn := newTestClient(t)
	ctx := t.Context()
	queue := "q-" + t.Name()
	x, y := testInvite(t, "x@example.org"), testInvite(t, "y@example.org")
	register(t, c, record.RegisterOptions{}, &x, &y)
	// What an earlier release wrote: a sorted set, records without a
	// position, no list.
	for i, inv := range []tasks.Invite{x, y} {
		conn.ZAdd(ctx, c.k.invites("spring"), redis.Z{Score: float64(1000 + i), Member: inv.Key()})
		conn.HDel(ctx, c.k.invite(inv.Key()), fieldPosition)
	}
	conn.Del(ctx, c.k.order("spring"))
	conn.HDel(ctx, c.k.counts("spring"), fieldIndexed)

	z := testInvite(t, "z@example.org")
	register(t, c, record.RegisterOptions{}, &z)
	if got := resultKeys(t, c, "spring"); !slices.Equal(got, keysOf(x, y, z)) {
		t.Fatalf("results %v, want x y (sorted set) then z (list)", got)
	}
	if n := checkIdentity(t, c, "spring"); n.Enqueued != 3 {
		t.Fatalf("enqueued %d, want 3", n.Enqueued)
	}
	if first, at, ok, err := c.FirstInvite(ctx, "spring"); err != nil || !ok || first.Key != x.Key() || at.UnixMilli() != 1000 {
		t.Fatalf("first invite %s at %v (%v %v), want x at its score", first.Key, at, ok, err)
	}
	finishNow(t, c, x, success())
	again := x
	register(t, c, record.RegisterOptions{Again: true}, &again)
	if got := resultKeys(t, c, "spring"); !slices.Equal(got, keysOf(y, z, x)) {
		t.Fatalf("results after re-inviting x %v, want y z x", got)
	}
	if conn.ZScore(ctx, c.k.invites("spring"), x.Key()).Err() == nil {
		t.Fatal("the re-invited x stays in the sorted set")
	}
	checkIdentity(t, c, "spring")
	if _, err := c.Cancel(ctx, "spring", queue); err != nil {
		t.Fatal(err)
	}
	pst, err := c.Purge(ctx, queue, record.PurgeOptions{Campaign: "spring"})
	if err != nil || pst.Records != 3 || len(pst.CampaignsDeleted) != 1 {
		t.Fatalf("purge %+v %v", pst, err)
	}
}

// An entry a forget could not blank (an earlier release deleted the
// record; or it expired) is skipped by every walk, even when its invite is
// registered again in the same campaign; a purge blanks it and counts it
// out, once.
func TestIndexSkipsEntriesNotBlanked(t *testing.T) {
	c, conn := newTestClient(t)
	ctx := t.Context()
	queue := "q-" + t.Name()
	a, b := testInvite(t, "a@example.org"), testInvite(t, "b@example.org")
	register(t, c, record.RegisterOptions{}, &a, &b)
	finishNow(t, c, a, success())
	// An earlier release's forget: the record goes, the entry and the
	// counters stay.
	conn.Del(ctx, c.k.invite(a.Key()))
	if got := resultKeys(t, c, "spring"); !slices.Equal(got, keysOf(b)) {
		t.Fatalf("results %v, want b only", got)
	}
	back := testInvite(t, "a@example.org")
	if v := register(t, c, record.RegisterOptions{}, &back); v[0] != record.Registered {
		t.Fatalf("registering a again: %v", v[0])
	}
	if got := resultKeys(t, c, "spring"); !slices.Equal(got, keysOf(b, a)) {
		t.Fatalf("results %v, want b then a at its new place (once)", got)
	}
	if n, _ := c.Counts(ctx, "spring"); n.Enqueued != 3 {
		t.Fatalf("enqueued %d before the purge, want 3 (the unblanked entry still counted)", n.Enqueued)
	}
	pst, err := c.Purge(ctx, queue, record.PurgeOptions{Campaign: "spring"})
	if err != nil || pst.Records != 0 || pst.StaleIndexEntries != 1 || pst.Kept != 2 {
		t.Fatalf("purge %+v %v: want the stale entry dropped, both queued invites kept", pst, err)
	}
	if got := conn.LIndex(ctx, c.k.order("spring"), 0).Val(); got != "" {
		t.Fatalf("the stale entry is %q after the purge, want blank", got)
	}
	// (The deleted record's share of the state counters stays, as with the
	// sorted set: purge.go.)
	if n, _ := c.Counts(ctx, "spring"); n.Enqueued != 2 {
		t.Fatalf("enqueued %d after the purge, want 2", n.Enqueued)
	}
	pst, err = c.Purge(ctx, queue, record.PurgeOptions{Campaign: "spring"})
	if err != nil || pst.StaleIndexEntries != 0 || pst.Kept != 2 {
		t.Fatalf("second purge %+v %v: the stale entry counted again", pst, err)
	}
	if st, err := c.Cancel(ctx, "spring", queue); err != nil || st.Cancelled != 2 {
		t.Fatalf("cancel %+v %v: want b and a, once each", st, err)
	}
}

// A record a worker creates (a task enqueued without the producer's
// registration) goes to the end of its campaign's list too.
func TestIndexListsAnAdoptedInvite(t *testing.T) {
	c, conn := newTestClient(t)
	ctx := t.Context()
	first := testInvite(t, "first@example.org")
	register(t, c, record.RegisterOptions{}, &first)
	adopted := testInvite(t, "adopted@example.org")
	if _, err := c.Begin(ctx, adopted, BeginOptions{}); err != nil {
		t.Fatal(err)
	}
	if ix := conn.HGet(ctx, c.k.invite(adopted.Key()), fieldPosition).Val(); ix != "2" {
		t.Fatalf("adopted record's position %q, want 2", ix)
	}
	if got := resultKeys(t, c, "spring"); !slices.Equal(got, keysOf(first, adopted)) {
		t.Fatalf("results %v", got)
	}
	checkIdentity(t, c, "spring")
}
