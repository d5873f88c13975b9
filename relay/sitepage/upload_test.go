package sitepage_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/internal/bilingual"
	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/internal/testlog"
	"github.com/qianliyan/qianliyan/relay"
	"github.com/qianliyan/qianliyan/relay/api/apitest"
	"github.com/qianliyan/qianliyan/relay/findings"
	"github.com/qianliyan/qianliyan/relay/findings/findingstest"
	"github.com/qianliyan/qianliyan/relay/phrases"
	"github.com/qianliyan/qianliyan/relay/relaytest"
	"github.com/qianliyan/qianliyan/relay/sitepage"
)

// siteRelay is relaytest.ServeSites with its data directory and its log
// (from Info) at hand; its findings are filed without evidence.
func siteRelay(t *testing.T) (r *relaytest.Sites, dataDir string, logs *testlog.Buffer) {
	t.Helper()
	cfg := relaytest.SiteManagersConfig(t, password)
	dataDir, logs = t.TempDir(), &testlog.Buffer{}
	rl := relaytest.Serve(t, relay.Options{Demo: true, ConfigFile: cfg, DataDir: dataDir, Log: zerolog.New(logs).Level(zerolog.InfoLevel)})
	return &relaytest.Sites{Relay: rl, Duty: apitest.SignIn(t, rl.URL(), "duty", rl.Demo().Password)}, dataDir, logs
}

// acknowledged files finding id at site-01 and has mgr acknowledge it; it
// returns the finding page's form values for a rectify.
func acknowledged(t *testing.T, r *relaytest.Sites, mgr *pageClient, id string) (csrf, actionID string) {
	t.Helper()
	r.Duty.File(apitest.Draft(id, "site-01", time.Now().Add(3*time.Hour)), nil, nil)
	_, page := mgr.get("/site/findings/" + id)
	if status, page := mgr.post("/site/findings/"+id+"/acknowledge", map[string][]string{
		"csrf": {field(page, "csrf")}, "action_id": {field(page, "action_id")}}); status != 200 || !strings.Contains(page, `id="rectify"`) {
		t.Fatalf("acknowledging %s: %d", id, status)
	}
	_, page = mgr.get("/site/findings/" + id)
	return field(page, "csrf"), field(page, "action_id")
}

// rectifyForm is a rectify form as a phone's browser sends it: the
// fields, then the photos. Its body is split 4 KiB into the first photo.
func rectifyForm(csrf, actionID, note string, photos ...[]byte) (contentType string, head, rest []byte) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, f := range [][2]string{{"csrf", csrf}, {"action_id", actionID}, {"note", note}} {
		mw.WriteField(f[0], f[1])
	}
	split := -1
	for i, p := range photos {
		w, _ := mw.CreateFormFile("photos", "photo.jpg")
		if i == 0 {
			split = buf.Len() + 4<<10
		}
		w.Write(p)
	}
	mw.Close()
	if split < 0 || split > buf.Len() {
		split = buf.Len()
	}
	return mw.FormDataContentType(), buf.Bytes()[:split], buf.Bytes()[split:]
}

// heldBody gives head, then waits to be released before it gives rest: a
// phone on a slow line, its photo on the way.
type heldBody struct {
	head, rest *bytes.Reader
	released   chan struct{}
	once       sync.Once
}

func newHeldBody(head, rest []byte) *heldBody {
	return &heldBody{head: bytes.NewReader(head), rest: bytes.NewReader(rest), released: make(chan struct{})}
}

func (h *heldBody) Read(p []byte) (int, error) {
	if h.head.Len() > 0 {
		return h.head.Read(p)
	}
	<-h.released
	return h.rest.Read(p)
}

func (h *heldBody) release() { h.once.Do(func() { close(h.released) }) }

type answer struct {
	status int
	header http.Header
	page   string
}

// postHeld posts a rectify form whose photo is held after its first
// bytes; the answer comes on the channel. The body is released when the
// test ends, or by the caller.
func (pc *pageClient) postHeld(t *testing.T, path, contentType string, body *heldBody, size int) <-chan answer {
	t.Cleanup(body.release)
	req, err := http.NewRequest("POST", pc.base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = int64(size)
	req.Header.Set("Content-Type", contentType)
	answered := make(chan answer, 1)
	go func() {
		resp, err := pc.http.Do(req)
		if err != nil {
			answered <- answer{page: err.Error()}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		answered <- answer{resp.StatusCode, resp.Header, string(b)}
	}()
	return answered
}

func (pc *pageClient) postForm(path, contentType string, body []byte) answer {
	resp, err := pc.http.Post(pc.base+path, contentType, bytes.NewReader(body))
	if err != nil {
		pc.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(b)}
}

// jpegOf is a JPEG's first bytes and then n bytes in all: the relay reads
// no more than the start to know a JPEG.
func jpegOf(n int) []byte {
	b := make([]byte, n)
	copy(b, "\xff\xd8\xff\xe0\x00\x10JFIF\x00")
	return b
}

// A rectify the relay will refuse (another site's finding, the wrong role,
// the wrong status, a bad form) is refused before its photos are read: a
// form whose photo never comes is answered.
func TestRectifyRefusedBeforePhotosAreRead(t *testing.T) {
	r, _, _ := siteRelay(t)
	mgr1, mgr2, sup := signIn(t, r, "mgr1"), signIn(t, r, "mgr2"), signIn(t, r, "sup")
	csrf, actionID := acknowledged(t, r, mgr1, "f1")
	r.Duty.File(apitest.Draft("f-open", "site-01", time.Now().Add(3*time.Hour)), nil, nil)
	_, page := mgr1.get("/site/findings/f-open")
	openCSRF, openAction := field(page, "csrf"), field(page, "action_id")
	_, page = sup.get("/site/findings/f1")
	supCSRF := field(page, "csrf")
	_, page = mgr2.get("/site/")
	mgr2CSRF := field(page, "csrf")
	photo := jpegOf(1 << 20)
	for _, c := range []struct {
		name                 string
		as                   *pageClient
		finding              string
		csrf, actionID, note string
		status               int
	}{
		{"a forged form", mgr1, "f1", "forged", actionID, "done", 403},
		{"no note", mgr1, "f1", csrf, actionID, "", 422},
		{"a supervisor", sup, "f1", supCSRF, actionID, "done", 403},
		{"another site's manager", mgr2, "f1", mgr2CSRF, actionID, "done", 404},
		{"an open finding", mgr1, "f-open", openCSRF, openAction, "done", 409},
		{"an unknown finding", mgr1, "nope", csrf, actionID, "done", 404},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctype, head, rest := rectifyForm(c.csrf, c.actionID, c.note, photo)
			body := newHeldBody(head, rest)
			answered := c.as.postHeld(t, "/site/findings/"+c.finding+"/rectify", ctype, body, len(head)+len(rest))
			select {
			case a := <-answered:
				if a.status != c.status {
					t.Errorf("%d, want %d: %.300s", a.status, c.status, a.page)
				}
			case <-time.After(eventually.Ceiling):
				body.release()
				a := <-answered
				t.Errorf("answered %d only once the photo came: the relay read it before refusing", a.status)
			}
		})
	}
	if f := r.Duty.Finding("f1"); f.Status != findings.StatusAcknowledged || len(f.Evidence.Photos) != 0 {
		t.Errorf("refused rectifies changed f1: %s, %d photos", f.Status, len(f.Evidence.Photos))
	}
}

// The relay receives a bounded number of uploads at once; one more is
// told to come back, and once they are done the next is received.
func TestUploadsAtOnceBounded(t *testing.T) {
	r, dataDir, _ := siteRelay(t)
	mgr := signIn(t, r, "mgr1")
	n := sitepage.MaxUploads
	var bodies []*heldBody
	var answers []<-chan answer
	photo := jpegOf(1 << 20)
	for i := range n + 2 {
		id := "f" + string(rune('a'+i))
		csrf, actionID := acknowledged(t, r, mgr, id)
		ctype, head, rest := rectifyForm(csrf, actionID, "done", photo)
		switch {
		case i < n: // held mid-photo
			body := newHeldBody(head, rest)
			bodies = append(bodies, body)
			answers = append(answers, mgr.postHeld(t, "/site/findings/"+id+"/rectify", ctype, body, len(head)+len(rest)))
			if i == n-1 {
				eventually.True(t, eventually.Ceiling, "every held upload received", func() bool {
					return len(findingstest.Temporaries(t, filepath.Join(dataDir, relay.EvidenceDir))) == n
				})
			}
		case i == n: // one too many
			a := mgr.postForm("/site/findings/"+id+"/rectify", ctype, append(head, rest...))
			if a.status != http.StatusServiceUnavailable || a.header.Get("Retry-After") == "" || !strings.Contains(a.page, phrases.In(bilingual.ZH, "uploads_busy")) {
				t.Fatalf("an upload over the bound: %d, Retry-After %q: %.400s", a.status, a.header.Get("Retry-After"), a.page)
			}
			for _, b := range bodies {
				b.release()
			}
			for k, answered := range answers {
				if a := <-answered; a.status != 200 || !strings.Contains(a.page, `id="status"`) {
					t.Fatalf("held upload %d: %d %.300s", k, a.status, a.page)
				}
			}
		default: // the bound's room is back
			if a := mgr.postForm("/site/findings/"+id+"/rectify", ctype, append(head, rest...)); a.status != 200 {
				t.Fatalf("an upload after the others: %d %.300s", a.status, a.page)
			}
			if f := r.Duty.Finding(id); f.Status != findings.StatusRectified || len(f.Evidence.Photos) != 1 {
				t.Fatalf("after the upload: %s, %d photos", f.Status, len(f.Evidence.Photos))
			}
		}
	}
	if tmp := findingstest.Temporaries(t, filepath.Join(dataDir, relay.EvidenceDir)); len(tmp) != 0 {
		t.Errorf("uploads left behind: %v", tmp)
	}
}

// Refused or accepted, a rectify leaves no file behind: not in the
// system's temporary directory, not in the relay's.
func TestRectifyLeavesNoFiles(t *testing.T) {
	r, dataDir, _ := siteRelay(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	mgr1, sup := signIn(t, r, "mgr1"), signIn(t, r, "sup")
	csrf, actionID := acknowledged(t, r, mgr1, "f1")
	_, page := sup.get("/site/findings/f1")
	supCSRF := field(page, "csrf")
	// Over the form's 8 MiB kept in memory, with photos each in bounds.
	photos := [][]byte{jpegOf(4<<20 + 1<<19), jpegOf(4<<20 + 1<<19)}
	for _, c := range []struct {
		name   string
		as     *pageClient
		csrf   string
		photos [][]byte
		status int
	}{
		{"a forged form", mgr1, "forged", photos, 403},
		{"a supervisor", sup, supCSRF, photos, 403},
		{"a photo not an image", mgr1, csrf, [][]byte{photos[0], []byte("<html>")}, 415},
		{"a photo too large", mgr1, csrf, [][]byte{photos[0], jpegOf(findings.MaxPhotoBytes + 1)}, 413},
		{"accepted", mgr1, csrf, photos, 200},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctype, head, rest := rectifyForm(c.csrf, actionID, "done", c.photos...)
			if a := c.as.postForm("/site/findings/f1/rectify", ctype, append(head, rest...)); a.status != c.status {
				t.Fatalf("%d, want %d: %.300s", a.status, c.status, a.page)
			}
			if left, _ := os.ReadDir(tmp); len(left) != 0 {
				t.Errorf("left in the temporary directory: %d files, %v…", len(left), left[0].Name())
			}
			if left := findingstest.Temporaries(t, filepath.Join(dataDir, relay.EvidenceDir)); len(left) != 0 {
				t.Errorf("left in the evidence directory: %v", left)
			}
		})
	}
	if f := r.Duty.Finding("f1"); f.Status != findings.StatusRectified || len(f.Evidence.Photos) != 2 {
		t.Errorf("f1 after the accepted rectify: %s, %d photos", f.Status, len(f.Evidence.Photos))
	}
}
