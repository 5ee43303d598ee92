package simulator

import (
	"fmt"
	"net/http"
	"time"
)

// Control paths for memberships, scripted rules and rc_invites (see
// control.go for the others). They answer 400 M_INVALID_PARAM with the
// setter's error.

// handleJoin serves POST /_sim/join {"room_id", "user_id"}: [Server.Join].
func (s *Server) handleJoin(w http.ResponseWriter, r *http.Request) {
	var body struct {
		RoomID string `json:"room_id"`
		UserID string `json:"user_id"`
	}
	if s.readControl(w, r, &body) {
		s.controlResult(w, s.Join(body.RoomID, body.UserID))
	}
}

// handleMembership serves POST /_sim/membership {"room_id", "user_id",
// "membership"}: [Server.SetMembership].
func (s *Server) handleMembership(w http.ResponseWriter, r *http.Request) {
	var body struct {
		RoomID     string `json:"room_id"`
		UserID     string `json:"user_id"`
		Membership string `json:"membership"`
	}
	if s.readControl(w, r, &body) {
		s.controlResult(w, s.SetMembership(body.RoomID, body.UserID, body.Membership))
	}
}

// ruleJSON is a Rule as /_sim/rules takes it: Delay as a Go duration
// ("250ms").
type ruleJSON struct {
	Rule
	Delay string `json:"delay"`
}

// handleRules serves POST /_sim/rules {"rules": [{"pattern", "status",
// "errcode", "error", "times", "after_store", "retry_after_ms",
// "retry_after", "hang", "delay", "body", "content_type",
// "empty_body"}]}: [Server.SetRules], replacing every rule ([] or no
// rules: none).
func (s *Server) handleRules(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Rules []ruleJSON `json:"rules"`
	}
	if !s.readControl(w, r, &body) {
		return
	}
	rules := make([]Rule, len(body.Rules))
	for i, rj := range body.Rules {
		rules[i] = rj.Rule
		if rj.Delay != "" {
			d, err := time.ParseDuration(rj.Delay)
			if err != nil {
				writeError(w, http.StatusBadRequest, "M_INVALID_PARAM", fmt.Sprintf("rules[%d].delay: %v", i, err))
				return
			}
			rules[i].Delay = d
		}
	}
	s.controlResult(w, s.SetRules(rules))
}

// rateLimitJSON is a RateLimit as /_sim/invite_limits takes it.
type rateLimitJSON struct {
	PerSecond float64        `json:"per_second"`
	Burst     int            `json:"burst"`
	Style     RateLimitStyle `json:"style"`
	Pause     string         `json:"pause"`
}

func (rj rateLimitJSON) rateLimit(name string) (RateLimit, error) {
	rl := RateLimit{PerSecond: rj.PerSecond, Burst: rj.Burst, Style: rj.Style}
	if rj.Pause != "" {
		d, err := time.ParseDuration(rj.Pause)
		if err != nil {
			return rl, fmt.Errorf("%s.pause: %v", name, err)
		}
		rl.Pause = d
	}
	return rl, nil
}

// handleInviteLimits serves POST /_sim/invite_limits, either {"scale": S}
// (Synapse's rc_invites defaults sped up S times, 0 turning them off:
// [SynapseDefaultInviteLimits]) or {"per_room": {"per_second", "burst",
// "style", "pause"}, "per_user": {...}, "per_issuer": {...}} (a scope
// left out is off): [Server.SetInviteLimits].
func (s *Server) handleInviteLimits(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Scale     *float64      `json:"scale"`
		PerRoom   rateLimitJSON `json:"per_room"`
		PerUser   rateLimitJSON `json:"per_user"`
		PerIssuer rateLimitJSON `json:"per_issuer"`
	}
	if !s.readControl(w, r, &body) {
		return
	}
	if body.Scale != nil {
		s.controlResult(w, s.SetInviteLimits(SynapseDefaultInviteLimits(*body.Scale)))
		return
	}
	var il InviteLimits
	for _, sc := range []struct {
		name string
		in   rateLimitJSON
		out  *RateLimit
	}{{"per_room", body.PerRoom, &il.PerRoom}, {"per_user", body.PerUser, &il.PerUser}, {"per_issuer", body.PerIssuer, &il.PerIssuer}} {
		rl, err := sc.in.rateLimit(sc.name)
		if err != nil {
			writeError(w, http.StatusBadRequest, "M_INVALID_PARAM", err.Error())
			return
		}
		*sc.out = rl
	}
	s.controlResult(w, s.SetInviteLimits(il))
}
