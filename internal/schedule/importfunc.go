package schedule

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/rs/zerolog"

	"github.com/mxinvite/mxinvite/internal/addrlist"
	"github.com/mxinvite/mxinvite/internal/importer"
	"github.com/mxinvite/mxinvite/internal/producer"
	"github.com/mxinvite/mxinvite/tasks"
)

// ImportWith returns the ImportFunc that re-reads a campaign's file and
// enqueues it through prod: addresses already queued or invited are counted,
// not sent again, so each tick enqueues only the new ones (mailing-list
// sync). Rejected rows go to the campaign's Rejects file, which is created
// before anything is enqueued: if it cannot be, the tick enqueues nothing.
func ImportWith(prod *producer.Producer, log *zerolog.Logger) ImportFunc {
	return func(ctx context.Context, c Campaign) (importer.Stats, error) {
		f, err := os.Open(c.File)
		if err != nil {
			return importer.Stats{}, fmt.Errorf("recurring campaign %q: %w", c.Name, err)
		}
		defer f.Close()
		var rejects io.WriteCloser = nopCloser{io.Discard}
		if c.Rejects != "" {
			rf, err := addrlist.CreateRejectsFile(c.Rejects)
			if err != nil {
				return importer.Stats{}, fmt.Errorf("recurring campaign %q: %w; nothing was enqueued", c.Name, err)
			}
			rejects = rf
		}
		defer rejects.Close()
		st, err := importer.Run(ctx, importer.Options{
			Campaign: c.Name, RoomID: c.RoomID, Medium: tasks.Medium(c.Medium), MediumFromList: c.MediumFromList,
			Column: c.Column, Encoding: c.Encoding, Region: c.Region, IDServer: c.IDServer, Sender: c.Sender, Producer: prod, Priority: tasks.Priority(c.Priority),
		}, f, rejects, nil)
		if cerr := rejects.Close(); err == nil && cerr != nil {
			err = cerr
		}
		if err != nil {
			return st, fmt.Errorf("recurring campaign %q: %w", c.Name, err)
		}
		if log != nil {
			log.Info().Str("campaign", c.Name).Int64("read", st.Read).Int64("enqueued", st.Enqueued).
				Int64("already_queued", st.AlreadyQueued).Int64("already_done", st.AlreadyDone).
				Int64("rejected", st.Rejected).Str("rejects", c.Rejects).Msg("recurring campaign tick")
		}
		return st, nil
	}
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }
