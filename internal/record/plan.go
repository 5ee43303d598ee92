package record

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/mxinvite/mxinvite/tasks"
)

// A campaign's expected end depends on everything ahead of it on its
// sender (tasks/queue.go): the sender sends at one pace; its high lane has
// every turn while it has due invites, then its normal lanes share the
// turns equally among those with due invites, then its low lane; in one
// lane, invites go out in the order they became due, so a campaign waits
// for the due invites of the campaigns before it. Invites scheduled later
// become due over their window (uniformly), at the tail of their lane. A
// pause holds a campaign's invites: they take no turn. PlanSender
// simulates that, as a fluid, in a bounded number of steps.

// PlanCampaign is one campaign of a sender as PlanSender needs it.
type PlanCampaign struct {
	Name string
	// Lane is the sender's lane the campaign's invites go to (high, n0…,
	// low; "" for the base queue of earlier releases, served as a normal
	// lane); Order orders the campaigns of one lane (created_at_ms).
	Lane  string
	Order int64
	// Due counts invites that may go out now (queued, retrying, active,
	// held by a pause that ended); Scheduled those due later, uniformly
	// over [SchedFrom, SchedUntil] (both zero when the window is unknown:
	// registered by an earlier release).
	Due, Scheduled        int
	SchedFrom, SchedUntil time.Time
	// Paused is the campaign's own pause, nil when none.
	Paused *Pause
}

// SenderState is what PlanSender needs of a sender.
type SenderState struct {
	Name string
	// Interval is the sender's pace (one request per Interval); 0 when
	// unknown.
	Interval time.Duration
	// Served is false when no running worker serves the sender.
	Served bool
	// Paused is the sender's pause, nil when none.
	Paused *Pause
	// OpenAt is when the sender's gate sends again (its next free slot,
	// the end of a back-off); zero or past when it is open.
	OpenAt time.Time
	// BackoffUntil is the end of the sender's back-off (zero when none).
	BackoffUntil time.Time
	// Learning is set while the server limits the sender and its pace is
	// not known yet (Interval is 0).
	Learning bool
}

// opens is when the sender's gate sends again: the later of OpenAt and
// BackoffUntil.
func (s SenderState) opens() time.Time {
	if s.BackoffUntil.After(s.OpenAt) {
		return s.BackoffUntil
	}
	return s.OpenAt
}

// Plan is a campaign's expected end and what it waits for.
type Plan struct {
	// ETASeconds is the expected time until every invite is final; nil
	// when unknown.
	ETASeconds *float64
	// Waiting says in words what the campaign waits for ("" when nothing:
	// it sends at its sender's full pace, or has finished).
	Waiting string
}

// planSteps bounds the steps of one sender's simulation (it needs about
// 1,500).
const planSteps = 4000

// laneClass is the order lanes get turns in: 0 high, 1 normal, 2 low.
func laneClass(lane string) int {
	switch tasks.LanePriority(lane) {
	case tasks.PriorityHigh:
		return 0
	case tasks.PriorityLow:
		return 2
	}
	return 1
}

// PlanSender plans every campaign of one sender at now; the result is in
// the order of cs.
func PlanSender(s SenderState, cs []PlanCampaign, now time.Time) []Plan {
	out := make([]Plan, len(cs))
	sim := make([]bool, len(cs)) // taking part in the simulation
	for i, c := range cs {
		p := &out[i]
		switch {
		case c.Due+c.Scheduled == 0:
			zero := 0.0
			p.ETASeconds = &zero
		case c.Paused != nil:
			p.Waiting = "paused: " + c.Paused.Reason
		case s.Paused != nil:
			p.Waiting = fmt.Sprintf("paused: sender %s: %s", s.Name, s.Paused.Reason)
		case !s.Served:
			p.Waiting = fmt.Sprintf("no running worker serves sender %s", s.Name)
		case c.Scheduled > 0 && c.SchedUntil.IsZero():
			p.Waiting = fmt.Sprintf("%d invites scheduled at times this release did not record", c.Scheduled)
		case s.Interval <= 0:
			unknown := "no pace known yet"
			if s.Learning {
				unknown = fmt.Sprintf("the server limits sender %s, whose pace is not known yet", s.Name)
			}
			p.Waiting = "unknown: " + unknown
			if c.Due == 0 {
				p.Waiting = scheduledWords(c, now) + "; " + unknown
			}
			sim[i] = true // its invites are still ahead of others
		default:
			sim[i] = true
		}
	}
	for i, c := range cs {
		if sim[i] && out[i].Waiting == "" {
			out[i].Waiting = waitingWords(s, cs, sim, i, now)
			if c.Due > 0 && c.Scheduled > 0 && c.SchedUntil.After(now) {
				out[i].Waiting = joinWords(out[i].Waiting, fmt.Sprintf("%d more scheduled until %s", c.Scheduled, clock(c.SchedUntil, now)))
			}
		}
	}
	if s.Interval <= 0 || s.Paused != nil || !s.Served {
		return out
	}
	ends := simulate(s, cs, sim, now)
	for i := range cs {
		if sim[i] && out[i].ETASeconds == nil && !math.IsNaN(ends[i]) {
			eta := ends[i]
			out[i].ETASeconds = &eta
		}
	}
	return out
}

// waitingWords says what campaign i waits for at now.
func waitingWords(s SenderState, cs []PlanCampaign, sim []bool, i int, now time.Time) string {
	c := cs[i]
	var words string
	switch {
	case c.Due == 0 && c.Scheduled > 0 && c.SchedFrom.After(now):
		words = scheduledWords(c, now)
	case c.Due > 0:
		words = aheadWords(s, cs, sim, i)
	}
	if open := s.opens(); open.Sub(now) >= time.Second {
		what := "rate limit"
		if !s.BackoffUntil.IsZero() && !s.BackoffUntil.Before(s.OpenAt) {
			what = "back-off"
		}
		words = joinWords(fmt.Sprintf("sender %s's %s ends at %s", s.Name, what, clock(open, now)), words)
	}
	return words
}

// aheadWords names the due invites ahead of campaign i (which has due
// invites): higher lanes, earlier campaigns of its lane, other lanes
// sharing the turns.
func aheadWords(s SenderState, cs []PlanCampaign, sim []bool, i int) string {
	c := cs[i]
	class := laneClass(c.Lane)
	var higher, before, sharing []int
	higherN, beforeN := 0, 0
	lanes := map[string]bool{}
	for j, o := range cs {
		if j == i || !sim[j] || o.Due == 0 {
			continue
		}
		switch oc := laneClass(o.Lane); {
		case oc < class:
			higher = append(higher, j)
			higherN += o.Due
		case o.Lane == c.Lane && (o.Order < c.Order || o.Order == c.Order && o.Name < c.Name):
			before = append(before, j)
			beforeN += o.Due
		case oc == class && o.Lane != c.Lane && !lanes[o.Lane]:
			lanes[o.Lane] = true
			sharing = append(sharing, j)
		}
	}
	names := func(js []int) string {
		ns := make([]string, len(js))
		for k, j := range js {
			ns[k] = cs[j].Name
		}
		slices.Sort(ns)
		if len(ns) == 1 {
			return "campaign " + ns[0]
		}
		if len(ns) > 3 {
			return fmt.Sprintf("campaigns %s and %d more", strings.Join(ns[:3], ", "), len(ns)-3)
		}
		return "campaigns " + strings.Join(ns, ", ")
	}
	switch {
	case len(higher) > 0:
		return fmt.Sprintf("behind %d invites of higher-priority %s on sender %s", higherN, names(higher), s.Name)
	case len(before) > 0:
		return fmt.Sprintf("behind %d invites of %s on sender %s", beforeN, names(before), s.Name)
	case len(sharing) == 1:
		return fmt.Sprintf("sharing sender %s with %s", s.Name, names(sharing))
	case len(sharing) > 1:
		return fmt.Sprintf("sharing sender %s with %d other campaigns", s.Name, len(sharing))
	}
	return ""
}

// scheduledWords is "scheduled from 14:00 UTC" (until …).
func scheduledWords(c PlanCampaign, now time.Time) string {
	w := "scheduled from " + clock(c.SchedFrom, now)
	if c.SchedUntil.Sub(c.SchedFrom) >= time.Second {
		w += " until " + clock(c.SchedUntil, now)
	}
	return w
}

// clock is a time for the waiting words: "14:00 UTC", with seconds when
// it has some, with the date when it is not today (UTC).
func clock(t, now time.Time) string {
	t = t.UTC()
	layout := "15:04"
	if t.Second() != 0 {
		layout = "15:04:05"
	}
	if y, m, d := t.Date(); y != now.UTC().Year() || m != now.UTC().Month() || d != now.UTC().Day() {
		layout = "2006-01-02 " + layout
	}
	return t.Format(layout) + " UTC"
}

func joinWords(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}

// chunk is an amount of one campaign's due invites in a lane's order.
type chunk struct {
	c int
	n float64
}

// simulate runs the sender's lanes as a fluid from now until every
// simulated campaign is done (at most planSteps steps); it returns each
// campaign's end in seconds from now (NaN when not simulated).
func simulate(s SenderState, cs []PlanCampaign, sim []bool, now time.Time) []float64 {
	ends := make([]float64, len(cs))
	left := make([]float64, len(cs))  // invites not yet sent
	sched := make([]float64, len(cs)) // invites not yet due
	from := make([]float64, len(cs))  // scheduled window, seconds from now
	until := make([]float64, len(cs))
	interval := s.Interval.Seconds()
	open := max(0, s.opens().Sub(now).Seconds())
	horizon := open
	lanes := map[string][]chunk{}
	var laneNames []string
	order := make([]int, 0, len(cs))
	for i := range cs {
		ends[i] = math.NaN()
		if sim[i] {
			order = append(order, i)
		}
	}
	slices.SortFunc(order, func(a, b int) int {
		return cmp.Or(cmp.Compare(cs[a].Order, cs[b].Order), strings.Compare(cs[a].Name, cs[b].Name))
	})
	work := 0.0
	for _, i := range order {
		c := cs[i]
		left[i], sched[i] = float64(c.Due+c.Scheduled), float64(c.Scheduled)
		work += left[i]
		if c.Scheduled > 0 {
			from[i] = max(0, c.SchedFrom.Sub(now).Seconds())
			until[i] = max(from[i], c.SchedUntil.Sub(now).Seconds())
			horizon = max(horizon, until[i])
		}
		if _, ok := lanes[c.Lane]; !ok {
			laneNames = append(laneNames, c.Lane)
			lanes[c.Lane] = nil
		}
		if c.Due > 0 {
			lanes[c.Lane] = append(lanes[c.Lane], chunk{i, float64(c.Due)})
		}
	}
	slices.SortFunc(laneNames, func(a, b string) int {
		if d := laneClass(a) - laneClass(b); d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	horizon += work * interval
	if horizon <= 0 {
		horizon = interval
	}
	// Steps grow with the time simulated (0.5 % of it), so a near end is
	// as exact as a far one: about 1,500 steps up to the horizon, which
	// bounds every end.
	minStep := horizon * 1e-5
	const tiny = 1e-6
	pending := len(order)
	for _, i := range order {
		if left[i] <= tiny {
			ends[i] = 0
			pending--
		}
	}
	// Step boundaries also fall on the events: a window's start and end,
	// the gate's opening.
	events := []float64{open}
	for _, i := range order {
		if cs[i].Scheduled > 0 {
			events = append(events, from[i], until[i])
		}
	}
	finish := make([]float64, len(cs)) // when in its step a campaign ended, 0..1
	for step, t1 := 0, 0.0; step < planSteps && pending > 0; step++ {
		t0 := t1
		t1 = t0 + max(minStep, 0.005*t0)
		for _, e := range events {
			if e > t0+tiny && e < t1 {
				t1 = e
			}
		}
		for _, i := range order { // invites that become due in [t0, t1)
			if sched[i] <= tiny {
				continue
			}
			var n float64
			if w := until[i] - from[i]; w <= 0 {
				if from[i] < t1 {
					n = sched[i]
				}
			} else {
				n = float64(cs[i].Scheduled) * max(0, min(t1, until[i])-max(t0, from[i])) / w
				n = min(n, sched[i])
			}
			if n <= 0 {
				continue
			}
			sched[i] -= n
			q := lanes[cs[i].Lane]
			if k := len(q) - 1; k >= 0 && q[k].c == i {
				q[k].n += n
			} else {
				q = append(q, chunk{i, n})
			}
			lanes[cs[i].Lane] = q
		}
		start := max(t0, open)
		total := max(0, t1-start) / interval
		capacity := total
		for class := 0; class < 3 && capacity > tiny; class++ {
			var busy []string
			for _, l := range laneNames {
				if laneClass(l) == class && len(lanes[l]) > 0 {
					busy = append(busy, l)
				}
			}
			// Share equally among the busy lanes; what a lane does not use
			// goes to the others. In the first round the busy lanes move
			// side by side after the higher classes: a campaign that ends
			// there ends at that part of the step; later, at its end.
			for round := 0; len(busy) > 0 && capacity > tiny; round++ {
				share, before, k := capacity/float64(len(busy)), total-capacity, float64(len(busy))
				var still []string
				for _, l := range busy {
					used := serve(lanes, l, share, left, func(c int, upTo float64) {
						if round == 0 {
							finish[c] = (before + k*upTo) / total
						} else {
							finish[c] = 1
						}
					})
					capacity -= used
					if len(lanes[l]) > 0 {
						still = append(still, l)
					}
				}
				if len(still) == len(busy) {
					break
				}
				busy = still
			}
		}
		for _, i := range order {
			if math.IsNaN(ends[i]) && left[i] <= tiny && sched[i] <= tiny {
				ends[i] = start + (t1-start)*min(1, finish[i])
				pending--
			}
		}
	}
	return ends
}

// serve sends up to n invites of lane l in order; it returns how many,
// and calls ended with each chunk it sends to the end and how much it had
// sent when it did.
func serve(lanes map[string][]chunk, l string, n float64, left []float64, ended func(c int, upTo float64)) float64 {
	q, used := lanes[l], 0.0
	for len(q) > 0 && n-used > 1e-12 {
		take := min(q[0].n, n-used)
		q[0].n -= take
		left[q[0].c] -= take
		used += take
		if q[0].n <= 1e-9 {
			ended(q[0].c, used)
			q = q[1:]
		}
	}
	lanes[l] = q
	return used
}
