package report

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/mxinvite/mxinvite/internal/record"
)

// writeOutlook adds what holds a campaign, its pace and its expected end.
func writeOutlook(b *strings.Builder, c record.CampaignCounts, o record.Outlook) {
	if len(o.HeldElsewhere) > 0 {
		holders := make([]string, 0, len(o.HeldElsewhere))
		for name := range o.HeldElsewhere {
			holders = append(holders, name)
		}
		sort.Strings(holders)
		parts := make([]string, len(holders))
		for i, name := range holders {
			parts[i] = fmt.Sprintf("campaign %s (%d)", name, o.HeldElsewhere[name])
		}
		what := "some of its addresses"
		if c.Enqueued == 0 {
			what = "empty: all of its addresses"
		}
		fmt.Fprintf(b, "  %s were already invited under %s; they go out (or went out) there\n", what, strings.Join(parts, ", "))
	}
	if p := o.Paused; p != nil {
		fmt.Fprintf(b, "  PAUSED (%s %s, since %s): %s\n", p.Scope, p.Name, p.Since.Local().Format("2006-01-02 15:04"), p.Reason)
		if p.Scope == record.PauseCampaign {
			fmt.Fprintf(b, "  to go on: mxinvite resume --campaign %s (or cancel it: mxinvite cancel --campaign %s)\n", p.Name, p.Name)
		} else {
			fmt.Fprintf(b, "  to go on: fix the cause, then mxinvite resume --sender %s\n", p.Name)
		}
	}
	pending := c.Pending() > 0
	unserved := pending && o.Sender != "" && !o.SenderServed
	if pending && o.Lane != "" {
		fmt.Fprintf(b, "  queue: lane %s of sender %s, priority %s\n", o.Lane, o.Sender, o.Priority)
	}
	if unserved {
		fmt.Fprintf(b, "  waiting: no running worker serves sender %q\n", o.Sender)
	} else if pending && o.Paused == nil && o.Waiting != "" {
		fmt.Fprintf(b, "  waiting: %s\n", o.Waiting)
	}
	if o.BackoffSeconds > 0 {
		fmt.Fprintf(b, "  sender backs off: its server failed several invites in a row; next probe in %s\n", Duration(o.BackoffSeconds))
	}
	var parts []string
	if o.PacePerMinute > 0 {
		parts = append(parts, fmt.Sprintf("pace %s/min", trimFloat(o.PacePerMinute)))
	}
	if pending {
		if o.ETASeconds != nil {
			end := time.Now().Add(time.Duration(*o.ETASeconds * float64(time.Second)))
			parts = append(parts, fmt.Sprintf("expected end in %s (%s)", Duration(*o.ETASeconds), end.Local().Format("2006-01-02 15:04")))
		} else {
			parts = append(parts, "expected end unknown")
		}
	}
	if len(parts) > 0 {
		b.WriteString("  " + strings.Join(parts, ", ") + "\n")
	}
}

// Duration prints seconds for people: 45s, 12m, 3h20m, 46d.
func Duration(seconds float64) string {
	d := time.Duration(seconds * float64(time.Second))
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()+0.5))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()+0.5))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24+0.5))
}

func trimFloat(f float64) string {
	if f >= 10 {
		return fmt.Sprintf("%.0f", f)
	}
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", f), "0"), ".")
}
