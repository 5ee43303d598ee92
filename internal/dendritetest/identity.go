package dendritetest

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// identityKeyID is the identity server's long-term signing key ID.
const identityKeyID = "ed25519:0"

// IdentityServer is a Matrix identity server speaking the v1 identity API the
// way Dendrite v0.13.8 calls it (clientapi/threepid/invites.go), over https on
// 127.0.0.1 with a certificate from a throw-away CA:
//
//	GET  /_matrix/identity/api/v1/lookup?medium=&address=   -> {} or a signed binding (see Bind)
//	POST /_matrix/identity/api/v1/store-invite (form: medium, address, room_id,
//	     sender, sender_display_name) -> {token, public_key, public_keys, display_name}
//	GET  /_matrix/identity/api/v1/pubkey/{keyId}             -> {public_key}
//	GET  /_matrix/identity/api/v1/pubkey/isvalid, .../pubkey/ephemeral/isvalid -> {valid}
//
// Dendrite ignores id_access_token, so no authentication is checked. Every
// request is recorded; store-invite calls are recorded (even failed ones:
// on a real identity server each one may send an email) so tests can assert
// how many the homeserver made per address.
type IdentityServer struct {
	// Name is host:port ("127.0.0.1:<port>"), the id_server value to send
	// and to list in trusted_third_party_id_servers.
	Name string
	// URL is "https://" + Name.
	URL string
	// CAFile is a PEM file holding the CA that signed the server certificate;
	// Dendrite gets it as SSL_CERT_FILE.
	CAFile string

	srv       *httptest.Server
	ca        *testCA
	key       ed25519.PrivateKey
	ephemeral ed25519.PrivateKey

	mu         sync.Mutex
	failStatus int
	bindings   map[string]string // medium + "\x00" + address -> mxid
	invites    []StoreInviteCall
	requests   []IdentityRequest
	serverLog  strings.Builder
}

// StoreInviteCall is one store-invite request the identity server received.
type StoreInviteCall struct {
	Medium, Address, RoomID, Sender, SenderDisplayName string
	ContentType                                        string
	// Status is the HTTP status answered; Token the invite token (state_key
	// of the m.room.third_party_invite event), empty unless Status is 200.
	Status int
	Token  string
	At     time.Time
}

// IdentityRequest is one request the identity server received, any path.
type IdentityRequest struct {
	Method, Path, Query string
	Status              int
	At                  time.Time
}

// NewIdentityServer starts an identity server on 127.0.0.1 and closes it in
// t.Cleanup. [Start] makes one for the homeserver; use this one alone to test
// code that talks to an identity server directly.
func NewIdentityServer(t testing.TB) *IdentityServer {
	t.Helper()
	ca, err := newTestCA()
	if err != nil {
		t.Fatalf("dendritetest: test CA: %v", err)
	}
	caFile := filepath.Join(t.TempDir(), "identity-ca.pem")
	if err := os.WriteFile(caFile, ca.CertPEM, 0o644); err != nil {
		t.Fatalf("dendritetest: %v", err)
	}
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	_, eph, _ := ed25519.GenerateKey(rand.Reader)
	s := &IdentityServer{CAFile: caFile, ca: ca, key: key, ephemeral: eph, bindings: map[string]string{}}
	s.srv = httptest.NewUnstartedServer(s.handler())
	s.srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.Server}, MinVersion: tls.VersionTLS12}
	s.srv.Config.ErrorLog = log.New(&lockedWriter{mu: &s.mu, b: &s.serverLog}, "", log.Ltime|log.Lmicroseconds)
	// The listener exists before StartTLS; set Name before any handler runs.
	s.Name = s.srv.Listener.Addr().String()
	s.URL = "https://" + s.Name
	s.srv.StartTLS()
	t.Cleanup(s.srv.Close)
	return s
}

// SetFail makes store-invite answer 500 M_UNKNOWN (true) or succeed (false).
func (s *IdentityServer) SetFail(fail bool) {
	if fail {
		s.SetFailStatus(http.StatusInternalServerError)
	} else {
		s.SetFailStatus(0)
	}
}

// SetFailStatus makes store-invite answer the given HTTP status with an
// M_UNKNOWN error body; 0 restores success.
func (s *IdentityServer) SetFailStatus(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failStatus = status
}

// Bind makes lookup of (medium, address) return a signed association with
// mxid, as when the invitee has already bound that 3PID: Dendrite then checks
// the signature (fetching /pubkey/ed25519:0) and sends a plain m.room.member
// invite to mxid instead of calling store-invite.
func (s *IdentityServer) Bind(medium, address, mxid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bindings[medium+"\x00"+address] = mxid
}

// StoreInvites returns how many store-invite calls were made for address
// (failed ones included).
func (s *IdentityServer) StoreInvites(address string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.invites {
		if c.Address == address {
			n++
		}
	}
	return n
}

// TotalStoreInvites returns how many store-invite calls were made in all.
func (s *IdentityServer) TotalStoreInvites() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.invites)
}

// StoreInviteCalls returns a copy of every store-invite call, in order.
func (s *IdentityServer) StoreInviteCalls() []StoreInviteCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]StoreInviteCall(nil), s.invites...)
}

// Requests returns a copy of every request received, in order.
func (s *IdentityServer) Requests() []IdentityRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]IdentityRequest(nil), s.requests...)
}

// serverErrors returns what the HTTP server logged (TLS handshake errors...).
func (s *IdentityServer) serverErrors() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.serverLog.String()
}

func (s *IdentityServer) handler() http.Handler {
	const v1 = "/_matrix/identity/api/v1"
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+v1, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, struct{}{}) })
	mux.HandleFunc("GET "+v1+"/lookup", s.lookup)
	mux.HandleFunc("POST "+v1+"/store-invite", s.storeInvite)
	mux.HandleFunc("GET "+v1+"/pubkey/{keyID}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("keyID") != identityKeyID {
			writeJSON(w, 404, matrixError("M_NOT_FOUND", "unknown key"))
			return
		}
		writeJSON(w, 200, map[string]string{"public_key": b64(s.key.Public().(ed25519.PublicKey))})
	})
	isValid := func(key ed25519.PrivateKey) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			ok := r.URL.Query().Get("public_key") == b64(key.Public().(ed25519.PublicKey))
			writeJSON(w, 200, map[string]bool{"valid": ok})
		}
	}
	mux.HandleFunc("GET "+v1+"/pubkey/isvalid", isValid(s.key))
	mux.HandleFunc("GET "+v1+"/pubkey/ephemeral/isvalid", isValid(s.ephemeral))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 404, matrixError("M_UNRECOGNIZED", "dendritetest identity server: unrecognized request"))
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: 200}
		mux.ServeHTTP(rec, r)
		s.mu.Lock()
		s.requests = append(s.requests, IdentityRequest{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Status: rec.status, At: time.Now()})
		s.mu.Unlock()
	})
}

func (s *IdentityServer) lookup(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	medium, address := q.Get("medium"), q.Get("address")
	s.mu.Lock()
	mxid := s.bindings[medium+"\x00"+address]
	s.mu.Unlock()
	if mxid == "" {
		writeJSON(w, 200, struct{}{})
		return
	}
	now := time.Now().UnixMilli()
	// Exactly the fields of Dendrite's idServerLookupResponse: it re-marshals
	// its struct before verifying, so any other field would break the signature.
	body := map[string]any{
		"address": address, "medium": medium, "mxid": mxid,
		"not_before": now - 60_000, "not_after": now + 3_600_000, "ts": now,
	}
	canonical, err := canonicalJSON(body)
	if err != nil {
		writeJSON(w, 500, matrixError("M_UNKNOWN", err.Error()))
		return
	}
	body["signatures"] = map[string]map[string]string{
		s.Name: {identityKeyID: b64(ed25519.Sign(s.key, canonical))},
	}
	writeJSON(w, 200, body)
}

func (s *IdentityServer) storeInvite(w http.ResponseWriter, r *http.Request) {
	call := StoreInviteCall{ContentType: r.Header.Get("Content-Type"), At: time.Now()}
	if strings.HasPrefix(call.ContentType, "application/json") { // v2 style
		var b map[string]string
		_ = json.NewDecoder(r.Body).Decode(&b)
		call.Medium, call.Address, call.RoomID = b["medium"], b["address"], b["room_id"]
		call.Sender, call.SenderDisplayName = b["sender"], b["sender_display_name"]
	} else {
		_ = r.ParseForm()
		call.Medium, call.Address, call.RoomID = r.PostForm.Get("medium"), r.PostForm.Get("address"), r.PostForm.Get("room_id")
		call.Sender, call.SenderDisplayName = r.PostForm.Get("sender"), r.PostForm.Get("sender_display_name")
	}
	s.mu.Lock()
	fail := s.failStatus
	s.mu.Unlock()

	var status int
	var resp any
	switch {
	case call.Medium == "" || call.Address == "" || call.RoomID == "" || call.Sender == "":
		status, resp = 400, matrixError("M_MISSING_PARAMS", "medium, address, room_id and sender are required")
	case fail != 0:
		status, resp = fail, matrixError("M_UNKNOWN", "dendritetest: store-invite failure injected")
	default:
		call.Token = randomToken()
		pub := b64(s.key.Public().(ed25519.PublicKey))
		status, resp = 200, map[string]any{
			"token":        call.Token,
			"display_name": call.Address, // real servers redact it; tests match on it
			"public_key":   pub,
			"public_keys": []map[string]string{
				{"public_key": pub, "key_validity_url": s.URL + "/_matrix/identity/api/v1/pubkey/isvalid"},
				{"public_key": b64(s.ephemeral.Public().(ed25519.PublicKey)), "key_validity_url": s.URL + "/_matrix/identity/api/v1/pubkey/ephemeral/isvalid"},
			},
		}
	}
	call.Status = status
	s.mu.Lock()
	s.invites = append(s.invites, call)
	s.mu.Unlock()
	writeJSON(w, status, resp)
}

// canonicalJSON encodes a flat object as Matrix canonical JSON: sorted keys
// (encoding/json sorts map keys), no spaces, no HTML escaping.
func canonicalJSON(v map[string]any) ([]byte, error) {
	var sb strings.Builder
	enc := json.NewEncoder(&sb)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return []byte(strings.TrimSuffix(sb.String(), "\n")), nil
}

func b64(b []byte) string { return base64.RawStdEncoding.EncodeToString(b) }

func randomToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func matrixError(code, msg string) map[string]string {
	return map[string]string{"errcode": code, "error": msg}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// lockedWriter appends to b under mu.
type lockedWriter struct {
	mu *sync.Mutex
	b  *strings.Builder
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}
