package matrix

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/rs/zerolog"
)

// inviteBody is the third_party_membership request body. No omitempty: all
// four keys are always sent, as libQuotient does, so a server reports an
// empty value instead of a confusing missing one.
type inviteBody struct {
	IDServer      string `json:"id_server"`
	IDAccessToken string `json:"id_access_token"`
	Medium        string `json:"medium"`
	Address       string `json:"address"`
}

// InviteBy3PID calls POST /_matrix/client/v3/rooms/{roomId}/invite (spec:
// client-server API, third_party_membership), one attempt under the
// per-attempt deadline (WithTimeout). idServer is the identity server's
// hostname[:port], idAccessToken the token registered with it, medium
// "email" or "msisdn", address the email address or phone number.
//
// With WithTxnID it first tries Synapse's idempotent form
// PUT /_matrix/client/v3/rooms/{roomId}/invite/{txnId}; a homeserver without
// it (404 or 405 with M_UNRECOGNIZED, or 404 without an errcode) gets the
// POST in the same call, and the Client remembers to go straight to POST.
//
// A room that is not a valid room ID is an IncorrectRequest and nothing is
// sent: Dendrite answers an alias with a 500 after emailing the invitee.
func (c *Client) InviteBy3PID(ctx context.Context, room RoomID, idServer, idAccessToken, medium, address string, opts ...CallOption) Outcome {
	options := resolveOptions(opts)
	// Marshalling strings cannot fail (invalid UTF-8 becomes U+FFFD).
	body, _ := json.Marshal(inviteBody{IDServer: idServer, IDAccessToken: idAccessToken, Medium: medium, Address: address})
	newCall := func(method string, segments ...string) call {
		cl := call{method: method, token: c.cfg.AccessToken, body: body, secrets: []string{idAccessToken}, opts: options}
		if _, err := ParseRoomID(string(room)); err != nil {
			cl.urlErr = err
			return cl
		}
		cl.url, cl.urlErr = c.clientURL(append([]string{"rooms", string(room), "invite"}, segments...)...)
		return cl
	}

	if options.txnID == "" || c.txnInvite.Load() == txnInviteUnsupported {
		o, _ := c.do(ctx, newCall(http.MethodPost))
		return o
	}
	put, _ := c.do(ctx, newCall(http.MethodPut, options.txnID))
	if !lacksTxnInvite(put) {
		if showsTxnInvite(put) {
			c.txnInvite.Store(txnInviteSupported)
		}
		return put
	}
	c.txnInvite.Store(txnInviteUnsupported)
	zerolog.Ctx(ctx).Debug().Int("http_status", put.HTTPStatus).Str("errcode", string(put.ErrCode)).
		Msg("homeserver has no PUT invite form; falling back to POST from now on")
	post, _ := c.do(ctx, newCall(http.MethodPost))
	post.Requests += put.Requests
	post.Duration += put.Duration
	return post
}

// lacksTxnInvite recognises a homeserver without the PUT form: an unknown
// endpoint (404/405 M_UNRECOGNIZED, as Dendrite answers) or a router's bare
// 404/405. A 404 M_NOT_FOUND is a real "unknown room" and must not fall back.
func lacksTxnInvite(o Outcome) bool {
	if o.HTTPStatus != http.StatusNotFound && o.HTTPStatus != http.StatusMethodNotAllowed {
		return false
	}
	return o.ErrCode == MUnrecognized || o.ErrCode == ""
}

// showsTxnInvite recognises an answer from the PUT handler itself: a 2xx or
// a Matrix error other than M_UNRECOGNIZED.
func showsTxnInvite(o Outcome) bool {
	return (o.HTTPStatus >= 200 && o.HTTPStatus <= 299 && o.Status.Good()) ||
		(o.ErrCode != "" && o.ErrCode != MUnrecognized)
}
