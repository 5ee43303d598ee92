package simulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path"
	"strconv"
	"sync"
	"time"
)

// Rule scripts the answer to invites whose address matches Pattern, for
// example {Pattern: "*@banned.example", Status: 403, ErrCode:
// "M_FORBIDDEN"}, or {Pattern: "*@flaky.example", Status: 500, Times: 2}
// for "500 twice per address, then success". Several rules for one
// address make a sequence: each applies for its Times, then the next
// matching rule does, e.g. 429 (advice 100 ms) once, then 500 once, then
// the real answer.
//
// For a 3PID invite, rules are checked after the rate limit and before
// the identity server, where Synapse consults its third-party rules
// module, against the address; for an invite by Matrix ID, after
// rc_invites (where Synapse asks its spam checker), against the user ID.
// The first rule that matches and has uses left applies.
type Rule struct {
	// Pattern is a [path.Match] glob matched against the invitee address
	// (lowercased for email, as Synapse canonicalises them) or, for an
	// invite by Matrix ID, the user ID.
	Pattern string `json:"pattern"`
	// Status is the HTTP status answered, 200..599. A 200 answers {} and
	// does nothing, like Synapse does to a shadow-banned inviter. May be 0
	// with Hang.
	Status int `json:"status"`
	// ErrCode is the errcode of a non-2xx answer. Default "M_UNKNOWN"
	// (set "M_LIMIT_EXCEEDED" for a Synapse-like 429).
	ErrCode string `json:"errcode"`
	// Error is the message of a non-2xx answer. Default "Scripted answer".
	Error string `json:"error"`
	// Times limits the rule to the first Times matching requests for each
	// address; 0 means always.
	Times int `json:"times"`
	// AfterStore answers only after the invite was emailed and recorded
	// (or, for an account, invited), like Synapse when the identity server
	// fails after storing it. Such errors are not cached for PUT (Synapse
	// caches successes only), so every retry invites again.
	AfterStore bool `json:"after_store"`

	// RetryAfterMS puts "retry_after_ms" in the JSON error body. With
	// Status 429 it is advice: a request for the same address that comes
	// back sooner (counted from when the answer left) is counted in
	// Stats.EarlyByScope["rule"] and Stats.EarlyByAddress. Default none.
	RetryAfterMS int64 `json:"retry_after_ms"`
	// RetryAfter is a Retry-After header value, sent as is: seconds
	// ("2"), an HTTP date, or anything odd. With Status 429 and no
	// RetryAfterMS, seconds or a date are the advice. Default none.
	RetryAfter string `json:"retry_after"`
	// Hang never answers: the request waits until the client gives up (a
	// timeout), counted in Stats.Timeouts. Default false.
	Hang bool `json:"hang"`
	// Delay waits this long before answering. Default 0.
	Delay time.Duration `json:"-"`
	// Body, when not empty (or when ContentType is set), is the whole
	// answer body, written as is with ContentType (no Content-Type when
	// ContentType is empty): a non-JSON 200, an HTML 502, JSON of an
	// unexpected shape... Default: the JSON answer above.
	Body string `json:"body"`
	// ContentType is the Content-Type of Body.
	ContentType string `json:"content_type"`
	// EmptyBody answers with no body at all (and no Content-Type).
	EmptyBody bool `json:"empty_body"`
}

func (r Rule) validate(field string) []error {
	var errs []error
	bad := func(sub, format string, args ...any) {
		errs = append(errs, fmt.Errorf("simulator: Config.%s.%s: %s", field, sub, fmt.Sprintf(format, args...)))
	}
	if _, err := path.Match(r.Pattern, ""); err != nil || r.Pattern == "" {
		bad("Pattern", "%q is not a glob pattern", r.Pattern)
	}
	if (r.Status < 200 || r.Status > 599) && !(r.Hang && r.Status == 0) {
		bad("Status", "%d is not in 200..599", r.Status)
	}
	if r.Times < 0 {
		bad("Times", "negative (%d)", r.Times)
	}
	if r.RetryAfterMS < 0 {
		bad("RetryAfterMS", "negative (%d)", r.RetryAfterMS)
	}
	if r.RetryAfterMS > 0 && r.raw() {
		bad("RetryAfterMS", "goes in the JSON error body, which Body or EmptyBody replace")
	}
	if r.Delay < 0 {
		bad("Delay", "negative (%v)", r.Delay)
	}
	if r.EmptyBody && (r.Body != "" || r.ContentType != "") {
		bad("EmptyBody", "set together with Body or ContentType")
	}
	return errs
}

// raw reports whether the rule replaces the JSON answer by its own body.
func (r Rule) raw() bool { return r.EmptyBody || r.Body != "" || r.ContentType != "" }

// reply is the scripted answer.
func (r Rule) reply() reply {
	if r.Hang {
		return reply{hang: true}
	}
	var rep reply
	switch {
	case r.EmptyBody:
		rep = reply{status: r.Status, raw: true}
	case r.raw():
		rep = reply{status: r.Status, body: []byte(r.Body), contentType: r.ContentType, raw: true}
	case r.Status >= 200 && r.Status < 300:
		rep = okReply()
		rep.status = r.Status
	default:
		code, msg := r.ErrCode, r.Error
		if code == "" {
			code = "M_UNKNOWN"
		}
		if msg == "" {
			msg = "Scripted answer"
		}
		rep = errReply(r.Status, code, msg)
		if r.RetryAfterMS > 0 {
			rep.extra["retry_after_ms"] = r.RetryAfterMS
		}
	}
	rep.retryAfter = r.RetryAfter
	rep.delay = r.Delay
	rep.nonJSON = r.Status >= 200 && r.Status < 300 && !json.Valid(rep.body)
	if r.Status == http.StatusTooManyRequests {
		rep.scope = ScopeRule
	}
	return rep
}

// advisedUntil is when a client told by this rule's 429, sent at sent,
// may come back: retry_after_ms if given, else Retry-After in seconds or
// as an HTTP date. ok is false when the answer advises nothing.
func (r Rule) advisedUntil(sent time.Time) (time.Time, bool) {
	if r.Status != http.StatusTooManyRequests || r.Hang {
		return time.Time{}, false
	}
	if r.RetryAfterMS > 0 {
		return sent.Add(time.Duration(r.RetryAfterMS) * time.Millisecond), true
	}
	if n, err := strconv.ParseInt(r.RetryAfter, 10, 64); err == nil && n > 0 {
		return sent.Add(time.Duration(n) * time.Second), true
	}
	if t, err := http.ParseTime(r.RetryAfter); err == nil && t.After(sent) {
		return t, true
	}
	return time.Time{}, false
}

// ruleUse identifies the uses of one rule for one address.
type ruleUse struct {
	rule    int
	address string
}

// rulebook holds the rules, how often each was used per address, and
// the advice their 429s gave per address.
type rulebook struct {
	mu     sync.Mutex
	rules  []Rule
	uses   map[ruleUse]int
	advice map[string]advice // by address (or user ID)
}

func newRulebook(rules []Rule) *rulebook {
	rb := &rulebook{}
	rb.set(rules)
	return rb
}

// set replaces the rules and forgets their uses.
func (rb *rulebook) set(rules []Rule) {
	rb.mu.Lock()
	defer rb.mu.Unlock()
	rb.rules = append([]Rule(nil), rules...)
	rb.uses = map[ruleUse]int{}
	if rb.advice == nil {
		rb.advice = map[string]advice{}
	}
}

// reset forgets the uses, so Times counts start again, and the advice.
func (rb *rulebook) reset() {
	rb.mu.Lock()
	defer rb.mu.Unlock()
	rb.uses = map[ruleUse]int{}
	rb.advice = map[string]advice{}
}

// answer is rule's reply to a request for address received at now; a
// 429 with advice is remembered, counted from when the answer leaves
// (after the rule's Delay).
func (rb *rulebook) answer(r Rule, address string, now time.Time) reply {
	sent := now.Add(r.Delay)
	if until, ok := r.advisedUntil(sent); ok {
		rb.mu.Lock()
		a := advice{issued: sent, until: until}
		if prev, ok := rb.advice[address]; ok && sent.Before(prev.until) && prev.until.After(until) {
			a.until = prev.until
		}
		rb.advice[address] = a
		rb.mu.Unlock()
	}
	return r.reply()
}

// early reports whether a request for address that arrived at arrival
// came back before the time a scripted 429 advised for it. A request that
// arrived before that answer left was in flight, not early.
func (rb *rulebook) early(address string, arrival time.Time) bool {
	rb.mu.Lock()
	defer rb.mu.Unlock()
	a, ok := rb.advice[address]
	return ok && !arrival.Before(a.issued) && arrival.Before(a.until)
}

// match returns the first rule for address with uses left, and uses it.
func (rb *rulebook) match(address string) (Rule, bool) {
	rb.mu.Lock()
	defer rb.mu.Unlock()
	for i, r := range rb.rules {
		if ok, _ := path.Match(r.Pattern, address); !ok {
			continue
		}
		if r.Times > 0 {
			key := ruleUse{rule: i, address: address}
			if rb.uses[key] >= r.Times {
				continue
			}
			rb.uses[key]++
		}
		return r, true
	}
	return Rule{}, false
}
