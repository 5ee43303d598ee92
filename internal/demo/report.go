package demo

import (
	"fmt"
	"io"
	"time"

	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/internal/report"
)

// printReport prints the final report: results by status code, then what the
// homeserver saw, which shows that the 429s were honoured.
func printReport(out io.Writer, s Summary) {
	fmt.Fprintln(out, "\nfinal report")
	_ = report.WriteStatus(out, s.Counts, record.Outlook{})
	fmt.Fprintf(out, "\nwhat the homeserver saw: %d invite requests, %d accepted, %d answered 429 (rate limited), "+
		"%d sent before the advised time, %d 500s, %d invitees invited twice\n",
		s.Sim.InviteRequests, s.Sim.Accepted, s.Sim.RateLimited, s.Sim.EarlyRequests, s.Sim.ServerErrors, s.Sim.Duplicates)
	honoured := "every 429 was honoured: no request came before its advised time"
	if s.Sim.EarlyRequests > 0 {
		honoured = fmt.Sprintf("%d requests came before their advised time: they had left before the workers learned of the 429 "+
			"(in flight, or in the milliseconds it takes to record it); every request sent after that waited", s.Sim.EarlyRequests)
	}
	fmt.Fprintf(out, "%s\ndemo finished in %s\n", honoured, s.Duration.Round(100*time.Millisecond))
}
