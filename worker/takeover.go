package worker

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/rs/zerolog"

	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/tasks"
)

// Back within seconds (docs/reliability.md): asynq gives a dead worker's
// tasks back only after its lease and a recoverer cycle (a minute or two,
// not configurable). Each worker therefore beats every rdb.WorkerBeat, and
// its deliveries mark the invites they hold with its ID (begin). Every
// beat, a worker looks for dead workers and re-delivers the invites they
// held, each under the same record with a new task ID (rdb.ClaimFrom,
// tasks.RedeliveryTaskID); the old task, when asynq recovers it, finds the
// invite done or taken and sends nothing. A request that may have reached
// the server before the crash is an ambiguous attempt for the new delivery
// (re-check, the same txnId, or the configured policy), as after a 5xx.
//
// Every reclaimEvery beats a worker also re-delivers the invites Redis says
// it holds but it does not (its writes were cut off by a Redis failover or
// restart, or its delivery gave up on Redis): those too would wait for
// asynq's lease otherwise.
//
// And as often it re-delivers the tasks asynq holds under a lease that no
// one has extended for leaseStale (rdb.StaleLeases): a worker that died
// between asynq's dequeue and its delivery's begin had not marked them yet.
const (
	reclaimEvery = 3
	leaseStale   = 8 * time.Second
)

// holding is the set of invites this process is delivering.
type holding struct {
	mu   sync.Mutex
	keys map[string]bool
}

// take registers a delivery of key; false if one is running.
func (h *holding) take(key string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.keys[key] {
		return false
	}
	if h.keys == nil {
		h.keys = map[string]bool{}
	}
	h.keys[key] = true
	return true
}

func (h *holding) release(key string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.keys, key)
}

// notHeld returns the candidates whose invites no delivery holds now.
func (h *holding) notHeld(cands []rdb.Candidate) []rdb.Candidate {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := cands[:0:0]
	for _, cd := range cands {
		if !h.keys[cd.Key] {
			out = append(out, cd)
		}
	}
	return out
}

// liveness beats, takes dead workers' invites over and reclaims this
// worker's cut-off ones, until ctx ends; then it says the worker left, so
// that what it still held is taken over at once.
func (w *Worker) liveness(ctx context.Context) {
	t := time.NewTicker(rdb.WorkerBeat)
	defer t.Stop()
	failing := false
	var quietUntil time.Time
	for round := 0; ; round++ {
		err := w.store.Heartbeat(ctx, w.id, rdb.WorkerTTL)
		if err == nil {
			if failing {
				w.cfg.Logger.Info().Msg("Redis answers again: taking over cut-off invites")
				round = 0 // reclaim at once after an outage
				// The other workers could not beat either: give them a
				// TTL to say they are alive before taking theirs over.
				quietUntil = time.Now().Add(rdb.WorkerTTL)
			}
			if time.Now().After(quietUntil) {
				w.takeOver(ctx)
			}
			if round%reclaimEvery == 0 {
				w.redeliver(ctx, w.id, true)
				w.adoptOrphans(ctx)
			}
		} else if ctx.Err() == nil && !failing {
			w.cfg.Logger.Warn().Err(err).Msg("worker heartbeat")
		}
		failing = err != nil
		select {
		case <-ctx.Done():
			// Every delivery has ended (Shutdown stops asynq first): what
			// Redis says this worker holds is re-delivered for the others,
			// then it leaves.
			lctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			w.redeliver(lctx, w.id, true)
			_ = w.store.Leave(lctx, w.id)
			return
		case <-t.C:
		}
	}
}

// takeOver re-delivers the invites dead workers held.
func (w *Worker) takeOver(ctx context.Context) {
	dead, err := w.store.DeadWorkers(ctx)
	if err != nil {
		w.cfg.Logger.Warn().Err(err).Msg("looking for dead workers")
		return
	}
	for _, d := range dead {
		if d != w.id {
			w.redeliver(ctx, d, false)
		}
	}
}

// redeliver claims the invites worker held (self: this worker's, those it
// does not hold any more) and enqueues their re-deliveries.
func (w *Worker) redeliver(ctx context.Context, worker string, self bool) {
	log := w.cfg.Logger.With().Str("worker", worker).Logger()
	keys, err := w.store.Held(ctx, worker)
	if err != nil || (self && len(keys) == 0) {
		return
	}
	cands, err := w.store.Candidates(ctx, keys)
	if err != nil {
		log.Warn().Err(err).Msg("reading invites to take over")
		return
	}
	if self {
		// After the read: a delivery running now is left alone, and one
		// that begins from now on changes "begins", which the claim checks.
		cands = w.handler.holding.notHeld(cands)
	}
	claims := make([]rdb.Claim, 0, len(cands))
	tasksOf := map[string]*asynq.TaskInfo{}
	for _, cd := range cands {
		cl := rdb.Claim{Key: cd.Key, Expect: cd.Expect}
		if cd.State == record.StateActive && (cd.Owner == worker || cd.Owner == "") {
			info, err := w.taskInfo(ctx, cd.Campaign, cd.TaskID)
			if err != nil {
				// Not found: left in the held set; the old task, when asynq
				// gives it back, takes the orphan (begin).
				log.Warn().Err(err).Str("task_id", cd.TaskID).Msg("the task of an invite to take over")
				continue
			}
			base, ok := baseTaskID(info.ID)
			if !ok {
				continue
			}
			cl.NewTaskID = tasks.RedeliveryTaskID(base, time.Now().UnixMilli())
			tasksOf[cd.Key] = info
		}
		claims = append(claims, cl)
	}
	got, err := w.store.ClaimFrom(ctx, worker, self, false, claims)
	if errors.Is(err, rdb.ErrWorkerAlive) {
		return
	}
	if err != nil {
		log.Warn().Err(err).Msg("claiming invites to take over")
		return
	}
	msg := "took over a dead worker's invites"
	if self {
		msg = "re-delivered invites cut off from this worker"
	}
	w.enqueueClaimed(ctx, log, claims, got, tasksOf, msg)
}

// enqueueClaimed enqueues the re-deliveries of the claimed invites (got[i]:
// claims[i] was claimed; infos: the replaced tasks by invite key).
func (w *Worker) enqueueClaimed(ctx context.Context, log zerolog.Logger, claims []rdb.Claim, got []bool,
	infos map[string]*asynq.TaskInfo, msg string) {
	n := 0
	for i, ok := range got {
		if !ok {
			continue
		}
		info := infos[claims[i].Key]
		opts := []asynq.Option{asynq.TaskID(claims[i].NewTaskID), asynq.Queue(info.Queue), asynq.MaxRetry(info.MaxRetry)}
		if info.Retention > 0 {
			opts = append(opts, asynq.Retention(info.Retention))
		}
		if _, err := w.client.EnqueueContext(ctx, asynq.NewTask(tasks.TypeInvite3PID, info.Payload), opts...); err != nil {
			// The record has no live owner: the old task takes it when
			// asynq gives it back.
			log.Warn().Err(err).Str("task_id", claims[i].NewTaskID).Msg("re-delivering a taken-over invite")
			continue
		}
		n++
	}
	if n > 0 {
		log.Info().Int("invites", n).Msg(msg)
	}
}

// adoptOrphans re-delivers the tasks of stale asynq leases whose records
// are still theirs and held by no live worker.
func (w *Worker) adoptOrphans(ctx context.Context) {
	infos := map[string]*asynq.TaskInfo{}
	var keys []string
	stale, err := w.store.StaleLeases(ctx, w.servers.Load().Queues(), leaseStale)
	if err != nil {
		return
	}
	for q, ids := range stale {
		for _, id := range ids {
			info, err := w.inspector.GetTaskInfo(q, id)
			if err != nil {
				continue
			}
			key, _, ok := tasks.ParseTaskID(info.ID)
			if !ok {
				continue
			}
			infos[key] = info
			keys = append(keys, key)
		}
	}
	if len(keys) == 0 {
		return
	}
	cands, err := w.store.Candidates(ctx, keys)
	if err != nil {
		return
	}
	var claims []rdb.Claim
	for _, cd := range cands {
		info := infos[cd.Key]
		if cd.TaskID != info.ID || !cd.State.Pending() {
			continue // the record belongs to another delivery, or is final
		}
		base, _ := baseTaskID(info.ID)
		claims = append(claims, rdb.Claim{Key: cd.Key, Expect: cd.Expect,
			NewTaskID: tasks.RedeliveryTaskID(base, time.Now().UnixMilli())})
	}
	if len(claims) == 0 {
		return
	}
	got, err := w.store.ClaimOrphans(ctx, claims)
	if err != nil {
		w.cfg.Logger.Warn().Err(err).Msg("claiming orphaned tasks")
		return
	}
	w.enqueueClaimed(ctx, *w.cfg.Logger, claims, got, infos, "re-delivered tasks whose worker died before it began them")
}

// taskInfo finds an invite's task: in its campaign's lane (the campaign
// meta names it), else in the base queue, where earlier releases put every
// task, else in the other queues served (a lane the campaign left when its
// priority changed). The first look is the usual answer: one round trip,
// not one per queue served.
func (w *Worker) taskInfo(ctx context.Context, campaign, id string) (info *asynq.TaskInfo, err error) {
	first, qerr := w.store.QueueOfCampaign(ctx, w.cfg.Queue, campaign)
	queues := []string{w.cfg.Queue}
	if qerr == nil && first != w.cfg.Queue {
		queues = []string{first, w.cfg.Queue}
	}
	for _, q := range w.servers.Load().Queues() {
		if !slices.Contains(queues, q) {
			queues = append(queues, q)
		}
	}
	for _, q := range queues {
		if info, err = w.inspector.GetTaskInfo(q, id); err == nil {
			break
		}
	}
	return info, err
}

// baseTaskID is the task ID of the invite a task delivers, a re-delivery's
// included: its key and generation are in its ID (tasks.ParseTaskID), so
// a re-delivery needs nothing of the payload, which it copies as it is
// (a whole invite or a reference to the record).
func baseTaskID(id string) (string, bool) {
	key, gen, ok := tasks.ParseTaskID(id)
	return tasks.TaskIDOf(key, gen), ok
}
