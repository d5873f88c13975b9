package console

import (
	"context"
	"time"

	"github.com/qianliyan/qianliyan/console/relayclient"
	"github.com/qianliyan/qianliyan/console/store"
	"github.com/qianliyan/qianliyan/internal/fault"
)

// coverage is the signed-in relay's client for the coverage reports.
func (b *Backend) coverage() (*relayclient.Client, error) {
	s, err := b.signedIn()
	if err != nil {
		return nil, err
	}
	return s.client, nil
}

// SetWatching records what the view says is on the officer's screen now,
// as the signed-in officer's under the relay the forwarder sends to;
// signed out, nothing is watched and what was open closes.
func (b *Backend) SetWatching(ctx context.Context, visible []store.Watching) ([]store.OpenWatch, error) {
	b.mu.Lock()
	st := b.store
	b.mu.Unlock()
	if st == nil {
		return nil, fault.New(fault.Unavailable, "starting", "the console is still starting")
	}
	u := store.WatchUpdate{At: time.Now(), Visible: visible}
	if s, _ := b.current(); s != nil {
		u.Officer, u.Relay = s.user.Name, s.client.BaseURL()
	}
	return st.SetWatching(ctx, u)
}
