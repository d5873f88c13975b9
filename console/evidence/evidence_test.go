package evidence

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/console/clip"
	"github.com/qianliyan/qianliyan/console/media"
	"github.com/qianliyan/qianliyan/console/mediatest"
	"github.com/qianliyan/qianliyan/console/relayclient/relayclienttest"
	"github.com/qianliyan/qianliyan/console/store"
	"github.com/qianliyan/qianliyan/internal/avc"
	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/internal/testmedia"
	"github.com/qianliyan/qianliyan/relay/relaytest"
)

// within bounds anything a test waits for: it only catches a hang.
const within = eventually.Ceiling

var doff1 = media.Key{Site: "site-01", Camera: "doff1", Stream: "main"}

// rig is the real relay with doff1 publishing, the console's sources with
// their buffers, and a real store.
type rig struct {
	relay   *relaytest.Relay
	sources *media.Sources
	buffers *Buffers
	store   *store.Store
}

func newRig(t *testing.T) *rig {
	t.Helper()
	relay := relaytest.Start(t, relaytest.Options{Cameras: []string{"site-01/doff1"}})
	creds := relay.Demo()
	buffers := NewBuffers(30*time.Second, MaxBufferBytes, nil)
	sources := mediatest.Sources(t, relayclienttest.SignedIn(t, relay.URL(), creds.User, creds.Password), media.Options{
		Tap: buffers.Tap, BackoffMin: 50 * time.Millisecond, BackoffMax: 200 * time.Millisecond, Log: zerolog.Nop(),
	})
	st, err := store.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &rig{relay: relay, sources: sources, buffers: buffers, store: st}
}

// watch subscribes a viewer and waits until the buffer holds span of video.
func (r *rig) watch(t *testing.T, key media.Key, span time.Duration) *mediatest.Viewer {
	t.Helper()
	v, _ := mediatest.Watch(t, r.sources, key)
	eventually.True(t, span+within, fmt.Sprintf("the buffer of %s holding %v", key, span), func() bool {
		ring, ok := r.buffers.Ring(key)
		if !ok {
			return false
		}
		_, _, got := ring.Stats()
		return got >= span
	})
	return v
}

func (r *rig) finding(t *testing.T, observedAt time.Time) store.Finding {
	t.Helper()
	f, err := r.store.Create(context.Background(), store.Flag{
		Site: "site-01", Camera: "doff1", Zone: "doffing_room_1", DeviationText: "脱卸顺序错误",
		Severity: "major", Observer: r.relay.Demo().User, ObservedAt: observedAt, Deadline: observedAt.Add(48 * time.Hour),
		RecordClip: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// filed waits for the clip of finding id to leave the recording state.
func (r *rig) filed(t *testing.T, id string, within time.Duration) store.Evidence {
	t.Helper()
	var clip store.Evidence
	eventually.True(t, within, "the clip of "+id+" filed", func() bool {
		f, err := r.store.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		clip = *f.Clip
		return clip.State != "recording"
	})
	return clip
}

// probe checks the clip file is H.264 that plays from a keyframe, of at
// least min duration, and returns what ffprobe read.
func (r *rig) probe(t *testing.T, ev store.Evidence, min time.Duration) testmedia.Probe {
	t.Helper()
	path, err := r.store.EvidencePath(ev.File)
	if err != nil {
		t.Fatal(err)
	}
	p, err := testmedia.ProbeFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if p.Codec != "h264" || !p.FirstKeyframe || p.Width != relaytest.Width || p.Height != relaytest.Height || p.Duration < min {
		t.Fatalf("clip %s: %+v, want %dx%d H.264 from a keyframe, at least %v", ev.File, p, relaytest.Width, relaytest.Height, min)
	}
	return p
}

// receipts is a view that notes when it got each unit.
type receipts struct {
	mu   sync.Mutex
	pts  []time.Duration // in the order they came
	when []time.Time
}

func (r *receipts) OnAccessUnit(au avc.AccessUnit) {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pts, r.when = append(r.pts, au.PTS), append(r.when, now)
}

func (r *receipts) OnState(media.State) {}

// last returns the newest unit's presentation time and when it and the one
// before it came.
func (r *receipts) last() (pts time.Duration, before, got time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := len(r.pts)
	return r.pts[n-1], r.when[n-2], r.when[n-1]
}

func TestLocateMapsPresentationTimeToArrival(t *testing.T) {
	r := newRig(t)
	if _, err := r.buffers.Locate(doff1, 0); !errors.Is(err, ErrNotPulled) {
		t.Fatalf("a stream not pulled: %v", err)
	}
	// The view is the stream's only subscriber, so that it gets every unit
	// live, right after the buffer does (no cached GOP replayed to it).
	var view receipts
	unsubscribe, err := r.sources.Subscribe(doff1, &view)
	if err != nil {
		t.Fatal(err)
	}
	defer unsubscribe()
	eventually.True(t, within, "a second of video buffered", func() bool {
		ring, _ := r.buffers.Ring(doff1)
		_, _, span := ring.Stats()
		return span >= time.Second
	})
	pts, before, got := view.last()
	at, err := r.buffers.Locate(doff1, pts)
	if err != nil {
		t.Fatal(err)
	}
	// A unit reaches the buffer, then the view, then the next unit the
	// buffer: the frame is located at its own arrival, not at another's.
	if at.Before(before) || at.After(got) {
		t.Fatalf("frame located at %v; the view got it at %v and the one before at %v", at, got, before)
	}
	// Between two frames, the nearer one.
	near, err := r.buffers.Locate(doff1, pts+time.Millisecond)
	if err != nil || !near.Equal(at) {
		t.Fatalf("a millisecond off: %v, %v; want %v", near, err, at)
	}
	for _, pts := range []time.Duration{pts + time.Hour, -time.Hour} {
		if _, err := r.buffers.Locate(doff1, pts); !errors.Is(err, ErrNoFrame) {
			t.Errorf("pts %v: %v, want ErrNoFrame", pts, err)
		}
	}
	if _, err := r.buffers.Locate(media.Key{Site: "site-01", Camera: "doff1", Stream: "sub"}, pts); !errors.Is(err, ErrNotPulled) {
		t.Fatalf("the other stream: %v", err)
	}
}

func TestBufferEndsWithThePull(t *testing.T) {
	r := newRig(t)
	_, unsub := mediatest.Watch(t, r.sources, doff1)
	if _, ok := r.buffers.Ring(doff1); !ok {
		t.Fatal("no buffer for a stream being pulled")
	}
	unsub()
	if _, ok := r.buffers.Ring(doff1); ok {
		t.Fatal("the buffer outlived the pull")
	}
}

func TestRecordCutsClipAroundObservedFrame(t *testing.T) {
	r := newRig(t)
	const before, after = 3 * time.Second, time.Second
	rec := NewRecorder(context.Background(), RecorderOptions{
		Sources: r.sources, Buffers: r.buffers, Store: r.store, Before: before, After: after,
	})
	defer rec.Close()
	v := r.watch(t, doff1, before+time.Second)
	observed, err := r.buffers.Locate(doff1, v.OnScreen(t).PTS)
	if err != nil {
		t.Fatal(err)
	}
	f := r.finding(t, observed)
	if err := rec.Record(f.ID, doff1, observed); err != nil {
		t.Fatal(err)
	}
	// The pre-roll is on disk before Record returns.
	if st, err := os.Stat(r.store.PartialClipPath(f.ID)); err != nil || st.Size() == 0 {
		t.Fatalf("no pre-roll on disk when Record returned: %v", err)
	}

	ev := r.filed(t, f.ID, after+within)
	if ev.State != "complete" {
		t.Fatalf("clip %+v, want complete", ev)
	}
	// From the keyframe that arrived last at or before observed-before, to
	// the unit that arrived last at or before observed+after: what the
	// buffer says of the stream's arrivals, however the machine kept pace.
	ring, _ := r.buffers.Ring(doff1)
	var first, last clip.Unit
	for _, u := range ring.Since(time.Time{}) {
		if u.AU.Keyframe && !u.At.After(observed.Add(-before)) {
			first = u
		}
		if !u.At.After(observed.Add(after)) {
			last = u
		}
	}
	// (The store keeps times to the millisecond.)
	if first.At.IsZero() || ev.StartsAt.Sub(first.At).Abs() >= time.Millisecond {
		t.Fatalf("clip starts at %v, want the keyframe that arrived last by %v (at %v)", ev.StartsAt, observed.Add(-before), first.At)
	}
	// The recorder stamps units a moment after the buffer does: the last
	// may be a frame short.
	frame := time.Second / relaytest.FPS
	span := last.AU.PTS - first.AU.PTS + frame
	if ev.Duration < span-frame || ev.Duration > span {
		t.Fatalf("clip of %v, want the %v from %v to %v", ev.Duration, span, first.AU.PTS, last.AU.PTS)
	}
	if p := r.probe(t, ev, span-frame); p.Duration > span+frame {
		t.Fatalf("the clip's file plays %v, want %v", p.Duration, span)
	}
	if ev.Width != relaytest.Width || ev.Height != relaytest.Height || ev.Bytes == 0 {
		t.Fatalf("clip evidence %+v", ev)
	}
	if _, err := os.Stat(r.store.PartialClipPath(f.ID)); !os.IsNotExist(err) {
		t.Fatalf("partial file left behind: %v", err)
	}
}

func TestRecordEndsIncompleteWhenTheStreamDrops(t *testing.T) {
	r := newRig(t)
	const before, after = 2 * time.Second, 20 * time.Second
	rec := NewRecorder(context.Background(), RecorderOptions{
		Sources: r.sources, Buffers: r.buffers, Store: r.store, Before: before, After: after,
	})
	defer rec.Close()
	r.watch(t, doff1, before+time.Second)
	observed := time.Now()
	f := r.finding(t, observed)
	if err := rec.Record(f.ID, doff1, observed); err != nil {
		t.Fatal(err)
	}
	r.relay.Restart(t)

	ev := r.filed(t, f.ID, within)
	if ev.State != "incomplete" {
		t.Fatalf("clip %+v, want incomplete", ev)
	}
	// What was recorded plays: the pre-roll at least.
	r.probe(t, ev, before)
	events, err := r.store.Events(context.Background(), f.ID)
	if err != nil || events[len(events)-1].Action != "clip_incomplete" {
		t.Fatalf("history %+v, %v", events, err)
	}
}

func TestRecorderCloseFilesClipsInProgress(t *testing.T) {
	r := newRig(t)
	rec := NewRecorder(context.Background(), RecorderOptions{
		Sources: r.sources, Buffers: r.buffers, Store: r.store, Before: 2 * time.Second, After: time.Minute,
	})
	r.watch(t, doff1, 2*time.Second)
	observed := time.Now()
	f := r.finding(t, observed)
	if err := rec.Record(f.ID, doff1, observed); err != nil {
		t.Fatal(err)
	}
	closed := make(chan struct{})
	go func() { rec.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(within):
		t.Fatal("Close did not return")
	}
	if ev := r.filed(t, f.ID, 0); ev.State != "incomplete" {
		t.Fatalf("clip %+v after Close, want incomplete", ev)
	}
	if err := rec.Record("another", doff1, observed); !errors.Is(err, ErrClosed) {
		t.Fatalf("Record after Close: %v", err)
	}
}

func TestRecordWithoutVideoFilesIncomplete(t *testing.T) {
	r := newRig(t)
	r.relay.SetOnline(t, "site-01/doff1", false)
	rec := NewRecorder(context.Background(), RecorderOptions{
		Sources: r.sources, Buffers: r.buffers, Store: r.store, Before: time.Second, After: time.Second, Grace: 500 * time.Millisecond,
	})
	defer rec.Close()
	observed := time.Now()
	f := r.finding(t, observed)
	if err := rec.Record(f.ID, doff1, observed); err != nil {
		t.Fatal(err)
	}
	ev := r.filed(t, f.ID, within)
	if ev.State != "incomplete" || ev.File != "" {
		t.Fatalf("clip %+v of a camera without video, want incomplete and no file", ev)
	}
	entries, _ := os.ReadDir(filepath.Dir(r.store.PartialClipPath(f.ID)))
	if len(entries) != 0 {
		t.Fatalf("left in partial/: %v", entries)
	}
}
