package simulator

import (
	"fmt"
	"net/http"
	"sync"
	"time"
)

// Binding is an address the identity server knows as bound to an
// account (the person registered and bound it). Synapse's lookup during
// a 3PID invite then finds the account, and the invite becomes an invite
// of that account (rc_invites, no email); the identity server's v2
// lookup answers the account in "mappings".
type Binding struct {
	// Medium is "email" or "msisdn". Default "email".
	Medium string `json:"medium"`
	// Address is the address; email addresses are kept lowercased with
	// an A-label domain (as invites are), so any spelling matches. A
	// phone number is taken as written: give it as Sydent stores and
	// clients hash it, E.164 digits without "+" ("447700900123").
	Address string `json:"address"`
	// UserID is the account. It need not be one of Config.Users: an
	// account that only receives invites has no access token here.
	UserID string `json:"user_id"`
	// BlocksInvites makes the account refuse every invite (MSC4155's
	// invite filtering): 403 with Config.InviteBlockedCode. Default false.
	BlocksInvites bool `json:"blocks_invites"`
}

// withDefaults fills Medium and canonicalises Address.
func (b Binding) withDefaults() Binding {
	if b.Medium == "" {
		b.Medium = "email"
	}
	b.Address = canonicalAddress(b.Medium, b.Address)
	return b
}

// validate checks a binding (defaults applied); prefix names it in the
// errors ("simulator: Config.Bindings[0]").
func (b Binding) validate(prefix string) []error {
	var errs []error
	if b.Medium != "email" && b.Medium != "msisdn" {
		errs = append(errs, fmt.Errorf("%s.Medium: %q is not email or msisdn", prefix, b.Medium))
	}
	if b.Address == "" {
		errs = append(errs, fmt.Errorf("%s.Address: empty", prefix))
	}
	if !validID(b.UserID, '@') {
		errs = append(errs, fmt.Errorf("%s.UserID: %q is not a user ID (@local:server)", prefix, b.UserID))
	}
	return errs
}

// pendingInvite is a 3PID invite the homeserver accepted (its
// m.room.third_party_invite is in the room): when its address is bound,
// the identity server tells the homeserver (onbind) and the invitee's
// new account is invited.
type pendingInvite struct {
	roomID, sender, idServer, token, displayName string
}

// bindingStore is the identity server's associations (address ->
// account) and its pending invites per address.
type bindingStore struct {
	mu        sync.Mutex
	pepper    string
	byAddress map[string]string // medium, address -> user ID
	byHash    map[string]string // v2 lookup hash -> user ID
	pending   map[string][]pendingInvite
}

func newBindingStore(pepper string, bindings []Binding) *bindingStore {
	bs := &bindingStore{pepper: pepper, byAddress: map[string]string{}, byHash: map[string]string{},
		pending: map[string][]pendingInvite{}}
	for _, b := range bindings {
		bs.bind(b.Medium, b.Address, b.UserID)
	}
	return bs
}

func addressKey(medium, address string) string { return medium + "\x00" + address }

// bind associates the (canonical) address with userID, replacing an
// earlier association as Sydent does, and hands back the address's
// pending invites, which it forgets.
func (bs *bindingStore) bind(medium, address, userID string) []pendingInvite {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	key := addressKey(medium, address)
	bs.byAddress[key] = userID
	bs.byHash[HashAddress(address, medium, bs.pepper)] = userID
	pending := bs.pending[key]
	delete(bs.pending, key)
	return pending
}

// boundTo returns the account the (canonical) address is bound to.
func (bs *bindingStore) boundTo(medium, address string) (string, bool) {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	u, ok := bs.byAddress[addressKey(medium, address)]
	return u, ok
}

// lookup returns the account a v2 lookup hash stands for.
func (bs *bindingStore) lookup(hash string) (string, bool) {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	u, ok := bs.byHash[hash]
	return u, ok
}

// addPending keeps an accepted 3PID invite until its address is bound.
// If the address was bound meanwhile (the bind crossed the invite), it
// returns the account instead, for the caller to invite at once.
func (bs *bindingStore) addPending(medium, address string, p pendingInvite) (string, bool) {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	key := addressKey(medium, address)
	if u, ok := bs.byAddress[key]; ok {
		return u, true
	}
	bs.pending[key] = append(bs.pending[key], p)
	return "", false
}

// Bind binds medium ("email" or "msisdn"; "" means email) and address to
// userID at run time, as a person registering and binding the address
// does, replacing an earlier binding of the address. Like Sydent's
// onbind and Synapse's exchange_third_party_invite, each 3PID invite of
// the address the homeserver accepted before (and that was not yet
// turned into a membership) becomes userID's membership "invite" in its
// room, sent by the original inviter, its content carrying
// third_party_invite; a banned account is left out. It returns how many
// memberships were made (Stats.OnBindInvites). Counted in Stats.Binds.
func (s *Server) Bind(medium, address, userID string) (int, error) {
	b := Binding{Medium: medium, Address: address, UserID: userID}.withDefaults()
	if errs := b.validate("simulator: Bind"); len(errs) > 0 {
		return 0, errs[0]
	}
	pending := s.bindings.bind(b.Medium, b.Address, b.UserID)
	s.rec.count(func(st *Stats) { st.Binds++ })
	n := 0
	for _, p := range pending {
		if s.onBind(p, b.UserID) {
			n++
		}
	}
	return n, nil
}

// onBind turns one pending invite into userID's membership "invite".
func (s *Server) onBind(p pendingInvite, userID string) bool {
	content := map[string]any{
		"membership": "invite",
		"third_party_invite": map[string]any{
			"display_name": p.displayName,
			"signed": map[string]any{
				"mxid": userID, "token": p.token,
				"signatures": map[string]any{p.idServer: map[string]string{"ed25519:0": "sim-signature"}},
			},
		},
	}
	if !s.rooms.exchange(p.roomID, p.sender, userID, content) {
		return false
	}
	s.rec.count(func(st *Stats) { st.OnBindInvites++ })
	return true
}

// keepPending records an accepted 3PID invite for a later bind, or, if
// the address got bound meanwhile, invites the account now.
func (s *Server) keepPending(in inviteBody, roomID, sender string) {
	p := pendingInvite{roomID: roomID, sender: sender, idServer: in.IDServer,
		token: fmt.Sprintf("sim-invite-%d", s.minted.Add(1)), displayName: redact(in.Medium, in.Address)}
	if userID, bound := s.bindings.addPending(in.Medium, in.Address, p); bound {
		s.onBind(p, userID)
	}
}

// handleBind serves POST /_sim/bind {"medium", "address", "user_id"}:
// [Server.Bind]. Answers {"invites": n}, the memberships made.
func (s *Server) handleBind(w http.ResponseWriter, r *http.Request) {
	var body struct {
		LaterBind
		After string `json:"after"`
	}
	if !s.readControl(w, r, &body) {
		return
	}
	if body.After != "" {
		// A bind that happens later ({"after": "2s", "join": true}).
		d, err := time.ParseDuration(body.After)
		lb := body.LaterBind
		lb.After = d
		if errs := lb.validate("bind"); err != nil || len(errs) > 0 {
			writeError(w, http.StatusBadRequest, "M_INVALID_PARAM", fmt.Sprintf("after %q or binding: %v %v", body.After, err, errs))
			return
		}
		s.scheduleBind(lb)
		writeJSON(w, http.StatusOK, map[string]any{"scheduled": true})
		return
	}
	if body.Join {
		if err := s.bindNow(body.LaterBind); err != nil {
			writeError(w, http.StatusBadRequest, "M_INVALID_PARAM", err.Error())
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"joined": true})
		return
	}
	n, err := s.Bind(body.Medium, body.Address, body.UserID)
	if err != nil {
		writeError(w, http.StatusBadRequest, "M_INVALID_PARAM", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"invites": n})
}
