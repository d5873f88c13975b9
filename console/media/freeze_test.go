package media

import (
	"hash/maphash"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/internal/avc"
	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/relay/relaytest"
)

// TestFrozenCameraIsNeverLive: a camera that stops sending (its encoder
// stopped) while its publisher stays connected is stalled at the relay.
// The source restarts its silent session every few seconds; none of them
// may bring the picture from before the freeze back as new: nothing is
// passed on, the state stays stalled since the last picture, and once the
// camera sends again the picture is live, its units on the stream's own
// clock, after everything passed on before (issue 10.1).
func TestFrozenCameraIsNeverLive(t *testing.T) {
	relay := relaytest.Start(t, relaytest.Options{Cameras: []string{"site-01/doff1"}})
	sources := startSources(t, newWHEP(t, relay), fastOptions())
	rec := watch(t, sources, doff1)
	rec.waitState(t, Live)

	relay.Pause(t, "site-01/doff1", true)
	relay.WaitStalled(t, "site-01/doff1")
	stalled := rec.waitState(t, Stalled)
	// Nothing is on its way: what came was passed on before the stall.
	var last avc.AccessUnit
	for n := len(rec.units); n > 0; n-- {
		last = <-rec.units
	}
	if last.NALUs == nil {
		t.Fatal("no unit before the freeze")
	}

	// Two silent sessions end and a third begins, each offered while the
	// relay has the camera's last GOP cached.
	sessions := len(relay.Sessions(t))
	eventually.True(t, eventually.Ceiling, "two sessions restarted", func() bool {
		return len(relay.Sessions(t)) >= sessions+2
	})
	select {
	case s := <-rec.states:
		t.Fatalf("state %+v while frozen, want stalled since %v throughout", s, stalled.Since)
	default:
	}
	if n := len(rec.units); n > 0 {
		au := <-rec.units
		t.Fatalf("%d units passed on while frozen, the first with PTS %v (the last before the freeze: %v)", n, au.PTS, last.PTS)
	}

	relay.Pause(t, "site-01/doff1", false)
	if s := rec.waitState(t, Live); s.Since.Before(stalled.Since) {
		t.Fatalf("live since %v, before the stall at %v", s.Since, stalled.Since)
	}
	// The camera's clock ran on while it was frozen: the first new unit is
	// that far on, not a frame after the last one (as a unit seen before,
	// stamped anew, would be).
	first := rec.unit(t)
	if gap := first.PTS - last.PTS; gap < 2*fastOptions().RestartAfter {
		t.Fatalf("first unit after the freeze %v after the last one before, want the freeze's length, over %v", gap, 2*fastOptions().RestartAfter)
	}
	prev := first.PTS
	for range 20 {
		au := rec.unit(t)
		if au.PTS <= prev {
			t.Fatalf("PTS %v after %v", au.PTS, prev)
		}
		prev = au.PTS
	}
}

// TestReplayMatch: how a session's first units are told apart, the relay
// handing over the GOP the source had from its keyframe on.
func TestReplayMatch(t *testing.T) {
	ms := time.Millisecond
	keyframe := avc.NewAccessUnit([][]byte{{0x65, 1, 2, 3}}, 0)
	other := avc.NewAccessUnit([][]byte{{0x65, 9, 9, 9}}, 0)
	delta := func(pts time.Duration) avc.AccessUnit {
		return avc.NewAccessUnit([][]byte{{0x41, byte(pts / ms)}}, pts)
	}
	at := func(au avc.AccessUnit, pts time.Duration) avc.AccessUnit { au.PTS = pts; return au }
	h := history{seed: maphash.MakeSeed()}
	// The source passed on the keyframe at 10 s on its clock, then two
	// units, the last at 10.066 s.
	h.add(true, h.sum(keyframe), keyframe.Size(), 10*time.Second)
	last := 10*time.Second + 66*ms

	cases := []struct {
		name  string
		units []avc.AccessUnit // the session's, on its own clock
		want  []bool           // seen before
		at    time.Duration    // the stream time of the last unit
	}{
		{"the cached GOP, then a new unit", []avc.AccessUnit{at(keyframe, 5*ms), delta(38 * ms), delta(71 * ms), delta(104 * ms)},
			[]bool{true, true, true, false}, 10*time.Second + 99*ms},
		{"after a freeze: the new unit is the freeze's length on", []avc.AccessUnit{at(keyframe, 0), delta(66 * ms), delta(8 * time.Second)},
			[]bool{true, true, false}, 18 * time.Second},
		{"another keyframe: all new", []avc.AccessUnit{other, delta(33 * ms)}, []bool{false}, 0},
		{"a delta first: all new", []avc.AccessUnit{delta(0)}, []bool{false}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := replay{checking: true}
			var stream time.Duration
			for i, want := range c.want {
				au := c.units[i]
				var sum uint64
				if au.Keyframe {
					sum = h.sum(au)
				}
				var got bool
				stream, got = r.match(&h, last, au, sum)
				if got != want {
					t.Fatalf("unit %d: seen before %v, want %v", i, got, want)
				}
			}
			if c.at != 0 && stream != c.at {
				t.Fatalf("last unit at %v on the stream's clock, want %v", stream, c.at)
			}
		})
	}
}
