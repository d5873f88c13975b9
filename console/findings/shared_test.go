package findings_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/console/findings"
	"github.com/qianliyan/qianliyan/console/findings/findingstest"
	"github.com/qianliyan/qianliyan/console/relayclient"
	"github.com/qianliyan/qianliyan/console/relayclient/relayclienttest"
	"github.com/qianliyan/qianliyan/console/store"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// A file the relay lists for a finding another console filed is fetched by
// the console with its own token the first time the view asks for it,
// kept by its hash, and served from there after, the relay gone or not.
func TestRelayEvidenceFetchedOnceAndKept(t *testing.T) {
	ctx := context.Background()
	rig := findingstest.New(t, findingstest.Options{})
	other := relayclienttest.SignedIn(t, rig.Relay.URL(), rig.Relay.Demo().User, rig.Relay.Demo().Password)
	at := time.Now().Add(-time.Minute).UTC().Truncate(time.Millisecond)
	d := wire.Draft{ID: "elsewhere-1", Site: "site-01", Camera: "doff1", Zone: "doffing_room_1", DeviationText: "未戴护目镜", Severity: "major",
		Observer: "li", ObservedAt: at, FlaggedAt: at, Deadline: at.Add(time.Hour)}
	if _, _, err := other.FileFinding(ctx, d); err != nil {
		t.Fatal(err)
	}
	jpeg := findingstest.Snapshot(t, 32, 18, 9)
	sum := sha256.Sum256(jpeg)
	if _, _, err := other.PutEvidence(ctx, d.ID, relayclient.Upload{Kind: wire.EvidenceSnapshot, ContentType: "image/jpeg", SHA256: hex.EncodeToString(sum[:]),
		Open: func() (io.ReadCloser, int64, error) {
			return io.NopCloser(bytes.NewReader(jpeg)), int64(len(jpeg)), nil
		}}); err != nil {
		t.Fatal(err)
	}
	wf, err := other.Finding(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	s := wf.Evidence.Snapshot
	if _, err := rig.Store.Backfill(ctx, other.BaseURL(), []store.RelayFinding{{ID: d.ID, Site: d.Site, Camera: d.Camera, DeviationText: d.DeviationText,
		Severity: d.Severity, Observer: d.Observer, ObservedAt: at, FlaggedAt: at, Deadline: d.Deadline, Status: "open",
		Files: []store.RelayFile{{Name: s.Name, SHA256: s.SHA256, Bytes: s.Bytes, ContentType: s.ContentType}}}}); err != nil {
		t.Fatal(err)
	}
	kept, err := rig.Findings.Get(ctx, d.ID)
	if err != nil || kept.Origin != store.OriginRelay || kept.Snapshot == nil || kept.Observer != "li" {
		t.Fatalf("the copy: %+v, %v", kept.Finding, err)
	}
	read := func() []byte {
		t.Helper()
		ev, err := rig.Findings.Evidence(ctx, kept.Snapshot.File)
		if err != nil {
			t.Fatalf("the copy's snapshot: %v", err)
		}
		defer ev.File.Close()
		b, _ := io.ReadAll(ev.File)
		return b
	}
	if !bytes.Equal(read(), jpeg) {
		t.Fatal("the snapshot fetched is not the relay's")
	}
	rig.Relay.Stop(t)
	if !bytes.Equal(read(), jpeg) {
		t.Fatal("the snapshot kept is not the relay's")
	}
	if _, err := rig.Findings.Evidence(ctx, "0000000000000000000000000000000000000000000000000000000000000000.jpg"); err == nil {
		t.Fatal("a file no finding lists was served")
	}
}

// A verify keeps the frame re-checked on as its evidence, served to the
// view and queued for the relay after the verify; a snapshot that is no
// JPEG is refused naming the field, and changes nothing.
func TestVerifyKeepsTheRecheckSnapshot(t *testing.T) {
	ctx := context.Background()
	rig := findingstest.New(t, findingstest.Options{})
	f := rig.Create(t, "未戴护目镜", time.Hour)
	rig.Rectified(t, f, 1)
	if _, err := rig.Findings.Verify(ctx, f.ID, findings.Recheck{Note: "ok", Snapshot: base64.StdEncoding.EncodeToString([]byte("not a jpeg"))}); err == nil {
		t.Fatal("a snapshot that is no JPEG was taken")
	}
	if got, _ := rig.Store.Get(ctx, f.ID); got.Status != "rectified" {
		t.Fatalf("after the refusal: %s", got.Status)
	}
	shot := findingstest.Snapshot(t, 64, 36, 3)
	got, err := rig.Findings.Verify(ctx, f.ID, findings.Recheck{Note: "复核无误", Snapshot: base64.StdEncoding.EncodeToString(shot), SnapshotWidth: 64, SnapshotHeight: 36})
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != "verified" || len(got.Rechecks) != 1 || got.Rechecks[0].Actor != findingstest.User || got.Rechecks[0].Action != "verified" {
		t.Fatalf("verified: %s %+v", got.Status, got.Rechecks)
	}
	ev, err := rig.Findings.Evidence(ctx, got.Rechecks[0].File)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(ev.File)
	ev.File.Close()
	if !bytes.Equal(b, shot) {
		t.Fatal("the re-check snapshot served is not the one sent")
	}
	entries, err := rig.Store.Outbox(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(entries); n != 2 || entries[0].Kind != store.OutboxFinding || entries[1].Kind != store.OutboxRecheck || entries[0].Revision != entries[1].Revision {
		t.Fatalf("the outbox: %+v, want the verify then its snapshot", entries)
	}
}
