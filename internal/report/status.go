package report

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/matrix"
)

// pendingStates are the states of invites that may still be sent, in the
// order status lists them.
var pendingStates = []record.State{record.StateQueued, record.StateScheduled, record.StateActive, record.StateRecovering,
	record.StateRetrying, record.StatePaused}

// writeFunnel prints what became of the invites (record.Funnel), once any
// went out by resolve-first's paths or was tracked.
func writeFunnel(b *strings.Builder, c record.CampaignCounts) {
	if len(c.Deliveries) == 0 && c.Funnel == (record.Funnel{}) {
		return
	}
	f := c.Funnel
	fmt.Fprintf(b, "  funnel: sent %d (by Matrix ID %d, by 3PID %d), registered %d, joined %d\n",
		f.Sent, c.Deliveries[record.DeliveryUserID], c.Deliveries[record.Delivery3PID], f.Registered, f.Joined)
	if a, i := c.Deliveries[record.DeliveryAlreadyJoined], c.Deliveries[record.DeliveryAlreadyInvited]; a+i > 0 {
		fmt.Fprintf(b, "  no request needed: already joined %d, already invited %d\n", a, i)
	}
}

// WriteStatus prints a campaign's counts for people: the totals (enqueued =
// pending + done + cancelled), the pending invites by state, then final
// results by status (with the libQuotient number), then requests.
func WriteStatus(w io.Writer, c record.CampaignCounts, o record.Outlook) error {
	var b strings.Builder
	fmt.Fprintf(&b, "campaign %s: %d enqueued, %d pending, %d done, %d cancelled\n",
		c.Campaign, c.Enqueued, c.Pending(), c.States[record.StateDone], c.States[record.StateCancelled])
	if n := c.InStates(); n != c.Enqueued {
		// Never expected: say so rather than print numbers that do not add up.
		fmt.Fprintf(&b, "  warning: the state counters add up to %d, not %d\n", n, c.Enqueued)
	}
	for _, s := range pendingStates {
		if n := c.States[s]; n != 0 {
			fmt.Fprintf(&b, "  %-28s %d\n", s, n)
		}
	}
	names := make([]string, 0, len(c.Statuses))
	for name := range c.Statuses {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool { return statusNumber(names[i]) < statusNumber(names[j]) })
	for _, name := range names {
		fmt.Fprintf(&b, "  %-28s %d\n", fmt.Sprintf("%s (%d)", name, statusNumber(name)), c.Statuses[name])
	}
	fmt.Fprintf(&b, "  requests sent %d, rate limited %d%s, possibly duplicated %d\n",
		c.Requests, c.RateLimited, limitScopes(c), c.PossibleDuplicates)
	writeFunnel(&b, c)
	writeOutlook(&b, c, o)
	_, err := io.WriteString(w, b.String())
	return err
}

func statusNumber(name string) int {
	code, err := matrix.ParseStatusCode(name)
	if err != nil {
		return 1 << 20
	}
	return int(code)
}

// limitScopes says whose the 429s were: " (invitee 2, sender 1)".
func limitScopes(c record.CampaignCounts) string {
	var parts []string
	for _, scope := range record.LimitScopes {
		if n := c.RateLimitedBy[scope]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", scope, n))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}
