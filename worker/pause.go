package worker

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// A pause holds every invite of a sender or of a campaign: nothing of it is
// sent, and its invites stay queued (state "paused" once a worker has seen
// them), until the pause ends. A failure that belongs to a sender (a dead
// access token, identity-server terms not accepted) or to a campaign (its
// first invites all failed the same way) is handled once for it, not once
// per address. Pauses live in Redis, so every worker process honours them and
// they survive restarts.
//
// Keys: {prefix}:pause:{scope}:{name} (hash: kind, reason, since_ms) and
// {prefix}:pauses (zset of "{scope}:{name}", scored by since_ms).

// PauseScope says what a pause holds.
type PauseScope string

// The scopes of a pause.
const (
	// PauseSender holds every invite of a sender profile, of every campaign.
	PauseSender PauseScope = "sender"
	// PauseCampaign holds every invite of one campaign.
	PauseCampaign PauseScope = "campaign"
)

// ParsePauseScope reads "sender" or "campaign".
func ParsePauseScope(s string) (PauseScope, error) {
	switch PauseScope(s) {
	case PauseSender, PauseCampaign:
		return PauseScope(s), nil
	}
	return "", fmt.Errorf("pause scope %q: want sender or campaign", s)
}

// Kinds of pause: why it was set, for programs (Reason is for people).
const (
	PauseDeadToken     = "dead_token"     // the homeserver refuses the sender's access token
	PauseIdentityTerms = "identity_terms" // the identity server's terms are not accepted
	PauseIdentityToken = "identity_token" // the identity server refuses the configured token
	PauseBreaker       = "breaker"        // the campaign's first invites all failed the same way
	PauseManual        = "manual"         // set by an operator
)

// Pause is one pause as stored in Redis.
type Pause struct {
	Scope  PauseScope `json:"scope"`
	Name   string     `json:"name"`
	Kind   string     `json:"kind"`
	Reason string     `json:"reason"`
	Since  time.Time  `json:"since"`
}

// String is the pause in one line, for logs and the CLI.
func (p Pause) String() string {
	return fmt.Sprintf("%s %s paused since %s: %s", p.Scope, p.Name, p.Since.UTC().Format(time.RFC3339), p.Reason)
}

// ErrNotPaused is returned by Resume when nothing was paused.
var ErrNotPaused = errors.New("not paused")

func (k keys) pause(scope PauseScope, name string) string {
	return k.prefix + ":pause:" + string(scope) + ":" + name
}
func (k keys) pauses() string { return k.prefix + ":pauses" }

// luaSetPause records a pause unless one is already there (the first
// reason and time stay: a second worker meeting the same dead token does not
// move "since"). pauseSetScript and breakerScript share it.
const luaSetPause = `
local function set_pause(pause, pauses, member, kind, reason)
  if redis.call('EXISTS', pause) == 1 then return 0 end
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  redis.call('HSET', pause, 'kind', kind, 'reason', reason, 'since_ms', now)
  redis.call('ZADD', pauses, now, member)
  return 1
end
`

// pauseSetScript records a pause (luaSetPause).
//
// KEYS[1] the pause hash, KEYS[2] the pauses zset. ARGV[1] "{scope}:{name}",
// ARGV[2] kind, ARGV[3] reason. Returns 1 when set, 0 when already paused.
var pauseSetScript = redis.NewScript(luaSetPause + `
return set_pause(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3])
`)

// SetPause pauses a sender or campaign; created is false when it already
// was paused (the earlier pause is kept).
func (s *Store) SetPause(ctx context.Context, scope PauseScope, name, kind, reason string) (created bool, err error) {
	n, err := pauseSetScript.Run(ctx, s.rdb, []string{s.k.pause(scope, name), s.k.pauses()},
		string(scope)+":"+name, kind, reason).Int()
	if err != nil {
		return false, fmt.Errorf("pause %s %q: %w", scope, name, err)
	}
	return n == 1, nil
}

// ClearPause ends a pause; ok is false when there was none. With kinds given,
// only a pause of one of those kinds ends (a worker that got a new token
// ends a dead-token pause, not an operator's).
func (s *Store) ClearPause(ctx context.Context, scope PauseScope, name string, kinds ...string) (ok bool, err error) {
	if len(kinds) > 0 {
		kind, err := s.rdb.HGet(ctx, s.k.pause(scope, name), "kind").Result()
		if errors.Is(err, redis.Nil) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("read pause of %s %q: %w", scope, name, err)
		}
		if !slices.Contains(kinds, kind) {
			return false, nil
		}
	}
	var del *redis.IntCmd
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		del = p.Del(ctx, s.k.pause(scope, name))
		p.ZRem(ctx, s.k.pauses(), string(scope)+":"+name)
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("resume %s %q: %w", scope, name, err)
	}
	return del.Val() == 1, nil
}

// GetPause reads one pause; nil when there is none.
func (s *Store) GetPause(ctx context.Context, scope PauseScope, name string) (*Pause, error) {
	h, err := s.rdb.HGetAll(ctx, s.k.pause(scope, name)).Result()
	if err != nil {
		return nil, fmt.Errorf("read pause of %s %q: %w", scope, name, err)
	}
	if len(h) == 0 {
		return nil, nil
	}
	return pauseFromHash(scope, name, h), nil
}

// PauseOf returns the pause holding a campaign's invites sent as sender: the
// campaign's own pause first, else the sender's; nil when neither is paused.
func (s *Store) PauseOf(ctx context.Context, campaign, sender string) (*Pause, error) {
	if p, err := s.GetPause(ctx, PauseCampaign, campaign); p != nil || err != nil {
		return p, err
	}
	if sender == "" {
		return nil, nil
	}
	return s.GetPause(ctx, PauseSender, sender)
}

// Pauses lists every pause, oldest first.
func (s *Store) Pauses(ctx context.Context) ([]Pause, error) {
	members, err := s.rdb.ZRange(ctx, s.k.pauses(), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("list pauses: %w", err)
	}
	var out []Pause
	for _, m := range members {
		scope, name, _ := strings.Cut(m, ":")
		p, err := s.GetPause(ctx, PauseScope(scope), name)
		if err != nil {
			return nil, err
		}
		if p != nil {
			out = append(out, *p)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Since.Before(out[j].Since) })
	return out, nil
}

func pauseFromHash(scope PauseScope, name string, h map[string]string) *Pause {
	ms, _ := strconv.ParseInt(h["since_ms"], 10, 64)
	return &Pause{Scope: scope, Name: name, Kind: h["kind"], Reason: h["reason"], Since: time.UnixMilli(ms).UTC()}
}

// AllPaused returns an error naming the pauses when every one of senders
// is paused (in Redis, by any worker process), nil otherwise: a worker
// whose senders are all paused sends nothing, which readiness reports.
func (s *Store) AllPaused(ctx context.Context, senders []string) error {
	if len(senders) == 0 {
		return nil
	}
	var reasons []string
	for _, name := range senders {
		p, err := s.GetPause(ctx, PauseSender, name)
		if err != nil {
			return err
		}
		if p == nil {
			return nil
		}
		reasons = append(reasons, p.Name+": "+p.Reason)
	}
	return fmt.Errorf("every sender is paused (%s)", strings.Join(reasons, "; "))
}
