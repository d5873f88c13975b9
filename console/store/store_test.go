package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

var jpeg = []byte{0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 0xff, 0xd9}

func open(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func flag() Flag {
	at := time.Date(2026, 11, 24, 3, 12, 45, 120e6, time.UTC)
	return Flag{
		Site: "site-01", Camera: "doff1", Zone: "doffing_room_1",
		TemplateID: "ppe-doffing", TemplateVersion: 1, Step: "hh-after-goggles",
		Deviation: "missed_hand_hygiene", DeviationText: "步骤间漏做手卫生", Severity: "major",
		Observer: "duty", ObservedAt: at, Deadline: at.Add(48 * time.Hour),
		Snapshot: jpeg, SnapshotW: 640, SnapshotH: 360, RecordClip: true,
	}
}

func TestCreateCommitsFindingSnapshotAndOutbox(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir())
	f, err := s.Create(ctx, flag())
	if err != nil {
		t.Fatal(err)
	}
	if len(f.ID) != 36 || f.ID[14] != '7' {
		t.Fatalf("id %q is not a UUIDv7", f.ID)
	}
	if f.Status != "open" || f.Revision != 1 || f.Clip == nil || f.Clip.State != "recording" {
		t.Fatalf("got %+v", f)
	}
	sum := sha256.Sum256(jpeg)
	if f.Snapshot == nil || f.Snapshot.File != hex.EncodeToString(sum[:])+".jpg" || f.Snapshot.Width != 640 {
		t.Fatalf("snapshot %+v", f.Snapshot)
	}
	path, _ := s.EvidencePath(f.Snapshot.File)
	if b, err := os.ReadFile(path); err != nil || string(b) != string(jpeg) {
		t.Fatalf("snapshot file: %v", err)
	}
	if n, _ := s.PendingOutbox(ctx); n != 1 {
		t.Fatalf("%d outbox entries, want 1", n)
	}
	list, err := s.List(ctx, time.Time{}, 0)
	if err != nil || len(list) != 1 || list[0].ID != f.ID || !list[0].ObservedAt.Equal(flag().ObservedAt) {
		t.Fatalf("list %+v %v", list, err)
	}
}

func TestCreateRejectsBadInput(t *testing.T) {
	s := open(t, t.TempDir())
	cases := []struct {
		name   string
		change func(*Flag)
		want   string
	}{
		{"no site", func(f *Flag) { f.Site = "" }, "site missing"},
		{"bad severity", func(f *Flag) { f.Severity = "urgent" }, `severity "urgent"`},
		{"no deadline", func(f *Flag) { f.Deadline = time.Time{} }, "deadline are required"},
		{"snapshot not a JPEG", func(f *Flag) { f.Snapshot = []byte("PNG") }, "not a JPEG"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := flag()
			c.change(&f)
			_, err := s.Create(context.Background(), f)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want ErrInvalid with %q", err, c.want)
			}
		})
	}
	if list, _ := s.List(context.Background(), time.Time{}, 0); len(list) != 0 {
		t.Fatalf("a refused flag left %d rows", len(list))
	}
}

func TestEditWithdrawAndHistory(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir())
	f, _ := s.Create(ctx, flag())
	note, sev := "gloves not changed either", "critical"
	f, err := s.Update(ctx, f.ID, "duty", Edit{Note: &note, Severity: &sev})
	if err != nil || f.Note != note || f.Severity != sev || f.Revision != 2 {
		t.Fatalf("update: %+v %v", f, err)
	}
	bad := "urgent"
	if _, err := s.Update(ctx, f.ID, "duty", Edit{Severity: &bad}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad severity: %v", err)
	}
	if _, err := s.Withdraw(ctx, f.ID, "duty", " "); !errors.Is(err, ErrInvalid) {
		t.Fatalf("withdraw without reason: %v", err)
	}
	f, err = s.Withdraw(ctx, f.ID, "duty", "wrong camera")
	if err != nil || f.Status != "withdrawn" || f.StatusNote != "wrong camera" {
		t.Fatalf("withdraw: %+v %v", f, err)
	}
	evs, err := s.Events(ctx, f.ID)
	if err != nil || len(evs) != 3 || evs[0].Action != "flagged" || evs[2].Action != "withdrawn" {
		t.Fatalf("history %+v %v", evs, err)
	}
	if n, _ := s.PendingOutbox(ctx); n != 3 {
		t.Fatalf("%d outbox entries, want one a change (3)", n)
	}
	if _, err := s.Update(ctx, "nope", "duty", Edit{Note: &note}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
}

func TestEditRefusedOnceForwarded(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir())
	f, _ := s.Create(ctx, flag())
	if _, err := s.db.Exec(`UPDATE outbox SET sent_at = '2026-11-24T03:13:00.000Z'`); err != nil {
		t.Fatal(err)
	}
	note := "late"
	if _, err := s.Update(ctx, f.ID, "duty", Edit{Note: &note}); !errors.Is(err, ErrForwarded) {
		t.Fatalf("got %v, want ErrForwarded", err)
	}
}

func TestClipFinishAndCrashRecovery(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := open(t, dir)
	done, _ := s.Create(ctx, flag())
	os.WriteFile(s.PartialClipPath(done.ID), []byte("whole clip"), 0o644)
	starts := flag().ObservedAt.Add(-20 * time.Second)
	if err := s.FinishClip(ctx, done.ID, true, starts, 30*time.Second, 640, 360); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Get(ctx, done.ID)
	if got.Clip.State != "complete" || got.Clip.Duration != 30*time.Second || !strings.HasSuffix(got.Clip.File, ".mp4") || !got.Clip.StartsAt.Equal(starts) {
		t.Fatalf("clip %+v", got.Clip)
	}
	if _, err := os.Stat(s.PartialClipPath(done.ID)); !os.IsNotExist(err) {
		t.Fatal("the partial file was left behind")
	}

	// Two flags whose clips were recording when the console died: one had
	// written part of its file, the other nothing yet.
	cut, _ := s.Create(ctx, flag())
	os.WriteFile(s.PartialClipPath(cut.ID), []byte("half a clip"), 0o644)
	empty, _ := s.Create(ctx, flag())
	s.Close()

	s2 := open(t, dir)
	n, err := s2.RecoverClips(ctx)
	if err != nil || n != 2 {
		t.Fatalf("recovered %d, %v", n, err)
	}
	for id, wantFile := range map[string]bool{cut.ID: true, empty.ID: false} {
		f, err := s2.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if f.Clip.State != "incomplete" || (f.Clip.File != "") != wantFile || f.Snapshot == nil {
			t.Fatalf("after the crash: %+v", f.Clip)
		}
		if wantFile {
			p, _ := s2.EvidencePath(f.Clip.File)
			if b, _ := os.ReadFile(p); string(b) != "half a clip" {
				t.Fatalf("clip content %q", b)
			}
		}
	}
	if n, _ := s2.RecoverClips(ctx); n != 0 {
		t.Fatalf("recovered %d clips twice", n)
	}
	if _, err := s2.EvidencePath("../console.db"); err == nil {
		t.Fatal("an evidence name escaped the folder")
	}
}

func TestFlagDetailAndEvidenceFile(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir())
	fl := flag()
	fl.Detail = map[string]any{"observed_at_from": "flag_time"}
	f, err := s.Create(ctx, fl)
	if err != nil {
		t.Fatal(err)
	}
	events, err := s.Events(ctx, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || events[0].Action != "flagged" || string(events[0].Detail) != `{"observed_at_from":"flag_time"}` {
		t.Fatalf("events %+v", events)
	}

	ev, err := s.EvidenceFile(ctx, f.Snapshot.File)
	if err != nil || ev.Kind != "snapshot" || ev.Bytes != int64(len(jpeg)) || ev.Width != 640 {
		t.Fatalf("snapshot by file: %+v, %v", ev, err)
	}
	for _, name := range []string{"", "nope.jpg", "../console.db"} {
		if _, err := s.EvidenceFile(ctx, name); !errors.Is(err, ErrNotFound) {
			t.Errorf("EvidenceFile(%q): %v, want ErrNotFound", name, err)
		}
	}
}

func TestEvidenceJSONInMilliseconds(t *testing.T) {
	ev := Evidence{Kind: "clip", State: "complete", File: "a.mp4", Duration: 4200 * time.Millisecond}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"duration_ms":4200`) || strings.Count(string(b), "duration_ms") != 1 {
		t.Fatalf("JSON %s", b)
	}
	var back Evidence
	if err := json.Unmarshal(b, &back); err != nil || back != ev {
		t.Fatalf("read back %+v, %v", back, err)
	}
}
