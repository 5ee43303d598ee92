package worker

import (
	"context"
	"fmt"

	"github.com/mxinvite/mxinvite/matrix"
)

// recheck asks the homeserver, cheaply and without side effects, what it
// would refuse an invite for, before an invite whose previous attempt had an
// unknown outcome is sent again. Real servers answer 500 after the identity
// server has already stored (and emailed) the invite when the inviter is not
// in the room (Dendrite) or the identity server failed (Synapse), so a blind
// retry can email the same person again for an invite that can never succeed.
//
// It returns a bad Status when the invite must end without another request,
// and a good one otherwise (including when the re-check itself could not get
// an answer: the invite request then meets the same outage and retries).
func recheck(ctx context.Context, s *sender, room matrix.RoomID) matrix.Status {
	ok := matrix.Status{Code: matrix.Success}
	user, o := s.whoAmI(ctx)
	if decisive(o) {
		return reason(o, "re-check whoami")
	}
	if !o.Status.Good() {
		return ok
	}
	membership, o := s.client().Membership(ctx, room, user)
	switch {
	case o.Status.Code == matrix.NotFound || o.Status.Code == matrix.ContentAccessError:
		return matrix.Status{Code: matrix.ContentAccessError,
			Message: fmt.Sprintf("re-check: %s is not joined to %s (%s)", user, room, o.Status.Message)}
	case decisive(o):
		return reason(o, "re-check membership")
	case !o.Status.Good():
		return ok
	case membership != "join":
		return matrix.Status{Code: matrix.ContentAccessError,
			Message: fmt.Sprintf("re-check: %s is not joined to %s (membership %q)", user, room, membership)}
	}
	pl, o := s.client().PowerLevels(ctx, room)
	if !o.Status.Good() {
		if decisive(o) {
			return reason(o, "re-check power levels")
		}
		return ok
	}
	if have, need := pl.UserLevel(user), pl.InviteLevel(); have < need {
		return matrix.Status{Code: matrix.ContentAccessError,
			Message: fmt.Sprintf("re-check: %s has power level %d, inviting to %s needs %d", user, have, room, need)}
	}
	return ok
}

// decisive reports whether a failed re-check call is a verdict on the invite
// (the server refused) rather than a failure to get an answer.
func decisive(o matrix.Outcome) bool {
	return !o.Status.Good() && !o.Retryable && o.Status.Code != matrix.Abandoned
}

func reason(o matrix.Outcome, what string) matrix.Status {
	return matrix.Status{Code: o.Status.Code, Message: what + ": " + o.Status.Message}
}
