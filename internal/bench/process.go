package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mxinvite/mxinvite/internal/redisserver"
)

// child is an mxinvite process started by the bench. Its stdout and stderr
// go to files in the scratch directory, so a chatty child cannot block on a
// full pipe and its output can be read after it exits.
type child struct {
	name           string
	cmd            *exec.Cmd
	stdout, stderr string // file paths
	start          time.Time
	cancel         context.CancelFunc

	// floorKiB is this process's own peak RSS when the child started; see
	// peakRSS for why it matters.
	floorKiB int64
	hwmKiB   atomic.Int64  // the child's VmHWM, polled while it runs
	exited   chan struct{} // stops the polling
	polled   chan struct{} // closed when the polling has stopped
}

// exit is how a child ended.
type exit struct {
	wall      time.Duration
	maxRSSKiB int64         // the child's peak resident set, KiB (see peakRSS)
	rssSource string        // how maxRSSKiB was read
	cpu       time.Duration // user + system
	code      int           // -1 when killed by a signal
	err       error         // nil on exit status 0
	stdout    string
	stderr    string
}

// startChild runs the mxinvite binary with args; it is killed if it runs
// longer than limit. extraEnv is added to an environment stripped of
// MXINVITE_* variables (a developer's own settings must not change the run).
func (e *env) startChild(ctx context.Context, name string, limit time.Duration, extraEnv []string, args ...string) (*child, error) {
	if e.bin == "" {
		return nil, fmt.Errorf("no mxinvite binary: %w", e.binErr)
	}
	dir := e.dir
	if d := os.Getenv("MXINVITE_BENCH_LOG"); d != "" {
		dir = d // kept after the run, for finding out why a row missed its goal
	}
	c := &child{
		name:   name,
		stdout: filepath.Join(dir, name+".stdout"),
		stderr: filepath.Join(dir, name+".stderr"),
	}
	outF, err := os.Create(c.stdout)
	if err != nil {
		return nil, err
	}
	defer outF.Close() // the child has its own copy
	errF, err := os.Create(c.stderr)
	if err != nil {
		return nil, err
	}
	defer errF.Close()
	var cctx context.Context
	cctx, c.cancel = context.WithTimeout(ctx, limit)
	c.cmd = exec.CommandContext(cctx, e.bin, args...)
	c.cmd.Env = childEnv(extraEnv)
	c.cmd.Stdout, c.cmd.Stderr = outF, errF
	// The child dies with the bench, even if the bench is killed.
	c.cmd.SysProcAttr = redisserver.KillWithParent()
	c.floorKiB = selfMaxRSS()
	c.exited, c.polled = make(chan struct{}), make(chan struct{})
	c.start = time.Now()
	if err := c.cmd.Start(); err != nil {
		c.cancel()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go c.pollHWM()
	return c, nil
}

// hwmPoll is how often a child's VmHWM is read.
const hwmPoll = 10 * time.Millisecond

// pollHWM records the child's VmHWM until it exits.
func (c *child) pollHWM() {
	defer close(c.polled)
	path := fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid)
	for {
		if v := procField(path, "VmHWM"); v != "" { // "12345 kB"; gone once the child exits
			if kib, err := strconv.ParseInt(strings.TrimSuffix(v, " kB"), 10, 64); err == nil && kib > c.hwmKiB.Load() {
				c.hwmKiB.Store(kib)
			}
		}
		select {
		case <-c.exited:
			return
		case <-time.After(hwmPoll):
		}
	}
}

// wait waits for the child to end and reads what it left.
func (c *child) wait() exit {
	err := c.cmd.Wait()
	x := exit{wall: time.Since(c.start), err: err, code: -1}
	c.cancel()
	close(c.exited)
	<-c.polled
	if st := c.cmd.ProcessState; st != nil {
		x.code = st.ExitCode()
		x.cpu = st.UserTime() + st.SystemTime()
		if ru, ok := st.SysUsage().(*syscall.Rusage); ok {
			x.maxRSSKiB, x.rssSource = c.peakRSS(ru.Maxrss)
		}
	}
	x.stdout = readTail(c.stdout, 64<<10)
	x.stderr = readTail(c.stderr, 64<<10)
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && x.code > 0 {
			x.err = fmt.Errorf("%s exited %d: %s", c.name, x.code, lastLine(x.stderr))
		} else {
			x.err = fmt.Errorf("%s: %v (after %s)", c.name, err, x.wall.Round(time.Millisecond))
		}
	}
	return x
}

// peakRSS picks the child's peak RSS. On Linux, ru_maxrss of a child is
// never below the peak RSS of the process that started it: Go starts
// children with vfork semantics, and exec folds the high-water mark of the
// address space it leaves (the bench's) into the child's record
// (golang/go#32054). So ru_maxrss is the child's own figure only when it
// is above the bench's peak at spawn time; otherwise the child's VmHWM,
// polled while it ran, is used (it may miss growth in the last poll
// interval before exit).
func (c *child) peakRSS(maxrss int64) (int64, string) {
	if maxrss > c.floorKiB {
		return maxrss, "ru_maxrss"
	}
	return c.hwmKiB.Load(), fmt.Sprintf("VmHWM polled every %s (ru_maxrss %s is the bench's own peak, inherited through vfork+exec: golang/go#32054)",
		hwmPoll, fmtMB(maxrss))
}

// selfMaxRSS is this process's peak RSS so far, KiB.
func selfMaxRSS() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Maxrss
}

// childEnv is the bench's environment without MXINVITE_*, plus extra.
func childEnv(extra []string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MXINVITE_") {
			out = append(out, kv)
		}
	}
	return append(out, extra...)
}

// readTail returns the last max bytes of a file ("" if it cannot be read).
func readTail(path string, max int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > max {
		_, _ = f.Seek(st.Size()-max, 0)
	}
	b, _ := io.ReadAll(io.LimitReader(f, max))
	return string(b)
}
