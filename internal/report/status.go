package report

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/mxinvite/mxinvite/matrix"
	"github.com/mxinvite/mxinvite/worker"
)

// WriteStatus prints a campaign's counts for people: states, then final
// results by status (with the libQuotient number), then totals.
func WriteStatus(w io.Writer, c worker.CampaignCounts, o worker.Outlook) error {
	var b strings.Builder
	fmt.Fprintf(&b, "campaign %s: %d enqueued, %d pending, %d done\n",
		c.Campaign, c.Enqueued, c.Pending(), c.States[worker.StateDone])
	for _, s := range []string{worker.StateQueued, worker.StateScheduled, worker.StateActive, worker.StateRetrying, worker.StatePaused} {
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
	fmt.Fprintf(&b, "  requests sent %d, rate limited %d, possibly duplicated %d\n",
		c.Requests, c.RateLimited, c.PossibleDuplicates)
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
