package record

import "time"

// Detail is one invite as its record tells it: the Result plus the
// progress of its deliveries (what the operator's invite page shows).
// The record keeps counters and the last answer, not a list of attempts.
type Detail struct {
	Result
	// Retries are the policy's retries taken, Ambiguous the attempts whose
	// outcome is unknown (the request may have reached the server), Failures
	// the failed attempts counted by the back-off.
	Retries   int `json:"retries"`
	Ambiguous int `json:"ambiguous"`
	Failures  int `json:"failures"`
	// LastStatus, LastHTTPStatus and LastError are the last failed
	// attempt's answer.
	LastStatus     string `json:"last_status,omitempty"`
	LastHTTPStatus int    `json:"last_http_status,omitempty"`
	LastError      string `json:"last_error,omitempty"`
	// First429 is when it was first answered 429; NotBefore when its next
	// attempt may go out (a wait: back-off, Retry-After, the gate).
	First429  time.Time `json:"first_429,omitzero"`
	NotBefore time.Time `json:"not_before,omitzero"`
	// InFlight is set while a request of it is out.
	InFlight    bool      `json:"in_flight"`
	CancelledAt time.Time `json:"cancelled_at,omitzero"`
	ImportRun   string    `json:"import_run,omitempty"`
}

// CancelOneStats says what cancelling one invite did.
type CancelOneStats struct {
	// Before is the invite's state when the cancel ran; Cancelled is set
	// when it is cancelled now (it was queued, scheduled, retrying or
	// paused).
	Before    State `json:"before"`
	Cancelled bool  `json:"cancelled"`
	// TaskRemoved is set when its asynq task was deleted (pending,
	// scheduled or retry), so no worker will even take it.
	TaskRemoved bool `json:"task_removed"`
}
