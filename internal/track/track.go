// Package track tells who joined: it looks again at a campaign's
// successful invites (a re-lookup of 3PID invitees' addresses, the room's
// joined members) and records what it saw in Redis (rdb.Client.Track).
// It is not the executor: the worker runs it in the background and
// mxinvite track at once, both with the worker's senders.
package track

import (
	"context"
	"fmt"
	"time"

	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/matrix"
	"github.com/rs/zerolog"
)

// Who joined. An invite is not a member: Track looks again at a campaign's
// successful invites. A 3PID invitee without an account yet is looked up
// again (one v2 lookup per sender, identity server and 500 addresses,
// never from the cache): a bound address means the person registered and
// bound it (registered_at_ms). Every invitee with a known account is then
// checked in the room's joined members (GET …/members?membership=join,
// one request per sender and room: a campaign's invitees in one answer):
// joined_at_ms is when mxinvite first saw them joined, and goes again if
// they left. The funnel counters move in Redis with the records
// (rdb.Track), so tracking twice, or from two workers, counts nothing
// twice. The worker runs Loop every worker.Config.TrackEvery over the
// campaigns with invitees not joined yet; mxinvite track runs Track at
// once. With Tracker.NoLookup no address is looked up again (nothing is sent to the
// identity server): only the joins of known accounts are seen.

// Sender is what tracking needs of a sender profile: its client, and an
// identity token for an identity server (the configured one, or one
// obtained from the account).
type Sender interface {
	Name() string
	DefaultIDServer() string
	Client() *matrix.Client
	IdentityToken(ctx context.Context, idServer string) (string, error)
}

// Tracker refreshes campaigns' funnels.
type Tracker struct {
	Store *rdb.Client
	// Sender finds the sender profile of a name; false: not served here.
	Sender func(name string) (Sender, bool)
	// NoLookup: no address is looked up again (only joins are seen).
	NoLookup bool
	Logger   zerolog.Logger
}

// Report says what one Track saw.
type Report struct {
	// Invites is how many successful invites were looked at; LookedUp how
	// many addresses were looked up again, NewlyBound how many of those
	// are bound now; Joined how many invitees are joined; Changed how many
	// records changed. Unserved counts invites of senders this process
	// does not serve (not looked at).
	Invites, LookedUp, NewlyBound, Joined, Changed, Unserved int
	// Problems lists what could not be looked at, and why.
	Problems []string
}

// group is a campaign's invites of one sender into one room.
type group struct {
	snd      Sender
	room     matrix.RoomID
	idServer string
	results  []record.Result
}

// Track refreshes campaign's funnel: see the package doc.
func (t *Tracker) Track(ctx context.Context, campaign string) (Report, error) {
	var rep Report
	groups := map[[3]string]*group{}
	var order [][3]string
	err := t.Store.Results(ctx, campaign, func(r record.Result) error {
		if !r.Final() || !r.StatusCode.Good() {
			return nil
		}
		rep.Invites++
		snd, ok := t.Sender(r.Sender)
		if !ok {
			rep.Unserved++
			return nil
		}
		idServer := r.IDServer
		if idServer == "" {
			idServer = snd.DefaultIDServer()
		}
		k := [3]string{r.Sender, r.RoomID, idServer}
		g := groups[k]
		if g == nil {
			g = &group{snd: snd, room: matrix.RoomID(r.RoomID), idServer: idServer}
			groups[k] = g
			order = append(order, k)
		}
		g.results = append(g.results, r)
		return nil
	})
	if err != nil {
		return rep, err
	}
	var seen []rdb.Seen
	for _, k := range order {
		seen = append(seen, t.group(ctx, groups[k], &rep)...)
	}
	if rep.Changed, err = t.Store.Track(ctx, campaign, seen); err != nil {
		return rep, err
	}
	return rep, nil
}

// group looks at one group's invitees.
func (t *Tracker) group(ctx context.Context, g *group, rep *Report) []rdb.Seen {
	bound := map[string]matrix.UserID{} // invite key -> account newly found
	var ask []record.Result
	for _, r := range g.results {
		if r.UserID == "" && (r.Delivery == record.Delivery3PID || r.Delivery == "") {
			ask = append(ask, r)
		}
	}
	if len(ask) > 0 && g.idServer != "" && !t.NoLookup {
		lookupAgain(ctx, g, ask, bound, rep)
	}
	joined, o := g.snd.Client().JoinedMembers(ctx, g.room)
	if !o.Status.Good() {
		rep.Problems = append(rep.Problems, fmt.Sprintf("members of %s as %s: %s", g.room, g.snd.Name(), o.Status))
	}
	seen := make([]rdb.Seen, 0, len(g.results))
	for _, r := range g.results {
		s := rdb.Seen{Key: r.Key, Bound: string(bound[r.Key])}
		user := matrix.UserID(r.UserID)
		if user == "" {
			user = bound[r.Key]
		}
		switch {
		case user == "" || joined == nil:
		case joined[user]:
			s.Joined = rdb.SeenYes
			rep.Joined++
		default:
			s.Joined = rdb.SeenNo
		}
		seen = append(seen, s)
	}
	return seen
}

// lookupAgain looks ask's addresses up, fresh, and notes the bound ones.
func lookupAgain(ctx context.Context, g *group, ask []record.Result, bound map[string]matrix.UserID, rep *Report) {
	tok, err := g.snd.IdentityToken(ctx, g.idServer)
	if err != nil || tok == "" {
		rep.Problems = append(rep.Problems, fmt.Sprintf("no identity token for %s as %s: addresses not looked up again", g.idServer, g.snd.Name()))
		return
	}
	ic := g.snd.Client().Identity(g.idServer)
	pepper := ""
	for start := 0; start < len(ask); start += matrix.MaxLookupBatch {
		part := ask[start:min(start+matrix.MaxLookupBatch, len(ask))]
		pids := make([]matrix.ThreePID, len(part))
		for i, r := range part {
			pids[i] = matrix.ThreePID{Medium: r.Medium, Address: matrix.CanonicalAddress(r.Medium, r.Address)}
		}
		ans, o := ic.Lookup(ctx, tok, pepper, pids)
		if !o.Status.Good() {
			rep.Problems = append(rep.Problems, fmt.Sprintf("lookup at %s: %s", g.idServer, o.Status))
			return
		}
		pepper = ans.Pepper
		rep.LookedUp += len(part)
		for i, r := range part {
			if u := ans.Bound[pids[i]]; u != "" {
				bound[r.Key] = u
				rep.NewlyBound++
			}
		}
	}
}

// Loop tracks, every `every`, each campaign with invitees not joined yet,
// until ctx ends.
func (t *Tracker) Loop(ctx context.Context, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		names, err := t.Store.Campaigns(ctx)
		if err != nil {
			t.Logger.Warn().Err(err).Msg("track: listing campaigns")
			continue
		}
		for _, name := range names {
			c, err := t.Store.Counts(ctx, name)
			if err != nil || !awaitsJoins(c) {
				continue
			}
			rep, err := t.Track(ctx, name)
			if err != nil {
				t.Logger.Warn().Err(err).Str("campaign", name).Msg("track")
				continue
			}
			t.Logger.Info().Str("campaign", name).Int("joined", rep.Joined).Int("newly_bound", rep.NewlyBound).
				Int("changed", rep.Changed).Strs("problems", rep.Problems).Msg("tracked who joined")
		}
	}
}

// awaitsJoins reports whether a campaign has invitees who may still join:
// more invites out (sent or found already invited) than joined.
func awaitsJoins(c record.CampaignCounts) bool {
	return c.Funnel.Sent+c.Deliveries[record.DeliveryAlreadyInvited] > c.Funnel.Joined
}
