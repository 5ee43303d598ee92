package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/mxinvite/mxinvite/internal/addrlist"
	"github.com/mxinvite/mxinvite/internal/producer"
)

// read streams the rows: rejects are written at once (a Row's Raw is only
// valid until the next row), valid rows become invites and go out in
// batches. It stops at the end of the input or when ctx is cancelled.
func (im *run) read(ctx context.Context, batches chan<- []producer.Item) error {
	batch := make([]producer.Item, 0, im.opts.BatchSize)
	send := func() bool {
		if len(batch) == 0 {
			return true
		}
		select {
		case batches <- batch:
			batch = make([]producer.Item, 0, im.opts.BatchSize)
			return true
		case <-ctx.Done():
			return false
		}
	}
	var valid int64
	for ctx.Err() == nil {
		row, err := im.rows.Next()
		if errors.Is(err, io.EOF) {
			send()
			return nil
		}
		if err != nil {
			return fmt.Errorf("read the input: %w", err)
		}
		im.c.read.Add(1)
		inv := im.tmpl
		if row.Err == nil {
			inv.Medium, inv.Address, inv.EnqueuedAt = row.Medium, row.Address, time.Now().UTC()
			// addrlist and tasks share the address rules, so this only
			// fails if they drift apart; then the row is a reject, not a
			// reason to stop the import.
			if err := inv.Validate(); err != nil {
				row.Err = fmt.Errorf("%w: %v", addrlist.ErrBadSyntax, err)
			}
		}
		if row.Err != nil {
			im.c.rejected.Add(1)
			if err := im.rejects.Write(row); err != nil {
				return fmt.Errorf("write rejects: %w", err)
			}
			continue
		}
		im.c.valid.Add(1)
		at := im.sched.at(valid)
		valid++
		batch = append(batch, producer.Item{Invite: inv, ProcessAt: at})
		if len(batch) == cap(batch) && !send() {
			break
		}
	}
	return nil // cancelled: execute reports why
}
