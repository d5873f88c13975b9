package media

import (
	"sync"
	"testing"

	"github.com/qianliyan/qianliyan/relay/peer"
	"github.com/qianliyan/qianliyan/relay/relaytest"
)

// tapRecorder counts the taps a registry makes and their ends.
type tapRecorder struct {
	mu      sync.Mutex
	keys    []Key
	recs    []*recorder
	stopped int
}

func (tr *tapRecorder) tap(key Key) (Subscriber, func()) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	rec := newRecorder()
	tr.keys = append(tr.keys, key)
	tr.recs = append(tr.recs, rec)
	return rec, func() {
		tr.mu.Lock()
		defer tr.mu.Unlock()
		tr.stopped++
	}
}

func (tr *tapRecorder) counts() (taps, stopped int) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return len(tr.recs), tr.stopped
}

func (tr *tapRecorder) last() *recorder {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.recs[len(tr.recs)-1]
}

func TestSourceTapFollowsThePull(t *testing.T) {
	relay := relaytest.Start(t, relaytest.Options{Cameras: []string{"site-01/doff1"}})
	taps := &tapRecorder{}
	opts := fastOptions()
	opts.Tap = taps.tap
	sources := startSources(t, newWHEP(t, relay), opts)

	viewer := newRecorder()
	unsub, err := sources.Subscribe(doff1, viewer)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := taps.counts(); n != 1 || taps.keys[0] != doff1 {
		t.Fatalf("%d taps for one source (%v), want 1 of %v", n, taps.keys, doff1)
	}
	tap := taps.last()
	tap.waitState(t, Live)
	if !tap.unit(t).Keyframe {
		t.Fatal("the tap's first unit is not a keyframe")
	}
	// The tap sees the same units, with the same times, as the viewer.
	viewer.drain()
	tap.drain()
	want := viewer.unit(t)
	for {
		got := tap.unit(t)
		if got.PTS == want.PTS {
			break
		}
		if got.PTS > want.PTS {
			t.Fatalf("tap skipped the unit at %v", want.PTS)
		}
	}

	// A second viewer shares the source and its tap.
	other := newRecorder()
	unsubOther, err := sources.Subscribe(doff1, other)
	if err != nil {
		t.Fatal(err)
	}
	unsubOther()
	if n, stopped := taps.counts(); n != 1 || stopped != 0 {
		t.Fatalf("after a viewer came and went: %d taps, %d stopped; want 1, 0", n, stopped)
	}

	// The tap does not keep the source pulling.
	unsub()
	tap.drain() // what came before the source stopped
	if s := relay.WaitEnded(t, 0); s.EndReason != peer.ReasonDeleted {
		t.Fatalf("session %+v, want it ended by a DELETE: the tap must not keep it open", s)
	}
	if _, stopped := taps.counts(); stopped != 1 {
		t.Fatalf("done called %d times after the source stopped, want 1", stopped)
	}
	select {
	case au := <-tap.units:
		t.Fatalf("the tap got a unit (%v) after its source stopped", au.PTS)
	default:
	}

	// The next pull is a new source with a new tap; Close ends it too.
	unsub, err = sources.Subscribe(doff1, newRecorder())
	if err != nil {
		t.Fatal(err)
	}
	defer unsub()
	taps.last().waitState(t, Live)
	if n, _ := taps.counts(); n != 2 {
		t.Fatalf("%d taps after a second pull, want 2", n)
	}
	sources.Close()
	if _, stopped := taps.counts(); stopped != 2 {
		t.Fatalf("done called %d times after Close, want 2", stopped)
	}
}
