package simulator_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/internal/simulator/simtest"
)

// Extra accounts used by several tests.
const (
	memberToken   = "member-token"
	memberID      = "@member:sim.local"
	outsiderToken = "outsider-token"
	outsiderID    = "@outsider:sim.local"
)

// testConfig is the default config plus a joined member without invite
// power and an outsider who is in no room.
func testConfig() simulator.Config {
	room := simulator.DefaultRoom()
	room.Members[memberID] = "join"
	return simulator.Config{
		Users: []simulator.User{
			simulator.DefaultUser(),
			{AccessToken: memberToken, UserID: memberID},
			{AccessToken: outsiderToken, UserID: outsiderID},
		},
		Rooms: []simulator.Room{room},
	}
}

// result is a decoded answer.
type result struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any // nil when the body is not a JSON object
}

func (r result) errcode() string {
	s, _ := r.body["errcode"].(string)
	return s
}

// call sends one request with a 5 s deadline; body is JSON-encoded unless
// it is a string, sent as is.
func call(t testing.TB, ts *httptest.Server, method, path, token string, body any) result {
	t.Helper()
	res, err := send(ts, 5*time.Second, method, path, token, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return res
}

// send is call that returns the transport error instead of failing.
func send(ts *httptest.Server, timeout time.Duration, method, path, token string, body any) (result, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			return result{}, err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, ts.URL+path, rd)
	if err != nil {
		return result{}, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	hc := *ts.Client() // a copy: the shared client must not be mutated
	hc.Timeout = timeout
	resp, err := hc.Do(req)
	if err != nil {
		return result{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return result{}, err
	}
	res := result{status: resp.StatusCode, header: resp.Header, raw: raw}
	_ = json.Unmarshal(raw, &res.body)
	return res, nil
}

// encodedRoom percent-encodes a room ID the way libQuotient does, '!' and
// ':' included, so that tests exercise the server's decoding.
func encodedRoom(roomID string) string {
	return strings.NewReplacer("!", "%21", ":", "%3A", "#", "%23").Replace(roomID)
}

// invitePath is the POST invite path for roomID.
func invitePath(roomID string) string {
	return "/_matrix/client/v3/rooms/" + encodedRoom(roomID) + "/invite"
}

// txnPath is the PUT invite path for roomID and txnID.
func txnPath(roomID, txnID string) string {
	return invitePath(roomID) + "/" + txnID
}

// inviteReq is a valid 3PID invite body for address.
func inviteReq(ts *httptest.Server, address string) map[string]string {
	return map[string]string{
		"id_server": simtest.IDServer(ts), "id_access_token": simulator.DefaultIDAccessToken,
		"medium": "email", "address": address,
	}
}

// invite POSTs a 3PID invite of address to the default room as the
// default inviter.
func invite(t testing.TB, ts *httptest.Server, address string) result {
	t.Helper()
	return call(t, ts, "POST", invitePath(simulator.DefaultRoomID), simulator.DefaultAccessToken, inviteReq(ts, address))
}

// wantStatus fails the test unless res has the status and errcode.
func wantStatus(t testing.TB, res result, status int, errcode string) {
	t.Helper()
	if res.status != status || res.errcode() != errcode {
		t.Fatalf("got %d %q (%s), want %d %q", res.status, res.errcode(), res.raw, status, errcode)
	}
}
