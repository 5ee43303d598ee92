package matrix

import (
	"errors"
	"testing"
)

func TestStatusCodeNamesAndNumbers(t *testing.T) {
	tests := []struct {
		code   StatusCode
		number int
		name   string
	}{
		{Success, 0, "Success"}, {NoError, 0, "Success"}, {Pending, 1, "Pending"},
		{WarningLevel, 20, "WarningLevel"}, {UnexpectedResponseType, 21, "UnexpectedResponseType"},
		{Unprepared, 25, "Unprepared"}, {Abandoned, 50, "Abandoned"}, {ErrorLevel, 100, "ErrorLevel"},
		{NetworkError, 101, "NetworkError"}, {Timeout, 102, "Timeout"}, {Unauthorised, 103, "Unauthorised"},
		{ContentAccessError, 104, "ContentAccessError"}, {NotFound, 105, "NotFound"},
		{IncorrectRequest, 106, "IncorrectRequest"}, {IncorrectResponse, 107, "IncorrectResponse"},
		{TooManyRequests, 108, "TooManyRequests"}, {RateLimited, 108, "TooManyRequests"},
		{RequestNotImplemented, 109, "RequestNotImplemented"}, {UnsupportedRoomVersion, 110, "UnsupportedRoomVersion"},
		{NetworkAuthRequired, 111, "NetworkAuthRequired"}, {UserConsentRequired, 112, "UserConsentRequired"},
		{CannotLeaveRoom, 113, "CannotLeaveRoom"}, {UserDeactivated, 114, "UserDeactivated"},
		{FileError, 115, "FileError"}, {AccountLocked, 116, "AccountLocked"}, {UserDefinedError, 256, "UserDefinedError"},
	}
	for _, tt := range tests {
		if int(tt.code) != tt.number || tt.code.String() != tt.name {
			t.Errorf("%d %q: got %d %q", tt.number, tt.name, int(tt.code), tt.code.String())
		}
		if parsed, err := ParseStatusCode(tt.name); err != nil || parsed != tt.code {
			t.Errorf("ParseStatusCode(%q) = %v, %v", tt.name, parsed, err)
		}
	}
	if got := StatusCode(300).String(); got != "StatusCode(300)" {
		t.Errorf("unknown code String() = %q", got)
	}
}

func TestParseStatusCode(t *testing.T) {
	good := map[string]StatusCode{
		"toomanyrequests": TooManyRequests, "RATELIMITED": TooManyRequests, "RateLimited": RateLimited,
		"noerror": Success, " NotFound ": NotFound, "108": TooManyRequests, "0": Success, "300": 300,
		"StatusCode(300)": 300, "StatusCode(7)": 7, "unauthorised": Unauthorised,
	}
	for in, want := range good {
		if got, err := ParseStatusCode(in); err != nil || got != want {
			t.Errorf("ParseStatusCode(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "Unauthorized", "-1", "1.5", "StatusCode(x)", "Teapot"} {
		if _, err := ParseStatusCode(bad); !errors.Is(err, ErrUnknownStatusCode) {
			t.Errorf("ParseStatusCode(%q) err = %v", bad, err)
		}
	}
}

func TestStatus(t *testing.T) {
	for code, good := range map[StatusCode]bool{Success: true, Abandoned: true, UnexpectedResponseType: true, ErrorLevel: false, NetworkError: false, UserDefinedError: false} {
		if (Status{Code: code}).Good() != good {
			t.Errorf("%v Good() != %v", code, good)
		}
	}
	if got := (Status{Code: NotFound, Message: "Unknown room"}).String(); got != "NotFound (105): Unknown room" {
		t.Errorf("String() = %q", got)
	}
	if got := (Status{}).String(); got != "Success (0)" {
		t.Errorf("String() = %q", got)
	}
}
