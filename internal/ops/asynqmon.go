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
// — at AsynqmonPath, on its own connections to redis. Read-only unless
// writable: asynqmon then refuses every API call but GET (405), so that
// nobody deletes, runs or archives tasks from a page left open. Its pages
// show task payloads, that is invitees' addresses: keep the server on
// loopback or behind an authenticating proxy. Shutdown closes its
// connections.
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
	s.Mount(AsynqmonPath, h)
	return nil
}
