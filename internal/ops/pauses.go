package ops

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/record"
)

// PauseSource reads the senders' pauses where they live: Redis, the one
// place every worker, `mxinvite resume`, `pause` and the dashboard write
// them.
type PauseSource interface {
	// PausedSenders returns the senders among names that are paused now,
	// each with its reason.
	PausedSenders(ctx context.Context, names []string) (map[string]string, error)
}

// StorePauses is a PauseSource over internal/rdb (its GetPause: no key or
// script of its own).
type StorePauses struct{ Store *rdb.Client }

// PausedSenders implements PauseSource.
func (s StorePauses) PausedSenders(ctx context.Context, names []string) (map[string]string, error) {
	out := map[string]string{}
	for _, name := range names {
		p, err := s.Store.GetPause(ctx, record.PauseSender, name)
		if err != nil {
			return nil, err
		}
		if p != nil {
			out[name] = p.Reason
		}
	}
	return out, nil
}

// SenderPauses tells readiness and the paused gauge what Redis says of the
// senders' pauses, so that a pause or resume by anyone, and a Redis that
// restarted empty, show within one poll: Ready reads Redis at each probe;
// Run polls it every PollInterval and reports every sender, paused or not,
// to the gauge.
type SenderPauses struct {
	src   PauseSource
	names []string
	every time.Duration
	set   func(sender string, paused bool)
	log   *zerolog.Logger

	mu      sync.Mutex
	failing bool // the last poll failed (logged once per failing spell)
}

// DefaultPausePoll is how often SenderPauses.Run reads the pauses.
const DefaultPausePoll = 2 * time.Second

// NewSenderPauses follows the named senders in src. set receives each
// sender's state at every poll (the metrics' SetSenderPaused); every <= 0
// means DefaultPausePoll; log receives poll failures (nil: none).
func NewSenderPauses(src PauseSource, names []string, every time.Duration, set func(sender string, paused bool), log *zerolog.Logger) *SenderPauses {
	if every <= 0 {
		every = DefaultPausePoll
	}
	if set == nil {
		set = func(string, bool) {}
	}
	if log == nil {
		l := zerolog.Nop()
		log = &l
	}
	return &SenderPauses{src: src, names: slices.Clone(names), every: every, set: set, log: log}
}

// Ready fails, naming the pauses, when every sender is paused: the worker
// then sends nothing until someone resumes one.
func (p *SenderPauses) Ready(ctx context.Context) error {
	if len(p.names) == 0 {
		return nil
	}
	paused, err := p.src.PausedSenders(ctx, p.names)
	if err != nil {
		return err
	}
	if len(paused) < len(p.names) {
		return nil
	}
	reasons := make([]string, 0, len(paused))
	for name, reason := range paused {
		reasons = append(reasons, name+": "+reason)
	}
	sort.Strings(reasons)
	return fmt.Errorf("every sender is paused (%s)", strings.Join(reasons, "; "))
}

// Poll reads the pauses once and reports them; on an error (Redis down)
// the gauge keeps its values and the error is returned.
func (p *SenderPauses) Poll(ctx context.Context) error {
	rctx, cancel := context.WithTimeout(ctx, max(p.every, time.Second))
	defer cancel()
	paused, err := p.src.PausedSenders(rctx, p.names)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		if !p.failing && ctx.Err() == nil { // not at shutdown
			p.log.Warn().Err(err).Msg("cannot read the senders' pauses; mxinvite_sender_paused keeps its last values")
		}
		p.failing = true
		return err
	}
	p.failing = false
	for _, name := range p.names {
		_, ok := paused[name]
		p.set(name, ok)
	}
	return nil
}

// Run polls until ctx ends: once at once, then every PollInterval.
func (p *SenderPauses) Run(ctx context.Context) {
	t := time.NewTicker(p.every)
	defer t.Stop()
	for {
		_ = p.Poll(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
