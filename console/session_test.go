package console

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/console/bridge"
	"github.com/qianliyan/qianliyan/console/relayclient"
	"github.com/qianliyan/qianliyan/console/server"
	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/relay/relaytest"
)

// closedAddress is a loopback address nothing listens on.
func closedAddress(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestSignInFromTheView(t *testing.T) {
	relay := relaytest.Start(t, doff1)
	creds := relay.Demo()
	opts := options(t, nil)
	b := start(t, opts)
	v := serve(t, b)

	if s := v.session(); s.SignedIn || s.Relay != "" {
		t.Fatalf("fresh start: %+v", s)
	}
	v.expectError("GET", "/api/v1/cameras", nil, 401, "signed_out", "")
	v.expectError("GET", "/api/v1/layouts", nil, 401, "signed_out", "")
	stream := v.events()
	var ended server.Session
	if err := json.Unmarshal(stream.next("session"), &ended); err != nil || ended.SignedIn || ended.Reason != "signed_out" {
		t.Fatalf("signed-out stream starts with %+v (%v)", ended, err)
	}

	notRelay := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "<html>router login</html>", http.StatusNotFound)
	}))
	defer notRelay.Close()
	down := "http://" + closedAddress(t)
	good := func(change func(map[string]any)) map[string]any {
		m := map[string]any{"relay": relay.URL(), "user": creds.User, "password": creds.Password}
		change(m)
		return m
	}
	cases := []struct {
		name        string
		body        any
		status      int
		code, field string
		mentions    string
	}{
		{"not JSON", "{relay:", 400, "bad_request", "", ""},
		{"empty body", "", 400, "bad_request", "", ""},
		{"unknown field", good(func(m map[string]any) { m["remember"] = true }), 400, "unknown_field", "remember", ""},
		{"wrong type", good(func(m map[string]any) { m["user"] = 7 }), 400, "invalid_field", "user", ""},
		{"no relay", good(func(m map[string]any) { delete(m, "relay") }), 400, "bad_request", "relay", ""},
		{"relay not a URL", good(func(m map[string]any) { m["relay"] = "relay:8080" }), 400, "bad_request", "relay", ""},
		{"no user", good(func(m map[string]any) { m["user"] = "" }), 400, "bad_request", "user", ""},
		{"no password", good(func(m map[string]any) { delete(m, "password") }), 400, "bad_request", "password", ""},
		{"wrong password", good(func(m map[string]any) { m["password"] = "guess" }), 401, "wrong_password", "", relay.URL()},
		{"unknown user", good(func(m map[string]any) { m["user"] = "nobody" }), 401, "wrong_password", "", ""},
		{"relay down", good(func(m map[string]any) { m["relay"] = down }), 502, "relay_unreachable", "", down},
		{"not a relay", good(func(m map[string]any) { m["relay"] = notRelay.URL }), 502, "relay_error", "", notRelay.URL},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := v.expectError("POST", "/api/v1/session", c.body, c.status, c.code, c.field)
			if !strings.Contains(e.Message, c.mentions) {
				t.Fatalf("message %q does not name %q", e.Message, c.mentions)
			}
		})
	}
	if s := v.session(); s.SignedIn {
		t.Fatal("signed in by a failed attempt")
	}

	var s server.Session
	if code, raw := v.call("POST", "/api/v1/session", good(func(map[string]any) {}), &s); code != 200 {
		t.Fatalf("sign-in: %d %s", code, raw)
	}
	if !s.SignedIn || s.Relay != relay.URL() || s.User == nil || *s.User != (relayclient.User{Name: "duty", Role: "duty"}) || s.ExpiresAt.Before(time.Now()) {
		t.Fatalf("session %+v", s)
	}
	if err := json.Unmarshal(stream.next("session"), &s); err != nil || !s.SignedIn {
		t.Fatalf("sign-in event %+v (%v)", s, err)
	}
	stream.next("cameras")
	var boot server.Bootstrap
	if code, _ := v.call("GET", "/api/v1/bootstrap", nil, &boot); code != 200 || boot.User == nil || boot.DefaultCamera != "site-01/doff1" {
		t.Fatalf("bootstrap after sign-in %+v", boot)
	}
	var list struct{ Cameras []relayclient.Camera }
	if code, raw := v.call("GET", "/api/v1/cameras", nil, &list); code != 200 || len(list.Cameras) != 12 || list.Cameras[0].State != "online" {
		t.Fatalf("cameras: %d %s", code, raw)
	}
	vid := v.video("site-01/doff1", "sub")
	vid.picture()

	// Signing out stops every pull and closes the views' streams.
	if code, raw := v.call("DELETE", "/api/v1/session", nil, nil); code != 204 || len(raw) != 0 {
		t.Fatalf("sign-out: %d %s", code, raw)
	}
	if ce := vid.closed(); ce.Code != bridge.CloseSessionEnded || ce.Text != "signed_out" {
		t.Fatalf("video closed with %v", ce)
	}
	deleted(t, relay, 0)
	if err := json.Unmarshal(stream.next("session"), &s); err != nil || s.SignedIn || s.Reason != "signed_out" {
		t.Fatalf("sign-out event %+v (%v)", s, err)
	}
	if s := v.session(); s.SignedIn || s.Relay != relay.URL() {
		t.Fatalf("after sign-out: %+v; want the last relay offered", s)
	}
	v.expectError("GET", "/api/v1/cameras", nil, 401, "signed_out", "")
	if code, _ := v.call("DELETE", "/api/v1/session", nil, nil); code != 204 {
		t.Fatal("signing out twice")
	}

	// The relay is remembered across launches.
	b.Close()
	again := start(t, opts)
	if s := again.Session(context.Background()); s.SignedIn || s.Relay != relay.URL() {
		t.Fatalf("next launch: %+v", s)
	}
}

func TestSignInAtStart(t *testing.T) {
	relay := relaytest.Start(t, relaytest.Options{})
	cases := []struct {
		name     string
		change   func(*Options)
		signedIn bool
		reason   string
	}{
		{"good", func(*Options) {}, true, ""},
		{"camera not on the relay", func(o *Options) { o.Camera = "site-01/nope" }, true, ""},
		{"wrong password", func(o *Options) { o.Password = "guess" }, false, "wrong_password"},
		{"no password", func(o *Options) { o.Password = "" }, false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opts := options(t, relay)
			c.change(&opts)
			b := start(t, opts)
			s := b.Session(context.Background())
			if s.SignedIn != c.signedIn || s.Reason != c.reason || s.Retrying || s.Relay != relay.URL() {
				t.Fatalf("session %+v", s)
			}
			boot, err := b.Bootstrap(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if c.signedIn != (boot.DefaultCamera == "site-01/doff1") {
				t.Fatalf("bootstrap %+v", boot)
			}
		})
	}
}

// A relay that is down when the console starts is waited for: the view
// shows why, and the console signs in when the relay is back.
func TestSignInAtStartWaitsForTheRelay(t *testing.T) {
	relay := relaytest.Start(t, relaytest.Options{})
	creds, addr := relay.Demo(), strings.TrimPrefix(relay.URL(), "http://")
	relay.Stop(t)

	opts := options(t, relay)
	opts.RetryMin, opts.RetryMax = 100*time.Millisecond, 300*time.Millisecond
	b := start(t, opts)
	v := serve(t, b)
	s := v.session()
	if s.SignedIn || s.Reason != "relay_unreachable" || !s.Retrying || !strings.Contains(s.Message, addr) {
		t.Fatalf("with the relay down: %+v", s)
	}
	stream := v.events()
	stream.next("session")

	relay.Resume(t)
	if err := json.Unmarshal(stream.next("session"), &s); err != nil || !s.SignedIn {
		t.Fatalf("no sign-in event once the relay is up: %+v %v", s, err)
	}
	if s := v.session(); !s.SignedIn || s.Retrying || s.User.Name != creds.User {
		t.Fatalf("after the relay came up: %+v", s)
	}
}

// The token is renewed with the relay's refresh, never by signing in
// again; when the relay refuses, the session ends and every pull stops.
func TestTokenRenewalAndExpiry(t *testing.T) {
	// The console renews on its own clock, ahead of the token's expiry: a
	// relay whose clock is 58 s behind, its tokens lasting a minute, issues
	// tokens that expire two seconds on, so that renewals come every second
	// or so instead of every 48 s.
	relay := relaytest.Start(t, relaytest.Options{Cameras: doff1.Cameras, Config: "auth: {token_ttl: 1m}\n",
		Now: func() time.Time { return time.Now().Add(-58 * time.Second) }})
	b := start(t, options(t, relay))
	v := serve(t, b)
	stream := v.events()
	stream.next("cameras")
	vid := v.video("site-01/doff1", "main")
	vid.picture()

	expiries := map[time.Time]bool{}
	eventually.True(t, within, "two renewals", func() bool {
		s := v.session()
		if !s.SignedIn {
			t.Fatalf("signed out while renewing: %+v", s)
		}
		expiries[s.ExpiresAt] = true
		return len(expiries) >= 3
	})
	if code, raw := v.call("GET", "/api/v1/cameras", nil, nil); code != 200 {
		t.Fatalf("cameras with a renewed token: %d %s", code, raw)
	}
	if n := relay.Logins(t); n != 1 {
		t.Fatalf("%d logins: renewal signed in again", n)
	}

	// The relay restarts with a new signing key: the token and its renewal
	// are refused and the session is over.
	relay.RestartWithNewKey(t)
	var s server.Session
	if err := json.Unmarshal(stream.next("session"), &s); err != nil || s.SignedIn || s.Reason != "session_expired" {
		t.Fatalf("session event %+v (%v)", s, err)
	}
	// The officer is told the relay's own reason, not only that it ended.
	if !strings.Contains(s.Message, "unauthorized") {
		t.Fatalf("session message %q does not carry the relay's refusal", s.Message)
	}
	if ce := vid.closed(); ce.Code != bridge.CloseSessionEnded || ce.Text != "session_expired" {
		t.Fatalf("video closed with %v", ce)
	}
	// Nothing pulls from the relay: the session the restart ended is the
	// last it answered.
	if sessions := relay.Sessions(t); len(sessions) != 1 || sessions[0].Ended.IsZero() {
		t.Fatalf("WHEP sessions after the expiry: %+v, want the one the restart ended", sessions)
	}
	if s := v.session(); s.SignedIn || s.Reason != "session_expired" {
		t.Fatalf("session after expiry %+v", s)
	}
	v.expectError("GET", "/api/v1/cameras", nil, 401, "session_expired", "")
}

func TestEventsPassThrough(t *testing.T) {
	relay := relaytest.Start(t, doff1)
	// The console signs in through a proxy, which sees its event streams.
	proxy := relaytest.NewProxy(t, relay.URL())
	opts := options(t, relay)
	opts.RelayURL = proxy.URL()
	b := start(t, opts)
	v := serve(t, b)
	a := v.events()
	var list struct{ Cameras []relayclient.Camera }
	if err := json.Unmarshal(a.next("cameras"), &list); err != nil || len(list.Cameras) != 12 || list.Cameras[0].Streams["main"].State != "online" {
		t.Fatalf("camera list %+v (%v)", list, err)
	}
	// A camera comes and goes: each change is an event. (The relay looks
	// at its cameras now and then, and announces what changed since: a
	// camera that went before it was seen come only shows in the next
	// list, so the test waits for each change to be told.)
	relay.SetOnline(t, "site-01/doff2", true)
	a.change("site-01/doff2", relayclient.StateOnline)
	relay.SetOnline(t, "site-01/doff2", false)
	if cam := a.change("site-01/doff2", relayclient.StateOffline); cam.Since == "" {
		t.Fatalf("state change %+v", cam)
	}
	// A second view joins: it gets the list and the change at once, over
	// the same relay stream.
	second := v.events()
	second.next("cameras")
	second.camera("site-01/doff2", relayclient.StateOffline)
	if n := proxy.Open("/api/v1/events"); n != 1 {
		t.Fatalf("%d relay streams for two views", n)
	}
	// The relay restarts: the views' streams stay open and the next change
	// comes through the console's new stream.
	relay.Restart(t)
	eventually.True(t, within, "reconnected to the relay", func() bool {
		return len(proxy.Calls("/api/v1/events")) >= 2 && proxy.Open("/api/v1/events") == 1
	})
	relay.SetOnline(t, "site-01/doff2", true)
	for _, s := range []*sse{a, second} {
		s.camera("site-01/doff2", relayclient.StateOnline)
	}
	a.cancel()
	second.cancel()
	eventually.True(t, within, "relay stream closed when no view listens", func() bool { return proxy.Open("/api/v1/events") == 0 })
}
