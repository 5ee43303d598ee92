package rdb

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/tasks"
)

// Detail reads one invite's record with its progress fields; ok is false
// when there is none.
func (c *Client) Detail(ctx context.Context, key string) (d record.Detail, ok bool, err error) {
	h, ok, err := c.inviteHash(ctx, key)
	if !ok {
		return record.Detail{}, false, err
	}
	return detailFromHash(key, h), true, nil
}

func detailFromHash(key string, h map[string]string) record.Detail {
	num := func(f string) int { n, _ := strconv.Atoi(h[f]); return n }
	d := record.Detail{
		Result: resultFromHash(key, h), Retries: num("retries"), Ambiguous: num("ambiguous"), Failures: num("failures"),
		LastStatus: h["last_status"], LastHTTPStatus: num("last_http_status"), LastError: h["last_error"],
		First429: msTime(h["first_429_ms"]), NotBefore: msTime(h["not_before_ms"]),
		InFlight: h["inflight"] == "1", ImportRun: h["import_run"],
	}
	d.CancelledAt, _ = time.Parse(time.RFC3339Nano, h["cancelled_at"])
	return d
}

// ErrBadQuery is returned (wrapped) by FindInvites for a query that is
// neither an address nor a task ID.
var ErrBadQuery = errors.New("not an email address, a phone number or a task ID")

// FindInvites finds the invites of query across every campaign: a task ID
// ("inv:…", any generation), or an address in any spelling (it is
// normalised as enqueue does: "Alice@Example.ORG" finds alice@example.org).
//
// An invite's key is a hash of sender, room, medium and address, not of
// its campaign, so an address is looked up once per (sender, room) that
// some campaign's meta names (or, for campaigns older than meta, its first
// invite): one pipelined read per pair, no walk over the records.
// Campaigns whose invites went to several rooms or senders ("*" in meta)
// are found by the pairs the other campaigns name only.
func (c *Client) FindInvites(ctx context.Context, query string) ([]record.Detail, error) {
	query = strings.TrimSpace(query)
	if key, _, ok := tasks.ParseTaskID(query); ok {
		d, found, err := c.Detail(ctx, key)
		if err != nil || !found {
			return nil, err
		}
		return []record.Detail{d}, nil
	}
	var addrs []tasks.Invite
	for _, m := range []tasks.Medium{tasks.MediumEmail, tasks.MediumMSISDN} {
		if a, err := tasks.NormalizeAddress(m, query); err == nil {
			addrs = append(addrs, tasks.Invite{Medium: m, Address: a})
		}
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("%q: %w", query, ErrBadQuery)
	}
	pairs, err := c.senderRooms(ctx)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var keys []string
	for _, p := range pairs {
		for _, a := range addrs {
			a.Sender, a.RoomID = p[0], p[1]
			if k := a.Key(); !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	cmds := make([]*redis.MapStringStringCmd, len(keys))
	_, err = c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			cmds[i] = p.HGetAll(ctx, c.k.invite(k))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("find %q: %w", query, err)
	}
	var out []record.Detail
	shared := c.sharedFill()
	for i, cmd := range cmds {
		if h := cmd.Val(); len(h) > 0 {
			if err := shared.fill(ctx, h); err != nil {
				return nil, err
			}
			out = append(out, detailFromHash(keys[i], h))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Campaign < out[j].Campaign })
	return out, nil
}

// senderRooms lists the distinct (sender, room) pairs of the campaigns.
func (c *Client) senderRooms(ctx context.Context) ([][2]string, error) {
	infos, err := c.ListCampaigns(ctx)
	if err != nil {
		return nil, err
	}
	seen := map[[2]string]bool{}
	var out [][2]string
	for _, info := range infos {
		p := [2]string{info.Sender, info.RoomID}
		if p[0] == "" || p[1] == "" {
			r, _, ok, err := c.FirstInvite(ctx, info.Name)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
			p = [2]string{r.Sender, r.RoomID}
		}
		if p[0] == "*" || p[1] == "*" || seen[p] {
			continue
		}
		seen[p] = true
		out = append(out, p)
	}
	return out, nil
}

// cancelOneScript cancels one invite not sent yet, and deletes its asynq
// task wherever asynq holds it: the pending list (one LREM: fine for one
// task, unlike a campaign's thousands, see cancelScript), the scheduled or
// the retry set, as asynq v0.26's deleteTaskCmd does. An invite being sent,
// finished or already cancelled is left alone.
//
// KEYS[1] -> the invite's record
// KEYS[2] -> its campaign's counts
// KEYS[3] -> its task's hash (of the generation read before the call)
// KEYS[4] -> asynq's pending list of the queue
// KEYS[5] -> asynq's scheduled set of the queue
// KEYS[6] -> asynq's retry set of the queue
//
// ARGV[1] -> the campaign the record must still belong to
// ARGV[2] -> the generation the record must still have
// ARGV[3] -> the task ID
// ARGV[4] -> the time of the cancel (RFC 3339)
// ARGV[5], ARGV[6], ARGV[7] -> asynq's names of the pending, scheduled and retry states
//
// Returns {state before ("" when gone or changed since read), cancelled 0/1, task removed 0/1}.
var cancelOneScript = newScript("cancel-one", script(`
local rec, campaign, gen, id, at = KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local cur = redis.call('HMGET', rec, 'state', 'generation', 'campaign')
local state = cur[1]
if not state or cur[3] ~= campaign or tonumber(cur[2] or '0') ~= tonumber(gen) then
  return {'', 0, 0}
end
if state == ST.done or state == ST.active or state == ST.cancelled then
  return {state, 0, 0}
end
check('cancel', state, ST.cancelled)
redis.call('HSET', rec, 'state', ST.cancelled, 'cancelled_at', at)
redis.call('HINCRBY', KEYS[2], 'state:' .. state, -1)
redis.call('HINCRBY', KEYS[2], 'state:' .. ST.cancelled, 1)
local removed = 0
local ts = redis.call('HGET', KEYS[3], 'state')
if ts == ARGV[5] then
  removed = redis.call('LREM', KEYS[4], 0, id)
elseif ts == ARGV[6] then
  removed = redis.call('ZREM', KEYS[5], id)
elseif ts == ARGV[7] then
  removed = redis.call('ZREM', KEYS[6], id)
end
if removed > 0 then redis.call('DEL', KEYS[3]) end
return {state, 1, removed > 0 and 1 or 0}
`))

// CancelInvite cancels one invite not sent yet (queued, scheduled,
// retrying, paused) and deletes its task from its campaign's queue under
// base (QueueOfCampaign): no worker takes it.
// It reads the record first; an invite changed in between is reported as
// it is now, not cancelled.
func (c *Client) CancelInvite(ctx context.Context, key, base string) (record.CancelOneStats, error) {
	d, ok, err := c.Detail(ctx, key)
	if err != nil {
		return record.CancelOneStats{}, err
	}
	if !ok {
		return record.CancelOneStats{}, fmt.Errorf("invite %s: %w", key, ErrNoInvite)
	}
	id := tasks.TaskIDOf(key, d.Generation)
	queue, err := c.QueueOfCampaign(ctx, base, d.Campaign)
	if err != nil {
		return record.CancelOneStats{}, err
	}
	keys := []string{c.k.invite(key), c.k.counts(d.Campaign), asynqTask(queue, id), asynqList(queue, asynqPending),
		asynqZset(queue, asynqScheduled), asynqZset(queue, asynqRetry)}
	res, err := cancelOneScript.Run(ctx, c.rdb, keys, d.Campaign, d.Generation, id,
		stamp(time.Now()), asynqPending, asynqScheduled, asynqRetry).Slice()
	if err == nil && len(res) != 3 {
		err = fmt.Errorf("%d values in the reply, want 3", len(res))
	}
	if err != nil {
		return record.CancelOneStats{}, fmt.Errorf("cancel invite %s: %w", key, err)
	}
	before, _ := res[0].(string)
	if before == "" {
		return record.CancelOneStats{}, fmt.Errorf("invite %s changed while it was being cancelled; look again", key)
	}
	n1, _ := res[1].(int64)
	n2, _ := res[2].(int64)
	return record.CancelOneStats{Before: record.State(before), Cancelled: n1 == 1, TaskRemoved: n2 == 1}, nil
}

// ErrNoInvite is returned (wrapped) for an invite key without a record.
var ErrNoInvite = errors.New("no such invite")
