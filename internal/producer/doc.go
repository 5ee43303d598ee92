// Package producer is how every mxinvite command puts invites into Redis
// and acts on them: enqueue (register each invite, then enqueue its asynq
// task), retry a campaign's failures, cancel, purge, resume a pause. The CLI,
// the importer, the scheduler, the dashboard and the demo use it; the
// worker (the executor) does not.
//
// Redis is reached through internal/rdb (records, counters, scripts) and
// tasks written in asynq's format by rdb.EnqueueTasks (a batch per round
// trip), and asynq's inspector.
package producer
