package tasks

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"strings"
)

// keyHexLen is the length of Key: 128 bits of SHA-256 are plenty to make
// collisions between invites practically impossible.
const keyHexLen = 32

// Key identifies who is invited where, by whom: the first 32 hex characters
// of SHA-256 over the sender, room ID, medium and normalised address, each
// preceded by its length as a uvarint so no two tuples hash the same bytes.
//
// Campaign, IDServer, EnqueuedAt and Generation are deliberately left out:
// the same person invited to the same room by the same sender is the same
// invite, whichever import it came from. Key applies NewInvite's
// normalisation first, so a hand-filled Invite gets the same key as the
// validated one.
func (i Invite) Key() string {
	c, _ := i.canonical() // best effort: an invalid invite still gets a stable key
	h := sha256.New()
	var buf []byte
	for _, part := range [...]string{c.Sender, c.RoomID, string(c.Medium), c.Address} {
		buf = binary.AppendUvarint(buf[:0], uint64(len(part)))
		buf = append(buf, part...)
		h.Write(buf)
	}
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:keyHexLen/2])
}

// TaskID is the asynq task ID of the invite: "inv:" + Key(), plus ":g<N>"
// for a re-invite with Generation N > 0. asynq refuses a second task with an
// ID it still holds, which is what makes enqueuing idempotent.
func (i Invite) TaskID() string { return TaskIDOf(i.Key(), i.Generation) }

// TaskIDOf is the task ID of generation gen of the invite with key: the one
// place that knows the format (readers of records and the Redis scripts that
// delete tasks take it from here).
func TaskIDOf(key string, gen int) string {
	id := "inv:" + key
	if gen > 0 {
		id += ":g" + strconv.Itoa(gen)
	}
	return id
}

// ParseTaskID is TaskIDOf's inverse: the invite key and generation of a
// task ID ("inv:" + 32 hex characters, optionally ":g<N>"); ok is false for
// anything else. A re-delivery's ID (RedeliveryTaskID) names the same
// invite as its base.
func ParseTaskID(id string) (key string, gen int, ok bool) {
	if i := strings.LastIndex(id, ":r"); i > 0 {
		if _, err := strconv.ParseInt(id[i+2:], 36, 64); err == nil {
			id = id[:i]
		}
	}
	rest, found := strings.CutPrefix(id, "inv:")
	if !found || len(rest) < keyHexLen {
		return "", 0, false
	}
	key, rest = rest[:keyHexLen], rest[keyHexLen:]
	if _, err := hex.DecodeString(key); err != nil {
		return "", 0, false
	}
	if rest == "" {
		return key, 0, true
	}
	g, found := strings.CutPrefix(rest, ":g")
	if !found {
		return "", 0, false
	}
	n, err := strconv.Atoi(g)
	if err != nil || n <= 0 || strconv.Itoa(n) != g {
		return "", 0, false
	}
	return key, n, true
}

// RedeliveryTaskID is the task ID of a re-delivery of the task base (a
// takeover of an invite whose worker died, internal/rdb/takeover.go):
// base + ":r" + n in base 36, n unique per re-delivery (the taking worker
// uses the time in ms). The invite and its record, key and generation, and
// so its transaction ID, are the base task's.
func RedeliveryTaskID(base string, n int64) string {
	return base + ":r" + strconv.FormatInt(n, 36)
}
