package rdb

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/tasks"
)

// purgeScript deletes one batch of a campaign's finished (or cancelled)
// invites: records, their share of the campaign counters, index entries
// and the asynq tasks they left behind (archived, completed or waiting to
// retry; pending, scheduled and active tasks belong to invites still being
// sent and are never touched), as asynq v0.26's deleteTaskCmd does for those
// states. Doing it here is what lets a purge delete thousands of tasks per
// round trip instead of one (asynq's Inspector has no batch delete by ID).
//
// KEYS[1] -> the campaign's counts
// KEYS[2] -> the campaign's invites index (the sorted set)
// KEYS[3] -> the campaign's list (index.go)
// KEYS[4..6] -> asynq's archived, completed and retry sets of the queue
// KEYS[7..] -> per invite: its record, then the task hashes of its
//
//	generations 0..g (g read before the call)
//
// ARGV[1] -> the campaign
// ARGV[2] -> cutoff: "" for none, else a UTC time "YYYY-MM-DDTHH:MM:SS"
//
//	(only invites finished before that second go)
//
// ARGV[3] -> "1" for a dry run (count, delete nothing)
// ARGV[4..6] -> asynq's names of the archived, completed and retry states
// ARGV[7..] -> per invite: key, its entry's position (0 for the sorted
//
//	set), g, then the g+1 task IDs
//
// An index entry that does not hold its record (index.go: the record is
// gone, expired by the finished-record TTL, or belongs to another campaign
// or place) is dropped from the sorted set, or blanked in the list and
// counted out of "indexed"; the state counters keep counting an expired
// record, whose state is unknown.
//
// Returns {records purged, tasks purged, stale index entries, kept}.
var purgeScript = newScript("purge", script(luaForget, `
local campaign, cutoff, dry = ARGV[1], ARGV[2], ARGV[3] == '1'
local sets = {[ARGV[4]] = KEYS[4], [ARGV[5]] = KEYS[5], [ARGV[6]] = KEYS[6]}
local purged, tasks, stale, kept = 0, 0, 0, 0
local i, k = 7, 7
while i <= #ARGV do
  local key, pos, gen = ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])
  local rec = KEYS[k]
  local r = redis.call('HMGET', rec, 'state', 'finished_at', 'campaign', 'generation', 'requests', 'rate_limited', 'ix')
  local holds
  if pos == 0 then holds = r[1] and r[3] == campaign and not r[7]
  else holds = r[1] and r[3] == campaign and r[7] == tostring(pos) end
  if not holds then
    stale = stale + 1
    if not dry then
      if pos == 0 then redis.call('ZREM', KEYS[2], key) else unlist(KEYS[1], KEYS[3], key, pos) end
    end
  elseif (r[1] == ST.done or r[1] == ST.cancelled) and (cutoff == '' or string.sub(r[2] or '', 1, 19) < cutoff) then
    purged = purged + 1
    if tonumber(r[4] or '0') == gen then
      for g = 0, gen do
        local tk, id = KEYS[k + 1 + g], ARGV[i + 3 + g]
        local set = sets[redis.call('HGET', tk, 'state') or '']
        if set then
          tasks = tasks + 1
          if not dry then
            redis.call('ZREM', set, id)
            redis.call('DEL', tk)
          end
        end
      end
    end
    if not dry then
      local req, lim = tonumber(r[5] or '0'), tonumber(r[6] or '0')
      if req ~= 0 then redis.call('HINCRBY', KEYS[1], 'requests', -req) end
      if lim ~= 0 then redis.call('HINCRBY', KEYS[1], 'rate_limited', -lim) end
      forget(rec, key, KEYS[1], KEYS[2], KEYS[3])
    end
  else
    kept = kept + 1
  end
  i = i + 4 + gen
  k = k + 2 + gen
end
return {purged, tasks, stale, kept}
`))

// purgeStreamScript deletes one batch of results stream entries.
//
// KEYS[1] -> {prefix}:results
// ARGV[1] -> campaign ("" for any)
// ARGV[2] -> cutoff in ms (0 for none: entry IDs are the finish times in
//
//	ms, so the scan stops at the first entry at or after it)
//
// ARGV[3] -> exclusive start ID ("-" for the beginning)
// ARGV[4] -> how many to look at
// ARGV[5] -> "1" for a dry run
//
// Returns {entries matched, last ID looked at ("" at the end)}.
var purgeStreamScript = newScript("purgeStream", stateless(`
local campaign, cutoff, start, count, dry = ARGV[1], tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4]), ARGV[5] == '1'
local from = start
if start ~= '-' then from = '(' .. start end
local entries = redis.call('XRANGE', KEYS[1], from, '+', 'COUNT', count)
local matched, last, ids = 0, '', {}
for _, e in ipairs(entries) do
  local id, fields = e[1], e[2]
  local ms = tonumber(string.match(id, '^(%d+)'))
  if cutoff > 0 and ms >= cutoff then
    last = ''
    break
  end
  last = id
  local ok = campaign == ''
  for i = 1, #fields, 2 do
    if fields[i] == 'campaign' then ok = ok or fields[i + 1] == campaign end
  end
  if ok then
    matched = matched + 1
    table.insert(ids, id)
  end
end
if #entries < count then last = '' end
if not dry and #ids > 0 then redis.call('XDEL', KEYS[1], unpack(ids)) end
return {matched, last}
`))

// dropCampaignScript deletes a campaign with no invite left: its counters,
// its meta, its pause (a campaign with nothing left holds nothing) and its
// name. It checks in the same step, so an invite registered meanwhile
// keeps its campaign.
//
// KEYS[1] -> the campaign's invites index (the sorted set)
// KEYS[2] -> its counts
// KEYS[3] -> its meta
// KEYS[4] -> its pause
// KEYS[5] -> {prefix}:pauses
// KEYS[6] -> {prefix}:campaigns
// KEYS[7] -> its list (index.go; only blanked entries are left in it)
// ARGV[1] -> the campaign
// ARGV[2] -> its pause's member in {prefix}:pauses
//
// Returns 1 when deleted, 0 when invites are left.
var dropCampaignScript = newScript("dropCampaign", stateless(`
if redis.call('ZCARD', KEYS[1]) > 0 or tonumber(redis.call('HGET', KEYS[2], 'indexed') or '0') > 0 then return 0 end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4], KEYS[7])
redis.call('ZREM', KEYS[5], ARGV[2])
redis.call('SREM', KEYS[6], ARGV[1])
return 1
`))

// Purge deletes finished invites — records, counters, index entries, the
// asynq tasks left for them in their campaign's queue under base and their results stream entries — in
// batches of BatchSize, each one script call, so that a purge takes time
// linear in the invites looked at and never blocks Redis for long. Invites
// not finished are kept (cancel them first to purge a whole campaign). A
// campaign left without invites is deleted.
func (c *Client) Purge(ctx context.Context, base string, opts record.PurgeOptions) (record.PurgeStats, error) {
	st := record.PurgeStats{DryRun: opts.DryRun, CampaignsDeleted: []string{}}
	if opts.Campaign == "" && opts.FinishedBefore.IsZero() {
		return st, errors.New("purge: give a campaign, a finished-before time, or both")
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = record.DefaultPurgeBatch
	}
	campaigns := []string{opts.Campaign}
	if opts.Campaign == "" {
		var err error
		if campaigns, err = c.Campaigns(ctx); err != nil {
			return st, err
		}
	} else if ok, err := c.CampaignKnown(ctx, opts.Campaign); err != nil {
		return st, fmt.Errorf("purge: %w", err)
	} else if !ok {
		return st, fmt.Errorf("purge: campaign %q: %w", opts.Campaign, record.ErrUnknownCampaign)
	}
	for _, name := range campaigns {
		queue, err := c.QueueOfCampaign(ctx, base, name)
		if err != nil {
			return st, err
		}
		if err := c.purgeCampaign(ctx, queue, name, opts, &st); err != nil {
			return st, err
		}
	}
	n, err := c.purgeStream(ctx, opts)
	st.StreamEntries = n
	return st, err
}

// purgeCampaign runs purgeScript over one campaign's index.
func (c *Client) purgeCampaign(ctx context.Context, queue, campaign string, opts record.PurgeOptions, st *record.PurgeStats) error {
	cutoff, cutoffMS := "", int64(0)
	if !opts.FinishedBefore.IsZero() {
		cutoff = opts.FinishedBefore.UTC().Format("2006-01-02T15:04:05")
		cutoffMS = opts.FinishedBefore.Truncate(time.Second).UnixMilli()
	}
	removed := 0 // index entries this campaign loses (or would)
	batch := func(entries []indexEntry) ([]int64, error) {
		res, err := c.purgeBatch(ctx, queue, campaign, cutoff, opts.DryRun, entries)
		if err != nil {
			return nil, fmt.Errorf("purge campaign %q: %w", campaign, err)
		}
		st.Records += int(res[0])
		st.Tasks += int(res[1])
		st.StaleIndexEntries += int(res[2])
		removed += int(res[0] + res[2])
		return res, nil
	}
	// The sorted set loses what is purged, so a page's kept entries are the
	// next page's first ranks.
	for first := int64(0); ; {
		entries, done, err := c.purgePage(ctx, campaign, first, int64(opts.BatchSize), cutoffMS)
		if err != nil {
			return fmt.Errorf("purge campaign %q: %w", campaign, err)
		}
		if len(entries) > 0 {
			res, err := batch(entries)
			if err != nil {
				return err
			}
			first += res[3] // the kept entries stay before the next batch
			if opts.DryRun {
				first += res[0] + res[2] // and so does everything, in a dry run
			}
		}
		if done {
			break
		}
	}
	// The list keeps its entries' positions (blanked, not removed). It has
	// no enqueue times: each record tells whether it finished before the
	// cutoff.
	err := c.walkList(ctx, campaign, int64(opts.BatchSize), func(entries []indexEntry) error {
		_, err := batch(entries)
		return err
	})
	if err != nil {
		return err
	}
	return c.deleteIfEmpty(ctx, campaign, removed, opts.DryRun, st)
}

// purgePage reads a page of a campaign's index from rank first: the keys
// enqueued before cutoffMS (index scores are enqueue times: an invite
// enqueued at or after the cutoff cannot have finished before it). done is
// set when the page reaches the end of the index or the cutoff.
func (c *Client) purgePage(ctx context.Context, campaign string, first, count, cutoffMS int64) (keys []indexEntry, done bool, err error) {
	entries, err := c.rdb.ZRangeWithScores(ctx, c.k.invites(campaign), first, first+count-1).Result()
	if err != nil {
		return nil, false, err
	}
	done = int64(len(entries)) < count
	for _, e := range entries {
		if cutoffMS > 0 && int64(e.Score) >= cutoffMS {
			return keys, true, nil
		}
		key, _ := e.Member.(string)
		keys = append(keys, indexEntry{key: key})
	}
	return keys, done, nil
}

// purgeBatch runs purgeScript for the entries.
func (c *Client) purgeBatch(ctx context.Context, queue, campaign, cutoff string, dry bool, entries []indexEntry) ([]int64, error) {
	recs, err := c.entryRecords(ctx, entries)
	if err != nil {
		return nil, err
	}
	rkeys := []string{c.k.counts(campaign), c.k.invites(campaign), c.k.order(campaign),
		asynqZset(queue, asynqArchived), asynqZset(queue, asynqCompleted), asynqZset(queue, asynqRetry)}
	args := []any{campaign, cutoff, boolArg(dry), asynqArchived, asynqCompleted, asynqRetry}
	for i, e := range entries {
		rkeys = append(rkeys, c.k.invite(e.key))
		args = append(args, e.key, e.pos, recs[i].generation)
		for g := 0; g <= recs[i].generation; g++ {
			id := tasks.TaskIDOf(e.key, g)
			rkeys = append(rkeys, asynqTask(queue, id))
			args = append(args, id)
		}
	}
	res, err := purgeScript.Run(ctx, c.rdb, rkeys, args...).Int64Slice()
	if err == nil && len(res) != 4 {
		err = fmt.Errorf("%d values in the reply, want 4", len(res))
	}
	return res, err
}

// deleteIfEmpty counts the campaign's invites left and deletes a campaign
// left without any: its counters and its name.
func (c *Client) deleteIfEmpty(ctx context.Context, campaign string, removed int, dry bool, st *record.PurgeStats) error {
	n, err := c.indexSize(ctx, campaign)
	if err != nil {
		return fmt.Errorf("purge campaign %q: %w", campaign, err)
	}
	left := int(n)
	if dry {
		left -= removed
	}
	st.Kept += left
	if left > 0 {
		return nil
	}
	if !dry {
		ok, err := dropCampaignScript.Run(ctx, c.rdb, []string{c.k.invites(campaign), c.k.counts(campaign), c.k.meta(campaign),
			c.k.pause(string(record.PauseCampaign), campaign), c.k.pauses(), c.k.campaigns(), c.k.order(campaign)},
			campaign, pauseMember(string(record.PauseCampaign), campaign)).Int()
		if err != nil {
			return fmt.Errorf("purge campaign %q: %w", campaign, err)
		}
		if ok == 0 {
			return nil // an invite was registered meanwhile
		}
	}
	st.CampaignsDeleted = append(st.CampaignsDeleted, campaign)
	return nil
}

// purgeStream runs purgeStreamScript over the results stream.
func (c *Client) purgeStream(ctx context.Context, opts record.PurgeOptions) (int, error) {
	var cutoffMS int64
	if !opts.FinishedBefore.IsZero() {
		cutoffMS = opts.FinishedBefore.Truncate(time.Second).UnixMilli()
	}
	if opts.Campaign == "" && !opts.DryRun {
		// Entry IDs are finish times: trimming below the cutoff is exact,
		// and cheaper than looking at each entry.
		n, err := c.rdb.XTrimMinID(ctx, c.k.results(), strconv.FormatInt(cutoffMS, 10)).Result()
		if err != nil {
			return 0, fmt.Errorf("purge the results stream: %w", err)
		}
		return int(n), nil
	}
	total := 0
	for start := "-"; ; {
		res, err := purgeStreamScript.Run(ctx, c.rdb, []string{c.k.results()}, opts.Campaign, cutoffMS, start,
			opts.BatchSize, boolArg(opts.DryRun)).Slice()
		if err == nil && len(res) != 2 {
			err = fmt.Errorf("%d values in the reply, want 2", len(res))
		}
		if err != nil {
			return total, fmt.Errorf("purge the results stream: %w", err)
		}
		n, _ := res[0].(int64)
		total += int(n)
		next, _ := res[1].(string)
		if next == "" {
			return total, nil
		}
		start = next
	}
}
