package relayclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/internal/fakeclock"
	"github.com/qianliyan/qianliyan/relay/peer/peertest"
	"github.com/qianliyan/qianliyan/relay/relaytest"
	"github.com/qianliyan/qianliyan/relay/wire"
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

// signIn returns a client of the relay at url signed in as user
// (relayclienttest.SignedIn, which this package's own tests cannot import).
func signIn(t *testing.T, url, user, password string) *Client {
	t.Helper()
	c, err := New(url, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Login(context.Background(), user, password); err != nil {
		t.Fatalf("signing in to %s as %s: %v", url, user, err)
	}
	return c
}

// startSupervised starts a relay on which the demo's duty officer files
// findings and a supervisor, "sup", reviews them: both signed in.
func startSupervised(t *testing.T) (r *relaytest.Relay, duty, sup *Client) {
	t.Helper()
	const password = "a long test password"
	r = relaytest.Start(t, relaytest.Options{
		Config: relaytest.UsersConfig(t, relaytest.User{Name: "sup", Role: "supervisor", Password: password})})
	creds := r.Demo()
	return r, signIn(t, r.URL(), creds.User, creds.Password), signIn(t, r.URL(), "sup", password)
}

// snapshotJPEG is a snapshot as the relay takes it: JPEG by its first bytes.
var snapshotJPEG = append([]byte("\xff\xd8\xff\xe0"), "a snapshot"...)

// fileWithSnapshot files d as c, and puts snapshotJPEG as its snapshot.
func fileWithSnapshot(t *testing.T, ctx context.Context, c *Client, d wire.Draft) {
	t.Helper()
	if _, _, err := c.FileFinding(ctx, d); err != nil {
		t.Fatalf("filing %s: %v", d.ID, err)
	}
	if _, _, err := c.PutEvidence(ctx, d.ID, upload(wire.EvidenceSnapshot, "image/jpeg", snapshotJPEG)); err != nil {
		t.Fatalf("the snapshot of %s: %v", d.ID, err)
	}
}

// tokenTTL configures the relay's tokens to last ten minutes.
const tokenTTL = "auth: {token_ttl: 10m}\n"

func TestLoginAndCameras(t *testing.T) {
	relay := relaytest.Start(t, relaytest.Options{Cameras: []string{"site-01/doff1"}})
	creds := relay.Demo()
	c, err := New(relay.URL()+"/", Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.Cameras(ctx); err == nil {
		t.Fatal("cameras listed before login")
	}
	s, err := c.Login(ctx, creds.User, creds.Password)
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
	if len(cams) != 12 {
		t.Fatalf("got %d cameras, want the demo's 12", len(cams))
	}
	first := cams[0]
	if first.Path() != "site-01/doff1" || first.Zone != "doffing_room_1" || first.Name["zh-CN"] != "一脱间" ||
		first.SiteName["en"] == "" || first.District["zh-CN"] == "" || first.TimeZone != "Asia/Shanghai" || !first.Online {
		t.Fatalf("first camera %+v", first)
	}
	if cams[1].Path() != "site-01/doff2" || cams[1].Online {
		t.Fatalf("second camera %+v, want site-01/doff2 offline", cams[1])
	}
}

func TestLoginWrongPassword(t *testing.T) {
	relay := relaytest.Start(t, relaytest.Options{})
	c, err := New(relay.URL(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Login(context.Background(), relay.Demo().User, "wrong")
	var rerr *Error
	if !errors.As(err, &rerr) || rerr.Status != http.StatusUnauthorized || rerr.Code != "unauthorized" || rerr.Message == "" {
		t.Fatalf("got %v, want a 401 unauthorized *Error", err)
	}
	if _, err := c.Token(context.Background()); err == nil {
		t.Fatal("token after a failed login")
	}
}

func TestTokenRenewal(t *testing.T) {
	// The client and the relay share a clock the test moves.
	clock := fakeclock.New(time.Date(2024, 3, 1, 8, 0, 0, 0, time.UTC))
	relay := relaytest.Start(t, relaytest.Options{Config: tokenTTL, Now: clock.Now})
	creds := relay.Demo()
	c, err := New(relay.URL(), Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s, err := c.Login(ctx, creds.User, creds.Password)
	if err != nil {
		t.Fatal(err)
	}
	// A ten-minute token is renewed a minute ahead.
	if want := s.ExpiresAt.Add(-time.Minute); !c.RenewAt().Equal(want) {
		t.Fatalf("renew at %v, want %v", c.RenewAt(), want)
	}
	first, err := c.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		advance time.Duration
		same    bool
	}{
		{5 * time.Minute, true},                 // half-way: still the same token
		{4*time.Minute + 30*time.Second, false}, // 30 s left: renewed ahead of expiry
		{5 * time.Minute, true},                 // the renewed one is half-way
		{4 * time.Minute, false},                // and due again
	}
	for i, st := range steps {
		clock.Advance(st.advance)
		if _, err := c.Cameras(ctx); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		tok, err := c.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if (tok == first) != st.same {
			t.Fatalf("step %d: same token %v, want %v", i, tok == first, st.same)
		}
		first = tok
	}
	// The new tokens came from refreshes.
	if n := relay.Logins(t); n != 1 {
		t.Fatalf("%d logins: renewal must not sign in again", n)
	}
	select {
	case <-c.Expired():
		t.Fatal("expired while renewing")
	default:
	}

	// Left alone past expiry, the token cannot be renewed: the session is over.
	clock.Advance(20 * time.Minute)
	_, err = c.Cameras(ctx)
	if !errors.Is(err, ErrSessionExpired) {
		t.Fatalf("cameras with an expired token: %v, want ErrSessionExpired", err)
	}
	select {
	case <-c.Expired():
	default:
		t.Fatal("Expired not closed")
	}
	if _, err := c.Token(ctx); !errors.Is(err, ErrSessionExpired) {
		t.Fatalf("token after expiry: %v", err)
	}
	// Signing in again starts a new session.
	if _, err := c.Login(ctx, creds.User, creds.Password); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Expired():
		t.Fatal("new session born expired")
	default:
	}
	if _, err := c.Cameras(ctx); err != nil {
		t.Fatal(err)
	}
}

// A relay restarted with a new signing key refuses the token (401) and
// its renewal, which ends the session; the password is not there to sign
// in again.
func TestRevokedTokenEndsSession(t *testing.T) {
	relay := relaytest.Start(t, relaytest.Options{})
	creds := relay.Demo()
	c, err := New(relay.URL(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.Token(ctx); !errors.Is(err, ErrNotSignedIn) {
		t.Fatalf("token before login: %v", err)
	}
	if _, err := c.Login(ctx, creds.User, creds.Password); err != nil {
		t.Fatal(err)
	}
	relay.RestartWithNewKey(t)
	_, err = c.Cameras(ctx)
	var rerr *Error
	if !errors.Is(err, ErrSessionExpired) || !errors.As(err, &rerr) || rerr.Status != http.StatusUnauthorized || rerr.Code != "unauthorized" {
		t.Fatalf("cameras after revocation: %v, want the session ended by a 401 unauthorized", err)
	}
	if Permanent(err) {
		t.Fatalf("%v counts as permanent", err)
	}
	if n := relay.Logins(t); n != 1 {
		t.Fatalf("%d logins, want 1", n)
	}
	select {
	case <-c.Expired():
	default:
		t.Fatal("Expired not closed")
	}
	if by := c.EndedBy(); by == nil || by.Status != http.StatusUnauthorized || by.Message == "" {
		t.Fatalf("EndedBy %v; want the relay's refusal, to tell the officer why", by)
	}
}

func TestRefreshWhileRelayDown(t *testing.T) {
	clock := fakeclock.New(time.Now())
	relay := relaytest.Start(t, relaytest.Options{Config: tokenTTL, Now: clock.Now})
	creds := relay.Demo()
	c, err := New(relay.URL(), Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.Login(ctx, creds.User, creds.Password); err != nil {
		t.Fatal(err)
	}
	first, _ := c.Token(ctx)
	relay.Stop(t)
	clock.Advance(9 * time.Minute)
	// Due for renewal, but the relay is away: the valid token still serves.
	if _, err := c.Refresh(ctx); err == nil || errors.Is(err, ErrSessionExpired) {
		t.Fatalf("refresh with the relay down: %v", err)
	}
	if tok, err := c.Token(ctx); err != nil || tok != first {
		t.Fatalf("token with the relay down: %q %v", tok, err)
	}
	clock.Advance(2 * time.Minute)
	if _, err := c.Token(ctx); err == nil || errors.Is(err, ErrSessionExpired) {
		t.Fatalf("expired token with the relay down: %v; want a network error, not the end of the session", err)
	}
}

func TestCamerasPassHealthThrough(t *testing.T) {
	relay := relaytest.Start(t, relaytest.Options{Cameras: []string{"site-01/doff1"}})
	creds := relay.Demo()
	c := signIn(t, relay.URL(), creds.User, creds.Password)
	ctx := context.Background()
	var cams []Camera
	// The relay knows the picture's size once the first keyframe came.
	eventually.True(t, eventually.Ceiling, "site-01/doff1's size at the relay", func() bool {
		var err error
		if cams, err = c.Cameras(ctx); err != nil {
			t.Fatal(err)
		}
		return cams[0].Streams["main"].Width != 0
	})
	on, off := cams[0], cams[1]
	if on.Path() != "site-01/doff1" || on.State != StateOnline || on.Streams["main"].State != StateOnline ||
		on.Streams["main"].Width != relaytest.Width || on.SinceTime().IsZero() {
		t.Fatalf("online camera %+v", on)
	}
	if off.State != StateOffline || off.Online || off.Streams["main"].State != StateOffline {
		t.Fatalf("offline camera %+v", off)
	}
	// Encoding gives back the relay's JSON, fields unknown here included.
	var back Camera
	if err := json.Unmarshal([]byte(`{"site":"s","id":"c","future":{"x":1},"streams":{"main":{"state":"online","viewers":0}}}`), &back); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal([]Camera{back, {Site: "made", ID: "here"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := `[{"site":"s","id":"c","future":{"x":1},"streams":{"main":{"state":"online","viewers":0}}},{"site":"made","id":"here",`; !strings.HasPrefix(string(b), want) {
		t.Fatalf("encoded %s", b)
	}
}

func TestWHEPErrors(t *testing.T) {
	relay := relaytest.Start(t, relaytest.Options{})
	creds := relay.Demo()
	c := signIn(t, relay.URL(), creds.User, creds.Password)
	ctx := context.Background()
	offer := peertest.ViewerOffer(t)
	cases := []struct {
		camera     string
		status     int
		code       string
		retryAfter time.Duration
	}{
		{"doff2", http.StatusConflict, "camera_offline", 2 * time.Second},
		{"nope", http.StatusNotFound, "unknown_camera", 0},
		{"a/b", http.StatusNotFound, "", 0}, // escaped: one segment, no such route
	}
	for _, c2 := range cases {
		_, _, err := c.OfferWHEP(ctx, "site-01", c2.camera, "main", offer)
		var rerr *Error
		if !errors.As(err, &rerr) || rerr.Status != c2.status || (c2.code != "" && rerr.Code != c2.code) || rerr.RetryAfter != c2.retryAfter {
			t.Errorf("camera %q: got %#v (%v)", c2.camera, rerr, err)
		}
	}
	err := c.DeleteWHEP(ctx, "/whep/site-01/doff1/nope")
	var rerr *Error
	if !errors.As(err, &rerr) || rerr.Code != "unknown_session" {
		t.Fatalf("delete of unknown session: %v", err)
	}
	if err := c.DeleteWHEP(ctx, "http://elsewhere.example/whep/x"); err == nil || errors.As(err, &rerr) {
		t.Fatalf("delete on another host: %v", err)
	}
}

// The answers of something that is not the relay, or of a relay gone
// wrong, which the real one never gives: stand-ins give them.
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

// The forwarder fails an entry for good on a permanent answer and retries
// any other; a relay without the findings API yet is waited for.
func TestWhichAnswersArePermanent(t *testing.T) {
	cases := []struct {
		status int
		code   string
		want   bool
	}{
		{http.StatusConflict, "bad_transition", true},
		{http.StatusConflict, "conflict", true},
		{http.StatusUnprocessableEntity, "invalid_field", true},
		{http.StatusNotFound, "unknown_site", true},
		{http.StatusNotFound, "unknown_finding", true},
		{http.StatusBadRequest, "digest_mismatch", true},
		{http.StatusRequestEntityTooLarge, "body_too_large", true},
		{http.StatusForbidden, "forbidden", true},
		// A relay without the findings API yet, and answers meaning later.
		{http.StatusNotFound, "not_found", false},
		{http.StatusNotFound, "http_404", false},
		{http.StatusMethodNotAllowed, "method_not_allowed", false},
		{http.StatusRequestTimeout, "http_408", false},
		{http.StatusTooEarly, "http_425", false},
		{http.StatusTooManyRequests, "too_many_attempts", false},
		{http.StatusUnauthorized, "unauthorized", false},
		{http.StatusInternalServerError, "internal", false},
		{http.StatusBadGateway, "http_502", false},
	}
	for _, c := range cases {
		err := fmt.Errorf("filing: %w", &Error{Status: c.status, Code: c.code})
		if got := Permanent(err); got != c.want {
			t.Errorf("%d %s: permanent %v, want %v", c.status, c.code, got, c.want)
		}
	}
	if Permanent(errors.New("connection refused")) || Permanent(ErrSessionExpired) {
		t.Error("an error that is not the relay's answer counts as permanent")
	}
	// A request that cannot be encoded is refused before any is made.
	c, err := New("http://127.0.0.1:9", Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = c.FileFinding(context.Background(), wire.Draft{ID: "f1", Deadline: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)})
	if !errors.Is(err, ErrUnsendable) || !Permanent(err) {
		t.Errorf("filing a finding due in the year 10000: %v, want it unsendable", err)
	}
}
