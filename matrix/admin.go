package matrix

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// Synapse's code default for rc_third_party_invite (synapse/config/ratelimiting.py
// since 1.73; its docs still say 0.2/s, burst 10): 5 invites at once, then
// one every 400 s, about 216 a day.
const (
	// SynapseDefaultInviteBurst is how many 3PID invites go out at once.
	SynapseDefaultInviteBurst = 5
	// SynapseDefaultInviteInterval is the time between the next ones.
	SynapseDefaultInviteInterval = 400 * time.Second
)

// RatelimitOverride is a Synapse per-user rate-limit override. A zero
// MessagesPerSecond disables rate limiting for the user altogether
// (synapse/api/ratelimiting.py); mxinvite lifts with {0, 0}. Synapse takes
// non-negative integers only.
type RatelimitOverride struct {
	// MessagesPerSecond is the sustained rate allowed.
	MessagesPerSecond int `json:"messages_per_second"`
	// BurstCount is how many actions may go at once.
	BurstCount int `json:"burst_count"`
}

// Unlimited reports whether the override lifts rate limiting altogether.
func (r RatelimitOverride) Unlimited() bool { return r.MessagesPerSecond == 0 }

// overrideCall describes a call to Synapse's admin API
// /_synapse/admin/v1/users/{userId}/override_ratelimit.
func (c *Client) overrideCall(method string, user UserID, body []byte, opts []CallOption) call {
	cl := call{method: method, token: c.cfg.AccessToken, body: body, opts: resolveOptions(opts)}
	if _, err := ParseUserID(string(user)); err != nil {
		cl.urlErr = err
		return cl
	}
	if c.homeserverErr != nil {
		cl.urlErr = c.homeserverErr
		return cl
	}
	cl.url = joinPath(c.homeserver, "_synapse", "admin", "v1", "users", string(user), "override_ratelimit")
	return cl
}

// OverrideRatelimit calls Synapse's admin API GET
// /_synapse/admin/v1/users/{userId}/override_ratelimit (Synapse docs:
// "Override ratelimiting for users") and returns the user's override;
// found is false when the answer is {} (no override: the server's
// defaults apply). It needs a server admin's token: anyone else gets 403
// M_FORBIDDEN (ContentAccessError), other servers 404 M_UNRECOGNIZED.
func (c *Client) OverrideRatelimit(ctx context.Context, user UserID, opts ...CallOption) (RatelimitOverride, bool, Outcome) {
	var fields map[string]json.RawMessage
	o := c.doJSON(ctx, c.overrideCall(http.MethodGet, user, nil, opts), &fields)
	if !o.Status.Good() || len(fields) == 0 {
		return RatelimitOverride{}, false, o
	}
	var r RatelimitOverride
	mps, hasMPS := fields["messages_per_second"]
	burst, hasBurst := fields["burst_count"]
	if !hasMPS || !hasBurst || json.Unmarshal(mps, &r.MessagesPerSecond) != nil || json.Unmarshal(burst, &r.BurstCount) != nil {
		return RatelimitOverride{}, false, incorrectResponse(o, "override_ratelimit: want integers messages_per_second and burst_count, or {}")
	}
	return r, true, o
}

// SetOverrideRatelimit calls Synapse's admin API POST
// /_synapse/admin/v1/users/{userId}/override_ratelimit with r; {0, 0} lifts
// rate limiting for the user. Admins only, like OverrideRatelimit.
func (c *Client) SetOverrideRatelimit(ctx context.Context, user UserID, r RatelimitOverride, opts ...CallOption) Outcome {
	body, _ := json.Marshal(r)
	return c.doJSON(ctx, c.overrideCall(http.MethodPost, user, body, opts), &json.RawMessage{})
}

// DeleteOverrideRatelimit calls Synapse's admin API DELETE
// /_synapse/admin/v1/users/{userId}/override_ratelimit: the server's
// defaults apply again. Admins only, like OverrideRatelimit.
func (c *Client) DeleteOverrideRatelimit(ctx context.Context, user UserID, opts ...CallOption) Outcome {
	return c.doJSON(ctx, c.overrideCall(http.MethodDelete, user, nil, opts), &json.RawMessage{})
}
