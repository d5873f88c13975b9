package relayclient

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/console/internal/relaytest"
)

func TestNewRejectsBadURLs(t *testing.T) {
	cases := []struct {
		url string
		ok  bool
	}{
		{"http://127.0.0.1:8080", true},
		{"https://relay.example/base/", true},
		{"127.0.0.1:8080", false},
		{"ftp://relay.example", false},
		{"http://", false},
		{"http://relay.example/?x=1", false},
		{"http://user:pw@relay.example", false},
		{"http://[::1", false},
	}
	for _, c := range cases {
		_, err := New(c.url, Options{})
		if (err == nil) != c.ok {
			t.Errorf("New(%q) error %v, want ok=%v", c.url, err, c.ok)
		}
	}
}

// manualClock is a clock shared by the client and the stand-in relay.
type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func TestLoginAndCameras(t *testing.T) {
	relay := relaytest.Start(t, relaytest.Options{})
	relay.SetOnline("site-01/doff2", false)
	c, err := New(relay.URL()+"/", Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.Cameras(ctx); err == nil {
		t.Fatal("cameras listed before login")
	}
	s, err := c.Login(ctx, relaytest.User, relaytest.Password)
	if err != nil {
		t.Fatal(err)
	}
	if s.Token == "" || s.User != (User{Name: "duty", Role: "duty"}) || c.User() != s.User {
		t.Fatalf("session %+v, user %+v", s, c.User())
	}
	cams, err := c.Cameras(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(cams) != 2 {
		t.Fatalf("got %d cameras, want 2", len(cams))
	}
	first := cams[0]
	if first.Path() != "site-01/doff1" || first.Zone != "doffing_room_1" || first.Name["zh-CN"] != "一脱间" ||
		first.SiteName["en"] == "" || first.District["zh-CN"] == "" || first.TimeZone != "Asia/Shanghai" || !first.Online {
		t.Fatalf("first camera %+v", first)
	}
	if cams[1].Online {
		t.Fatal("offline camera listed online")
	}
}

func TestLoginWrongPassword(t *testing.T) {
	relay := relaytest.Start(t, relaytest.Options{})
	c, err := New(relay.URL(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Login(context.Background(), relaytest.User, "wrong")
	var rerr *Error
	if !errors.As(err, &rerr) || rerr.Status != http.StatusUnauthorized || rerr.Code != "unauthorized" || rerr.Message == "" {
		t.Fatalf("got %v, want a 401 unauthorized *Error", err)
	}
	if _, err := c.Token(context.Background()); err == nil {
		t.Fatal("token after a failed login")
	}
}

func TestTokenRenewal(t *testing.T) {
	clock := &manualClock{now: time.Date(2024, 3, 1, 8, 0, 0, 0, time.UTC)}
	relay := relaytest.Start(t, relaytest.Options{TokenTTL: 10 * time.Minute, Now: clock.Now})
	c, err := New(relay.URL(), Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.Login(ctx, relaytest.User, relaytest.Password); err != nil {
		t.Fatal(err)
	}
	first, err := c.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		advance time.Duration
		logins  int
		same    bool
	}{
		{5 * time.Minute, 1, true},                 // half-way: still the same token
		{4*time.Minute + 30*time.Second, 2, false}, // 30 s left: renewed ahead of expiry
		{20 * time.Minute, 3, false},               // long expired: renewed
	}
	for i, s := range steps {
		clock.Advance(s.advance)
		if _, err := c.Cameras(ctx); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		tok, err := c.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := relay.Logins(); got != s.logins || (tok == first) != s.same {
			t.Fatalf("step %d: %d logins, same token %v; want %d, %v", i, got, tok == first, s.logins, s.same)
		}
		first = tok
	}
}

func TestRevokedTokenSignsInAgain(t *testing.T) {
	relay := relaytest.Start(t, relaytest.Options{})
	c, err := New(relay.URL(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.Login(ctx, relaytest.User, relaytest.Password); err != nil {
		t.Fatal(err)
	}
	relay.RevokeTokens()
	if _, err := c.Cameras(ctx); err != nil {
		t.Fatalf("cameras after revocation: %v", err)
	}
	if n := relay.Logins(); n != 2 {
		t.Fatalf("%d logins, want 2", n)
	}
}

func TestWHEPErrors(t *testing.T) {
	relay := relaytest.Start(t, relaytest.Options{})
	relay.SetOnline("site-01/doff2", false)
	c, err := New(relay.URL(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.Login(ctx, relaytest.User, relaytest.Password); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		camera     string
		status     int
		code       string
		retryAfter time.Duration
	}{
		{"doff2", http.StatusConflict, "camera_offline", time.Second},
		{"nope", http.StatusNotFound, "unknown_camera", 0},
		{"a/b", http.StatusNotFound, "", 0}, // escaped: one segment, no such route
	}
	for _, c2 := range cases {
		_, _, err := c.OfferWHEP(ctx, "site-01", c2.camera, "main", "v=0\r\n")
		var rerr *Error
		if !errors.As(err, &rerr) || rerr.Status != c2.status || (c2.code != "" && rerr.Code != c2.code) || rerr.RetryAfter != c2.retryAfter {
			t.Errorf("camera %q: got %#v (%v)", c2.camera, rerr, err)
		}
	}
	err = c.DeleteWHEP(ctx, "/whep/site-01/doff1/nope")
	var rerr *Error
	if !errors.As(err, &rerr) || rerr.Code != "unknown_session" {
		t.Fatalf("delete of unknown session: %v", err)
	}
	if err := c.DeleteWHEP(ctx, "http://elsewhere.example/whep/x"); err == nil || errors.As(err, &rerr) {
		t.Fatalf("delete on another host: %v", err)
	}
}

func TestOddAnswers(t *testing.T) {
	cases := []struct {
		name    string
		handler http.HandlerFunc
		check   func(error) bool
	}{
		{
			name: "proxy error page",
			handler: func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, "upstream down", http.StatusBadGateway)
			},
			check: func(err error) bool {
				var rerr *Error
				return errors.As(err, &rerr) && rerr.Code == "http_502" && strings.Contains(rerr.Message, "upstream down")
			},
		},
		{
			name: "session on another host",
			handler: func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/api/v1/login" {
					io.WriteString(w, `{"token":"t","expires_at":"2999-01-01T00:00:00Z","user":{"name":"duty","role":"duty"}}`)
					return
				}
				w.Header().Set("Location", "http://elsewhere.example/whep/s/c/1")
				w.WriteHeader(http.StatusCreated)
				io.WriteString(w, "v=0\r\n")
			},
			check: func(err error) bool { return err != nil && strings.Contains(err.Error(), "not on the relay") },
		},
		{
			name: "no token",
			handler: func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, `{"expires_at":"2999-01-01T00:00:00Z"}`)
			},
			check: func(err error) bool { return err != nil && strings.Contains(err.Error(), "no token") },
		},
		{
			name: "not JSON",
			handler: func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, `<html>`)
			},
			check: func(err error) bool { return err != nil && strings.Contains(err.Error(), "decoding") },
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(c.handler)
			defer srv.Close()
			cl, err := New(srv.URL, Options{})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			_, err = cl.Login(ctx, "duty", "pw")
			if err == nil {
				_, _, err = cl.OfferWHEP(ctx, "s", "c", "main", "v=0\r\n")
			}
			if !c.check(err) {
				t.Fatalf("unexpected error %v", err)
			}
		})
	}
}
