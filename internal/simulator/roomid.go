package simulator

import (
	"crypto/sha256"
	"encoding/base64"
)

// v12RoomIDLen is the length of a room version 12 ID: "!" and the 43
// characters of an unpadded URL-safe base64 sha256 (spec v1.16, MSC4291).
const v12RoomIDLen = 1 + 43

// maxRoomIDBytes is the spec's limit on any room ID.
const maxRoomIDBytes = 255

// DefaultV12RoomSeed is the seed of [DefaultV12Room]'s ID.
const DefaultV12RoomSeed = "mxinvite simulator v12 room"

// DefaultV12RoomAlias is the alias of [DefaultV12Room].
const DefaultV12RoomAlias = "#demo-v12:sim.local"

// NewV12RoomID returns a room version 12 room ID derived from seed: "!"
// and the unpadded URL-safe base64 of sha256(seed), 44 characters with no
// ":server" part. On a real server the hash is that of the room's create
// event; here it only has to look the same and be stable per seed.
func NewV12RoomID(seed string) string {
	sum := sha256.Sum256([]byte(seed))
	return "!" + base64.RawURLEncoding.EncodeToString(sum[:])
}

// DefaultV12Room returns a room version 12 room: ID NewV12RoomID
// (DefaultV12RoomSeed), alias DefaultV12RoomAlias, DefaultUserID its
// creator (so above every power level, and absent from the power levels'
// users, as room version 12 requires) and joined; inviting needs
// DefaultInviteLevel.
func DefaultV12Room() Room {
	return Room{
		ID:          NewV12RoomID(DefaultV12RoomSeed),
		Aliases:     []string{DefaultV12RoomAlias},
		Members:     map[string]string{DefaultUserID: "join"},
		Creators:    []string{DefaultUserID},
		InviteLevel: DefaultInviteLevel,
	}
}

// isV12RoomID reports whether id has the room version 12 form
// ^![A-Za-z0-9_-]{43}$.
func isV12RoomID(id string) bool {
	if len(id) != v12RoomIDLen || id[0] != '!' {
		return false
	}
	for i := 1; i < len(id); i++ {
		c := id[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// validRoomID reports whether id is a room ID of any room version: the
// legacy "!opaque:server" or the version 12 form, at most 255 bytes. The
// server part of a legacy ID is never used: room IDs are opaque.
func validRoomID(id string) bool {
	return len(id) <= maxRoomIDBytes && (isV12RoomID(id) || validID(id, '!'))
}
