package worker

import (
	"context"
	"time"

	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/matrix"
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
	tok, err := j.identityToken(ctx, idServer)
	if err != nil || tok == "" {
		return false, err
	}
	user, err := j.h.resolver.Resolve(ctx, j.snd.client().Identity(idServer), tok,
		matrix.ThreePID{Medium: string(j.inv.Medium), Address: j.inv.Address})
	switch {
	case ctx.Err() != nil:
		return false, ctx.Err()
	case err != nil:
		j.log.Debug().Err(err).Msg("no lookup; invited by 3PID")
		return false, nil
	case user == "":
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
