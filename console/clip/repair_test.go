package clip

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/internal/smallfs"
)

// writeClip writes every unit of the test stream to a closed clip at path.
func writeClip(t *testing.T, path string) {
	t.Helper()
	if err := record(t, path, units(t)).Close(); err != nil {
		t.Fatal(err)
	}
}

func TestRepair(t *testing.T) {
	dir := t.TempDir()
	whole := filepath.Join(dir, "whole.mp4")
	writeClip(t, whole)
	data, err := os.ReadFile(whole)
	if err != nil {
		t.Fatal(err)
	}
	// The header alone: ftyp and moov, before the first moof.
	header := data[:bytes.Index(data, []byte("moof"))-4]
	cases := []struct {
		name      string
		data      []byte
		fragments int
		duration  time.Duration
		cut       int64
		err       error
	}{
		{"a whole clip", data, 6, 6 * time.Second, 0, nil},
		{"a fragment cut short", append(append([]byte(nil), data...), data[len(header):len(header)+300]...), 6, 6 * time.Second, 300, nil},
		{"the header alone", header, 0, 0, 0, nil},
		{"a header cut short", header[:len(header)-10], 0, 0, 0, ErrNotClip},
		{"no clip at all", []byte("half a clip"), 0, 0, 0, ErrNotClip},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, c.name+".mp4")
			if err := os.WriteFile(path, c.data, 0o644); err != nil {
				t.Fatal(err)
			}
			info, err := Repair(path)
			after, _ := os.ReadFile(path)
			if c.err != nil {
				if !errors.Is(err, c.err) || !bytes.Equal(after, c.data) {
					t.Fatalf("Repair: %v, file changed %v; want %v and the file as it was", err, !bytes.Equal(after, c.data), c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if info.Fragments != c.fragments || info.Cut != c.cut || info.Bytes != int64(len(after)) || int64(len(after)) != int64(len(c.data))-c.cut {
				t.Fatalf("info %+v, file %d bytes; want %d fragments, %d bytes cut", info, len(after), c.fragments, c.cut)
			}
			if d := info.Duration - c.duration; d < -100*time.Millisecond || d > 100*time.Millisecond {
				t.Fatalf("duration %v, want %v", info.Duration, c.duration)
			}
			if info.Width != 320 || info.Height != 240 {
				t.Fatalf("picture %dx%d, want 320x240", info.Width, info.Height)
			}
			if c.fragments > 0 {
				if p := probe(t, path); p.Frames != len(units(t)) {
					t.Fatalf("ffprobe reads %d frames of the repaired clip, want all %d", p.Frames, len(units(t)))
				}
			}
		})
	}
}

// A clip whose disk fills mid-way ends at its last whole fragment, which
// plays, and says how much video that is.
func TestWriterOnAFullDisk(t *testing.T) {
	dir := smallfs.Mount(t, 2<<20)
	smallfs.Fill(t, dir, 200<<10) // two or three of its 70 KB fragments
	path := filepath.Join(dir, "clip.mp4")
	all := units(t)
	w, err := Create(path, all[0])
	if err != nil {
		t.Fatal(err)
	}
	var werr error
	for _, au := range all[1:] {
		if werr = w.Write(au); werr != nil {
			break
		}
	}
	if werr == nil {
		t.Fatal("the whole clip fitted in 200 KiB; the test needs a clip that fills the disk")
	}
	if err := w.Write(all[len(all)-1]); err == nil {
		t.Fatal("the writer went on after a failed write")
	}
	d := w.Duration()
	if err := w.Close(); err != nil {
		t.Fatalf("closing after the failed write: %v", err)
	}
	info, err := Repair(path)
	if err != nil {
		t.Fatal(err)
	}
	if off := info.Duration - d; info.Cut != 0 || info.Fragments == 0 || off < -time.Millisecond || off > time.Millisecond {
		t.Fatalf("the clip cut by the full disk: %+v, the writer's duration %v; want whole fragments only, as long as the writer says", info, d)
	}
	if p := probe(t, path); p.Frames == 0 || !p.FirstKeyframe {
		t.Fatalf("ffprobe: %+v", p)
	}
}
