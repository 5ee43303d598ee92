package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/simulator"
)

// `mxinvite dashboard` refuses a non-loopback address without a token (exit
// 2, before it listens) and a short token; on loopback it serves the
// campaigns of its Redis until stopped, then exits 0.
func TestDashboardCommand(t *testing.T) {
	e := newCLIEnv(t, simulator.Config{})
	for _, args := range [][]string{
		{"dashboard", "--http", "0.0.0.0:0"},
		{"dashboard", "--http", ":0"},
		{"dashboard", "--http", "[::]:0"},
	} {
		r := mxinvite(t, join(args, e.redisArgs())...)
		if r.code != exitUsage || !strings.Contains(r.stderr, "--dashboard-token-file") {
			t.Errorf("%v: exit %d, stderr %q; want 2 naming --dashboard-token-file", args, r.code, r.stderr)
		}
	}
	short := e.file("short", "abc")
	if r := mxinvite(t, join([]string{"dashboard", "--http", "127.0.0.1:0", "--dashboard-token-file", short}, e.redisArgs())...); r.code != exitUsage || !strings.Contains(r.stderr, "at least 16") {
		t.Errorf("short token: exit %d, stderr %q", r.code, r.stderr)
	}

	list := e.file("list.txt", "a@example.org\n")
	if r := mxinvite(t, join([]string{"enqueue", "--room", simulator.DefaultRoomID, "--campaign", "cli-spring", "--file", list, "--no-preflight"}, e.redisArgs())...); r.code != 0 {
		t.Fatalf("enqueue: %d %s", r.code, r.stderr)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, join([]string{"mxinvite", "dashboard", "--http", addr}, e.redisArgs()), &stdout, &stderr)
	}()
	var body string
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get("http://" + addr + "/api/campaigns")
		if err == nil {
			b, _ := io.ReadAll(res.Body)
			_ = res.Body.Close()
			if res.StatusCode == 200 {
				body = string(b)
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("dashboard not answering on %s: %v; stderr %q", addr, err, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(body, `"name":"cli-spring"`) || !strings.Contains(body, `"enqueued":1`) {
		t.Errorf("/api/campaigns = %s", body)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("dashboard exit %d on stop, stderr %q", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("dashboard did not stop")
	}
	if !strings.Contains(stdout.String(), "dashboard on http://"+addr+"/") {
		t.Errorf("stdout %q", stdout.String())
	}
}
