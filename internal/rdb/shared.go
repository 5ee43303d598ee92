package rdb

import (
	"context"
	"fmt"

	"github.com/mxinvite/mxinvite/internal/record"
)

// A finished record leaves out the room_id and sender it shares with the
// first finished record of its campaign, which the campaign's meta hash
// keeps as finished_room_id and finished_sender (finishScript; issue 26:
// about 40 B a finished invite with a short room ID, 70 B with a room
// version 12 one). Every reader of records fills them in here, so what
// reads a record sees the same whether it was finished before or after.

// sharedFill fills in what finished records leave out, reading each
// campaign's meta once per reader call (and not at all when every record
// it sees is whole).
type sharedFill struct {
	c          *Client
	byCampaign map[string][2]*string // made at the first record that needs it
}

func (c *Client) sharedFill() *sharedFill { return &sharedFill{c: c} }

// fill completes record hash h in place. A record that has both fields, or
// is not finished, is left as it is.
func (s *sharedFill) fill(ctx context.Context, h map[string]string) error {
	_, room := h["room_id"]
	_, sender := h["sender"]
	if (room && sender) || h["state"] != string(record.StateDone) {
		return nil
	}
	campaign := h["campaign"]
	v, ok := s.byCampaign[campaign]
	if !ok {
		got, err := s.c.rdb.HMGet(ctx, s.c.k.meta(campaign), "finished_room_id", "finished_sender").Result()
		if err != nil {
			return fmt.Errorf("read what the finished invites of campaign %q share: %w", campaign, err)
		}
		for i := range v {
			if x, ok := got[i].(string); ok {
				v[i] = &x
			}
		}
		if s.byCampaign == nil {
			s.byCampaign = map[string][2]*string{}
		}
		s.byCampaign[campaign] = v
	}
	if !room && v[0] != nil {
		h["room_id"] = *v[0]
	}
	if !sender && v[1] != nil {
		h["sender"] = *v[1]
	}
	return nil
}
