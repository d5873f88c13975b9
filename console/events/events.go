// Package events carries what happens to the views' event streams
// (GET /api/v1/events): it follows the relay's event stream over one
// connection for as long as at least one view listens, reconnecting with
// backoff and Last-Event-ID, and fans the camera events out to every view
// together with the console's own session events. A view that joins late
// gets the last camera list at once instead of waiting for the next.
package events

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/console/relayclient"
)

// Event is one event for the views: its name and JSON data.
type Event struct {
	Name string
	Data []byte
}

// Names of the events the views get.
const (
	Cameras = "cameras" // the whole camera list, with health
	Camera  = "camera"  // one camera whose state changed
	Session = "session" // the sign-in started or ended
	// Findings names findings that changed outside the view's own calls
	// (the site's answer came back, a change reached the relay or was
	// refused): {"ids":[…]}, for the view to read them again.
	Findings = "findings"
	// Disk says the console's data disk filled or has room again:
	// {"full":bool,"since":RFC 3339}. While it is full nothing the officer
	// does can be saved (a flag is answered 507 disk_full), which the view
	// shows as a banner. A view that joins gets the last one at once.
	Disk = "disk"
)

// FindingsChanged is the Findings event for ids.
func FindingsChanged(ids []string) Event {
	// A list of strings always encodes.
	data, _ := json.Marshal(struct {
		IDs []string `json:"ids"`
	}{ids})
	return Event{Name: Findings, Data: data}
}

// DiskState is the Disk event: full or not, since when.
func DiskState(full bool, since time.Time) Event {
	// A bool and a time always encode.
	data, _ := json.Marshal(struct {
		Full  bool      `json:"full"`
		Since time.Time `json:"since"`
	}{full, since.UTC()})
	return Event{Name: Disk, Data: data}
}

// Upstream follows the relay's event stream until ctx ends or the stream
// does; relayclient.Client.Events is one.
type Upstream func(ctx context.Context, lastID string, fn func(relayclient.Event)) error

// Options tunes a Hub; zero values take the defaults.
type Options struct {
	// BackoffMin and BackoffMax bound the wait between connections to the
	// relay (0.5 s, 10 s): a restarting relay is back within seconds.
	BackoffMin, BackoffMax time.Duration
	// Buffer is how many events a view may fall behind by (256) before its
	// stream is ended; it reconnects and starts from the current list.
	Buffer int
	Log    zerolog.Logger
}

// maxReplay bounds the camera events kept for views that join between two
// camera lists.
const maxReplay = 1000

// Hub fans events out to the views.
type Hub struct {
	opts Options
	wg   sync.WaitGroup

	mu       sync.Mutex
	subs     map[*Subscription]bool
	upstream Upstream
	onEvent  func(relayclient.Event)
	gen      int                // counts Follow calls: events of an older one are dropped
	stop     context.CancelFunc // ends the running upstream loop; nil if none
	replay   []Event            // the last camera list and the changes since
	disk     *Event             // the last Disk event, for views that join
	closed   bool
}

// New returns a hub following nothing.
func New(opts Options) *Hub {
	if opts.BackoffMin <= 0 {
		opts.BackoffMin = 500 * time.Millisecond
	}
	if opts.BackoffMax < opts.BackoffMin {
		opts.BackoffMax = max(10*time.Second, opts.BackoffMin)
	}
	if opts.Buffer <= 0 {
		opts.Buffer = 256
	}
	return &Hub{opts: opts, subs: make(map[*Subscription]bool)}
}

// Subscription is one view's stream of events.
type Subscription struct {
	hub  *Hub
	c    chan Event
	once sync.Once
}

// C delivers the events. It is closed when the view fell too far behind,
// when the hub closes, or after Close.
func (s *Subscription) C() <-chan Event { return s.c }

// Close ends the subscription; the last view to leave stops the hub
// following the relay.
func (s *Subscription) Close() {
	s.once.Do(func() {
		h := s.hub
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.subs[s] {
			delete(h.subs, s)
			close(s.c)
		}
		if len(h.subs) == 0 && h.stop != nil {
			h.stop()
			h.stop = nil
		}
	})
}

// Subscribe adds a view. It gets the last camera list and the changes
// since at once, then events as they come.
func (h *Hub) Subscribe() *Subscription {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := &Subscription{hub: h, c: make(chan Event, h.opts.Buffer+maxReplay)}
	if h.closed {
		close(s.c)
		return s
	}
	for _, ev := range h.replay {
		s.c <- ev
	}
	if h.disk != nil {
		s.c <- *h.disk
	}
	h.subs[s] = true
	h.startLocked()
	return s
}

// Follow makes the hub follow up, the signed-in relay's event stream, while
// views listen, passing every relay event to onEvent first; nil stops
// following (signed out). The last relay's camera list is forgotten.
func (h *Hub) Follow(up Upstream, onEvent func(relayclient.Event)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stop != nil {
		h.stop()
		h.stop = nil
	}
	h.gen++
	h.upstream, h.onEvent, h.replay = up, onEvent, nil
	if !h.closed {
		h.startLocked()
	}
}

// startLocked starts following the relay if there is one to follow, views
// listen and it is not followed yet.
func (h *Hub) startLocked() {
	if h.upstream == nil || len(h.subs) == 0 || h.stop != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.stop = cancel
	h.wg.Add(1)
	go func(gen int, up Upstream, onEvent func(relayclient.Event)) {
		defer h.wg.Done()
		h.follow(ctx, gen, up, onEvent)
	}(h.gen, h.upstream, h.onEvent)
}

// follow holds one connection to the relay's stream, and another when it
// ends, until ctx is cancelled or the session is over.
func (h *Hub) follow(ctx context.Context, gen int, up Upstream, onEvent func(relayclient.Event)) {
	log := h.opts.Log
	lastID := ""
	backoff := h.opts.BackoffMin
	for {
		delivered := false
		err := up(ctx, lastID, func(ev relayclient.Event) {
			delivered = true
			lastID = ev.ID
			if onEvent != nil {
				onEvent(ev)
			}
			if ev.Name == Cameras || ev.Name == Camera {
				h.forward(gen, Event{Name: ev.Name, Data: ev.Data})
			}
		})
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, relayclient.ErrSessionExpired) {
			// The session ends on its own (relayclient.Client.Expired).
			log.Info().Err(err).Msg("stopped following the relay's events")
			return
		}
		if delivered {
			backoff = h.opts.BackoffMin
		}
		log.Info().Err(err).Dur("retry_in", backoff).Msg("relay event stream lost; reconnecting")
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(backoff*2, h.opts.BackoffMax)
	}
}

// forward sends a relay event to every view, unless the hub follows
// another relay since.
func (h *Hub) forward(gen int, ev Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if gen != h.gen || h.closed {
		return
	}
	switch {
	case ev.Name == Cameras:
		h.replay = append(h.replay[:0:0], ev)
	case len(h.replay) > 0 && len(h.replay) < maxReplay:
		h.replay = append(h.replay, ev)
	default:
		// No list to apply it to, or too many changes: views that join
		// now wait for the next list.
		h.replay = nil
	}
	h.sendLocked(ev)
}

// Publish sends one of the console's own events to every view.
func (h *Hub) Publish(ev Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if ev.Name == Disk {
		h.disk = &ev
	}
	if !h.closed {
		h.sendLocked(ev)
	}
}

func (h *Hub) sendLocked(ev Event) {
	for s := range h.subs {
		select {
		case s.c <- ev:
		default:
			// A view this far behind gets a fresh start instead of a
			// stream with holes.
			h.opts.Log.Warn().Msg("a view fell behind on events; ending its stream")
			delete(h.subs, s)
			close(s.c)
		}
	}
	if len(h.subs) == 0 && h.stop != nil {
		h.stop()
		h.stop = nil
	}
}

// Close ends every view's stream and stops following the relay.
func (h *Hub) Close() {
	h.mu.Lock()
	h.closed = true
	if h.stop != nil {
		h.stop()
		h.stop = nil
	}
	for s := range h.subs {
		delete(h.subs, s)
		close(s.c)
	}
	h.mu.Unlock()
	h.wg.Wait()
}
