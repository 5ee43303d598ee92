package worker

import (
	"context"
	"sync"

	"github.com/mxinvite/mxinvite/matrix"
)

// sender is a profile ready to send: its client and, once known, its user ID.
type sender struct {
	Profile
	client *matrix.Client
	slots  *senderSlots // nil: no cap of its own

	mu     sync.Mutex
	userID matrix.UserID
}

// whoAmI returns the sender's user ID, asking the homeserver once; a failure
// is not cached, so a later call asks again.
func (s *sender) whoAmI(ctx context.Context) (matrix.UserID, matrix.Outcome) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.userID != "" {
		return s.userID, matrix.Outcome{Status: matrix.Status{Code: matrix.Success}}
	}
	id, o := s.client.WhoAmI(ctx)
	if o.Status.Good() {
		s.userID = id
	}
	return id, o
}

// idToken is the identity access token to send with an invite naming
// idServer: a profile's token only goes to the identity server it was
// registered with, never to another one a task names.
func (s *sender) idToken(idServer string) string {
	if idServer == s.IDServer {
		return s.IDAccessToken
	}
	return s.IDServerTokens[idServer]
}
