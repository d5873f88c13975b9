package e2e

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/console/forward"
	"github.com/qianliyan/qianliyan/console/relayclient"
	"github.com/qianliyan/qianliyan/console/relayclient/relayclienttest"
	"github.com/qianliyan/qianliyan/console/store"
	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/internal/fakeclock"
	"github.com/qianliyan/qianliyan/relay/relaytest"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// TestCoverageEightHourShift (issue 11 §4 done-criterion, at the console
// backend's level): a simulated 8-hour day shift, on injected clocks, of a
// console whose clock is 5 min behind the relay's. The officer looks at
// site-03 for its first 5 minutes, then a tour of site-01's and site-02's
// cameras runs for the rest of the shift, leaving site-03 out; what is on
// screen goes to the console's store as the view says it (every change, and
// a heartbeat every 15 s), and to the real relay through the outbox. At the
// meal delivery of 11:30 the relay has the moment due and the tour jumps to
// its camera. The relay's coverage equals the intervals the test drove, to
// the second, on the relay's clock; site-03's doffing rooms are unwatched
// from exactly 60 min after they were last seen, not a second before; the
// moment the tour jumped to was watched, site-03's missed.
//
// The view's part (useWatch, the panel, the prompt, the tour) runs here as
// the sequence of sets it tells the backend; its own tests are vitest's,
// and TestCoverageView in Chromium.
func TestCoverageEightHourShift(t *testing.T) {
	ctx := context.Background()
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	shiftStart := time.Date(2026, 12, 2, 8, 0, 0, 0, shanghai)
	clock := fakeclock.New(shiftStart)
	const skew = 5 * time.Minute
	consoleNow := func() time.Time { return clock.Now().Add(-skew) }
	tr := relaytest.Start(t, relaytest.Options{Now: clock.Now})
	duty := relayclienttest.SignedIn(t, tr.URL(), tr.Demo().User, tr.Demo().Password)
	st, err := store.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })

	// What the test drove: each camera's intervals on screen, console time.
	type span struct{ from, to time.Time }
	driven := map[string][]span{}
	openSince := map[string]time.Time{}
	var screen []store.Watching
	tell := func() {
		t.Helper()
		if _, err := st.SetWatching(ctx, store.WatchUpdate{Officer: tr.Demo().User, Relay: duty.BaseURL(), At: consoleNow(), Visible: screen}); err != nil {
			t.Fatal(err)
		}
	}
	show := func(cams ...string) {
		t.Helper()
		now := consoleNow()
		next := map[string]bool{}
		for _, c := range cams {
			next[c] = true
		}
		for c, from := range openSince {
			if !next[c] {
				driven[c] = append(driven[c], span{from, now})
				delete(openSince, c)
			}
		}
		screen = screen[:0]
		for _, c := range cams {
			if _, ok := openSince[c]; !ok {
				openSince[c] = now
			}
			screen = append(screen, store.Watching{Camera: c, Mode: store.WatchTile})
		}
		tell()
	}
	// wait lets d go by with the view's heartbeat every 15 s.
	wait := func(d time.Duration) {
		t.Helper()
		for d > 0 {
			step := min(d, 15*time.Second)
			clock.Advance(step)
			d -= step
			tell()
		}
	}
	// forwardAll runs the forwarder on the frozen clocks until the outbox is
	// empty: the relay measures the skew as exactly 5 min.
	forwardAll := func() {
		t.Helper()
		// Hours went by on the relay's clock: the officer's sign-in is new.
		duty = relayclienttest.SignedIn(t, tr.URL(), tr.Demo().User, tr.Demo().Password)
		fctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() {
			done <- forward.New(forward.Options{Store: st, Relay: duty, Now: consoleNow, Poll: 50 * time.Millisecond}).Run(fctx)
		}()
		eventually.True(t, eventually.Ceiling, "the outbox forwarded", func() bool {
			select {
			case err := <-done:
				t.Fatalf("the forwarder stopped: %v", err)
			default:
			}
			es, err := st.Outbox(ctx, 0)
			return err == nil && len(es) == 0
		})
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("forwarder: %v", err)
		}
	}

	tour := []string{"site-01/doff1", "site-01/doff2", "site-01/waste", "site-01/gate", "site-02/doff1", "site-02/doff2", "site-02/waste", "site-02/gate"}
	const dwell = 20 * time.Second
	next := 0
	tourUntil := func(end time.Time) {
		for clock.Now().Before(end) {
			show(tour[next%len(tour)])
			next++
			wait(min(dwell, end.Sub(clock.Now())))
		}
	}

	// 08:00–08:05 (the relay's time): site-03 on a 4-tile wall.
	show("site-03/doff1", "site-03/doff2", "site-03/waste", "site-03/gate")
	wait(5 * time.Minute)
	// The tour till just after the 11:30 meal delivery.
	tourUntil(time.Date(2026, 12, 2, 11, 30, 10, 0, shanghai))
	forwardAll()
	ms, err := duty.Moments(ctx, time.Hour, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var meal *wire.Moment
	for i, m := range ms.Moments {
		if m.Site == "site-01" && m.ID != "" && m.At.Equal(time.Date(2026, 12, 2, 11, 30, 0, 0, shanghai)) {
			meal = &ms.Moments[i]
		}
	}
	if meal == nil || meal.State != wire.MomentDue || len(meal.Cameras) == 0 {
		t.Fatalf("at 11:30:10 site-01's meal delivery is %+v, want due with its cameras (moments %+v)", meal, ms.Moments)
	}
	// The tour jumps to the moment's cameras for a minute, then carries on.
	for _, c := range meal.Cameras {
		show("site-01/" + c)
		wait(time.Minute)
	}
	end := shiftStart.Add(8 * time.Hour)
	tourUntil(end)
	show()
	if err := st.EndWatching(ctx, consoleNow()); err != nil {
		t.Fatal(err)
	}
	forwardAll()

	// The relay's coverage of the eight hours equals what was driven.
	cov, err := duty.Coverage(ctx, relayclient.CoverageQuery{From: shiftStart, To: end, At: end})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]wire.CameraCoverage{}
	met := map[string]*bool{}
	for _, s := range cov.Sites {
		met[s.Site] = s.PolicyMet
		for _, c := range s.Cameras {
			got[s.Site+"/"+c.Camera] = c
		}
	}
	for cam, spans := range driven {
		var secs int64
		var last time.Time
		for _, s := range spans {
			secs += int64(s.to.Sub(s.from) / time.Second)
			if s.to.After(last) {
				last = s.to
			}
		}
		c := got[cam]
		if c.WatchedSeconds != secs || c.LastWatched == nil || !c.LastWatched.Equal(last.Add(skew)) {
			t.Errorf("%s at the relay: %d s, last %v; driven %d s, last %v (+5 min)", cam, c.WatchedSeconds, c.LastWatched, secs, last.Add(skew))
		}
	}
	if len(driven) != 12 {
		t.Errorf("%d cameras driven, want 12", len(driven))
	}
	if m := met["site-01"]; m == nil || !*m {
		t.Errorf("site-01's policy met: %v, want true", m)
	}
	if m := met["site-03"]; m == nil || *m {
		t.Errorf("site-03's policy met: %v, want false", m)
	}

	// site-03 left out: unwatched from the policy's 60 min after it was last
	// seen (08:05 by the relay's clock), not a second before.
	limit := shiftStart.Add(5*time.Minute + time.Hour)
	for _, c := range []struct {
		at   time.Time
		want []string
	}{
		{limit.Add(-time.Second), nil},
		{limit, []string{"site-03/doffing_room_1", "site-03/doffing_room_2"}},
		{end, []string{"site-03/doffing_room_1", "site-03/doffing_room_2"}},
	} {
		un, err := duty.Unwatched(ctx, c.at)
		if err != nil {
			t.Fatal(err)
		}
		var zones []string
		for _, z := range un.Zones {
			zones = append(zones, z.Site+"/"+z.Zone)
		}
		sort.Strings(zones)
		if fmt.Sprint(zones) != fmt.Sprint(c.want) {
			t.Errorf("unwatched at %s: %v, want %v", c.at.Format("15:04:05"), zones, c.want)
		}
	}

	// The meal delivery the tour jumped to was watched; site-03's missed.
	ms, err = duty.Moments(ctx, 5*time.Hour, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]string{}
	for _, m := range ms.Moments {
		states[m.Site+" "+m.At.In(shanghai).Format("15:04")] = m.State
	}
	for k, want := range map[string]string{"site-01 11:30": wire.MomentWatched, "site-03 11:30": wire.MomentMissed, "site-01 15:00": wire.MomentWatched, "site-03 15:00": wire.MomentMissed} {
		if states[k] != want {
			t.Errorf("moment %s: %q, want %q (all: %v)", k, states[k], want, states)
		}
	}
}
