package report

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/mxinvite/mxinvite/internal/record"
)

// WriteCampaigns prints one line per campaign for people, under a header:
// name, state, room, sender, medium, when it was created, and its counts
// (enqueued = pending + done + cancelled).
func WriteCampaigns(w io.Writer, campaigns []record.CampaignInfo) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CAMPAIGN\tSTATE\tROOM\tSENDER\tMEDIUM\tCREATED\tENQUEUED\tPENDING\tDONE\tCANCELLED")
	for _, c := range campaigns {
		created := "-"
		if !c.CreatedAt.IsZero() {
			created = c.CreatedAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\n",
			c.Name, c.State, orDash(c.RoomID), orDash(c.Sender), orDash(c.Medium), created,
			c.Counts.Enqueued, c.Counts.Pending(), c.Counts.States[record.StateDone], c.Counts.States[record.StateCancelled])
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
