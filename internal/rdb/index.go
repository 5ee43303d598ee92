package rdb

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// A campaign's index lists its invites in enqueue order. It has two parts,
// read in this order:
//
//   - {prefix}:campaign:{name}:invites, a sorted set of invite keys scored
//     by enqueue time (ms): the index of the releases before issue 26's
//     cheaper index (136 B per invite in Redis). A forget removes its
//     entry (ZREM), so every entry is an invite of the campaign, or a record
//     gone without a forget (expired by the finished-record TTL).
//   - {prefix}:campaign:{name}:order, a list of invite keys in the order
//     they were registered (34 B per invite). Its entries are numbered from
//     1 (the position), and the record of an invite in the list keeps its
//     position ("ix"). A forget does not remove the entry, which would
//     renumber the ones after it (and LREM compares every entry): it
//     blanks it (LSET to "", 2 B) and counts the invite out of "indexed",
//     the number of invites in the list (in the campaign's counters).
//     Finding a position walks the list's nodes, not its entries: a
//     forget's LINDEX and LSET in the middle of a million entries cost
//     about 10 us together. The list goes with its campaign (purge).
//
// An entry is its invite's when (holds) the record exists and, in the
// list, belongs to the campaign and keeps the entry's position; in the
// sorted set, when the record has no position (a record with one is at
// its place in the list). So an entry a forget could not blank (a forget
// of an earlier release, a record expired) never shows an invite twice or
// in the wrong place, and readers skip it.
//
// The index's size ("enqueued") is the sorted set's (ZCARD) plus
// "indexed".

// indexEntry is one entry of a campaign's index: an invite key and its
// position in the list, 0 in the sorted set.
type indexEntry struct {
	key string
	pos int64
}

// holds reports whether the entry of campaign's index is its invite's,
// given what was read of the invite's record.
func (e indexEntry) holds(campaign string, r entryRecord) bool {
	if !r.exists {
		return false
	}
	if e.pos == 0 {
		return r.position == ""
	}
	return r.campaign == campaign && r.position == strconv.FormatInt(e.pos, 10)
}

// Fields of the list part.
const (
	fieldIndexed  = "indexed" // invites in the list (the campaign's counters)
	fieldPosition = "ix"      // a record's position in its campaign's list
)

// sortedPage reads count entries of the sorted set from rank first.
func (c *Client) sortedPage(ctx context.Context, campaign string, first, count int64) ([]indexEntry, error) {
	keys, err := c.rdb.ZRange(ctx, c.k.invites(campaign), first, first+count-1).Result()
	if err != nil {
		return nil, err
	}
	out := make([]indexEntry, len(keys))
	for i, k := range keys {
		out[i] = indexEntry{key: k}
	}
	return out, nil
}

// listPage reads up to count entries of the list from position from,
// skipping blanked ones; next is the position after the last one read, 0
// at the end.
func (c *Client) listPage(ctx context.Context, campaign string, from, count int64) (entries []indexEntry, next int64, err error) {
	keys, err := c.rdb.LRange(ctx, c.k.order(campaign), from-1, from+count-2).Result()
	if err != nil {
		return nil, 0, err
	}
	for i, k := range keys {
		if k != "" {
			entries = append(entries, indexEntry{key: k, pos: from + int64(i)})
		}
	}
	if int64(len(keys)) < count {
		return entries, 0, nil
	}
	return entries, from + count, nil
}

// walkIndex calls fn with the campaign's index, page entries at a time, in
// order: the sorted set, then the list. The entries are not checked
// (holds); a page may be short where the list is blanked. It suits walks
// that remove no entry (the sorted set's ranks stay). fn's error stops the
// walk and is returned as it is.
func (c *Client) walkIndex(ctx context.Context, campaign string, page int64, fn func([]indexEntry) error) error {
	for first := int64(0); ; first += page {
		entries, err := c.sortedPage(ctx, campaign, first, page)
		if err != nil {
			return fmt.Errorf("list invites of campaign %q: %w", campaign, err)
		}
		if len(entries) > 0 {
			if err := fn(entries); err != nil {
				return err
			}
		}
		if int64(len(entries)) < page {
			break
		}
	}
	return c.walkList(ctx, campaign, page, fn)
}

// walkList calls fn with the list part of the campaign's index, page
// entries at a time.
func (c *Client) walkList(ctx context.Context, campaign string, page int64, fn func([]indexEntry) error) error {
	for from := int64(1); from != 0; {
		entries, next, err := c.listPage(ctx, campaign, from, page)
		if err != nil {
			return fmt.Errorf("list invites of campaign %q: %w", campaign, err)
		}
		if len(entries) > 0 {
			if err := fn(entries); err != nil {
				return err
			}
		}
		from = next
	}
	return nil
}

// entryRecord is what the walks read of an entry's record to tell whether
// the entry holds it.
type entryRecord struct {
	exists     bool
	campaign   string
	position   string
	generation int
}

// entryRecords reads, for each entry, its record's existence, campaign,
// position and generation, in one round trip.
func (c *Client) entryRecords(ctx context.Context, entries []indexEntry) ([]entryRecord, error) {
	cmds := make([]*redis.SliceCmd, len(entries))
	_, err := c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, e := range entries {
			cmds[i] = p.HMGet(ctx, c.k.invite(e.key), "state", "campaign", fieldPosition, "generation")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]entryRecord, len(entries))
	for i, cmd := range cmds {
		v := cmd.Val()
		if len(v) != 4 {
			continue
		}
		_, out[i].exists = v[0].(string)
		out[i].campaign, _ = v[1].(string)
		out[i].position, _ = v[2].(string)
		if s, ok := v[3].(string); ok {
			out[i].generation, _ = strconv.Atoi(s)
		}
	}
	return out, nil
}

// heldEntries keeps the entries that hold their records (holds), with
// their records' generations.
func (c *Client) heldEntries(ctx context.Context, campaign string, entries []indexEntry) ([]indexEntry, []int, error) {
	recs, err := c.entryRecords(ctx, entries)
	if err != nil {
		return nil, nil, err
	}
	var held []indexEntry
	var gens []int
	for i, e := range entries {
		if e.holds(campaign, recs[i]) {
			held = append(held, e)
			gens = append(gens, recs[i].generation)
		}
	}
	return held, gens, nil
}

// indexSize is the number of invites in the campaign's index: its sorted
// set's and its list's (index.go), read at the same moment.
func (c *Client) indexSize(ctx context.Context, campaign string) (int64, error) {
	var zcard *redis.IntCmd
	var indexed *redis.StringCmd
	_, err := c.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		zcard = p.ZCard(ctx, c.k.invites(campaign))
		indexed = p.HGet(ctx, c.k.counts(campaign), fieldIndexed)
		return nil
	})
	if err != nil && err != redis.Nil {
		return 0, err
	}
	return zcard.Val() + listed(indexed.Val()), nil
}

// listed is the number of invites in a campaign's list: its counters'
// "indexed" field (missing reads as 0).
func listed(indexed string) int64 {
	n, _ := strconv.ParseInt(indexed, 10, 64)
	return n
}

// firstListed is the key of the first invite in the campaign's list ("" for
// none).
func (c *Client) firstListed(ctx context.Context, campaign string) (string, error) {
	var first string
	errFound := errors.New("found")
	err := c.walkList(ctx, campaign, 100, func(entries []indexEntry) error {
		held, _, err := c.heldEntries(ctx, campaign, entries)
		if err != nil || len(held) == 0 {
			return err
		}
		first = held[0].key
		return errFound
	})
	if err != nil && !errors.Is(err, errFound) {
		return "", fmt.Errorf("read the first invite of campaign %q: %w", campaign, err)
	}
	return first, nil
}
