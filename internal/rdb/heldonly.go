package rdb

import (
	"context"

	"github.com/mxinvite/mxinvite/internal/record"
)

// HeldOnly returns a *record.HeldError when some invites are held by
// pauses and every other invite of every campaign is final; nil otherwise.
func (c *Client) HeldOnly(ctx context.Context) (*record.HeldError, error) {
	pauses, err := c.Pauses(ctx)
	if err != nil || len(pauses) == 0 {
		return nil, err
	}
	names, err := c.Campaigns(ctx)
	if err != nil {
		return nil, err
	}
	held := 0
	for _, name := range names {
		counts, err := c.Counts(ctx, name)
		if err != nil {
			return nil, err
		}
		paused := counts.States[record.StatePaused]
		if counts.Pending() != paused {
			return nil, nil
		}
		held += paused
	}
	if held == 0 {
		return nil, nil
	}
	return &record.HeldError{Held: held, Pauses: pauses}, nil
}
