package dashboard

import (
	"fmt"
	"math"
	"net/url"
	"sort"
	"time"

	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/matrix"
)

// campaignView is a Campaign with what the templates show computed once.
type campaignView struct {
	Campaign
	Path string // the campaign page's URL path
	// Total is every invite of the campaign, each in exactly one state;
	// Finished those with nothing left to do (done, cancelled).
	Total, Finished, Pending int
	Percent                  int // 0..100, rounded down
	States                   []count
	Statuses                 []statusCount
	Failures                 []statusCount // Statuses without Success
	Rate, Pace, ETA          string
	// Funnel is what became of the invites (mxinvite track), empty until
	// one went out by resolve-first's paths or was tracked.
	Funnel []funnelStage
}

// funnelStage is one bar of the funnel: N of Of.
type funnelStage struct {
	Name  string
	N, Of int
	Note  string
}

// funnelStages draws the funnel against everyone the campaign reached
// (sent, plus accounts found already joined or invited): sent, registered
// (of the 3PID invites), joined.
func funnelStages(c record.CampaignCounts) []funnelStage {
	if len(c.Deliveries) == 0 && c.Funnel == (record.Funnel{}) {
		return nil
	}
	f := c.Funnel
	reached := f.Sent + c.Deliveries[record.DeliveryAlreadyJoined] + c.Deliveries[record.DeliveryAlreadyInvited]
	return []funnelStage{
		{Name: "sent", N: f.Sent, Of: reached, Note: fmt.Sprintf("by Matrix ID %d, by 3PID %d", c.Deliveries[record.DeliveryUserID], c.Deliveries[record.Delivery3PID])},
		{Name: "registered", N: f.Registered, Of: c.Deliveries[record.Delivery3PID], Note: "3PID invitees who bound the address to an account since"},
		{Name: "joined", N: f.Joined, Of: reached, Note: fmt.Sprintf("%d were in the room before", c.Deliveries[record.DeliveryAlreadyJoined])},
	}
}

type count struct {
	Name string
	N    int
}

type statusCount struct {
	Name string
	Code int // libQuotient's number; -1 for a name it does not know
	N    int
}

// stateOrder is the order states are shown in (record.States); unknown
// ones follow, sorted.
var stateOrder = record.States

func newCampaignView(c Campaign) campaignView {
	v := campaignView{Campaign: c, Path: campaignPath(c.Name)}
	seen := map[record.State]bool{}
	for _, s := range stateOrder {
		seen[s] = true
		if n := c.Counts.States[s]; n != 0 {
			v.States = append(v.States, count{string(s), n})
		}
	}
	var others []string
	for s := range c.Counts.States {
		if !seen[s] && c.Counts.States[s] != 0 {
			others = append(others, string(s))
		}
	}
	sort.Strings(others)
	for _, s := range others {
		v.States = append(v.States, count{s, c.Counts.States[record.State(s)]})
	}
	for _, s := range v.States {
		v.Total += s.N
		if !record.State(s.Name).Pending() {
			v.Finished += s.N
		}
	}
	v.Pending = v.Total - v.Finished
	if v.Total > 0 {
		v.Percent = v.Finished * 100 / v.Total
	}
	v.Statuses = statusCounts(c.Counts.Statuses)
	for _, s := range v.Statuses {
		if s.Code != int(matrix.Success) {
			v.Failures = append(v.Failures, s)
		}
	}
	v.Rate = fmt.Sprintf("%.1f/min", c.RatePerMinute)
	v.Pace = "unknown"
	if c.PacePerMinute != nil {
		v.Pace = fmt.Sprintf("%.1f/min", *c.PacePerMinute)
	}
	v.ETA = etaText(c, v.Pending)
	v.Funnel = funnelStages(c.Counts)
	return v
}

// statusCounts orders final statuses by libQuotient's number.
func statusCounts(m map[string]int) []statusCount {
	out := make([]statusCount, 0, len(m))
	for name, n := range m {
		code := -1
		if c, err := matrix.ParseStatusCode(name); err == nil {
			code = int(c)
		}
		out = append(out, statusCount{Name: name, Code: code, N: n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Code != out[j].Code {
			return uint(out[i].Code) < uint(out[j].Code) // unknown (-1) last
		}
		return out[i].Name < out[j].Name
	})
	return out
}

func etaText(c Campaign, pending int) string {
	switch {
	case pending == 0 && c.Counts.Enqueued > 0:
		return "finished"
	case c.Pause != nil:
		return "paused"
	case c.ETASeconds == nil:
		return "unknown"
	}
	return "≈ " + durationText(time.Duration(*c.ETASeconds*float64(time.Second)))
}

// durationText is a rough duration for people: "45 s", "12 min", "3 h 20 min", "5 d 4 h".
func durationText(d time.Duration) string {
	s := int64(math.Round(d.Seconds()))
	switch {
	case s < 60:
		return fmt.Sprintf("%d s", max(s, 0))
	case s < 3600:
		return fmt.Sprintf("%d min", s/60)
	case s < 86400:
		return fmt.Sprintf("%d h %d min", s/3600, s%3600/60)
	}
	return fmt.Sprintf("%d d %d h", s/86400, s%86400/3600)
}

func campaignPath(name string) string { return "/c/" + url.PathEscape(name) }

// timeText shows a time in UTC, "" for the zero time.
func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}
