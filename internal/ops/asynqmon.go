package ops

import (
	"fmt"
	"strings"

	"github.com/hibiken/asynq"
	"github.com/hibiken/asynqmon"
)

// AsynqmonPath is where MountAsynqmon serves asynqmon.
const AsynqmonPath = "/asynq/"

// MountAsynqmon serves asynqmon — asynq's web UI, built into its Go module
// — at AsynqmonPath, on its own connections to redis, behind the server's
// Guard like every other path (its pages show task payloads, that is
// invitees' addresses).
//
// Read-only unless writable: asynqmon then refuses every API call but GET
// (405). Writable, it may pause and resume queues, and nothing else: its
// task actions (delete, archive, run, cancel) and queue deletion would
// change asynq's tasks behind mxinvite's records (a deleted task's invite
// would stay "queued" for good), so they are refused (403) in favour of
// mxinvite cancel, retry and purge. Its page is served without the
// third-party fonts it links to, under a CSP that allows its own inline
// scripts by hash. Shutdown closes its connections.
func (s *Server) MountAsynqmon(redis asynq.RedisConnOpt, writable bool) (err error) {
	// asynqmon.New panics on a connection option it cannot use.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("asynqmon: %v", r)
		}
	}()
	h := asynqmon.New(asynqmon.Options{
		RootPath:     strings.TrimSuffix(AsynqmonPath, "/"),
		RedisConnOpt: redis,
		ReadOnly:     !writable,
	})
	m, err := newAsynqmonHandler(h, writable)
	if err != nil {
		_ = h.Close()
		return err
	}
	s.Mount(AsynqmonPath, m)
	return nil
}
