package main

import (
	"fmt"
	"math"
	"time"

	"github.com/urfave/cli/v3"
)

// The ranges of the numeric flags, in one place, by flag name (a name means
// the same in every command that has it). checkNumericFlags gives each flag
// its check; TestEveryNumericFlagIsRangeChecked fails on a numeric flag
// missing here. Values from MXINVITE_* variables are checked the same way.
var (
	intRanges = map[string]intRange{
		"concurrency": {min: 1}, // worker: invites in flight; enqueue: batches at once
		"max-retries": {min: 0}, // retries after the first attempt
		"burst":       {min: 0}, // simulate: 0 with --rate 0 is no limit
		"invites":     {min: 1}, // demo: rows in the generated list
		"breaker":     {min: 0}, // worker: 0 turns it off
		// worker: different invites failing before the sender backs off
		"backoff-threshold": {min: 1},
		// worker: entries kept in the results stream; 0 is no cap
		"results-stream-max": {min: 0},
	}
	durationRanges = map[string]durationRange{
		"in":                  {min: 0},
		"spread":              {min: 0},
		"max-rate-limit-wait": {min: time.Millisecond},
		"shutdown-timeout":    {min: 0},
		"latency":             {min: 0},
		"jitter":              {min: 0},
		"timeout":             {min: time.Second}, // demo: give up after this long
		"backoff-max":         {min: time.Millisecond},
		"rate-pause":          {min: 0}, // simulate: Synapse's pause before a 429
		"finished-ttl":        {min: 0}, // worker: 0 keeps finished records
		"dashboard-refresh":   {min: 100 * time.Millisecond},
		"track-every":         {min: 0}, // worker: 0 never tracks
	}
	floatRanges = map[string]floatRange{
		"rate":       {min: 0, max: math.Inf(1)}, // invites per second; simulate: 0 is no limit
		"error-rate": {min: 0, max: 1},           // a share
		// simulate: rc_invites defaults sped up this many times; 0 is off
		"invite-limits": {min: 0, max: math.Inf(1)},
	}
)

type intRange struct{ min int }

func (r intRange) check(v int) error {
	if v < r.min {
		return fmt.Errorf("out of range: must be at least %d", r.min)
	}
	return nil
}

type durationRange struct{ min time.Duration }

func (r durationRange) check(v time.Duration) error {
	if v < r.min {
		return fmt.Errorf("out of range: must be at least %s", r.min)
	}
	return nil
}

type floatRange struct{ min, max float64 }

func (r floatRange) check(v float64) error {
	if math.IsNaN(v) || v < r.min || v > r.max {
		if math.IsInf(r.max, 1) {
			return fmt.Errorf("out of range: must be at least %v", r.min)
		}
		return fmt.Errorf("out of range: must be between %v and %v", r.min, r.max)
	}
	return nil
}

// checkNumericFlags sets the Validator of every numeric flag of the tree
// that has a range above (and no validator of its own).
func checkNumericFlags(root *cli.Command) {
	walkCommands(root, func(_ string, cmd *cli.Command) {
		for _, f := range cmd.Flags {
			name := f.Names()[0]
			switch f := f.(type) {
			case *cli.IntFlag:
				if r, ok := intRanges[name]; ok && f.Validator == nil {
					f.Validator = r.check
				}
			case *cli.DurationFlag:
				if r, ok := durationRanges[name]; ok && f.Validator == nil {
					f.Validator = r.check
				}
			case *cli.Float64Flag:
				if r, ok := floatRanges[name]; ok && f.Validator == nil {
					f.Validator = r.check
				}
			}
		}
	})
}
