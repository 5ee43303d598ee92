package importer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mxinvite/mxinvite/internal/addrlist"
	"github.com/mxinvite/mxinvite/internal/producer"
	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/tasks"
)

// ErrInput is wrapped by the errors of an input that cannot be read as an
// address list at all (a CSV header without an address column, an unknown
// Column): Run returns them before anything is done.
var ErrInput = errors.New("unusable address list")

// Run imports the address list in src: rejects go to rejects (nil: they are
// only counted) in the input's own format, valid rows are registered and
// enqueued by opts.Producer (or only counted, with opts.DryRun). progress,
// if not nil, is called every opts.ProgressInterval and once at the end,
// never concurrently.
//
// An error stops the import: the Stats then count what was done so far, and
// running the same import again picks up where it stopped (rows already
// queued are counted, not sent twice). Errors opening the input (a CSV
// without an address column, an unknown Column) come before anything is
// done.
func Run(ctx context.Context, opts Options, src io.Reader, rejects io.Writer, progress func(Stats)) (Stats, error) {
	opts = opts.withDefaults()
	tmpl, err := opts.template()
	if err != nil {
		return Stats{}, err
	}
	listOpts := opts.ListOptions()
	var total int64
	if opts.Spread > 0 {
		var cleanup func()
		src, total, cleanup, err = twoPass(src, listOpts, opts.TempDir)
		defer cleanup()
		if err != nil {
			return Stats{}, err
		}
	}
	c := &counters{}
	rd, err := addrlist.NewReader(&countingReader{r: src, n: &c.bytes}, listOpts)
	if err != nil {
		return Stats{}, fmt.Errorf("%w: %w", ErrInput, err)
	}
	if rejects == nil {
		rejects = io.Discard
	}
	im := &run{
		opts: opts, c: c, tmpl: tmpl, rows: rd,
		rejects: addrlist.NewRejectWriter(rejects, rd),
		sched:   newSchedule(opts.Start, opts.Spread, total, time.Now()),
		runID:   newRunID(),
	}
	if opts.DryRun {
		im.dry = newDryRun(opts.Again, tmpl.Campaign)
	}
	stopProgress := startProgress(opts.ProgressInterval, c, progress)
	err = im.execute(ctx)
	stopProgress()
	stats := im.finish()
	if progress != nil {
		progress(stats)
	}
	return stats, err
}

// run is the state of one import.
type run struct {
	opts    Options
	c       *counters
	tmpl    tasks.Invite
	rows    *addrlist.Reader
	rejects *addrlist.RejectWriter
	sched   schedule
	runID   string
	dry     *dryRun // nil unless opts.DryRun
}

// execute reads the rows in this goroutine and hands batches of valid rows
// to opts.Workers goroutines. The first error cancels the rest.
func (im *run) execute(parent context.Context) error {
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	batches := make(chan []producer.Item, im.opts.Workers)
	var wg sync.WaitGroup
	for range im.opts.Workers {
		wg.Go(func() {
			for batch := range batches {
				if ctx.Err() != nil {
					continue // drain, so that the reader never blocks
				}
				if err := im.process(ctx, batch); err != nil {
					cancel(err)
				}
			}
		})
	}
	readErr := im.read(ctx, batches)
	close(batches)
	wg.Wait()
	flushErr := im.rejects.Flush()
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return cause // a worker's error, which also stopped the reader
	}
	if readErr != nil {
		return readErr
	}
	if flushErr != nil {
		return flushErr
	}
	return parent.Err()
}

// batchTimeout bounds the registration and enqueueing of one batch once it
// has started, which an interruption does not cut short (see process).
const batchTimeout = time.Minute

// process registers and enqueues one batch, or in a dry run looks it up.
//
// A batch that has started is finished even if ctx is cancelled (Ctrl-C):
// its invites are registered in one round trip, and cutting the enqueueing
// that follows short would leave records without tasks and a summary that
// counts less than Redis holds. Batches not started yet are not started.
func (im *run) process(ctx context.Context, batch []producer.Item) error {
	if im.dry != nil {
		return im.dry.add(ctx, im.opts.Producer, batch, im.c)
	}
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), batchTimeout)
	defer cancel()
	regs, err := im.opts.Producer.RegisterAndEnqueue(bctx, batch, producer.Options{Again: im.opts.Again, ImportRun: im.runID, Priority: im.opts.Priority})
	for i := range regs { // on error, those done before it
		im.c.count(&regs[i], im.tmpl.Campaign)
	}
	var ne *producer.NotEnqueuedError
	if errors.As(err, &ne) {
		// The Stats count these for the whole import; the error need not.
		im.c.unqueued.Add(int64(ne.Registered))
		return ne.Err
	}
	return err
}

// finish returns the final Stats.
func (im *run) finish() Stats {
	if im.dry != nil {
		im.dry.tally(im.c)
	}
	s := im.c.snapshot()
	plan := im.rows.Plan()
	s.List = &plan
	s.NotImported = s.Valid - s.Enqueued - s.Duplicates - s.AlreadyQueued - s.AlreadyDone
	s.DryRun = im.opts.DryRun
	if !s.DryRun {
		s.ImportRun = im.runID
	}
	return s
}

// count adds one registration of campaign's import to the counters. An
// invite already known (HeldBy set) is counted as such even when its
// missing task was repaired (Verdict Registered): the import added nothing
// to Redis's count of invites.
func (c *counters) count(r *record.Registration, campaign string) {
	switch {
	case r.Verdict == record.DuplicateInRun:
		c.duplicates.Add(1)
	case r.Verdict == record.AlreadyDone:
		c.alreadyDone.Add(1)
	case r.Verdict == record.Registered && (r.HeldBy == "" || r.HeldBy == campaign):
		// New, or registered by an earlier run of this campaign that
		// stopped before its task was enqueued (repaired now).
		c.enqueued.Add(1)
		c.scheduled(r.ProcessAt) // zero, and ignored, unless the import is scheduled
		return
	case r.Verdict == record.AlreadyPending || r.HeldBy != "":
		c.alreadyQueued.Add(1)
	}
	if r.HeldBy != "" && r.HeldBy != campaign {
		c.heldBy(r.HeldBy, r.Verdict == record.AlreadyDone)
	}
}

// startProgress calls progress with a snapshot every interval until the
// returned stop function is called; stop returns once no call is running.
func startProgress(interval time.Duration, c *counters, progress func(Stats)) (stop func()) {
	if progress == nil {
		return func() {}
	}
	done, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				progress(c.snapshot())
			}
		}
	}()
	return func() { close(done); <-exited }
}

// newRunID returns a random import run ID.
func newRunID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}

// countingReader counts the bytes read through it, for progress bars.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (r *countingReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.n.Add(int64(n))
	return n, err
}
