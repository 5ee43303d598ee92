package simulator

import (
	"maps"
	"net/http"
	"sync"
	"time"
)

// Invite is a 3PID invite the homeserver accepted.
type Invite struct {
	// RoomID is the room the invitee was invited to.
	RoomID string `json:"room_id"`
	// Medium is "email" or "msisdn".
	Medium string `json:"medium"`
	// Address is the invitee's address, lowercased for email.
	Address string `json:"address"`
	// Sender is the inviter's user ID.
	Sender string `json:"sender"`
	// IDServer is the id_server the request named.
	IDServer string `json:"id_server"`
	// Method is "POST" or "PUT".
	Method string `json:"method"`
	// TxnID is the transaction ID of a PUT; empty for POST.
	TxnID string `json:"txn_id,omitempty"`
	// Path is the request path as it was on the wire, percent-encoding
	// kept, e.g. "/_matrix/client/v3/rooms/%21room%3Asim.local/invite".
	Path string `json:"path"`
	// Time is when the invite was accepted.
	Time time.Time `json:"time"`
	// Duplicate is true when the same (room, medium, address) had already
	// been accepted: the invitee got a second invite and email.
	Duplicate bool `json:"duplicate"`
}

// Stats are the simulator's counters since start or the last reset.
// Unless said otherwise they count invite requests (POST and PUT).
type Stats struct {
	// InviteRequests counts invite requests received, whatever became of
	// them (outage answers excepted: a down server receives nothing; a PUT
	// refused because of DisableTxnPUT is not an invite either).
	InviteRequests int64 `json:"invite_requests"`
	// Accepted counts invites stored in a room, duplicates included.
	Accepted int64 `json:"accepted"`
	// Duplicates counts acceptances of a (room, medium, address) that was
	// already accepted.
	Duplicates int64 `json:"duplicates"`
	// Lookups counts identity-server lookups, internal and over HTTP.
	Lookups int64 `json:"lookups"`
	// StoreInvites counts identity-server store-invite calls, internal and
	// over HTTP: each one is an email sent to the invitee.
	StoreInvites int64 `json:"store_invites"`
	// ExtraEmails counts store-invites for a (room, medium, address) that
	// had already been emailed: emails the invitee should not have got.
	ExtraEmails int64 `json:"extra_emails"`
	// RateLimited counts 429 answers.
	RateLimited int64 `json:"rate_limited"`
	// EarlyRequests counts requests that arrived before the time advised
	// by a previous 429 to the same sender (bare 429s advise nothing, so
	// they make no request early).
	EarlyRequests int64 `json:"early_requests"`
	// ServerErrors counts 5xx answers.
	ServerErrors int64 `json:"server_errors"`
	// Timeouts counts invites left unanswered on purpose.
	Timeouts int64 `json:"timeouts"`
	// NonJSON counts 200 answers with a non-JSON body.
	NonJSON int64 `json:"non_json"`
	// TxnCacheHits counts PUT invites answered from the transaction cache.
	TxnCacheHits int64 `json:"txn_cache_hits"`
	// Outages counts requests (any /_matrix endpoint) refused while down.
	Outages int64 `json:"outages"`
	// InviteStatuses counts invite answers by HTTP status.
	InviteStatuses map[int]int64 `json:"invite_statuses"`
	// Requests counts requests by endpoint name ("invite", "invite_txn",
	// "whoami", "is_store_invite", ...; "unrecognized" for unknown paths).
	Requests map[string]int64 `json:"requests"`
	// Emails counts store-invite calls by address.
	Emails map[string]int64 `json:"emails"`
	// InvitePaths counts invite requests by their path as it was on the
	// wire, percent-encoding kept, with a PUT's txnId shown as "{txnId}":
	// "/_matrix/client/v3/rooms/%21room%3Asim.local/invite". At most
	// maxInvitePaths paths are told apart; the rest count under "other".
	InvitePaths map[string]int64 `json:"invite_paths"`
	// ThreePIDDenied counts invites refused because of Config.NoThreePID.
	ThreePIDDenied int64 `json:"threepid_denied"`
	// StoreLimited counts store-invites refused by Config.StoreLimit: as
	// Synapse's 500 to an invite, or as a 429 to an HTTP store-invite.
	StoreLimited int64 `json:"store_limited"`
	// IdentityRefusals counts the invites whose identity-server calls
	// were refused, each answered 500 M_UNKNOWN, by reason (the Refusal*
	// constants: "unknown_token", "terms_not_signed", "wrong_sender",
	// "store_limited").
	IdentityRefusals map[string]int64 `json:"identity_refusals"`
	// Registrations counts identity-server account registrations
	// (/account/register) by user ID.
	Registrations map[string]int64 `json:"registrations"`
	// TermsAccepted counts successful POST /_matrix/identity/v2/terms by
	// user ID.
	TermsAccepted map[string]int64 `json:"terms_accepted"`
	// RevokedTokenRequests counts requests made with a revoked access
	// token (see [Server.RevokeToken]), any endpoint, by token.
	RevokedTokenRequests map[string]int64 `json:"revoked_token_requests"`
	// OverrideRatelimit counts admin override_ratelimit requests that
	// passed Synapse's checks (a server admin's token, a local existing
	// user), by method: "GET" reads, "POST" sets (a malformed body
	// included), "DELETE" removes. Refused ones count only in
	// Requests["admin_override_ratelimit"].
	OverrideRatelimit map[string]int64 `json:"override_ratelimit"`
}

// maxInvitePaths bounds Stats.InvitePaths, so that clients inventing
// room IDs cannot grow it without limit.
const maxInvitePaths = 1000

// recorder keeps the stats and the log of accepted invites.
type recorder struct {
	mu       sync.Mutex
	st       Stats
	accepted []Invite
	seen     map[string]bool // room, medium, address accepted
	emailed  map[string]bool // room, medium, address emailed
}

func newRecorder() *recorder {
	rc := &recorder{}
	rc.reset()
	return rc
}

func (rc *recorder) reset() {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.st = Stats{InviteStatuses: map[int]int64{}, Requests: map[string]int64{}, Emails: map[string]int64{},
		InvitePaths: map[string]int64{}, IdentityRefusals: map[string]int64{}, Registrations: map[string]int64{},
		TermsAccepted: map[string]int64{}, RevokedTokenRequests: map[string]int64{}, OverrideRatelimit: map[string]int64{}}
	rc.accepted = nil
	rc.seen = map[string]bool{}
	rc.emailed = map[string]bool{}
}

// count applies f to the stats under the lock.
func (rc *recorder) count(f func(*Stats)) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	f(&rc.st)
}

// request counts a request to the named endpoint.
func (rc *recorder) request(name string) {
	rc.count(func(st *Stats) { st.Requests[name]++ })
}

// inviteAnswer counts the status of an invite answer.
func (rc *recorder) inviteAnswer(status int) {
	rc.count(func(st *Stats) {
		st.InviteStatuses[status]++
		switch {
		case status == http.StatusTooManyRequests:
			st.RateLimited++
		case status >= 500:
			st.ServerErrors++
		}
	})
}

// invitePath counts an invite request under its wire path.
func (rc *recorder) invitePath(path string) {
	rc.count(func(st *Stats) {
		if _, ok := st.InvitePaths[path]; !ok && len(st.InvitePaths) >= maxInvitePaths {
			path = "other"
		}
		st.InvitePaths[path]++
	})
}

// inviteKey identifies an invitee in a room.
func inviteKey(roomID, medium, address string) string {
	return roomID + "\x00" + medium + "\x00" + address
}

// email counts a store-invite: one email to address.
func (rc *recorder) email(roomID, medium, address string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.st.StoreInvites++
	rc.st.Emails[address]++
	key := inviteKey(roomID, medium, address)
	if rc.emailed[key] {
		rc.st.ExtraEmails++
	}
	rc.emailed[key] = true
}

// accept logs an accepted invite, marking and counting duplicates.
func (rc *recorder) accept(inv Invite) Invite {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	key := inviteKey(inv.RoomID, inv.Medium, inv.Address)
	inv.Duplicate = rc.seen[key]
	rc.seen[key] = true
	rc.st.Accepted++
	if inv.Duplicate {
		rc.st.Duplicates++
	}
	rc.accepted = append(rc.accepted, inv)
	return inv
}

// snapshot returns a copy of the stats that the caller may keep.
func (rc *recorder) snapshot() Stats {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	st := rc.st
	st.InviteStatuses = maps.Clone(rc.st.InviteStatuses)
	st.Requests = maps.Clone(rc.st.Requests)
	st.Emails = maps.Clone(rc.st.Emails)
	st.InvitePaths = maps.Clone(rc.st.InvitePaths)
	st.IdentityRefusals = maps.Clone(rc.st.IdentityRefusals)
	st.Registrations = maps.Clone(rc.st.Registrations)
	st.TermsAccepted = maps.Clone(rc.st.TermsAccepted)
	st.RevokedTokenRequests = maps.Clone(rc.st.RevokedTokenRequests)
	st.OverrideRatelimit = maps.Clone(rc.st.OverrideRatelimit)
	return st
}

// acceptedLog returns a copy of the accepted invites, oldest first.
func (rc *recorder) acceptedLog() []Invite {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]Invite{}, rc.accepted...)
}

// handleStats serves GET /_sim/stats.
func (s *Server) handleStats(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.Stats())
}

// handleAccepted serves GET /_sim/accepted.
func (s *Server) handleAccepted(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.Accepted())
}

// handleReset serves POST /_sim/reset.
func (s *Server) handleReset(w http.ResponseWriter, _ *http.Request) {
	s.Reset()
	writeJSON(w, http.StatusOK, struct{}{})
}

// handleDown serves POST /_sim/down {"down": bool}, so that a benchmark
// driving `mxinvite simulate` from outside can stage an outage.
func (s *Server) handleDown(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Down *bool `json:"down"`
	}
	if rep, ok := readJSON(w, r, s.cfg.MaxBodyBytes, &body); !ok {
		rep.write(w)
		return
	}
	if body.Down == nil {
		writeError(w, http.StatusBadRequest, "M_MISSING_PARAM", "Missing down")
		return
	}
	s.SetDown(*body.Down)
	writeJSON(w, http.StatusOK, map[string]bool{"down": *body.Down})
}
