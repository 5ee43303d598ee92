package main

import (
	"bytes"
	"context"
	"net/http"
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
