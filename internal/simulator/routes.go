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
		handle("openid", "POST "+prefix+"/user/{userId}/openid/request_token", s.handleOpenID)
	}
	handle("versions", "GET /_matrix/client/versions", s.handleVersions)

	const is = "/_matrix/identity/v2"
	handle("is_status", "GET "+is, s.handleISStatus)
	handle("is_hash_details", "GET "+is+"/hash_details", s.handleHashDetails)
	handle("is_lookup", "POST "+is+"/lookup", s.handleLookup)
	handle("is_store_invite", "POST "+is+"/store-invite", s.handleStoreInvite)
	handle("is_register", "POST "+is+"/account/register", s.handleRegister)
	handle("is_pubkey_valid", "GET "+is+"/pubkey/isvalid", s.handlePubkeyValid)
	handle("is_pubkey_valid", "GET "+is+"/pubkey/ephemeral/isvalid", s.handlePubkeyValid)

	mux.HandleFunc("GET /_sim/stats", s.handleStats)
	mux.HandleFunc("GET /_sim/accepted", s.handleAccepted)
	mux.HandleFunc("POST /_sim/reset", s.handleReset)
	mux.HandleFunc("POST /_sim/down", s.handleDown)

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
