package sitepage_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"

	"github.com/qianliyan/qianliyan/internal/chromium"
	"github.com/qianliyan/qianliyan/relay"
	"github.com/qianliyan/qianliyan/relay/findings"
)

// media is a real snapshot, clip and photo made by ffmpeg once.
var media struct{ jpeg, mp4, png []byte }

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sitepage-media")
	if err == nil {
		defer os.RemoveAll(dir)
		err = makeMedia(dir)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "making test media with ffmpeg:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func makeMedia(dir string) error {
	for _, args := range [][]string{
		{"-f", "lavfi", "-i", "testsrc=size=320x240:rate=15", "-frames:v", "1", "snap.jpg"},
		{"-f", "lavfi", "-i", "testsrc=size=160x120:rate=15", "-frames:v", "1", "photo.png"},
		{"-f", "lavfi", "-i", "testsrc=size=320x240:rate=15", "-t", "4", "-c:v", "libx264", "-profile:v", "baseline",
			"-pix_fmt", "yuv420p", "-g", "30", "-movflags", "+faststart", "clip.mp4"},
	} {
		cmd := exec.Command("ffmpeg", append([]string{"-hide_banner", "-loglevel", "error", "-y"}, args...)...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%v: %w: %s", args, err, out)
		}
	}
	var err error
	if media.jpeg, err = os.ReadFile(filepath.Join(dir, "snap.jpg")); err != nil {
		return err
	}
	if media.png, err = os.ReadFile(filepath.Join(dir, "photo.png")); err != nil {
		return err
	}
	media.mp4, err = os.ReadFile(filepath.Join(dir, "clip.mp4"))
	return err
}

const password = "site-page-test"

// startRelay starts a demo relay (sites site-01…03, user duty) with two
// site managers, mgr1 of site-01 and mgr2 of site-02.
func startRelay(t *testing.T) *relay.Relay { return startRelayAt(t, nil) }

// startRelayAt starts the relay with a clock (time.Now when nil).
func startRelayAt(t *testing.T, now func() time.Time) *relay.Relay {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "relay.yaml")
	yaml := fmt.Sprintf(`users:
  - {name: mgr1, role: site_manager, sites: [site-01], password_hash: %q}
  - {name: mgr2, role: site_manager, sites: [site-02], password_hash: %q}
  - {name: sup, role: supervisor, password_hash: %q}
`, hash, hash, hash)
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r, err := relay.Start(ctx, relay.Options{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Demo: true, ConfigFile: cfg, Now: now,
		Log: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		if err := r.Close(); err != nil {
			t.Errorf("closing relay: %v", err)
		}
	})
	return r
}

type client struct {
	t     *testing.T
	base  string
	token string
}

func apiLogin(t *testing.T, r *relay.Relay, user, pw string) *client {
	t.Helper()
	c := &client{t: t, base: r.URL()}
	body, _ := json.Marshal(map[string]string{"user": user, "password": pw})
	status, b := c.do("POST", "/api/v1/login", map[string]string{"Content-Type": "application/json"}, body)
	if status != 200 {
		t.Fatalf("login %s: %d %s", user, status, b)
	}
	var out struct{ Token string }
	json.Unmarshal(b, &out)
	c.token = out.Token
	return c
}

func (c *client) do(method, path string, header map[string]string, body []byte) (int, []byte) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func (c *client) finding(id string) findings.Finding {
	c.t.Helper()
	status, b := c.do("GET", "/api/v1/findings/"+id, nil, nil)
	var f findings.Finding
	if err := json.Unmarshal(b, &f); status != 200 || err != nil {
		c.t.Fatalf("GET finding %s: %d %s", id, status, b)
	}
	return f
}

func hexSHA(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// file files a finding at site with its snapshot and clip, as a console's
// forwarder does.
func (c *client) file(id, site string, deadline time.Time) {
	c.t.Helper()
	now := time.Now().UTC()
	body, _ := json.Marshal(map[string]any{"id": id, "site": site, "camera": "doff1", "zone": "doffing_room_1",
		"template_id": "ppe-doffing", "template_version": 1, "step": "goggles", "deviation": "wrong_order",
		"deviation_text": "脱卸顺序错误 " + id, "severity": "major", "note": "goggles before gown", "observer": "duty",
		"observed_at": now.Add(-time.Minute), "flagged_at": now, "deadline": deadline})
	if status, b := c.do("PUT", "/api/v1/findings/"+id, map[string]string{"Content-Type": "application/json"}, body); status != 201 {
		c.t.Fatalf("PUT finding: %d %s", status, b)
	}
	for _, ev := range []struct {
		kind, ctype string
		data        []byte
	}{{"snapshot", "image/jpeg", media.jpeg}, {"clip", "video/mp4", media.mp4}} {
		if status, b := c.do("PUT", "/api/v1/findings/"+id+"/evidence/"+ev.kind,
			map[string]string{"Content-Type": ev.ctype, "X-Content-SHA256": hexSHA(ev.data)}, ev.data); status != 201 {
			c.t.Fatalf("PUT %s: %d %s", ev.kind, status, b)
		}
	}
}

// newBrowser starts headless Chromium as a Chinese-speaking phone that
// plays clips without a tap.
func newBrowser(t *testing.T, ctx context.Context) context.Context {
	t.Helper()
	return chromium.New(t, ctx,
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.Flag("lang", "zh-CN"),
		chromedp.Flag("accept-lang", "zh-CN,zh"),
		chromedp.WindowSize(390, 844),
	)
}

// waitJS waits until a JavaScript condition holds in the page. It asks
// again after errors: a form's submission replaces the page (and its
// JavaScript context) while the question is out.
func waitJS(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		var last error
		for {
			ok, err := chromedp.Evaluate[bool](expr)(ctx, t)
			if err == nil && ok {
				return nil
			}
			last = err
			select {
			case <-ctx.Done():
				return fmt.Errorf("waiting for %s (last error %v): %w", expr, last, ctx.Err())
			case <-time.After(100 * time.Millisecond):
			}
		}
	})
}

func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

func TestSiteManagerInChromium(t *testing.T) {
	r := startRelay(t)
	duty := apiLogin(t, r, "duty", r.Demo().Password)
	duty.file("f-site1", "site-01", time.Now().Add(3*time.Hour))
	duty.file("f-late", "site-01", time.Now().Add(time.Second)) // overdue by the time the page shows it
	duty.file("f-site2", "site-02", time.Now().Add(3*time.Hour))
	time.Sleep(1100 * time.Millisecond)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	bctx := newBrowser(t, ctx)
	photo := filepath.Join(t.TempDir(), "fixed.png")
	if err := os.WriteFile(photo, media.png, 0o600); err != nil {
		t.Fatal(err)
	}
	// One bound for the whole walk through (the first Run starts the browser
	// and must not carry a timeout of its own).
	do(t, bctx, chromedp.Navigate("about:blank"))
	walk, stop := context.WithTimeout(bctx, 90*time.Second)
	defer stop()

	do(t, walk, chromedp.Navigate(r.URL()+"/site/"), chromedp.WaitVisible(chromedp.CSS(`form[action="/site/login"]`)))
	if got := text(t, walk, "main h1"); got != "登录" {
		t.Errorf("sign-in heading %q, want Chinese (the browser asks for zh-CN)", got)
	}
	do(t, walk,
		chromedp.SendKeys(chromedp.CSS(`input[name=user]`), "mgr1"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), password),
		chromedp.Submit(chromedp.CSS(`form[action="/site/login"]`)),
		chromedp.WaitVisible(chromedp.CSS(`ul.findings`)),
	)
	ids := eval[[]string](t, walk, `[...document.querySelectorAll('li.finding')].map(e => e.dataset.id)`)
	overdue := eval[[]string](t, walk, `[...document.querySelectorAll('li.finding.overdue')].map(e => e.dataset.id)`)
	// Open first, then by deadline: the overdue one leads; site-02's is not there.
	if strings.Join(ids, ",") != "f-late,f-site1" || strings.Join(overdue, ",") != "f-late" {
		t.Errorf("list %v, overdue %v", ids, overdue)
	}
	if list := text(t, walk, "ul.findings"); !strings.Contains(list, "已逾期") || !strings.Contains(list, "剩余 2 小时") || !strings.Contains(list, "东湖宾馆隔离点 · 一脱间") {
		t.Errorf("list without countdowns: %q", list)
	}

	// The finding: its snapshot shows and its clip plays.
	do(t, walk,
		chromedp.Navigate(r.URL()+"/site/findings/f-site1"),
		chromedp.WaitVisible(chromedp.CSS(`#acknowledge`)),
		waitJS(`document.getElementById('snapshot').complete && document.getElementById('snapshot').naturalWidth > 0`),
	)
	if w := eval[int](t, walk, `document.getElementById('snapshot').naturalWidth`); w != 320 {
		t.Errorf("snapshot width %d, want 320", w)
	}
	eval[bool](t, walk, `document.getElementById('clip').play().then(() => true)`)
	do(t, walk, waitJS(`(() => { const v = document.getElementById('clip'); return v.readyState >= 2 && v.videoWidth === 320 && v.currentTime > 0.5; })()`))

	// Acknowledge, then report rectification with a photo, through the forms.
	do(t, walk,
		chromedp.SendKeys(chromedp.CSS(`#acknowledge textarea[name=note]`), "收到，马上处理"),
		chromedp.Submit(chromedp.CSS(`#acknowledge`)),
		waitJS(`document.readyState === 'complete' && !!document.getElementById('rectify')`),
	)
	if got := text(t, walk, "p.notice"); got != "已确认收到" {
		t.Errorf("notice after acknowledging: %q", got)
	}
	// A photo over 5 MiB is refused in the page before any upload.
	big := filepath.Join(t.TempDir(), "big.jpg")
	if err := os.WriteFile(big, append(append([]byte{}, media.jpeg...), make([]byte, findings.MaxPhotoBytes)...), 0o600); err != nil {
		t.Fatal(err)
	}
	do(t, walk, chromedp.SetUploadFiles(chromedp.CSS(`#rectify input[name=photos]`), []string{big}))
	if msg := eval[string](t, walk, `document.querySelector('#rectify input[name=photos]').validationMessage`); msg != "照片超过 5 MB" {
		t.Errorf("an oversized photo's message: %q", msg)
	}
	do(t, walk,
		chromedp.SendKeys(chromedp.CSS(`#rectify textarea[name=note]`), "已重新培训脱卸顺序"),
		chromedp.SetUploadFiles(chromedp.CSS(`#rectify input[name=photos]`), []string{photo}),
		chromedp.Submit(chromedp.CSS(`#rectify`)),
		waitJS(`document.querySelectorAll('img.photo').length === 1 && document.querySelector('img.photo').naturalWidth === 160`),
	)
	if status, history := text(t, walk, "#status"), text(t, walk, "#history"); status != "已整改" ||
		!strings.Contains(history, "mgr1 报告整改: 已重新培训脱卸顺序") || !strings.Contains(history, "mgr1 确认收到: 收到，马上处理") {
		t.Errorf("after rectifying: status %q, history %q", status, history)
	}

	// The API has both as events; verifying there closes the finding.
	f := duty.finding("f-site1")
	var actions []string
	for _, e := range f.Events {
		actions = append(actions, e.Action+":"+e.Actor+":"+e.Role)
	}
	want := "created:duty:duty,evidence:duty:duty,evidence:duty:duty,acknowledge:mgr1:site_manager,rectify:mgr1:site_manager"
	if strings.Join(actions, ",") != want || len(f.Evidence.Photos) != 1 || f.Evidence.Photos[0].SHA256 != hexSHA(media.png) {
		t.Fatalf("events %v (want %s), photos %+v", actions, want, f.Evidence.Photos)
	}
	status, b := duty.do("POST", "/api/v1/findings/f-site1/actions", map[string]string{"Content-Type": "application/json"},
		[]byte(`{"action_id":"verify-1","action":"verify","note":"checked on camera"}`))
	if status != 200 || duty.finding("f-site1").Status != findings.StatusVerified {
		t.Fatalf("verify: %d %s", status, b)
	}

	// The page shows it closed, and switches to English.
	do(t, walk, chromedp.Navigate(r.URL()+"/site/findings/f-site1"), chromedp.WaitVisible(chromedp.CSS(`#status`)))
	if got := text(t, walk, "#status"); got != "已核实" {
		t.Errorf("closed finding's status %q", got)
	}
	do(t, walk, chromedp.Click(chromedp.CSS(`a.lang`)), waitJS(`document.documentElement.lang === 'en'`))
	if got := text(t, walk, "#status"); got != "Verified" {
		t.Errorf("in English: %q", got)
	}
}

// pageClient is a phone's browser without the rendering: a cookie jar.
type pageClient struct {
	t    *testing.T
	base string
	http *http.Client
}

func signIn(t *testing.T, r *relay.Relay, user string) *pageClient {
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
	r := startRelay(t)
	duty := apiLogin(t, r, "duty", r.Demo().Password)
	duty.file("f1", "site-01", time.Now().Add(3*time.Hour))
	duty.file("f2", "site-02", time.Now().Add(3*time.Hour))
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
	if status, _ := apiLogin(t, r, "mgr2", password).do("GET", "/api/v1/findings/f1", nil, nil); status != 404 {
		t.Errorf("mgr2 API GET: %d, want 404", status)
	}

	before := len(duty.finding("f1").Events)
	big := append(append([]byte{}, media.jpeg...), make([]byte, findings.MaxPhotoBytes)...)
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
		{"oversized photo", func() (int, string) {
			return mgr1.multipart("/site/findings/f1/rectify", map[string]string{"csrf": csrf, "action_id": actionID, "note": "done"},
				[]upload{{"big.jpg", big}})
		}, 413},
		{"photo not an image", func() (int, string) {
			return mgr1.multipart("/site/findings/f1/rectify", map[string]string{"csrf": csrf, "action_id": actionID, "note": "done"},
				[]upload{{"x.jpg", []byte("<html>not a photo</html>")}})
		}, 415},
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
	if after := duty.finding("f1"); len(after.Events) != before || after.Status != findings.StatusOpen || len(after.Evidence.Photos) != 0 {
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

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// A page in use stays signed in past its first token's life (1 h); one
// left alone signs out.
func TestSessionRenewed(t *testing.T) {
	clk := &testClock{t: time.Now()}
	r := startRelayAt(t, clk.now)
	mgr := signIn(t, r, "mgr1")
	idle := signIn(t, r, "mgr2")
	for range 3 {
		clk.add(40 * time.Minute)
		if status, page := mgr.get("/site/"); status != 200 || !strings.Contains(page, `class="findings"`) {
			t.Fatalf("in use, after 40 min more: %d", status)
		}
	}
	if status, page := idle.get("/site/"); status != 200 || !strings.Contains(page, `action="/site/login"`) {
		t.Fatalf("left alone for 2 h: %d, not the sign-in page", status)
	}
}
