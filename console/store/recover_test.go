package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/console/clip"
	"github.com/qianliyan/qianliyan/internal/smallfs"
	"github.com/qianliyan/qianliyan/internal/testmedia"
)

// A clip left recording by a crash, its last fragment half written, is
// filed from its file: cut to its last whole fragment, with the duration,
// size, picture and start the file gives.
func TestRecoveredClipIsReadFromItsFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := open(t, dir)
	f, err := s.Create(ctx, flag())
	if err != nil {
		t.Fatal(err)
	}
	units, err := testmedia.Units(testmedia.Spec{Width: 320, Height: 240, FPS: 15, GOP: 15, Seconds: 4})
	if err != nil {
		t.Fatal(err)
	}
	path := s.PartialClipPath(f.ID)
	w, err := clip.Create(path, units[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, au := range units[1:] {
		if err := w.Write(au); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	whole, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// The crash came in the middle of writing one more fragment.
	first := bytes.Index(whole, []byte("moof")) - 4
	half := whole[first : first+300]
	if err := os.WriteFile(path, append(append([]byte(nil), whole...), half...), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	s2 := open(t, dir)
	if n, err := s2.RecoverClips(ctx); err != nil || n != 1 {
		t.Fatalf("recovered %d, %v", n, err)
	}
	got, err := s2.Get(ctx, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	c := got.Clip
	wantStart := st.ModTime().Add(-4 * time.Second)
	if c.State != "incomplete" || c.Bytes != int64(len(whole)) || c.Width != 320 || c.Height != 240 ||
		c.Duration < 3990*time.Millisecond || c.Duration > 4010*time.Millisecond ||
		c.StartsAt.Sub(wantStart).Abs() > 10*time.Millisecond {
		t.Fatalf("recovered clip %+v; want incomplete, %d bytes, 320x240, 4 s from %v", c, len(whole), wantStart)
	}
	p, err := s2.EvidencePath(c.File)
	if err != nil {
		t.Fatal(err)
	}
	if probe, err := testmedia.ProbeFile(p); err != nil || probe.Frames != len(units) {
		t.Fatalf("the recovered clip plays %+v, %v; want all %d frames", probe, err, len(units))
	}
	events, err := s2.Events(ctx, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	var reason string
	for _, ev := range events {
		if ev.Action == "clip_incomplete" {
			var d struct {
				Reason string `json:"reason"`
			}
			if err := json.Unmarshal(ev.Detail, &d); err != nil {
				t.Fatal(err)
			}
			reason = d.Reason
		}
	}
	if !strings.Contains(reason, "stopped while the clip was being recorded") || !strings.Contains(reason, "300 bytes") {
		t.Fatalf("reason %q: want the crash and the cut fragment", reason)
	}
}

// A start on a full disk cannot file the clips the last run left: it says
// the disk is full and leaves each as it was, its file kept, to be filed
// at a start with room (the console starts all the same).
func TestRecoverClipsOnAFullDisk(t *testing.T) {
	ctx := context.Background()
	dir := smallfs.Mount(t, 4<<20)
	s := open(t, dir)
	f, err := s.Create(ctx, flag())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.PartialClipPath(f.ID), []byte("half a clip"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.Close()

	// The database opens while there is room (it cannot open on a disk
	// with none: its journal's index is a new file), then the disk fills.
	s2 := open(t, dir)
	filler := smallfs.Fill(t, dir, 0)
	if _, err := s2.RecoverClips(ctx); !errors.Is(err, ErrDiskFull) {
		t.Fatalf("recovering on the full disk: %v, want ErrDiskFull", err)
	}
	if got, _ := s2.Get(ctx, f.ID); got.Clip.State != "recording" {
		t.Fatalf("clip %+v after the refused filing, want it left recording", got.Clip)
	}
	if _, err := os.Stat(s2.PartialClipPath(f.ID)); err != nil {
		t.Fatalf("the recording's file: %v", err)
	}
	filler.Free(t)
	if n, err := s2.RecoverClips(ctx); err != nil || n != 1 {
		t.Fatalf("recovering with room: %d, %v", n, err)
	}
	if got, _ := s2.Get(ctx, f.ID); got.Clip.State != "incomplete" || got.Clip.File == "" {
		t.Fatalf("clip %+v, want it filed with its file", got.Clip)
	}
}
