package main

import (
	"fmt"
	"strings"
	"time"
)

// row is one line of the table.
type row struct {
	id       string // P1a, P2b, …
	what     string
	measured string
	goal     string // "—" for reference figures without a goal
	met      string // "met", "MISSED", or "—" / "n/a"
	notes    string // parameters, and anything odd seen while measuring
}

// Values of the "met?" column.
const (
	metYes = "met"
	metNo  = "MISSED"
	metNA  = "n/a" // no figure (not available, failed)
	noGoal = "—"   // a reference figure: nothing to meet
)

func verdict(ok bool) string {
	if ok {
		return metYes
	}
	return metNo
}

// reference is a measured figure without a goal of its own (an input of a
// ratio, a baseline).
func reference(id, what, measured, notes string) row {
	return row{id: id, what: what, measured: measured, goal: noGoal, met: noGoal, notes: notes}
}

// failed is a row whose measurement could not be made.
func failed(id, what, goal string, err error) row {
	return row{id: id, what: what, measured: "failed: " + oneLine(err.Error()), goal: goal, met: metNA}
}

// print shows a row as the run goes.
func (r row) print() {
	fmt.Printf("   %-4s %-52s %-28s goal %-12s %s\n", r.id, r.what, r.measured, r.goal, r.met)
}

// printed prints rows as they are measured and returns them.
func printed(rows ...row) []row {
	for _, r := range rows {
		r.print()
	}
	return rows
}

// report is the whole output.
type report struct {
	machine  machine
	rows     []row
	elapsed  time.Duration
	profiles []profileSummary
}

// table is the rows as a Markdown table.
func (r report) table() string {
	var b strings.Builder
	b.WriteString("| row | what | measured | goal | met? | notes |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	for _, x := range r.rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n",
			cell(x.id), cell(x.what), cell(x.measured), cell(x.goal), cell(x.met), cell(x.notes))
	}
	return b.String()
}

// markdown is the file written by -out.
func (r report) markdown() string {
	m := r.machine
	var b strings.Builder
	b.WriteString("# Benchmarks\n\n")
	b.WriteString("Written by `make bench` (`go run ./internal/bench -out docs/BENCHMARKS.md`). Every row was measured\n")
	b.WriteString("in the same run, on the machine below, against a private redis-server started by the bench\n")
	b.WriteString("(no persistence) and the in-process simulator on loopback. Figures vary from run to run and\n")
	b.WriteString("machine to machine; rerun rather than compare with another machine's table.\n\n")
	b.WriteString("## Machine\n\n")
	fmt.Fprintf(&b, "- CPU: %s, %d cores\n", m.cpu, m.cores)
	fmt.Fprintf(&b, "- Memory: %s\n", m.memory)
	fmt.Fprintf(&b, "- Linux %s\n", m.kernel)
	fmt.Fprintf(&b, "- Go: %s\n", m.goVersion)
	fmt.Fprintf(&b, "- redis-server: %s\n", m.redisVersion)
	fmt.Fprintf(&b, "- Date: %s\n", m.date.Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "- Code: %s\n", m.code)
	fmt.Fprintf(&b, "- INFO commandstats counts the commands run inside Lua scripts: %s\n", m.scriptCounting)
	fmt.Fprintf(&b, "- Load average (1, 5, 15 min) at the start: %s; at the end: %s\n", m.loadStart, loadAvg())
	fmt.Fprintf(&b, "- Bench run time: %s\n\n", r.elapsed.Round(time.Second))
	b.WriteString("## Results\n\n")
	b.WriteString(r.table())
	b.WriteString("\n")
	b.WriteString(profilesMarkdown(r.profiles))
	b.WriteString(methodNotes)
	return b.String()
}

// methodNotes say how the rows are measured, once, instead of in every row.
const methodNotes = `## How the rows are measured

- Throughput clocks (P1) start when the server starts, after every task is enqueued, and stop
  when the last result is persisted: for mxinvite when the campaign's done counter reaches the
  number of invites (polled every 10 ms, one HGETALL), for bare asynq when the last handler call
  returns. The queue is then checked idle, outside the clock.
- "per invite" figures in the notes come from Redis INFO (commandstats: commands run, those inside
  Lua scripts included; used_cpu_*) and getrusage, over the measured interval. Other work on the
  machine (see the load average) slows every row; the CPU figures are less sensitive to it than
  the rates.
- Peak RSS is the child process's ru_maxrss (Linux, KiB) from wait4 when it exceeds the bench's own
  peak at spawn time; otherwise the child's VmHWM polled every 10 ms. On Linux a child's ru_maxrss
  is never below its parent's peak RSS (Go spawns with vfork semantics and exec keeps the old
  address space's high-water mark; golang/go#32054), so after the in-process rows it would report
  the bench's size, not the child's.
- Rate-limit efficiency (P3) counts the burst: a Synapse-style token bucket allows
  burst + rate × t invites in t seconds from the first request, so the achieved rate is
  (accepted − burst) ÷ (last acceptance − first acceptance), compared with the allowed rate.
- Early requests (P3) are the simulator's own count, strict (no slack for requests in flight).
  I11e allows 10 ms after a 429 leaves (its scaled limit answers after 0.5 ms, not Synapse's
  500 ms): a request arriving that soon was sent while the answer was on its way, and the row
  says how many did (the simulator's CrossedRequests).
- Retry lateness (P4) is the arrival of an invite's retry minus (time its 429 was written +
  the advised retry_after_ms), measured in a middleware in front of the simulator. P4a/P4b
  measure the waits with the senders' lane servers running (a first invite per sender went
  through, unlimited, before); P4c starts the worker with the invites queued, so all 500
  lane servers start inside the window (each asynq server's first heartbeat, forwarder,
  recoverer and subscriber connection): the price of a cold start, once per lane.
- The naive handler (P1n) is the one a user would write instead of mxinvite's worker: an asynq
  handler that POSTs the invite to the same simulator and HSETs the HTTP status; no retries, no
  record of progress, no counters, no stream. P1a, P1n and P1b run one after another against
  the same Redis (emptied between them), at the same concurrency.
- Redis per invite (R1, R2) counts every command Redis ran during P1a, asynq's own included
  (INFO commandstats; a start-up check makes sure commands run inside Lua scripts are counted),
  and redis-server's CPU (used_cpu_user + used_cpu_sys), each divided by the invites, against
  bare asynq's per task in P1b.
- Redis memory (M1, M2) is INFO memory's used_memory before P1a's invites are enqueued, after,
  and once every invite is final and the worker stopped, divided by the invites: every structure
  (keys, values, Redis's per-key overhead, asynq's task), nothing sampled. The MEMORY USAGE
  breakdown in the notes is per structure (records and tasks: the mean of 200).
- Control at scale (C) runs mxinvite retry, cancel and purge as child processes on a
  20,000- and a 200,000-invite campaign (imported with mxinvite enqueue, finished by an
  in-process worker whose sender has no identity server: IncorrectRequest without a request),
  in that order on the same campaigns; each is cut after 15 s and then reported with the share
  it did (read from Redis) and the time that extrapolates to.
- The I11 rows (issue 11) wait on simulated limits, not on the CPU: they run in the background,
  on a redis-server of their own, while the other rows run. Their CPU use is small (a few
  requests a second) but not nothing: the other rows' figures include it.
`

// cell keeps a value from breaking the Markdown table.
func cell(s string) string {
	if s == "" {
		return " "
	}
	return strings.ReplaceAll(oneLine(s), "|", `\|`)
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// lastLine is the last non-empty line of s (a command's error, usually).
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// Number formatting for the table.

func fmtInt(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + fmtInt(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func fmtRate(n int64, d time.Duration) string {
	return fmtInt(int64(rate(n, d))) + "/s"
}

func rate(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

func fmtMs(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

// fmtMB shows KiB as megabytes (10^6 bytes), the unit of the goals.
func fmtMB(kib int64) string { return fmt.Sprintf("%.1f MB", float64(kib)*1024/1e6) }
