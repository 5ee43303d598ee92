package record

import (
	"time"

	"github.com/mxinvite/mxinvite/matrix"
)

// Result is one invite's record as people and programs read it: what was
// asked, where it stands and, once final, how it ended.
type Result struct {
	TaskID     string `json:"task_id"`
	Key        string `json:"key"`
	Campaign   string `json:"campaign"`
	RoomID     string `json:"room_id"`
	Medium     string `json:"medium"`
	Address    string `json:"address"`
	Sender     string `json:"sender"`
	IDServer   string `json:"id_server,omitempty"`
	Generation int    `json:"generation"`
	State      State  `json:"state"`

	// StatusCode is the libQuotient status number; meaningful when State is done.
	StatusCode matrix.StatusCode `json:"status_code"`
	// Status is the status code's name ("Success", "ContentAccessError", …).
	Status     string `json:"status"`
	HTTPStatus int    `json:"http_status"`
	ErrCode    string `json:"errcode"`
	Error      string `json:"error"`

	// Attempts counts the attempts made, Requests the invite requests
	// actually written to the wire (a PUT that fell back to POST is two), and
	// RateLimited the 429 answers among them.
	Attempts    int `json:"attempts"`
	Requests    int `json:"requests"`
	RateLimited int `json:"rate_limited"`
	// LimitScope is whose its last 429 was (invitee, room, sender), ""
	// when it was never rate limited.
	LimitScope LimitScope `json:"limit_scope,omitempty"`
	// PossibleDuplicate is set when the invite succeeded after an attempt
	// whose outcome was unknown (5xx, timeout after sending): the invitee may
	// have been emailed twice.
	PossibleDuplicate bool `json:"possible_duplicate"`

	// Delivery is how the invite went out (user_id, 3pid) or why it
	// needed no request (already_joined, already_invited); "" for invites
	// finished before resolve-first, or not finished. UserID is the
	// invitee's account when known.
	Delivery Delivery `json:"delivery,omitempty"`
	UserID   string   `json:"user_id,omitempty"`
	// JoinedAtMS is when mxinvite first saw the invitee joined (0: not
	// joined); RegisteredAtMS when it first saw a 3PID invitee's address
	// bound to an account (0: not yet).
	JoinedAtMS     int64 `json:"joined_at_ms,omitempty"`
	RegisteredAtMS int64 `json:"registered_at_ms,omitempty"`

	EnqueuedAt time.Time `json:"enqueued_at"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
}

// Final reports whether the invite has its final status.
func (r Result) Final() bool { return r.State == StateDone }
