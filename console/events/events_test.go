package events

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/console/internal/relaytest"
	"github.com/qianliyan/qianliyan/console/relayclient"
)

const within = 5 * time.Second

func signedIn(t *testing.T, relay *relaytest.Relay) *relayclient.Client {
	t.Helper()
	c, err := relayclient.New(relay.URL(), relayclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Login(context.Background(), relaytest.User, relaytest.Password); err != nil {
		t.Fatal(err)
	}
	return c
}

func newHub(t *testing.T) *Hub {
	h := New(Options{BackoffMin: 20 * time.Millisecond, BackoffMax: 100 * time.Millisecond, Log: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)})
	t.Cleanup(h.Close)
	return h
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

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestOneUpstreamWhileViewsListen(t *testing.T) {
	relay := relaytest.Start(t, relaytest.Options{EventIDs: true})
	client := signedIn(t, relay)
	h := newHub(t)
	var mu sync.Mutex
	seen := map[string]int{}
	h.Follow(client.Events, func(ev relayclient.Event) {
		mu.Lock()
		seen[ev.Name]++
		mu.Unlock()
	})
	if n := relay.EventStreams(); n != 0 {
		t.Fatalf("%d streams with no view", n)
	}

	a := h.Subscribe()
	list := next(t, a, Cameras)
	var body struct{ Cameras []relayclient.Camera }
	if err := json.Unmarshal(list.Data, &body); err != nil || len(body.Cameras) != 2 || body.Cameras[0].State != "online" {
		t.Fatalf("camera list %s: %v", list.Data, err)
	}
	relay.SetOnline("site-01/doff2", false)
	change := next(t, a, Camera)
	if !strings.Contains(string(change.Data), `"state":"offline"`) {
		t.Fatalf("camera event %s", change.Data)
	}
	// A view joining now gets the list and the change at once, and shares
	// the connection to the relay.
	b := h.Subscribe()
	if ev := <-b.C(); ev.Name != Cameras {
		t.Fatalf("late joiner's first event %s", ev.Name)
	}
	if ev := <-b.C(); ev.Name != Camera || string(ev.Data) != string(change.Data) {
		t.Fatalf("late joiner's second event %s %s", ev.Name, ev.Data)
	}
	if n := relay.EventStreams(); n != 1 {
		t.Fatalf("%d relay streams for two views, want 1", n)
	}
	mu.Lock()
	if seen[Cameras] < 1 || seen[Camera] != 1 {
		t.Fatalf("onEvent saw %v", seen)
	}
	mu.Unlock()

	// The relay restarts: the stream comes back where it stopped and the
	// views, still open, see the next change.
	relay.DropEvents()
	eventually(t, "reconnected", func() bool { return len(relay.LastEventIDs()) == 2 })
	if ids := relay.LastEventIDs(); ids[1] == "" {
		t.Fatalf("reconnected without Last-Event-ID: %q", ids)
	}
	relay.SetOnline("site-01/doff2", true)
	for _, s := range []*Subscription{a, b} {
		if ev := next(t, s, Camera); !strings.Contains(string(ev.Data), `"state":"online"`) {
			t.Fatalf("after reconnect: %s", ev.Data)
		}
	}

	a.Close()
	a.Close()
	if relay.EventStreams() != 1 {
		t.Fatal("stream ended while a view remained")
	}
	b.Close()
	eventually(t, "relay stream ended after the last view left", func() bool { return relay.EventStreams() == 0 })
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
	h.Follow(signedIn(t, relay).Events, nil)
	next(t, sub, Cameras)
	if n := relay.EventStreams(); n != 1 {
		t.Fatalf("%d streams", n)
	}
	// Signing out stops it; the next view gets no stale list.
	h.Follow(nil, nil)
	eventually(t, "stream ended on sign-out", func() bool { return relay.EventStreams() == 0 })
	late := h.Subscribe()
	select {
	case ev := <-late.C():
		t.Fatalf("stale %s event after sign-out", ev.Name)
	case <-time.After(100 * time.Millisecond):
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
	h := newHub(t)
	h.Follow(client.Events, nil)
	sub := h.Subscribe()
	defer sub.Close()
	next(t, sub, Cameras)
	relay.RevokeTokens()
	relay.DropEvents()
	select {
	case <-client.Expired():
	case <-time.After(within):
		t.Fatal("the refused reconnection did not end the session")
	}
	time.Sleep(200 * time.Millisecond)
	if n := len(relay.LastEventIDs()); n != 1 {
		t.Fatalf("%d stream requests that got through, want 1: no retries once the session is over", n)
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
