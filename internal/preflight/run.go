package preflight

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mxinvite/mxinvite/matrix"
)

// Config is what Run checks.
type Config struct {
	// Client calls the homeserver with the sender's access token.
	Client *matrix.Client
	// Room is the room ID or alias invites will go to.
	Room string
	// IDServer is the identity server (hostname[:port]) invites will name,
	// and IDAccessToken the sender's token there.
	IDServer      string
	IDAccessToken string
	// IdentityTokens, when set and IDAccessToken is empty, obtains the
	// identity token from the sender's account (a configured token always
	// wins); the "identity token" check shows how that went, naming every
	// document when the terms are not accepted. Nil: no token is a failed
	// identity server check, as before.
	IdentityTokens *matrix.IdentityTokens
	// Sender is the sender profile's name, for the hints printed.
	Sender string
	// Addresses returns how many addresses the campaign will invite, for
	// the rate-limit note; it is called at most once, and only when the
	// homeserver lets the token read the sender's rate-limit override.
	// Nil, or a negative result, means unknown.
	Addresses func() int
	// SenderPace returns the pace (one invite per that long) the sender's
	// rate-limit gate learnt from the homeserver in earlier campaigns, 0
	// when none: preflight says what it means for this list. Nil: unknown.
	SenderPace func() time.Duration
}

// Run makes every check and returns them all, failed or not, so that one
// run shows every problem. A check that needs an earlier one to pass (the
// membership needs the sender's user ID and the room) fails with a detail
// naming what it waits for.
func Run(ctx context.Context, cfg Config) Report {
	var r Report
	user := checkToken(ctx, cfg.Client, &r)
	room := checkRoom(ctx, cfg.Client, cfg.Room, &r)
	joined := checkMembership(ctx, cfg.Client, room, user, &r)
	checkPowerLevel(ctx, cfg.Client, room, user, joined, &r)
	idToken, fromAccount := cfg.IDAccessToken, false
	if idToken == "" && cfg.IdentityTokens != nil && cfg.IDServer != "" {
		idToken, fromAccount = checkIdentityToken(ctx, cfg.IdentityTokens, cfg.IDServer, user, &r), true
	}
	checkIdentityServer(ctx, cfg.Client, cfg.IDServer, idToken, fromAccount, &r)
	checkRateLimit(ctx, cfg, user, &r)
	checkKnownPace(cfg, &r)
	r.RoomID, r.UserID = string(room), string(user)
	return r
}

// ResolveRoom returns the room ID of a room ID or alias: an ID is checked
// and returned as given, an alias is resolved through the homeserver's
// room directory. It is what enqueue uses when the preflight is skipped.
func ResolveRoom(ctx context.Context, c *matrix.Client, room string) (matrix.RoomID, error) {
	if !strings.HasPrefix(room, "#") {
		return matrix.ParseRoomID(room)
	}
	alias, err := matrix.ParseRoomAlias(room)
	if err != nil {
		return "", err
	}
	id, o := c.ResolveAlias(ctx, alias)
	if !o.Status.Good() {
		return "", fmt.Errorf("room alias %s: %s", alias, describe(o))
	}
	return id, nil
}

func checkToken(ctx context.Context, c *matrix.Client, r *Report) matrix.UserID {
	user, o := c.WhoAmI(ctx)
	switch {
	case o.Status.Good():
		r.add(CheckToken, true, "valid; the sender is %s", user)
	case o.Status.Code == matrix.Unauthorised:
		r.add(CheckToken, false, "the homeserver refused the access token (%s)", describe(o))
	default:
		r.add(CheckToken, false, "could not ask the homeserver who the token belongs to (%s)", describe(o))
	}
	return user
}

func checkRoom(ctx context.Context, c *matrix.Client, room string, r *Report) matrix.RoomID {
	if !strings.HasPrefix(room, "#") {
		id, err := matrix.ParseRoomID(room)
		if err != nil {
			r.add(CheckRoom, false, "%v", err)
			return ""
		}
		r.add(CheckRoom, true, "%s (its existence is checked with the membership)", id)
		return id
	}
	id, err := ResolveRoom(ctx, c, room)
	if err != nil {
		r.add(CheckRoom, false, "%v", err)
		return ""
	}
	r.add(CheckRoom, true, "%s is %s", room, id)
	return id
}

// checkMembership reports whether the sender is joined to the room.
func checkMembership(ctx context.Context, c *matrix.Client, room matrix.RoomID, user matrix.UserID, r *Report) bool {
	if room == "" || user == "" {
		r.add(CheckMembership, false, "not checked: needs %s", waitingFor(room, user))
		return false
	}
	membership, o := c.Membership(ctx, room, user)
	switch {
	case o.Status.Good() && membership == matrix.MembershipJoin:
		r.add(CheckMembership, true, "%s is joined to %s", user, room)
		return true
	case o.Status.Good() && membership == matrix.MembershipInvite:
		r.add(CheckMembership, false, "%s is invited to %s but has not joined; join the room first", user, room)
	case o.Status.Good():
		r.add(CheckMembership, false, "%s is not joined to %s (membership %q); join the room first", user, room, membership)
	case o.Status.Code == matrix.NotFound || o.Status.Code == matrix.ContentAccessError:
		// Synapse answers 403 for rooms the user is not in and for rooms
		// that do not exist alike, so that existence does not leak.
		r.add(CheckMembership, false, "%s is not in %s, or the room does not exist (%s)", user, room, describe(o))
	default:
		r.add(CheckMembership, false, "could not read the membership of %s in %s (%s)", user, room, describe(o))
	}
	return false
}

func checkPowerLevel(ctx context.Context, c *matrix.Client, room matrix.RoomID, user matrix.UserID, joined bool, r *Report) {
	if !joined {
		r.add(CheckPowerLevel, false, "not checked: needs the sender to be joined to the room")
		return
	}
	levels, o := c.PowerLevels(ctx, room)
	if !o.Status.Good() {
		r.add(CheckPowerLevel, false, "could not read the power levels of %s (%s)", room, describe(o))
		return
	}
	have, need := levels.UserLevel(user), levels.InviteLevel()
	if have < need {
		r.add(CheckPowerLevel, false, "%s has power level %d in %s, inviting needs %d", user, have, room, need)
		return
	}
	r.add(CheckPowerLevel, true, "%s has power level %d, inviting needs %d", user, have, need)
}

func checkIdentityServer(ctx context.Context, c *matrix.Client, idServer, token string, fromAccount bool, r *Report) {
	switch {
	case idServer == "":
		r.add(CheckIdentityServer, false, "no identity server given")
		return
	case token == "" && fromAccount:
		r.add(CheckIdentityServer, false, "not checked: needs an identity token")
		return
	case token == "":
		r.add(CheckIdentityServer, false, "no access token for the identity server %s", idServer)
		return
	}
	details, o := c.IdentityHashDetails(ctx, idServer, token)
	switch {
	case o.Status.Good():
		r.add(CheckIdentityServer, true, "%s answers hash_details (algorithms: %s)", idServer, strings.Join(details.Algorithms, ", "))
	case o.Status.Code == matrix.Unauthorised:
		r.add(CheckIdentityServer, false, "%s refused the identity access token (%s)", idServer, describe(o))
	default:
		r.add(CheckIdentityServer, false, "%s did not answer hash_details (%s)", idServer, describe(o))
	}
}

// waitingFor names the failed checks a dependent check waits for.
func waitingFor(room matrix.RoomID, user matrix.UserID) string {
	switch {
	case room == "" && user == "":
		return "a valid access token and the room"
	case room == "":
		return "the room"
	}
	return "a valid access token"
}

// describe renders a failed outcome: the status, plus the HTTP status and
// errcode when there was an answer.
func describe(o matrix.Outcome) string {
	s := o.Status.String()
	if o.HTTPStatus != 0 {
		s += fmt.Sprintf("; HTTP %d", o.HTTPStatus)
		if o.ErrCode != "" {
			s += " " + string(o.ErrCode)
		}
	}
	return s
}
