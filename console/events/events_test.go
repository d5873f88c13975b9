package events

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/console/relayclient"
	"github.com/qianliyan/qianliyan/console/relayclient/relayclienttest"
	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/internal/testlog"
	"github.com/qianliyan/qianliyan/relay/relaytest"
)

// within bounds what the tests wait for: it only catches a hang.
const within = eventually.Ceiling

func signedIn(t *testing.T, relay *relaytest.Relay) *relayclient.Client {
	t.Helper()
	creds := relay.Demo()
	return relayclienttest.SignedIn(t, relay.URL(), creds.User, creds.Password)
}

func newHub(t *testing.T) *Hub {
	h := New(Options{BackoffMin: 20 * time.Millisecond, BackoffMax: 100 * time.Millisecond, Log: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)})
	t.Cleanup(h.Close)
	return h
}

// relayStreams follows the relay's event stream through a client, counting
// the streams the relay served (its camera list came) and those still open:
// the relay keeps no such count to read.
type relayStreams struct {
	client *relayclient.Client

	mu               sync.Mutex
	served, open     int
	expired, retried bool // a stream was refused for the session's end, and one asked after that
}

func (s *relayStreams) follow(ctx context.Context, lastID string, fn func(relayclient.Event)) error {
	s.mu.Lock()
	s.retried = s.retried || s.expired
	s.mu.Unlock()
	served := false
	err := s.client.Events(ctx, lastID, func(ev relayclient.Event) {
		if !served {
			served = true
			s.mu.Lock()
			s.served++
			s.open++
			s.mu.Unlock()
		}
		fn(ev)
	})
	s.mu.Lock()
	defer s.mu.Unlock()
	if served {
		s.open--
	}
	if errors.Is(err, relayclient.ErrSessionExpired) {
		s.expired = true
	}
	return err
}

func (s *relayStreams) counts() (served, open int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.served, s.open
}

// next returns the next event of sub, skipping camera lists unless the
// test wants one.
func next(t *testing.T, sub *Subscription, name string) Event {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case ev, ok := <-sub.C():
			if !ok {
				t.Fatalf("stream closed waiting for %s", name)
			}
			if ev.Name == name {
				return ev
			}
		case <-deadline:
			t.Fatalf("no %s event within %v", name, within)
		}
	}
}

// camera is what the tests read of a camera in the relay's events.
type camera struct{ Site, ID, State string }

// nextCamera returns the next camera event of sub about camera
// ("site/camera") in state, skipping others: the relay reports the other
// cameras too, as they come and go.
func nextCamera(t *testing.T, sub *Subscription, path, state string) Event {
	t.Helper()
	for {
		ev := next(t, sub, Camera)
		var c camera
		if err := json.Unmarshal(ev.Data, &c); err != nil {
			t.Fatalf("camera event %s: %v", ev.Data, err)
		}
		if c.Site+"/"+c.ID == path && c.State == state {
			return ev
		}
	}
}

// stateIn returns the state of camera ("site/camera") as a view learns it
// from events: a camera list, then the changes since.
func stateIn(t *testing.T, events []Event, path string) string {
	t.Helper()
	state := ""
	for _, ev := range events {
		var cams []camera
		switch ev.Name {
		case Cameras:
			var list struct{ Cameras []camera }
			if err := json.Unmarshal(ev.Data, &list); err != nil {
				t.Fatalf("camera list %s: %v", ev.Data, err)
			}
			cams = list.Cameras
		case Camera:
			var c camera
			if err := json.Unmarshal(ev.Data, &c); err != nil {
				t.Fatalf("camera event %s: %v", ev.Data, err)
			}
			cams = []camera{c}
		}
		for _, c := range cams {
			if c.Site+"/"+c.ID == path {
				state = c.State
			}
		}
	}
	return state
}

func TestOneUpstreamWhileViewsListen(t *testing.T) {
	relay := relaytest.Start(t, relaytest.Options{Cameras: []string{"site-01/doff1"}})
	up := &relayStreams{client: signedIn(t, relay)}
	h := newHub(t)
	var mu sync.Mutex
	seen := map[string]int{}
	h.Follow(up.follow, func(ev relayclient.Event) {
		mu.Lock()
		seen[ev.Name]++
		mu.Unlock()
	})
	if served, _ := up.counts(); served != 0 {
		t.Fatalf("%d streams with no view", served)
	}

	a := h.Subscribe()
	list := next(t, a, Cameras)
	var body struct{ Cameras []camera }
	if err := json.Unmarshal(list.Data, &body); err != nil || len(body.Cameras) != 12 {
		t.Fatalf("camera list %s, want the demo's 12 cameras: %v", list.Data, err)
	}
	if got := stateIn(t, []Event{list}, "site-01/doff1"); got != "online" {
		t.Fatalf("site-01/doff1 is %q in the list, want online", got)
	}
	// Cameras come online in this test, never go: the relay checks its
	// cameras four times a second, and a camera that came and went between
	// two checks would pass unannounced until the next list.
	relay.SetOnline(t, "site-01/doff2", true)
	change := nextCamera(t, a, "site-01/doff2", "online")
	// A view joining now learns at once, from the list and the changes
	// since, and shares the connection to the relay.
	b := h.Subscribe()
	var replay []Event
	for len(b.C()) > 0 {
		replay = append(replay, <-b.C())
	}
	if len(replay) == 0 || replay[0].Name != Cameras {
		t.Fatalf("late joiner's replay %v, want a camera list first", replay)
	}
	if got := stateIn(t, replay, "site-01/doff2"); got != "online" {
		t.Fatalf("late joiner learns site-01/doff2 is %q, want online (the change %s)", got, change.Data)
	}
	if _, open := up.counts(); open != 1 {
		t.Fatalf("%d relay streams for two views, want 1", open)
	}
	mu.Lock()
	if seen[Cameras] < 1 || seen[Camera] < 1 {
		t.Fatalf("onEvent saw %v", seen)
	}
	mu.Unlock()

	// The relay restarts: the stream comes back and the views, still open,
	// see the next change.
	relay.Restart(t)
	eventually.True(t, within, "reconnected", func() bool { served, _ := up.counts(); return served >= 2 })
	relay.SetOnline(t, "site-01/waste", true)
	for _, s := range []*Subscription{a, b} {
		nextCamera(t, s, "site-01/waste", "online")
	}

	a.Close()
	a.Close()
	if _, open := up.counts(); open != 1 {
		t.Fatal("stream ended while a view remained")
	}
	b.Close()
	eventually.True(t, within, "relay stream ended after the last view left", func() bool { _, open := up.counts(); return open == 0 })
}

func TestFollowChangesAndPublish(t *testing.T) {
	relay := relaytest.Start(t, relaytest.Options{})
	h := newHub(t)
	sub := h.Subscribe() // before sign-in
	h.Publish(Event{Name: Session, Data: []byte(`{"signed_in":false}`)})
	if ev := next(t, sub, Session); string(ev.Data) != `{"signed_in":false}` {
		t.Fatalf("session event %s", ev.Data)
	}
	// Signing in starts following for the view already there.
	up := &relayStreams{client: signedIn(t, relay)}
	h.Follow(up.follow, nil)
	next(t, sub, Cameras)
	if _, open := up.counts(); open != 1 {
		t.Fatalf("%d streams", open)
	}
	// Signing out stops it; the next view gets no stale list.
	h.Follow(nil, nil)
	eventually.True(t, within, "stream ended on sign-out", func() bool { _, open := up.counts(); return open == 0 })
	late := h.Subscribe()
	select {
	case ev := <-late.C():
		t.Fatalf("stale %s event after sign-out", ev.Name)
	default:
	}
	h.Close()
	if _, ok := <-sub.C(); ok {
		// drain whatever was queued, then it must close
		for range sub.C() {
		}
	}
	if _, ok := <-late.C(); ok {
		t.Fatal("stream open after Close")
	}
}

func TestExpiredSessionStopsFollowing(t *testing.T) {
	relay := relaytest.Start(t, relaytest.Options{})
	client := signedIn(t, relay)
	up := &relayStreams{client: client}
	var log testlog.Buffer
	h := New(Options{BackoffMin: 20 * time.Millisecond, BackoffMax: 100 * time.Millisecond, Log: zerolog.New(&log)})
	t.Cleanup(h.Close)
	h.Follow(up.follow, nil)
	sub := h.Subscribe()
	defer sub.Close()
	next(t, sub, Cameras)
	// The stream drops, and the sign-in can be neither used nor renewed.
	relay.RestartWithNewKey(t)
	select {
	case <-client.Expired():
	case <-time.After(within):
		t.Fatal("the refused reconnection did not end the session")
	}
	// The hub says it stopped as its following ends: nothing can ask the
	// relay after that.
	eventually.True(t, within, "the hub stopping", func() bool {
		return strings.Contains(log.String(), "stopped following the relay's events")
	})
	h.Close()
	up.mu.Lock()
	defer up.mu.Unlock()
	if up.retried {
		t.Fatal("the hub asked for the relay's events again after the session was over")
	}
	if up.served != 1 {
		t.Fatalf("%d streams served, want 1", up.served)
	}
}

func TestFindingsChangedReachesViews(t *testing.T) {
	h := New(Options{})
	defer h.Close()
	sub := h.Subscribe()
	defer sub.Close()
	h.Publish(FindingsChanged([]string{"a", "b"}))
	select {
	case ev := <-sub.C():
		if ev.Name != "findings" || string(ev.Data) != `{"ids":["a","b"]}` {
			t.Fatalf("got %s %s", ev.Name, ev.Data)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5 s")
	}
}
