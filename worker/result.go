package worker

import (
	"strconv"
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
	State      string `json:"state"`

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
	// PossibleDuplicate is set when the invite succeeded after an attempt
	// whose outcome was unknown (5xx, timeout after sending): the invitee may
	// have been emailed twice.
	PossibleDuplicate bool `json:"possible_duplicate"`

	EnqueuedAt time.Time `json:"enqueued_at"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
}

// Final reports whether the invite has its final status.
func (r Result) Final() bool { return r.State == StateDone }

// resultFromHash decodes a record hash.
func resultFromHash(key string, h map[string]string) Result {
	num := func(f string) int { n, _ := strconv.Atoi(h[f]); return n }
	when := func(f string) time.Time { t, _ := time.Parse(time.RFC3339Nano, h[f]); return t }
	return Result{
		TaskID: h["task_id"], Key: key, Campaign: h["campaign"], RoomID: h["room_id"],
		Medium: h["medium"], Address: h["address"], Sender: h["sender"], IDServer: h["id_server"],
		Generation: num("generation"), State: h["state"],
		StatusCode: matrix.StatusCode(num("status_code")), Status: h["status"],
		HTTPStatus: num("http_status"), ErrCode: h["errcode"], Error: h["error"],
		Attempts: num("attempts"), Requests: num("requests"), RateLimited: num("rate_limited"),
		PossibleDuplicate: h["possible_duplicate"] == "1",
		EnqueuedAt:        when("enqueued_at"), FinishedAt: when("finished_at"),
	}
}
