package dashboard

import (
	"fmt"
	"html/template"
	"math"
	"net/url"
	"sort"
	"strings"
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
	// WaitingFor is what the campaign waits for, in words, while it has
	// pending invites and neither a pause nor a missing worker (shown
	// apart) holds it.
	WaitingFor string
	// State is the campaign's label: running, scheduled, paused, cancelled,
	// finished or empty (record.CampaignStateOf, "active" read as running,
	// and paused whenever a pause holds its pending invites).
	State string
	// Succeeded, Failed and Cancelled split Finished; the bar (SVG, 1000
	// units wide: no inline style under the CSP) draws them apart.
	Succeeded, Failed, Cancelled int
	Bar                          barView
	// ShowPause: a pause holds invites of this campaign that are still
	// pending (a pause left over on a finished or cancelled campaign is not
	// a banner: nothing of it is held).
	ShowPause bool
	// Funnel is what became of the invites (mxinvite track), empty until
	// one went out by resolve-first's paths or was tracked.
	Funnel []funnelStage
}

// barView is the progress bar's segments, in thousandths of the campaign.
type barView struct {
	OK, Bad, Cancelled int
	BadX, CancelledX   int
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

// stateOrder is the order states are shown in (record.DisplayStates:
// "recovering" after "active"); unknown ones follow, sorted.
var stateOrder = record.DisplayStates

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
	if v.Pending > 0 && c.Pause == nil && !c.Unserved {
		v.WaitingFor = strings.TrimPrefix(c.Waiting, "unknown: ")
	}
	v.Cancelled = c.Counts.States[record.StateCancelled]
	v.Succeeded = c.Counts.Statuses[matrix.Success.String()]
	v.Failed = max(0, c.Counts.States[record.StateDone]-v.Succeeded)
	if v.Total > 0 {
		w := func(n int) int { return n * 1000 / v.Total }
		v.Bar = barView{OK: w(v.Succeeded), Bad: w(v.Failed), Cancelled: w(v.Cancelled)}
		v.Bar.BadX = v.Bar.OK
		v.Bar.CancelledX = v.Bar.OK + v.Bar.Bad
	}
	v.ShowPause = c.Pause != nil && v.Pending > 0
	v.State = stateLabel(c, v.Pending)
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

// stateLabel is the campaign's one-word state, as `mxinvite campaigns`
// says it ("active" reads "running" here), paused when a pause holds its
// pending invites.
func stateLabel(c Campaign, pending int) string {
	st := record.CampaignStateOf(c.Counts)
	switch {
	case pending > 0 && c.Pause != nil:
		return string(record.CampaignPaused)
	case st == record.CampaignActive:
		return "running"
	}
	return string(st)
}

// campaignStates are the labels the campaign list filters by.
var campaignStates = []string{"running", "scheduled", "paused", "cancelled", "finished", "empty"}

func etaText(c Campaign, pending int) string {
	switch {
	case pending == 0 && c.Counts.Enqueued > 0:
		return string(record.CampaignStateOf(c.Counts))
	case c.Pause != nil:
		return "paused"
	case c.Unserved:
		return "waiting for a worker"
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

// timeTag shows a time in UTC inside a <time> element the script turns
// into the reader's local time (UTC stays in its title); "" for the zero
// time.
func timeTag(t time.Time) template.HTML {
	if t.IsZero() {
		return ""
	}
	u := t.UTC()
	return template.HTML(`<time datetime="` + u.Format(time.RFC3339) + `" title="` + timeText(u) + `">` + timeText(u) + `</time>`)
}

// timeText shows a time in UTC, "" for the zero time.
func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}
