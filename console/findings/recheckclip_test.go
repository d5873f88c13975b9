package findings_test

import (
	"encoding/base64"
	"path/filepath"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/console/clip"
	"github.com/qianliyan/qianliyan/console/findings"
	"github.com/qianliyan/qianliyan/console/findings/findingstest"
	"github.com/qianliyan/qianliyan/console/store"
	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/internal/fault"
)

// A verify or reopen made on a camera records the clip around the frame on
// screen, as a flag does, and keeps it as that re-check's: a finding
// reopened and then verified keeps both clips, each queued for the relay
// once filed, after the change it documents. A camera that is not the
// finding's site's, not the relay's, or named without its frame is
// refused with nothing changed.
func TestRecheckRecordsItsClip(t *testing.T) {
	r := findingstest.New(t, findingstest.Options{})
	v := r.Watch(t, findingstest.Doff1, findingstest.ClipBefore+time.Second)
	f := r.Create(t, "漏做手卫生", 48*time.Hour)
	r.Rectified(t, f, 7)

	on := func(pts time.Duration, note string) findings.Recheck {
		us := pts.Microseconds()
		return findings.Recheck{Note: note, Camera: "site-01/doff1", Stream: "main", PTS: &us,
			Snapshot: base64.StdEncoding.EncodeToString(snapshot(t, 320, 240, 3)), SnapshotWidth: 320, SnapshotHeight: 240}
	}
	frame := v.OnScreen(t)
	for _, c := range []struct {
		name   string
		change func(*findings.Recheck)
		want   refusal
	}{
		{"another site's camera", func(in *findings.Recheck) { in.Camera = "site-02/doff1" }, refusal{fault.Invalid, "invalid_field", "camera"}},
		{"unknown camera", func(in *findings.Recheck) { in.Camera = "site-01/nope" }, refusal{fault.Invalid, "unknown_camera", "camera"}},
		{"bad stream", func(in *findings.Recheck) { in.Stream = "hd" }, refusal{fault.Invalid, "invalid_field", "stream"}},
		{"no pts", func(in *findings.Recheck) { in.PTS = nil }, refusal{fault.Invalid, "invalid_field", "pts_us"}},
		{"a frame without its camera", func(in *findings.Recheck) { in.Camera = "" }, refusal{fault.Invalid, "invalid_field", "camera"}},
	} {
		in := on(frame.PTS, "x")
		c.change(&in)
		_, err := r.Findings.Verify(ctx, f.ID, in)
		refusal.check(c.want, t, c.name, err)
	}
	if got, _ := r.Store.Get(ctx, f.ID); got.Status != "rectified" || len(got.Rechecks) != 0 {
		t.Fatalf("after the refusals: %s, re-checks %+v", got.Status, got.Rechecks)
	}

	// waitClip waits until the re-check's clip (the n-th re-check) is filed.
	waitClip := func(n int) store.RecheckFile {
		t.Helper()
		var rc store.RecheckFile
		eventually.True(t, findingstest.ClipAfter+findingstest.Within, "the re-check's clip filed", func() bool {
			got, err := r.Store.Get(ctx, f.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Rechecks) <= n || got.Rechecks[n].Clip == nil {
				t.Fatalf("re-checks %+v: no clip for re-check %d", got.Rechecks, n)
			}
			rc = got.Rechecks[n]
			return rc.Clip.State != "recording"
		})
		return rc
	}

	reopened, err := r.Findings.Reopen(ctx, f.ID, on(frame.PTS, "still no hand hygiene"))
	if err != nil {
		t.Fatal(err)
	}
	if len(reopened.Rechecks) != 1 || reopened.Rechecks[0].Clip == nil || reopened.Rechecks[0].Clip.State != "recording" || reopened.Rechecks[0].Action != "reopened" {
		t.Fatalf("reopened: re-checks %+v, want one with its clip recording", reopened.Rechecks)
	}
	first := waitClip(0)
	r.Rectified(t, f, 9)
	verified, err := r.Findings.Verify(ctx, f.ID, on(v.OnScreen(t).PTS, "fine now"))
	if err != nil {
		t.Fatal(err)
	}
	if verified.Status != "verified" || len(verified.Rechecks) != 2 {
		t.Fatalf("verified: %s, re-checks %+v", verified.Status, verified.Rechecks)
	}
	second := waitClip(1)

	for i, rc := range []store.RecheckFile{first, second} {
		c := rc.Clip
		if c.State != "complete" || c.File == "" || c.Width != 320 || c.Height != 240 || c.Duration < findingstest.ClipBefore {
			t.Fatalf("re-check %d's clip %+v, want a complete 320x240 one of at least the pre-roll", i, c)
		}
		if info, err := clip.Inspect(filepath.Join(r.DataDir, "evidence", c.File)); err != nil || info.Frames == 0 || !info.KeyframeFirst || info.Cut != 0 {
			t.Fatalf("re-check %d's clip file: %+v, %v; want whole fragments of frames from a keyframe", i, info, err)
		}
		// The view fetches it by its name, as the finding's own.
		ev, err := r.Findings.Evidence(ctx, c.File)
		if err != nil {
			t.Fatalf("re-check %d's clip as the view asks for it: %v", i, err)
		}
		ev.File.Close()
	}
	// A re-check on a camera the console no longer receives (doff2 is
	// offline: its tile would keep its last picture) is not refused: its
	// clip is filed incomplete, saying why.
	g := r.Create(t, "未戴护目镜", 48*time.Hour)
	r.Rectified(t, g, 11)
	us := frame.PTS.Microseconds()
	other, err := r.Findings.Verify(ctx, g.ID, findings.Recheck{Note: "seen on doff2", Camera: "site-01/doff2", Stream: "main", PTS: &us})
	if err != nil || other.Status != "verified" {
		t.Fatalf("a re-check on a camera not received: %v %+v", err, other)
	}
	eventually.True(t, findingstest.ClipAfter+findingstest.Within, "the clip of the re-check on doff2 filed", func() bool {
		got, err := r.Store.Get(ctx, g.ID)
		if err != nil || len(got.Rechecks) != 1 || got.Rechecks[0].Clip == nil {
			t.Fatalf("re-checks of the finding verified on doff2: %+v %v", got.Rechecks, err)
		}
		return got.Rechecks[0].Clip.State == "incomplete"
	})
	if n := findingstest.Count(t, r.DB(t), `SELECT count(*) FROM finding_events WHERE finding_id = ? AND action = 'recheck_clip_incomplete'
		AND json_extract(detail, '$.reason') != ''`, g.ID); n != 1 {
		t.Errorf("%d history entries saying why the clip on doff2 is incomplete, want 1", n)
	}

	if first.Clip.File == second.Clip.File {
		t.Errorf("both re-checks have the clip %s", first.Clip.File)
	}
	db := r.DB(t)
	if n := findingstest.Count(t, db, `SELECT count(*) FROM recheck_clips WHERE finding_id = ? AND camera = 'doff1' AND state = 'complete'`, f.ID); n != 2 {
		t.Errorf("%d complete re-check clips of doff1, want 2", n)
	}
	// Each queued once filed, after its re-check's change and snapshot.
	if n := findingstest.Count(t, db, `SELECT count(*) FROM outbox c WHERE c.finding_id = ? AND c.kind = 'recheck_clip'
		AND c.seq > (SELECT seq FROM outbox s WHERE s.kind = 'recheck' AND s.event_id = c.event_id)
		AND c.revision = (SELECT revision FROM outbox a WHERE a.kind = 'finding' AND a.event_id = c.event_id)`, f.ID); n != 2 {
		t.Errorf("%d re-check clips queued after their change, want 2", n)
	}
}
