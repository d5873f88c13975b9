package server

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/console/relayclient"
	"github.com/qianliyan/qianliyan/console/store"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// storeWatching records what is on screen in a real store as the signed-in
// officer's, as the backend does.
type storeWatching struct {
	st             *store.Store
	officer, relay string
}

func (s storeWatching) SetWatching(ctx context.Context, v []store.Watching) ([]store.OpenWatch, error) {
	return s.st.SetWatching(ctx, store.WatchUpdate{Officer: s.officer, Relay: s.relay, At: time.Now(), Visible: v})
}

// TestCoverageAPI: what the view says is on screen is kept and answered as
// the watches open; a camera not named site/camera, a mode other than tile
// or focus, or an unknown field is 400 naming it and changes nothing; the
// relay's coverage, key moments and unwatched zones pass through, a bad
// time is 400 before the relay is asked.
func TestCoverageAPI(t *testing.T) {
	c, relay := newConsole(t)
	st, err := store.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h := New(Options{Assets: assets, Console: c, Wall: newWall(t), Secret: token, Trusted: true, Log: zerolog.Nop(),
		Watching: storeWatching{st: st, officer: relay.Demo().User, relay: c.relay.BaseURL()},
		Coverage: func() (*relayclient.Client, error) { return c.relay, nil }})

	a := send(t, h, "PUT", "/api/v1/watching", `{"visible":[{"camera":"site-01/doff1","mode":"tile"},{"camera":"site-01/doff2","mode":"focus"}]}`, jsonBody)
	var open struct {
		Open []store.OpenWatch `json:"open"`
	}
	if err := json.Unmarshal([]byte(a.body), &open); a.status != http.StatusOK || err != nil || len(open.Open) != 2 || open.Open[1].Mode != "focus" {
		t.Fatalf("watching: %d %s", a.status, a.body)
	}
	for _, tc := range []struct{ name, body, code string }{
		{"a camera without its site", `{"visible":[{"camera":"doff1","mode":"tile"}]}`, "invalid_field"},
		{"a mode", `{"visible":[{"camera":"site-01/doff1","mode":"glance"}]}`, "invalid_field"},
		{"an unknown field", `{"visible":[],"officer":"someone"}`, "unknown_field"},
	} {
		if a := send(t, h, "PUT", "/api/v1/watching", tc.body, jsonBody); a.status != http.StatusBadRequest || errorCode(t, a.body) != tc.code {
			t.Errorf("%s: %d %s, want 400 %s", tc.name, a.status, a.body, tc.code)
		}
	}
	if ws, err := st.OpenWatches(context.Background()); err != nil || len(ws) != 2 {
		t.Errorf("after the refusals, open %+v, %v; want the two as they were", ws, err)
	}

	var cov wire.Coverage
	if a := get(t, h, "GET", "/api/v1/coverage?site=site-01", ""); a.status != http.StatusOK || json.Unmarshal([]byte(a.body), &cov) != nil || len(cov.Sites) != 1 {
		t.Errorf("coverage: %d %s", a.status, a.body)
	}
	var ms wire.Moments
	if a := get(t, h, "GET", "/api/v1/coverage/moments?back=1h&ahead=24h", ""); a.status != http.StatusOK || json.Unmarshal([]byte(a.body), &ms) != nil || len(ms.Moments) == 0 {
		t.Errorf("moments: %d %s", a.status, a.body)
	}
	var un wire.Unwatched
	if a := get(t, h, "GET", "/api/v1/coverage/unwatched", ""); a.status != http.StatusOK || json.Unmarshal([]byte(a.body), &un) != nil {
		t.Errorf("unwatched: %d %s", a.status, a.body)
	}
	for _, path := range []string{"/api/v1/coverage?at=yesterday", "/api/v1/coverage/moments?back=forever", "/api/v1/coverage/unwatched?at=noon"} {
		if a := get(t, h, "GET", path, ""); a.status != http.StatusBadRequest || errorCode(t, a.body) != "bad_request" {
			t.Errorf("%s: %d %s, want 400 bad_request", path, a.status, a.body)
		}
	}
}
