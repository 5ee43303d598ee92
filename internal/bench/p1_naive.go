package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/hibiken/asynq"

	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/tasks"
)

// p1Naive times the handler a user would write instead of mxinvite's worker
// (issue 14's fairer peer): decode the task, POST the invite, HSET the
// answer's status. No retries, no rate-limit gate, no record of progress,
// no counters, no stream: what mxinvite's guarantees are measured against.
//
// marked adds the least a handler that never resends an invite whose
// outcome it cannot know needs (the brief's non-idempotence standard): an
// HSET marking the invite in flight before the POST, one Redis round trip
// more per invite, so that a crash mid-request is known as one (P1s).
func p1Naive(ctx context.Context, e *env, marked bool) (p1Run, error) {
	sim, err := startSim(ctx, simulator.Config{}, nil)
	if err != nil {
		return p1Run{}, err
	}
	defer sim.stop()
	// net/http's default transport, as mxinvite's matrix client uses.
	client := &http.Client{Timeout: 30 * time.Second}
	handle := func(ctx context.Context, t *asynq.Task) error {
		inv, err := tasks.DecodeInvite(t.Payload())
		if err != nil {
			return fmt.Errorf("%v: %w", err, asynq.SkipRetry)
		}
		body, err := json.Marshal(map[string]string{
			"id_server": sim.host, "id_access_token": simulator.DefaultIDAccessToken,
			"medium": string(inv.Medium), "address": inv.Address,
		})
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost,
			sim.url+"/_matrix/client/v3/rooms/"+url.PathEscape(inv.RoomID)+"/invite", bytes.NewReader(body))
		if err != nil {
			return err
		}
		if marked {
			if err := e.rdb.HSet(ctx, "naive:result:"+inv.Key(), "inflight", "1").Err(); err != nil {
				return err
			}
		}
		req.Header.Set("Authorization", "Bearer "+simulator.DefaultAccessToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		status := "Success"
		if resp.StatusCode != http.StatusOK {
			status = "HTTP " + strconv.Itoa(resp.StatusCode)
		}
		return e.rdb.HSet(ctx, "naive:result:"+inv.Key(), "status", status, "http_status", resp.StatusCode).Err()
	}
	queue, label, profile := "p1naive", "naive handler", "P1n"
	if marked {
		queue, label, profile = "p1marked", "naive handler with an in-flight mark", ""
	}
	run, err := p1Asynq(ctx, e, queue, profile, handle)
	if err != nil {
		return run, err
	}
	st := sim.sim.Stats()
	check := fmt.Sprintf("check: %d accepted, %d duplicates", st.Accepted, st.Duplicates)
	if st.Accepted != p1Invites {
		return run, fmt.Errorf("not every invite was accepted once (%s)", check)
	}
	run.note = check + "; " + run.note
	fmt.Printf("   %s:   %s invites in %s = %s (%s)\n", label, fmtInt(p1Invites), run.elapsed.Round(time.Millisecond),
		fmtRate(p1Invites, run.elapsed), run.note)
	fmt.Printf("      Redis commands per invite: %s\n", run.work.top(p1Invites, 16))
	return run, nil
}
