package forward

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/console/relayclient"
	"github.com/qianliyan/qianliyan/console/store"
)

// ConsumerOptions configures a Consumer; zero values are sensible.
type ConsumerOptions struct {
	Store *store.Store
	Relay Relay
	// Self is the signed-in user: changes the relay records as theirs
	// are this console's own coming back, whose history is already here.
	Self string
	// Wait is how long one long poll may wait at the relay (25 s); the
	// relay bounds the poll at Wait + 30 s.
	Wait time.Duration
	// MinBackoff and MaxBackoff bound the wait after a failed poll (1 s,
	// 1 min).
	MinBackoff, MaxBackoff time.Duration
	// OnChange, if set, is told of the findings a poll changed (status,
	// deadline, history) once the store has the change; and, with no ids,
	// that the relay's feed became reachable or unreachable: the lists are
	// the last known, or current again, as a whole.
	OnChange func(ids []string)
	// Now is the clock of what a first listing copies (time.Now).
	Now func() time.Time
	Log zerolog.Logger
}

// Consumer follows the relay's changes feed and applies it to the
// findings this console has: the site's acknowledgement and rectification,
// and their notes, in the local history and status. It keeps a copy of
// every finding the feed tells of that this console did not flag (issue
// 11 §1), with its history and the relay's list of its evidence, and,
// once per relay, of every finding the relay lists. Its cursor is kept in
// the console store with the changes it covers, so a restart neither
// misses nor repeats any.
type Consumer struct {
	opts ConsumerOptions
	log  zerolog.Logger
}

// NewConsumer returns a consumer; Run runs it.
func NewConsumer(opts ConsumerOptions) *Consumer {
	if opts.Wait <= 0 {
		opts.Wait = 25 * time.Second
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = time.Second
	}
	if opts.MaxBackoff < opts.MinBackoff {
		opts.MaxBackoff = max(time.Minute, opts.MinBackoff)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Consumer{opts: opts, log: opts.Log}
}

// Run polls until ctx is cancelled, or the relay ends the session
// (relayclient.ErrSessionExpired), which it returns.
func (c *Consumer) Run(ctx context.Context) error {
	relay := c.opts.Relay.BaseURL()
	backoff := time.Duration(0)
	reached := true // as the view assumes until told otherwise
	for {
		err := c.backfill(ctx, relay)
		var n int
		if err == nil {
			n, err = c.poll(ctx, relay)
		}
		if ctx.Err() == nil {
			if nerr := c.opts.Store.NoteFeed(ctx, relay, err == nil); nerr != nil {
				c.log.Warn().Err(nerr).Msg("recording when the relay's changes were last taken")
			}
			if (err == nil) != reached {
				reached = err == nil
				if c.opts.OnChange != nil {
					c.opts.OnChange([]string{})
				}
			}
		}
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, relayclient.ErrSessionExpired):
			c.log.Warn().Err(err).Msg("following the relay's changes stopped: the relay ended the session")
			return err
		case err == nil:
			if backoff > 0 {
				c.log.Info().Msg("following the relay's changes again")
			}
			backoff = 0
			if n > 0 {
				c.log.Debug().Int("findings", n).Msg("applied the relay's changes")
			}
			continue
		}
		backoff = min(max(backoff*2, c.opts.MinBackoff), c.opts.MaxBackoff)
		c.log.Info().Err(err).Dur("retry_in", backoff).Msg("polling the relay's changes")
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// poll waits for the changes after the stored cursor and applies them.
func (c *Consumer) poll(ctx context.Context, relay string) (int, error) {
	after, err := c.opts.Store.RelayCursor(ctx, relay)
	if err != nil {
		return 0, err
	}
	ans, err := c.opts.Relay.Changes(ctx, after, c.opts.Wait)
	if err != nil {
		return 0, err
	}
	if len(ans.Changes) == 0 {
		return 0, nil
	}
	changes := make([]store.RelayChange, 0, len(ans.Changes))
	for _, ch := range ans.Changes {
		ev := ch.Event
		changes = append(changes, store.RelayChange{
			Cursor: ch.Cursor, FindingID: ch.Finding.ID, Status: string(ch.Finding.Status), Deadline: ch.Finding.Deadline,
			Event: store.RelayEvent{At: ev.At, Actor: ev.Actor, Role: ev.Role, Action: ev.Action, Detail: ev.Detail},
			Echo:  ev.Actor == c.opts.Self && ev.Role != "site_manager",
		})
	}
	cursor := max(ans.Cursor, changes[len(changes)-1].Cursor)
	found, err := c.found(ctx, ans.Changes)
	if err != nil {
		return 0, fmt.Errorf("reading the findings of the relay's changes up to %d: %w", cursor, err)
	}
	ids, err := c.opts.Store.ApplySharedChanges(ctx, relay, cursor, found, changes)
	if err != nil {
		return 0, fmt.Errorf("applying the relay's changes up to %d: %w", cursor, err)
	}
	if len(ids) > 0 && c.opts.OnChange != nil {
		c.opts.OnChange(ids)
	}
	return len(ids), nil
}
