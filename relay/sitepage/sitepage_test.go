package sitepage_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/internal/fakeclock"
	"github.com/qianliyan/qianliyan/relay/api/apitest"
	"github.com/qianliyan/qianliyan/relay/findings"
	"github.com/qianliyan/qianliyan/relay/relaytest"
)

// password is the site managers' (relaytest.ServeSites).
const password = "site-page-test"

// pageClient is a phone's browser without the rendering: a cookie jar.
type pageClient struct {
	t    *testing.T
	base string
	http *http.Client
}

func signIn(t *testing.T, r *relaytest.Sites, user string) *pageClient {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	pc := &pageClient{t: t, base: r.URL(), http: &http.Client{Jar: jar}}
	_, page := pc.get("/site/login")
	csrf := field(page, "csrf")
	status, page := pc.post("/site/login", url.Values{"csrf": {csrf}, "user": {user}, "password": {password}})
	if status != 200 || !strings.Contains(page, `class="findings"`) {
		t.Fatalf("sign-in of %s: %d %s", user, status, page)
	}
	return pc
}

var fieldRE = regexp.MustCompile(`name="(\w+)" value="([^"]*)"`)

func field(page, name string) string {
	for _, m := range fieldRE.FindAllStringSubmatch(page, -1) {
		if m[1] == name {
			return m[2]
		}
	}
	return ""
}

func (pc *pageClient) get(path string) (int, string) {
	resp, err := pc.http.Get(pc.base + path)
	if err != nil {
		pc.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (pc *pageClient) post(path string, form url.Values) (int, string) {
	resp, err := pc.http.PostForm(pc.base+path, form)
	if err != nil {
		pc.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

type upload struct {
	name string
	data []byte
}

func (pc *pageClient) multipart(path string, fields map[string]string, files []upload) (int, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	for _, f := range files {
		w, _ := mw.CreateFormFile("photos", f.name)
		w.Write(f.data)
	}
	mw.Close()
	resp, err := pc.http.Post(pc.base+path, mw.FormDataContentType(), &buf)
	if err != nil {
		pc.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestSitePageRefusesBadInput(t *testing.T) {
	r := relaytest.ServeSites(t, password, nil)
	duty := r.Duty
	r.File("f1", "site-01", time.Now().Add(3*time.Hour))
	r.File("f2", "site-02", time.Now().Add(3*time.Hour))
	mgr1 := signIn(t, r, "mgr1")
	mgr2 := signIn(t, r, "mgr2")
	_, page := mgr1.get("/site/findings/f1")
	csrf, actionID := field(page, "csrf"), field(page, "action_id")
	if csrf == "" || actionID == "" {
		t.Fatalf("no form on the page: %s", page)
	}

	// Another site's manager: 404 on the page, its evidence and the API.
	for _, path := range []string{"/site/findings/f1", "/site/evidence/f1/snapshot", "/site/evidence/f1/clip"} {
		if status, _ := mgr2.get(path); status != 404 {
			t.Errorf("mgr2 GET %s: %d, want 404", path, status)
		}
	}
	if status, _ := apitest.SignIn(t, r.URL(), "mgr2", password).Do("GET", "/api/v1/findings/f1", nil, nil); status != 404 {
		t.Errorf("mgr2 API GET: %d, want 404", status)
	}

	before := len(duty.Finding("f1").Events)
	snapshot, _ := apitest.Evidence(t)
	big := append(append([]byte{}, snapshot...), make([]byte, findings.MaxPhotoBytes)...)
	for _, c := range []struct {
		name   string
		send   func() (int, string)
		status int
	}{
		{"acknowledge without CSRF", func() (int, string) {
			return mgr1.post("/site/findings/f1/acknowledge", url.Values{"action_id": {actionID}})
		}, 403},
		{"acknowledge with another session's CSRF", func() (int, string) {
			_, p2 := mgr2.get("/site/findings/f2")
			return mgr1.post("/site/findings/f1/acknowledge", url.Values{"csrf": {field(p2, "csrf")}, "action_id": {actionID}})
		}, 403},
		{"another site's finding", func() (int, string) {
			_, p2 := mgr2.get("/site/findings/f2")
			return mgr2.post("/site/findings/f1/acknowledge", url.Values{"csrf": {field(p2, "csrf")}, "action_id": {actionID}})
		}, 404},
		{"another site's finding, another's CSRF", func() (int, string) {
			return mgr2.post("/site/findings/f1/acknowledge", url.Values{"csrf": {csrf}, "action_id": {actionID}})
		}, 404},
		{"rectify before acknowledging", func() (int, string) {
			return mgr1.multipart("/site/findings/f1/rectify", map[string]string{"csrf": csrf, "action_id": actionID, "note": "done"}, nil)
		}, 409},
		// The status is checked before any photo is read: an oversized
		// photo or one not an image is refused for what it is only when the
		// finding may be rectified (upload_test.go).
		{"oversized photo before acknowledging", func() (int, string) {
			return mgr1.multipart("/site/findings/f1/rectify", map[string]string{"csrf": csrf, "action_id": actionID, "note": "done"},
				[]upload{{"big.jpg", big}})
		}, 409},
		{"photo not an image before acknowledging", func() (int, string) {
			return mgr1.multipart("/site/findings/f1/rectify", map[string]string{"csrf": csrf, "action_id": actionID, "note": "done"},
				[]upload{{"x.jpg", []byte("<html>not a photo</html>")}})
		}, 409},
		{"rectify without a note", func() (int, string) {
			return mgr1.multipart("/site/findings/f1/rectify", map[string]string{"csrf": csrf, "action_id": actionID}, nil)
		}, 422},
		{"sign-in without the form's cookie", func() (int, string) {
			return (&pageClient{t: t, base: r.URL(), http: &http.Client{}}).post("/site/login",
				url.Values{"csrf": {"x"}, "user": {"mgr1"}, "password": {password}})
		}, 403},
		{"unknown finding", func() (int, string) { return mgr1.get("/site/findings/nope") }, 404},
	} {
		t.Run(c.name, func(t *testing.T) {
			if status, page := c.send(); status != c.status {
				t.Errorf("%d, want %d: %.300s", status, c.status, page)
			}
		})
	}
	if after := duty.Finding("f1"); len(after.Events) != before || after.Status != findings.StatusOpen || len(after.Evidence.Photos) != 0 {
		t.Errorf("bad input changed the finding: %d events (had %d), %s, %d photos", len(after.Events), before, after.Status, len(after.Evidence.Photos))
	}
	// A supervisor may look but has no forms; a wrong password stays out.
	sup := signIn(t, r, "sup")
	if status, page := sup.get("/site/findings/f1"); status != 200 || strings.Contains(page, `id="acknowledge"`) {
		t.Errorf("supervisor's view: %d, forms shown: %v", status, strings.Contains(page, `id="acknowledge"`))
	}
	jar, _ := cookiejar.New(nil)
	stranger := &pageClient{t: t, base: r.URL(), http: &http.Client{Jar: jar}}
	_, page = stranger.get("/site/login")
	if status, _ := stranger.post("/site/login", url.Values{"csrf": {field(page, "csrf")}, "user": {"mgr1"}, "password": {"wrong"}}); status != 401 {
		t.Errorf("wrong password: %d", status)
	}
	if status, page := stranger.get("/site/"); status != 200 || !strings.Contains(page, `action="/site/login"`) {
		t.Errorf("without a session: %d", status)
	}
}

// A page in use stays signed in past its first token's life (1 h); one
// left alone signs out.
func TestSessionRenewed(t *testing.T) {
	clk := fakeclock.New(time.Now())
	r := relaytest.ServeSites(t, password, clk.Now)
	mgr := signIn(t, r, "mgr1")
	idle := signIn(t, r, "mgr2")
	for range 3 {
		clk.Advance(40 * time.Minute)
		if status, page := mgr.get("/site/"); status != 200 || !strings.Contains(page, `class="findings"`) {
			t.Fatalf("in use, after 40 min more: %d", status)
		}
	}
	if status, page := idle.get("/site/"); status != 200 || !strings.Contains(page, `action="/site/login"`) {
		t.Fatalf("left alone for 2 h: %d, not the sign-in page", status)
	}
}
