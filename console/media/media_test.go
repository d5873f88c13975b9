package media

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/console/relayclient/relayclienttest"
	"github.com/qianliyan/qianliyan/internal/avc"
	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/relay/peer"
	"github.com/qianliyan/qianliyan/relay/relaytest"
)

// within bounds what the tests wait for: it only catches a hang.
const within = eventually.Ceiling

var doff1 = Key{Site: "site-01", Camera: "doff1", Stream: "main"}

// newWHEP signs in to relay as its duty officer and returns a WHEP puller
// for it.
func newWHEP(t *testing.T, relay *relaytest.Relay) *WHEP {
	t.Helper()
	creds := relay.Demo()
	w, err := NewWHEP(relay.URL(), relayclienttest.SignedIn(t, relay.URL(), creds.User, creds.Password), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// recorder is a subscriber that hands everything it gets to the test.
type recorder struct {
	units  chan avc.AccessUnit
	states chan State
}

func newRecorder() *recorder {
	return &recorder{units: make(chan avc.AccessUnit, 1000), states: make(chan State, 100)}
}

func (r *recorder) OnAccessUnit(au avc.AccessUnit) {
	select {
	case r.units <- au:
	default:
	}
}

func (r *recorder) OnState(s State) { r.states <- s }

func (r *recorder) unit(t *testing.T) avc.AccessUnit {
	t.Helper()
	select {
	case au := <-r.units:
		return au
	case <-time.After(within):
		t.Fatal("no access unit within", within)
		return avc.AccessUnit{}
	}
}

// waitState waits for the state name, skipping others, and returns it.
func (r *recorder) waitState(t *testing.T, want StateName) State {
	t.Helper()
	return r.waitReason(t, want, "*")
}

// waitReason waits for the state with the reason ("*": any reason).
func (r *recorder) waitReason(t *testing.T, want StateName, reason string) State {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case s := <-r.states:
			if s.State == want && (reason == "*" || s.Reason == reason) {
				return s
			}
		case <-deadline:
			t.Fatalf("state %q (reason %q) not reached within %v", want, reason, within)
		}
	}
}

// drain empties the recorder's unit queue.
func (r *recorder) drain() {
	for {
		select {
		case <-r.units:
		default:
			return
		}
	}
}

func TestWHEPPullReceivesVideo(t *testing.T) {
	relay := relaytest.Start(t, relaytest.Options{Cameras: []string{"site-01/doff1"}})
	w := newWHEP(t, relay)
	ctx, cancel := context.WithCancel(context.Background())
	units := make(chan avc.AccessUnit, 1000)
	done := make(chan error, 1)
	go func() { done <- w.Pull(ctx, doff1, func(au avc.AccessUnit) { units <- au }) }()

	var got []avc.AccessUnit
	timeout := time.After(within)
	for len(got) < 20 {
		select {
		case au := <-units:
			got = append(got, au)
		case err := <-done:
			t.Fatalf("pull ended early: %v", err)
		case <-timeout:
			t.Fatalf("%d access units within %v, want 20", len(got), within)
		}
	}
	if !got[0].Keyframe {
		t.Fatal("first unit is not a keyframe")
	}
	sps, pps := got[0].ParamSets()
	if sps == nil || pps == nil {
		t.Fatal("first keyframe lacks SPS or PPS")
	}
	info, err := avc.ParseSPS(sps)
	if err != nil {
		t.Fatal(err)
	}
	if info.Width != relaytest.Width || info.Height != relaytest.Height {
		t.Fatalf("stream is %dx%d, want %dx%d", info.Width, info.Height, relaytest.Width, relaytest.Height)
	}
	for i := 1; i < len(got); i++ {
		if got[i].PTS <= got[i-1].PTS {
			t.Fatalf("PTS %v after %v", got[i].PTS, got[i-1].PTS)
		}
	}

	cancel()
	select {
	case err := <-done:
		if err != context.Canceled {
			t.Fatalf("pull returned %v, want context.Canceled", err)
		}
	case <-time.After(within):
		t.Fatal("pull did not stop")
	}
	if s := relay.WaitEnded(t, 0); s.EndReason != peer.ReasonDeleted || s.Site+"/"+s.Camera != "site-01/doff1" {
		t.Fatalf("session %+v, want site-01/doff1 ended by the pull's DELETE", s)
	}
}

func TestWHEPPullErrors(t *testing.T) {
	relay := relaytest.Start(t, relaytest.Options{Cameras: []string{"site-01/doff1"}})
	w := newWHEP(t, relay)
	cases := []struct {
		key    Key
		reason string
	}{
		{Key{Site: "site-01", Camera: "nope", Stream: "main"}, "unknown_camera"},
		{Key{Site: "site-01", Camera: "doff2", Stream: "main"}, "camera_offline"},
		{Key{Site: "site-01", Camera: "doff1", Stream: "huge"}, "bad_request"},
	}
	for _, c := range cases {
		t.Run(c.reason, func(t *testing.T) {
			err := w.Pull(context.Background(), c.key, func(avc.AccessUnit) { t.Error("got video") })
			if got := reasonOf(err); got != c.reason {
				t.Fatalf("reason %q (%v), want %q", got, err, c.reason)
			}
		})
	}
}

// fastOptions retry at once, and restart a silent session after 3 s rather
// than 6: the relay keeps a session open when the camera's publisher
// leaves, and only a new offer learns that the camera is offline.
func fastOptions() Options {
	return Options{BackoffMin: 20 * time.Millisecond, BackoffMax: 200 * time.Millisecond, RestartAfter: 3 * time.Second, Log: zerolog.Nop()}
}

// startSources returns sources pulling through w, closed when the test ends.
func startSources(t *testing.T, w Puller, opts Options) *Sources {
	t.Helper()
	sources := NewSources(context.Background(), w, opts)
	t.Cleanup(sources.Close)
	return sources
}

// watch subscribes a new recorder to key for the rest of the test.
func watch(t *testing.T, sources *Sources, key Key) *recorder {
	t.Helper()
	rec := newRecorder()
	unsub, err := sources.Subscribe(key, rec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(unsub)
	return rec
}

func TestSourceLateJoinerStartsAtKeyframe(t *testing.T) {
	relay := relaytest.Start(t, relaytest.Options{Cameras: []string{"site-01/doff1"}})
	sources := startSources(t, newWHEP(t, relay), fastOptions())

	first := watch(t, sources, doff1)
	if s := first.waitState(t, Connecting); s.Since.IsZero() {
		t.Fatal("state without since")
	}
	first.waitState(t, Live)
	// Join in the middle of a GOP: wait for a keyframe, then a few more.
	for !first.unit(t).Keyframe {
	}
	for range 3 {
		if first.unit(t).Keyframe {
			t.Fatal("keyframes closer than expected")
		}
	}

	late := watch(t, sources, doff1)
	if s := late.waitState(t, Live); s.Reason != "" {
		t.Fatalf("live with reason %q", s.Reason)
	}
	au := late.unit(t)
	if !au.Keyframe {
		t.Fatal("late joiner's first unit is not a keyframe")
	}
	if sps, pps := au.ParamSets(); sps == nil || pps == nil {
		t.Fatal("late joiner's keyframe lacks parameter sets")
	}
	// The cached GOP arrives at once: at least the three units seen after
	// the keyframe, before any real time has passed.
	for range 3 {
		if late.unit(t).Keyframe {
			t.Fatal("cached GOP cut short")
		}
	}
	if n := len(relay.Sessions(t)); n != 1 {
		t.Fatalf("%d WHEP sessions for two subscribers, want 1", n)
	}
}

func TestSourceStopsPullingWhenLastSubscriberLeaves(t *testing.T) {
	relay := relaytest.Start(t, relaytest.Options{Cameras: []string{"site-01/doff1"}})
	sources := startSources(t, newWHEP(t, relay), fastOptions())

	a, b := newRecorder(), newRecorder()
	unsubA, err := sources.Subscribe(doff1, a)
	if err != nil {
		t.Fatal(err)
	}
	unsubB, err := sources.Subscribe(doff1, b)
	if err != nil {
		t.Fatal(err)
	}
	a.unit(t)
	unsubA()
	unsubA() // twice is harmless
	b.drain()
	b.unit(t) // still flowing for b
	if s := relay.Sessions(t); len(s) != 1 || !s[0].Ended.IsZero() {
		t.Fatalf("sessions %+v, want one open while a subscriber remains", s)
	}
	unsubB()
	if s := relay.WaitEnded(t, 0); s.EndReason != peer.ReasonDeleted {
		t.Fatalf("session %+v, want it ended by a DELETE when the last subscriber left", s)
	}

	// A new subscriber starts a new pull.
	c := watch(t, sources, doff1)
	if !c.unit(t).Keyframe {
		t.Fatal("new pull did not start at a keyframe")
	}
	if n := len(relay.Sessions(t)); n != 2 {
		t.Fatalf("%d WHEP sessions, want 2", n)
	}
}

func TestSourceReconnects(t *testing.T) {
	cases := []struct {
		name   string
		reason string
		fail   func(*testing.T, *relaytest.Relay)
		heal   func(*testing.T, *relaytest.Relay)
	}{
		{
			name:   "relay restarts",
			reason: ReasonConnectionLost,
			fail:   func(t *testing.T, r *relaytest.Relay) { r.Restart(t) },
		},
		{
			// The session stays open, silent, until the source restarts
			// it; the new offer is refused.
			name:   "camera goes offline",
			reason: ReasonCameraOffline,
			fail:   func(t *testing.T, r *relaytest.Relay) { r.SetOnline(t, "site-01/doff1", false) },
			heal:   func(t *testing.T, r *relaytest.Relay) { r.SetOnline(t, "site-01/doff1", true) },
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			relay := relaytest.Start(t, relaytest.Options{Cameras: []string{"site-01/doff1"}})
			sources := startSources(t, newWHEP(t, relay), fastOptions())
			rec := watch(t, sources, doff1)
			rec.waitState(t, Live)
			last := rec.unit(t).PTS

			c.fail(t, relay)
			rec.waitReason(t, Offline, c.reason)
			if c.heal != nil {
				c.heal(t, relay)
			}
			rec.waitState(t, Live)
			if n := len(relay.Sessions(t)); n < 2 {
				t.Fatalf("%d WHEP sessions, want a new one", n)
			}
			for {
				au := rec.unit(t)
				if au.PTS <= last {
					t.Fatalf("PTS went back from %v to %v across sessions", last, au.PTS)
				}
				last = au.PTS
				if !au.Keyframe {
					continue
				}
				break
			}
		})
	}
}

// fakeClock is a clock the test moves; each move ticks every ticker.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	tickers []chan time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) NewTicker(time.Duration) (<-chan time.Time, func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.tickers = append(c.tickers, ch)
	return ch, func() {}
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	for _, ch := range c.tickers {
		select {
		case ch <- c.now:
		default:
		}
	}
}

func TestSourceStalls(t *testing.T) {
	relay := relaytest.Start(t, relaytest.Options{Cameras: []string{"site-01/doff1"}})
	clock := &fakeClock{now: time.Date(2024, 3, 1, 8, 0, 0, 0, time.UTC)}
	opts := fastOptions()
	opts.Clock = clock
	sources := startSources(t, newWHEP(t, relay), opts)
	rec := watch(t, sources, doff1)
	rec.waitState(t, Live)

	relay.Pause(t, "site-01/doff1", true)
	// Once the relay itself has had nothing for seconds, no unit is on its
	// way: the last picture came at the clock's present.
	relay.WaitStalled(t, "site-01/doff1")
	lastPicture := clock.Now()
	clock.Advance(time.Second)
	clock.Advance(1500 * time.Millisecond)
	stalled := rec.waitState(t, Stalled)
	// Stalled since the last picture, which stays on screen.
	if stalled.Reason != ReasonNoVideo || !stalled.Since.Equal(lastPicture) {
		t.Fatalf("got %+v, want stalled since %v", stalled, lastPicture)
	}
	if n := len(relay.Sessions(t)); n != 1 {
		t.Fatalf("%d WHEP sessions: the stall restarted the session too early", n)
	}

	// Long silence ends the session; the new one is silent too, and the
	// camera stays stalled since its last picture (issue 10.1).
	clock.Advance(6 * time.Second)
	if s := relay.WaitEnded(t, 0); s.EndReason != peer.ReasonDeleted {
		t.Fatalf("silent session %+v, want it ended by the source's DELETE", s)
	}
	eventually.True(t, within, "a new session", func() bool { return len(relay.Sessions(t)) >= 2 })
	select {
	case s := <-rec.states:
		t.Fatalf("state %+v after the silent session, want still stalled", s)
	default:
	}

	relay.Pause(t, "site-01/doff1", false)
	rec.waitState(t, Live)
	if n := len(relay.Sessions(t)); n < 2 {
		t.Fatalf("%d WHEP sessions: no new one after the silent one", n)
	}
}

func TestPTSRebase(t *testing.T) {
	ms := time.Millisecond
	cases := []struct {
		name     string
		sessions [][]time.Duration
		want     []time.Duration
	}{
		{"starts at zero", [][]time.Duration{{500 * ms, 566 * ms}}, []time.Duration{0, 66 * ms}},
		{"next session continues", [][]time.Duration{{0, 66 * ms}, {0, 66 * ms}}, []time.Duration{0, 66 * ms, 106 * ms, 172 * ms}},
		{"never goes back", [][]time.Duration{{100 * ms, 50 * ms}}, []time.Duration{0, time.Microsecond}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var p ptsRebase
			var got []time.Duration
			for _, s := range c.sessions {
				p.newSession()
				for _, pts := range s {
					got = append(got, p.next(pts))
				}
			}
			for i := range c.want {
				if got[i] != c.want[i] {
					t.Fatalf("got %v, want %v", got, c.want)
				}
			}
		})
	}
}

func TestSubscribeAfterClose(t *testing.T) {
	relay := relaytest.Start(t, relaytest.Options{Cameras: []string{"site-01/doff1"}})
	sources := NewSources(context.Background(), newWHEP(t, relay), fastOptions())
	sources.Close()
	if _, err := sources.Subscribe(doff1, newRecorder()); err != ErrClosed {
		t.Fatalf("got %v, want ErrClosed", err)
	}
	if _, err := NewSources(context.Background(), nil, Options{}).Subscribe(Key{Site: "s"}, newRecorder()); err == nil {
		t.Fatal("incomplete key accepted")
	}
}

func TestSourceFollowsRelayReports(t *testing.T) {
	relay := relaytest.Start(t, relaytest.Options{Cameras: []string{"site-01/doff1"}})
	opts := fastOptions()
	// Waits between attempts far beyond the test: only a report of the
	// camera's return can bring the picture back in time.
	opts.BackoffMin, opts.BackoffMax = time.Minute, time.Minute
	sources := startSources(t, newWHEP(t, relay), opts)
	rec := watch(t, sources, doff1)
	rec.waitState(t, Live)

	// The relay says the camera left while the session stays open (the
	// relay keeps it for the camera's return): offline at once, since when
	// the relay says.
	relay.Pause(t, "site-01/doff1", true)
	gone := time.Now()
	sources.RelayReport("site-01", "doff1", false, gone)
	sources.RelayReport("site-01", "other", true, time.Time{}) // another camera: no effect
	s := rec.waitReason(t, Offline, ReasonCameraOffline)
	if s.Since.Before(gone.Add(-time.Second)) || s.Since.After(time.Now()) {
		t.Fatalf("offline since %v, reported %v", s.Since, gone)
	}
	relay.Pause(t, "site-01/doff1", false)
	rec.waitState(t, Live)

	// The camera leaves; its silent session ends and the source waits a
	// minute to retry; the report of its return cuts the wait short.
	relay.SetOnline(t, "site-01/doff1", false)
	rec.waitState(t, Offline)
	relay.SetOnline(t, "site-01/doff1", true)
	sources.RelayReport("site-01", "doff1", true, time.Now())
	rec.waitState(t, Live)
	if n := len(relay.Sessions(t)); n != 2 {
		t.Fatalf("%d WHEP sessions, want 2", n)
	}
}

func TestSourceSessionExpired(t *testing.T) {
	relay := relaytest.Start(t, relaytest.Options{Cameras: []string{"site-01/doff1"}})
	sources := startSources(t, newWHEP(t, relay), fastOptions())
	rec := watch(t, sources, doff1)
	rec.waitState(t, Live)
	// The session drops, and the sign-in can be neither used nor renewed.
	relay.RestartWithNewKey(t)
	rec.waitReason(t, Offline, ReasonSessionExpired)
	if n := relay.Logins(t); n != 1 {
		t.Fatalf("%d logins: the source must not sign in again", n)
	}
}
