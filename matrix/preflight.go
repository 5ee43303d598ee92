package matrix

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// Membership values of m.room.member (spec: "m.room.member").
const (
	// MembershipJoin: the user is in the room.
	MembershipJoin = "join"
	// MembershipInvite: the user is invited.
	MembershipInvite = "invite"
	// MembershipLeave: the user left or was kicked.
	MembershipLeave = "leave"
	// MembershipBan: the user is banned.
	MembershipBan = "ban"
	// MembershipKnock: the user asked to join.
	MembershipKnock = "knock"
)

// Preflight calls check, before an invite, what Synapse and Dendrite only
// check after the identity server has already emailed the invitee: that the
// token works, the room exists and the inviter may invite there.

// WhoAmI calls GET /_matrix/client/v3/account/whoami (spec: client-server
// API, "GET /_matrix/client/v3/account/whoami") and returns the token's user.
func (c *Client) WhoAmI(ctx context.Context, opts ...CallOption) (UserID, Outcome) {
	var resp struct {
		UserID string `json:"user_id"`
	}
	o := c.getJSON(ctx, &resp, opts, "account", "whoami")
	if !o.Status.Good() {
		return "", o
	}
	user, err := ParseUserID(resp.UserID)
	if err != nil {
		return "", incorrectResponse(o, "whoami: "+err.Error())
	}
	return user, o
}

// ResolveAlias calls GET /_matrix/client/v3/directory/room/{roomAlias}
// (spec: client-server API, "GET /_matrix/client/v3/directory/room/{roomAlias}").
// An unknown alias is NotFound.
func (c *Client) ResolveAlias(ctx context.Context, alias RoomAlias, opts ...CallOption) (RoomID, Outcome) {
	var resp struct {
		RoomID string `json:"room_id"`
	}
	if _, err := ParseRoomAlias(string(alias)); err != nil {
		return "", c.rejected(ctx, err)
	}
	o := c.getJSON(ctx, &resp, opts, "directory", "room", string(alias))
	if !o.Status.Good() {
		return "", o
	}
	room, err := ParseRoomID(resp.RoomID)
	if err != nil {
		return "", incorrectResponse(o, "directory: "+err.Error())
	}
	return room, o
}

// Membership calls GET /_matrix/client/v3/rooms/{roomId}/state/m.room.member/{userId}
// (spec: client-server API, "GET /_matrix/client/v3/rooms/{roomId}/state/{eventType}/{stateKey}")
// and returns content.membership: "join", "invite", "leave", "ban" or
// "knock". A user who was never in the room has no member event: the result
// is "" with a NotFound outcome.
func (c *Client) Membership(ctx context.Context, room RoomID, user UserID, opts ...CallOption) (string, Outcome) {
	var content struct {
		Membership string `json:"membership"`
	}
	if _, err := ParseRoomID(string(room)); err != nil {
		return "", c.rejected(ctx, err)
	}
	if _, err := ParseUserID(string(user)); err != nil {
		return "", c.rejected(ctx, err)
	}
	o := c.getJSON(ctx, &content, opts, "rooms", string(room), "state", "m.room.member", string(user))
	if !o.Status.Good() {
		return "", o
	}
	return content.Membership, o
}

// PowerLevels calls GET /_matrix/client/v3/rooms/{roomId}/state/m.room.power_levels
// (spec: client-server API, "GET /_matrix/client/v3/rooms/{roomId}/state/{eventType}/{stateKey}",
// event m.room.power_levels).
func (c *Client) PowerLevels(ctx context.Context, room RoomID, opts ...CallOption) (PowerLevels, Outcome) {
	var levels PowerLevels
	if _, err := ParseRoomID(string(room)); err != nil {
		return PowerLevels{}, c.rejected(ctx, err)
	}
	// The state key is empty; Synapse and Dendrite both accept the path
	// without the trailing "/".
	o := c.getJSON(ctx, &levels, opts, "rooms", string(room), "state", "m.room.power_levels")
	if !o.Status.Good() {
		return PowerLevels{}, o
	}
	return levels, o
}

// getJSON sends an authenticated GET to the client API and decodes a
// successful answer into v; a 2xx that does not fit v is IncorrectResponse.
func (c *Client) getJSON(ctx context.Context, v any, opts []CallOption, segments ...string) Outcome {
	cl := call{method: http.MethodGet, token: c.cfg.AccessToken, opts: resolveOptions(opts)}
	cl.url, cl.urlErr = c.clientURL(segments...)
	return c.doJSON(ctx, cl, v)
}

// doJSON sends cl and decodes a successful answer into v.
func (c *Client) doJSON(ctx context.Context, cl call, v any) Outcome {
	o, body := c.do(ctx, cl)
	return decodeInto(o, body, v)
}

// rejected is the Outcome of a call whose arguments are invalid: it goes
// through do so that it is classified and logged like any other, and is
// never sent.
func (c *Client) rejected(ctx context.Context, err error) Outcome {
	o, _ := c.do(ctx, call{method: http.MethodGet, token: c.cfg.AccessToken, urlErr: err})
	return o
}

// rejectedCall is cl ended as Unauthorised before it is sent, because the
// token it needs is missing; it goes through do like any other call.
func (c *Client) rejectedCall(ctx context.Context, cl call, why string) Outcome {
	cl.token, cl.anonymous = "", false
	o, _ := c.do(ctx, cl)
	if cl.urlErr == nil {
		o.Status.Message = why + "; not sent"
	}
	return o
}

// decodeInto fills v from a successful answer.
func decodeInto(o Outcome, body []byte, v any) Outcome {
	if !o.Status.Good() {
		return o
	}
	if err := json.Unmarshal(body, v); err != nil {
		return incorrectResponse(o, fmt.Sprintf("unexpected response: %v", err))
	}
	return o
}

// incorrectResponse turns a 2xx whose content is unusable into a retryable
// IncorrectResponse, as libQuotient does when a result fails to parse.
func incorrectResponse(o Outcome, message string) Outcome {
	o.Status = Status{Code: IncorrectResponse, Message: message}
	o.Retryable = retryable(IncorrectResponse)
	return o
}
