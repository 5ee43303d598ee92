package simulator

import (
	"fmt"
	"path"
	"sync"
)

// Rule scripts the answer to invites whose address matches Pattern, for
// example {Pattern: "*@banned.example", Status: 403, ErrCode:
// "M_FORBIDDEN"}, or {Pattern: "*@flaky.example", Status: 500, Times: 2}
// for "500 twice per address, then success".
//
// Rules are checked after the rate limit and before the identity server,
// where Synapse consults its third-party rules module; the first rule that
// matches and has uses left applies.
type Rule struct {
	// Pattern is a [path.Match] glob matched against the invitee address
	// (lowercased for email, as Synapse canonicalises them).
	Pattern string
	// Status is the HTTP status answered, 200..599. A 200 answers {} and
	// does nothing, like Synapse does to a shadow-banned inviter.
	Status int
	// ErrCode is the errcode of a non-2xx answer. Default "M_UNKNOWN".
	ErrCode string
	// Error is the message of a non-2xx answer. Default "Scripted answer".
	Error string
	// Times limits the rule to the first Times matching requests for each
	// address; 0 means always.
	Times int
	// AfterStore answers only after the invite was emailed and recorded,
	// like Synapse when the identity server fails after storing it. Such
	// errors are not cached for PUT (Synapse caches successes only), so
	// every retry invites again.
	AfterStore bool
}

func (r Rule) validate(field string) []error {
	var errs []error
	if _, err := path.Match(r.Pattern, ""); err != nil || r.Pattern == "" {
		errs = append(errs, fmt.Errorf("simulator: Config.%s.Pattern: %q is not a glob pattern", field, r.Pattern))
	}
	if r.Status < 200 || r.Status > 599 {
		errs = append(errs, fmt.Errorf("simulator: Config.%s.Status: %d is not in 200..599", field, r.Status))
	}
	if r.Times < 0 {
		errs = append(errs, fmt.Errorf("simulator: Config.%s.Times: negative (%d)", field, r.Times))
	}
	return errs
}

// reply is the scripted answer. A scripted 429 carries no retry advice.
func (r Rule) reply() reply {
	if r.Status >= 200 && r.Status < 300 {
		rep := okReply()
		rep.status = r.Status
		return rep
	}
	code, msg := r.ErrCode, r.Error
	if code == "" {
		code = "M_UNKNOWN"
	}
	if msg == "" {
		msg = "Scripted answer"
	}
	return errReply(r.Status, code, msg)
}

// ruleUse identifies the uses of one rule for one address.
type ruleUse struct {
	rule    int
	address string
}

// rulebook holds the rules and how often each was used per address.
type rulebook struct {
	mu    sync.Mutex
	rules []Rule
	uses  map[ruleUse]int
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
}

// reset forgets the uses, so Times counts start again.
func (rb *rulebook) reset() {
	rb.mu.Lock()
	defer rb.mu.Unlock()
	rb.uses = map[ruleUse]int{}
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
