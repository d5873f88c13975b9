// Package health follows the state of every camera — online, stalled or
// offline, the best of its two streams — and tells subscribers when one
// changes. The hub knows each stream's state at any instant; stalls begin
// by time passing rather than by an event, so a watcher looks at the hub
// on a ticker, with the hub's (injectable) clock deciding what a stall is.
package health

import (
	"context"
	"sync"
	"time"

	"github.com/qianliyan/qianliyan/relay/hub"
)

// Streams is the hub as the watcher reads it.
type Streams interface {
	States() []hub.State
}

// Camera names one camera.
type Camera struct{ Site, ID string }

// Of returns the camera's state from its main and sub streams' (either may
// be the zero State of a stream the hub has not seen): the better one's,
// main when they tie. since is when that state began, zero if unknown.
func Of(main, sub hub.State) (state hub.Status, since time.Time) {
	best := main
	if sub.Status.Rank() > main.Status.Rank() {
		best = sub
	}
	if best.Status == "" {
		return hub.StatusOffline, time.Time{}
	}
	return best.Status, best.StatusSince
}

// Watcher announces camera state changes.
type Watcher struct {
	streams Streams

	mu   sync.Mutex
	last map[Camera]hub.Status
	subs map[*Subscription]struct{}
}

// NewWatcher returns a watcher of the hub's streams. The cameras' present
// states are its starting point: only later changes are announced.
func NewWatcher(streams Streams) *Watcher {
	w := &Watcher{streams: streams, subs: make(map[*Subscription]struct{})}
	w.last = w.states()
	return w
}

// states returns the state of every camera the hub has seen.
func (w *Watcher) states() map[Camera]hub.Status {
	type pair struct{ main, sub hub.State }
	byCam := make(map[Camera]*pair)
	for _, st := range w.streams.States() {
		c := Camera{st.Key.Site, st.Key.Camera}
		p := byCam[c]
		if p == nil {
			p = &pair{}
			byCam[c] = p
		}
		if st.Key.Stream == hub.StreamSub {
			p.sub = st
		} else {
			p.main = st
		}
	}
	out := make(map[Camera]hub.Status, len(byCam))
	for c, p := range byCam {
		out[c], _ = Of(p.main, p.sub)
	}
	return out
}

// Run checks the hub every interval until ctx is cancelled.
func (w *Watcher) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			w.Check()
		}
	}
}

// Check compares every camera's state with the last one seen and tells
// subscribers of those that changed. A camera the hub has not seen is
// offline.
func (w *Watcher) Check() {
	now := w.states()
	w.mu.Lock()
	defer w.mu.Unlock()
	for c, state := range now {
		prev, ok := w.last[c]
		if !ok {
			prev = hub.StatusOffline
		}
		if state != prev {
			w.announceLocked(c)
		}
	}
	for c, prev := range w.last {
		if _, ok := now[c]; !ok && prev != hub.StatusOffline {
			w.announceLocked(c)
		}
	}
	w.last = now
}

func (w *Watcher) announceLocked(c Camera) {
	for s := range w.subs {
		select {
		case s.c <- c:
		default:
			// The subscriber fell behind: rather than block the others,
			// tell it to take the whole list again.
			select {
			case s.resync <- struct{}{}:
			default:
			}
		}
	}
}

// Subscription receives the cameras whose state changed.
type Subscription struct {
	w      *Watcher
	c      chan Camera
	resync chan struct{}
}

// Subscribe starts announcing changes to a new subscription; Close it when done.
func (w *Watcher) Subscribe() *Subscription {
	s := &Subscription{w: w, c: make(chan Camera, 64), resync: make(chan struct{}, 1)}
	w.mu.Lock()
	w.subs[s] = struct{}{}
	w.mu.Unlock()
	return s
}

// Changed delivers each camera whose state changed; read its state from
// the hub (it may have changed again since).
func (s *Subscription) Changed() <-chan Camera { return s.c }

// Resync fires when changes were lost because the subscriber fell behind:
// it should read every camera's state afresh.
func (s *Subscription) Resync() <-chan struct{} { return s.resync }

// Close ends the subscription.
func (s *Subscription) Close() {
	s.w.mu.Lock()
	delete(s.w.subs, s)
	s.w.mu.Unlock()
}
