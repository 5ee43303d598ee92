package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/redistest"
	"github.com/mxinvite/mxinvite/internal/simulator"
)

// startSimulate runs `mxinvite simulate args...` until the test ends and
// returns its guide, once printed.
func startSimulate(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"mxinvite", "simulate", "--listen", "127.0.0.1:0"}, args...), &stdout, &stderr)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("simulate did not stop")
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(stdout.String(), "/_sim/reset") {
		select {
		case code := <-done:
			t.Fatalf("simulate exited %d: %s", code, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no guide printed; stdout %q stderr %q", stdout.String(), stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return stdout.String()
}

// guideCommand returns the arguments of the printed `mxinvite NAME ...`
// line, shell quotes removed.
func guideCommand(t *testing.T, guide, name string) []string {
	t.Helper()
	for _, line := range strings.Split(guide, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "mxinvite "+name+" ") {
			continue
		}
		var args []string
		for _, f := range strings.Fields(strings.TrimPrefix(line, "mxinvite ")) {
			args = append(args, strings.Trim(f, "'"))
		}
		return args
	}
	t.Fatalf("no mxinvite %s line in:\n%s", name, guide)
	return nil
}

func TestSimulatePrintsCommandsThatWork(t *testing.T) {
	dir := t.TempDir()
	guide := startSimulate(t, "--token-dir", dir)
	for _, want := range []string{"--identity-scheme http", simulator.DefaultRoomID, dir + "/access-token"} {
		if !strings.Contains(guide, want) {
			t.Errorf("guide lacks %q:\n%s", want, guide)
		}
	}
	if b, err := os.ReadFile(dir + "/access-token"); err != nil || strings.TrimSpace(string(b)) != simulator.DefaultAccessToken {
		t.Errorf("token file: %q %v", b, err)
	}
	r := redistest.Start(t)
	redisArgs := []string{"--redis", r.URL(), "--prefix", redistest.Unique(t, "mx"), "--queue", redistest.Unique(t, "q")}
	for _, name := range []string{"preflight", "enqueue", "worker"} {
		res := mxinvite(t, append(guideCommand(t, guide, name), redisArgs...)...)
		if res.code != 0 {
			t.Fatalf("%s: exit %d\nstdout:\n%s\nstderr:\n%s", name, res.code, res.stdout, res.stderr)
		}
	}
	// The simulator saw the three sample invites, once each.
	base := guideCommand(t, guide, "worker")[2] // after "worker --homeserver"
	resp, err := http.Get(base + "/_sim/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	_, _ = body.ReadFrom(resp.Body)
	if !strings.Contains(body.String(), `"accepted":3,`) || !strings.Contains(body.String(), `"duplicates":0,`) {
		t.Errorf("stats %s", body.String())
	}
}

func TestSimulateModes(t *testing.T) {
	guide := startSimulate(t, "--v12-room", "--require-terms", "--store-limit", "5/300s", "--no-3pid", "tuwunel", "--admin")
	for _, want := range []string{simulator.NewV12RoomID(simulator.DefaultV12RoomSeed), "terms accepted first", "user_accepts",
		"emails 5 per sender, then one per 5m0s", "no 3PID invites (tuwunel)", "server admin"} {
		if !strings.Contains(guide, want) {
			t.Errorf("guide lacks %q:\n%s", want, guide)
		}
	}
	if args := guideCommand(t, guide, "preflight"); args[len(args)-1] != simulator.NewV12RoomID(simulator.DefaultV12RoomSeed) {
		t.Errorf("preflight room %v", args)
	}
}

func TestSimulateBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--store-limit", "5"}, {"--store-limit", "0/1s"}, {"--store-limit", "5/soon"},
		{"--no-3pid", "dendrite"}, {"--listen", "0.0.0.0:0"},
	} {
		r := mxinvite(t, append([]string{"simulate"}, args...)...)
		if r.code != exitUsage || !strings.Contains(r.stderr, args[0]) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q", args, r.code, r.stderr)
		}
	}
}

// simPost sends a JSON request to a running `mxinvite simulate` and
// decodes the answer.
func simPost(t *testing.T, method, url, token string, body any) (int, map[string]any) {
	t.Helper()
	data, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(method, url, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestSimulateBindingsLimitsAndRefusals(t *testing.T) {
	guide := startSimulate(t, "--bind", "Known@Example.org=@known:sim.local", "--bind", "447700900123=@phone:sim.local",
		"--invite-limits", "1000", "--refuse", "*@spam.example", "--bind-later", "new@example.org=@new:sim.local/1h")
	for _, want := range []string{"2 bound addresses", "1 people register later", "new@example.org -> @new:sim.local after 1h0m0s", "known@example.org -> @known:sim.local", "447700900123 -> @phone:sim.local",
		"rc_invites per room 300/s burst 10, per invitee 3/s burst 5, per issuer 300/s burst 10",
		"identity server refuses *@spam.example", "/_sim/bind", "/_sim/join", "/_sim/rules", "/_sim/invite_limits"} {
		if !strings.Contains(guide, want) {
			t.Errorf("guide lacks %q:\n%s", want, guide)
		}
	}
	base := guideCommand(t, guide, "worker")[2]
	idServer := strings.TrimPrefix(base, "http://")
	invite := base + "/_matrix/client/v3/rooms/" + url.PathEscape(simulator.DefaultRoomID) + "/invite"
	threePID := func(addr string) map[string]string {
		return map[string]string{"id_server": idServer, "id_access_token": simulator.DefaultIDAccessToken, "medium": "email", "address": addr}
	}
	// The identity server maps the bound address, as mxinvite will look it up.
	hash := simulator.HashAddress("known@example.org", "email", simulator.DefaultLookupPepper)
	code, body := simPost(t, "POST", base+"/_matrix/identity/v2/lookup", simulator.DefaultIDAccessToken,
		map[string]any{"algorithm": "sha256", "pepper": simulator.DefaultLookupPepper, "addresses": []string{hash}})
	if m, _ := body["mappings"].(map[string]any); code != 200 || m[hash] != "@known:sim.local" {
		t.Errorf("lookup: %d %v", code, body)
	}
	if code, body := simPost(t, "POST", invite, simulator.DefaultAccessToken, threePID("known@example.org")); code != 200 {
		t.Errorf("3PID invite of the bound address: %d %v", code, body)
	}
	if code, body := simPost(t, "POST", invite, simulator.DefaultAccessToken, map[string]string{"user_id": "@other:sim.local"}); code != 200 {
		t.Errorf("invite by Matrix ID: %d %v", code, body)
	}
	if code, body := simPost(t, "POST", invite, simulator.DefaultAccessToken, threePID("x@spam.example")); code != 500 || body["errcode"] != "M_UNKNOWN" {
		t.Errorf("refused address: %d %v", code, body)
	}
	if code, body := simPost(t, "POST", invite, simulator.DefaultAccessToken, threePID("later@example.org")); code != 200 {
		t.Errorf("3PID invite: %d %v", code, body)
	}
	// The person registers and binds the address later, then joins.
	if code, body := simPost(t, "POST", base+"/_sim/bind", "", map[string]string{"address": "later@example.org", "user_id": "@later:sim.local"}); code != 200 || body["invites"] != float64(1) {
		t.Errorf("/_sim/bind: %d %v", code, body)
	}
	if code, body := simPost(t, "POST", base+"/_sim/join", "", map[string]string{"room_id": simulator.DefaultRoomID, "user_id": "@later:sim.local"}); code != 200 {
		t.Errorf("/_sim/join: %d %v", code, body)
	}
	code, body = simPost(t, "GET", base+"/_matrix/client/v3/rooms/"+url.PathEscape(simulator.DefaultRoomID)+"/joined_members", simulator.DefaultAccessToken, nil)
	if joined, _ := body["joined"].(map[string]any); code != 200 || joined["@later:sim.local"] == nil || len(joined) != 2 {
		t.Errorf("joined_members: %d %v", code, body)
	}
	_, st := simPost(t, "GET", base+"/_sim/stats", "", nil)
	want := map[string]float64{"bound_3pid_invites": 1, "matrix_id_invites": 1, "onbind_invites": 1, "store_invites": 1, "joins": 1, "lookup_matches": 1}
	for k, v := range want {
		if st[k] != v {
			t.Errorf("stats %s = %v, want %v", k, st[k], v)
		}
	}
	if refusals, _ := st["identity_refusals"].(map[string]any); refusals["refused"] != float64(1) {
		t.Errorf("identity_refusals %v", st["identity_refusals"])
	}
}

func TestSimulateNo3PIDLookup(t *testing.T) {
	guide := startSimulate(t, "--no-3pid-lookup")
	if !strings.Contains(guide, "enable_3pid_lookup: false") {
		t.Errorf("guide lacks the mode:\n%s", guide)
	}
	base := guideCommand(t, guide, "worker")[2]
	code, body := simPost(t, "POST", base+"/_matrix/client/v3/rooms/"+url.PathEscape(simulator.DefaultRoomID)+"/invite", simulator.DefaultAccessToken,
		map[string]string{"id_server": strings.TrimPrefix(base, "http://"), "id_access_token": simulator.DefaultIDAccessToken, "medium": "email", "address": "a@example.org"})
	if code != 403 || body["errcode"] != "M_UNKNOWN" {
		t.Errorf("3PID invite: %d %v, want 403 M_UNKNOWN", code, body)
	}
}

func TestSimulateBadScopeFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--bind", "nobody"}, {"--bind", "a@example.org=bob"}, {"--bind", "=@a:sim.local"},
		{"--bind", "a@example.org=@a:sim.local", "--bind", "A@example.org=@b:sim.local"},
		{"--invite-limits", "-1"}, {"--refuse", "["},
		{"--bind-later", "a@example.org=@a:sim.local"}, {"--bind-later", "a@example.org=@a:sim.local/-1s"}, {"--bind-later", "a@example.org=bob/1s"},
	} {
		r := mxinvite(t, append([]string{"simulate"}, args...)...)
		if r.code != exitUsage || !strings.Contains(r.stderr, args[0]) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q", args, r.code, r.stderr)
		}
	}
}

// The guide names the Redis its pasted commands will use: MXINVITE_REDIS
// when set (password hidden), else the default.
func TestSimulateGuideNamesTheRedisOfTheEnvironment(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	if got := guideRedis(getenv); got != "redis://127.0.0.1:6379" {
		t.Errorf("without MXINVITE_REDIS: %q", got)
	}
	env["MXINVITE_REDIS"] = "redis://mx:hunter2@10.0.0.5:6380/2"
	if got := guideRedis(getenv); got != "redis://mx:(REDACTED)@10.0.0.5:6380/2 (from MXINVITE_REDIS)" {
		t.Errorf("with MXINVITE_REDIS: %q", got)
	}
}
