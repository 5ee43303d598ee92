package schedule

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/rs/zerolog"

	"github.com/mxinvite/mxinvite/internal/importer"
	"github.com/mxinvite/mxinvite/tasks"
	"github.com/mxinvite/mxinvite/worker"
)

// ImportWith returns the ImportFunc that re-reads a campaign's file and
// enqueues it through prod: addresses already queued or invited are counted,
// not sent again, so each tick enqueues only the new ones (mailing-list
// sync). Rejected rows are counted in the log line; fix them in the file.
func ImportWith(prod *worker.Producer, log *zerolog.Logger) ImportFunc {
	return func(ctx context.Context, c Campaign) error {
		f, err := os.Open(c.File)
		if err != nil {
			return fmt.Errorf("recurring campaign %q: %w", c.Name, err)
		}
		defer f.Close()
		st, err := importer.Run(ctx, importer.Options{
			Campaign: c.Name, RoomID: c.RoomID, Medium: tasks.Medium(c.Medium), Column: c.Column,
			IDServer: c.IDServer, Sender: c.Sender, Producer: prod,
		}, f, io.Discard, nil)
		if err != nil {
			return fmt.Errorf("recurring campaign %q: %w", c.Name, err)
		}
		if log != nil {
			log.Info().Str("campaign", c.Name).Int64("read", st.Read).Int64("enqueued", st.Enqueued).
				Int64("already_queued", st.AlreadyQueued).Int64("already_done", st.AlreadyDone).
				Int64("rejected", st.Rejected).Msg("recurring campaign tick")
		}
		return nil
	}
}
