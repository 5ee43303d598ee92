package matrix

import (
	"errors"
	"strings"
	"testing"
	"time"
)

type step struct {
	retry bool
	wait  time.Duration
}

// TestDefaultScheduleForEveryCode walks attempts 1..5 (0..4 retries taken).
func TestDefaultScheduleForEveryCode(t *testing.T) {
	p := DefaultRetryPolicy()
	no := step{false, 0}
	waits := []step{{true, 2 * time.Second}, {true, 5 * time.Second}, {true, 30 * time.Second}, no, no}
	tests := map[StatusCode][]step{
		NetworkError:        waits,
		IncorrectResponse:   waits,
		Timeout:             {{true, 0}, {true, 0}, {true, 0}, no, no},
		TooManyRequests:     {{true, 9 * time.Second}, {true, 9 * time.Second}, {true, 9 * time.Second}, {true, 9 * time.Second}, {true, 9 * time.Second}},
		Success:             {no, no, no, no, no},
		Abandoned:           {no, no, no, no, no},
		ContentAccessError:  {no, no, no, no, no},
		Unauthorised:        {no, no, no, no, no},
		NotFound:            {no, no, no, no, no},
		IncorrectRequest:    {no, no, no, no, no},
		UserConsentRequired: {no, no, no, no, no},
		NetworkAuthRequired: {no, no, no, no, no},
	}
	for code, schedule := range tests {
		o := Outcome{Status: Status{Code: code}, RetryAfter: 9 * time.Second}
		for retries, want := range schedule {
			retry, wait := p.Next(o, retries)
			if (step{retry, wait}) != want {
				t.Errorf("%v after %d retries: (%v, %v), want (%v, %v)", code, retries, retry, wait, want.retry, want.wait)
			}
		}
	}
}

func TestDefaultTimeoutsAndWaits(t *testing.T) {
	p := DefaultRetryPolicy()
	timeouts := []time.Duration{30 * time.Second, 30 * time.Second, 60 * time.Second, 150 * time.Second, 150 * time.Second, 150 * time.Second}
	waits := []time.Duration{2 * time.Second, 2 * time.Second, 5 * time.Second, 30 * time.Second, 30 * time.Second, 30 * time.Second}
	for i := range timeouts {
		retries := i - 1 // from -1: negative counts as 0
		if got := p.Timeout(retries); got != timeouts[i] {
			t.Errorf("Timeout(%d) = %v, want %v", retries, got, timeouts[i])
		}
		if got := p.Wait(retries); got != waits[i] {
			t.Errorf("Wait(%d) = %v, want %v", retries, got, waits[i])
		}
	}
	if p.MaxRetries != 3 {
		t.Errorf("MaxRetries = %d", p.MaxRetries)
	}
}

func TestCustomSchedule(t *testing.T) {
	p := RetryPolicy{Timeouts: []time.Duration{time.Second, 2 * time.Second}, Waits: []time.Duration{100 * time.Millisecond}, MaxRetries: 1}.WithDefaults()
	for retries, want := range []time.Duration{time.Second, 2 * time.Second, 2 * time.Second, 2 * time.Second} {
		if got := p.Timeout(retries); got != want {
			t.Errorf("Timeout(%d) = %v, want %v", retries, got, want)
		}
		if got := p.Wait(retries); got != 100*time.Millisecond {
			t.Errorf("Wait(%d) = %v, want 100ms", retries, got)
		}
	}
	o := Outcome{Status: Status{Code: NetworkError}}
	if retry, wait := p.Next(o, 0); !retry || wait != 100*time.Millisecond {
		t.Errorf("Next after 0 = %v, %v", retry, wait)
	}
	if retry, _ := p.Next(o, 1); retry {
		t.Error("MaxRetries 1 allows one retry only")
	}
	var never RetryPolicy // not WithDefaults: MaxRetries 0 never retries
	if retry, _ := never.Next(o, 0); retry {
		t.Error("zero policy retried")
	}
	if never.Timeout(0) != 30*time.Second || never.Wait(7) != 30*time.Second {
		t.Error("empty slices must read as the defaults")
	}
}

func TestWithDefaultsDoesNotAlias(t *testing.T) {
	custom := []time.Duration{time.Second}
	p := RetryPolicy{Timeouts: custom}.WithDefaults()
	p.Timeouts[0] = time.Hour
	p.Waits[0] = time.Hour
	if custom[0] != time.Second || DefaultRetryPolicy().Wait(0) != 2*time.Second {
		t.Error("WithDefaults shares slices")
	}
	if p.MaxRetries != 0 || len(p.Waits) != 3 {
		t.Errorf("defaults not filled as documented: %+v", p)
	}
	if z := (RetryPolicy{}).WithDefaults(); z.MaxRetries != 3 {
		t.Errorf("zero policy: MaxRetries %d, want 3", z.MaxRetries)
	}
}

func TestRetryPolicyValidate(t *testing.T) {
	if err := DefaultRetryPolicy().Validate(); err != nil {
		t.Errorf("default policy: %v", err)
	}
	if err := (RetryPolicy{}).Validate(); err != nil {
		t.Errorf("zero policy: %v", err)
	}
	tests := map[string]RetryPolicy{
		"Timeouts[1]": {Timeouts: []time.Duration{time.Second, -time.Second}},
		"Timeouts[0]": {Timeouts: []time.Duration{0}},
		"Waits[0]":    {Waits: []time.Duration{-time.Millisecond}},
		"MaxRetries":  {MaxRetries: -1},
	}
	for field, p := range tests {
		err := p.Validate()
		if !errors.Is(err, ErrInvalidRetryPolicy) || !strings.Contains(err.Error(), field) {
			t.Errorf("Validate(%+v) = %v, want an error naming %s", p, err, field)
		}
	}
}

func TestParseDurations(t *testing.T) {
	got, err := ParseDurations(" 2s, 5s ,30s")
	want := []time.Duration{2 * time.Second, 5 * time.Second, 30 * time.Second}
	if err != nil || len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("ParseDurations = %v, %v", got, err)
	}
	for _, bad := range []string{"", " ", "2s,,5s", "2s,x", "-1s", "5"} {
		if _, err := ParseDurations(bad); err == nil {
			t.Errorf("ParseDurations(%q) accepted", bad)
		}
	}
}
