package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/relay/api/apitest"
	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/store"
)

// revocations are the changes that must sign mgr1 out: each advances the
// user's token generation, whichever process makes it (the relay's own
// sign-out, or relay user … beside it, writing the database).
func revocations() []struct {
	name   string
	revoke func(*fixture) error
} {
	ctx := context.Background()
	return []struct {
		name   string
		revoke func(*fixture) error
	}{
		{"password changed", func(f *fixture) error { return f.st.SetPassword(ctx, "mgr1", "y") }},
		{"disabled", func(f *fixture) error { return f.st.SetDisabled(ctx, "mgr1", true) }},
		{"sites changed", func(f *fixture) error {
			return f.st.PutUser(ctx, store.User{Name: "mgr1", Role: "site_manager", PasswordHash: "x", Sites: []string{"site-02"}})
		}},
		{"role changed", func(f *fixture) error {
			return f.st.PutUser(ctx, store.User{Name: "mgr1", Role: "supervisor", PasswordHash: "x"})
		}},
		{"signed out", func(f *fixture) error { _, err := f.st.AdvanceTokenGeneration(ctx, "mgr1"); return err }},
	}
}

// A token issued before its user's tokens were revoked is refused, 401
// token_revoked, and cannot be renewed (issue 12: it answered 200, and
// refresh renewed it forever).
func TestRevokedTokenIsRefused(t *testing.T) {
	for _, c := range revocations() {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, time.Hour)
			if r := f.do(t, "mgr1", "GET", "/api/v1/cameras", nil, nil); r.status != http.StatusOK {
				t.Fatalf("before: %d %s", r.status, r.body)
			}
			if err := c.revoke(f); err != nil {
				t.Fatal(err)
			}
			for _, req := range []struct{ method, path string }{
				{"GET", "/api/v1/cameras"},
				{"POST", "/api/v1/token/refresh"},
				{"GET", "/api/v1/findings"},
				{"GET", "/api/v1/events"},
			} {
				if r := f.do(t, "mgr1", req.method, req.path, nil, nil); r.status != http.StatusUnauthorized || r.code() != "token_revoked" {
					t.Errorf("%s %s after the revocation: %d %s, want 401 token_revoked", req.method, req.path, r.status, r.body)
				}
			}
			if r := f.do(t, "duty", "GET", "/api/v1/cameras", nil, nil); r.status != http.StatusOK {
				t.Errorf("another user after the revocation: %d %s", r.status, r.body)
			}
		})
	}
}

// However often it is renewed, a sign-in lasts no longer than a session
// may (issue 12: refresh renewed any valid token forever).
func TestRefreshStopsAtTheSessionLimit(t *testing.T) {
	f := newFixture(t, time.Hour)
	start := f.clock.Now()
	token := f.tokens["duty"]
	renewals := 0
	for {
		f.clock.Advance(55 * time.Minute)
		resp, b := apitest.Call(t, "POST", f.url+"/api/v1/token/refresh", token, nil, nil)
		if resp.StatusCode != http.StatusOK {
			e, _ := apitest.Refusal(b)
			if resp.StatusCode != http.StatusUnauthorized || e.Code != "session_expired" {
				t.Fatalf("refresh %d: %d %s, want 401 session_expired", renewals+1, resp.StatusCode, b)
			}
			break
		}
		var out struct {
			Token     string    `json:"token"`
			ExpiresAt time.Time `json:"expires_at"`
		}
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatal(err)
		}
		if out.ExpiresAt.After(start.Add(12 * time.Hour)) {
			t.Fatalf("renewal %d expires at %v, past the session's 12 h", renewals+1, out.ExpiresAt.Sub(start))
		}
		token = out.Token
		if renewals++; renewals > 13 {
			t.Fatal("renewed past the session's 12 h")
		}
	}
	if renewals != 12 {
		t.Fatalf("renewed %d times, want 12: every 55 min up to 12 h", renewals)
	}
	// The last token serves until the session ends, then says why.
	if r, _ := apitest.Call(t, "GET", f.url+"/api/v1/cameras", token, nil, nil); r.StatusCode != http.StatusOK {
		t.Fatalf("the last token before the session's end: %d", r.StatusCode)
	}
	f.clock.Advance(start.Add(12 * time.Hour).Sub(f.clock.Now()))
	resp, b := apitest.Call(t, "GET", f.url+"/api/v1/cameras", token, nil, nil)
	if e, _ := apitest.Refusal(b); resp.StatusCode != http.StatusUnauthorized || e.Code != "session_expired" {
		t.Fatalf("the last token at the session's end: %d %s, want 401 session_expired", resp.StatusCode, b)
	}
}

// The site page's session cookie is no API token (issue 12: it was one).
func TestSitePageSessionIsNoAPIToken(t *testing.T) {
	f := newFixture(t, time.Hour)
	cookie, _, err := f.signer.Issue("mgr1", auth.RoleSiteManager, auth.AudienceSite, 0)
	if err != nil {
		t.Fatal(err)
	}
	resp, b := apitest.Call(t, "GET", f.url+"/api/v1/cameras", cookie, nil, nil)
	if e, _ := apitest.Refusal(b); resp.StatusCode != http.StatusUnauthorized || e.Code != "unauthorized" || !strings.Contains(e.Message, "site page") {
		t.Fatalf("the site page's cookie as a bearer token: %d %s", resp.StatusCode, b)
	}
}

// An open event stream and a waiting long poll end within moments of
// their user's revocation, saying why (issue 12: they ran on).
func TestRevocationEndsStreamsAndPolls(t *testing.T) {
	for _, c := range revocations() {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, time.Hour)
			lines := f.stream(t, "mgr1")
			until(t, lines, "event: cameras")
			if err := c.revoke(f); err != nil {
				t.Fatal(err)
			}
			until(t, lines, ": token_revoked: ")
			ends(t, lines)
		})
	}
	t.Run("long poll", func(t *testing.T) {
		f := newFixture(t, time.Hour)
		polling := f.poll("sup", 0, 30)
		eventually.True(t, eventually.Ceiling, "the poll waiting", func() bool { return f.leases.Held("sup", auth.LongPoll) == 1 })
		if err := f.st.SetPassword(context.Background(), "sup", "y"); err != nil {
			t.Fatal(err)
		}
		select {
		case r := <-polling:
			if r.status != http.StatusUnauthorized || r.code() != "token_revoked" {
				t.Fatalf("the revoked user's poll: %d %s, want 401 token_revoked", r.status, r.body)
			}
		case <-time.After(eventually.Ceiling):
			t.Fatal("the revoked user's poll still waits")
		}
	})
}

// One user may hold so many event streams and long polls at once; more
// are refused 429 naming the limit, with Retry-After, and closing one
// makes room (issue 12: 300 streams were accepted on one token).
func TestPerUserLimits(t *testing.T) {
	f := newFixture(t, time.Hour)
	var streams []*http.Response
	open := func(user string) *http.Response {
		req, _ := http.NewRequest("GET", f.url+"/api/v1/events", nil)
		req.Header.Set("Authorization", "Bearer "+f.tokens[user])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	for i := range 8 {
		if resp := open("duty"); resp.StatusCode != http.StatusOK {
			t.Fatalf("stream %d: %d", i+1, resp.StatusCode)
		} else {
			streams = append(streams, resp)
		}
	}
	refused := open("duty")
	var body struct{ Error apitest.Error }
	if err := json.NewDecoder(refused.Body).Decode(&body); err != nil || refused.StatusCode != http.StatusTooManyRequests ||
		body.Error.Code != "too_many_open" || !strings.Contains(body.Error.Message, "limits.event_streams_per_user") || refused.Header.Get("Retry-After") == "" {
		t.Fatalf("a ninth stream: %d %+v, Retry-After %q", refused.StatusCode, body, refused.Header.Get("Retry-After"))
	}
	if resp := open("sup"); resp.StatusCode != http.StatusOK {
		t.Fatalf("another user's stream: %d", resp.StatusCode)
	}
	streams[0].Body.Close()
	eventually.True(t, eventually.Ceiling, "a closed stream's room given back", func() bool {
		return f.leases.Held("duty", auth.EventStream) < 8
	})
	if resp := open("duty"); resp.StatusCode != http.StatusOK {
		t.Fatalf("a stream after one closed: %d", resp.StatusCode)
	}

	var polls []<-chan reply
	for range 8 {
		polls = append(polls, f.poll("duty", 0, 30))
	}
	eventually.True(t, eventually.Ceiling, "eight polls waiting", func() bool { return f.leases.Held("duty", auth.LongPoll) == 8 })
	r := f.do(t, "duty", "GET", "/api/v1/findings/changes?after=0&wait=30", nil, nil)
	if r.status != http.StatusTooManyRequests || r.code() != "too_many_open" || !strings.Contains(string(r.body), "limits.long_polls_per_user") {
		t.Fatalf("a ninth poll: %d %s", r.status, r.body)
	}
	if r := f.do(t, "duty", "GET", "/api/v1/findings/changes?after=0&wait=0", nil, nil); r.status != http.StatusOK {
		t.Fatalf("a poll that does not wait, at the limit: %d %s", r.status, r.body)
	}
	close(f.stopping) // the polls answer
	for _, p := range polls {
		<-p
	}
}
