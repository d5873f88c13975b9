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
		return fs.PutRecheck(ctx, by, "f1", action, "image/jpeg", hexSum, bytes.NewReader(jpeg))
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
}
