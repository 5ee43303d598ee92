package demo

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/hibiken/asynq"

	"github.com/mxinvite/mxinvite/internal/addrlist"
	"github.com/mxinvite/mxinvite/internal/importer"
	"github.com/mxinvite/mxinvite/internal/preflight"
	"github.com/mxinvite/mxinvite/internal/producer"
	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/matrix"
	"github.com/mxinvite/mxinvite/tasks"
	"github.com/mxinvite/mxinvite/worker"
)

// campaign is the demo campaign's name.
const campaign = "demo"

// Summary is what the demo measured.
type Summary struct {
	Import   importer.Stats
	Counts   record.CampaignCounts
	Sim      simulator.Stats
	Duration time.Duration
}

// Run runs the demo and prints its progress and report to o.Out.
func Run(ctx context.Context, o Options) (Summary, error) {
	o = o.withDefaults()
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	start := time.Now()
	e, err := setUp(ctx, o)
	if err != nil {
		return Summary{}, err
	}
	defer e.close()
	out := o.Out
	where := "embedded Redis (miniredis)"
	if o.RedisURL != "" {
		where = "Redis " + o.RedisURL + ", prefix " + e.prefix
	}
	fmt.Fprintf(out, "mxinvite demo: %s; simulated homeserver %s (rate limit %.0f/s per sender, 2%% answers 500)\n\n",
		where, e.hsURL, o.Rate)

	client := matrix.NewClient(matrix.ClientConfig{HomeserverURL: e.hsURL, AccessToken: simulator.DefaultAccessToken, IdentityScheme: "http"})
	pf := preflight.Run(ctx, preflight.Config{Client: client, Room: simulator.DefaultRoomAlias,
		IDServer: e.idServer, IDAccessToken: simulator.DefaultIDAccessToken})
	fmt.Fprintf(out, "preflight %s:\n", simulator.DefaultRoomAlias)
	if _, err := pf.WriteTo(out); err != nil {
		return Summary{}, err
	}
	if !pf.OK() {
		return Summary{}, fmt.Errorf("preflight failed against the simulator")
	}

	sum := Summary{}
	if sum.Import, err = importList(ctx, e, o, pf.RoomID); err != nil {
		return sum, err
	}
	if sum.Counts, err = send(ctx, e, o); err != nil {
		return sum, err
	}
	sum.Sim, sum.Duration = e.sim.Stats(), time.Since(start)
	if err := keepReport(e, o, sum); err != nil {
		return sum, err
	}
	e.close()
	if o.RedisURL != "" {
		if e.cleanErr != nil {
			return sum, e.cleanErr
		}
		fmt.Fprintf(out, "removed the demo's keys (%s:*) and asynq queue %s from %s\n", e.prefix, e.queue, o.RedisURL)
	}
	return sum, nil
}

// keepReport prints the report and keeps it, with the list and its
// rejects, in the demo's directory, and says where.
func keepReport(e *env, o Options, sum Summary) error {
	f, err := os.Create(e.path(reportFile))
	if err != nil {
		return fmt.Errorf("keep the report: %w", err)
	}
	printReport(io.MultiWriter(o.Out, f), sum)
	if err := f.Close(); err != nil {
		return fmt.Errorf("keep the report: %w", err)
	}
	fmt.Fprintf(o.Out, "\nkept in %s: %s (the list), %s (%d rejected rows, with line and reason), %s (this report)\n",
		e.dir, listFile, rejectsFile, sum.Import.Rejected, reportFile)
	return nil
}

// The files the demo keeps in its directory.
const (
	listFile    = "members.csv"
	rejectsFile = "members.rejects.csv"
	reportFile  = "report.txt"
)

// importList writes the generated list and imports it, rejects to a file.
func importList(ctx context.Context, e *env, o Options, room string) (importer.Stats, error) {
	list := e.path(listFile)
	if err := writeList(list, o.Invites); err != nil {
		return importer.Stats{}, err
	}
	src, err := os.Open(list)
	if err != nil {
		return importer.Stats{}, err
	}
	defer src.Close()
	rejects, err := addrlist.CreateRejectsFile(e.path(rejectsFile))
	if err != nil {
		return importer.Stats{}, err
	}
	defer rejects.Close()
	prod := producer.New(e.store, e.queue)
	st, err := importer.Run(ctx, importer.Options{Campaign: campaign, RoomID: room, Producer: prod, MediumFromList: true}, src, rejects, nil)
	if cerr := rejects.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return st, fmt.Errorf("import: %w", err)
	}
	fmt.Fprintf(o.Out, "\nimported %s: %d rows read, %d valid, %d enqueued, %d duplicates, %d rejected (with line and reason in %s)\n\n",
		list, st.Read, st.Valid, st.Enqueued, st.Duplicates, st.Rejected, e.path(rejectsFile))
	return st, nil
}

// send runs a worker until the campaign has no pending invite, showing
// progress, then shuts it down gracefully.
func send(ctx context.Context, e *env, o Options) (record.CampaignCounts, error) {
	ropt, err := asynq.ParseRedisURI(e.redisURL)
	if err != nil {
		return record.CampaignCounts{}, err
	}
	w, err := worker.New(worker.Config{
		Redis: ropt,
		Profiles: []worker.Profile{{Name: tasks.DefaultSender, HomeserverURL: e.hsURL, AccessToken: simulator.DefaultAccessToken,
			IDServer: e.idServer, IDAccessToken: simulator.DefaultIDAccessToken}},
		Policy: matrix.RetryPolicy{
			Timeouts:   []time.Duration{5 * time.Second},
			Waits:      []time.Duration{200 * time.Millisecond, 500 * time.Millisecond, time.Second},
			MaxRetries: 3,
		},
		Concurrency: o.Concurrency, Queue: e.queue, KeyPrefix: e.prefix, IdentityScheme: "http", TrackEvery: worker.Off,
	})
	if err != nil {
		return record.CampaignCounts{}, err
	}
	if err := w.Start(); err != nil {
		return record.CampaignCounts{}, err
	}
	defer w.Shutdown()
	c, err := watch(ctx, w.Store(), o, e.sim)
	if err != nil {
		return c, err
	}
	rep, err := afterwards(ctx, e, w, o.Invites)
	if err != nil {
		return c, err
	}
	fmt.Fprintf(o.Out, "\nlater, some invitees registered and joined; mxinvite track: %d looked up again (%d bound now), %d joined\n",
		rep.LookedUp, rep.NewlyBound, rep.Joined)
	return w.Store().Counts(ctx, campaign)
}
