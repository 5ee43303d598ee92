package simulator

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// Faults are the failures injected into invite requests, and the latency
// added to every Matrix request. Random choices come from Config.Seed.
//
// The random faults model what happens between client and server (a
// proxy, the network): before the server or after it. A single roll per
// invite picks at most one of error, timeout and non-JSON, so the three
// rates must add up to at most 1.
type Faults struct {
	// Latency delays every answer under /_matrix/. Default 0.
	Latency time.Duration
	// Jitter adds a uniform random delay in [0, Jitter) to Latency.
	// Default 0.
	Jitter time.Duration

	// ErrorRate is the probability (0..1) that an invite is answered
	// ErrorStatus. Default 0.
	ErrorRate float64
	// ErrorStatus is the status of injected errors, 500..599.
	// Default 500.
	ErrorStatus int
	// ErrorCode is the errcode of injected errors. Default "M_UNKNOWN".
	ErrorCode string

	// TimeoutRate is the probability (0..1) that an invite is never
	// answered: the request hangs until the client gives up. Default 0.
	TimeoutRate float64

	// NonJSONRate is the probability (0..1) that an invite is answered
	// 200 with an HTML body, as a captive portal or misrouted proxy does.
	// Default 0.
	NonJSONRate float64

	// AfterStore makes the faults strike after the server fully processed
	// the invite (emailed, recorded, PUT answer cached), so the client
	// cannot tell that it worked: a blind POST retry invites twice, a PUT
	// retry with the same txnId gets the cached 200. Default false: the
	// fault strikes first and nothing happens on the server.
	AfterStore bool
}

func (f Faults) withDefaults() Faults {
	if f.ErrorStatus == 0 {
		f.ErrorStatus = http.StatusInternalServerError
	}
	if f.ErrorCode == "" {
		f.ErrorCode = "M_UNKNOWN"
	}
	return f
}

func (f Faults) validate(field string) []error {
	var errs []error
	bad := func(sub, format string, args ...any) {
		errs = append(errs, fmt.Errorf("simulator: Config.%s.%s: %s", field, sub, fmt.Sprintf(format, args...)))
	}
	if f.Latency < 0 {
		bad("Latency", "negative (%v)", f.Latency)
	}
	if f.Jitter < 0 {
		bad("Jitter", "negative (%v)", f.Jitter)
	}
	for _, p := range []struct {
		name string
		v    float64
	}{{"ErrorRate", f.ErrorRate}, {"TimeoutRate", f.TimeoutRate}, {"NonJSONRate", f.NonJSONRate}} {
		if math.IsNaN(p.v) || p.v < 0 || p.v > 1 {
			bad(p.name, "%v is not a probability in [0, 1]", p.v)
		}
	}
	if sum := f.ErrorRate + f.TimeoutRate + f.NonJSONRate; sum > 1 {
		bad("ErrorRate", "ErrorRate+TimeoutRate+NonJSONRate = %v, more than 1", sum)
	}
	if f.ErrorStatus < 500 || f.ErrorStatus > 599 {
		bad("ErrorStatus", "%d is not a 5xx status", f.ErrorStatus)
	}
	return errs
}

// faultKind is what a roll decided.
type faultKind int

const (
	noFault faultKind = iota
	faultError
	faultTimeout
	faultNonJSON
)

// fault is the outcome of one roll for one invite.
type fault struct {
	kind       faultKind
	afterStore bool
	status     int
	errcode    string
}

// reply is the answer the fault replaces the real one with.
func (f fault) reply() reply {
	switch f.kind {
	case faultError:
		return errReply(f.status, f.errcode, "Simulated server error")
	case faultTimeout:
		return reply{hang: true}
	case faultNonJSON:
		return reply{status: http.StatusOK, contentType: "text/html; charset=utf-8", nonJSON: true,
			body: []byte("<html><body><h1>It works!</h1></body></html>\n")}
	}
	return reply{}
}

// faultInjector holds the current Faults and the seeded random source.
// math/rand sources are not safe for concurrent use, hence the mutex.
type faultInjector struct {
	mu  sync.Mutex
	cfg Faults
	rnd *rand.Rand
}

func newFaultInjector(cfg Faults, seed int64) *faultInjector {
	// The second PCG word is an arbitrary constant: only Seed varies runs.
	return &faultInjector{cfg: cfg.withDefaults(), rnd: rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15))}
}

func (fi *faultInjector) set(cfg Faults) {
	fi.mu.Lock()
	defer fi.mu.Unlock()
	fi.cfg = cfg.withDefaults()
}

// delay returns the latency for one request: Latency plus jitter.
func (fi *faultInjector) delay() time.Duration {
	fi.mu.Lock()
	defer fi.mu.Unlock()
	d := fi.cfg.Latency
	if fi.cfg.Jitter > 0 {
		d += time.Duration(fi.rnd.Int64N(int64(fi.cfg.Jitter)))
	}
	return d
}

// roll decides the fault of one invite request.
func (fi *faultInjector) roll() fault {
	fi.mu.Lock()
	defer fi.mu.Unlock()
	c := fi.cfg
	f := fault{afterStore: c.AfterStore, status: c.ErrorStatus, errcode: c.ErrorCode}
	if c.ErrorRate+c.TimeoutRate+c.NonJSONRate <= 0 {
		return f // no draw, so a fault-free config does not shift the sequence
	}
	switch u := fi.rnd.Float64(); {
	case u < c.ErrorRate:
		f.kind = faultError
	case u < c.ErrorRate+c.TimeoutRate:
		f.kind = faultTimeout
	case u < c.ErrorRate+c.TimeoutRate+c.NonJSONRate:
		f.kind = faultNonJSON
	}
	return f
}

// sleep waits d, or less if the client goes away; it reports whether the
// whole delay passed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
	}
	return false
}
