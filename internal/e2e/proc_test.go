package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mxinvite/mxinvite/internal/redisserver"
)

// The mxinvite binary, built once per test run into a temporary directory
// that TestMain removes.
var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
	buildTime time.Duration
)

// silentRedisLogger drops go-redis's own connection-pool messages, which
// the Redis restart test would otherwise print by the hundred (the mxinvite
// command silences them the same way).
type silentRedisLogger struct{}

func (silentRedisLogger) Printf(context.Context, string, ...any) {}

func TestMain(m *testing.M) {
	redis.SetLogger(silentRedisLogger{})
	code := m.Run()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// skipShort skips the multi-process tests under -short.
func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("e2e: runs worker processes, Redis and the simulator; skipped with -short")
	}
}

// mxinviteBinary returns the path of the mxinvite binary, building it with
// `go build` on first use (bounded to 5 minutes).
func mxinviteBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "mxinvite-e2e-")
		if buildErr != nil {
			return
		}
		// go test puts $GOROOT/bin first on the test binary's PATH.
		goBin, err := exec.LookPath("go")
		if err != nil {
			buildErr = fmt.Errorf("the go command is not on PATH: %w", err)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		out := filepath.Join(binDir, "mxinvite")
		start := time.Now()
		cmd := exec.CommandContext(ctx, goBin, "build", "-o", out, "github.com/mxinvite/mxinvite/cmd/mxinvite")
		if combined, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/mxinvite: %v\n%s", err, combined)
			return
		}
		buildTime = time.Since(start)
		binPath = out
	})
	if buildErr != nil {
		t.Fatalf("e2e: %v", buildErr)
	}
	return binPath
}

// process is a child process whose stdout and stderr go to files in a
// per-test directory; their tails are printed when the test fails.
type process struct {
	t      *testing.T
	name   string
	cmd    *exec.Cmd
	stdout string // file paths
	stderr string

	exited  chan struct{} // closed once the process has exited
	waitErr error         // set before exited is closed
}

// childEnv is the test's environment without any MXINVITE_* variable (a
// developer's own settings must not change what the tests run), plus extra.
func childEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MXINVITE_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// startProcess starts the mxinvite binary with args. The process is killed
// when the test ends if it is still running.
func startProcess(t *testing.T, logDir, name string, env []string, args ...string) *process {
	t.Helper()
	p := &process{
		t: t, name: name,
		stdout: filepath.Join(logDir, name+".stdout"),
		stderr: filepath.Join(logDir, name+".stderr"),
		exited: make(chan struct{}),
	}
	outF, err := os.Create(p.stdout)
	if err != nil {
		t.Fatal(err)
	}
	errF, err := os.Create(p.stderr)
	if err != nil {
		t.Fatal(err)
	}
	defer outF.Close() // the child has its own copies
	defer errF.Close()
	p.cmd = exec.Command(mxinviteBinary(t), args...)
	p.cmd.Env = childEnv(env...)
	p.cmd.Stdout, p.cmd.Stderr = outF, errF
	p.cmd.SysProcAttr = redisserver.KillWithParent()
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			p.dump()
		}
	})
	return p
}

// running reports whether the process has not exited yet.
func (p *process) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// kill sends SIGKILL and waits for the exit (bounded).
func (p *process) kill() {
	if !p.running() {
		return
	}
	_ = p.cmd.Process.Kill()
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		p.t.Errorf("%s did not exit within 10s of SIGKILL", p.name)
	}
}

// terminate sends SIGTERM and waits up to limit for a clean exit, then kills.
// It returns the exit code (-1 when killed or not exited).
func (p *process) terminate(limit time.Duration) int {
	p.t.Helper()
	if p.running() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
	}
	code, ok := p.wait(limit)
	if !ok {
		p.t.Errorf("%s did not exit within %s of SIGTERM", p.name, limit)
		p.kill()
	}
	return code
}

// wait waits up to limit for the exit; ok is false if it is still running.
func (p *process) wait(limit time.Duration) (code int, ok bool) {
	select {
	case <-p.exited:
	case <-time.After(limit):
		return -1, false
	}
	var ee *exec.ExitError
	switch {
	case p.waitErr == nil:
		return 0, true
	case errors.As(p.waitErr, &ee):
		return ee.ExitCode(), true
	}
	return -1, true
}

// output returns what the process wrote so far, stdout then stderr.
func (p *process) output() (stdout, stderr []byte) {
	stdout, _ = os.ReadFile(p.stdout)
	stderr, _ = os.ReadFile(p.stderr)
	return stdout, stderr
}

// dump logs the tails of the process's output, for diagnostics.
func (p *process) dump() {
	out, errOut := p.output()
	p.t.Logf("--- %s stdout (tail) ---\n%s", p.name, tail(out, 30))
	p.t.Logf("--- %s stderr (tail) ---\n%s", p.name, tail(errOut, 30))
}

func tail(b []byte, lines int) string {
	ls := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(ls) > lines {
		ls = ls[len(ls)-lines:]
	}
	return string(bytes.Join(ls, []byte("\n")))
}

// runCommand runs a short mxinvite command to completion (bounded to 30 s)
// and returns its exit code and output.
func runCommand(t *testing.T, logDir, name string, env []string, args ...string) (code int, stdout, stderr []byte) {
	t.Helper()
	p := startProcess(t, logDir, name, env, args...)
	code, ok := p.wait(30 * time.Second)
	if !ok {
		t.Fatalf("%s did not finish within 30s", name)
	}
	stdout, stderr = p.output()
	return code, stdout, stderr
}

// waitFor polls cond every poll until it holds or limit passes; the loop is
// bounded in count as well as in time. It returns how long it took, or fails
// the test naming what it waited for.
func waitFor(t *testing.T, what string, limit, poll time.Duration, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	deadline := start.Add(limit)
	for i := 0; i <= int(limit/poll)+1; i++ {
		if cond() {
			return time.Since(start)
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(poll)
	}
	t.Fatalf("timed out after %s waiting for %s", limit, what)
	return 0
}
