package record

import "time"

// CampaignState sums up where a campaign stands, from its counts.
type CampaignState string

// The campaign states, in the order CampaignStateOf tries them.
const (
	// CampaignEmpty: known, but no invite is in it (all went to another
	// campaign, or were re-invited under one).
	CampaignEmpty CampaignState = "empty"
	// CampaignActive: invites are queued, being sent or waiting to retry.
	CampaignActive CampaignState = "active"
	// CampaignPaused: nothing to send now but paused invites.
	CampaignPaused CampaignState = "paused"
	// CampaignScheduled: nothing to send now but scheduled invites.
	CampaignScheduled CampaignState = "scheduled"
	// CampaignCancelled: nothing pending, and some invites were cancelled.
	CampaignCancelled CampaignState = "cancelled"
	// CampaignFinished: every invite has its final result.
	CampaignFinished CampaignState = "finished"
)

// CampaignStateOf derives the campaign state from its counts.
func CampaignStateOf(c CampaignCounts) CampaignState {
	switch {
	case c.Enqueued == 0:
		return CampaignEmpty
	case c.States[StateQueued]+c.States[StateActive]+c.States[StateRecovering]+c.States[StateRetrying] > 0:
		return CampaignActive
	case c.States[StatePaused] > 0:
		return CampaignPaused
	case c.States[StateScheduled] > 0:
		return CampaignScheduled
	case c.States[StateCancelled] > 0:
		return CampaignCancelled
	}
	return CampaignFinished
}

// CampaignInfo is what a campaign is (from its meta) and where it stands.
// Campaigns registered before campaign meta existed have empty RoomID,
// Sender, IDServer, Medium and a zero CreatedAt.
type CampaignInfo struct {
	Name string `json:"name"`
	// RoomID, Sender, IDServer and Medium are those of its invites, "*" when
	// they differ between invites.
	RoomID    string         `json:"room_id"`
	Sender    string         `json:"sender"`
	IDServer  string         `json:"id_server"`
	Medium    string         `json:"medium"`
	CreatedAt time.Time      `json:"created_at,omitzero"`
	State     CampaignState  `json:"state"`
	Counts    CampaignCounts `json:"counts"`
}
