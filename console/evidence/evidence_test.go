package evidence

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/console/media"
	"github.com/qianliyan/qianliyan/console/mediatest"
	"github.com/qianliyan/qianliyan/console/relayclient/relayclienttest"
	"github.com/qianliyan/qianliyan/console/store"
	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/internal/testmedia"
	"github.com/qianliyan/qianliyan/relay/relaytest"
)

// within bounds anything a test waits for: it only catches a hang.
const within = eventually.Ceiling

// jitter is how much shorter in media time than in arrival time a clip may
// come out: units are cut by when they arrived, which on a loaded machine
// lags their timestamps by a few frames.
const jitter = 300 * time.Millisecond

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

func TestLocateMapsPresentationTimeToArrival(t *testing.T) {
	r := newRig(t)
	if _, err := r.buffers.Locate(doff1, 0); !errors.Is(err, ErrNotPulled) {
		t.Fatalf("a stream not pulled: %v", err)
	}
	v := r.watch(t, doff1, time.Second)
	au := v.OnScreen(t)
	seen := time.Now()
	at, err := r.buffers.Locate(doff1, au.PTS)
	if err != nil {
		t.Fatal(err)
	}
	if d := seen.Sub(at); d < 0 || d > time.Second {
		t.Fatalf("frame located at %v, %v before the viewer had it", at, d)
	}
	// Between two frames, the nearer one.
	near, err := r.buffers.Locate(doff1, au.PTS+time.Millisecond)
	if err != nil || !near.Equal(at) {
		t.Fatalf("a millisecond off: %v, %v; want %v", near, err, at)
	}
	for _, pts := range []time.Duration{au.PTS + time.Hour, -time.Hour} {
		if _, err := r.buffers.Locate(doff1, pts); !errors.Is(err, ErrNoFrame) {
			t.Errorf("pts %v: %v, want ErrNoFrame", pts, err)
		}
	}
	if _, err := r.buffers.Locate(media.Key{Site: "site-01", Camera: "doff1", Stream: "sub"}, au.PTS); !errors.Is(err, ErrNotPulled) {
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
	// From the keyframe at or before observed-before to observed+after, in
	// arrival time: in media time, as long less the network's jitter.
	p := r.probe(t, ev, before+after-jitter)
	if p.Duration > before+after+2*time.Second {
		t.Fatalf("clip of %v, want about %v plus up to a GOP", p.Duration, before+after)
	}
	if ev.StartsAt.After(observed.Add(-before)) || ev.StartsAt.Before(observed.Add(-before-1100*time.Millisecond)) {
		t.Fatalf("clip starts at %v, want the keyframe at or before %v (GOP 1 s)", ev.StartsAt, observed.Add(-before))
	}
	if ev.Width != relaytest.Width || ev.Height != relaytest.Height || ev.Duration < before+after-jitter || ev.Bytes == 0 {
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
