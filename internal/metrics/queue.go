package metrics

import (
	"slices"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
)

// queueCollector exports asynq's queue state, read through the Inspector at
// each scrape, under the names of asynq's own collector
// (github.com/hibiken/asynq/x/metrics), so that asynqmon's charts and
// dashboards made for asynq work unchanged. That collector is not used
// itself: its module was last published in 2021 against asynq v0.19 and
// go-redis v8, and it reports a failed read to the standard logger and
// exports nothing, where this one says so in mxinvite_queue_metrics_up.
type queueCollector struct {
	in      *asynq.Inspector
	queues  []string
	timeout time.Duration

	// reading is set while a read is in progress: the Inspector takes no
	// context, so a read that outlives its scrape is left to finish, and
	// scrapes meanwhile report the queues down instead of piling up reads.
	reading atomic.Bool
}

func newQueueCollector(in *asynq.Inspector, queues []string, timeout time.Duration) *queueCollector {
	return &queueCollector{in: in, queues: slices.Clone(queues), timeout: timeout}
}

func queueDesc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, append([]string{"queue"}, labels...), nil)
}

var (
	descTasks = queueDesc("asynq_tasks_enqueued_total",
		"Tasks in the queue, by state (a gauge despite its name, as asynq's collector has it).", "state")
	descSize      = queueDesc("asynq_queue_size", "Tasks in the queue, all states.")
	descLatency   = queueDesc("asynq_queue_latency_seconds", "How long the oldest pending task has waited.")
	descMemory    = queueDesc("asynq_queue_memory_usage_approx_bytes", "Redis memory the queue uses (sampled, approximate).")
	descProcessed = queueDesc("asynq_tasks_processed_total", "Tasks processed, succeeded or failed.")
	descFailed    = queueDesc("asynq_tasks_failed_total", "Tasks that failed, as asynq counts them: for mxinvite, every invite that ended with a failure status (its task is archived, not retried), plus deliveries that met Redis trouble.")
	descPaused    = queueDesc("asynq_queue_paused_total", "1 when the queue is paused (a gauge despite its name, as asynq's collector has it).")
	descUp        = queueDesc("mxinvite_queue_metrics_up", "1 when the queue's state could be read at this scrape, else 0.")
)

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descTasks, descSize, descLatency, descMemory, descProcessed, descFailed, descPaused, descUp} {
		ch <- d
	}
}

// Collect exports what a read within the timeout found; a queue that could
// not be read in time has only mxinvite_queue_metrics_up 0.
func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	infos := make([]*asynq.QueueInfo, len(c.queues)) // nil: not read
	if c.reading.CompareAndSwap(false, true) {
		done := make(chan []*asynq.QueueInfo, 1)
		go func() {
			defer c.reading.Store(false)
			done <- c.read()
		}()
		t := time.NewTimer(c.timeout)
		select {
		case infos = <-done:
		case <-t.C:
		}
		t.Stop()
	}
	for i, q := range c.queues {
		info := infos[i]
		if info == nil {
			ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, 0, q)
			continue
		}
		ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, 1, q)
		gauge := func(d *prometheus.Desc, v float64, labels ...string) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, append([]string{q}, labels...)...)
		}
		for state, n := range map[string]int{
			"active": info.Active, "pending": info.Pending, "scheduled": info.Scheduled, "retry": info.Retry,
			"archived": info.Archived, "completed": info.Completed, "aggregating": info.Aggregating,
		} {
			gauge(descTasks, float64(n), state)
		}
		gauge(descSize, float64(info.Size))
		gauge(descLatency, info.Latency.Seconds())
		gauge(descMemory, float64(info.MemoryUsage))
		gauge(descPaused, float64(b2i(info.Paused)))
		ch <- prometheus.MustNewConstMetric(descProcessed, prometheus.CounterValue, float64(info.ProcessedTotal), q)
		ch <- prometheus.MustNewConstMetric(descFailed, prometheus.CounterValue, float64(info.FailedTotal), q)
	}
}

// read reads every queue's state (nil for a queue that could not be read).
func (c *queueCollector) read() []*asynq.QueueInfo {
	infos := make([]*asynq.QueueInfo, len(c.queues))
	for i, q := range c.queues {
		infos[i], _ = c.info(q)
	}
	return infos
}

// info reads a queue's state; a queue asynq has not seen yet is empty.
func (c *queueCollector) info(q string) (*asynq.QueueInfo, error) {
	info, err := c.in.GetQueueInfo(q)
	if err == nil {
		return info, nil
	}
	known, qerr := c.in.Queues()
	if qerr == nil && !slices.Contains(known, q) {
		return &asynq.QueueInfo{Queue: q}, nil
	}
	return nil, err
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
