package simulator

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"golang.org/x/net/idna"
)

// inviteBody is the JSON body of an invite: a 3PID invite (id_server,
// id_access_token, medium, address) or an invite by Matrix ID (user_id).
type inviteBody struct {
	IDServer      string `json:"id_server"`
	IDAccessToken string `json:"id_access_token"`
	Medium        string `json:"medium"`
	Address       string `json:"address"`
	UserID        string `json:"user_id"`
	Reason        string `json:"reason"`
}

// isMatrixID reports whether the body invites an account by Matrix ID.
// Synapse takes a body as a 3PID invite when it has medium and address;
// here one with either is still answered as a 3PID invite (400 for the
// one missing), as before invites by Matrix ID were served.
func (in inviteBody) isMatrixID() bool {
	return in.UserID != "" && in.Medium == "" && in.Address == ""
}

// handleInvite serves POST /rooms/{roomId}/invite and Synapse's
// PUT /rooms/{roomId}/invite/{txnId}. The steps of a 3PID invite, in
// order:
//
//  1. authentication (401), then the early-request checks (every scope);
//  2. an injected fault that strikes before the server (Faults);
//  3. for PUT, the transaction cache (a hit replays the cached answer);
//  4. body (400); an invite by Matrix ID goes on in inviteByMatrixID; a
//     server without 3PID invites refuses here (Config.NoThreePID);
//     parameters (400), trusted identity servers (400);
//  5. the sender's rate limit, rc_third_party_invite (429), unless the
//     sender is exempt or an admin's override_ratelimit lifts it;
//  6. a scripted Rule that strikes before storing;
//  7. enable_3pid_lookup false (Config.ThreePIDLookupDisabled): 403;
//  8. the identity server: lookup, then for a bound address an invite of
//     the account (rc_invites and the membership rules, no email), else
//     store-invite, i.e. the email (after step 9 instead when
//     Config.CheckRoomFirst); its refusals (token, terms, StoreLimit,
//     RefusedAddresses) are Synapse's 500;
//  9. room, membership and power level (403);
//  10. acceptance, logged, the invite kept for a later bind; a scripted
//     Rule with AfterStore answers now;
//  11. an injected fault with Faults.AfterStore replaces the answer.
func (s *Server) handleInvite(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPut && s.cfg.DisableTxnPUT {
		writeError(w, http.StatusNotFound, "M_UNRECOGNIZED", "Unrecognized request")
		return
	}
	s.rec.count(func(st *Stats) { st.InviteRequests++ })
	s.rec.invitePath(wirePath(r))
	s.answerInvite(w, r, s.invite(w, r))
}

// wirePath is the request path as the client sent it, percent-encoding
// kept, with a PUT's transaction ID replaced by "{txnId}" so that paths
// can be counted.
func wirePath(r *http.Request) string {
	p := r.URL.EscapedPath()
	if r.PathValue("txnId") != "" {
		if i := strings.LastIndexByte(p, '/'); i >= 0 {
			p = p[:i] + "/{txnId}"
		}
	}
	return p
}

// answerInvite writes an invite reply and counts it.
func (s *Server) answerInvite(w http.ResponseWriter, r *http.Request, rep reply) {
	switch {
	case rep.gone:
		return
	case rep.hang:
		s.rec.count(func(st *Stats) { st.Timeouts++ })
		select {
		case <-r.Context().Done():
		case <-s.closing:
			// Returning would send an empty 200; drop the connection.
			panic(http.ErrAbortHandler)
		}
		return
	case rep.nonJSON:
		s.rec.count(func(st *Stats) { st.NonJSON++ })
	}
	if !sleep(r.Context(), rep.delay) {
		return // the client went away during the pause
	}
	s.rec.inviteAnswer(rep.status, rep.scope)
	rep.write(w)
}

// invite runs steps 1 to 10 and returns the answer to give.
func (s *Server) invite(w http.ResponseWriter, r *http.Request) reply {
	rep, u, ok := s.accounts.authenticate(r)
	if !ok {
		return rep
	}
	s.countEarly(u, r.PathValue("roomId"), s.peekTarget(r), arrival(r))
	f := s.faults.roll()
	if f.kind != noFault && !f.afterStore {
		return f.reply()
	}
	rep = s.transaction(w, r, u)
	if f.kind != noFault && f.afterStore && !rep.gone {
		// The server did its work (and cached it); the answer is lost.
		return f.reply()
	}
	return rep
}

// transaction runs the invite, through the transaction cache for PUT.
func (s *Server) transaction(w http.ResponseWriter, r *http.Request, u User) reply {
	txnID := r.PathValue("txnId")
	if r.Method != http.MethodPut {
		return s.process(w, r, u, "")
	}
	key := txnKey(u, r.PathValue("roomId"), txnID)
	e, owner := s.txns.begin(key, time.Now())
	if !owner {
		rep, ok := e.wait(r.Context())
		if !ok {
			return reply{gone: true}
		}
		s.rec.count(func(st *Stats) { st.TxnCacheHits++ })
		return rep
	}
	rep := s.process(w, r, u, txnID)
	s.txns.finish(key, e, rep, time.Now())
	return rep
}

// process runs steps 4 to 10: what the homeserver itself does.
func (s *Server) process(w http.ResponseWriter, r *http.Request, u User, txnID string) reply {
	roomID := r.PathValue("roomId")
	var in inviteBody
	if rep, ok := readJSON(w, r, s.cfg.MaxBodyBytes, &in); !ok {
		return rep
	}
	if in.isMatrixID() {
		return s.inviteByMatrixID(u, roomID, in)
	}
	if rep, denied := s.noThreePID().reply(); denied {
		s.rec.count(func(st *Stats) { st.ThreePIDDenied++ })
		return rep
	}
	if rep, ok := s.validateInvite(&in); !ok {
		return rep
	}
	if !s.limitsLifted(u) {
		if rep, ok := s.limiter.check(u.UserID, time.Now()); !ok {
			rep.scope = ScopeThirdPartyInvite
			return rep
		}
	}
	rule, scripted := s.rules.match(in.Address)
	if scripted && !rule.AfterStore {
		return s.scripted(rule, in.Address)
	}
	if s.lookupOff.Load() {
		s.rec.count(func(st *Stats) { st.ThreePIDLookupDenied++ })
		return lookupDeniedReply()
	}
	if s.cfg.CheckRoomFirst {
		if rep, ok := s.checkRoom(roomID, u); !ok {
			return rep
		}
	}
	invitee, rep, ok := s.callIdentityServer(in, roomID, u.UserID)
	if !ok {
		return rep
	}
	if invitee != "" {
		// Synapse's do_3pid_invite: a bound address is an invite of its
		// account, through update_membership.
		rep := s.inviteAccount(u, roomID, invitee, in.Reason, viaBound3PID)
		if scripted && !rep.isError() {
			return s.scripted(rule, in.Address)
		}
		return rep
	}
	if !s.cfg.CheckRoomFirst {
		if rep, ok := s.checkRoom(roomID, u); !ok {
			return rep
		}
	}
	s.rec.accept(Invite{
		RoomID: roomID, Medium: in.Medium, Address: in.Address, Sender: u.UserID,
		IDServer: in.IDServer, Method: r.Method, TxnID: txnID, Path: r.URL.EscapedPath(), Time: time.Now(),
	})
	s.keepPending(in, roomID, u.UserID)
	if scripted {
		return s.scripted(rule, in.Address)
	}
	return okReply()
}

// scripted answers with rule for address (an address or a user ID),
// counting it and remembering a 429's advice.
func (s *Server) scripted(rule Rule, address string) reply {
	s.rec.count(func(st *Stats) { st.ScriptedAnswers++ })
	return s.rules.answer(rule, address, time.Now())
}

// validateInvite checks the parameters as Synapse does (and, for
// TrustedIDServers, as Dendrite does), canonicalising the address.
func (s *Server) validateInvite(in *inviteBody) (reply, bool) {
	switch {
	case in.Medium == "" || in.Address == "":
		return errReply(http.StatusBadRequest, "M_MISSING_PARAM", "Missing medium or address"), false
	case in.IDServer == "" || in.IDAccessToken == "":
		return errReply(http.StatusBadRequest, "M_MISSING_PARAM",
			"`id_server` and `id_access_token` are required when doing 3pid invite"), false
	case in.Medium != "email" && in.Medium != "msisdn":
		return errReply(http.StatusBadRequest, "M_INVALID_PARAM", fmt.Sprintf("Unsupported medium %q", in.Medium)), false
	case len(s.cfg.TrustedIDServers) > 0 && !slices.Contains(s.cfg.TrustedIDServers, in.IDServer):
		return errReply(http.StatusBadRequest, "M_SERVER_NOT_TRUSTED", "Untrusted server name"), false
	}
	in.Address = canonicalAddress(in.Medium, in.Address)
	return reply{}, true
}

// canonicalAddress lowercases email addresses, so that "A@x" and "a@x"
// count as the same invitee, as Synapse canonicalises them, and writes
// their domain as an A-label: "u@bücher.de" and "u@xn--bcher-kva.de" are
// one mailbox to the mail system, so one invitee here.
func canonicalAddress(medium, address string) string {
	address = strings.TrimSpace(address)
	if medium != "email" {
		return address
	}
	address = strings.ToLower(address)
	if at := strings.LastIndexByte(address, '@'); at >= 0 {
		if domain, err := idna.Lookup.ToASCII(address[at+1:]); err == nil {
			address = address[:at+1] + domain
		}
	}
	return address
}

// checkRoom applies the event-auth rules of a third-party invite: the
// room must exist, the inviter must be joined and have the invite level.
func (s *Server) checkRoom(roomID string, u User) (reply, bool) {
	rep, ok := reply{}, true
	found := s.rooms.read(roomID, func(room Room) { rep, ok = inviterMayInvite(room, u.UserID) })
	if !found {
		return errReply(http.StatusForbidden, "M_FORBIDDEN", "Unknown room"), false
	}
	return rep, ok
}

// inviterMayInvite checks that userID is joined to room and has the
// invite level; the answers are Synapse's.
func inviterMayInvite(room Room, userID string) (reply, bool) {
	switch {
	case room.Members[userID] != "join":
		return errReply(http.StatusForbidden, "M_FORBIDDEN", fmt.Sprintf("User %s not in room %s", userID, room.ID)), false
	case room.powerLevel(userID) < room.InviteLevel:
		return errReply(http.StatusForbidden, "M_FORBIDDEN", "You don't have permission to invite users"), false
	}
	return reply{}, true
}
