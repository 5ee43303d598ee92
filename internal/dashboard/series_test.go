package dashboard

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/redistest"
)

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

func sum(bs []Bucket) (req, ok, failed, limited int) {
	for _, b := range bs {
		req, ok, failed, limited = req+b.Requests, ok+b.Accepted, failed+b.Failed, limited+b.RateLimited
	}
	return
}

func TestSeriesPerMinute(t *testing.T) {
	s := newSeries(240)
	s.add(event{at: t0.Add(10 * time.Second), requests: 2, rateLimited: 1, success: true})
	s.add(event{at: t0.Add(50 * time.Second), requests: 1, success: false})
	s.add(event{at: t0.Add(3*time.Minute + time.Second), requests: 1, success: true})
	tl := s.timeline(time.Time{})
	if tl.Width != time.Minute || len(tl.Buckets) != 4 {
		t.Fatalf("width %s, %d buckets; want 1m and 4 (minutes 0..3)", tl.Width, len(tl.Buckets))
	}
	want := []Bucket{
		{Start: t0, Requests: 3, RateLimited: 1, Accepted: 1, Failed: 1},
		{Start: t0.Add(time.Minute)}, {Start: t0.Add(2 * time.Minute)},
		{Start: t0.Add(3 * time.Minute), Requests: 1, Accepted: 1},
	}
	for i, b := range want {
		if tl.Buckets[i] != b {
			t.Errorf("bucket %d = %+v, want %+v", i, tl.Buckets[i], b)
		}
	}
	if got := s.timeline(t0.Add(6 * time.Minute)); len(got.Buckets) != 7 {
		t.Errorf("stretched to minute 6: %d buckets, want 7", len(got.Buckets))
	}
	if len(s.buckets) != 4 {
		t.Errorf("stretching changed the series itself: %d buckets", len(s.buckets))
	}
}

// A campaign of two weeks, one invite a minute: the buckets stay under the
// cap, coarser, and nothing is lost.
func TestSeriesCoarsensLongCampaigns(t *testing.T) {
	s := newSeries(240)
	n := 14 * 24 * 60
	for i := range n {
		s.add(event{at: t0.Add(time.Duration(i) * time.Minute), requests: 2, rateLimited: 1, success: i%10 != 0})
	}
	tl := s.timeline(time.Time{})
	if len(tl.Buckets) > 240 || len(tl.Buckets) < 120 {
		t.Errorf("%d buckets, want between 120 and the cap of 240", len(tl.Buckets))
	}
	if tl.Width != 128*time.Minute {
		t.Errorf("width %s, want 128 min (the smallest power of two of minutes that fits)", tl.Width)
	}
	req, ok, failed, limited := sum(tl.Buckets)
	if req != 2*n || ok+failed != n || failed != n/10 || limited != n {
		t.Errorf("totals: requests %d, accepted %d, failed %d, 429 %d; want %d, %d, %d, %d", req, ok, failed, limited, 2*n, n-n/10, n/10, n)
	}
	for i, b := range tl.Buckets {
		if !b.Start.Equal(tl.Buckets[0].Start.Add(time.Duration(i) * tl.Width)) {
			t.Fatalf("bucket %d starts %s: not evenly spaced", i, b.Start)
		}
	}
	if st := s.timeline(t0.Add(60 * 24 * time.Hour)); len(st.Buckets) > 240 {
		t.Errorf("stretched two months: %d buckets, over the cap", len(st.Buckets))
	}
}

func TestSeriesRate(t *testing.T) {
	s := newSeries(240)
	for i := range 120 { // one every 2 s for 4 minutes: 30/min
		s.add(event{at: t0.Add(time.Duration(i) * 2 * time.Second), success: true})
	}
	now := t0.Add(4 * time.Minute)
	if r := s.rate(now); r < 25 || r > 35 {
		t.Errorf("rate %.1f/min, want about 30", r)
	}
	if r := s.rate(now.Add(5 * time.Minute)); r != 0 {
		t.Errorf("rate 5 minutes after the last result: %.1f, want 0", r)
	}
	fresh := newSeries(240)
	for i := range 10 { // ten within the first 5 s: the rate is not 10/min
		fresh.add(event{at: t0.Add(time.Duration(i) * 500 * time.Millisecond), success: true})
	}
	if r := fresh.rate(t0.Add(10 * time.Second)); r < 50 {
		t.Errorf("rate of a campaign 10 s old with 10 results: %.1f/min, want ≈ 60", r)
	}
}

func TestChart(t *testing.T) {
	if c := newChart(Timeline{Width: time.Minute}); !c.Empty {
		t.Error("a timeline without buckets must draw the empty note")
	}
	pace := 30.0
	tl := Timeline{Width: time.Minute, PacePerMinute: &pace}
	for i := range 5 {
		tl.Buckets = append(tl.Buckets, Bucket{Start: t0.Add(time.Duration(i) * time.Minute), Requests: 10 * i, Accepted: 9 * i, Failed: i, RateLimited: 1})
	}
	c := newChart(tl)
	for _, s := range c.Series {
		if n := len(strings.Fields(s.Points)); n != 5 || len(s.Dots) != 5 {
			t.Errorf("series %s: %d points and %d dots, want 5", s.Class, n, len(s.Dots))
		}
	}
	req := c.Series[0].Dots
	if req[0].Y != c.Bottom || req[4].Y >= req[1].Y {
		t.Errorf("requests series y %v: want 0 on the axis and rising values drawn higher", req)
	}
	if c.Pace == nil || c.Pace.Y <= c.Top || c.Pace.Y >= c.Bottom {
		t.Errorf("pace line %+v: want inside the plot", c.Pace)
	}
	if c.Requests != 100 || c.Accepted != 90 || c.Failed != 10 || c.RateLimited != 5 {
		t.Errorf("totals %d %d %d %d", c.Requests, c.Accepted, c.Failed, c.RateLimited)
	}
}

// The history reads the results stream incrementally, a bounded amount per
// call, and keeps campaigns apart.
func TestHistoryReadsTheStreamInBoundedSteps(t *testing.T) {
	conn := redistest.Start(t).Client(t)
	ctx := context.Background()
	prefix := redistest.Unique(t, "mx")
	start := time.Now().Add(-10 * time.Minute).UnixMilli()
	for i := range 25 {
		campaign := "a"
		if i%5 == 0 {
			campaign = "b"
		}
		status := "Success"
		if i%4 == 0 {
			status = "NetworkError"
		}
		err := conn.XAdd(ctx, &redis.XAddArgs{Stream: prefix + ":results", ID: fmt.Sprintf("%d-0", start+int64(i)*30_000),
			Values: []any{"campaign", campaign, "status", status, "requests", "2", "rate_limited", "1"}}).Err()
		if err != nil {
			t.Fatal(err)
		}
	}
	h := newHistory(rdb.New(conn, rdb.Options{Prefix: prefix}), historyOptions{pageSize: 4, perUpdate: 8})
	tl, err := h.timeline(ctx, "a", false)
	if err != nil {
		t.Fatal(err)
	}
	if !tl.Partial {
		t.Error("after 8 of 25 entries the timeline must say it is partial")
	}
	for range 10 {
		if tl, err = h.timeline(ctx, "a", false); err != nil || !tl.Partial {
			break
		}
	}
	if tl.Partial {
		t.Fatal("the history never caught up")
	}
	req, ok, failed, limited := sum(tl.Buckets)
	if req != 40 || ok+failed != 20 || limited != 20 {
		t.Errorf("campaign a: %d requests, %d results, %d 429; want 40, 20, 20", req, ok+failed, limited)
	}
	tb, _ := h.timeline(ctx, "b", false)
	if _, okB, failedB, _ := sum(tb.Buckets); okB+failedB != 5 {
		t.Errorf("campaign b: %d results, want 5", okB+failedB)
	}
	if len(tl.Buckets) < 12 || len(tl.Buckets) > 14 {
		t.Errorf("%d buckets for 12.5 minutes of entries", len(tl.Buckets))
	}
}
