package relay

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/qianliyan/qianliyan/internal/testmedia"
	"github.com/qianliyan/qianliyan/internal/webrtcclient"
	"github.com/qianliyan/qianliyan/relay/api/apitest"
	"github.com/qianliyan/qianliyan/relay/peer"
)

// One user may watch so many streams at once; more are refused 429 naming
// the limit, with Retry-After, and leaving one makes room (issue 12: 40
// sessions of one camera were accepted on one token). A WHEP session's URL
// is its capability: its viewer leaves by DELETE whatever token comes with
// it, or none (issue 12: a revoked viewer could not end its own session).
func TestWHEPSessionsPerUserAndTheirDELETE(t *testing.T) {
	const fps = 10
	units, err := testmedia.Units(testmedia.Spec{Width: 160, Height: 96, FPS: fps, GOP: fps, Seconds: 2})
	if err != nil {
		t.Fatal(err)
	}
	r := startDemo(t, writeConfig(t, "limits: {whep_sessions_per_user: 3}\n"))
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	publishPaced(t, ctx, r, "site-01", "doff1", units, fps)
	duty := login(t, r, "duty", r.Demo().Password)
	url := r.URL() + "/whep/site-01/doff1?stream=main"

	var watching []*viewer
	for range 3 {
		watching = append(watching, watch(t, r, duty, "site-01", "doff1", "main"))
	}
	_, err = webrtcclient.Play(ctx, url, webrtcclient.Config{Token: duty})
	var refused *webrtcclient.Error
	if !errors.As(err, &refused) || refused.Status != http.StatusTooManyRequests || refused.Code != "too_many_open" ||
		!strings.Contains(refused.Message, "limits.whep_sessions_per_user") || refused.RetryAfter == 0 {
		t.Fatalf("a fourth session of one user: %v, want 429 too_many_open naming the limit, with Retry-After", err)
	}
	// The limit is each user's.
	mgr := login(t, r, r.Demo().Managers[0], r.Demo().ManagerPassword)
	watch(t, r, mgr, "site-01", "doff1", "main")

	// Leaving needs no token, nor a valid one.
	for i, token := range []string{"", "not-a-token"} {
		v := watching[i]
		if resp, b := apitest.Call(t, "DELETE", r.URL()+v.location, token, nil, nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("DELETE with token %q: %d %s", token, resp.StatusCode, b)
		}
	}
	recs, err := r.store.WHEPSessions(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	deleted := 0
	for _, rec := range recs {
		if rec.EndReason == peer.ReasonDeleted {
			deleted++
		}
	}
	if deleted != 2 {
		t.Fatalf("%d sessions recorded as deleted, want 2: %+v", deleted, recs)
	}
	// Their room is given back.
	for range 2 {
		watch(t, r, duty, "site-01", "doff1", "main")
	}
	if n := len(r.Viewers()); n != 4 {
		t.Fatalf("%d viewers, want duty's three and the manager's", n)
	}
}
