package findings_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"

	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/findings"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// A re-check's snapshot is kept as the evidence of the verify it documents,
// by any officer who may file, named after that verify's event, once; it
// is refused for an action that is not a re-check, an unknown one, or a
// site manager.
func TestPutRecheck(t *testing.T) {
	fs, _ := newStore(t)
	ctx := context.Background()
	if _, _, err := fs.Create(ctx, duty, draft("f1")); err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct {
		by  auth.Principal
		req findings.Request
	}{
		{manager, findings.Request{ActionID: "a1", Action: findings.ActAcknowledge}},
		{manager, findings.Request{ActionID: "a2", Action: findings.ActRectify, Note: "换了手套"}},
	} {
		if _, err := fs.Act(ctx, r.by, "f1", r.req); err != nil {
			t.Fatal(err)
		}
	}
	jpeg := append([]byte{0xff, 0xd8, 0xff, 0xe0}, bytes.Repeat([]byte("r"), 64)...)
	sum := sha256.Sum256(jpeg)
	hexSum := hex.EncodeToString(sum[:])
	put := func(by auth.Principal, action string) (findings.File, bool, error) {
		return fs.PutRecheck(ctx, by, "f1", wire.EvidenceRecheck, action, "image/jpeg", hexSum, bytes.NewReader(jpeg))
	}
	if _, _, err := put(super, "a2"); !errors.Is(err, findings.ErrInvalid) {
		t.Errorf("re-check evidence of a rectify: %v, want ErrInvalid", err)
	}
	if _, _, err := put(super, "nope"); !errors.Is(err, findings.ErrInvalid) {
		t.Errorf("re-check evidence of an unknown action: %v, want ErrInvalid", err)
	}
	// Another officer than the one who flagged verifies.
	b := auth.Principal{Name: "wang", Role: auth.RoleDuty}
	if _, err := fs.Act(ctx, b, "f1", findings.Request{ActionID: "v1", Action: findings.ActVerify, Note: "复核无误"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := put(manager, "v1"); !errors.Is(err, findings.ErrForbidden) {
		t.Errorf("a site manager's re-check evidence: %v, want ErrForbidden", err)
	}
	f, err := fs.Get(ctx, b, "f1")
	if err != nil {
		t.Fatal(err)
	}
	verify := f.Events[len(f.Events)-1]
	file, created, err := put(b, "v1")
	want := wire.RecheckName(verify.Cursor)
	if err != nil || !created || file.Name != want || file.URL != fmt.Sprintf("/api/v1/evidence/f1/%s", want) || file.SHA256 != hexSum {
		t.Fatalf("re-check evidence: %+v %v %v, want %s", file, created, err, want)
	}
	if _, created, err := put(b, "v1"); err != nil || created {
		t.Errorf("the same re-check evidence again: created %v, %v", created, err)
	}
	f, _ = fs.Get(ctx, manager, "f1")
	if len(f.Evidence.Rechecks) != 1 || f.Evidence.Rechecks[0].Name != want {
		t.Errorf("the site's view of the rechecks: %+v", f.Evidence.Rechecks)
	}
	last := f.Events[len(f.Events)-1]
	if last.Action != "evidence" || last.Actor != "wang" || !bytes.Contains(last.Detail, []byte(`"name":"`+want+`"`)) {
		t.Errorf("the event of the re-check evidence: %+v %s", last, last.Detail)
	}
	fh, _, err := fs.Open(ctx, manager, "f1", want)
	if err != nil {
		t.Fatalf("the site opening the re-check snapshot: %v", err)
	}
	fh.Close()

	// The clip around the re-check goes with the same verify, beside its
	// snapshot, as a finding's clip is: an MP4, refused as anything else.
	mp4 := append([]byte{0, 0, 0, 24, 'f', 't', 'y', 'p', 'i', 's', 'o', '5'}, bytes.Repeat([]byte("m"), 64)...)
	clipSum := sha256.Sum256(mp4)
	putClip := func(action, ctype string, body []byte, sum string) (findings.File, bool, error) {
		return fs.PutRecheck(ctx, b, "f1", wire.EvidenceRecheckClip, action, ctype, sum, bytes.NewReader(body))
	}
	if _, _, err := putClip("v1", "image/jpeg", jpeg, hexSum); !errors.Is(err, findings.ErrContentType) {
		t.Errorf("a JPEG as a re-check clip: %v, want ErrContentType", err)
	}
	if _, _, err := putClip("a2", "video/mp4", mp4, hex.EncodeToString(clipSum[:])); !errors.Is(err, findings.ErrInvalid) {
		t.Errorf("a re-check clip of a rectify: %v, want ErrInvalid", err)
	}
	if _, _, err := fs.PutRecheck(ctx, b, "f1", "clip", "v1", "video/mp4", hex.EncodeToString(clipSum[:]), bytes.NewReader(mp4)); !errors.Is(err, findings.ErrBadEvidence) {
		t.Errorf("a finding's clip as a re-check's: %v, want ErrBadEvidence", err)
	}
	wantClip := wire.RecheckClipName(verify.Cursor)
	clip, created, err := putClip("v1", "video/mp4", mp4, hex.EncodeToString(clipSum[:]))
	if err != nil || !created || clip.Name != wantClip || clip.ContentType != "video/mp4" || clip.URL != "/api/v1/evidence/f1/"+wantClip {
		t.Fatalf("re-check clip: %+v %v %v, want %s", clip, created, err, wantClip)
	}
	f, _ = fs.Get(ctx, manager, "f1")
	if len(f.Evidence.RecheckClips) != 1 || f.Evidence.RecheckClips[0].Name != wantClip || len(f.Evidence.Rechecks) != 1 {
		t.Errorf("the site's view of the re-check clips: %+v, snapshots %+v", f.Evidence.RecheckClips, f.Evidence.Rechecks)
	}
	fh, file, err = fs.Open(ctx, manager, "f1", wantClip)
	if err != nil || file.Bytes != int64(len(mp4)) {
		t.Fatalf("the site opening the re-check clip: %+v %v", file, err)
	}
	fh.Close()
}
