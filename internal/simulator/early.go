package simulator

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"time"
)

// inviteTarget is what an invite request is for, read from its body when
// it arrives, before anything else happens to it (an injected fault, the
// transaction cache), so that "did the client come back too early?" is
// answered for every request, as Stats.EarlyRequests always was.
type inviteTarget struct {
	matrixID bool   // an invite by Matrix ID ({"user_id"}, no medium or address)
	address  string // a 3PID invite's canonical address ("" if unreadable)
	invitee  string // the account invited: user_id, or the one the address is bound to
}

// peekTarget reads the request body (at most MaxBodyBytes+1 bytes, so
// that a body too large is still refused later) and puts it back.
func (s *Server) peekTarget(r *http.Request) inviteTarget {
	data, _ := io.ReadAll(io.LimitReader(r.Body, s.cfg.MaxBodyBytes+1))
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(data), r.Body), r.Body}
	var in inviteBody
	if json.Unmarshal(data, &in) != nil {
		return inviteTarget{}
	}
	if in.isMatrixID() {
		return inviteTarget{matrixID: true, invitee: in.UserID}
	}
	if in.Medium == "" || in.Address == "" {
		return inviteTarget{}
	}
	t := inviteTarget{address: canonicalAddress(in.Medium, in.Address)}
	t.invitee, _ = s.bindings.boundTo(in.Medium, t.address)
	return t
}

// countEarly counts a request that arrived at `at` in every scope whose
// advice it ignored: the sender's rc_third_party_invite for a 3PID
// invite (Stats.EarlyRequests), rc_invites' room, invitee and sender
// when the invite targets an account, and a scripted 429's address.
func (s *Server) countEarly(u User, roomID string, t inviteTarget, at time.Time) {
	var scopes []string
	crossed := false
	if !t.matrixID {
		var early bool
		if early, crossed = s.limiter.early(u.UserID, at); early {
			scopes = append(scopes, ScopeThirdPartyInvite)
		}
	}
	if t.invitee != "" {
		for _, k := range s.inviteLimits.keys(roomID, t.invitee, u.UserID) {
			if early, _ := k.lim.early(k.key, at); early {
				scopes = append(scopes, k.scope)
			}
		}
	}
	ruleKey := t.address
	if t.matrixID {
		ruleKey = t.invitee
	}
	ruleEarly := ruleKey != "" && s.rules.early(ruleKey, at)
	if ruleEarly {
		scopes = append(scopes, ScopeRule)
	}
	if len(scopes) == 0 && !crossed {
		return
	}
	s.rec.count(func(st *Stats) {
		if crossed {
			st.CrossedRequests++
		}
		for _, sc := range scopes {
			st.EarlyByScope[sc]++
			if sc == ScopeThirdPartyInvite {
				st.EarlyRequests++
			}
		}
		if ruleEarly {
			st.EarlyByAddress[ruleKey]++
		}
	})
}
