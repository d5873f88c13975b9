package findings_test

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/console/clip"
	"github.com/qianliyan/qianliyan/console/evidence"
	"github.com/qianliyan/qianliyan/console/findings/findingstest"
	"github.com/qianliyan/qianliyan/console/store"
	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/internal/fault"
	"github.com/qianliyan/qianliyan/internal/smallfs"
	"github.com/qianliyan/qianliyan/internal/testmedia"
)

// With the console's data disk full, a flag is refused for that reason,
// which the officer is shown; every flag accepted before keeps its
// evidence consistent: once space returns its clip is filed, file, record
// and outbox entry agreeing, playable up to where the disk cut it.
func TestFullDiskKeepsEveryAcceptedFindingsEvidence(t *testing.T) {
	dir := smallfs.Mount(t, 8<<20)
	var rec *evidence.Recorder
	r := findingstest.NewWith(t, findingstest.Options{}, findingstest.Parts{DataDir: dir, Clips: func(c *evidence.Recorder) { rec = c }})
	var mu sync.Mutex
	var disk []store.Disk
	r.Store.OnDisk(func(d store.Disk) {
		mu.Lock()
		defer mu.Unlock()
		disk = append(disk, d)
	})
	v := r.Watch(t, findingstest.Doff1, findingstest.ClipBefore+findingstest.ClipAfter)

	// Three flags while there is room; then the disk fills to the last
	// byte while their clips record on, and three more flags.
	var accepted []store.Finding
	for i := range 3 {
		f, err := r.Findings.Flag(ctx, flagRequest(v.OnScreen(t).PTS, snapshot(t, 320, 240, uint8(i))))
		if err != nil {
			t.Fatalf("flag %d with room on the disk: %v", i, err)
		}
		accepted = append(accepted, f)
	}
	filler := smallfs.Fill(t, dir, 0)
	for i := range 3 {
		_, err := r.Findings.Flag(ctx, flagRequest(v.OnScreen(t).PTS, snapshot(t, 320, 240, uint8(10+i))))
		if e := fault.As(err); e == nil || e.Kind != fault.InsufficientStorage || e.Code != store.CodeDiskFull || e.Message == "" {
			t.Fatalf("flag %d on the full disk: %v (%+v), want a fault InsufficientStorage (507) %s", i, err, e, store.CodeDiskFull)
		}
	}
	mu.Lock()
	filled := len(disk) > 0 && disk[len(disk)-1].Full
	mu.Unlock()
	if !filled {
		t.Fatalf("the store's disk changes %+v: want it found full", disk)
	}

	// The clips are cut by the full disk, and cannot be filed until space
	// returns.
	eventually.True(t, findingstest.Within, "every clip cut", func() bool {
		recording, _ := rec.Pending()
		return recording == 0
	})
	if _, unfiled := rec.Pending(); unfiled == 0 {
		t.Fatal("every clip was filed on the full disk: the test needs their filing refused")
	}
	filler.Free(t)
	eventually.True(t, findingstest.Within, "every clip filed once space returned", func() bool {
		_, unfiled := rec.Pending()
		return unfiled == 0
	})

	// A flag now goes through, with room for its snapshot: the disk is
	// found to have room again.
	f, err := r.Findings.Flag(ctx, flagRequest(v.OnScreen(t).PTS, snapshot(t, 320, 240, 99)))
	if err != nil {
		t.Fatalf("flag once space returned: %v", err)
	}
	r.WaitClip(t, f.ID, findingstest.Within)
	accepted = append(accepted, f)
	mu.Lock()
	if last := disk[len(disk)-1]; last.Full {
		t.Errorf("the disk still reads full after a flag wrote its snapshot: %+v", disk)
	}
	mu.Unlock()

	db := r.DB(t)
	for _, f := range accepted {
		consistent(t, r, db, f.ID)
	}
	if left, _ := os.ReadDir(filepath.Join(dir, "evidence", "partial")); len(left) != 0 {
		t.Errorf("recordings left unfiled in partial/: %v", left)
	}
}

// consistent checks a finding's evidence: its snapshot on disk; its clip
// filed, its file (if any) on disk with the hash and size recorded, ending
// at a whole fragment and playable, an incomplete one saying why; one
// outbox entry for the clip.
func consistent(t *testing.T, r *findingstest.Rig, db *sql.DB, id string) {
	t.Helper()
	f, err := r.Store.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := r.Store.EvidencePath(f.Snapshot.File); err != nil || !exists(p) {
		t.Errorf("%s: snapshot %+v not on disk", id, f.Snapshot)
	}
	c := f.Clip
	switch c.State {
	case "complete", "incomplete":
	default:
		t.Errorf("%s: clip %+v, want it filed", id, c)
		return
	}
	if c.State == "incomplete" {
		if reason := clipReason(t, r, id); reason == "" {
			t.Errorf("%s: incomplete clip %+v with no reason in its history", id, c)
		}
	}
	if c.File == "" {
		if c.State == "complete" {
			t.Errorf("%s: complete clip without a file: %+v", id, c)
		}
	} else {
		path, err := r.Store.EvidencePath(c.File)
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%s: clip %+v: %v", id, c, err)
			return
		}
		sum := sha256.Sum256(data)
		if hex.EncodeToString(sum[:]) != c.SHA256 || int64(len(data)) != c.Bytes {
			t.Errorf("%s: clip file of %d bytes, sha256 %x; the record says %d, %s", id, len(data), sum, c.Bytes, c.SHA256)
		}
		info, err := clip.Inspect(path)
		if err != nil || info.Cut != 0 {
			t.Errorf("%s: clip file %+v, %v: want it to end at a whole fragment", id, info, err)
		}
		if info.Fragments > 0 {
			if p, err := testmedia.ProbeFile(path); err != nil || p.Frames == 0 || !p.FirstKeyframe {
				t.Errorf("%s: clip does not play: %+v, %v", id, p, err)
			}
		}
		if d := info.Duration - c.Duration; d < -time.Millisecond || d > time.Millisecond || c.StartsAt.IsZero() {
			t.Errorf("%s: clip recorded as %v from %v, its file holds %v", id, c.Duration, c.StartsAt, info.Duration)
		}
	}
	if n := findingstest.Count(t, db, `SELECT count(*) FROM outbox WHERE finding_id = ? AND kind = 'evidence'`, id); n != 1 {
		t.Errorf("%s: %d outbox entries for its clip, want 1", id, n)
	}
}

// clipReason is why the finding's clip is incomplete, from its history.
func clipReason(t *testing.T, r *findingstest.Rig, id string) string {
	t.Helper()
	events, err := r.Store.Events(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range events {
		if ev.Action == "clip_incomplete" {
			var d struct {
				Reason string `json:"reason"`
			}
			if err := json.Unmarshal(ev.Detail, &d); err != nil {
				t.Fatal(err)
			}
			return d.Reason
		}
	}
	return ""
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
