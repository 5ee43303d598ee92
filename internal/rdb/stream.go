package rdb

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The results stream ({prefix}:results) has one entry per final result,
// written by finishScript, with the fields: key task_id campaign room_id
// medium address sender generation status_code status http_status errcode
// error attempts requests rate_limited possible_duplicate enqueued_at
// finished_at. Entry IDs are Redis's time at the finish.

// StreamEntry is one entry of the results stream.
type StreamEntry struct {
	// ID is the entry's ID; At the time in it (Redis's, at the finish).
	ID     string
	At     time.Time
	Fields map[string]string
}

// ReadResults reads up to count entries of the results stream after the
// entry ID after ("" for the beginning).
func (c *Client) ReadResults(ctx context.Context, after string, count int) ([]StreamEntry, error) {
	start := "-"
	if after != "" {
		start = "(" + after
	}
	msgs, err := c.rdb.XRangeN(ctx, c.k.results(), start, "+", int64(count)).Result()
	if err != nil {
		return nil, fmt.Errorf("read the results stream %s: %w", c.k.results(), err)
	}
	out := make([]StreamEntry, len(msgs))
	for i, m := range msgs {
		e := StreamEntry{ID: m.ID, Fields: make(map[string]string, len(m.Values))}
		ms, _, _ := strings.Cut(m.ID, "-")
		if n, err := strconv.ParseInt(ms, 10, 64); err == nil {
			e.At = time.UnixMilli(n)
		}
		for f, v := range m.Values {
			e.Fields[f], _ = v.(string)
		}
		out[i] = e
	}
	return out, nil
}
