package simulator

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync"
)

// RateOverride is a user's row in Synapse's ratelimit_override table, set
// through the admin API POST /_synapse/admin/v1/users/{userId}/override_ratelimit.
//
// As in Synapse, the numbers only size the message-sending limiter; for
// every other limiter, rc_third_party_invite included, an override only
// matters by lifting the limit when MessagesPerSecond is 0 (what
// `{"messages_per_second": 0, "burst_count": 0}` is for).
type RateOverride struct {
	MessagesPerSecond int `json:"messages_per_second"`
	BurstCount        int `json:"burst_count"`
}

// liftsInviteLimit reports whether the override exempts the user from
// the 3PID invite limit.
func (o RateOverride) liftsInviteLimit() bool { return o.MessagesPerSecond == 0 }

// rateOverrides holds the overrides by user ID. Like Synapse's table they
// are settings: Reset keeps them.
type rateOverrides struct {
	mu sync.Mutex
	m  map[string]RateOverride
}

func (ro *rateOverrides) get(userID string) (RateOverride, bool) {
	ro.mu.Lock()
	defer ro.mu.Unlock()
	o, ok := ro.m[userID]
	return o, ok
}

func (ro *rateOverrides) set(userID string, o RateOverride) {
	ro.mu.Lock()
	defer ro.mu.Unlock()
	if ro.m == nil {
		ro.m = map[string]RateOverride{}
	}
	ro.m[userID] = o
}

func (ro *rateOverrides) remove(userID string) {
	ro.mu.Lock()
	defer ro.mu.Unlock()
	delete(ro.m, userID)
}

// inviteLimitLifted reports whether userID's override lifts the invite limit.
func (ro *rateOverrides) inviteLimitLifted(userID string) bool {
	o, ok := ro.get(userID)
	return ok && o.liftsInviteLimit()
}

// handleOverrideRatelimit serves GET, POST and DELETE
// /_synapse/admin/v1/users/{userId}/override_ratelimit, in Synapse's
// order: the requester must be a server admin (403 M_FORBIDDEN), the user
// local (400) and existing (404). GET answers the override or {}; POST
// sets it (integers >= 0, each defaulting to 0) and answers it; DELETE
// removes it and answers {}.
func (s *Server) handleOverrideRatelimit(w http.ResponseWriter, r *http.Request) {
	u, ok := s.accounts.user(w, r)
	if !ok {
		return
	}
	if !u.Admin {
		writeError(w, http.StatusForbidden, "M_FORBIDDEN", "You are not a server admin")
		return
	}
	userID := r.PathValue("userId")
	if _, server, _ := strings.Cut(userID, ":"); !validID(userID, '@') || server != s.cfg.ServerName {
		writeError(w, http.StatusBadRequest, "M_UNKNOWN", "Can only look up local users")
		return
	}
	if !s.accounts.userExists(userID) {
		writeError(w, http.StatusNotFound, "M_NOT_FOUND", "User does not exist")
		return
	}
	s.rec.count(func(st *Stats) { st.OverrideRatelimit[r.Method]++ })
	switch r.Method {
	case http.MethodGet:
		if o, ok := s.overrides.get(userID); ok {
			writeJSON(w, http.StatusOK, o)
			return
		}
		writeJSON(w, http.StatusOK, struct{}{})
	case http.MethodDelete:
		s.overrides.remove(userID)
		writeJSON(w, http.StatusOK, struct{}{})
	default:
		var body map[string]json.RawMessage
		if rep, ok := readJSON(w, r, s.cfg.MaxBodyBytes, &body); !ok {
			rep.write(w)
			return
		}
		var o RateOverride
		for _, f := range []struct {
			name string
			v    *int
		}{{"messages_per_second", &o.MessagesPerSecond}, {"burst_count", &o.BurstCount}} {
			n, ok := nonNegativeInt(body[f.name])
			if !ok {
				writeError(w, http.StatusBadRequest, "M_INVALID_PARAM", fmt.Sprintf("%q parameter must be a positive int", f.name))
				return
			}
			*f.v = n
		}
		s.overrides.set(userID, o)
		writeJSON(w, http.StatusOK, o)
	}
}

// nonNegativeInt decodes an optional JSON integer >= 0; absent is 0.
func nonNegativeInt(raw json.RawMessage) (int, bool) {
	if raw == nil {
		return 0, true
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil || f < 0 || f != math.Trunc(f) || f > math.MaxInt32 {
		return 0, false
	}
	return int(f), true
}

// RateLimitOverride returns userID's override_ratelimit, if any.
func (s *Server) RateLimitOverride(userID string) (RateOverride, bool) {
	return s.overrides.get(userID)
}

// SetRateLimitOverride sets userID's override_ratelimit, as the admin API
// does; RateOverride{} lifts the user's invite limit.
func (s *Server) SetRateLimitOverride(userID string, o RateOverride) { s.overrides.set(userID, o) }

// DeleteRateLimitOverride removes userID's override_ratelimit.
func (s *Server) DeleteRateLimitOverride(userID string) { s.overrides.remove(userID) }
