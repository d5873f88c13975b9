package rtsppull

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/internal/fakeclock"
	"github.com/qianliyan/qianliyan/internal/sitesim/rtspcam"
	"github.com/qianliyan/qianliyan/internal/sitesim/rtspcam/rtspcamtest"
	"github.com/qianliyan/qianliyan/relay/hub"
	"github.com/qianliyan/qianliyan/relay/hub/hubtest"
)

// within reports whether d is want give or take a fifth (the jitter).
func within(d, want time.Duration) bool {
	return d >= want*4/5 && d <= want*6/5
}

// TestRetrySchedule: a camera that showed a picture a moment ago is tried
// again briskly for a minute, then less and less often up to the cap; one
// that never did backs off from the start.
func TestRetrySchedule(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)
	opts := Options{MinBackoff: 500 * time.Millisecond, MaxBackoff: 30 * time.Second, BriskRetry: time.Second, BriskFor: time.Minute}
	s := time.Second
	cases := []struct {
		name    string
		healthy bool            // the first session showed a picture
		at      []time.Duration // when the failed attempts after it ended
		want    []time.Duration // the wait after the first session, then after each of them
	}{
		{"a camera that showed a picture: brisk for a minute, then backing off", true,
			[]time.Duration{s, 30 * s, 59 * s, 61 * s, 63 * s, 70 * s, 80 * s, 100 * s, 130 * s, 160 * s},
			[]time.Duration{s / 2, s, s, s, s, 2 * s, 4 * s, 8 * s, 16 * s, 30 * s, 30 * s}},
		{"a camera never seen: backing off at once", false,
			[]time.Duration{s, 2 * s, 4 * s, 8 * s, 16 * s, 32 * s, 64 * s, 128 * s},
			[]time.Duration{s / 2, s, 2 * s, 4 * s, 8 * s, 16 * s, 30 * s, 30 * s, 30 * s}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRetry(opts)
			got := []time.Duration{r.next(t0, c.healthy)}
			for _, at := range c.at {
				got = append(got, r.next(t0.Add(at), false))
			}
			for i, want := range c.want {
				if !within(got[i], want) {
					t.Fatalf("waits %v, want %v give or take a fifth each", got, c.want)
				}
			}
		})
	}
}

// TestCameraBackAfterOutageIsPulledAtOnce: a camera that goes away (a
// reboot) and comes back is pulled again at the next attempt, each attempt
// while it is away a second or so after the last, however long the first
// minute of the outage lasts (issue 10.13: it used to double to 30 s, and a
// camera back after 15 s stayed black 17 s more).
func TestCameraBackAfterOutageIsPulledAtOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*eventually.Ceiling) // a hang's guard
	defer cancel()
	srv := rtspcamtest.Start(t, rtspcam.Options{})
	reboot := publishLive(t, ctx, srv)

	// The puller's waits are the test's: each one moves the clock on by
	// the wait asked for, and ends when the test says.
	clock := fakeclock.New(time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC))
	asked := make(chan time.Duration)
	release := make(chan time.Time)
	after := func(d time.Duration) <-chan time.Time {
		clock.Advance(d)
		select {
		case asked <- d:
		case <-ctx.Done():
		}
		return release
	}
	h := hub.New(hub.Config{})
	key := hub.Key{Site: "site-01", Camera: "doff1", Stream: "main"}
	attempts := 0
	go Run(ctx, h, Source{Key: key, URL: srv.URL("live"), Transport: "tcp"}, Options{
		ReadTimeout: 2 * time.Second, Now: clock.Now, After: after,
		OnReconnect: func(hub.Key, error) { attempts++ }, // before each wait: read after one
		Log:         zerolog.Nop(),
	})
	hubtest.FirstUnit(t, ctx, h, key, eventually.Ceiling)

	// The camera reboots.
	reboot()
	next := func() time.Duration {
		t.Helper()
		select {
		case d := <-asked:
			return d
		case <-ctx.Done():
			t.Fatal("no retry")
			return 0
		}
	}
	if d := next(); !within(d, 500*time.Millisecond) {
		t.Fatalf("first retry after %v, want half a second", d)
	}
	release <- clock.Now()
	for range 20 {
		if d := next(); !within(d, time.Second) {
			t.Fatalf("retry after %v, %d attempts into the outage, want a second", d, attempts)
		}
		release <- clock.Now()
	}
	// It is back while the puller waits: the next attempt pulls it.
	if d := next(); !within(d, time.Second) {
		t.Fatalf("retry after %v, want a second", d)
	}
	publishLive(t, ctx, srv)
	before := attempts
	release <- clock.Now()
	hubtest.FirstUnit(t, ctx, h, key, eventually.Ceiling)
	select {
	case d := <-asked:
		t.Fatalf("another retry (after %v): the attempt after the camera came back failed", d)
	default:
	}
	if attempts != before {
		t.Fatalf("%d more failed attempts once the camera was back", attempts-before)
	}
}
