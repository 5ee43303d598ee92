package simulator

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"
)

// reply is an answer computed before it is written. The invite handler
// builds replies rather than writing directly, so that one place can
// count statuses, cache PUT answers and swap in injected faults.
type reply struct {
	status      int
	body        []byte // written as is; nil writes no body
	contentType string
	retryAfter  string         // Retry-After header value; "" for none
	extra       map[string]any // merged into error bodies (retry_after_ms, soft_logout)
	hang        bool           // never answer: wait until the client goes away
	gone        bool           // the client went away: write nothing
	nonJSON     bool           // an injected non-JSON 200, counted as such
	delay       time.Duration  // wait this long before answering (Synapse's pause on 429)
	scope       string         // the limit a 429 came from (Scope*), for Stats.RateLimitedByScope
	raw         bool           // body is written as is: no Content-Type unless contentType says one
}

// okReply is Synapse's answer to a successful invite: 200 {}.
func okReply() reply {
	return reply{status: http.StatusOK, body: []byte("{}"), contentType: "application/json"}
}

// errReply is a Matrix error answer {"errcode", "error"}.
func errReply(status int, errcode, msg string) reply {
	return reply{status: status, contentType: "application/json",
		extra: map[string]any{"errcode": errcode, "error": msg}}
}

// isError reports whether the reply is a failure (anything but 2xx).
func (rep reply) isError() bool { return rep.status < 200 || rep.status > 299 }

// write sends rep. Error replies carry their JSON body in extra, encoded
// here so that fields added late (retry_after_ms) are included.
func (rep reply) write(w http.ResponseWriter) {
	body := rep.body
	if body == nil && rep.extra != nil {
		body, _ = json.Marshal(rep.extra)
	}
	if rep.contentType != "" && body != nil {
		w.Header().Set("Content-Type", rep.contentType)
	} else if rep.raw {
		// A nil value stops net/http from sniffing a type for the body.
		w.Header()["Content-Type"] = nil
	}
	if rep.retryAfter != "" {
		w.Header().Set("Retry-After", rep.retryAfter)
	}
	w.WriteHeader(rep.status)
	if body != nil {
		_, _ = w.Write(body)
	}
}

// writeJSON answers status with v encoded as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "M_UNKNOWN", "Internal server error")
		return
	}
	reply{status: status, body: body, contentType: "application/json"}.write(w)
}

// writeError answers a Matrix error.
func writeError(w http.ResponseWriter, status int, errcode, msg string) {
	errReply(status, errcode, msg).write(w)
}

// readJSON decodes a JSON object body of at most limit bytes into v. On
// failure it returns the reply Synapse would give: 413 M_TOO_LARGE,
// 400 M_NOT_JSON for unparsable content, 400 M_BAD_JSON for JSON that is
// not an object of the expected shape.
func readJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) (reply, bool) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return errReply(http.StatusRequestEntityTooLarge, "M_TOO_LARGE", "Request body too large"), false
	case err != nil:
		return errReply(http.StatusBadRequest, "M_NOT_JSON", "Could not read request body"), false
	case len(data) == 0:
		data = []byte("{}") // Synapse allows an empty body on membership endpoints
	}
	var raw any
	if err := json.Unmarshal(data, &raw); err != nil {
		return errReply(http.StatusBadRequest, "M_NOT_JSON", "Content not JSON."), false
	}
	if _, ok := raw.(map[string]any); !ok {
		return errReply(http.StatusBadRequest, "M_BAD_JSON", "Content must be a JSON object."), false
	}
	if err := json.Unmarshal(data, v); err != nil {
		return errReply(http.StatusBadRequest, "M_BAD_JSON", "Invalid field types: "+err.Error()), false
	}
	return reply{}, true
}
