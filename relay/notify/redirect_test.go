package notify_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/relay/notify"
)

// A configured target that answers with a redirect does not get the
// message re-sent where it points: a redirect is the target's failure,
// said in the log, and the message stays undelivered.
func TestRedirectsAreNotFollowed(t *testing.T) {
	for _, status := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect, http.StatusFound, http.StatusMovedPermanently} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			elsewhere := newReceiver(t, `{"errcode":0,"errmsg":"ok"}`, 200)
			target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, elsewhere.srv.URL+"/stolen", status)
			}))
			t.Cleanup(target.Close)
			f := newFixture(t,
				notify.Target{Kind: "webhook", URL: target.URL + "/hook", Secret: webhookSecret},
				notify.Target{Kind: "wecom", URL: target.URL + "/send?key=k"})
			f.file(t, "f1", 4*time.Hour)
			f.round(t)
			f.clock.add(2 * time.Second)
			f.round(t)
			if req, _ := elsewhere.counts(); req != 0 {
				t.Fatalf("the redirect's target got %d requests", req)
			}
			if logs := f.logs.String(); !strings.Contains(logs, "redirects are not followed") || strings.Contains(logs, "notification delivered") {
				t.Errorf("the log does not say the redirect was refused:\n%s", logs)
			}
		})
	}
}
