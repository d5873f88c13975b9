package sitepage_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/internal/fakeclock"
	"github.com/qianliyan/qianliyan/relay/api/apitest"
	"github.com/qianliyan/qianliyan/relay/relaytest"
)

// sessionCookie is the page's session cookie's value in pc's jar.
func (pc *pageClient) sessionCookie() string {
	u, _ := url.Parse(pc.base + "/site/")
	for _, c := range pc.http.Jar.Cookies(u) {
		if c.Name == "qly_site_session" {
			return c.Value
		}
	}
	pc.t.Fatal("no session cookie")
	return ""
}

// copyOf is another browser holding pc's session cookie (stolen, or a tab
// of another profile).
func (pc *pageClient) copyOf() *pageClient {
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(pc.base + "/site/")
	jar.SetCookies(u, []*http.Cookie{{Name: "qly_site_session", Value: pc.sessionCookie(), Path: "/site/"}})
	return &pageClient{t: pc.t, base: pc.base, http: &http.Client{Jar: jar}}
}

// Signing out ends the session everywhere: a copy of the cookie, a page's
// waiting long poll, and the user's API tokens (issue 12: the old cookie
// still answered 200 after a sign-out).
func TestSignOutRevokesTheSession(t *testing.T) {
	r := relaytest.ServeSites(t, password, nil)
	mgr := signIn(t, r, "mgr1")
	api := apitest.SignIn(t, r.URL(), "mgr1", password)
	other := signIn(t, r, "mgr2")
	copied := mgr.copyOf()
	if status, page := copied.get("/site/"); status != 200 || !strings.Contains(page, `class="findings"`) {
		t.Fatalf("the copied cookie before the sign-out: %d", status)
	}
	_, start := mgr.get("/site/changes")
	var cursor struct{ Cursor int64 }
	if err := json.Unmarshal([]byte(start), &cursor); err != nil {
		t.Fatal(err)
	}
	waiting := make(chan int, 1)
	go func() {
		status, _ := copied.get(fmt.Sprintf("/site/changes?after=%d&wait=25", cursor.Cursor))
		waiting <- status
	}()

	_, page := mgr.get("/site/")
	if status, page := mgr.post("/site/logout", url.Values{"csrf": {field(page, "csrf")}}); status != 200 || !strings.Contains(page, `action="/site/login"`) {
		t.Fatalf("sign-out: %d", status)
	}
	select {
	case status := <-waiting:
		if status != http.StatusUnauthorized {
			t.Fatalf("the copy's waiting poll after the sign-out: %d, want 401", status)
		}
	case <-time.After(eventually.Ceiling):
		t.Fatal("the copy's poll still waits after the sign-out")
	}
	if status, page := copied.get("/site/"); status != 200 || !strings.Contains(page, `action="/site/login"`) {
		t.Fatalf("the copied cookie after the sign-out: %d, not the sign-in page", status)
	}
	status, b := api.Do("GET", "/api/v1/cameras", nil, nil)
	if e, _ := apitest.Refusal(b); status != http.StatusUnauthorized || e.Code != "token_revoked" {
		t.Fatalf("the user's API token after the sign-out: %d %s, want 401 token_revoked", status, b)
	}
	if status, page := other.get("/site/"); status != 200 || !strings.Contains(page, `class="findings"`) {
		t.Fatalf("another manager after the sign-out: %d", status)
	}
}

// The page's session cookie is no API token (issue 12: it was one).
func TestSessionCookieIsNoAPIToken(t *testing.T) {
	r := relaytest.ServeSites(t, password, nil)
	mgr := signIn(t, r, "mgr1")
	resp, b := apitest.Call(t, "GET", r.URL()+"/api/v1/cameras", mgr.sessionCookie(), nil, nil)
	if e, _ := apitest.Refusal(b); resp.StatusCode != http.StatusUnauthorized || e.Code != "unauthorized" {
		t.Fatalf("the session cookie as a bearer token: %d %s, want 401", resp.StatusCode, b)
	}
}

// A page in use stays signed in for a shift, not for ever (issue 12: the
// cookie was renewed for as long as the page was used).
func TestSessionEndsAfterAShift(t *testing.T) {
	clk := fakeclock.New(time.Now())
	r := relaytest.ServeSites(t, password, clk.Now)
	mgr := signIn(t, r, "mgr1")
	start := clk.Now()
	for clk.Now().Sub(start) < 11*time.Hour+30*time.Minute {
		clk.Advance(25 * time.Minute)
		if status, page := mgr.get("/site/"); status != 200 || !strings.Contains(page, `class="findings"`) {
			t.Fatalf("in use, %v after signing in: %d, signed out", clk.Now().Sub(start), status)
		}
	}
	clk.Advance(start.Add(12 * time.Hour).Sub(clk.Now()))
	if status, page := mgr.get("/site/"); status != 200 || !strings.Contains(page, `action="/site/login"`) {
		t.Fatalf("12 h after signing in: %d, not the sign-in page", status)
	}
}
