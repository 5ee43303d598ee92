package matrix

import (
	"strings"
	"testing"
	"time"
)

// FuzzParseErrorResponse drives the answer classifier (status, Content-Type,
// Retry-After header, body) with arbitrary input: it must not panic, must
// set a known code, and must keep any delay within [0, ceiling].
func FuzzParseErrorResponse(f *testing.F) {
	seeds := []struct {
		status      int
		contentType string
		retryAfter  string
		body        string
	}{
		{200, "application/json", "", "{}"},
		{200, "text/html", "", "<html>"},
		{403, "application/json", "", `{"errcode":"M_FORBIDDEN","error":"no"}`},
		{429, "application/json", "30", `{"errcode":"M_LIMIT_EXCEEDED","retry_after_ms":1500}`},
		{429, "", "", ""},
		{429, "", "Wed, 21 Oct 2015 07:28:00 GMT", ""},
		{429, "application/json", "-1", `{"errcode":"M_LIMIT_EXCEEDED","retry_after_ms":-5}`},
		{429, "application/json; charset=utf-8", "99999999999999999999", `{"retry_after_ms":1e400}`},
		{400, "application/problem+json", "", `{"errcode":"M_LIMIT_EXCEEDED","retry_after_ms":1000000000000}`},
		{403, "", "", `{"errcode":"M_CONSENT_NOT_GIVEN","error":"x","consent_uri":"https://c"}`},
		{500, "application/json", "", `{"Err":""}`},
		{404, "application/json; charset", "", `{"errcode":"M_UNRECOGNIZED"}`},
		{0, "\x00;;=", "+", "\xff\xfe"},
		{-1, "application/json", "1", `{"errcode":7,"error":null,"retry_after_ms":"x"}`},
	}
	for _, s := range seeds {
		f.Add(s.status, s.contentType, s.retryAfter, []byte(s.body))
	}
	const ceiling = time.Hour
	const fallback = 2 * time.Second
	f.Fuzz(func(t *testing.T, status int, contentType, retryAfter string, body []byte) {
		v := classifyAnswer(answer{status: status, contentType: contentType, retryAfter: retryAfter, body: body},
			delayPolicy{now: time.Now(), fallback: fallback, ceiling: ceiling})
		if strings.HasPrefix(v.code.String(), "StatusCode(") {
			t.Fatalf("unnamed code %v", v.code)
		}
		if v.retryAfter < 0 || v.retryAfter > ceiling {
			t.Fatalf("delay %v outside [0, %v]", v.retryAfter, ceiling)
		}
		if v.code != TooManyRequests && v.retryAfter != 0 {
			t.Fatalf("delay %v on %v", v.retryAfter, v.code)
		}
		success := status >= 200 && status <= 299
		switch {
		case success && v.code != Success && v.code != IncorrectResponse:
			t.Fatalf("2xx gave %v", v.code)
		case !success && v.code < ErrorLevel:
			t.Fatalf("HTTP %d gave the good code %v", status, v.code)
		case status == 429 && v.code != TooManyRequests:
			t.Fatalf("429 gave %v", v.code)
		case !success && v.message == "":
			t.Fatalf("HTTP %d gave an empty message", status)
		case v.errCode == MLimitExceeded && !success && v.code != TooManyRequests:
			t.Fatalf("M_LIMIT_EXCEEDED gave %v", v.code)
		}
	})
}
