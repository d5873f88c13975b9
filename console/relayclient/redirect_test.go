package relayclient_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/qianliyan/qianliyan/console/relayclient"
)

// A relay address that redirects must not receive the sign-in's password
// at the address it points to (issue 12: the same hole as the notifier's).
func TestRedirectIsNotFollowed(t *testing.T) {
	for _, status := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		var reached atomic.Int32
		elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			reached.Add(1)
		}))
		redirecting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, elsewhere.URL+r.URL.Path, status)
		}))
		c, err := relayclient.New(redirecting.URL, relayclient.Options{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Login(context.Background(), "duty", "secret password")
		var rerr *relayclient.Error
		if !errors.As(err, &rerr) || rerr.Status != status {
			t.Errorf("%d: sign-in answered %v; want the redirect as an *Error", status, err)
		}
		if n := reached.Load(); n != 0 {
			t.Errorf("%d: the redirect's target got %d requests", status, n)
		}
		redirecting.Close()
		elsewhere.Close()
	}
}
