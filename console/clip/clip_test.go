package clip

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/internal/avc"
	"github.com/qianliyan/qianliyan/internal/testmedia"
)

func units(t *testing.T) []avc.AccessUnit {
	t.Helper()
	u, err := testmedia.Units(testmedia.Spec{Width: 320, Height: 240, FPS: 15, GOP: 15, Seconds: 6})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestRingKeepsWholeGOPs(t *testing.T) {
	all := units(t)
	t0 := time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC)
	cases := []struct {
		name     string
		keep     time.Duration
		maxBytes int
		wantSpan [2]time.Duration // inclusive bounds on the kept span
	}{
		{"keeps at least 2 s", 2 * time.Second, 0, [2]time.Duration{2 * time.Second, 3 * time.Second}},
		{"keeps everything when asked for more", time.Minute, 0, [2]time.Duration{5 * time.Second, 6 * time.Second}},
		{"byte cap wins but keeps one GOP", time.Minute, 1, [2]time.Duration{0, time.Second}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := NewRing(c.keep, c.maxBytes)
			r.Push(Unit{AU: all[1], At: t0}) // not a keyframe: dropped
			for i, au := range all {
				r.Push(Unit{AU: au, At: t0.Add(au.PTS)})
				_ = i
			}
			n, bytes, span := r.Stats()
			if span < c.wantSpan[0] || span > c.wantSpan[1] {
				t.Fatalf("span %v, want %v..%v", span, c.wantSpan[0], c.wantSpan[1])
			}
			got := r.Since(time.Time{})
			if len(got) != n || !got[0].AU.Keyframe || bytes <= 0 {
				t.Fatalf("ring does not start at a keyframe (%d units, %d bytes)", n, bytes)
			}
		})
	}
}

func TestRingSince(t *testing.T) {
	all := units(t)
	t0 := time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC)
	r := NewRing(time.Minute, 0)
	for _, au := range all {
		r.Push(Unit{AU: au, At: t0.Add(au.PTS)})
	}
	got := r.Since(t0.Add(2500 * time.Millisecond))
	if !got[0].AU.Keyframe || got[0].At != t0.Add(2*time.Second) {
		t.Fatalf("Since(2.5 s) starts at %v keyframe=%v, want the keyframe at 2 s", got[0].At.Sub(t0), got[0].AU.Keyframe)
	}
	if got := r.Since(t0.Add(-time.Hour)); got[0].At != t0 {
		t.Fatalf("Since before the ring starts at %v", got[0].At.Sub(t0))
	}
}

// probe reads the file with ffprobe, as a player would.
func probe(t *testing.T, path string) testmedia.Probe {
	t.Helper()
	p, err := testmedia.ProbeFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// record writes all, from its keyframe, to a clip at path, left open.
func record(t *testing.T, path string, all []avc.AccessUnit) *Writer {
	t.Helper()
	w, err := Create(path, all[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, au := range all[1:] {
		if err := w.Write(au); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

func TestWriterMakesPlayableMP4(t *testing.T) {
	all := units(t)
	path := filepath.Join(t.TempDir(), "clip.mp4")
	w := record(t, path, all)
	if d := w.Duration(); d < 5900*time.Millisecond || d > 6100*time.Millisecond {
		t.Fatalf("duration %v, want 6 s", d)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	p := probe(t, path)
	if p.Codec != "h264" || p.Width != 320 || p.Height != 240 || p.Frames != len(all) || !p.FirstKeyframe {
		t.Fatalf("ffprobe: %+v", p)
	}
	if p.Duration < 5900*time.Millisecond || p.Duration > 6100*time.Millisecond {
		t.Fatalf("ffprobe duration %v", p.Duration)
	}
}

func TestWriterCutShortStillPlays(t *testing.T) {
	all := units(t)
	path := filepath.Join(t.TempDir(), "clip.mp4")
	w, err := Create(path, all[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, au := range all[1:40] {
		w.Write(au)
	}
	// No Close: the console died mid-clip. What reached the file plays.
	data, err := os.ReadFile(path)
	if err != nil || len(data) == 0 {
		t.Fatalf("nothing written before close: %v", err)
	}
	if n := probe(t, path).Frames; n < 30 {
		t.Fatalf("%d frames survive, want the two whole GOPs (30)", n)
	}
	w.f.Close()
}

func TestCreateRefusesBadStarts(t *testing.T) {
	all := units(t)
	dir := t.TempDir()
	if _, err := Create(filepath.Join(dir, "a.mp4"), all[1]); err != ErrNoKeyframe {
		t.Fatalf("a P frame start: %v", err)
	}
	bare := avc.AccessUnit{NALUs: all[0].NALUs[len(all[0].NALUs)-1:], Keyframe: true}
	if _, err := Create(filepath.Join(dir, "b.mp4"), bare); err != ErrNoKeyframe {
		t.Fatalf("a keyframe without SPS/PPS: %v", err)
	}
	w, err := Create(filepath.Join(dir, "c.mp4"), all[0])
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	if _, err := Create(filepath.Join(dir, "c.mp4"), all[0]); err == nil {
		t.Fatal("an existing clip was overwritten")
	}
}
