package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mxinvite/mxinvite/internal/producer"
	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/matrix"
	"github.com/mxinvite/mxinvite/tasks"
	"github.com/mxinvite/mxinvite/worker"
	"github.com/rs/zerolog"
)

// Issue 20: waits belong to their owner.
const (
	i20Plain         = 80
	i20Concurrency   = 10
	i20Latency       = 50 * time.Millisecond // each answer: 80 alone take ~0.4 s
	i20SynapsePause  = 500 * time.Millisecond
	i20PopularAdvice = 2 * time.Minute
	i20RatioGoal     = 1.5
	i20Refused       = 6
	i20RefusedGoal   = 30 * time.Second
	i20LateGoal      = 50 * time.Millisecond
	i20Limit         = 2 * time.Minute
)

// runI20 measures how long 80 plain invites take alone and beside two
// invitees limited for minutes (I20a), six adjacent always-refused
// addresses among 80 (I20b), and the lateness of each wait of a campaign
// whose addresses all have their own answers (I20c).
func runI20(ctx context.Context, e *env) []row {
	rows := runI20a(ctx, e)
	_ = e.flush(ctx)
	rows = append(rows, runI20b(ctx, e)...)
	_ = e.flush(ctx)
	return append(rows, runI20c(ctx, e)...)
}

// i20Run runs one in-process worker over addresses until want of them are
// final (or limit); it returns the time from start to then.
func i20Run(ctx context.Context, e *env, sim *simServer, name string, addresses []string, want int, policy matrix.RetryPolicy) (time.Duration, record.CampaignCounts, error) {
	var invs []tasks.Invite
	for _, a := range addresses {
		inv, err := tasks.NewInvite(tasks.Invite{Campaign: name, RoomID: simulator.DefaultRoomID, Medium: tasks.MediumEmail, Address: a})
		if err != nil {
			return 0, record.CampaignCounts{}, err
		}
		invs = append(invs, inv)
	}
	if dir := os.Getenv("MXINVITE_BENCH_LOG"); dir != "" {
		var ids strings.Builder
		for _, inv := range invs {
			fmt.Fprintf(&ids, "%s %s\n", inv.TaskID(), inv.Address)
		}
		_ = os.WriteFile(filepath.Join(dir, name+".tasks"), []byte(ids.String()), 0o644)
	}
	store := rdb.New(e.rdb, rdb.Options{Prefix: name})
	p := producer.New(store, name)
	items := make([]producer.Item, len(invs))
	for i := range invs {
		items[i].Invite = invs[i]
	}
	if _, err := p.EnqueueBatch(ctx, items, producer.Options{}); err != nil {
		return 0, record.CampaignCounts{}, err
	}
	w, err := worker.New(worker.Config{
		Logger: benchLogger(name),
		Redis:  e.redisOpt(), Concurrency: i20Concurrency, Queue: name, KeyPrefix: name, IdentityScheme: "http", Policy: policy,
		Profiles: []worker.Profile{{Name: tasks.DefaultSender, HomeserverURL: sim.url, AccessToken: simulator.DefaultAccessToken,
			IDServer: sim.host, IDAccessToken: simulator.DefaultIDAccessToken}},
	})
	if err != nil {
		return 0, record.CampaignCounts{}, err
	}
	start := time.Now()
	if err := w.Start(); err != nil {
		return 0, record.CampaignCounts{}, err
	}
	defer w.Shutdown()
	var counts record.CampaignCounts
	err = pollUntil(ctx, i20Limit, func() (bool, error) {
		c, err := store.Counts(ctx, name)
		counts = c
		return c.States[record.StateDone] >= want, err
	})
	return time.Since(start), counts, err
}

var i20Policy = matrix.RetryPolicy{Timeouts: []time.Duration{time.Second},
	Waits: []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond}, MaxRetries: 3}

func plainAddresses(label string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%d@example.org", label, i)
	}
	return out
}

// runI20a: 80 plain invites alone, then with two invitees limited for two
// minutes among them (429 with retry_after_ms, after Synapse's pause).
func runI20a(ctx context.Context, e *env) []row {
	const what = "I20a 80 plain beside 2 limited invitees ÷ the 80 alone"
	goal := fmt.Sprintf("≤ %.1f", i20RatioGoal)
	popular := []string{"popular0@example.org", "popular1@example.org"}
	var rules []simulator.Rule
	for _, a := range popular {
		rules = append(rules, simulator.Rule{Pattern: a, Status: 429, ErrCode: "M_LIMIT_EXCEEDED", Error: "Too Many Requests",
			RetryAfterMS: i20PopularAdvice.Milliseconds(), Delay: i20SynapsePause})
	}
	sim, err := startSim(ctx, simulator.Config{Rules: rules, Faults: simulator.Faults{Latency: i20Latency}}, nil)
	if err != nil {
		return printed(failed("I20a", what, goal, err))
	}
	defer sim.stop()
	alone, _, err := i20Run(ctx, e, sim, "i20alone", plainAddresses("alone", i20Plain), i20Plain, i20Policy)
	if err != nil {
		return printed(failed("I20a", what, goal, err))
	}
	mixed := plainAddresses("plain", i20Plain)
	mixed = slices.Insert(mixed, i20Plain/2, popular...)
	beside, counts, err := i20Run(ctx, e, sim, "i20mixed", mixed, i20Plain, i20Policy)
	if err != nil {
		return printed(failed("I20a", what, goal, err))
	}
	ratio := beside.Seconds() / alone.Seconds()
	return printed(row{id: "I20a", what: what, measured: fmt.Sprintf("%.2f (%s ÷ %s)", ratio, beside.Round(time.Millisecond), alone.Round(time.Millisecond)),
		goal: goal, met: verdict(ratio <= i20RatioGoal && counts.Statuses["Success"] == i20Plain),
		notes: fmt.Sprintf("%d plain addresses, concurrency %d, simulator latency %s; the 2 invitees answered 429 retry_after_ms %d after Synapse's %s pause, "+
			"every time; time until the 80 were final; 429s by scope %v; %d requests before an advised time",
			i20Plain, i20Concurrency, i20Latency, i20PopularAdvice.Milliseconds(), i20SynapsePause, counts.RateLimitedBy, sim.sim.Stats().EarlyRequests)})
}

// runI20b: 80 good and 6 adjacent always-refused addresses (Synapse's 500
// for an identity-server refusal), retry waits 100/200/300 ms.
func runI20b(ctx context.Context, e *env) []row {
	const what, reqWhat = "I20b 6 adjacent refused among 80: time until all final", "I20b requests per refused address"
	goal, reqGoal := "≤ "+i20RefusedGoal.String(), "4"
	refused := plainAddresses("refused", i20Refused)
	var rules []simulator.Rule
	for _, a := range refused {
		rules = append(rules, simulator.Rule{Pattern: a, Status: 500, ErrCode: "M_UNKNOWN", Error: "Internal server error"})
	}
	sim, err := startSim(ctx, simulator.Config{Rules: rules}, nil)
	if err != nil {
		return printed(failed("I20b", what, goal, err), failed("I20c", reqWhat, reqGoal, err))
	}
	defer sim.stop()
	list := plainAddresses("good", i20Plain)
	list = slices.Insert(list, i20Plain/2, refused...)
	took, counts, err := i20Run(ctx, e, sim, "i20refused", list, i20Plain+i20Refused, i20Policy)
	if err != nil {
		return printed(failed("I20b", what, goal, err), failed("I20b", reqWhat, reqGoal, err))
	}
	perRefused := float64(sim.sim.Stats().InviteRequests-int64(i20Plain)) / i20Refused
	pause, _ := rdb.New(e.rdb, rdb.Options{Prefix: "i20refused"}).PauseOf(ctx, "i20refused", tasks.DefaultSender)
	notes := fmt.Sprintf("%d good + %d adjacent addresses always answered 500 M_UNKNOWN, concurrency %d, 3 retries; statuses %v; pause %v",
		i20Plain, i20Refused, i20Concurrency, counts.Statuses, pause)
	return printed(
		row{id: "I20b", what: what, measured: took.Round(time.Millisecond).String(), goal: goal,
			met: verdict(took <= i20RefusedGoal && counts.Statuses["NetworkError"] == i20Refused && pause == nil), notes: notes},
		row{id: "I20b", what: reqWhat, measured: fmt.Sprintf("%.1f", perRefused), goal: reqGoal, met: verdict(perRefused == 4),
			notes: "simulator invite requests beyond the 80 good ones ÷ 6"})
}

// arrival is one invite request the simulator received, and when its
// answer was written (or the client gave up on it).
type arrival struct {
	address      string
	at, answered time.Time
}

// arrivals records the invite requests reaching a handler, by address.
type arrivals struct {
	mu  sync.Mutex
	log []arrival
}

func (a *arrivals) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/invite") {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			var in struct {
				Address string `json:"address"`
			}
			_ = json.Unmarshal(body, &in)
			at := time.Now()
			h.ServeHTTP(w, r)
			a.mu.Lock()
			a.log = append(a.log, arrival{address: in.Address, at: at, answered: time.Now()})
			a.mu.Unlock()
			return
		}
		h.ServeHTTP(w, r)
	})
}

// runI20c: 28 addresses with their own answers (429s with advice of
// 100 ms–2 s in the body, the header or both; 5xx; timeouts; odd bodies);
// for each wait, how much later than its own due time the next request came.
func runI20c(ctx context.Context, e *env) []row {
	const what, p50what = "I20c per-address answers: latest wait past its due time", "I20c per-address answers: median lateness"
	goal := "≤ " + i20LateGoal.String()
	type step struct {
		rule  simulator.Rule
		times int
		wait  time.Duration // from this answer to the next request: the advice, or a configured wait (-1)
	}
	script := map[string][]step{}
	add := func(address string, n int, r simulator.Rule, wait time.Duration) {
		r.Pattern, r.Times = address, n
		if r.Status == 429 {
			r.ErrCode, r.Error, r.Delay = "M_LIMIT_EXCEEDED", "Too Many Requests", i20SynapsePause
		}
		script[address] = append(script[address], step{rule: r, times: n, wait: wait})
	}
	for i, ms := range []int{100, 300, 500, 800, 1200, 2000} {
		add(fmt.Sprintf("body%d@example.org", i), 1+i%2, simulator.Rule{Status: 429, RetryAfterMS: int64(ms)}, time.Duration(ms)*time.Millisecond)
	}
	for i := range 4 {
		add(fmt.Sprintf("header%d@example.org", i), 1, simulator.Rule{Status: 429, RetryAfter: "1"}, time.Second)
	}
	for i := range 2 {
		add(fmt.Sprintf("both%d@example.org", i), 2, simulator.Rule{Status: 429, RetryAfterMS: 400, RetryAfter: "1"}, 400*time.Millisecond)
	}
	for i := range 4 {
		add(fmt.Sprintf("fivexx%d@example.org", i), 1+i%2, simulator.Rule{Status: 500, ErrCode: "M_UNKNOWN", Error: "Internal server error"}, -1)
	}
	for i := range 3 {
		add(fmt.Sprintf("hang%d@example.org", i), 1, simulator.Rule{Status: 200, Hang: true}, 0) // timeout (1 s), retried at once
	}
	add("html@example.org", 1, simulator.Rule{Status: 502, Body: "<html>Bad Gateway</html>", ContentType: "text/html"}, -1)
	add("notjson@example.org", 1, simulator.Rule{Status: 200, Body: "ok", ContentType: "text/plain"}, -1)
	add("empty@example.org", 1, simulator.Rule{Status: 200, EmptyBody: true}, -1)
	addresses := plainAddresses("plain", 6)
	var rules []simulator.Rule
	for a, steps := range script {
		addresses = append(addresses, a)
		for _, s := range steps {
			rules = append(rules, s.rule)
		}
	}
	var log arrivals
	sim, err := startSim(ctx, simulator.Config{Rules: rules}, log.wrap)
	if err != nil {
		return printed(failed("I20c", what, goal, err), failed("I20c", p50what, "—", err))
	}
	defer sim.stop()
	took, counts, err := i20Run(ctx, e, sim, "i20mixed28", addresses, len(addresses), i20Policy)
	if err != nil {
		return printed(failed("I20c", what, goal, err), failed("I20c", p50what, "—", err))
	}
	// Lateness: how much later than due each next request of an address
	// came. Due is the previous answer's time plus its wait: an advice
	// counts from the answer that carries it (the server may have computed
	// it before a pause, the worker cannot know), and the n-th retry after
	// a failure waits the n-th retry wait.
	byAddr := map[string][]arrival{}
	log.mu.Lock()
	for _, a := range log.log {
		byAddr[a.address] = append(byAddr[a.address], a)
	}
	log.mu.Unlock()
	var late []time.Duration
	var worstAt string
	var worstLate time.Duration
	for a, steps := range script {
		reqs := byAddr[a]
		slices.SortFunc(reqs, func(x, y arrival) int { return x.at.Compare(y.at) })
		k, retries := 0, 0
		for _, st := range steps {
			for range st.times {
				if k+1 >= len(reqs) {
					break
				}
				wait := st.wait
				if wait < 0 {
					wait = i20Policy.Wait(retries)
					retries++
				}
				l := max(reqs[k+1].at.Sub(reqs[k].answered.Add(wait)), 0)
				late = append(late, l)
				if l > worstLate {
					worstLate, worstAt = l, fmt.Sprintf("%s's request %d (due %s after the answer, came %s after)", a, k+2,
						wait, reqs[k+1].at.Sub(reqs[k].answered).Round(time.Millisecond))
				}
				k++
			}
		}
	}
	slices.Sort(late)
	var worst, median time.Duration
	if len(late) > 0 {
		worst, median = late[len(late)-1], late[len(late)/2]
	}
	notes := fmt.Sprintf("28 addresses (22 with their own answers first: 429 with retry_after_ms 100–2000 ms, Retry-After 1 s, both; 500 M_UNKNOWN; "+
		"timeouts (1 s); 502 HTML, non-JSON and empty 200s), concurrency %d, retry waits 100/200/300 ms; %d waits measured; all final in %s; "+
		"statuses %v; 429s by scope %v; requests before an advised time %d; the latest: %s",
		i20Concurrency, len(late), took.Round(time.Millisecond), counts.Statuses, counts.RateLimitedBy, sim.sim.Stats().EarlyRequests, worstAt)
	return printed(
		row{id: "I20c", what: what, measured: worst.Round(time.Millisecond).String(), goal: goal, met: verdict(worst <= i20LateGoal), notes: notes},
		row{id: "I20c", what: p50what, measured: median.Round(time.Millisecond).String(), goal: noGoal, met: metNA, notes: "same run"},
	)
}

// benchLogger is a disabled logger, or, with MXINVITE_BENCH_LOG set to a
// directory, one writing the worker's logs (debug level) to name.log there:
// for finding out why a row missed its goal.
func benchLogger(name string) *zerolog.Logger {
	dir := os.Getenv("MXINVITE_BENCH_LOG")
	if dir == "" {
		return nil
	}
	f, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		return nil
	}
	l := zerolog.New(f).Level(zerolog.DebugLevel).With().Str("t", "").Logger().Hook(zerolog.HookFunc(func(e *zerolog.Event, _ zerolog.Level, _ string) {
		e.Str("at", time.Now().Format("15:04:05.000"))
	}))
	return &l
}
