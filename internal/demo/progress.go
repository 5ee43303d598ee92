package demo

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/schollz/progressbar/v3"

	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/internal/simulator"
)

// watch shows the campaign's progress until nothing is pending: a progress
// bar on a terminal, a line every two seconds otherwise.
func watch(ctx context.Context, store *rdb.Client, o Options, sim *simulator.Server) (record.CampaignCounts, error) {
	var bar *progressbar.ProgressBar
	if f, ok := o.Out.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
		bar = progressbar.NewOptions(-1, progressbar.OptionSetWriter(o.Out), progressbar.OptionSetDescription("sending"),
			progressbar.OptionShowCount(), progressbar.OptionSetWidth(30), progressbar.OptionThrottle(100*time.Millisecond))
	}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	var last time.Time
	for {
		c, err := store.Counts(ctx, campaign)
		if err != nil {
			return c, err
		}
		done := c.States[record.StateDone]
		st := sim.Stats()
		line := fmt.Sprintf("%d/%d done · %d ok · %d 429s honoured · %d retrying", done, c.Enqueued,
			c.Statuses["Success"], st.RateLimited, c.States[record.StateRetrying]+c.States[record.StateActive])
		if bar != nil {
			bar.ChangeMax(c.Enqueued)
			_ = bar.Set(done)
			bar.Describe(line)
		} else if time.Since(last) >= 2*time.Second || c.Pending() == 0 {
			fmt.Fprintln(o.Out, line)
			last = time.Now()
		}
		if c.Pending() == 0 && c.Enqueued > 0 {
			if bar != nil {
				_ = bar.Finish()
				fmt.Fprintln(o.Out)
			}
			return c, nil
		}
		select {
		case <-ctx.Done():
			return c, fmt.Errorf("the demo did not finish in time (%d of %d invites done)", done, c.Enqueued)
		case <-tick.C:
		}
	}
}
