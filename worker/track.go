package worker

import (
	"context"
	"fmt"
	"time"

	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/matrix"
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
// twice. The worker tracks every Config.TrackEvery the campaigns with
// invitees not joined yet; mxinvite track does it at once. With
// Config.NoLookup no address is looked up again (nothing is sent to the
// identity server): only the joins of known accounts are seen.

// TrackReport says what one Track saw.
type TrackReport struct {
	// Invites is how many successful invites were looked at; LookedUp how
	// many addresses were looked up again, NewlyBound how many of those
	// are bound now; Joined how many invitees are joined; Changed how many
	// records changed. Unserved counts invites of senders this process
	// does not serve (not looked at).
	Invites, LookedUp, NewlyBound, Joined, Changed, Unserved int
	// Problems lists what could not be looked at, and why.
	Problems []string
}

// trackGroup is a campaign's invites of one sender into one room.
type trackGroup struct {
	snd      *sender
	room     matrix.RoomID
	idServer string
	results  []record.Result
}

// Track refreshes campaign's funnel: see above.
func (w *Worker) Track(ctx context.Context, campaign string) (TrackReport, error) {
	var rep TrackReport
	groups := map[[3]string]*trackGroup{}
	var order [][3]string
	err := w.store.Results(ctx, campaign, func(r record.Result) error {
		if !r.Final() || !r.StatusCode.Good() {
			return nil
		}
		rep.Invites++
		snd, ok := w.handler.senders[r.Sender]
		if !ok {
			rep.Unserved++
			return nil
		}
		idServer := r.IDServer
		if idServer == "" {
			idServer = snd.IDServer
		}
		k := [3]string{r.Sender, r.RoomID, idServer}
		g := groups[k]
		if g == nil {
			g = &trackGroup{snd: snd, room: matrix.RoomID(r.RoomID), idServer: idServer}
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
		seen = append(seen, w.trackGroup(ctx, groups[k], &rep)...)
	}
	if rep.Changed, err = w.store.Track(ctx, campaign, seen); err != nil {
		return rep, err
	}
	return rep, nil
}

// trackGroup looks at one group's invitees.
func (w *Worker) trackGroup(ctx context.Context, g *trackGroup, rep *TrackReport) []rdb.Seen {
	bound := map[string]matrix.UserID{} // invite key -> account newly found
	var ask []record.Result
	for _, r := range g.results {
		if r.UserID == "" && (r.Delivery == record.Delivery3PID || r.Delivery == "") {
			ask = append(ask, r)
		}
	}
	if len(ask) > 0 && g.idServer != "" && !w.cfg.NoLookup {
		w.lookupAgain(ctx, g, ask, bound, rep)
	}
	joined, o := g.snd.client().JoinedMembers(ctx, g.room)
	if !o.Status.Good() {
		rep.Problems = append(rep.Problems, fmt.Sprintf("members of %s as %s: %s", g.room, g.snd.Name, o.Status))
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
func (w *Worker) lookupAgain(ctx context.Context, g *trackGroup, ask []record.Result, bound map[string]matrix.UserID, rep *TrackReport) {
	tok := g.snd.idToken(g.idServer)
	if tok == "" {
		var err error
		if tok, err = g.snd.cur.Load().identityToken(ctx, g.idServer); err != nil || tok == "" {
			rep.Problems = append(rep.Problems, fmt.Sprintf("no identity token for %s as %s: addresses not looked up again", g.idServer, g.snd.Name))
			return
		}
	}
	ic := g.snd.client().Identity(g.idServer)
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

// trackLoop tracks, every Config.TrackEvery, each campaign with invitees
// not joined yet.
func (w *Worker) trackLoop(ctx context.Context) {
	t := time.NewTicker(w.cfg.TrackEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		names, err := w.store.Campaigns(ctx)
		if err != nil {
			w.cfg.Logger.Warn().Err(err).Msg("track: listing campaigns")
			continue
		}
		for _, name := range names {
			c, err := w.store.Counts(ctx, name)
			if err != nil || !awaitsJoins(c) {
				continue
			}
			rep, err := w.Track(ctx, name)
			if err != nil {
				w.cfg.Logger.Warn().Err(err).Str("campaign", name).Msg("track")
				continue
			}
			w.cfg.Logger.Info().Str("campaign", name).Int("joined", rep.Joined).Int("newly_bound", rep.NewlyBound).
				Int("changed", rep.Changed).Strs("problems", rep.Problems).Msg("tracked who joined")
		}
	}
}

// awaitsJoins reports whether a campaign has invitees who may still join:
// more invites out (sent or found already invited) than joined.
func awaitsJoins(c record.CampaignCounts) bool {
	return c.Funnel.Sent+c.Deliveries[record.DeliveryAlreadyInvited] > c.Funnel.Joined
}
