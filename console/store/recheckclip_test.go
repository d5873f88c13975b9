package store

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/console/clip"
	"github.com/qianliyan/qianliyan/internal/testmedia"
)

// A re-check's clip a crash left recording is filed at the next start as
// a finding's is: incomplete, from what its file holds, and queued for
// the relay after the change it documents, with that change's revision.
func TestRecoveredRecheckClip(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := open(t, dir)
	fl := flag()
	fl.RecordClip = false // the finding's own clip is another test's
	f, err := s.Create(ctx, fl)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := s.Outbox(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if err := s.MarkSent(ctx, e.Seq); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.ApplyRelayChanges(ctx, "http://relay", 2, []RelayChange{{Cursor: 2, FindingID: f.ID, Status: "rectified",
		Event: RelayEvent{At: time.Now(), Actor: "mgr", Role: "site_manager", Action: "rectify", Detail: json.RawMessage(`{}`)}}}); err != nil {
		t.Fatal(err)
	}
	verified, event, err := s.Recheck(ctx, RecheckChange{ID: f.ID, Actor: "wang", Note: "复核无误",
		Clip: &RecheckClip{Site: "site-01", Camera: "doff1", Stream: "main"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(verified.Rechecks) != 1 || verified.Rechecks[0].Clip == nil || verified.Rechecks[0].Clip.State != "recording" || verified.Rechecks[0].File != "" {
		t.Fatalf("verified: re-checks %+v, want one with no snapshot and its clip recording", verified.Rechecks)
	}
	units, err := testmedia.Units(testmedia.Spec{Width: 320, Height: 240, FPS: 15, GOP: 15, Seconds: 2})
	if err != nil {
		t.Fatal(err)
	}
	w, err := clip.Create(s.PartialClipPath(RecheckClipID(event)), units[0])
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
	s.Close()

	s2 := open(t, dir)
	if n, err := s2.RecoverClips(ctx); err != nil || n != 1 {
		t.Fatalf("recovered %d, %v", n, err)
	}
	rc, err := s2.RecheckClipOf(ctx, event)
	if err != nil {
		t.Fatal(err)
	}
	if rc.State != "incomplete" || rc.File == "" || rc.Width != 320 || rc.Duration < 1900*time.Millisecond || rc.Camera != "site-01/doff1" || rc.Revision != verified.Revision {
		t.Fatalf("recovered re-check clip %+v; want incomplete, 320 wide, 2 s of site-01/doff1, revision %d", rc, verified.Revision)
	}
	if _, err := s2.RecheckEvidenceFile(ctx, rc.File); err != nil {
		t.Fatalf("the recovered clip by its file name: %v", err)
	}
	pending, err := s2.Outbox(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range pending {
		kinds = append(kinds, e.Kind)
		if e.Kind == OutboxRecheckClip && (e.EventID != event || e.Revision != verified.Revision) {
			t.Errorf("the clip's outbox entry %+v, want event %d revision %d", e, event, verified.Revision)
		}
	}
	if len(kinds) != 2 || kinds[0] != OutboxFinding || kinds[1] != OutboxRecheckClip {
		t.Fatalf("outbox %v, want the verify then its clip", kinds)
	}
	got, err := s2.Get(ctx, f.ID)
	if err != nil || len(got.Rechecks) != 1 || got.Rechecks[0].Clip == nil || got.Rechecks[0].Clip.File != rc.File || got.Rechecks[0].Action != "verified" {
		t.Fatalf("after the recovery: re-checks %+v, %v", got.Rechecks, err)
	}
}
