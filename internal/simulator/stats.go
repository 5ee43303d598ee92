package simulator

import (
	"maps"
	"net/http"
	"sync"
	"time"
)

// Invite is a 3PID invite the homeserver accepted (stored and emailed;
// invites of accounts are not logged here).
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
	// Accepted counts 3PID invites stored in a room (emailed, kept for a
	// later bind), duplicates included. Invites of accounts are counted
	// in MatrixIDInvites and BoundThreePIDInvites instead.
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
	// RateLimitedByScope counts 429 answers by the limit that gave them
	// (the Scope* constants): "third_party_invite" (Config.RateLimit, the
	// sender's rc_third_party_invite), "per_room", "per_user",
	// "per_issuer" (Config.InviteLimits) and "rule" (a scripted Rule).
	// Its values add up to RateLimited.
	RateLimitedByScope map[string]int64 `json:"rate_limited_by_scope"`
	// EarlyRequests counts 3PID invite requests that arrived before the
	// time advised by a previous rc_third_party_invite 429 to the same
	// sender (bare 429s advise nothing, so they make no request early).
	// Invites by Matrix ID are not charged to that limit, so never early
	// here. Equal to EarlyByScope["third_party_invite"].
	EarlyRequests int64 `json:"early_requests"`
	// CrossedRequests counts 3PID invite requests that arrived after an
	// rc_third_party_invite 429 to the same sender was issued, before the
	// time it advised, but within RateLimit.EarlySlack of its issue: sent
	// while that answer was on its way, so not early (always 0 while
	// EarlySlack is 0, the default).
	CrossedRequests int64 `json:"crossed_requests"`
	// EarlyByScope counts requests that came back before the time a 429
	// of that scope advised for the same key: "third_party_invite" (the
	// sender, 3PID invites), "per_room" (the room), "per_user" (the
	// invitee account), "per_issuer" (the sender), for invites charged to
	// rc_invites (by Matrix ID, or of a bound address), and "rule" (the
	// address, or user ID, a scripted 429 with advice was for). One
	// request may be early for several scopes.
	EarlyByScope map[string]int64 `json:"early_by_scope"`
	// EarlyByAddress counts, by address (or user ID), the requests that
	// came back before the time a scripted 429 advised for it.
	EarlyByAddress map[string]int64 `json:"early_by_address"`
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
	// ThreePIDLookupDenied counts 3PID invites refused because of
	// Config.ThreePIDLookupDisabled (403 M_UNKNOWN).
	ThreePIDLookupDenied int64 `json:"threepid_lookup_denied"`
	// MatrixIDInvites counts invites by Matrix ID ({"user_id"}) that made
	// the account's membership "invite". No email.
	MatrixIDInvites int64 `json:"matrix_id_invites"`
	// BoundThreePIDInvites counts 3PID invites of a bound address that
	// made the bound account's membership "invite". No email.
	BoundThreePIDInvites int64 `json:"bound_3pid_invites"`
	// OnBindInvites counts pending 3PID invites turned into the new
	// account's membership "invite" when their address was bound later
	// (Sydent's onbind).
	OnBindInvites int64 `json:"onbind_invites"`
	// RepeatedMemberInvites counts invites of an account that the same
	// sender had already invited: 200, no new membership event.
	RepeatedMemberInvites int64 `json:"repeated_member_invites"`
	// InviteeRefusals counts invites of accounts refused because of the
	// invitee, by reason (the Invitee* constants): "already_joined" (403
	// M_FORBIDDEN), "banned" (403 M_BAD_STATE), "invite_blocked" (403 with
	// Config.InviteBlockedCode).
	InviteeRefusals map[string]int64 `json:"invitee_refusals"`
	// LookupAddresses counts the hashed addresses clients sent to
	// POST /_matrix/identity/v2/lookup (the homeserver's own lookups count
	// in Lookups only).
	LookupAddresses int64 `json:"lookup_addresses"`
	// LookupMatches counts those of LookupAddresses that were bound, each
	// answered with its account in "mappings".
	LookupMatches int64 `json:"lookup_matches"`
	// Binds counts addresses bound at run time ([Server.Bind]).
	Binds int64 `json:"binds"`
	// LaterBinds counts Config.LaterBinds and /_sim/bind "after"/"join"
	// binds made (each also in Binds).
	LaterBinds int64 `json:"later_binds"`
	// Joins counts joins made with [Server.Join] (or /_sim/join).
	Joins int64 `json:"joins"`
	// ScriptedAnswers counts invite answers given by a Rule.
	ScriptedAnswers int64 `json:"scripted_answers"`
	// StoreLimited counts store-invites refused by Config.StoreLimit: as
	// Synapse's 500 to an invite, or as a 429 to an HTTP store-invite.
	StoreLimited int64 `json:"store_limited"`
	// IdentityRefusals counts the invites whose identity-server calls
	// were refused, each answered 500 M_UNKNOWN, by reason (the Refusal*
	// constants: "unknown_token", "terms_not_signed", "wrong_sender",
	// "store_limited", "refused").
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
		TermsAccepted: map[string]int64{}, RevokedTokenRequests: map[string]int64{}, OverrideRatelimit: map[string]int64{},
		RateLimitedByScope: map[string]int64{}, EarlyByScope: map[string]int64{}, EarlyByAddress: map[string]int64{},
		InviteeRefusals: map[string]int64{}}
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

// inviteAnswer counts the status of an invite answer; scope is the limit
// a 429 came from ("" when unknown, as for a bare proxy-style fault).
func (rc *recorder) inviteAnswer(status int, scope string) {
	rc.count(func(st *Stats) {
		st.InviteStatuses[status]++
		switch {
		case status == http.StatusTooManyRequests:
			st.RateLimited++
			if scope != "" {
				st.RateLimitedByScope[scope]++
			}
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
	st.RateLimitedByScope = maps.Clone(rc.st.RateLimitedByScope)
	st.EarlyByScope = maps.Clone(rc.st.EarlyByScope)
	st.EarlyByAddress = maps.Clone(rc.st.EarlyByAddress)
	st.InviteeRefusals = maps.Clone(rc.st.InviteeRefusals)
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
