package dendritetest

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/redisserver"
)

// Options configure [Start]. The zero value runs without rate limiting.
type Options struct {
	// RateLimit turns on client_api.rate_limiting: per access token (device),
	// Threshold requests per CooloffMS on the limited endpoints (invite,
	// join, login...), then 429 M_LIMIT_EXCEEDED. Admins are never limited.
	RateLimit bool
	Threshold int // default 5 (Dendrite's default)
	CooloffMS int // default 500 (Dendrite's default)
	// RateLimitExempt lists user IDs exempt from rate limiting.
	RateLimitExempt []string
	// IdentityFails makes the identity server's store-invite answer 500 from
	// the start (see IdentityServer.SetFail to change it later).
	IdentityFails bool
	// ServerName is global.server_name; default "localhost".
	ServerName string
	// ExtraTrustedIDServers are listed in trusted_third_party_id_servers
	// besides the harness identity server.
	ExtraTrustedIDServers []string
	// LogLevel is Dendrite's log level: "info" (default), "debug", "trace"...
	LogLevel string
	// StartTimeout bounds the wait for Dendrite to answer; default 60 s.
	StartTimeout time.Duration
}

// Homeserver is a running Dendrite with its identity server.
type Homeserver struct {
	// URL is the client-server API base URL, "http://127.0.0.1:<port>".
	URL string
	// ServerName is the Matrix server name (user IDs are @name:ServerName).
	ServerName string
	// IDServer is the id_server value invites must send ("127.0.0.1:<port>"),
	// the only entry (with Options.ExtraTrustedIDServers) Dendrite trusts.
	IDServer string
	// Identity is the identity server Dendrite calls.
	Identity *IdentityServer
	// Dir holds the configuration, key, databases and log.
	Dir string
	// ConfigPath is the dendrite.yaml in use.
	ConfigPath string
	// LogPath receives Dendrite's stdout and stderr; its tail is printed
	// when the test fails.
	LogPath string
	// StartupTime is how long Dendrite took from exec to answering
	// /_matrix/client/versions.
	StartupTime time.Duration
	// Binaries are the executables in use.
	Binaries Binaries

	sharedSecret string
	client       *http.Client
	cmd          *exec.Cmd
	exited       chan struct{} // closed when the process has exited
	waitErr      error         // set before exited is closed
}

// Start installs Dendrite if needed (see [Install]), starts an
// [IdentityServer] and a Dendrite homeserver trusting it, waits until the
// client API answers, and registers cleanups that stop both and, if the test
// failed, print the tail of Dendrite's log. It skips the test with -short.
func Start(t testing.TB, opts Options) *Homeserver {
	t.Helper()
	if testing.Short() {
		t.Skip("dendritetest: runs a real Dendrite homeserver; skipped with -short")
	}
	if opts.Threshold == 0 {
		opts.Threshold = 5
	}
	if opts.CooloffMS == 0 {
		opts.CooloffMS = 500
	}
	if opts.ServerName == "" {
		opts.ServerName = "localhost"
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 60 * time.Second
	}
	bins := EnsureInstalled(t)

	is := NewIdentityServer(t)
	is.SetFail(opts.IdentityFails)

	h := &Homeserver{
		ServerName:   opts.ServerName,
		IDServer:     is.Name,
		Identity:     is,
		Dir:          t.TempDir(),
		Binaries:     bins,
		sharedSecret: randomToken(),
		client:       &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{Proxy: nil}},
	}
	h.LogPath = filepath.Join(h.Dir, "dendrite.log")
	ctx, cancel := context.WithTimeout(context.Background(), opts.StartTimeout)
	defer cancel()
	var err error
	h.ConfigPath, err = writeConfig(ctx, bins, h.Dir, configParams{
		ServerName:   opts.ServerName,
		TrustedIDs:   append([]string{is.Name}, opts.ExtraTrustedIDServers...),
		SharedSecret: h.sharedSecret,
		RateLimit:    opts.RateLimit,
		Threshold:    opts.Threshold,
		CooloffMS:    opts.CooloffMS,
		ExemptUsers:  opts.RateLimitExempt,
		LogLevel:     opts.LogLevel,
	})
	if err != nil {
		t.Fatalf("dendritetest: config: %v", err)
	}
	t.Cleanup(func() {
		h.stop(t)
		h.client.CloseIdleConnections()
		if t.Failed() {
			h.dumpLogs(t)
		}
	})
	// A free port found by listening on :0 can be taken by someone else
	// before Dendrite binds it: retry a few times on "address already in use".
	for attempt := 1; ; attempt++ {
		err = h.launch(ctx)
		if err == nil || attempt == 3 || !strings.Contains(h.readLog(), "address already in use") {
			break
		}
	}
	if err != nil {
		t.Fatalf("dendritetest: %v\n--- %s (tail) ---\n%s", err, h.LogPath, tail(h.readLog(), 40))
	}
	return h
}

// EnsureInstalled runs [Install] with a 15-minute bound, logging progress to
// t, and fails the test (never skips it) if the build fails.
func EnsureInstalled(t testing.TB) Binaries {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	bins, err := Install(ctx, t.Logf)
	if err != nil {
		t.Fatalf("dendritetest: cannot install Dendrite %s, which this test needs "+
			"(pre-install with `go run ./internal/dendritetest/cmd/install-dendrite`): %v", DendriteVersion, err)
	}
	return bins
}

// launch starts the process on a fresh port and waits until it answers.
func (h *Homeserver) launch(ctx context.Context) error {
	p, err := redisserver.FreePort()
	if err != nil {
		return err
	}
	port := strconv.Itoa(p)
	h.URL = "http://127.0.0.1:" + port
	logf, err := os.Create(h.LogPath)
	if err != nil {
		return err
	}
	defer logf.Close() // the child has its own copy
	cmd := exec.Command(h.Binaries.Dendrite,
		"-config", h.ConfigPath,
		"-http-bind-address", "127.0.0.1:"+port,
		"-https-bind-address", "127.0.0.1:0", // unused without -tls-cert
	)
	cmd.Dir = h.Dir
	cmd.Stdout, cmd.Stderr = logf, logf
	// Only the test CA is trusted: SSL_CERT_DIR would add the system's.
	cmd.Env = append(withoutEnv(os.Environ(), "SSL_CERT_FILE", "SSL_CERT_DIR", "PPROFLISTEN"),
		"SSL_CERT_FILE="+h.Identity.CAFile)
	cmd.SysProcAttr = redisserver.KillWithParent()
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start dendrite: %w", err)
	}
	h.cmd, h.exited = cmd, make(chan struct{})
	go func(exited chan struct{}) {
		h.waitErr = cmd.Wait()
		close(exited)
	}(h.exited)

	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, h.URL+"/_matrix/client/versions", nil)
		if resp, err := h.client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				h.StartupTime = time.Since(start)
				return nil
			}
		}
		select {
		case <-h.exited:
			return fmt.Errorf("dendrite exited during start-up: %v", h.waitErr)
		case <-ctx.Done():
			h.kill()
			return fmt.Errorf("dendrite did not answer %s/_matrix/client/versions within the start timeout: %w", h.URL, ctx.Err())
		case <-tick.C:
		}
	}
}

// stop sends SIGTERM, then SIGKILL after 5 s.
func (h *Homeserver) stop(t testing.TB) {
	if h.cmd == nil {
		return
	}
	select {
	case <-h.exited:
		return
	default:
	}
	_ = h.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-h.exited:
	case <-time.After(5 * time.Second):
		t.Logf("dendritetest: dendrite did not stop within 5 s of SIGTERM; killing it")
		h.kill()
	}
}

func (h *Homeserver) kill() {
	_ = h.cmd.Process.Kill()
	select {
	case <-h.exited:
	case <-time.After(5 * time.Second):
	}
}

func (h *Homeserver) readLog() string {
	b, _ := os.ReadFile(h.LogPath)
	return string(b)
}

func (h *Homeserver) dumpLogs(t testing.TB) {
	t.Logf("--- dendrite log %s (last 60 lines) ---\n%s", h.LogPath, tail(h.readLog(), 60))
	if s := h.Identity.serverErrors(); s != "" {
		t.Logf("--- identity server errors ---\n%s", s)
	}
}
