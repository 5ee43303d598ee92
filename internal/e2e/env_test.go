package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/mxinvite/mxinvite/internal/producer"
	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/internal/redistest"
	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/internal/simulator/simtest"
	"github.com/mxinvite/mxinvite/internal/testkit"
	"github.com/mxinvite/mxinvite/matrix"
	"github.com/mxinvite/mxinvite/tasks"
)

// campaignEnv is one test's Redis, simulator, key prefix, queue, token files
// and log directory.
type campaignEnv struct {
	t         *testing.T
	redis     *redistest.Server
	url       string // the Redis URL the processes get (default redis.URL())
	rdb       *redis.Client
	sim       *simulator.Server
	hsURL     string
	idServer  string
	prefix    string
	queue     string
	token     string
	idToken   string
	tokenFile string
	idFile    string
	logDir    string
	prod      *producer.Producer
	store     *rdb.Client
	inspector *asynq.Inspector
}

// newCampaignEnv starts the simulator for simCfg (its first user's token
// and first identity token are the worker's; the defaults when unset) and
// writes the token files.
func newCampaignEnv(t *testing.T, r *redistest.Server, simCfg simulator.Config) *campaignEnv {
	t.Helper()
	sim, ts := simtest.NewServer(t, simCfg)
	e := &campaignEnv{
		t: t, redis: r, rdb: r.Client(t), sim: sim,
		hsURL: ts.URL, idServer: simtest.IDServer(ts),
		prefix: redistest.Unique(t, "mx"), queue: redistest.Unique(t, "q"),
		token: simulator.DefaultAccessToken, idToken: simulator.DefaultIDAccessToken,
		logDir: t.TempDir(),
	}
	if len(simCfg.Users) > 0 {
		e.token = simCfg.Users[0].AccessToken
	}
	if len(simCfg.IDAccessTokens) > 0 {
		e.idToken = simCfg.IDAccessTokens[0]
	}
	secrets := t.TempDir()
	e.tokenFile, e.idFile = filepath.Join(secrets, "access-token"), filepath.Join(secrets, "id-access-token")
	for path, tok := range map[string]string{e.tokenFile: e.token, e.idFile: e.idToken} {
		if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	e.connect(e.rdb)
	return e
}

// connect makes the test's own clients (producer, store, inspector) use conn.
func (e *campaignEnv) connect(conn *redis.Client) {
	e.rdb = conn
	e.prod = producer.New(rdb.New(e.rdb, rdb.Options{Prefix: e.prefix}), e.queue)
	e.store = e.prod.Store()
	e.inspector = asynq.NewInspectorFromRedisClient(e.rdb)
}

// redisArgs are the flags every command needs to find the test's data.
func (e *campaignEnv) redisArgs() []string {
	url := e.url
	if url == "" {
		url = e.redis.URL()
	}
	return []string{"--redis", url, "--prefix", e.prefix, "--queue", e.queue}
}

// workerArgs is `mxinvite worker` with the test's Redis, simulator and token
// files, then extra flags.
func (e *campaignEnv) workerArgs(extra ...string) []string {
	args := append([]string{"worker"}, e.redisArgs()...)
	args = append(args,
		"--homeserver", e.hsURL,
		"--access-token-file", e.tokenFile,
		"--id-server", e.idServer,
		"--id-access-token-file", e.idFile,
		"--identity-scheme", "http",
		"--log-format", "json",
	)
	return append(args, extra...)
}

// startWorker starts a worker process.
func (e *campaignEnv) startWorker(name string, extra ...string) *process {
	e.t.Helper()
	return startProcess(e.t, e.logDir, name, nil, e.workerArgs(extra...)...)
}

// address is the test address of invite i.
func address(i int) string { return fmt.Sprintf("user%05d@e2e.example", i) }

// enqueue registers and enqueues n invites of campaign to the default room,
// as `mxinvite invite` does.
func (e *campaignEnv) enqueue(campaign string, n int) []tasks.Invite {
	e.t.Helper()
	invs := make([]tasks.Invite, n)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for i := range invs {
		inv, err := tasks.NewInvite(tasks.Invite{Campaign: campaign, RoomID: simulator.DefaultRoomID,
			Medium: tasks.MediumEmail, Address: address(i)})
		if err != nil {
			e.t.Fatal(err)
		}
		v, err := e.prod.Enqueue(ctx, inv, producer.Options{})
		if err != nil || v != record.Registered {
			e.t.Fatalf("enqueue %s: verdict %v, err %v", inv.Address, v, err)
		}
		invs[i] = inv
	}
	return invs
}

// counts reads a campaign's counters, failing the test on error.
func (e *campaignEnv) counts(campaign string) record.CampaignCounts {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := e.store.Counts(ctx, campaign)
	if err != nil {
		e.t.Fatalf("counts: %v", err)
	}
	return c
}

// tryCounts is counts for polling loops: an error (Redis restarting) is
// reported as ok=false instead of failing.
func (e *campaignEnv) tryCounts(campaign string) (record.CampaignCounts, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := e.store.Counts(ctx, campaign)
	return c, err == nil
}

// results reads every record of a campaign.
func (e *campaignEnv) results(campaign string) []record.Result {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []record.Result
	if err := e.store.Results(ctx, campaign, func(r record.Result) error {
		out = append(out, r)
		return nil
	}); err != nil {
		e.t.Fatalf("results: %v", err)
	}
	return out
}

// checkAllSucceeded asserts that all n invites of the campaign are persisted
// as final Success, exactly once each: counters, records, the results stream,
// the simulator's acceptances and asynq's queue agree. It returns the counts.
func (e *campaignEnv) checkAllSucceeded(campaign string, invs []tasks.Invite) record.CampaignCounts {
	e.t.Helper()
	t, n := e.t, len(invs)
	c := e.counts(campaign)
	if c.Enqueued != n || c.Pending() != 0 || c.States[record.StateDone] != n ||
		c.Statuses[matrix.Success.String()] != n || len(c.Statuses) != 1 {
		t.Errorf("campaign counters %+v; want %d enqueued, %d done, all Success, 0 pending", c, n, n)
	}

	want := map[string]bool{}
	for _, inv := range invs {
		want[inv.Key()] = true
	}
	recs := e.results(campaign)
	requests, bad := 0, 0
	for _, r := range recs {
		if !want[r.Key] {
			t.Errorf("unexpected record %s (%s)", r.Key, r.Address)
			continue
		}
		delete(want, r.Key)
		requests += r.Requests
		if !r.Final() || r.StatusCode != matrix.Success || r.Status != "Success" || r.FinishedAt.IsZero() {
			if bad++; bad <= 5 {
				t.Errorf("record of %s: state %s status %d %s (error %q); want done Success",
					r.Address, r.State, r.StatusCode, r.Status, r.Error)
			}
		}
	}
	if bad > 5 {
		t.Errorf("… %d records in all are not done Success", bad)
	}
	if len(recs) != n || len(want) != 0 {
		t.Errorf("%d records for %d invites, %d invites without a record", len(recs), n, len(want))
	}
	if requests != c.Requests {
		t.Errorf("records count %d requests, the campaign counter %d", requests, c.Requests)
	}

	// The results stream gets exactly one entry per final result.
	if xlen, err := e.rdb.XLen(context.Background(), e.prefix+":results").Result(); err != nil || xlen != int64(n) {
		t.Errorf("results stream has %d entries (err %v), want %d", xlen, err, n)
	}

	// Every invitee reached the homeserver.
	accepted := map[string]bool{}
	for _, a := range e.sim.Accepted() {
		accepted[a.Address] = true
	}
	for _, inv := range invs {
		if !accepted[inv.Address] {
			t.Errorf("the simulator never accepted %s", inv.Address)
			break
		}
	}

	if qi := testkit.QueueInfo(e.inspector, e.queue); qi.Pending+qi.Active+qi.Scheduled+qi.Retry+qi.Archived != 0 {
		t.Errorf("queue %s not empty: pending %d active %d scheduled %d retry %d archived %d",
			e.queue, qi.Pending, qi.Active, qi.Scheduled, qi.Retry, qi.Archived)
	}
	return c
}

// forEachSendMode runs test in parallel subtests for both ways of sending an
// invite: the idempotent PUT /invite/{txnId} (noTxn false) and plain POST
// (--no-txn-id, as on every server but Synapse).
func forEachSendMode(t *testing.T, test func(t *testing.T, noTxn bool)) {
	for _, tc := range []struct {
		name  string
		noTxn bool
	}{
		{"PUT txnId", false},
		{"POST no-txn-id", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			test(t, tc.noTxn)
		})
	}
}

// lane is the asynq queue the campaign's invites went to (tasks/queue.go).
func (e *campaignEnv) lane(campaign string) string {
	e.t.Helper()
	q, err := e.store.QueueOfCampaign(context.Background(), e.queue, campaign)
	if err != nil {
		e.t.Fatal(err)
	}
	return q
}
