package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/hibiken/asynq"

	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/tasks"
)

// p2Loop is a plain asynq importer: it reads the first n rows of the CSV
// file, builds each invite's task and enqueues it with asynq.Client, from
// the given number of goroutines (1: the naive serial loop). It returns the
// time from opening the file to the last enqueue, and where it went.
func p2Loop(ctx context.Context, e *env, csvPath string, n int64, goroutines int) (time.Duration, string, error) {
	ctx, cancel := context.WithTimeout(ctx, p2LoopLimit)
	defer cancel()
	queue := fmt.Sprintf("p2loop%d", goroutines)
	client := asynq.NewClient(e.redisOpt())
	defer client.Close()
	enqueue := func(addr string) error {
		inv, err := tasks.NewInvite(tasks.Invite{Campaign: p2Campaign, RoomID: simulator.DefaultRoomID,
			Medium: tasks.MediumEmail, Address: addr})
		if err != nil {
			return err
		}
		t, err := inv.Task(asynq.Queue(queue))
		if err != nil {
			return err
		}
		_, err = client.EnqueueContext(ctx, t)
		return err
	}

	u0 := e.sample(ctx)
	start := time.Now()
	f, err := os.Open(csvPath)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.ReuseRecord = true
	if _, err := r.Read(); err != nil { // header
		return 0, "", err
	}
	if goroutines <= 1 {
		for i := int64(0); i < n; i++ {
			rec, err := r.Read()
			if err != nil {
				return 0, "", fmt.Errorf("row %d: %w", i+1, err)
			}
			if err := enqueue(rec[0]); err != nil {
				return 0, "", fmt.Errorf("row %d: %w", i+1, err)
			}
		}
	} else if err := fanOut(ctx, r, n, goroutines, enqueue); err != nil {
		return 0, "", err
	}
	d := time.Since(start)
	note := e.since(ctx, u0).per(n, d, 0, "row")
	fmt.Printf("   plain asynq enqueue, %d goroutine(s): %s rows in %s = %s (%s)\n", goroutines, fmtInt(n),
		d.Round(time.Millisecond), fmtRate(n, d), note)
	return d, note, nil
}

// fanOut reads n rows on this goroutine and hands their addresses to the
// enqueuing goroutines, stopping at the first error.
func fanOut(ctx context.Context, r *csv.Reader, n int64, goroutines int, enqueue func(string) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	addrs := make(chan string, 1024)
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		loopErr error
	)
	for range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for a := range addrs {
				if err := enqueue(a); err != nil {
					mu.Lock()
					loopErr = errors.Join(loopErr, err)
					mu.Unlock()
					cancel()
					return
				}
			}
		}()
	}
	var readErr error
read:
	for i := int64(0); i < n; i++ {
		rec, err := r.Read()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = fmt.Errorf("the file has only %d rows", i)
			}
			readErr = err
			break
		}
		select {
		case addrs <- rec[0]: // strings stay valid when the record slice is reused
		case <-ctx.Done():
			readErr = ctx.Err()
			break read
		}
	}
	close(addrs)
	wg.Wait()
	return errors.Join(loopErr, readErr)
}
