package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/qianliyan/qianliyan/console"
	"github.com/qianliyan/qianliyan/relay"
	"github.com/qianliyan/qianliyan/relay/relaytest"
)

// managerPassword is every site manager's in these tests.
const managerPassword = "site manager e2e"

// siteStack is a demo relay (sites site-01…03, user duty) with a site
// manager for each of site-01 (mgr1) and site-02 (mgr2), a simulator
// publishing site-01's first cameras, and a console backend signed in as
// the duty officer, serving the built view.
type siteStack struct {
	relay   *relay.Relay
	creds   relay.DemoCredentials
	backend *console.Backend
	pageURL string // the console's view, with its secret
	console *apiClient
	duty    *apiClient // the relay's API as the duty officer
}

func startSiteStack(t testing.TB, ctx context.Context, cameras int, clipBefore, clipAfter time.Duration) *siteStack {
	t.Helper()
	room := startDutyRoom(t, ctx, dutyRoomOptions{Cameras: cameras, Users: []relaytest.User{
		{Name: "mgr1", Role: "site_manager", Sites: []string{"site-01"}, Password: managerPassword},
		{Name: "mgr2", Role: "site_manager", Sites: []string{"site-02"}, Password: managerPassword},
	}})
	r, creds := room.relay, room.creds

	backend, pageURL := serveConsole(t, ctx, console.Options{RelayURL: r.URL(), User: creds.User, Password: creds.Password,
		DataDir: filepath.Join(room.dir, "console"), Log: room.log, ClipBefore: clipBefore, ClipAfter: clipAfter})
	u, err := url.Parse(pageURL)
	if err != nil {
		t.Fatal(err)
	}
	s := &siteStack{relay: r, creds: creds, backend: backend, pageURL: pageURL,
		console: &apiClient{t: t, base: "http://" + u.Host, token: u.Query().Get("token")},
		duty:    room.duty}
	return s
}

// apiClient calls a JSON API with a bearer token: the console's (its
// per-launch secret) or the relay's (a login token).
type apiClient struct {
	t     testing.TB
	base  string
	token string
}

func relayLogin(t testing.TB, base, user, password string) *apiClient {
	t.Helper()
	c := &apiClient{t: t, base: base}
	var out struct{ Token string }
	if status, b := c.do("POST", "/api/v1/login", map[string]string{"user": user, "password": password}, &out); status != 200 {
		t.Fatalf("relay login of %s: %d %s", user, status, b)
	}
	c.token = out.Token
	return c
}

// do sends body as JSON (when not nil) and decodes a 2xx answer into out
// (when not nil); it returns the status and the body.
func (c *apiClient) do(method, path string, body, out any) (int, []byte) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode/100 == 2 {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: decoding %q: %v", method, path, b, err)
		}
	}
	return resp.StatusCode, b
}

// consoleFinding is what these tests read of the console's Finding.
type consoleFinding struct {
	ID         string `json:"id"`
	Camera     string `json:"camera"`
	Site       string `json:"site"`
	Status     string `json:"status"`
	StatusNote string `json:"status_note"`
	Snapshot   *struct {
		State string `json:"state"`
	} `json:"snapshot"`
	Clip *struct {
		State string `json:"state"`
	} `json:"clip"`
	Forward *struct {
		State string `json:"state"`
		Error string `json:"error"`
	} `json:"forward"`
}

func (f consoleFinding) String() string {
	b, _ := json.Marshal(f)
	return string(b)
}

func (c *apiClient) consoleFinding(id string) consoleFinding {
	c.t.Helper()
	var f consoleFinding
	if status, b := c.do("GET", "/api/v1/findings/"+id, nil, &f); status != 200 {
		c.t.Fatalf("console GET finding %s: %d %s", id, status, b)
	}
	return f
}

// relayFinding is what these tests read of the relay's Finding.
type relayFinding struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	Evidence struct {
		Snapshot *struct{ Bytes int64 }  `json:"snapshot"`
		Clip     *struct{ Bytes int64 }  `json:"clip"`
		Photos   []struct{ Name string } `json:"photos"`
	} `json:"evidence"`
}

// sitePageClient is a site manager's browser without the rendering: a
// cookie jar signed in to the relay's /site/ page.
type sitePageClient struct {
	t    testing.TB
	base string
	http *http.Client
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]*)"`)

func signInSitePage(t testing.TB, base, user, password string) *sitePageClient {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	pc := &sitePageClient{t: t, base: base, http: &http.Client{Jar: jar}}
	_, form := pc.get("/site/login")
	m := csrfField.FindStringSubmatch(form)
	if m == nil {
		t.Fatalf("no sign-in form: %.300s", form)
	}
	resp, err := pc.http.PostForm(base+"/site/login", url.Values{"csrf": {m[1]}, "user": {user}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), `class="findings"`) {
		t.Fatalf("site page sign-in of %s: %d %.300s", user, resp.StatusCode, page)
	}
	return pc
}

func (pc *sitePageClient) get(path string) (int, string) {
	pc.t.Helper()
	resp, err := pc.http.Get(pc.base + path)
	if err != nil {
		pc.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// openSitePage opens a tab in the browser of bctx, signs in to the relay's
// site page as user and leaves it on the list.
func openSitePage(t testing.TB, bctx context.Context, base, user string) context.Context {
	t.Helper()
	tab, cancel := chromedp.NewContext(bctx)
	t.Cleanup(cancel)
	if err := chromedp.Do(tab,
		chromedp.Navigate(base+"/site/"),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/site/login"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=user]`), user),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), managerPassword),
		chromedp.Submit(chromedp.CSS(`form[action="/site/login"]`)),
		chromedp.WaitVisible(chromedp.CSS(`main[data-cursor] h1`)),
	); err != nil {
		t.Fatalf("signing in to the site page as %s: %v", user, err)
	}
	return tab
}

// jsTrue polls a JavaScript condition in a page until it holds; errors
// (a form's submission replacing the page) count as not yet.
func jsTrue(t *testing.T, ctx context.Context, what string, within time.Duration, js string) {
	t.Helper()
	waitFor(t, what, within, func() (bool, string) {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
		return err == nil && ok, fmt.Sprintf("%s: %v, %v", js, ok, err)
	})
}

// photoPNG writes a PNG of the kind a phone's photo is (smaller).
func photoPNG(t testing.TB) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 160, 120))
	for y := range 120 {
		for x := range 160 {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y * 2), 90, 255})
		}
	}
	p := filepath.Join(t.TempDir(), "rectified.png")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSiteLoop is issue 6's loop across the real parts: the duty officer
// flags a deviation in the console's view (keyboard, the frame on screen,
// a clip from the live camera); the finding appears on the open page of
// the site's manager without a reload, with its snapshot and a clip that
// plays; the manager acknowledges and reports rectification with a note
// and a photo; the console sees both through its changes consumer; the
// officer verifies from the console, and the relay and the site page say
// verified; another site's manager gets 404 for all of it.
func TestSiteLoop(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	const clipBefore, clipAfter = 2 * time.Second, time.Second
	s := startSiteStack(t, ctx, 1, clipBefore, clipAfter)
	bctx := newBrowser(t, ctx)

	if err := chromedp.Do(bctx, chromedp.Navigate(s.pageURL), chromedp.WaitVisible(chromedp.CSS(`[data-grid]`))); err != nil {
		t.Fatalf("opening the console's view: %v", err)
	}
	// A tab of the same browser, living as long as the test.
	site := openSitePage(t, bctx, s.relay.URL(), "mgr1")
	step(t, "the site manager's list is open", func(t *testing.T) {
		if n := eval[int](t, site, `document.querySelectorAll('li.finding').length`); n != 0 {
			t.Fatalf("%d findings before any was flagged", n)
		}
		eval[bool](t, site, `window.__notReloaded = true`)
	})

	var id string
	step(t, "the officer flags a deviation with f and Enter", func(t *testing.T) {
		var tile string
		tile = liveTile(t, bctx, "site-01/doff1")
		drawnFor(t, bctx, tile, clipBefore)
		if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-tile-id=%q]`, tile))),
			chromedp.KeyEvent("f"), chromedp.WaitVisible(chromedp.CSS(`[data-overlay="flag"]`)),
			chromedp.KeyEvent(kb.Enter), chromedp.WaitNotPresent(chromedp.CSS(`[data-overlay="flag"]`))); err != nil {
			t.Fatalf("flagging: %v", err)
		}
		waitFor(t, "the finding in the console", 10*time.Second, func() (bool, string) {
			var list struct{ Findings []consoleFinding }
			status, b := s.console.do("GET", "/api/v1/findings", nil, &list)
			if status == 200 && len(list.Findings) == 1 {
				id = list.Findings[0].ID
			}
			return id != "", fmt.Sprintf("%d %s", status, b)
		})
		if f := s.console.consoleFinding(id); f.Site != "site-01" || f.Camera != "doff1" || f.Snapshot == nil {
			t.Fatalf("flagged %s", f)
		}
	})

	step(t, "it appears on the open site page, snapshot shown and clip playing", func(t *testing.T) {
		jsTrue(t, site, "the finding's row on the list, without a reload", 15*time.Second,
			fmt.Sprintf(`!!document.querySelector('li.finding[data-id=%q]') && window.__notReloaded === true`, id))
		// The clip is cut after the flag and sent after it.
		waitFor(t, "the console's clip complete and everything at the relay", 30*time.Second, func() (bool, string) {
			f := s.console.consoleFinding(id)
			var rf relayFinding
			s.duty.do("GET", "/api/v1/findings/"+id, nil, &rf)
			return f.Clip != nil && f.Clip.State == "complete" && f.Forward != nil && f.Forward.State == "forwarded" &&
				rf.Evidence.Snapshot != nil && rf.Evidence.Clip != nil, f.String()
		})
		if err := chromedp.Do(site, chromedp.Click(chromedp.CSS(fmt.Sprintf(`li.finding[data-id=%q] a`, id))),
			chromedp.WaitVisible(chromedp.CSS(`#acknowledge`))); err != nil {
			t.Fatal(err)
		}
		jsTrue(t, site, "the snapshot loaded", 10*time.Second,
			`(() => { const i = document.getElementById('snapshot'); return !!i && i.complete && i.naturalWidth > 0; })()`)
		if _, err := chromedp.Run(site, chromedp.Evaluate[bool](`document.getElementById('clip').play().then(() => true)`, chromedp.EvalAwaitPromise)); err != nil {
			t.Fatalf("playing the clip: %v", err)
		}
		first := eval[float64](t, site, `document.getElementById('clip').currentTime`)
		jsTrue(t, site, "the clip playing", 10*time.Second,
			fmt.Sprintf(`(() => { const v = document.getElementById('clip'); return v.readyState >= 2 && v.videoWidth > 0 && v.currentTime > %f + 0.3; })()`, first))
		eval[bool](t, site, `(() => { const v = document.getElementById('clip'); v.pause(); return true; })()`)
	})

	const rectifyNote = "已重新培训脱卸顺序 / doffing order retrained"
	step(t, "the manager acknowledges; the console sees it", func(t *testing.T) {
		if err := chromedp.Do(site,
			chromedp.SendKeys(chromedp.CSS(`#acknowledge textarea[name=note]`), "收到"),
			chromedp.Submit(chromedp.CSS(`#acknowledge`))); err != nil {
			t.Fatal(err)
		}
		jsTrue(t, site, "the rectify form", 10*time.Second, `document.readyState === 'complete' && !!document.getElementById('rectify')`)
		waitFor(t, "acknowledged in the console", 15*time.Second, func() (bool, string) {
			f := s.console.consoleFinding(id)
			return f.Status == "acknowledged", f.String()
		})
	})

	step(t, "the manager reports rectification with a note and a photo; the console sees it", func(t *testing.T) {
		if err := chromedp.Do(site,
			chromedp.SendKeys(chromedp.CSS(`#rectify textarea[name=note]`), rectifyNote),
			chromedp.SetUploadFiles(chromedp.CSS(`#rectify input[name=photos]`), []string{photoPNG(t)}),
			chromedp.Submit(chromedp.CSS(`#rectify`))); err != nil {
			t.Fatal(err)
		}
		jsTrue(t, site, "the photo on the finding's page", 10*time.Second,
			`document.querySelectorAll('img.photo').length === 1 && document.querySelector('img.photo').naturalWidth === 160`)
		waitFor(t, "rectified, with the note, in the console", 15*time.Second, func() (bool, string) {
			f := s.console.consoleFinding(id)
			return f.Status == "rectified" && f.StatusNote == rectifyNote, f.String()
		})
		eval[bool](t, site, `window.__notReloaded = true`)
	})

	step(t, "the officer verifies from the console; the relay and the open site page say verified", func(t *testing.T) {
		if status, b := s.console.do("POST", "/api/v1/findings/"+id+"/verify", map[string]string{"note": "re-checked on camera: done"}, nil); status != 200 {
			t.Fatalf("verify: %d %s", status, b)
		}
		waitFor(t, "verified at the relay", 15*time.Second, func() (bool, string) {
			var rf relayFinding
			status, b := s.duty.do("GET", "/api/v1/findings/"+id, nil, &rf)
			return status == 200 && rf.Status == "verified" && len(rf.Evidence.Photos) == 1, string(b)
		})
		jsTrue(t, site, "verified on the open page, without a reload", 15*time.Second,
			`document.querySelector('article[data-id]').classList.contains('status-verified') && !document.getElementById('rectify') && window.__notReloaded === true`)
		if f := s.console.consoleFinding(id); f.Status != "verified" {
			t.Errorf("the console says %s", f)
		}
	})

	step(t, "another site's manager gets 404 for all of it", func(t *testing.T) {
		mgr2 := signInSitePage(t, s.relay.URL(), "mgr2", managerPassword)
		for _, path := range []string{"/site/findings/" + id, "/site/evidence/" + id + "/snapshot", "/site/evidence/" + id + "/clip",
			"/site/evidence/" + id + "/photo-1"} {
			if status, _ := mgr2.get(path); status != 404 {
				t.Errorf("mgr2 GET %s: %d, want 404", path, status)
			}
		}
		if _, list := mgr2.get("/site/"); strings.Contains(list, id) {
			t.Error("mgr2's list names the finding")
		}
		api := relayLogin(t, s.relay.URL(), "mgr2", managerPassword)
		for _, path := range []string{"/api/v1/findings/" + id, "/api/v1/evidence/" + id + "/snapshot", "/api/v1/evidence/" + id + "/clip"} {
			if status, b := api.do("GET", path, nil, nil); status != 404 && status != 403 {
				t.Errorf("mgr2 GET %s: %d %s, want 403 or 404", path, status, b)
			}
		}
		// The same paths answer site-01's manager: the 404s are not a broken route.
		mgr1 := signInSitePage(t, s.relay.URL(), "mgr1", managerPassword)
		if status, _ := mgr1.get("/site/evidence/" + id + "/photo-1"); status != 200 {
			t.Errorf("mgr1 GET the photo: %d", status)
		}
	})
}
