package sitepage_test

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/qianliyan/qianliyan/relay/api/apitest"
)

// A sign-in refused logs who tried without what they typed in the user
// field, which may be a password typed in the wrong box; a name the relay
// knows is logged as it is.
func TestRefusedSignInsDoNotLogWhatWasTyped(t *testing.T) {
	r, _, logs := siteRelay(t)
	const typed = "Tr0ub4dor&3-in-the-user-field"
	if resp, b := apitest.Call(t, "POST", r.URL()+"/api/v1/login", "", apitest.JSON, apitest.LoginBody(typed, "x")); resp.StatusCode != 401 {
		t.Fatalf("API sign-in: %d %s", resp.StatusCode, b)
	}
	if resp, b := apitest.Call(t, "POST", r.URL()+"/api/v1/login", "", apitest.JSON, apitest.LoginBody("mgr1", "wrong")); resp.StatusCode != 401 {
		t.Fatalf("API sign-in: %d %s", resp.StatusCode, b)
	}
	jar, _ := cookiejar.New(nil)
	stranger := &pageClient{t: t, base: r.URL(), http: &http.Client{Jar: jar}}
	_, page := stranger.get("/site/login")
	if status, _ := stranger.post("/site/login", url.Values{"csrf": {field(page, "csrf")}, "user": {typed}, "password": {"x"}}); status != 401 {
		t.Fatalf("site page sign-in: %d", status)
	}
	// Refused for too many failures, as well.
	limited := false
	for range 10 {
		resp, _ := apitest.Call(t, "POST", r.URL()+"/api/v1/login", "", apitest.JSON, apitest.LoginBody(typed, "x"))
		if limited = resp.StatusCode == http.StatusTooManyRequests; limited {
			break
		}
	}
	if !limited {
		t.Fatal("ten more failures of one name were not refused 429")
	}
	log := logs.String()
	for _, want := range []string{`"message":"sign-in refused"`, `"message":"site page sign-in refused"`,
		`"message":"sign-in refused: too many failures"`, `"user":"mgr1"`} {
		if !strings.Contains(log, want) {
			t.Errorf("the log has no %s:\n%s", want, log)
		}
	}
	if strings.Contains(log, typed) || strings.Contains(log, typed[:8]) {
		t.Errorf("the log holds what was typed in the user field:\n%s", log)
	}
}
