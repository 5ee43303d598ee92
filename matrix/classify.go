package matrix

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"
)

// answer is an HTTP response reduced to what classification reads. Keeping it
// free of net/http lets the fuzz target drive the parser directly.
type answer struct {
	status      int
	contentType string
	retryAfter  string // the Retry-After header value
	body        []byte
}

// verdict is what classifyAnswer concluded about an answer.
type verdict struct {
	code        StatusCode
	message     string
	errCode     ErrCode
	serverError string
	retryAfter  time.Duration // only for TooManyRequests
	softLogout  bool          // M_UNKNOWN_TOKEN's soft_logout
}

// errorBody is the standard Matrix error body, read field by field so that
// one mistyped field does not lose the others.
type errorBody struct {
	errCode      ErrCode
	message      string
	consentURI   string
	retryAfterMS json.RawMessage
	softLogout   bool // M_UNKNOWN_TOKEN: the session may be refreshed, not dead
}

// classifyAnswer applies libQuotient's tables, in order: the HTTP status
// first, then the errcode overrides. A 2xx must carry valid JSON.
func classifyAnswer(a answer, p delayPolicy) verdict {
	v := verdict{code: codeForHTTPStatus(a.status)}
	if v.code == Success {
		if !json.Valid(a.body) {
			v.code = IncorrectResponse
			v.message = fmt.Sprintf("HTTP %d with a body that is not valid JSON", a.status)
		}
		return v
	}
	body := parseErrorBody(a.contentType, a.body)
	v.errCode, v.serverError, v.message = body.errCode, body.message, body.message
	v.softLogout = body.softLogout && body.errCode == MUnknownToken
	switch {
	case a.status == http.StatusTooManyRequests || body.errCode == MLimitExceeded:
		// Every 429 backs off, even a proxy's bare one (libQuotient gap #3).
		v.code = TooManyRequests
		v.retryAfter = rateLimitDelay(body.retryAfterMS, a.retryAfter, p)
	case body.errCode == MConsentNotGiven:
		v.code = UserConsentRequired
		if body.consentURI != "" {
			v.message = strings.TrimSpace(v.message + " (consent_uri: " + body.consentURI + ")")
		}
	case body.errCode == MUnsupportedRoomVersion || body.errCode == MIncompatibleRoomVersion:
		v.code = UnsupportedRoomVersion
	case body.errCode == MCannotLeaveServerNoticeRoom:
		v.code = CannotLeaveRoom
	case body.errCode == MUserDeactivated:
		v.code = UserDeactivated
	case body.errCode == MAccountLocked:
		v.code = AccountLocked
	}
	if v.message == "" {
		v.message = httpStatusText(a.status, body.errCode)
	}
	return v
}

// codeForHTTPStatus is libQuotient's HTTP table, checked in the same order.
func codeForHTTPStatus(status int) StatusCode {
	switch {
	case status >= 200 && status <= 299:
		return Success
	case status == 410:
		return IncorrectRequest
	case status >= 411 && status <= 419:
		return NotFound
	}
	switch status {
	case 401:
		return Unauthorised
	case 403, 407:
		return ContentAccessError
	case 404:
		return NotFound
	case 400, 405, 406, 426, 428, 505, 494, 497:
		return IncorrectRequest
	case 429:
		return TooManyRequests
	case 501, 510:
		return RequestNotImplemented
	case 511:
		return NetworkAuthRequired
	}
	// Every other 5xx and 4xx, unfollowed 3xx and anything stranger.
	return NetworkError
}

// parseErrorBody reads a Matrix error body when the media type is any JSON
// type (libQuotient gap #2: it only accepted exactly application/json), or
// when there is no Content-Type but the body is an object with an errcode.
func parseErrorBody(contentType string, raw []byte) errorBody {
	contentType = strings.TrimSpace(contentType)
	if contentType != "" && !isJSONMediaType(contentType) {
		return errorBody{}
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) != nil {
		return errorBody{}
	}
	if _, hasErrCode := fields["errcode"]; contentType == "" && !hasErrCode {
		return errorBody{}
	}
	var b errorBody
	var code string
	_ = json.Unmarshal(fields["errcode"], &code) // a mistyped field stays empty
	b.errCode = ErrCode(code)
	_ = json.Unmarshal(fields["error"], &b.message)
	_ = json.Unmarshal(fields["consent_uri"], &b.consentURI)
	_ = json.Unmarshal(fields["soft_logout"], &b.softLogout)
	b.retryAfterMS = fields["retry_after_ms"]
	return b
}

// isJSONMediaType accepts application/json with any parameters, every +json
// suffix type (application/problem+json) and the legacy text/json.
func isJSONMediaType(contentType string) bool {
	mediaType, _, err := mime.ParseMediaType(contentType)
	if err != nil && !errors.Is(err, mime.ErrInvalidMediaParameter) {
		return false
	}
	return mediaType == "application/json" || mediaType == "text/json" || strings.HasSuffix(mediaType, "+json")
}

// httpStatusText is the message for an error answer without an "error" text.
func httpStatusText(status int, code ErrCode) string {
	text := strings.TrimSpace(fmt.Sprintf("HTTP %d %s", status, http.StatusText(status)))
	if code != "" {
		text += " (" + string(code) + ")"
	}
	return text
}
