package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/record"
)

// oneInvite finds the one invite --address names (an address in any
// spelling, or a task ID), across campaigns or in campaign only. Several
// matches (the same address invited to other rooms or by other senders)
// are listed, to be told apart with --campaign.
func oneInvite(ctx context.Context, store *rdb.Client, address, campaign string) (record.Detail, error) {
	found, err := store.FindInvites(ctx, address)
	if errors.Is(err, rdb.ErrBadQuery) {
		return record.Detail{}, usageErr("--address %q: %v", address, rdb.ErrBadQuery)
	}
	if err != nil {
		return record.Detail{}, fail("%v", err)
	}
	var keep []record.Detail
	for _, d := range found {
		if campaign == "" || d.Campaign == campaign {
			keep = append(keep, d)
		}
	}
	switch len(keep) {
	case 1:
		return keep[0], nil
	case 0:
		where := "any campaign"
		if campaign != "" {
			where = "campaign " + campaign
		}
		return record.Detail{}, usageErr("--address %q: no invite of it in %s", address, where)
	}
	var names []string
	for _, d := range keep {
		names = append(names, fmt.Sprintf("%s (campaign %s, room %s, sender %s, task %s)", d.Address, d.Campaign, d.RoomID, d.Sender, d.TaskID))
	}
	return record.Detail{}, usageErr("--address %q names %d invites; choose one with --campaign or its task ID:\n  %s",
		address, len(keep), strings.Join(names, "\n  "))
}

// cancelOneText says what cancelling one invite did.
func cancelOneText(d record.Detail, st record.CancelOneStats) string {
	head := fmt.Sprintf("invite %s (campaign %s): ", d.Address, d.Campaign)
	switch {
	case st.Cancelled && st.TaskRemoved:
		return head + fmt.Sprintf("cancelled (was %s); its task is removed from the queue", st.Before)
	case st.Cancelled:
		return head + fmt.Sprintf("cancelled (was %s); its task was not in the queue (a worker holding it ends it without sending)", st.Before)
	case st.Before == record.StateActive:
		return head + "being sent right now: not recalled"
	case st.Before == record.StateDone:
		return head + "already finished (kept)"
	}
	return head + "already cancelled"
}

func orState(d record.Detail) string {
	if d.State == record.StateDone {
		return d.Status
	}
	return string(d.State)
}

func retryVerdictText(v record.Verdict) string {
	if v == record.Registered {
		return "re-enqueued"
	}
	return "skipped (" + v.String() + ")"
}
