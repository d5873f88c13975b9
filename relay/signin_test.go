package relay

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/relay/api/apitest"
)

type tokenJSON struct {
	Token     string `json:"token"`
	ExpiresAt string `json:"expires_at"`
	User      struct{ Name, Role string }
}

func TestTokenRefreshAndExpiry(t *testing.T) {
	clock := newClock()
	r := startRelay(t, Options{Demo: true, Now: clock.Now})
	t0 := clock.Now()
	// A sign-in's token lives an hour on the relay's clock.
	resp, b := apitest.Call(t, "POST", r.URL()+"/api/v1/login", "", apitest.JSON, apitest.LoginBody("duty", r.Demo().Password))
	var signedIn tokenJSON
	if err := json.Unmarshal(b, &signedIn); resp.StatusCode != http.StatusOK || err != nil || signedIn.Token == "" ||
		signedIn.User.Name != "duty" || signedIn.User.Role != "duty" || signedIn.ExpiresAt != t0.Add(time.Hour).Format(time.RFC3339) {
		t.Fatalf("sign-in: %d %s", resp.StatusCode, b)
	}
	first := signedIn.Token
	status := func(token string) int {
		resp, _ := apitest.Call(t, "GET", r.URL()+"/api/v1/cameras", token, nil, nil)
		return resp.StatusCode
	}
	refresh := func(token string) (int, tokenJSON, apitest.Error) {
		resp, b := apitest.Call(t, "POST", r.URL()+"/api/v1/token/refresh", token, nil, nil)
		var tok tokenJSON
		if resp.StatusCode == http.StatusOK {
			if err := json.Unmarshal(b, &tok); err != nil {
				t.Fatalf("refresh answer %s: %v", b, err)
			}
			return resp.StatusCode, tok, apitest.Error{}
		}
		e, ok := apitest.Refusal(b)
		if !ok {
			t.Fatalf("refresh error %s is not the API's error", b)
		}
		return resp.StatusCode, tok, e
	}

	// Ten minutes before it expires, the console renews its token.
	clock.Advance(50 * time.Minute)
	code, second, _ := refresh(first)
	if code != http.StatusOK || second.Token == "" || second.Token == first || second.User.Name != "duty" || second.User.Role != "duty" {
		t.Fatalf("refresh: %d %+v", code, second)
	}
	if want := t0.Add(50 * time.Minute).Add(time.Hour).Format(time.RFC3339); second.ExpiresAt != want {
		t.Fatalf("refreshed token expires %s, want %s", second.ExpiresAt, want)
	}

	// The first token expires on time; the fresh one lives on.
	clock.Advance(10*time.Minute + time.Second)
	if s := status(first); s != http.StatusUnauthorized {
		t.Fatalf("expired token: %d", s)
	}
	if s := status(second.Token); s != http.StatusOK {
		t.Fatalf("refreshed token: %d", s)
	}
	if code, _, e := refresh(first); code != http.StatusUnauthorized || e.Code != "unauthorized" {
		t.Fatalf("refreshing an expired token: %d %+v", code, e)
	}
	clock.Advance(time.Hour)
	if s := status(second.Token); s != http.StatusUnauthorized {
		t.Fatalf("refreshed token after its hour: %d", s)
	}

	// A disabled user cannot renew.
	third := login(t, r, "duty", r.Demo().Password)
	if err := r.store.SetDisabled(t.Context(), "duty", true); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := refresh(third); code != http.StatusUnauthorized {
		t.Fatalf("refresh by a disabled user: %d", code)
	}
}

func TestSignInRateLimit(t *testing.T) {
	clock := newClock()
	cfg := "auth:\n  login_failures_per_user: 3\n  login_failures_per_address: 6\n  login_window: 1m\n"
	r := startRelay(t, Options{Demo: true, Now: clock.Now, ConfigFile: writeConfig(t, cfg)})
	try := func(user, password string) (*http.Response, apitest.Error) {
		resp, b := apitest.Call(t, "POST", r.URL()+"/api/v1/login", "", apitest.JSON, apitest.LoginBody(user, password))
		var e apitest.Error
		if resp.StatusCode != http.StatusOK {
			var ok bool
			if e, ok = apitest.Refusal(b); !ok {
				t.Fatalf("%d answer %q is not the API's error", resp.StatusCode, b)
			}
		}
		return resp, e
	}

	for i := range 3 {
		if resp, _ := try("duty", "guess"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: %d", i+1, resp.StatusCode)
		}
	}
	// The fourth try is refused before the password is looked at, even
	// the right one.
	resp, e := try("duty", r.Demo().Password)
	if resp.StatusCode != http.StatusTooManyRequests || e.Code != "too_many_attempts" || resp.Header.Get("Retry-After") != "20" {
		t.Fatalf("after 3 failures: %d %+v, Retry-After %q", resp.StatusCode, e, resp.Header.Get("Retry-After"))
	}
	clock.Advance(20 * time.Second)
	if resp, _ := try("duty", r.Demo().Password); resp.StatusCode != http.StatusOK {
		t.Fatalf("after waiting: %d", resp.StatusCode)
	}

	// Guessing at many names from one address hits the address's limit.
	limited := -1
	for i := range 7 {
		resp, e := try("ghost"+strconv.Itoa(i), "guess")
		if resp.StatusCode == http.StatusTooManyRequests {
			if e.Code != "too_many_attempts" || resp.Header.Get("Retry-After") == "" {
				t.Fatalf("address limit answer: %+v, Retry-After %q", e, resp.Header.Get("Retry-After"))
			}
			limited = i
			break
		}
	}
	if limited < 0 {
		t.Fatal("seven guesses at new names from one address were all let through")
	}
	if resp, _ := try("duty", r.Demo().Password); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("another user from the limited address: %d", resp.StatusCode)
	}
	if resp, _ := apitest.Call(t, "GET", r.URL()+"/healthz", "", nil, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz %d", resp.StatusCode)
	}
	if n := gathered(t, r, "qianliyan_relay_logins_total"); n < 10 {
		t.Fatalf("%v sign-ins counted", n)
	}
}
