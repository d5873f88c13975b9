package forward

import (
	"context"
	"fmt"

	"github.com/qianliyan/qianliyan/console/relayclient"
	"github.com/qianliyan/qianliyan/console/store"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// signedInUser is the relay client's sign-in (*relayclient.Client).
type signedInUser interface{ User() relayclient.User }

// sendWatch posts a batch of watch intervals with the console's clock's
// now, from which the relay measures and corrects the console's skew. The
// intervals' ids make a resend after a crash count as duplicates.
func (f *Forwarder) sendWatch(ctx context.Context, e store.OutboxEntry) error {
	b, err := f.opts.Store.WatchBatchOf(ctx, e)
	if err != nil {
		return fmt.Errorf("%w: %w", errRefused, err)
	}
	if len(b.Intervals) == 0 {
		return nil
	}
	// The relay records a batch as the token's user's: another officer's
	// waits for their own sign-in.
	if u, ok := f.opts.Relay.(signedInUser); ok && b.Officer != "" && u.User().Name != b.Officer {
		return errNotYet
	}
	console := f.opts.Console
	if console == "" {
		if console, err = f.opts.Store.ConsoleID(ctx); err != nil {
			return err
		}
	}
	w := wire.WatchBatch{Console: console, Now: f.opts.Now(), Intervals: make([]wire.WatchInterval, 0, len(b.Intervals))}
	for _, iv := range b.Intervals {
		w.Intervals = append(w.Intervals, wire.WatchInterval{ID: iv.ID, Site: iv.Site, Camera: iv.Camera, Mode: iv.Mode, Start: iv.Start, End: iv.End})
	}
	res, err := f.opts.Relay.PostWatches(ctx, w)
	if err != nil {
		return err
	}
	f.log.Debug().Str("batch", b.ID).Int("accepted", res.Accepted).Int("duplicates", res.Duplicates).Int64("skew_ms", res.SkewMillis).Msg("watch intervals forwarded")
	return nil
}
