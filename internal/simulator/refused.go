package simulator

import (
	"fmt"
	"net/http"
	"path"
	"sync"
)

// RefusalRefused: the identity server refused to store the invite for
// the address (Sydent's blocklists and keyword checks, answered 403
// M_UNAUTHORIZED "Invite not allowed"); a key of Stats.IdentityRefusals.
const RefusalRefused = "refused"

// validatePatterns checks glob patterns of Config.RefusedAddresses.
func validatePatterns(field string, patterns []string) []error {
	var errs []error
	for i, p := range patterns {
		if _, err := path.Match(p, ""); err != nil || p == "" {
			errs = append(errs, fmt.Errorf("simulator: Config.%s[%d]: %q is not a glob pattern", field, i, p))
		}
	}
	return errs
}

// refusedAddresses holds the patterns of addresses the identity server
// will not store invites for.
type refusedAddresses struct {
	mu       sync.Mutex
	patterns []string
}

func (ra *refusedAddresses) set(patterns []string) {
	ra.mu.Lock()
	defer ra.mu.Unlock()
	ra.patterns = append([]string(nil), patterns...)
}

// refused reports whether the (canonical) address matches a pattern.
func (ra *refusedAddresses) refused(address string) bool {
	ra.mu.Lock()
	defer ra.mu.Unlock()
	for _, p := range ra.patterns {
		if ok, _ := path.Match(p, address); ok {
			return true
		}
	}
	return false
}

// SetRefusedAddresses replaces Config.RefusedAddresses (nil: none).
func (s *Server) SetRefusedAddresses(patterns []string) error {
	if errs := validatePatterns("RefusedAddresses", patterns); len(errs) > 0 {
		return errs[0]
	}
	s.refused.set(patterns)
	return nil
}

// SetThreePIDLookupDisabled sets Synapse's enable_3pid_lookup to the
// opposite of disabled: while disabled, every 3PID invite gets 403
// M_UNKNOWN (Config.ThreePIDLookupDisabled).
func (s *Server) SetThreePIDLookupDisabled(disabled bool) { s.lookupOff.Store(disabled) }

// lookupDeniedReply is Synapse's answer to a 3PID invite when
// enable_3pid_lookup is false (a SynapseError without errcode, so
// M_UNKNOWN).
func lookupDeniedReply() reply {
	return errReply(http.StatusForbidden, "M_UNKNOWN", "Looking up third-party identifiers is denied from this server")
}

// handleRefused serves POST /_sim/refused {"patterns": [...]}:
// [Server.SetRefusedAddresses].
func (s *Server) handleRefused(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Patterns []string `json:"patterns"`
	}
	if s.readControl(w, r, &body) {
		s.controlResult(w, s.SetRefusedAddresses(body.Patterns))
	}
}

// handleThreePIDLookup serves POST /_sim/3pid_lookup {"disabled": bool}:
// [Server.SetThreePIDLookupDisabled].
func (s *Server) handleThreePIDLookup(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Disabled *bool `json:"disabled"`
	}
	if !s.readControl(w, r, &body) {
		return
	}
	if body.Disabled == nil {
		writeError(w, http.StatusBadRequest, "M_MISSING_PARAM", "Missing disabled")
		return
	}
	s.SetThreePIDLookupDisabled(*body.Disabled)
	writeJSON(w, http.StatusOK, map[string]bool{"disabled": *body.Disabled})
}
