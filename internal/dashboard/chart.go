package dashboard

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// chart is the timeline drawn as SVG by the "chart" template: every
// coordinate is computed here, the template only places them.
type chart struct {
	W, H                       int
	Left, Top, Right, Bottom   float64 // plot area
	Series                     []chartSeries
	YTicks, XTicks             []tick
	Pace                       *paceLine
	Empty, Partial             bool
	Per                        string // "minute", "2 minutes", …
	Buckets                    []Bucket
	Requests, Accepted, Failed int
	RateLimited                int
}

type chartSeries struct {
	Name, Class string
	Points      string // polyline points "x,y x,y …"
	Dots        []point
	R           float64 // the dots' radius: larger when there are few
}

type point struct{ X, Y float64 }

type tick struct {
	Pos   float64
	Label string
}

type paceLine struct {
	Y     float64
	Label string
}

// maxDots is the most buckets drawn with a dot each; beyond it the lines
// alone stay legible.
const maxDots = 90

func newChart(t Timeline) chart {
	c := chart{W: 720, H: 260, Left: 58, Top: 14, Right: 708, Bottom: 226, Partial: t.Partial, Buckets: t.Buckets}
	c.Per = widthText(t.Width)
	n := len(t.Buckets)
	if n == 0 {
		c.Empty = true
		return c
	}
	values := func(f func(Bucket) int) []int {
		out := make([]int, n)
		for i, b := range t.Buckets {
			out[i] = f(b)
		}
		return out
	}
	all := [][]int{
		values(func(b Bucket) int { return b.Requests }),
		values(func(b Bucket) int { return b.Accepted }),
		values(func(b Bucket) int { return b.RateLimited }),
		values(func(b Bucket) int { return b.Failed }),
	}
	for i := range n {
		c.Requests += all[0][i]
		c.Accepted += all[1][i]
		c.RateLimited += all[2][i]
		c.Failed += all[3][i]
	}
	top := 1.0
	for _, vs := range all {
		for _, v := range vs {
			top = math.Max(top, float64(v))
		}
	}
	var pace float64
	if t.PacePerMinute != nil {
		pace = *t.PacePerMinute * t.Width.Minutes()
		top = math.Max(top, pace)
	}
	step := niceStep(top / 4)
	top = math.Ceil(top/step) * step
	x := func(i int) float64 { return c.Left + (float64(i)+0.5)*(c.Right-c.Left)/float64(n) }
	y := func(v float64) float64 { return c.Bottom - v/top*(c.Bottom-c.Top) }
	names := []struct{ name, class string }{
		{"requests sent", "requests"}, {"accepted", "accepted"}, {"answered 429", "limited"}, {"failed", "failed"},
	}
	for k, vs := range all {
		s := chartSeries{Name: names[k].name, Class: names[k].class, R: 2.5}
		if n <= 20 {
			s.R = 4
		}
		var b strings.Builder
		for i, v := range vs {
			p := point{round1(x(i)), round1(y(float64(v)))}
			fmt.Fprintf(&b, "%s,%s ", ftoa(p.X), ftoa(p.Y))
			if n <= maxDots {
				s.Dots = append(s.Dots, p)
			}
		}
		s.Points = strings.TrimSpace(b.String())
		c.Series = append(c.Series, s)
	}
	for v := 0.0; v <= top+step/2; v += step {
		c.YTicks = append(c.YTicks, tick{round1(y(v)), ftoa(v)})
	}
	if t.PacePerMinute != nil {
		c.Pace = &paceLine{Y: round1(y(pace)), Label: fmt.Sprintf("pace %.1f/min", *t.PacePerMinute)}
	}
	c.XTicks = xTicks(t, x)
	return c
}

// xTicks labels up to 6 buckets, evenly spread, with their start time.
func xTicks(t Timeline, x func(int) float64) []tick {
	n := len(t.Buckets)
	span := t.Buckets[n-1].Start.Sub(t.Buckets[0].Start)
	layout := "15:04"
	if span >= 24*time.Hour {
		layout = "Jan 2 15:04"
	}
	every := max(1, (n+5)/6)
	var out []tick
	for i := 0; i < n; i += every {
		out = append(out, tick{round1(x(i)), t.Buckets[i].Start.UTC().Format(layout)})
	}
	return out
}

// niceStep rounds a raw step up to 1, 2 or 5 times a power of ten (at least 1).
func niceStep(raw float64) float64 {
	if raw <= 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if raw <= m*p {
			return m * p
		}
	}
	return 10 * p
}

func widthText(w time.Duration) string {
	if w <= time.Minute {
		return "minute"
	}
	if w%time.Hour == 0 {
		if w == time.Hour {
			return "hour"
		}
		return strconv.Itoa(int(w/time.Hour)) + " hours"
	}
	return strconv.Itoa(int(w/time.Minute)) + " minutes"
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
