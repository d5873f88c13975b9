package health

import (
	"context"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/internal/avc"
	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/internal/fakeclock"
	"github.com/qianliyan/qianliyan/relay/hub"
)

func TestOf(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	st := func(s hub.Status, at int) hub.State {
		return hub.State{Status: s, StatusSince: t0.Add(time.Duration(at) * time.Second)}
	}
	cases := []struct {
		name      string
		main, sub hub.State
		want      hub.Status
		since     int
	}{
		{"both unseen", hub.State{}, hub.State{}, hub.StatusOffline, -1},
		{"main online", st(hub.StatusOnline, 1), hub.State{}, hub.StatusOnline, 1},
		{"sub online, main stalled", st(hub.StatusStalled, 1), st(hub.StatusOnline, 2), hub.StatusOnline, 2},
		{"main stalled, sub offline", st(hub.StatusStalled, 3), st(hub.StatusOffline, 2), hub.StatusStalled, 3},
		{"tie goes to main", st(hub.StatusOnline, 5), st(hub.StatusOnline, 6), hub.StatusOnline, 5},
		{"both offline", st(hub.StatusOffline, 7), st(hub.StatusOffline, 8), hub.StatusOffline, 7},
	}
	for _, c := range cases {
		got, since := Of(c.main, c.sub)
		wantSince := time.Time{}
		if c.since >= 0 {
			wantSince = t0.Add(time.Duration(c.since) * time.Second)
		}
		if got != c.want || !since.Equal(wantSince) {
			t.Errorf("%s: %s since %v, want %s since %v", c.name, got, since, c.want, wantSince)
		}
	}
}

// expect reads the next announced camera, or fails.
func expect(t *testing.T, s *Subscription, want Camera) {
	t.Helper()
	select {
	case c := <-s.Changed():
		if c != want {
			t.Fatalf("announced %v, want %v", c, want)
		}
	default:
		t.Fatalf("no change announced, want %v", want)
	}
}

func expectNone(t *testing.T, s *Subscription) {
	t.Helper()
	select {
	case c := <-s.Changed():
		t.Fatalf("unexpected change of %v", c)
	default:
	}
}

func TestWatcherAnnouncesChanges(t *testing.T) {
	clock := fakeclock.New(time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC))
	h := hub.New(hub.Config{Now: clock.Now, StallAfter: 2 * time.Second})
	doff := Camera{"site-01", "doff1"}
	key := hub.Key{Site: doff.Site, Camera: doff.ID, Stream: hub.StreamMain}
	w := NewWatcher(h)
	s := w.Subscribe()
	defer s.Close()

	w.Check()
	expectNone(t, s)
	src, _ := h.Publish(key)
	w.Check()
	expect(t, s, doff) // online
	expectNone(t, s)

	src.Write(avc.NewAccessUnit([][]byte{{0x65, 1}}, 0))
	clock.Advance(2 * time.Second)
	w.Check()
	expectNone(t, s)
	clock.Advance(time.Millisecond)
	w.Check()
	expect(t, s, doff) // stalled
	w.Check()
	expectNone(t, s)

	// The sub stream coming online makes the camera online again.
	sub, _ := h.Publish(hub.Key{Site: doff.Site, Camera: doff.ID, Stream: hub.StreamSub})
	w.Check()
	expect(t, s, doff)
	sub.Close()
	src.Close()
	w.Check()
	expect(t, s, doff) // offline
	expectNone(t, s)
}

func TestSlowSubscriberIsToldToResync(t *testing.T) {
	h := hub.New(hub.Config{})
	w := NewWatcher(h)
	slow := w.Subscribe()
	defer slow.Close()
	for i := range 100 { // more changes than the subscription holds
		h.Publish(hub.Key{Site: "site-01", Camera: string(rune('a'+i%26)) + string(rune('a'+i/26)), Stream: hub.StreamMain})
	}
	w.Check()
	select {
	case <-slow.Resync():
	default:
		t.Fatal("no resync after lost changes")
	}
	if n := len(slow.Changed()); n != cap(slow.c) {
		t.Fatalf("%d changes queued, want a full queue of %d", n, cap(slow.c))
	}
}

func TestRunStopsWithContext(t *testing.T) {
	w := NewWatcher(hub.New(hub.Config{}))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx, time.Millisecond); close(done) }()
	cancel()
	select {
	case <-done:
	case <-time.After(eventually.Ceiling):
		t.Fatalf("Run did not return within %v of cancel", eventually.Ceiling)
	}
}
