package simulator

import (
	"fmt"
	"time"
)

// LaterBind is a person who registers later: After the simulator starts
// (or after a /_sim/bind with "after"), Binding is made (Server.Bind: the
// 3PID invites of the address become the account's invites), and with
// Join the account then joins every room it is invited to. It lets a demo
// show a campaign's funnel fill up (mxinvite track).
type LaterBind struct {
	Binding
	// After is how long after the start the bind happens. Required (> 0).
	After time.Duration `json:"-"`
	// Join makes the account join the rooms it is invited to, right after
	// the bind. Default false.
	Join bool `json:"join"`
}

// validate reports what is wrong with a later bind (field names the
// Config's).
func (lb LaterBind) validate(field string) []error {
	errs := lb.withDefaults().validate(field)
	if lb.After <= 0 {
		errs = append(errs, fmt.Errorf("%s.After %v: must be positive", field, lb.After))
	}
	return errs
}

// scheduleBind makes lb happen after its After, unless the server closes
// first.
func (s *Server) scheduleBind(lb LaterBind) {
	go func() {
		t := time.NewTimer(lb.After)
		defer t.Stop()
		select {
		case <-s.closing:
			return
		case <-t.C:
		}
		_ = s.bindNow(lb)
	}()
}

// bindNow binds lb's address and, with Join, joins its account to every
// room where it is invited. Counted in Stats.LaterBinds (and Binds, Joins).
func (s *Server) bindNow(lb LaterBind) error {
	if _, err := s.Bind(lb.Medium, lb.Address, lb.UserID); err != nil {
		return err
	}
	s.rec.count(func(st *Stats) { st.LaterBinds++ })
	if !lb.Join {
		return nil
	}
	for _, room := range s.rooms.invitedTo(lb.UserID) {
		if err := s.Join(room, lb.UserID); err != nil {
			return err
		}
	}
	return nil
}

// invitedTo lists the rooms where userID's membership is "invite".
func (rs *roomStore) invitedTo(userID string) []string {
	rs.mu.RLock()
	defer rs.mu.RUnlock()
	var out []string
	for id, st := range rs.rooms {
		if st.room.Members[userID] == "invite" {
			out = append(out, id)
		}
	}
	return out
}
