package simulator

import (
	"fmt"
	"net/http"
)

// Why an invite of an account was refused because of the invitee: the
// keys of Stats.InviteeRefusals.
const (
	// InviteeAlreadyJoined: the account is joined already (403
	// M_FORBIDDEN "… is already in the room.").
	InviteeAlreadyJoined = "already_joined"
	// InviteeBanned: the account is banned (Synapse's 403 M_BAD_STATE
	// "Cannot invite user who was banned").
	InviteeBanned = "banned"
	// InviteeBlocked: the account blocks invites (403 with
	// Config.InviteBlockedCode).
	InviteeBlocked = "invite_blocked"
)

// inviteVia says how an invite of an account came, for the stats.
type inviteVia int

const (
	viaMatrixID  inviteVia = iota // POST /invite {"user_id"}
	viaBound3PID                  // a 3PID invite of a bound address
)

// inviteByMatrixID serves an invite by Matrix ID, as Synapse's
// update_membership does: the user ID (400), rc_invites in its three
// scopes (429), a scripted Rule matching the user ID (where Synapse asks
// its spam checker), then the membership rules (applyMemberInvite). No
// identity server, no email; rc_third_party_invite is not charged.
func (s *Server) inviteByMatrixID(u User, roomID string, in inviteBody) reply {
	if !validID(in.UserID, '@') {
		return errReply(http.StatusBadRequest, "M_INVALID_PARAM", fmt.Sprintf("Invalid user id: %q", in.UserID))
	}
	if rep, ok := s.chargeInviteLimits(u, roomID, in.UserID); !ok {
		return rep
	}
	rule, scripted := s.rules.match(in.UserID)
	if scripted && !rule.AfterStore {
		return s.scripted(rule, in.UserID)
	}
	rep := s.applyMemberInvite(u, roomID, in.UserID, in.Reason, viaMatrixID)
	if scripted && !rep.isError() {
		return s.scripted(rule, in.UserID)
	}
	return rep
}

// inviteAccount invites the account a 3PID is bound to: rc_invites, then
// the membership rules.
func (s *Server) inviteAccount(u User, roomID, invitee, reason string, via inviteVia) reply {
	if rep, ok := s.chargeInviteLimits(u, roomID, invitee); !ok {
		return rep
	}
	return s.applyMemberInvite(u, roomID, invitee, reason, via)
}

// applyMemberInvite applies Synapse's rules to an invite of invitee by u
// and, when they pass, makes the invitee's membership "invite". In
// Synapse's order: the invitee's invite filter (server admins pass), the
// room, a banned invitee, a repeat of u's own invite (200, nothing new),
// then the event-auth rules: u joined, the invitee not joined, u's power
// level.
func (s *Server) applyMemberInvite(u User, roomID, invitee, reason string, via inviteVia) reply {
	if !u.Admin {
		if code := s.blocks.blocked(invitee); code != "" {
			s.rec.count(func(st *Stats) { st.InviteeRefusals[InviteeBlocked]++ })
			return errReply(http.StatusForbidden, code, "You are not permitted to invite this user.")
		}
	}
	content := map[string]any{"membership": "invite"}
	if reason != "" {
		content["reason"] = reason
	}
	switch s.rooms.invite(roomID, u.UserID, invitee, content) {
	case memberUnknownRoom:
		return errReply(http.StatusForbidden, "M_FORBIDDEN", "Unknown room")
	case memberBanned:
		s.rec.count(func(st *Stats) { st.InviteeRefusals[InviteeBanned]++ })
		return errReply(http.StatusForbidden, "M_BAD_STATE", "Cannot invite user who was banned")
	case memberRepeated:
		s.rec.count(func(st *Stats) { st.RepeatedMemberInvites++ })
	case memberInviterNotJoined:
		return errReply(http.StatusForbidden, "M_FORBIDDEN", fmt.Sprintf("User %s not in room %s", u.UserID, roomID))
	case memberAlreadyJoined:
		s.rec.count(func(st *Stats) { st.InviteeRefusals[InviteeAlreadyJoined]++ })
		return errReply(http.StatusForbidden, "M_FORBIDDEN", fmt.Sprintf("%s is already in the room.", invitee))
	case memberNoPower:
		return errReply(http.StatusForbidden, "M_FORBIDDEN", "You don't have permission to invite users")
	case memberInvited:
		s.rec.count(func(st *Stats) {
			if via == viaBound3PID {
				st.BoundThreePIDInvites++
			} else {
				st.MatrixIDInvites++
			}
		})
	}
	return okReply()
}
