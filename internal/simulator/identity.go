package simulator

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// HashAddress returns the identity service v2 lookup hash of a 3PID:
// unpadded URL-safe base64 of sha256("<address> <medium> <pepper>").
func HashAddress(address, medium, pepper string) string {
	sum := sha256.Sum256([]byte(address + " " + medium + " " + pepper))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// publicKey is the identity server's (fake) ed25519 public key: 32 bytes
// in unpadded base64, shaped like a real one. Nothing verifies signatures
// against it in the simulator.
func publicKey() string {
	sum := sha256.Sum256([]byte("mxinvite simulator identity key"))
	return base64.RawStdEncoding.EncodeToString(sum[:])
}

// callIdentityServer is what the homeserver does for a 3PID invite before
// it looks at the room (in Synapse's order): hash_details and lookup (no
// address is ever bound, so the invite stays a 3PID invite), then
// store-invite, which emails the invitee. With a token the identity
// server refuses, Synapse's lookup fails quietly and its store-invite gets
// a 401, which it turns into a bare 500.
func (s *Server) callIdentityServer(in inviteBody, roomID string) (reply, bool) {
	if !s.accounts.validIDToken(in.IDAccessToken) {
		return errReply(http.StatusInternalServerError, "M_UNKNOWN", "Internal server error"), false
	}
	s.rec.count(func(st *Stats) { st.Lookups++ })
	s.rec.email(roomID, in.Medium, in.Address)
	return reply{}, true
}

// handleISStatus serves GET /_matrix/identity/v2, the status check.
func (s *Server) handleISStatus(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, struct{}{})
}

// handleHashDetails serves GET /_matrix/identity/v2/hash_details.
func (s *Server) handleHashDetails(w http.ResponseWriter, r *http.Request) {
	if !s.accounts.identity(w, r) {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"lookup_pepper": s.cfg.LookupPepper, "algorithms": []string{"sha256"}})
}

// handleLookup serves POST /_matrix/identity/v2/lookup. No 3PID is bound
// to a Matrix ID in the simulator, so mappings is always empty; the
// request is still validated as Sydent does.
func (s *Server) handleLookup(w http.ResponseWriter, r *http.Request) {
	if !s.accounts.identity(w, r) {
		return
	}
	var body struct {
		Algorithm string   `json:"algorithm"`
		Pepper    string   `json:"pepper"`
		Addresses []string `json:"addresses"`
	}
	if rep, ok := readJSON(w, r, s.cfg.MaxBodyBytes, &body); !ok {
		rep.write(w)
		return
	}
	switch {
	case body.Algorithm == "" || body.Pepper == "" || body.Addresses == nil:
		writeError(w, http.StatusBadRequest, "M_MISSING_PARAMS", "Missing parameters: algorithm, pepper and addresses are required")
	case body.Algorithm != "sha256":
		writeError(w, http.StatusBadRequest, "M_INVALID_PARAM", "algorithm is not supported")
	case body.Pepper != s.cfg.LookupPepper:
		writeJSON(w, http.StatusBadRequest, map[string]any{
			"errcode": "M_INVALID_PEPPER", "error": "pepper does not match the server's",
			"algorithm": "sha256", "lookup_pepper": s.cfg.LookupPepper,
		})
	default:
		s.rec.count(func(st *Stats) { st.Lookups++ })
		writeJSON(w, http.StatusOK, map[string]any{"mappings": map[string]string{}})
	}
}

// handleStoreInvite serves POST /_matrix/identity/v2/store-invite: the
// identity server remembers the invite and emails the invitee.
func (s *Server) handleStoreInvite(w http.ResponseWriter, r *http.Request) {
	if !s.accounts.identity(w, r) {
		return
	}
	var body struct {
		Medium  string `json:"medium"`
		Address string `json:"address"`
		RoomID  string `json:"room_id"`
		Sender  string `json:"sender"`
	}
	if rep, ok := readJSON(w, r, s.cfg.MaxBodyBytes, &body); !ok {
		rep.write(w)
		return
	}
	var missing []string
	for _, f := range []struct{ name, v string }{
		{"medium", body.Medium}, {"address", body.Address}, {"room_id", body.RoomID}, {"sender", body.Sender},
	} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		writeError(w, http.StatusBadRequest, "M_MISSING_PARAMS", "Missing parameters: "+strings.Join(missing, ", "))
		return
	}
	if body.Medium != "email" && body.Medium != "msisdn" {
		writeError(w, http.StatusBadRequest, "M_UNRECOGNIZED", "Didn't understand medium")
		return
	}
	address := canonicalAddress(body.Medium, body.Address)
	s.rec.email(body.RoomID, body.Medium, address)
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	key := publicKey()
	writeJSON(w, http.StatusOK, map[string]any{
		"token":        fmt.Sprintf("sim-invite-%d", s.minted.Add(1)),
		"public_key":   key,
		"public_keys":  []map[string]string{{"public_key": key, "key_validity_url": scheme + "://" + r.Host + "/_matrix/identity/v2/pubkey/isvalid"}},
		"display_name": redact(body.Medium, address),
	})
}

// handleRegister serves POST /_matrix/identity/v2/account/register: an
// OpenID token from this homeserver is exchanged for an identity token.
func (s *Server) handleRegister(w http.ResponseWriter, r *http.Request) {
	var body struct {
		AccessToken      string `json:"access_token"`
		MatrixServerName string `json:"matrix_server_name"`
	}
	if rep, ok := readJSON(w, r, s.cfg.MaxBodyBytes, &body); !ok {
		rep.write(w)
		return
	}
	if body.AccessToken == "" || body.MatrixServerName == "" {
		writeError(w, http.StatusBadRequest, "M_MISSING_PARAMS", "Missing parameters: access_token, matrix_server_name")
		return
	}
	tok, ok := "", body.MatrixServerName == s.cfg.ServerName
	if ok {
		tok, ok = s.accounts.exchangeOpenID(body.AccessToken, time.Now())
	}
	if !ok {
		writeError(w, http.StatusUnauthorized, "M_UNAUTHORIZED", "Unable to validate the OpenID token")
		return
	}
	// Sydent answers both names; the spec's is "token".
	writeJSON(w, http.StatusOK, map[string]string{"token": tok, "access_token": tok})
}

// handlePubkeyValid serves GET /_matrix/identity/v2/pubkey/isvalid.
func (s *Server) handlePubkeyValid(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]bool{"valid": r.URL.Query().Get("public_key") == publicKey()})
}

// redact shortens an address for store-invite's display_name, which is
// shown to room members, as Sydent does ("ali...@exa...").
func redact(medium, address string) string {
	cut := func(s string) string {
		r := []rune(s) // never split a multi-byte character
		if len(r) <= 3 {
			return string(r[:min(1, len(r))]) + "..."
		}
		return string(r[:3]) + "..."
	}
	if medium == "email" {
		if local, domain, ok := strings.Cut(address, "@"); ok {
			return cut(local) + "@" + cut(domain)
		}
	}
	return cut(address)
}
