package simulator

import (
	"net/http"
	"time"
)

// The control paths below let a test that drives `mxinvite simulate` from
// another process change the server mid-run, as the setters do in
// process. They answer 400 M_INVALID_PARAM with the setter's error.

// handleRevokeToken serves POST /_sim/tokens/revoke {"access_token"}:
// [Server.RevokeToken]. Answers {"revoked": bool}, false when the token
// was not live.
func (s *Server) handleRevokeToken(w http.ResponseWriter, r *http.Request) {
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if !s.readControl(w, r, &body) {
		return
	}
	if body.AccessToken == "" {
		writeError(w, http.StatusBadRequest, "M_MISSING_PARAM", "Missing access_token")
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"revoked": s.RevokeToken(body.AccessToken)})
}

// handleAddToken serves POST /_sim/tokens/add {"access_token", "user_id"}:
// [Server.AddToken].
func (s *Server) handleAddToken(w http.ResponseWriter, r *http.Request) {
	var body struct {
		AccessToken string `json:"access_token"`
		UserID      string `json:"user_id"`
	}
	if s.readControl(w, r, &body) {
		s.controlResult(w, s.AddToken(body.AccessToken, body.UserID))
	}
}

// handleForgetIDTokens serves POST /_sim/id_tokens/forget {"user_id"}:
// [Server.ForgetIDTokens]. Answers {"forgotten": n}.
func (s *Server) handleForgetIDTokens(w http.ResponseWriter, r *http.Request) {
	var body struct {
		UserID string `json:"user_id"`
	}
	if s.readControl(w, r, &body) {
		writeJSON(w, http.StatusOK, map[string]int{"forgotten": s.ForgetIDTokens(body.UserID)})
	}
}

// handleNoThreePID serves POST /_sim/no_3pid {"style": "conduit" |
// "tuwunel" | ""}: [Server.SetNoThreePID].
func (s *Server) handleNoThreePID(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Style NoThreePIDStyle `json:"style"`
	}
	if s.readControl(w, r, &body) {
		s.controlResult(w, s.SetNoThreePID(body.Style))
	}
}

// handleStoreLimit serves POST /_sim/store_limit {"burst": N, "interval":
// "500ms"} (a Go duration; burst 0 turns the limit off):
// [Server.SetStoreLimit].
func (s *Server) handleStoreLimit(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Burst    int    `json:"burst"`
		Interval string `json:"interval"`
	}
	if !s.readControl(w, r, &body) {
		return
	}
	var interval time.Duration
	if body.Interval != "" {
		var err error
		if interval, err = time.ParseDuration(body.Interval); err != nil {
			writeError(w, http.StatusBadRequest, "M_INVALID_PARAM", "interval: "+err.Error())
			return
		}
	}
	s.controlResult(w, s.SetStoreLimit(StoreLimit{Burst: body.Burst, Interval: interval}))
}

// handlePublishTerms serves POST /_sim/terms {"policies": [{"name",
// "version", "url", "title"}]}: [Server.SetTerms].
func (s *Server) handlePublishTerms(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Policies []Policy `json:"policies"`
	}
	if s.readControl(w, r, &body) {
		s.controlResult(w, s.SetTerms(body.Policies))
	}
}

// readControl decodes a control request's body, answering 400 on failure.
func (s *Server) readControl(w http.ResponseWriter, r *http.Request, v any) bool {
	rep, ok := readJSON(w, r, s.cfg.MaxBodyBytes, v)
	if !ok {
		rep.write(w)
	}
	return ok
}

// controlResult answers {} or the setter's error.
func (s *Server) controlResult(w http.ResponseWriter, err error) {
	if err != nil {
		writeError(w, http.StatusBadRequest, "M_INVALID_PARAM", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}
