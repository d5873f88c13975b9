package server

import (
	"encoding/base64"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/console/findings"
	"github.com/qianliyan/qianliyan/console/findings/findingstest"
	"github.com/qianliyan/qianliyan/console/store"
	"github.com/qianliyan/qianliyan/internal/smallfs"
)

// A flag the full data disk refuses is answered 507 with the code the view
// shows the officer, not 500.
func TestFlagOnAFullDiskAnswers507(t *testing.T) {
	dir := smallfs.Mount(t, 8<<20)
	r := findingstest.NewWith(t, findingstest.Options{}, findingstest.Parts{DataDir: dir})
	srv := httptest.NewServer(New(Options{Trusted: true, Log: zerolog.Nop(), Findings: func() *findings.Service { return r.Findings }}))
	defer srv.Close()
	v := r.Watch(t, findingstest.Doff1, time.Second)
	body, err := json.Marshal(map[string]any{
		"camera": "site-01/doff1", "stream": "main", "pts_us": v.OnScreen(t).PTS.Microseconds(),
		"template_id": "ppe-doffing", "step": "goggles", "deviation": "wrong_order",
		"deadline": time.Now().Add(time.Hour).Format(time.RFC3339),
		"snapshot": base64.StdEncoding.EncodeToString(findingstest.Snapshot(t, 320, 240, 1)),
	})
	if err != nil {
		t.Fatal(err)
	}
	filler := smallfs.Fill(t, dir, 0)
	if a := call(t, srv.URL, "POST", "/api/v1/findings", "application/json", string(body), nil); a.status != 507 || a.err.Code != store.CodeDiskFull {
		t.Fatalf("flag on the full disk: %d %+v, want 507 %s", a.status, a.err, store.CodeDiskFull)
	}
	filler.Free(t)
	if a := call(t, srv.URL, "POST", "/api/v1/findings", "application/json", string(body), nil); a.status != 201 {
		t.Fatalf("flag once space returned: %d %s", a.status, a.body)
	}
}
