package dendritetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// DendriteVersion is the Dendrite release the harness installs and runs.
const DendriteVersion = "v0.13.8"

// DendriteModule is the Go module Dendrite is installed from.
const DendriteModule = "github.com/matrix-org/dendrite"

// EnvBinDir names an environment variable that, when set, points to a
// directory already holding the four Dendrite binaries; [Install] then uses it
// as is and never runs go install.
const EnvBinDir = "MXINVITE_DENDRITE_BIN_DIR"

// commands are the Dendrite commands the harness needs, in install order.
var commands = []string{"dendrite", "generate-config", "generate-keys", "create-account"}

// stampFile marks a complete install; it is written last, before the
// directory is renamed into place.
const stampFile = "INSTALLED"

// Binaries holds the paths of the installed Dendrite executables.
type Binaries struct {
	Dir            string // directory holding all of them
	Dendrite       string // the homeserver (monolith)
	GenerateConfig string // generate-config
	GenerateKeys   string // generate-keys
	CreateAccount  string // create-account
}

func binariesIn(dir string) Binaries {
	return Binaries{
		Dir:            dir,
		Dendrite:       filepath.Join(dir, "dendrite"),
		GenerateConfig: filepath.Join(dir, "generate-config"),
		GenerateKeys:   filepath.Join(dir, "generate-keys"),
		CreateAccount:  filepath.Join(dir, "create-account"),
	}
}

// goEnv is what Install needs to know from `go env`.
type goEnv struct {
	goBin, modCache, goos, goarch, cgo, proxy string
}

func readGoEnv(ctx context.Context) (goEnv, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return goEnv{}, fmt.Errorf("dendritetest: the go command is not in PATH: %w", err)
	}
	out, err := exec.CommandContext(ctx, goBin, "env", "GOMODCACHE", "GOOS", "GOARCH", "CGO_ENABLED", "GOPROXY").Output()
	if err != nil {
		return goEnv{}, fmt.Errorf("dendritetest: go env: %w", err)
	}
	v := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(v) != 5 || v[0] == "" {
		return goEnv{}, fmt.Errorf("dendritetest: unexpected go env output %q", out)
	}
	e := goEnv{goBin: goBin, modCache: v[0], goos: v[1], goarch: v[2], cgo: v[3], proxy: v[4]}
	if e.cgo != "1" {
		e.cgo = "0"
	}
	return e, nil
}

// cacheDir returns the directory the binaries are (or will be) installed in:
//
//	$(go env GOMODCACHE)/cache/mxinvite-tools/dendrite-v0.13.8/<goos>_<goarch>_cgo<0|1>
//
// It lives in the module cache, not in GOCACHE, because the module cache is
// where Dendrite's sources already are (the binaries are a pure function of
// them), it is shared by every Go version and survives `go clean -cache`,
// GOCACHE=off and per-job GOCACHE directories, and `go clean -modcache` wipes
// binaries and sources together. CI that caches GOMODCACHE caches them too.
//
// CGO_ENABLED is part of the key: with cgo Dendrite links mattn/go-sqlite3 (C
// SQLite, needs gcc), without it modernc.org/sqlite (pure Go). Both work;
// the toolchain's own default (`go env CGO_ENABLED`, 1 when a C compiler is
// found) is used.
func cacheDir(e goEnv) string {
	return filepath.Join(e.modCache, "cache", "mxinvite-tools", "dendrite-"+DendriteVersion,
		e.goos+"_"+e.goarch+"_cgo"+e.cgo)
}

// complete reports whether dir holds a finished install.
func complete(dir string) bool {
	if _, err := os.Stat(filepath.Join(dir, stampFile)); err != nil {
		return false
	}
	for _, c := range commands {
		if fi, err := os.Stat(filepath.Join(dir, c)); err != nil || fi.Mode()&0o111 == 0 {
			return false
		}
	}
	return true
}

// Install makes sure the Dendrite binaries exist and returns their paths. It
// runs `go install github.com/matrix-org/dendrite/cmd/...@v0.13.8` (about 2.5
// min on 2 CPUs the first time) only when [CacheDir] lacks a complete install.
// Concurrent callers (parallel test binaries) are serialised by a lock file;
// the build goes to a temporary directory renamed into place at the end, so
// a killed build never leaves a half-filled cache. logf, if not nil, receives
// progress lines. Cancel ctx to bound the wait.
func Install(ctx context.Context, logf func(format string, args ...any)) (Binaries, error) {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	if dir := os.Getenv(EnvBinDir); dir != "" {
		b := binariesIn(dir)
		for _, p := range []string{b.Dendrite, b.GenerateConfig, b.GenerateKeys, b.CreateAccount} {
			if _, err := os.Stat(p); err != nil {
				return Binaries{}, fmt.Errorf("dendritetest: %s=%s: %w", EnvBinDir, dir, err)
			}
		}
		return b, nil
	}
	e, err := readGoEnv(ctx)
	if err != nil {
		return Binaries{}, err
	}
	dir := cacheDir(e)
	if complete(dir) {
		return binariesIn(dir), nil
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return Binaries{}, fmt.Errorf("dendritetest: %w", err)
	}
	unlock, err := lockDir(ctx, dir+".lock", func() bool { return complete(dir) }, logf)
	if err != nil {
		return Binaries{}, err
	}
	defer unlock()
	if complete(dir) { // another process finished while we waited
		return binariesIn(dir), nil
	}
	logf("dendritetest: installing Dendrite %s into %s (CGO_ENABLED=%s); this takes a few minutes once",
		DendriteVersion, dir, e.cgo)
	start := time.Now()
	if err := build(ctx, e, dir); err != nil {
		return Binaries{}, err
	}
	logf("dendritetest: installed Dendrite %s in %s", DendriteVersion, time.Since(start).Round(time.Second))
	return binariesIn(dir), nil
}

// build runs go install into a temporary directory next to dir, then renames
// it to dir.
func build(ctx context.Context, e goEnv, dir string) error {
	tmp, err := os.MkdirTemp(filepath.Dir(dir), filepath.Base(dir)+".tmp-")
	if err != nil {
		return fmt.Errorf("dendritetest: %w", err)
	}
	defer os.RemoveAll(tmp) // no-op once renamed
	// MkdirTemp makes it 0700; the installed directory should be 0755.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("dendritetest: %w", err)
	}

	args := []string{"install"}
	for _, c := range commands {
		args = append(args, DendriteModule+"/cmd/"+c+"@"+DendriteVersion)
	}
	cmd := exec.CommandContext(ctx, e.goBin, args...)
	cmd.Dir = tmp // outside any module or workspace
	cmd.Env = append(withoutEnv(os.Environ(), "GOBIN", "GOFLAGS", "GOWORK", "CGO_ENABLED"),
		"GOBIN="+tmp, "GOFLAGS=", "GOWORK=off", "CGO_ENABLED="+e.cgo)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("dendritetest: could not build Dendrite %s with `go %s` (GOPROXY=%s; "+
			"is the Go module proxy reachable?): %w\n%s",
			DendriteVersion, strings.Join(args, " "), e.proxy, err, tail(out.String(), 40))
	}
	stamp := fmt.Sprintf("%s@%s CGO_ENABLED=%s installed %s\n", DendriteModule, DendriteVersion, e.cgo,
		time.Now().UTC().Format(time.RFC3339))
	if err := os.WriteFile(filepath.Join(tmp, stampFile), []byte(stamp), 0o644); err != nil {
		return fmt.Errorf("dendritetest: %w", err)
	}
	if err := os.RemoveAll(dir); err != nil { // an incomplete leftover
		return fmt.Errorf("dendritetest: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		if complete(dir) {
			return nil
		}
		return fmt.Errorf("dendritetest: %w", err)
	}
	return nil
}

// lockDir takes the lock file path, created exclusively. While another
// process holds it, it polls until done() is true (that process finished),
// the lock goes away, or the lock's heartbeat is older than a minute (the
// holder died). The holder touches the file every 10 s.
func lockDir(ctx context.Context, path string, done func() bool, logf func(string, ...any)) (unlock func(), err error) {
	const stale = time.Minute
	waiting := false
	for {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err == nil {
			fmt.Fprintf(f, "pid %d\n", os.Getpid())
			f.Close()
			stop := make(chan struct{})
			go func() {
				t := time.NewTicker(10 * time.Second)
				defer t.Stop()
				for {
					select {
					case <-stop:
						return
					case now := <-t.C:
						_ = os.Chtimes(path, now, now)
					}
				}
			}()
			return func() { close(stop); os.Remove(path) }, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("dendritetest: lock %s: %w", path, err)
		}
		if done() {
			return func() {}, nil
		}
		if fi, err := os.Stat(path); err == nil && time.Since(fi.ModTime()) > stale {
			logf("dendritetest: removing stale lock %s", path)
			os.Remove(path)
			continue
		}
		if !waiting {
			logf("dendritetest: another process is installing Dendrite; waiting (lock %s)", path)
			waiting = true
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("dendritetest: waiting for lock %s: %w", path, ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// withoutEnv returns env without the given variables.
func withoutEnv(env []string, names ...string) []string {
	out := env[:0:0]
next:
	for _, kv := range env {
		for _, n := range names {
			if strings.HasPrefix(kv, n+"=") {
				continue next
			}
		}
		out = append(out, kv)
	}
	return out
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
