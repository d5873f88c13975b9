package sitepage_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/relay/relaytest"
)

// The language switch returns to the page it was used on, and only to a
// page of the site page's: no crafted back sends a browser to another host.
func TestLanguageSwitchReturnsOnlyToSitePages(t *testing.T) {
	r := relaytest.ServeSites(t, password, nil)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, c := range []struct {
		back string // as the query has it, escaped
		want string
	}{
		{"/site/", "/site/"},
		{"/site/findings/f1", "/site/findings/f1"},
		{"/site/findings/4b0f6a3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b", "/site/findings/4b0f6a3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"},
		{"", "/site/"},
		{"//evil.example", "/site/"},
		{"%2F%2Fevil.example", "/site/"},
		{"/%5Cevil.example", "/site/"},
		{"/%5C%5Cevil.example", "/site/"},
		{"/site/..%5C..%5Cevil.example", "/site/"},
		{"/site/../%5Cevil.example", "/site/"},
		{"/site/../../%5C%5Cevil", "/site/"},
		{"/site/findings/../../%5Cevil.example", "/site/"},
		{"/site/findings/f1/../../..//evil.example", "/site/"},
		{"/site//evil.example", "/site/"},
		{"/site/%09/evil.example", "/site/"},
		{"https://evil.example/site/", "/site/"},
		{"/site/findings/f1%0D%0ASet-Cookie:%20x=1", "/site/"},
		{"/site/findings/f1%3Fdone=rectify", "/site/"},
		{"/site/static/page.js", "/site/"},
		{"/api/v1/cameras", "/site/"},
	} {
		t.Run(c.back, func(t *testing.T) {
			resp, err := noFollow.Get(r.URL() + "/site/lang/en?back=" + c.back)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			loc := resp.Header.Get("Location")
			if resp.StatusCode != http.StatusSeeOther || loc != c.want {
				t.Fatalf("%d to %q, want 303 to %q", resp.StatusCode, loc, c.want)
			}
			// As a browser reads it, backslashes being slashes.
			base, _ := url.Parse(r.URL() + "/site/lang/en")
			to, err := base.Parse(strings.ReplaceAll(loc, `\`, "/"))
			if err != nil || to.Host != base.Host {
				t.Fatalf("to %q: another host, %v", loc, err)
			}
		})
	}
}

// The site page's evidence is not kept in the phone's cache either.
func TestSitePageEvidenceIsNotCached(t *testing.T) {
	r := relaytest.ServeSites(t, password, nil)
	r.File("f1", "site-01", time.Now().Add(3*time.Hour))
	mgr := signIn(t, r, "mgr1")
	for _, name := range []string{"snapshot", "clip"} {
		resp, err := mgr.http.Get(r.URL() + "/site/evidence/f1/" + name)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: %d, Cache-Control %q, want no-store", name, resp.StatusCode, resp.Header.Get("Cache-Control"))
		}
	}
}
