package dashboard

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strconv"
	"time"

	"github.com/mxinvite/mxinvite/internal/record"
)

// Cause is what a failure is grouped by: the same status, HTTP status,
// errcode and message from the server is one cause.
type Cause struct {
	Status     string `json:"status"`
	StatusCode int    `json:"status_code"`
	HTTPStatus int    `json:"http_status"`
	ErrCode    string `json:"errcode"`
	Error      string `json:"error"`
}

func causeOf(r record.Result) Cause {
	return Cause{Status: r.Status, StatusCode: int(r.StatusCode), HTTPStatus: r.HTTPStatus, ErrCode: r.ErrCode, Error: r.Error}
}

// ID names the cause in URLs (the download of one group): 16 hex
// characters of SHA-256 over its fields.
func (c Cause) ID() string {
	h := sha256.New()
	for _, f := range []string{c.Status, strconv.Itoa(c.StatusCode), strconv.Itoa(c.HTTPStatus), c.ErrCode, c.Error} {
		h.Write([]byte(strconv.Itoa(len(f)) + ":" + f))
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// FailureGroup is one cause, how many invites ended with it, and the
// newest of them (at most the sample size), newest first.
type FailureGroup struct {
	Cause
	ID     string          `json:"id"`
	N      int             `json:"n"`
	Latest time.Time       `json:"latest"`
	Newest []record.Result `json:"newest"`
}

// FailureGroups are a campaign's failures by cause, the biggest first.
type FailureGroups struct {
	Groups []FailureGroup `json:"groups"`
	// Total counts every failure; Other the failures of causes beyond the
	// cap on groups (counted, not shown).
	Total, Other int
}

// Bounds of the grouping: memory holds at most maxGroups × samples results.
const (
	maxGroups     = 200
	groupSamples  = 50
	sampleInGroup = 3 // rows shown before a group is expanded
)

// groupFailures walks the campaign's failed invites once and groups them.
func groupFailures(ctx context.Context, src Source, name string, samples int) (FailureGroups, error) {
	byID := map[string]*FailureGroup{}
	var out FailureGroups
	err := src.Results(ctx, name, true, func(r record.Result) error {
		out.Total++
		c := causeOf(r)
		id := c.ID()
		g := byID[id]
		if g == nil {
			if len(byID) >= maxGroups {
				out.Other++
				return nil
			}
			g = &FailureGroup{Cause: c, ID: id}
			byID[id] = g
		}
		g.N++
		if r.FinishedAt.After(g.Latest) {
			g.Latest = r.FinishedAt
		}
		g.Newest = keepNewest(g.Newest, r, samples)
		return nil
	})
	if err != nil {
		return FailureGroups{}, err
	}
	for _, g := range byID {
		out.Groups = append(out.Groups, *g)
	}
	sort.Slice(out.Groups, func(i, j int) bool {
		a, b := out.Groups[i], out.Groups[j]
		if a.N != b.N {
			return a.N > b.N
		}
		return a.Latest.After(b.Latest)
	})
	return out, nil
}

// keepNewest inserts r into list (newest first) and keeps at most n.
func keepNewest(list []record.Result, r record.Result, n int) []record.Result {
	i := sort.Search(len(list), func(i int) bool { return list[i].FinishedAt.Before(r.FinishedAt) })
	if i >= n {
		return list
	}
	list = append(list, record.Result{})
	copy(list[i+1:], list[i:])
	list[i] = r
	if len(list) > n {
		list = list[:n]
	}
	return list
}
