package worker

import (
	"cmp"
	"context"
	"time"

	"github.com/rs/zerolog"

	"github.com/mxinvite/mxinvite/internal/recent"
	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/matrix"
	"github.com/mxinvite/mxinvite/tasks"
)

// Resolve-first. Synapse charges every 3PID invite to rc_third_party_invite
// (burst 5, then one per 400 s by default) before it looks the address up,
// even when the address is bound to an account; an invite by Matrix ID is
// charged to rc_invites instead (per issuer 0.3/s, burst 10). So before a
// 3PID invite the worker looks the address up itself, as Element does
// (identity service v2: hash_details + lookup, hashed with the server's
// pepper, matrix.IdentityClient.Lookup), and invites a bound address by its
// Matrix ID, on its own gate (record.PathMatrixID), or not at all when the
// account is already in the room or invited. Each delivery looks its
// address up on its own (matrix.NewResolver explains why not in batches),
// answers are reused for Config.LookupCacheTTL, and an identity server without the v2 lookup
// (Dendrite's v1-only ones) or without a token to be had is remembered and
// its addresses go by 3PID, as before. A failed lookup never fails an
// invite: it goes by 3PID, and the homeserver does its own lookup.

// resolveFirst looks the invite's address up before its first request. A
// bound address whose account is in the room or invited already ends the
// invite (Success, no request); another bound one is invited by Matrix ID
// (j.p.Path, j.userID). Anything else — unbound, no token, no v2 lookup, a
// failed lookup — leaves the invite to go by 3PID.
func (j *job) resolveFirst(ctx context.Context, room matrix.RoomID, idServer string) (ended bool, err error) {
	if !j.ahead.done { // (not looked up ahead, below)
		tok, err := j.identityToken(ctx, idServer)
		if err != nil || tok == "" {
			return false, err
		}
		if j.ahead = j.h.lookup(ctx, j.inv, j.snd, idServer, tok); ctx.Err() != nil {
			return false, ctx.Err()
		}
	}
	user := j.ahead.user
	if user == "" {
		return false, nil
	}
	// The state endpoint, not the members list: one small answer about one
	// account, readable by the sender as a member of the room.
	m, o := j.snd.client().Membership(ctx, room, user)
	if o.Status.Good() && (m == matrix.MembershipJoin || m == matrix.MembershipInvite) {
		f := record.Final{Status: matrix.Success, UserID: string(user), Delivery: record.DeliveryAlreadyInvited}
		switch {
		case m == matrix.MembershipJoin:
			f.Delivery, f.JoinedAt = record.DeliveryAlreadyJoined, time.Now()
		case j.p.Ambiguous > 0:
			// Most likely this invite's own earlier attempt, whose answer
			// was lost: it was sent.
			f.Delivery = record.DeliveryUserID
		}
		return true, j.end(ctx, f, record.AttemptUpdate{})
	}
	j.userID, j.p.Path = user, record.PathMatrixID
	return false, nil
}

// Looking ahead: the lookup made before begin, so that an address bound to
// no account (most of a list) lets begin mark its request in flight on the
// 3PID gate in begin's batched round trip, not in a gate script of its own
// (bench P1a, R1). Only with an identity token at hand (obtaining one may
// pause the sender, which needs the delivery begun), and not for invites of
// a campaign or sender begin found paused lately here (held invites come
// back often) until a begin of one goes through.
type lookahead struct {
	done bool          // looked up (else resolveFirst looks up itself)
	user matrix.UserID // the bound account; "" for none or a failed lookup
}

func newPauseMemory() *recent.Set { return &recent.Set{For: 10 * time.Minute} }

// pauseKeys name inv's campaign and sender in the Handler's pause memory.
func pauseKeys(inv tasks.Invite) []string { return []string{"c:" + inv.Campaign, "s:" + inv.Sender} }

// lookAhead looks inv's address up before begin when that is free.
func (h *Handler) lookAhead(ctx context.Context, inv tasks.Invite, snd *sender, idServer string) lookahead {
	if h.cfg.NoLookup || idServer == "" || h.pauses.Any(pauseKeys(inv)...) {
		return lookahead{}
	}
	if tok := cmp.Or(snd.idToken(idServer), snd.cur.Load().cachedIdentityToken(idServer)); tok != "" {
		return h.lookup(ctx, inv, snd, idServer, tok)
	}
	return lookahead{}
}

// lookup looks inv's address up (a failed lookup never fails an invite: it
// goes by 3PID); its zero value when ctx ended.
func (h *Handler) lookup(ctx context.Context, inv tasks.Invite, snd *sender, idServer, tok string) lookahead {
	user, err := h.resolver.Resolve(ctx, snd.client().Identity(idServer), tok,
		matrix.ThreePID{Medium: string(inv.Medium), Address: inv.Address})
	if ctx.Err() != nil {
		return lookahead{}
	}
	if err != nil {
		zerolog.Ctx(ctx).Debug().Err(err).Msg("no lookup; invited by 3PID")
	}
	return lookahead{done: true, user: user}
}
