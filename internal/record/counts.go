package record

// CampaignCounts are a campaign's counters. Every invite of the campaign is
// in exactly one state, so
//
//	Enqueued = queued + scheduled + active + retrying + paused + done + cancelled
//
// (Pending() is the first five). Statuses add up to done.
type CampaignCounts struct {
	Campaign string `json:"campaign"`
	// Enqueued is the number of invites of the campaign: a re-invite
	// (--again, retry, a cancelled invite enqueued again) replaces its
	// earlier generation and is still one invite.
	Enqueued int `json:"enqueued"`
	// States counts the campaign's invites by state; states with no invite
	// are left out.
	States map[State]int `json:"states"`
	// Statuses counts final results by status name.
	Statuses map[string]int `json:"statuses"`
	// Requests counts invite requests sent; RateLimited the 429s among them.
	Requests    int `json:"requests"`
	RateLimited int `json:"rate_limited"`
	// RateLimitedBy counts the 429s by the scope the worker gave them
	// (invitee, room, sender); absent scopes are left out.
	RateLimitedBy map[LimitScope]int `json:"rate_limited_by,omitempty"`
	// PossibleDuplicates counts invites that succeeded after an attempt with
	// an unknown outcome: their invitees may have two emails.
	PossibleDuplicates int `json:"possible_duplicates"`
	// Deliveries counts successful finals by how they went (Delivery);
	// Funnel is what became of them (mxinvite track).
	Deliveries map[Delivery]int `json:"deliveries,omitempty"`
	Funnel     Funnel           `json:"funnel"`
	// PaceGapMS is the campaign's moving average time between two finished
	// invites, for its Outlook (not shown).
	PaceGapMS float64 `json:"-"`
}

// Pending is the number of invites that may still be sent: neither done
// nor cancelled.
func (c CampaignCounts) Pending() int {
	n := 0
	for state, v := range c.States {
		if state.Pending() {
			n += v
		}
	}
	return n
}

// InStates is the sum of the state counters: equal to Enqueued unless the
// counters are broken.
func (c CampaignCounts) InStates() int {
	n := 0
	for _, v := range c.States {
		n += v
	}
	return n
}
