package server

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/console/relayclient/relayclienttest"
	"github.com/qianliyan/qianliyan/internal/testmedia"
	"github.com/qianliyan/qianliyan/relay"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// TestReviewServesRecheckClip: a supervisor's review detail lists the clip
// around an officer's re-check beside its snapshot, and the console
// streams it from the real relay by its name, recheck_clip-CURSOR of the
// verify; a name that is no re-check clip's is 404.
func TestReviewServesRecheckClip(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rr := startReviewRelay(t)
	creds, duty, sup := rr.creds, rr.duty, rr.sup
	mgr := relayclienttest.SignedIn(t, rr.relay.URL(), relay.DemoManager("site-01"), creds.ManagerPassword)

	at := time.Now().Add(-time.Hour).UTC().Truncate(time.Millisecond)
	d := wire.Draft{ID: "recheck-clip-1", Site: "site-01", Camera: "doff1", Zone: "doffing_room_1", DeviationText: "漏做手卫生",
		Severity: "major", Observer: creds.User, ObservedAt: at, FlaggedAt: at.Add(time.Second), Deadline: at.Add(48 * time.Hour)}
	if _, _, err := duty.FileFinding(ctx, d); err != nil {
		t.Fatal(err)
	}
	for _, a := range []wire.ActionRequest{{ActionID: "ack", Action: wire.ActAcknowledge}, {ActionID: "fix", Action: wire.ActRectify, Note: "已整改"}} {
		if _, err := mgr.Act(ctx, d.ID, a); err != nil {
			t.Fatal(err)
		}
	}
	verified, err := duty.Act(ctx, d.ID, wire.ActionRequest{ActionID: "verify-1", Action: wire.ActVerify, Note: "复核无误"})
	if err != nil {
		t.Fatal(err)
	}
	mp4, err := testmedia.MP4(testmedia.Spec{Width: 320, Height: 240, FPS: 15, GOP: 15, Seconds: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, created, err := duty.PutRecheck(ctx, d.ID, "verify-1", upload(wire.EvidenceRecheckClip, "video/mp4", mp4)); err != nil || !created {
		t.Fatalf("the re-check clip: created %v, %v", created, err)
	}
	var cursor int64
	for _, e := range verified.Events {
		if e.Action == string(wire.ActVerify) {
			cursor = e.Cursor
		}
	}
	if cursor == 0 {
		f, err := duty.Finding(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range f.Events {
			if e.Action == string(wire.ActVerify) {
				cursor = e.Cursor
			}
		}
	}
	name := wire.RecheckClipName(cursor)

	h := reviewHandler(t, sup)
	a := send(t, h, "GET", "/api/v1/review/findings/"+d.ID, "", nil)
	var detail wire.ReviewDetail
	if err := json.Unmarshal([]byte(a.body), &detail); a.status != http.StatusOK || err != nil {
		t.Fatalf("the detail: %d %s", a.status, a.body)
	}
	if len(detail.Evidence.RecheckClips) != 1 || detail.Evidence.RecheckClips[0].Name != name {
		t.Fatalf("the detail's re-check clips %+v, want %s", detail.Evidence.RecheckClips, name)
	}
	a = send(t, h, "GET", "/api/v1/review/findings/"+d.ID+"/evidence/"+name, "", nil)
	if a.status != http.StatusOK || a.header.Get("Content-Type") != "video/mp4" || a.body != string(mp4) {
		t.Fatalf("the re-check clip through the console: %d %q, %d bytes of %d", a.status, a.header.Get("Content-Type"), len(a.body), len(mp4))
	}
	if a := send(t, h, "GET", "/api/v1/review/findings/"+d.ID+"/evidence/recheck_clip-x", "", nil); a.status != http.StatusNotFound || errorCode(t, a.body) != "unknown_evidence" {
		t.Fatalf("a name that is no re-check clip's: %d %s", a.status, a.body)
	}
}
