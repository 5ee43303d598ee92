package matrix

import "testing"

func TestAmbiguous(t *testing.T) {
	tests := []struct {
		name string
		o    Outcome
		want bool
	}{
		{"never sent", Outcome{Status: Status{Code: NetworkError}}, false},
		{"success", Outcome{Status: Status{Code: Success}, HTTPStatus: 200, Requests: 1}, false},
		{"500", Outcome{Status: Status{Code: NetworkError}, HTTPStatus: 500, Requests: 1}, true},
		{"502 with M_LIMIT_EXCEEDED", Outcome{Status: Status{Code: TooManyRequests}, HTTPStatus: 502, Requests: 1}, true},
		{"501: not processed", Outcome{Status: Status{Code: RequestNotImplemented}, HTTPStatus: 501, Requests: 1}, false},
		{"503: not processed", Outcome{Status: Status{Code: NetworkError}, HTTPStatus: 503, Requests: 1}, false},
		{"504: the upstream may have acted", Outcome{Status: Status{Code: NetworkError}, HTTPStatus: 504, Requests: 1}, true},
		{"timeout before sending", Outcome{Status: Status{Code: Timeout}}, false},
		{"timeout, no answer", Outcome{Status: Status{Code: Timeout}, Requests: 1}, true},
		{"timeout in a 403 body", Outcome{Status: Status{Code: Timeout}, HTTPStatus: 403, Requests: 1}, false},
		{"reset after write", Outcome{Status: Status{Code: NetworkError}, Requests: 1}, true},
		{"unfollowed 3xx", Outcome{Status: Status{Code: NetworkError}, HTTPStatus: 302, Requests: 1}, false},
		{"odd 4xx", Outcome{Status: Status{Code: NetworkError}, HTTPStatus: 499, Requests: 1}, false},
		{"abandoned in flight", Outcome{Status: Status{Code: Abandoned}, Requests: 1}, true},
		{"abandoned before sending", Outcome{Status: Status{Code: Abandoned}}, false},
		{"bad JSON on 2xx", Outcome{Status: Status{Code: IncorrectResponse}, HTTPStatus: 200, Requests: 1}, true},
		{"oversized 403", Outcome{Status: Status{Code: IncorrectResponse}, HTTPStatus: 403, Requests: 1}, false},
		{"403", Outcome{Status: Status{Code: ContentAccessError}, HTTPStatus: 403, Requests: 1}, false},
		{"429", Outcome{Status: Status{Code: TooManyRequests}, HTTPStatus: 429, Requests: 1}, false},
	}
	for _, tt := range tests {
		if got := tt.o.Ambiguous(); got != tt.want {
			t.Errorf("%s: Ambiguous = %v, want %v", tt.name, got, tt.want)
		}
	}
}
