package server

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/console/events"
	"github.com/qianliyan/qianliyan/console/relayclient"
	"github.com/qianliyan/qianliyan/console/relayclient/relayclienttest"
	"github.com/qianliyan/qianliyan/console/store"
	"github.com/qianliyan/qianliyan/console/wall"
	"github.com/qianliyan/qianliyan/internal/fault"
	"github.com/qianliyan/qianliyan/relay/relaytest"
)

const token = "launch-secret-for-tests"

var assets = fstest.MapFS{
	"index.html":        {Data: []byte("<!doctype html><html><head></head><body>qianliyan</body></html>")},
	"assets/index-1.js": {Data: []byte("console.log(1)")},
	"favicon.svg":       {Data: []byte("<svg/>")},
	"assets/sub/x.css":  {Data: []byte("body{}")},
}

// signedIn is the console as the API sees it: a relay session that is
// ready once ready is closed, the relay's real camera list and a real
// event hub. Signing in and out is the console package's, tested there.
type signedIn struct {
	relay    *relayclient.Client
	password string // the relay's for the user
	hub      *events.Hub
	ready    chan struct{}
	err      error
}

func (c *signedIn) Session(context.Context) Session {
	u := c.relay.User()
	return Session{SignedIn: true, Relay: c.relay.BaseURL(), User: &u, ExpiresAt: c.relay.Session().ExpiresAt}
}

func (c *signedIn) SignIn(_ context.Context, in SignIn) (Session, error) {
	if in.Password != c.password {
		return Session{}, fault.New(fault.Unauthenticated, "wrong_password", "the relay refused")
	}
	return c.Session(context.Background()), nil
}

func (c *signedIn) SignOut(context.Context) error { return nil }

func (c *signedIn) Events() *events.Subscription { return c.hub.Subscribe() }

// storeWall is the wall of one user in a real store.
type storeWall struct {
	st   *store.Store
	user string
}

func (w storeWall) Layouts(ctx context.Context) ([]wall.Layout, error) {
	return w.st.Layouts(ctx, w.user)
}

func (w storeWall) PutLayout(ctx context.Context, l wall.Layout) (wall.Layout, error) {
	return l, w.st.PutLayout(ctx, w.user, l)
}

func (w storeWall) DeleteLayout(ctx context.Context, name string) error {
	return w.st.DeleteLayout(ctx, w.user, name)
}

func (w storeWall) Tours(ctx context.Context) ([]wall.Tour, error) { return w.st.Tours(ctx, w.user) }

func (w storeWall) PutTour(ctx context.Context, t wall.Tour) (wall.Tour, error) {
	return t, w.st.PutTour(ctx, w.user, t)
}

func (w storeWall) DeleteTour(ctx context.Context, name string) error {
	return w.st.DeleteTour(ctx, w.user, name, false)
}

func newWall(t *testing.T) storeWall {
	st, err := store.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return storeWall{st: st, user: "duty"}
}

func (c *signedIn) Bootstrap(ctx context.Context) (Bootstrap, error) {
	select {
	case <-c.ready:
	case <-ctx.Done():
		return Bootstrap{}, ctx.Err()
	}
	if c.err != nil {
		return Bootstrap{}, c.err
	}
	u := c.relay.User()
	return Bootstrap{Bridge: "ws://127.0.0.1:1/ws/video", Relay: c.relay.BaseURL(), User: &u, DefaultCamera: "site-01/doff1"}, nil
}

func (c *signedIn) Cameras(ctx context.Context) ([]relayclient.Camera, error) {
	return c.relay.Cameras(ctx)
}

func newConsole(t *testing.T) (*signedIn, *relaytest.Relay) {
	t.Helper()
	relay := relaytest.Start(t, relaytest.Options{})
	creds := relay.Demo()
	rc := relayclienttest.SignedIn(t, relay.URL(), creds.User, creds.Password)
	ready := make(chan struct{})
	close(ready)
	hub := events.New(events.Options{})
	t.Cleanup(hub.Close)
	return &signedIn{relay: rc, password: creds.Password, hub: hub, ready: ready}, relay
}

// bridgeStub stands where the video bridge is mounted; the bridge has its
// own tests, these check only that the secret guards the path.
var bridgeStub = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "bridge") })

type answer struct {
	status int
	header http.Header
	body   string
}

func get(t *testing.T, h http.Handler, method, target, auth string) answer {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	req, err := http.NewRequest(method, srv.URL+target, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(b)}
}

func errorCode(t *testing.T, body string) string {
	t.Helper()
	var e struct {
		Error struct{ Code, Message string }
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error.Message == "" {
		t.Fatalf("not a JSON error: %q", body)
	}
	return e.Error.Code
}

func TestGuardedAPI(t *testing.T) {
	c, _ := newConsole(t)
	h := New(Options{Assets: assets, Console: c, Wall: newWall(t), Secret: token, Bridge: bridgeStub, Log: zerolog.Nop()})
	cases := []struct {
		name, method, target, auth string
		status                     int
		code                       string
	}{
		{"bootstrap without secret", "GET", "/api/v1/bootstrap", "", 401, "unauthorized"},
		{"bootstrap wrong secret", "GET", "/api/v1/bootstrap", "Bearer nope", 401, "unauthorized"},
		{"bootstrap secret in query", "GET", "/api/v1/bootstrap?token=" + token, "", 200, ""},
		{"cameras without secret", "GET", "/api/v1/cameras", "", 401, "unauthorized"},
		{"cameras", "GET", "/api/v1/cameras", "Bearer " + token, 200, ""},
		{"bridge without secret", "GET", "/ws/video?camera=site-01/doff1", "", 401, "unauthorized"},
		{"bridge", "GET", "/ws/video?token=" + token, "", 200, ""},
		{"unknown API", "GET", "/api/v1/nope", "Bearer " + token, 404, "not_found"},
		{"unknown API without secret", "GET", "/api/v1/nope", "", 401, "unauthorized"},
		{"API wrong method", "POST", "/api/v1/cameras", "Bearer " + token, 405, "method_not_allowed"},
		{"page needs no secret", "GET", "/", "", 200, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := get(t, h, c.method, c.target, c.auth)
			if a.status != c.status {
				t.Fatalf("status %d, want %d: %s", a.status, c.status, a.body)
			}
			if c.code != "" && errorCode(t, a.body) != c.code {
				t.Fatalf("body %s, want code %q", a.body, c.code)
			}
			if a.header.Get("Referrer-Policy") != "no-referrer" {
				t.Fatal("no Referrer-Policy")
			}
		})
	}

	a := get(t, h, "GET", "/api/v1/bootstrap", "Bearer "+token)
	var b Bootstrap
	if err := json.Unmarshal([]byte(a.body), &b); err != nil {
		t.Fatal(err)
	}
	// The browser is sent to the bridge on the address it used.
	if !strings.HasPrefix(b.Bridge, "ws://127.0.0.1:") || !strings.HasSuffix(b.Bridge, "/ws/video") || b.Bridge == "ws://127.0.0.1:1/ws/video" ||
		b.Token != token || b.User == nil || b.User.Name != "duty" || b.DefaultCamera != "site-01/doff1" || !strings.HasPrefix(b.Relay, "http://127.0.0.1:") {
		t.Fatalf("bootstrap %+v", b)
	}

	a = get(t, h, "GET", "/api/v1/cameras", "Bearer "+token)
	var list struct{ Cameras []relayclient.Camera }
	if err := json.Unmarshal([]byte(a.body), &list); err != nil || len(list.Cameras) != 12 || list.Cameras[0].Name["en"] != "Doffing room 1" {
		t.Fatalf("cameras %s (%v)", a.body, err)
	}
}

func TestTrustedAPI(t *testing.T) {
	c, _ := newConsole(t)
	h := New(Options{Assets: assets, Console: c, Wall: newWall(t), Secret: token, Trusted: true, Log: zerolog.Nop()})
	a := get(t, h, "GET", "/api/v1/bootstrap", "")
	var b Bootstrap
	if err := json.Unmarshal([]byte(a.body), &b); err != nil || a.status != 200 {
		t.Fatalf("%d %s", a.status, a.body)
	}
	// The webview reaches the bridge on the console's loopback port.
	if b.Bridge != "ws://127.0.0.1:1/ws/video" || b.Token != token {
		t.Fatalf("bootstrap %+v", b)
	}
	if a := get(t, h, "GET", "/ws/video?token="+token, ""); a.status != 404 || errorCode(t, a.body) != "not_found" {
		t.Fatalf("bridge through the AssetServer: %d %s", a.status, a.body)
	}
}

func TestBootstrapBeforeAndAfterStart(t *testing.T) {
	c, _ := newConsole(t)
	c.ready = make(chan struct{})
	h := New(Options{Assets: assets, Console: c, Wall: newWall(t), Secret: token, Trusted: true, BootstrapWait: 50 * time.Millisecond, Log: zerolog.Nop()})
	a := get(t, h, "GET", "/api/v1/bootstrap", "")
	if a.status != 503 || errorCode(t, a.body) != "starting" || a.header.Get("Retry-After") == "" {
		t.Fatalf("while signing in: %d %s", a.status, a.body)
	}
	c.err = errors.New("opening the console's store: disk full")
	close(c.ready)
	a = get(t, h, "GET", "/api/v1/bootstrap", "")
	if a.status != 503 || errorCode(t, a.body) != "start_failed" || !strings.Contains(a.body, "disk full") {
		t.Fatalf("after a failed start: %d %s", a.status, a.body)
	}
}

func TestCamerasWhenRelayIsDown(t *testing.T) {
	c, relay := newConsole(t)
	h := New(Options{Assets: assets, Console: c, Wall: newWall(t), Secret: token, Trusted: true, Log: zerolog.Nop()})
	relay.Stop(t)
	a := get(t, h, "GET", "/api/v1/cameras", "")
	if a.status != http.StatusBadGateway || errorCode(t, a.body) != "relay_unreachable" {
		t.Fatalf("%d %s", a.status, a.body)
	}
}

func TestStatic(t *testing.T) {
	c, _ := newConsole(t)
	h := New(Options{Assets: assets, Console: c, Wall: newWall(t), Secret: token, Log: zerolog.Nop()})
	cases := []struct {
		method, target string
		status         int
		body           string
		cache          string
	}{
		{"GET", "/", 200, "qianliyan", "no-cache"},
		{"GET", "/index.html", 200, "qianliyan", "no-cache"},
		{"GET", "/assets/index-1.js", 200, "console.log(1)", "immutable"},
		{"GET", "/assets/sub/x.css", 200, "body{}", "immutable"},
		{"GET", "/favicon.svg", 200, "<svg/>", "no-cache"},
		{"GET", "/cameras/site-01", 200, "qianliyan", "no-cache"}, // a view's route
		{"GET", "/assets/", 200, "qianliyan", "no-cache"},
		{"GET", "/missing.js", 404, "", ""},
		{"GET", "/assets/../missing.js", 404, "", ""},
		{"HEAD", "/", 200, "", "no-cache"},
		{"POST", "/", 405, "", ""},
	}
	for _, c := range cases {
		t.Run(c.method+" "+c.target, func(t *testing.T) {
			a := get(t, h, c.method, c.target, "")
			if a.status != c.status || !strings.Contains(a.body, c.body) || !strings.Contains(a.header.Get("Cache-Control"), c.cache) {
				t.Fatalf("%d %q cache %q", a.status, a.body, a.header.Get("Cache-Control"))
			}
		})
	}
	if a := get(t, New(Options{Console: c, Wall: newWall(t), Secret: token}), "GET", "/", ""); a.status != 404 {
		t.Fatalf("no assets: %d", a.status)
	}
}

// send makes a request with a body and headers and returns the answer.
func send(t *testing.T, h http.Handler, method, target, body string, header http.Header) answer {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	req, err := http.NewRequest(method, srv.URL+target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(b)}
}

// jsonBody is the header of a request whose body is JSON.
var jsonBody = http.Header{"Content-Type": {"application/json"}}

// decoded fails the test unless a has status, and reads its JSON body into v.
func decoded(t *testing.T, a answer, status int, v any) {
	t.Helper()
	if a.status != status {
		t.Fatalf("%d %s, want %d", a.status, a.body, status)
	}
	if err := json.Unmarshal([]byte(a.body), v); err != nil {
		t.Fatalf("%v: %s", err, a.body)
	}
}

func TestWallAPI(t *testing.T) {
	c, _ := newConsole(t)
	h := New(Options{Assets: assets, Console: c, Wall: newWall(t), Secret: token, Log: zerolog.Nop()})
	cases := []struct {
		name, method, target, body string
		header                     http.Header
		status                     int
		code, field                string
	}{
		{"save layout", "PUT", "/api/v1/layouts/night-4", `{"name":"night-4","grid":4,"tiles":["site-01/doff1",null]}`, jsonBody, 200, "", ""},
		{"save layout named by the address", "PUT", "/api/v1/layouts/%E5%A4%9C%E7%8F%AD", `{"grid":1}`, jsonBody, 200, "", ""},
		{"names differ", "PUT", "/api/v1/layouts/a", `{"name":"b","grid":1}`, jsonBody, 400, "bad_request", "name"},
		{"name too long", "PUT", "/api/v1/layouts/" + strings.Repeat("x", 65), `{"grid":1}`, jsonBody, 400, "bad_request", "name"},
		{"bad grid", "PUT", "/api/v1/layouts/a", `{"grid":6}`, jsonBody, 400, "bad_request", "grid"},
		{"grid as text", "PUT", "/api/v1/layouts/a", `{"grid":"four"}`, jsonBody, 400, "invalid_field", "grid"},
		{"too many tiles", "PUT", "/api/v1/layouts/a", `{"grid":1,"tiles":["a/b","c/d"]}`, jsonBody, 400, "bad_request", "tiles"},
		{"bad tile", "PUT", "/api/v1/layouts/a", `{"grid":4,"tiles":[null,"doff1"]}`, jsonBody, 400, "bad_request", "tiles[1]"},
		{"unknown field", "PUT", "/api/v1/layouts/a", `{"grid":4,"colour":"red"}`, jsonBody, 400, "unknown_field", "colour"},
		{"not JSON", "PUT", "/api/v1/layouts/a", `grid=4`, jsonBody, 400, "bad_request", ""},
		{"two values", "PUT", "/api/v1/layouts/a", `{"grid":4}{}`, jsonBody, 400, "bad_request", ""},
		{"not JSON content", "PUT", "/api/v1/layouts/a", `{"grid":4}`, http.Header{"Content-Type": {"text/plain"}}, 415, "bad_content_type", ""},
		{"no content type", "PUT", "/api/v1/layouts/a", `{"grid":4}`, nil, 415, "bad_content_type", ""},
		{"too large", "PUT", "/api/v1/layouts/a", `{"name":"` + strings.Repeat("x", maxBody) + `"}`, jsonBody, 413, "body_too_large", ""},
		{"save tour", "PUT", "/api/v1/tours/rounds", `{"steps":[{"camera":"site-01/doff1","dwell_s":15},{"layout":"night-4","dwell_s":30}]}`, jsonBody, 200, "", ""},
		{"dwell too short", "PUT", "/api/v1/tours/t", `{"steps":[{"camera":"a/b","dwell_s":2}]}`, jsonBody, 400, "bad_request", "steps[0].dwell_s"},
		{"dwell not whole", "PUT", "/api/v1/tours/t", `{"steps":[{"camera":"a/b","dwell_s":7.5}]}`, jsonBody, 400, "invalid_field", "steps.dwell_s"},
		{"missing layout", "PUT", "/api/v1/tours/t", `{"steps":[{"camera":"a/b","dwell_s":5},{"layout":"gone","dwell_s":5}]}`, jsonBody, 400, "bad_request", "steps[1].layout"},
		{"camera and layout", "PUT", "/api/v1/tours/t", `{"steps":[{"camera":"a/b","layout":"night-4","dwell_s":5}]}`, jsonBody, 400, "bad_request", "steps[0]"},
		{"no steps", "PUT", "/api/v1/tours/t", `{"steps":[]}`, jsonBody, 400, "bad_request", "steps"},
		{"layouts take GET only", "POST", "/api/v1/layouts", `{}`, jsonBody, 405, "method_not_allowed", ""},
		{"a layout takes PUT and DELETE", "GET", "/api/v1/layouts/a", "", nil, 405, "method_not_allowed", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := send(t, h, c.method, c.target, c.body, c.header)
			if a.status != c.status {
				t.Fatalf("status %d, want %d: %s", a.status, c.status, a.body)
			}
			if c.code == "" {
				return
			}
			var e struct {
				Error struct{ Code, Message, Field string }
			}
			if err := json.Unmarshal([]byte(a.body), &e); err != nil || e.Error.Code != c.code || e.Error.Field != c.field || e.Error.Message == "" {
				t.Fatalf("body %s, want code %q field %q", a.body, c.code, c.field)
			}
		})
	}
	var ls struct{ Layouts []wall.Layout }
	a := get(t, h, "GET", "/api/v1/layouts", "Bearer "+token)
	if err := json.Unmarshal([]byte(a.body), &ls); err != nil || len(ls.Layouts) != 2 || ls.Layouts[1].Name != "夜班" {
		t.Fatalf("layouts %s", a.body)
	}
	if !strings.Contains(a.body, `"tiles":["site-01/doff1",null]`) {
		t.Fatalf("empty tiles are not null: %s", a.body)
	}
	a = get(t, h, "GET", "/api/v1/tours", "Bearer "+token)
	if !strings.Contains(a.body, `{"tours":[{"name":"rounds","steps":[{"camera":"site-01/doff1","dwell_s":15},{"layout":"night-4","dwell_s":30}]}]}`) {
		t.Fatalf("tours %s", a.body)
	}
	if a := send(t, h, "GET", "/api/v1/layouts", "", nil); a.header.Get("Allow") != "" {
		t.Fatal("Allow on a good answer")
	}
	if a := send(t, h, "POST", "/api/v1/tours", "", nil); a.header.Get("Allow") != "GET, HEAD" {
		t.Fatalf("Allow %q", a.header.Get("Allow"))
	}
}

func TestCORSForTheWindow(t *testing.T) {
	c, _ := newConsole(t)
	h := New(Options{Assets: assets, Console: c, Wall: newWall(t), Secret: token, Origins: []string{"wails://wails"}, Log: zerolog.Nop()})
	cases := []struct {
		name, method, origin string
		header               http.Header
		status               int
		allowed              string
	}{
		{"window", "GET", "wails://wails", nil, 200, "wails://wails"},
		{"other site", "GET", "http://evil.example", nil, 200, ""},
		{"same origin", "GET", "", nil, 200, ""},
		{"window preflight", "OPTIONS", "wails://wails", http.Header{"Access-Control-Request-Method": {"PUT"}}, 204, "wails://wails"},
		{"other site's preflight", "OPTIONS", "http://evil.example", http.Header{"Access-Control-Request-Method": {"PUT"}}, 405, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			hd := http.Header{}
			for k, v := range c.header {
				hd[k] = v
			}
			if c.origin != "" {
				hd.Set("Origin", c.origin)
			}
			a := send(t, h, c.method, "/api/v1/layouts", "", hd)
			if a.status != c.status || a.header.Get("Access-Control-Allow-Origin") != c.allowed {
				t.Fatalf("%d, allowed %q", a.status, a.header.Get("Access-Control-Allow-Origin"))
			}
		})
	}
}

func TestEventStreamFormat(t *testing.T) {
	c, _ := newConsole(t)
	h := New(Options{Assets: assets, Console: c, Wall: newWall(t), Secret: token, KeepAlive: 50 * time.Millisecond, Log: zerolog.Nop()})
	srv := httptest.NewServer(h)
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/api/v1/events?token="+token, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); resp.StatusCode != 200 || mt != "text/event-stream" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("%d %v", resp.StatusCode, resp.Header)
	}
	// A newline in the data cannot end the event early.
	go func() {
		time.Sleep(100 * time.Millisecond)
		c.hub.Publish(events.Event{Name: events.Session, Data: []byte("{\n\"signed_in\":false}")})
	}()
	r := bufio.NewReader(resp.Body)
	var lines []string
	deadline := time.AfterFunc(5*time.Second, cancel)
	defer deadline.Stop()
	for n := len(lines); n < 2 || lines[n-1] != "" || !strings.HasPrefix(lines[n-2], "data: "); n = len(lines) {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("reading stream: %v (so far %q)", err, lines)
		}
		lines = append(lines, strings.TrimSuffix(line, "\n"))
	}
	got := strings.Join(lines, "|")
	if !strings.Contains(got, ": keepalive||") || !strings.HasSuffix(got, `event: session|data: {|data: "signed_in":false}|`) {
		t.Fatalf("stream %q", got)
	}
}
