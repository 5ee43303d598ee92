package worker

import (
	"context"
	"fmt"
)

// Resume ends a pause of a sender or a campaign and wakes the invites it
// held, which then go out (those of a sender whose token is still dead are
// paused again by the first 401). It returns ErrNotPaused when nothing was
// paused.
func (p *Producer) Resume(ctx context.Context, scope PauseScope, name string) (woken int, err error) {
	ok, err := p.store.ClearPause(ctx, scope, name)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, fmt.Errorf("%s %q: %w", scope, name, ErrNotPaused)
	}
	n, err := p.inspector.RunAllRetryTasks(p.queue)
	if err != nil {
		return 0, fmt.Errorf("%s %q resumed, but waking its invites failed (they wake by themselves within minutes): %w", scope, name, err)
	}
	return n, nil
}
