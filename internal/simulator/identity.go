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
// it looks at the room (in Synapse's order): hash_details and lookup,
// which for a bound address (Config.Bindings, [Server.Bind]) returns the
// account, to be invited instead (no email); otherwise store-invite,
// which emails the invitee. When the identity server refuses (an unknown
// token, terms not signed, a token of another user, the sender over
// StoreLimit, a refused address), Synapse's lookup fails quietly and its
// store-invite fails, which it turns into a bare 500: no email is sent.
// Like Sydent, store-invite charges the sender's email limit before its
// keyword check refuses an address.
func (s *Server) callIdentityServer(in inviteBody, roomID, sender string) (invitee string, rep reply, ok bool) {
	if d := s.cfg.IdentityLatency; d > 0 {
		time.Sleep(d) // the identity server at work; not cut short by a client that left
	}
	why := s.ids.refusal(in.IDAccessToken, sender)
	if why == "" {
		s.rec.count(func(st *Stats) { st.Lookups++ })
		if userID, bound := s.bindings.boundTo(in.Medium, in.Address); bound {
			return userID, reply{}, true
		}
		switch {
		case !s.stores.take(sender, time.Now()):
			why = RefusalStoreLimited
		case s.refused.refused(in.Address):
			why = RefusalRefused
		}
	}
	if why != "" {
		s.rec.count(func(st *Stats) {
			st.IdentityRefusals[why]++
			if why == RefusalStoreLimited {
				st.StoreLimited++
			}
		})
		return "", errReply(http.StatusInternalServerError, "M_UNKNOWN", "Internal server error"), false
	}
	s.rec.email(roomID, in.Medium, in.Address)
	return "", reply{}, true
}

// handleISStatus serves GET /_matrix/identity/v2, the status check.
func (s *Server) handleISStatus(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, struct{}{})
}

// handleHashDetails serves GET /_matrix/identity/v2/hash_details.
func (s *Server) handleHashDetails(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.ids.authorize(w, r, true); !ok {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"lookup_pepper": s.cfg.LookupPepper, "algorithms": []string{"sha256"}})
}

// handleLookup serves POST /_matrix/identity/v2/lookup: "mappings" holds
// the account of each hash whose address is bound (Config.Bindings,
// [Server.Bind]); hashes of unbound addresses are left out, as Sydent
// does. The request is validated as Sydent does.
func (s *Server) handleLookup(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.ids.authorize(w, r, true); !ok {
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
		mappings := map[string]string{}
		for _, h := range body.Addresses {
			if userID, ok := s.bindings.lookup(h); ok {
				mappings[h] = userID
			}
		}
		s.rec.count(func(st *Stats) {
			st.Lookups++
			st.LookupAddresses += int64(len(body.Addresses))
			st.LookupMatches += int64(len(mappings))
		})
		writeJSON(w, http.StatusOK, map[string]any{"mappings": mappings})
	}
}

// handleStoreInvite serves POST /_matrix/identity/v2/store-invite: the
// identity server remembers the invite and emails the invitee. A token
// registered by another user than sender gets 403 M_UNAUTHORIZED; a
// sender over StoreLimit gets Sydent's 429 M_UNKNOWN, without
// retry_after_ms; then, in Sydent's order, a bound address gets 400
// M_THREEPID_IN_USE (with its "mxid") and a refused one
// (Config.RefusedAddresses) 403 M_UNAUTHORIZED "Invite not allowed".
// Nothing is kept for a later bind: the room holds no invite event for
// it, so Synapse would refuse the exchange.
func (s *Server) handleStoreInvite(w http.ResponseWriter, r *http.Request) {
	tok, ok := s.ids.authorize(w, r, true)
	if !ok {
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
	if !tok.anySender && tok.userID != body.Sender {
		writeError(w, http.StatusForbidden, "M_UNAUTHORIZED", "The sender is not the token's user")
		return
	}
	if !s.stores.take(body.Sender, time.Now()) {
		s.rec.count(func(st *Stats) { st.StoreLimited++ })
		writeError(w, http.StatusTooManyRequests, "M_UNKNOWN", "Limit exceeded for this sender")
		return
	}
	address := canonicalAddress(body.Medium, body.Address)
	if userID, bound := s.bindings.boundTo(body.Medium, address); bound {
		writeJSON(w, http.StatusBadRequest, map[string]string{
			"errcode": "M_THREEPID_IN_USE", "error": "Binding already known", "mxid": userID})
		return
	}
	if s.refused.refused(address) {
		writeError(w, http.StatusForbidden, "M_UNAUTHORIZED", "Invite not allowed")
		return
	}
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
