package console

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/gorilla/websocket"
	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/console/relayclient"
	"github.com/qianliyan/qianliyan/console/server"
	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/relay/peer"
	"github.com/qianliyan/qianliyan/relay/relaytest"
)

// within bounds what the tests wait for: it only catches a hang.
const within = eventually.Ceiling

var assets = fstest.MapFS{"index.html": {Data: []byte("<!doctype html><html><head></head><body>千里眼</body></html>")}}

// options signs in to relay at start as its demo duty officer; with no
// relay, the backend starts signed out.
func options(t *testing.T, relay *relaytest.Relay) Options {
	o := Options{
		DataDir: t.TempDir() + "/data", Assets: assets,
		Log: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel),
	}
	if relay != nil {
		creds := relay.Demo()
		o.RelayURL, o.User, o.Password = relay.URL(), creds.User, creds.Password
	}
	return o
}

// doff1 is the camera the tests' relays publish.
var doff1 = relaytest.Options{Cameras: []string{"site-01/doff1"}}

// deleted waits for the relay's n-th WHEP session (from 0) to end, and
// fails unless the viewer ended it with a DELETE.
func deleted(t *testing.T, relay *relaytest.Relay, n int) {
	t.Helper()
	if s := relay.WaitEnded(t, n); s.EndReason != peer.ReasonDeleted {
		t.Fatalf("WHEP session #%d ended %q, want by the viewer's DELETE", n, s.EndReason)
	}
}

func start(t *testing.T, opts Options) *Backend {
	t.Helper()
	b, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(context.Background()); err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func getJSON(t *testing.T, target, auth string, out any) int {
	t.Helper()
	req, err := http.NewRequest("GET", target, nil)
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
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("GET %s: %v", target, err)
		}
	}
	return resp.StatusCode
}

// firstPicture connects to the bridge and waits for the first access unit,
// which must follow a config event.
func firstPicture(t *testing.T, bridgeURL, token, origin string) *websocket.Conn {
	t.Helper()
	q := url.Values{"camera": {"site-01/doff1"}, "stream": {"main"}, "token": {token}}
	ws, resp, err := websocket.DefaultDialer.Dial(bridgeURL+"?"+q.Encode(), http.Header{"Origin": {origin}})
	if err != nil {
		t.Fatalf("dial %s: %v (%v)", bridgeURL, err, resp)
	}
	configured := false
	for {
		_ = ws.SetReadDeadline(time.Now().Add(within))
		kind, b, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("reading bridge: %v", err)
		}
		if kind == websocket.TextMessage {
			configured = configured || strings.Contains(string(b), `"type":"config"`)
			continue
		}
		if !configured || b[0]&1 == 0 {
			t.Fatalf("first picture: configured %v, flags %x", configured, b[0])
		}
		return ws
	}
}

func TestNewChecksOptions(t *testing.T) {
	good := Options{RelayURL: "http://127.0.0.1:1", User: "duty", Password: "pw", DataDir: t.TempDir(), Assets: assets}
	cases := []struct {
		name   string
		change func(*Options)
		want   string // "" = accepted
	}{
		{"all given", func(o *Options) {}, ""},
		{"signed-out start", func(o *Options) { o.RelayURL, o.User, o.Password = "", "", "" }, ""},
		{"relay only", func(o *Options) { o.User, o.Password = "", "" }, ""},
		{"bad relay", func(o *Options) { o.RelayURL = "relay:8080" }, "relay URL"},
		{"camera without site", func(o *Options) { o.Camera = "doff1" }, "want SITE/CAMERA"},
		{"camera too deep", func(o *Options) { o.Camera = "a/b/c" }, "want SITE/CAMERA"},
		{"no data dir", func(o *Options) { o.DataDir = "" }, "data directory"},
		{"no assets", func(o *Options) { o.Assets = nil }, "assets"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := good
			c.change(&o)
			_, err := New(o)
			if c.want == "" && err != nil {
				t.Fatal(err)
			}
			if c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
				t.Fatalf("got %v, want an error about %q", err, c.want)
			}
		})
	}
}

func TestServeMode(t *testing.T) {
	relay := relaytest.Start(t, doff1)
	b := start(t, options(t, relay))
	if _, err := b.Serve(context.Background(), "0.0.0.0:0"); err == nil {
		t.Fatal("served on all interfaces")
	}
	pageURL, err := b.Serve(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`^(http://127\.0\.0\.1:\d+)/\?token=([A-Za-z0-9_-]{40,})$`).FindStringSubmatch(pageURL)
	if m == nil {
		t.Fatalf("page URL %q", pageURL)
	}
	base, token := m[1], m[2]

	resp, err := http.Get(pageURL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "千里眼") {
		t.Fatalf("page: %d %q", resp.StatusCode, page)
	}

	var e struct{ Error struct{ Code string } }
	if code := getJSON(t, base+"/api/v1/bootstrap", "", &e); code != 401 || e.Error.Code != "unauthorized" {
		t.Fatalf("bootstrap without token: %d %+v", code, e)
	}
	var boot server.Bootstrap
	if code := getJSON(t, base+"/api/v1/bootstrap", "Bearer "+token, &boot); code != 200 {
		t.Fatalf("bootstrap: %d", code)
	}
	want := server.Bootstrap{Bridge: "ws://" + strings.TrimPrefix(base, "http://") + "/ws/video", Token: token, Relay: relay.URL(),
		User: &relayclient.User{Name: "duty", Role: "duty"}, DefaultCamera: "site-01/doff1"}
	if !reflect.DeepEqual(boot, want) {
		t.Fatalf("bootstrap %+v, want %+v", boot, want)
	}
	var list struct{ Cameras []relayclient.Camera }
	if code := getJSON(t, base+"/api/v1/cameras?token="+token, "", &list); code != 200 || len(list.Cameras) != 12 {
		t.Fatalf("cameras: %d %+v", code, list)
	}

	// The browser's bridge is on the page's own address and origin.
	ws := firstPicture(t, boot.Bridge, token, base)
	ws.Close()
	q := url.Values{"camera": {"site-01/doff1"}, "token": {token}}
	if _, resp, err := websocket.DefaultDialer.Dial(boot.Bridge+"?"+q.Encode(), http.Header{"Origin": {"http://127.0.0.1:1"}}); err == nil || resp.StatusCode != 403 {
		t.Fatalf("foreign origin: %v %v", err, resp)
	}

	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	deleted(t, relay, 0)
	if _, err := http.Get(pageURL); err == nil {
		t.Fatal("still serving after Close")
	}
}

func TestWailsMode(t *testing.T) {
	relay := relaytest.Start(t, doff1)
	opts := options(t, relay)
	opts.Camera = "site-01/doff2"
	b, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	// Wails serves the page before OnStartup has signed in: bootstrap waits.
	assetServer := httptest.NewServer(b.AssetHandler())
	defer assetServer.Close()
	got := make(chan server.Bootstrap, 1)
	go func() {
		var boot server.Bootstrap
		getJSON(t, assetServer.URL+"/api/v1/bootstrap", "", &boot)
		got <- boot
	}()
	time.Sleep(50 * time.Millisecond)
	if err := b.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	var boot server.Bootstrap
	select {
	case boot = <-got:
	case <-time.After(within):
		t.Fatal("bootstrap did not answer after Start")
	}
	if !strings.HasPrefix(boot.Bridge, "ws://127.0.0.1:") || boot.Token == "" || boot.DefaultCamera != "site-01/doff2" {
		t.Fatalf("bootstrap %+v", boot)
	}
	ws := firstPicture(t, boot.Bridge, boot.Token, WailsOrigin)
	ws.Close()

	// The loopback port is guarded even though the AssetServer is not.
	loopback := "http" + strings.TrimSuffix(strings.TrimPrefix(boot.Bridge, "ws"), "/ws/video")
	if code := getJSON(t, loopback+"/api/v1/bootstrap", "", nil); code != 401 {
		t.Fatalf("loopback bootstrap without token: %d", code)
	}
	q := url.Values{"camera": {"site-01/doff1"}, "token": {boot.Token}}
	if _, resp, err := websocket.DefaultDialer.Dial(boot.Bridge+"?"+q.Encode(), http.Header{"Origin": {"http://127.0.0.1:8080"}}); err == nil || resp.StatusCode != 403 {
		t.Fatalf("web origin on the window's bridge: %v %v", err, resp)
	}
}

func TestServeBeforeStartAndCancel(t *testing.T) {
	relay := relaytest.Start(t, relaytest.Options{})
	b, err := New(options(t, relay))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Serve(context.Background(), "127.0.0.1:0"); err == nil {
		t.Fatal("served before Start")
	}
	// Cancelling Start's context stops the backend as Close does.
	ctx, cancel := context.WithCancel(context.Background())
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(ctx); err == nil {
		t.Fatal("started twice")
	}
	pageURL, err := b.Serve(context.Background(), "localhost:0")
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	deadline := time.Now().Add(within)
	for {
		resp, err := http.Get(pageURL)
		if err != nil {
			break
		}
		resp.Body.Close()
		if time.Now().After(deadline) {
			t.Fatal("still serving after the context was cancelled")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
}
