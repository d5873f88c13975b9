package findings_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/internal/bilingual"
	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/findings"
	"github.com/qianliyan/qianliyan/relay/findings/findingstest"
	"github.com/qianliyan/qianliyan/relay/store"
	"github.com/qianliyan/qianliyan/relay/store/storetest"
)

// endless gives head, then 'x' for ever, counting what was read.
type endless struct {
	head []byte
	read int64
}

func (e *endless) Read(p []byte) (int, error) {
	n := copy(p, e.head)
	e.head = e.head[n:]
	for i := n; i < len(p); i++ {
		p[i] = 'x'
	}
	e.read += int64(len(p))
	return len(p), nil
}

// Photos are received as they are read, refused as soon as they show what
// they are not, and leave nothing behind unless a finding keeps them; an
// action is checked before any photo is read.
func TestReceivePhoto(t *testing.T) {
	ctx := context.Background()
	db, st := storetest.Open(t)
	n := bilingual.New("site-01", "site-01")
	if err := st.PutSiteInfo(ctx, store.Site{ID: "site-01", District: n, Name: n, TimeZone: "Asia/Shanghai"}); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "evidence")
	fs, err := findings.New(findings.Config{DB: db, Sites: st, EvidenceDir: dir, Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := fs.Create(ctx, duty, draft("f1")); err != nil {
		t.Fatal(err)
	}
	rectify := findings.Request{ActionID: "r1", Action: findings.ActRectify, Note: "done"}

	// Open: a rectify is refused before any photo is read.
	var te *findings.TransitionError
	if _, err := fs.Check(ctx, manager, "f1", rectify); !errors.As(err, &te) {
		t.Fatalf("rectify of an open finding: %v, want a transition error", err)
	}
	for _, c := range []struct {
		name string
		by   auth.Principal
		want error
	}{{"another site's manager", other, findings.ErrNotFound}, {"a supervisor", super, findings.ErrForbidden}} {
		if _, err := fs.Check(ctx, c.by, "f1", rectify); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}

	for _, c := range []struct {
		name     string
		head     string
		want     error
		maxBytes int64 // read at most
	}{
		{"not an image", "<html>", findings.ErrContentType, 8},
		{"a JPEG past its limit", "\xff\xd8\xff\xe0", findings.ErrTooLarge, findings.MaxPhotoBytes + 64<<10},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := &endless{head: []byte(c.head)}
			if _, err := fs.ReceivePhoto(r); !errors.Is(err, c.want) {
				t.Fatalf("%v, want %v", err, c.want)
			}
			if r.read > c.maxBytes {
				t.Errorf("read %d bytes, want at most %d", r.read, c.maxBytes)
			}
			if tmp := findingstest.Temporaries(t, dir); len(tmp) != 0 {
				t.Errorf("left behind: %v", tmp)
			}
		})
	}

	png := "\x89PNG\r\n\x1a\nrest of it"
	kept, err := fs.ReceivePhoto(strings.NewReader(png))
	if err != nil {
		t.Fatal(err)
	}
	dropped, err := fs.ReceivePhoto(strings.NewReader(png + " and more"))
	if err != nil {
		t.Fatal(err)
	}
	if f := kept.File(); f.ContentType != "image/png" || f.Bytes != int64(len(png)) {
		t.Fatalf("received %+v", f)
	}
	if _, err := fs.Act(ctx, manager, "f1", findings.Request{ActionID: "a1", Action: findings.ActAcknowledge}); err != nil {
		t.Fatal(err)
	}
	if done, err := fs.Check(ctx, manager, "f1", rectify); err != nil || done {
		t.Fatalf("rectify of an acknowledged finding: done %v, %v", done, err)
	}
	f, err := fs.ActWithPhotos(ctx, manager, "f1", rectify, []*findings.Upload{kept})
	findings.Discard([]*findings.Upload{kept, dropped})
	if err != nil || f.Status != findings.StatusRectified || len(f.Evidence.Photos) != 1 || f.Evidence.Photos[0].SHA256 != kept.File().SHA256 {
		t.Fatalf("rectified with a photo: %v %+v", err, f.Evidence)
	}
	if tmp := findingstest.Temporaries(t, dir); len(tmp) != 0 {
		t.Errorf("left behind: %v", tmp)
	}
	fh, _, err := fs.Open(ctx, manager, "f1", "photo-1")
	if err != nil {
		t.Fatalf("the kept photo: %v", err)
	}
	fh.Close()
	// The same form sent again: done, nothing read or changed.
	if done, err := fs.Check(ctx, manager, "f1", rectify); err != nil || !done {
		t.Fatalf("the same rectify again: done %v, %v", done, err)
	}
}
