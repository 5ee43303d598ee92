package matrix

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestErrCodeTable covers every errcode override row of the reference, and
// the errcodes that must leave the HTTP-derived code alone.
func TestErrCodeTable(t *testing.T) {
	const interval = 3 * time.Second
	tests := []struct {
		name        string
		status      int
		contentType string
		body        string
		code        StatusCode
		retryable   bool
		delay       time.Duration
		errCode     ErrCode
		message     string // substring of Status.Message
	}{
		{"forbidden", 403, "application/json", `{"errcode":"M_FORBIDDEN","error":"You are not invited to this room."}`,
			ContentAccessError, false, 0, MForbidden, "You are not invited to this room."},
		{"invite blocked", 403, "application/json", `{"errcode":"M_INVITE_BLOCKED","error":"blocked"}`,
			ContentAccessError, false, 0, MInviteBlocked, "blocked"},
		{"limit exceeded on 400", 400, "application/json", `{"errcode":"M_LIMIT_EXCEEDED","error":"slow down","retry_after_ms":1500}`,
			TooManyRequests, true, 1500 * time.Millisecond, MLimitExceeded, "slow down"},
		{"limit exceeded on 500 without advice", 500, "application/json", `{"errcode":"M_LIMIT_EXCEEDED"}`,
			TooManyRequests, true, interval, MLimitExceeded, "M_LIMIT_EXCEEDED"},
		{"dendrite 429", 429, "application/json", `{"errcode":"M_LIMIT_EXCEEDED","error":"You are sending too many requests too quickly!","retry_after_ms":500}`,
			TooManyRequests, true, 500 * time.Millisecond, MLimitExceeded, "too quickly"},
		{"consent", 403, "application/json", `{"errcode":"M_CONSENT_NOT_GIVEN","error":"Please accept the terms","consent_uri":"https://example.org/consent?u=bob"}`,
			UserConsentRequired, false, 0, MConsentNotGiven, "https://example.org/consent?u=bob"},
		{"unsupported room version", 400, "application/json", `{"errcode":"M_UNSUPPORTED_ROOM_VERSION","error":"v99"}`,
			UnsupportedRoomVersion, false, 0, MUnsupportedRoomVersion, "v99"},
		{"incompatible room version", 400, "application/json", `{"errcode":"M_INCOMPATIBLE_ROOM_VERSION","error":"v98"}`,
			UnsupportedRoomVersion, false, 0, MIncompatibleRoomVersion, "v98"},
		{"server notice room", 403, "application/json", `{"errcode":"M_CANNOT_LEAVE_SERVER_NOTICE_ROOM","error":"no"}`,
			CannotLeaveRoom, false, 0, MCannotLeaveServerNoticeRoom, "no"},
		{"deactivated", 403, "application/json", `{"errcode":"M_USER_DEACTIVATED","error":"gone"}`,
			UserDeactivated, false, 0, MUserDeactivated, "gone"},
		{"locked", 401, "application/json", `{"errcode":"M_ACCOUNT_LOCKED","error":"locked"}`,
			AccountLocked, false, 0, MAccountLocked, "locked"},
		{"unknown token", 401, "application/json", `{"errcode":"M_UNKNOWN_TOKEN","error":"Invalid access token passed.","soft_logout":false}`,
			Unauthorised, false, 0, MUnknownToken, "Invalid access token passed."},
		{"soft logout", 401, "application/json", `{"errcode":"M_UNKNOWN_TOKEN","error":"Token expired","soft_logout":true}`,
			Unauthorised, false, 0, MUnknownToken, "Token expired"},
		{"terms not signed", 403, "application/json", `{"errcode":"M_TERMS_NOT_SIGNED","error":"Terms not signed"}`,
			ContentAccessError, false, 0, MTermsNotSigned, "Terms not signed"},
		{"tuwunel: no 3PID invites", 403, "application/json", `{"errcode":"M_THREEPID_DENIED","error":"Third party identifiers are not implemented"}`,
			ContentAccessError, false, 0, MThreePIDDenied, "not implemented"},
		{"identity server: bad token", 401, "application/json", `{"errcode":"M_UNAUTHORIZED","error":"Unauthorized"}`,
			Unauthorised, false, 0, MUnauthorized, "Unauthorized"},
		{"missing param", 400, "application/json", `{"errcode":"M_MISSING_PARAM","error":"Missing id_access_token"}`,
			IncorrectRequest, false, 0, MMissingParam, "Missing id_access_token"},
		{"server not trusted", 400, "application/json", `{"errcode":"M_SERVER_NOT_TRUSTED","error":"untrusted"}`,
			IncorrectRequest, false, 0, MServerNotTrusted, "untrusted"},
		{"unknown room", 404, "application/json", `{"errcode":"M_NOT_FOUND","error":"Unknown room"}`,
			NotFound, false, 0, MNotFound, "Unknown room"},
		{"synapse identity failure", 500, "application/json", `{"errcode":"M_UNKNOWN","error":"Internal server error"}`,
			NetworkError, true, 0, MUnknown, "Internal server error"},
		{"dendrite 500", 500, "application/json", `{"Err":""}`,
			NetworkError, true, 0, "", "HTTP 500 Internal Server Error"},
		{"errcode without error text", 403, "application/json", `{"errcode":"M_FORBIDDEN"}`,
			ContentAccessError, false, 0, MForbidden, "HTTP 403 Forbidden (M_FORBIDDEN)"},
		{"charset", 403, "application/json; charset=utf-8", `{"errcode":"M_FORBIDDEN","error":"charset kept"}`,
			ContentAccessError, false, 0, MForbidden, "charset kept"},
		{"problem+json", 403, "application/problem+json", `{"errcode":"M_FORBIDDEN","error":"problem"}`,
			ContentAccessError, false, 0, MForbidden, "problem"},
		{"vendor +json with params", 429, "application/vnd.matrix+json; charset=UTF-8", `{"errcode":"M_LIMIT_EXCEEDED","retry_after_ms":250}`,
			TooManyRequests, true, 250 * time.Millisecond, MLimitExceeded, "M_LIMIT_EXCEEDED"},
		{"upper-case media type", 403, "Application/JSON", `{"errcode":"M_FORBIDDEN","error":"case"}`,
			ContentAccessError, false, 0, MForbidden, "case"},
		{"no content type, errcode", 403, "", `{"errcode":"M_FORBIDDEN","error":"sniffed"}`,
			ContentAccessError, false, 0, MForbidden, "sniffed"},
		{"no content type, no errcode", 403, "", `{"error":"not matrix"}`,
			ContentAccessError, false, 0, "", "HTTP 403 Forbidden"},
		{"html is not parsed", 403, "text/html", `{"errcode":"M_FORBIDDEN","error":"html"}`,
			ContentAccessError, false, 0, "", "HTTP 403 Forbidden"},
		{"mistyped field keeps the others", 403, "application/json", `{"errcode":"M_FORBIDDEN","error":42}`,
			ContentAccessError, false, 0, MForbidden, "HTTP 403 Forbidden (M_FORBIDDEN)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTestServer(t, func(w http.ResponseWriter, _ *http.Request) {
				if tt.contentType == "" {
					w.Header()["Content-Type"] = nil // no sniffing either
				} else {
					w.Header().Set("Content-Type", tt.contentType)
				}
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			})
			o := invite(context.Background(), newTestClient(srv.URL), WithRetryInterval(interval))
			checkOutcome(t, o, tt.code, tt.retryable, tt.delay)
			if o.ErrCode != tt.errCode {
				t.Errorf("ErrCode = %q, want %q", o.ErrCode, tt.errCode)
			}
			if !strings.Contains(o.Status.Message, tt.message) {
				t.Errorf("message %q does not contain %q", o.Status.Message, tt.message)
			}
			if string(o.BodySample) != tt.body {
				t.Errorf("BodySample = %q, want %q", o.BodySample, tt.body)
			}
		})
	}
}

func TestServerErrorFieldIsTheBodyText(t *testing.T) {
	srv := newTestServer(t, reply(403, `{"errcode":"M_FORBIDDEN","error":"Cannot invite so many"}`))
	o := invite(context.Background(), newTestClient(srv.URL))
	if o.ServerError != "Cannot invite so many" || o.Status.Message != o.ServerError {
		t.Errorf("ServerError = %q, Message = %q", o.ServerError, o.Status.Message)
	}
	if got := o.Status.String(); got != "ContentAccessError (104): Cannot invite so many" {
		t.Errorf("Status.String() = %q", got)
	}
}

// TestSoftLogout reads soft_logout only from M_UNKNOWN_TOKEN, and only a
// JSON true counts.
func TestSoftLogout(t *testing.T) {
	tests := []struct {
		body string
		want bool
	}{
		{`{"errcode":"M_UNKNOWN_TOKEN","soft_logout":true}`, true},
		{`{"errcode":"M_UNKNOWN_TOKEN","soft_logout":false}`, false},
		{`{"errcode":"M_UNKNOWN_TOKEN"}`, false},
		{`{"errcode":"M_UNKNOWN_TOKEN","soft_logout":"true"}`, false},
		{`{"errcode":"M_MISSING_TOKEN","soft_logout":true}`, false},
	}
	for _, tt := range tests {
		srv := newTestServer(t, reply(401, tt.body))
		_, o := newTestClient(srv.URL).WhoAmI(context.Background())
		if o.Status.Code != Unauthorised || o.SoftLogout != tt.want {
			t.Errorf("%s: %v, SoftLogout = %v, want %v", tt.body, o.Status, o.SoftLogout, tt.want)
		}
	}
}
