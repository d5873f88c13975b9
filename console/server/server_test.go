package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/console/internal/relaytest"
	"github.com/qianliyan/qianliyan/console/relayclient"
)

const token = "launch-secret-for-tests"

var assets = fstest.MapFS{
	"index.html":        {Data: []byte("<!doctype html><html><head></head><body>qianliyan</body></html>")},
	"assets/index-1.js": {Data: []byte("console.log(1)")},
	"favicon.svg":       {Data: []byte("<svg/>")},
	"assets/sub/x.css":  {Data: []byte("body{}")},
}

// signedIn is the console as the API sees it: a relay session that is
// ready once ready is closed, and the relay's real camera list.
type signedIn struct {
	relay *relayclient.Client
	ready chan struct{}
	err   error
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
	return Bootstrap{Bridge: "ws://127.0.0.1:1/ws/video", Relay: c.relay.BaseURL(), User: c.relay.User(), DefaultCamera: "site-01/doff1"}, nil
}

func (c *signedIn) Cameras(ctx context.Context) ([]relayclient.Camera, error) {
	return c.relay.Cameras(ctx)
}

func newConsole(t *testing.T) (*signedIn, *relaytest.Relay) {
	t.Helper()
	relay := relaytest.Start(t, relaytest.Options{})
	rc, err := relayclient.New(relay.URL(), relayclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rc.Login(context.Background(), relaytest.User, relaytest.Password); err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	close(ready)
	return &signedIn{relay: rc, ready: ready}, relay
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
	h := New(Options{Assets: assets, Console: c, Secret: token, Bridge: bridgeStub, Log: zerolog.Nop()})
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
		b.Token != token || b.User.Name != "duty" || b.DefaultCamera != "site-01/doff1" || !strings.HasPrefix(b.Relay, "http://127.0.0.1:") {
		t.Fatalf("bootstrap %+v", b)
	}

	a = get(t, h, "GET", "/api/v1/cameras", "Bearer "+token)
	var list struct{ Cameras []relayclient.Camera }
	if err := json.Unmarshal([]byte(a.body), &list); err != nil || len(list.Cameras) != 2 || list.Cameras[0].Name["en"] != "Doffing room 1" {
		t.Fatalf("cameras %s (%v)", a.body, err)
	}
}

func TestTrustedAPI(t *testing.T) {
	c, _ := newConsole(t)
	h := New(Options{Assets: assets, Console: c, Secret: token, Trusted: true, Log: zerolog.Nop()})
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

func TestBootstrapBeforeAndAfterSignIn(t *testing.T) {
	c, _ := newConsole(t)
	c.ready = make(chan struct{})
	h := New(Options{Assets: assets, Console: c, Secret: token, Trusted: true, BootstrapWait: 50 * time.Millisecond, Log: zerolog.Nop()})
	a := get(t, h, "GET", "/api/v1/bootstrap", "")
	if a.status != 503 || errorCode(t, a.body) != "starting" || a.header.Get("Retry-After") == "" {
		t.Fatalf("while signing in: %d %s", a.status, a.body)
	}
	c.err = errors.New("signing in to relay: wrong user or password")
	close(c.ready)
	a = get(t, h, "GET", "/api/v1/bootstrap", "")
	if a.status != 503 || errorCode(t, a.body) != "sign_in_failed" || !strings.Contains(a.body, "wrong user or password") {
		t.Fatalf("after a failed sign-in: %d %s", a.status, a.body)
	}
}

func TestCamerasWhenRelayIsDown(t *testing.T) {
	c, relay := newConsole(t)
	h := New(Options{Assets: assets, Console: c, Secret: token, Trusted: true, Log: zerolog.Nop()})
	relay.Close()
	a := get(t, h, "GET", "/api/v1/cameras", "")
	if a.status != http.StatusBadGateway || errorCode(t, a.body) != "relay_unreachable" {
		t.Fatalf("%d %s", a.status, a.body)
	}
}

func TestStatic(t *testing.T) {
	c, _ := newConsole(t)
	h := New(Options{Assets: assets, Console: c, Secret: token, Log: zerolog.Nop()})
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
	if a := get(t, New(Options{Console: c, Secret: token}), "GET", "/", ""); a.status != 404 {
		t.Fatalf("no assets: %d", a.status)
	}
}
