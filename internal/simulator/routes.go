package simulator

import "net/http"

// routes builds the handler: every endpoint, counted under its name.
// Go's ServeMux matches path segments after percent-decoding each one, so
// a room ID sent as %21room%3Asim.local arrives in PathValue as
// !room:sim.local.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	handle := func(name, pattern string, h http.HandlerFunc) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			s.rec.request(name)
			h(w, r)
		})
	}
	// r0 is the pre-v1.1 prefix, still served by Synapse and used by
	// older clients.
	for _, prefix := range []string{"/_matrix/client/v3", "/_matrix/client/r0"} {
		handle("invite", "POST "+prefix+"/rooms/{roomId}/invite", s.handleInvite)
		handle("invite_txn", "PUT "+prefix+"/rooms/{roomId}/invite/{txnId}", s.handleInvite)
		handle("whoami", "GET "+prefix+"/account/whoami", s.handleWhoami)
		handle("directory", "GET "+prefix+"/directory/room/{roomAlias}", s.handleDirectory)
		handle("state", "GET "+prefix+"/rooms/{roomId}/state", s.handleState)
		handle("state_event", "GET "+prefix+"/rooms/{roomId}/state/{eventType}", s.handleStateEvent)
		handle("state_event", "GET "+prefix+"/rooms/{roomId}/state/{eventType}/{stateKey...}", s.handleStateEvent)
		handle("joined_members", "GET "+prefix+"/rooms/{roomId}/joined_members", s.handleJoinedMembers)
		handle("members", "GET "+prefix+"/rooms/{roomId}/members", s.handleMembers)
		handle("openid", "POST "+prefix+"/user/{userId}/openid/request_token", s.handleOpenID)
	}
	handle("versions", "GET /_matrix/client/versions", s.handleVersions)

	const is = "/_matrix/identity/v2"
	handle("is_status", "GET "+is, s.handleISStatus)
	handle("is_hash_details", "GET "+is+"/hash_details", s.handleHashDetails)
	handle("is_lookup", "POST "+is+"/lookup", s.handleLookup)
	handle("is_store_invite", "POST "+is+"/store-invite", s.handleStoreInvite)
	handle("is_register", "POST "+is+"/account/register", s.handleRegister)
	handle("is_account", "GET "+is+"/account", s.handleAccount)
	handle("is_logout", "POST "+is+"/account/logout", s.handleLogout)
	handle("is_terms", "GET "+is+"/terms", s.handleTerms)
	handle("is_accept_terms", "POST "+is+"/terms", s.handleAcceptTerms)

	const admin = "/_synapse/admin/v1/users/{userId}/override_ratelimit"
	for _, method := range []string{"GET", "POST", "DELETE"} {
		handle("admin_override_ratelimit", method+" "+admin, s.handleOverrideRatelimit)
	}
	handle("is_pubkey_valid", "GET "+is+"/pubkey/isvalid", s.handlePubkeyValid)
	handle("is_pubkey_valid", "GET "+is+"/pubkey/ephemeral/isvalid", s.handlePubkeyValid)

	mux.HandleFunc("GET /_sim/stats", s.handleStats)
	mux.HandleFunc("GET /_sim/accepted", s.handleAccepted)
	mux.HandleFunc("POST /_sim/reset", s.handleReset)
	mux.HandleFunc("POST /_sim/down", s.handleDown)
	mux.HandleFunc("POST /_sim/tokens/revoke", s.handleRevokeToken)
	mux.HandleFunc("POST /_sim/tokens/add", s.handleAddToken)
	mux.HandleFunc("POST /_sim/id_tokens/forget", s.handleForgetIDTokens)
	mux.HandleFunc("POST /_sim/no_3pid", s.handleNoThreePID)
	mux.HandleFunc("POST /_sim/store_limit", s.handleStoreLimit)
	mux.HandleFunc("POST /_sim/terms", s.handlePublishTerms)
	mux.HandleFunc("POST /_sim/bind", s.handleBind)
	mux.HandleFunc("POST /_sim/join", s.handleJoin)
	mux.HandleFunc("POST /_sim/membership", s.handleMembership)
	mux.HandleFunc("POST /_sim/block_invites", s.handleBlockInvites)
	mux.HandleFunc("POST /_sim/rules", s.handleRules)
	mux.HandleFunc("POST /_sim/invite_limits", s.handleInviteLimits)
	mux.HandleFunc("POST /_sim/refused", s.handleRefused)
	mux.HandleFunc("POST /_sim/3pid_lookup", s.handleThreePIDLookup)

	// Matrix servers answer unknown endpoints with M_UNRECOGNIZED, not
	// ServeMux's plain-text 404; that is also what a client probing the
	// PUT invite form on a non-Synapse server sees.
	handle("unrecognized", "/", func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, "M_UNRECOGNIZED", "Unrecognized request")
	})
	return s.middleware(mux)
}

// handleVersions serves GET /_matrix/client/versions.
func (s *Server) handleVersions(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"versions":          []string{"r0.6.1", "v1.1", "v1.2", "v1.3", "v1.4", "v1.5", "v1.6", "v1.7", "v1.8", "v1.9", "v1.10", "v1.11"},
		"unstable_features": map[string]bool{},
	})
}
