package matrix

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// StatusCode is the result code of a call. The names and numbers are those of
// libQuotient's BaseJob::StatusCode: mxinvite persists them and users compare
// them with libQuotient's, so they must never be renumbered.
type StatusCode int

// Status codes, as in libQuotient 0.9 (Quotient/jobs/basejob.h).
const (
	// Success means the server accepted the request.
	Success StatusCode = 0
	// NoError is libQuotient's alias of Success.
	NoError = Success
	// Pending means the call has not finished yet.
	Pending StatusCode = 1
	// WarningLevel is a marker: codes from here up to ErrorLevel are warnings.
	WarningLevel StatusCode = 20
	// UnexpectedResponseType means the response had an unexpected content type.
	UnexpectedResponseType StatusCode = 21
	// Unprepared means the call was never prepared for sending.
	Unprepared StatusCode = 25
	// Abandoned means the caller cancelled; the result is neither success nor failure.
	Abandoned StatusCode = 50
	// ErrorLevel is a marker: codes from here up are errors.
	ErrorLevel StatusCode = 100
	// NetworkError means no usable HTTP answer (refused, DNS, TLS, 5xx, ...).
	NetworkError StatusCode = 101
	// Timeout means the per-attempt deadline fired before a complete answer.
	Timeout StatusCode = 102
	// Unauthorised means a missing or rejected access token (HTTP 401).
	Unauthorised StatusCode = 103
	// ContentAccessError means the server refused access (HTTP 403, 407).
	ContentAccessError StatusCode = 104
	// NotFound means HTTP 404 (and 411..419).
	NotFound StatusCode = 105
	// IncorrectRequest means the request was malformed or could not be built.
	IncorrectRequest StatusCode = 106
	// IncorrectResponse means the answer could not be understood.
	IncorrectResponse StatusCode = 107
	// TooManyRequests means the server rate-limited the call (HTTP 429, M_LIMIT_EXCEEDED).
	TooManyRequests StatusCode = 108
	// RateLimited is libQuotient's alias of TooManyRequests.
	RateLimited = TooManyRequests
	// RequestNotImplemented means HTTP 501 or 510.
	RequestNotImplemented StatusCode = 109
	// UnsupportedRoomVersion means M_UNSUPPORTED_ROOM_VERSION or M_INCOMPATIBLE_ROOM_VERSION.
	UnsupportedRoomVersion StatusCode = 110
	// NetworkAuthRequired means HTTP 511 (a captive portal or similar).
	NetworkAuthRequired StatusCode = 111
	// UserConsentRequired means M_CONSENT_NOT_GIVEN; the message keeps the consent URI.
	UserConsentRequired StatusCode = 112
	// CannotLeaveRoom means M_CANNOT_LEAVE_SERVER_NOTICE_ROOM.
	CannotLeaveRoom StatusCode = 113
	// UserDeactivated means M_USER_DEACTIVATED.
	UserDeactivated StatusCode = 114
	// FileError means local request data could not be read.
	FileError StatusCode = 115
	// AccountLocked means M_ACCOUNT_LOCKED.
	AccountLocked StatusCode = 116
	// UserDefinedError is the first code free for extensions.
	UserDefinedError StatusCode = 256
)

// ErrUnknownStatusCode is returned (wrapped) by ParseStatusCode.
var ErrUnknownStatusCode = errors.New("matrix: unknown status code")

// String returns libQuotient's name of the code, or "StatusCode(N)" for a
// number without a name.
func (c StatusCode) String() string {
	switch c {
	case Success:
		return "Success"
	case Pending:
		return "Pending"
	case WarningLevel:
		return "WarningLevel"
	case UnexpectedResponseType:
		return "UnexpectedResponseType"
	case Unprepared:
		return "Unprepared"
	case Abandoned:
		return "Abandoned"
	case ErrorLevel:
		return "ErrorLevel"
	case NetworkError:
		return "NetworkError"
	case Timeout:
		return "Timeout"
	case Unauthorised:
		return "Unauthorised"
	case ContentAccessError:
		return "ContentAccessError"
	case NotFound:
		return "NotFound"
	case IncorrectRequest:
		return "IncorrectRequest"
	case IncorrectResponse:
		return "IncorrectResponse"
	case TooManyRequests:
		return "TooManyRequests"
	case RequestNotImplemented:
		return "RequestNotImplemented"
	case UnsupportedRoomVersion:
		return "UnsupportedRoomVersion"
	case NetworkAuthRequired:
		return "NetworkAuthRequired"
	case UserConsentRequired:
		return "UserConsentRequired"
	case CannotLeaveRoom:
		return "CannotLeaveRoom"
	case UserDeactivated:
		return "UserDeactivated"
	case FileError:
		return "FileError"
	case AccountLocked:
		return "AccountLocked"
	case UserDefinedError:
		return "UserDefinedError"
	}
	return "StatusCode(" + strconv.Itoa(int(c)) + ")"
}

// ParseStatusCode reads a code written by a human or by String: a name
// (case-insensitive, including the aliases NoError and RateLimited), a
// non-negative number, or the "StatusCode(N)" form.
func ParseStatusCode(s string) (StatusCode, error) {
	text := strings.TrimSpace(s)
	if inner, ok := strings.CutPrefix(text, "StatusCode("); ok {
		text = strings.TrimSuffix(inner, ")")
	}
	if n, err := strconv.Atoi(text); err == nil {
		if n < 0 {
			return 0, fmt.Errorf("%w: %q is negative", ErrUnknownStatusCode, s)
		}
		return StatusCode(n), nil
	}
	switch strings.ToLower(text) {
	case "noerror":
		return NoError, nil
	case "ratelimited":
		return RateLimited, nil
	}
	// Every named code is at most UserDefinedError, so scanning the range
	// finds them all without keeping a global name table.
	for c := Success; c <= UserDefinedError; c++ {
		if strings.EqualFold(c.String(), text) {
			return c, nil
		}
	}
	return 0, fmt.Errorf("%w: %q", ErrUnknownStatusCode, s)
}

// Status is a code plus a human-readable message (the server's "error" text
// or the transport error), with tokens already redacted.
type Status struct {
	// Code is libQuotient's status code.
	Code StatusCode
	// Message explains the code; empty on success.
	Message string
}

// Good reports whether the status is not an error (code below ErrorLevel),
// as libQuotient's Status::good.
func (s Status) Good() bool { return s.Code < ErrorLevel }

// String renders the status as "Name (number): message".
func (s Status) String() string {
	if s.Message == "" {
		return fmt.Sprintf("%s (%d)", s.Code, int(s.Code))
	}
	return fmt.Sprintf("%s (%d): %s", s.Code, int(s.Code), s.Message)
}

// Good reports whether a status code is below ErrorLevel: a success or a
// warning, not an error.
func (c StatusCode) Good() bool { return c < ErrorLevel }
