package simulator

import (
	"fmt"
	"net/http"
	"sync"
)

// The errcodes of an invite refused by the invitee's invite filter
// (MSC4155, MSC4380): the stable one of spec v1.18 and the unstable one
// servers sent before.
const (
	InviteBlockedStable   = "M_INVITE_BLOCKED"
	InviteBlockedUnstable = "ORG.MATRIX.MSC4155.INVITE_BLOCKED"
)

// validInviteBlockedCode reports whether code is one of the two codes.
func validInviteBlockedCode(code string) bool {
	return code == InviteBlockedStable || code == InviteBlockedUnstable
}

// inviteBlocks holds the accounts that refuse invites and the errcode
// their refusal carries.
type inviteBlocks struct {
	mu    sync.Mutex
	users map[string]bool
	code  string
}

func newInviteBlocks(cfg Config) *inviteBlocks {
	ib := &inviteBlocks{users: map[string]bool{}, code: cfg.InviteBlockedCode}
	for _, u := range cfg.Users {
		if u.BlocksInvites {
			ib.users[u.UserID] = true
		}
	}
	for _, b := range cfg.Bindings {
		if b.BlocksInvites {
			ib.users[b.UserID] = true
		}
	}
	return ib
}

// blocked returns the errcode to refuse an invite of userID with, or "".
func (ib *inviteBlocks) blocked(userID string) string {
	ib.mu.Lock()
	defer ib.mu.Unlock()
	if ib.users[userID] {
		return ib.code
	}
	return ""
}

func (ib *inviteBlocks) set(userID string, blocks bool) {
	ib.mu.Lock()
	defer ib.mu.Unlock()
	if blocks {
		ib.users[userID] = true
	} else {
		delete(ib.users, userID)
	}
}

func (ib *inviteBlocks) setCode(code string) {
	ib.mu.Lock()
	defer ib.mu.Unlock()
	ib.code = code
}

// SetBlocksInvites makes userID refuse every invite (true) or accept
// them again (false), as its MSC4155 invite filter would.
func (s *Server) SetBlocksInvites(userID string, blocks bool) error {
	if !validID(userID, '@') {
		return fmt.Errorf("simulator: SetBlocksInvites: %q is not a user ID (@local:server)", userID)
	}
	s.blocks.set(userID, blocks)
	return nil
}

// SetInviteBlockedCode changes the errcode of refused invites:
// InviteBlockedStable or InviteBlockedUnstable.
func (s *Server) SetInviteBlockedCode(code string) error {
	if !validInviteBlockedCode(code) {
		return fmt.Errorf("simulator: SetInviteBlockedCode: %q is not %s or %s", code, InviteBlockedStable, InviteBlockedUnstable)
	}
	s.blocks.setCode(code)
	return nil
}

// handleBlockInvites serves POST /_sim/block_invites {"user_id",
// "blocks": bool} ([Server.SetBlocksInvites]) and/or {"errcode"}
// ([Server.SetInviteBlockedCode]).
func (s *Server) handleBlockInvites(w http.ResponseWriter, r *http.Request) {
	var body struct {
		UserID  string `json:"user_id"`
		Blocks  *bool  `json:"blocks"`
		ErrCode string `json:"errcode"`
	}
	if !s.readControl(w, r, &body) {
		return
	}
	if body.UserID == "" && body.ErrCode == "" {
		writeError(w, http.StatusBadRequest, "M_MISSING_PARAM", "Missing user_id or errcode")
		return
	}
	if body.ErrCode != "" {
		if err := s.SetInviteBlockedCode(body.ErrCode); err != nil {
			s.controlResult(w, err)
			return
		}
	}
	if body.UserID != "" {
		s.controlResult(w, s.SetBlocksInvites(body.UserID, body.Blocks == nil || *body.Blocks))
		return
	}
	s.controlResult(w, nil)
}
