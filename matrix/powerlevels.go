package matrix

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// PowerLevels is the part of m.room.power_levels that decides who may invite.
type PowerLevels struct {
	// Users maps users to their level; others have UsersDefault.
	Users map[UserID]int
	// UsersDefault is the level of users not in Users (spec default 0).
	UsersDefault int
	// Invite is the level needed to invite; nil means the spec default, 0.
	Invite *int
}

// UserLevel returns the power level of user.
func (p PowerLevels) UserLevel(user UserID) int {
	if level, ok := p.Users[user]; ok {
		return level
	}
	return p.UsersDefault
}

// InviteLevel returns the level needed to invite (spec default 0).
func (p PowerLevels) InviteLevel() int {
	if p.Invite == nil {
		return 0
	}
	return *p.Invite
}

// UnmarshalJSON accepts levels as numbers or as numeric strings: rooms
// before version 10 may hold "50", and servers still enforce such values.
func (p *PowerLevels) UnmarshalJSON(data []byte) error {
	var raw struct {
		Users        map[UserID]lenientInt `json:"users"`
		UsersDefault *lenientInt           `json:"users_default"`
		Invite       *lenientInt           `json:"invite"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	*p = PowerLevels{}
	if raw.Users != nil {
		p.Users = make(map[UserID]int, len(raw.Users))
		for user, level := range raw.Users {
			p.Users[user] = int(level)
		}
	}
	if raw.UsersDefault != nil {
		p.UsersDefault = int(*raw.UsersDefault)
	}
	if raw.Invite != nil {
		invite := int(*raw.Invite)
		p.Invite = &invite
	}
	return nil
}

// lenientInt is a power level written as 50 or "50".
type lenientInt int

// UnmarshalJSON implements json.Unmarshaler.
func (n *lenientInt) UnmarshalJSON(data []byte) error {
	text := strings.TrimSpace(string(data))
	if unquoted, err := strconv.Unquote(text); err == nil && strings.HasPrefix(text, `"`) {
		text = strings.TrimSpace(unquoted)
	}
	value, err := strconv.Atoi(text)
	if err != nil {
		return fmt.Errorf("power level %s is not an integer", data)
	}
	*n = lenientInt(value)
	return nil
}
