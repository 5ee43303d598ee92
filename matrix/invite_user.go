package matrix

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
)

// InviteByUserID calls POST /_matrix/client/v3/rooms/{roomId}/invite with
// {"user_id"} (spec: client-server API, "POST
// /_matrix/client/v3/rooms/{roomId}/invite"): it invites an account
// directly. Synapse charges it to rc_invites (per room, per invitee, per
// issuer), not to rc_third_party_invite, and no email is sent. Repeating it
// is harmless (a repeat of the sender's own invite is 200 and changes
// nothing), so it goes without a transaction ID. A room or user that is
// not a valid ID is an IncorrectRequest and nothing is sent.
func (c *Client) InviteByUserID(ctx context.Context, room RoomID, user UserID, opts ...CallOption) Outcome {
	body, _ := json.Marshal(map[string]string{"user_id": string(user)})
	cl := call{method: http.MethodPost, token: c.cfg.AccessToken, body: body, opts: resolveOptions(opts)}
	if _, err := ParseRoomID(string(room)); err != nil {
		cl.urlErr = err
	} else if _, err := ParseUserID(string(user)); err != nil {
		cl.urlErr = err
	} else {
		cl.url, cl.urlErr = c.clientURL("rooms", string(room), "invite")
	}
	o, _ := c.do(ctx, cl)
	return o
}

// AlreadyJoined recognises an invite refused because the invitee is in the
// room already (403 M_FORBIDDEN "… is already in the room.", Synapse's and
// Dendrite's wording): that person needs no invite.
func AlreadyJoined(o Outcome) bool {
	return o.HTTPStatus == http.StatusForbidden && o.ErrCode == MForbidden &&
		strings.Contains(strings.ToLower(o.Status.Message), "already in the room")
}

// JoinedMembers calls GET /_matrix/client/v3/rooms/{roomId}/members?membership=join
// (spec: client-server API, "GET /_matrix/client/v3/rooms/{roomId}/members")
// and returns the users joined to the room: one request for a whole
// campaign's invitees (mxinvite track). The sender must be (or have been)
// in the room.
func (c *Client) JoinedMembers(ctx context.Context, room RoomID, opts ...CallOption) (map[UserID]bool, Outcome) {
	if _, err := ParseRoomID(string(room)); err != nil {
		return nil, c.rejected(ctx, err)
	}
	var resp struct {
		Chunk []struct {
			StateKey string `json:"state_key"`
			Content  struct {
				Membership string `json:"membership"`
			} `json:"content"`
		} `json:"chunk"`
	}
	cl := call{method: http.MethodGet, token: c.cfg.AccessToken, opts: resolveOptions(opts)}
	cl.url, cl.urlErr = c.clientURL("rooms", string(room), "members")
	if cl.urlErr == nil {
		q := cl.url.Query()
		q.Set("membership", MembershipJoin)
		cl.url.RawQuery = q.Encode()
	}
	o := c.doJSON(ctx, cl, &resp)
	if !o.Status.Good() {
		return nil, o
	}
	joined := map[UserID]bool{}
	for _, ev := range resp.Chunk {
		if ev.Content.Membership == MembershipJoin {
			joined[UserID(ev.StateKey)] = true
		}
	}
	return joined, o
}
