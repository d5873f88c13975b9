package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/findings"
	"github.com/qianliyan/qianliyan/relay/health"
	"github.com/qianliyan/qianliyan/relay/hub"
	"github.com/qianliyan/qianliyan/relay/store"
)

type findingServer struct {
	url      string
	tokens   map[string]string // by user name
	stopping chan struct{}
}

func newFindingServer(t *testing.T) *findingServer {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := store.OpenDatabase(ctx, filepath.Join(dir, "relay.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st := store.New(db)
	for _, site := range []string{"site-01", "site-02"} {
		if err := st.PutSite(ctx, store.Site{ID: site, TimeZone: "Asia/Shanghai"}, []store.Camera{{ID: "doff1", Zone: "doffing_room_1"}}); err != nil {
			t.Fatal(err)
		}
	}
	fs := &findingServer{tokens: map[string]string{}, stopping: make(chan struct{})}
	signer, err := auth.NewSigner(make([]byte, auth.KeySize), time.Hour, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []store.User{
		{Name: "duty", Role: "duty"}, {Name: "sup", Role: "supervisor"},
		{Name: "mgr1", Role: "site_manager", Sites: []string{"site-01"}},
		{Name: "mgr2", Role: "site_manager", Sites: []string{"site-02"}},
	} {
		u.PasswordHash = "x"
		if err := st.PutUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		if fs.tokens[u.Name], _, err = signer.Issue(u.Name, auth.Role(u.Role)); err != nil {
			t.Fatal(err)
		}
	}
	finds, err := findings.New(findings.Config{DB: db, Sites: st, EvidenceDir: filepath.Join(dir, "evidence")})
	if err != nil {
		t.Fatal(err)
	}
	h := hub.New(hub.Config{})
	srv := httptest.NewUnstartedServer(New(Config{
		Store: st, Signer: signer, Streams: h, Changes: health.NewWatcher(h), MaxSDPBytes: 1 << 16,
		Started: time.Now(), Stopping: fs.stopping, Log: zerolog.Nop(), Findings: finds,
	}))
	// Far shorter than a long poll waits: polls must outlive it.
	srv.Config.ReadTimeout = readTimeout
	srv.Start()
	t.Cleanup(srv.Close)
	fs.url = srv.URL
	return fs
}

type reply struct {
	status int
	body   []byte
}

func (r reply) code() string {
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.Unmarshal(r.body, &e)
	return e.Error.Code
}

func (fs *findingServer) do(t *testing.T, user, method, path string, header map[string]string, body []byte) reply {
	t.Helper()
	req, err := http.NewRequest(method, fs.url+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.Header.Set("Authorization", "Bearer "+fs.tokens[user])
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, b}
}

var jsonCT = map[string]string{"Content-Type": "application/json"}

func findingJSON(id, site string, edit func(map[string]any)) []byte {
	now := time.Now().UTC()
	m := map[string]any{"id": id, "site": site, "camera": "doff1", "zone": "doffing_room_1",
		"template_id": "ppe-doffing", "template_version": 1, "step": "goggles", "deviation": "wrong_order",
		"deviation_text": "脱卸顺序错误", "severity": "major", "note": "", "observer": "duty",
		"observed_at": now.Add(-time.Minute).Format(time.RFC3339Nano), "flagged_at": now.Format(time.RFC3339Nano),
		"deadline": now.Add(4 * time.Hour).Format(time.RFC3339Nano)}
	if edit != nil {
		edit(m)
	}
	b, _ := json.Marshal(m)
	return b
}

func testJPEG(t *testing.T) []byte {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewRGBA(image.Rect(0, 0, 64, 36)), nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func digest(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// cursor is the newest change's cursor as the changes feed tells it.
func (fs *findingServer) cursor(t *testing.T) int64 {
	t.Helper()
	r := fs.do(t, "duty", "GET", "/api/v1/findings/changes?after=0&wait=0", nil, nil)
	var out struct{ Cursor int64 }
	if err := json.Unmarshal(r.body, &out); err != nil || r.status != 200 {
		t.Fatalf("changes: %d %s", r.status, r.body)
	}
	return out.Cursor
}

func TestFindingsAPIBadInput(t *testing.T) {
	fs := newFindingServer(t)
	if r := fs.do(t, "duty", "PUT", "/api/v1/findings/f1", jsonCT, findingJSON("f1", "site-01", nil)); r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	jpg := testJPEG(t)
	before := fs.cursor(t)
	evidence := func(ct, sha string) map[string]string {
		return map[string]string{"Content-Type": ct, "X-Content-SHA256": sha}
	}
	act := func(s string) []byte { return []byte(s) }
	for _, c := range []struct {
		name, user, method, path string
		header                   map[string]string
		body                     []byte
		status                   int
		code                     string
	}{
		{"no token", "", "PUT", "/api/v1/findings/f2", jsonCT, findingJSON("f2", "site-01", nil), 401, "unauthorized"},
		{"unknown site", "duty", "PUT", "/api/v1/findings/f2", jsonCT, findingJSON("f2", "nowhere", nil), 404, "unknown_site"},
		{"bad severity", "duty", "PUT", "/api/v1/findings/f2", jsonCT, findingJSON("f2", "site-01", func(m map[string]any) { m["severity"] = "apocalyptic" }), 422, "invalid_field"},
		{"missing camera", "duty", "PUT", "/api/v1/findings/f2", jsonCT, findingJSON("f2", "site-01", func(m map[string]any) { delete(m, "camera") }), 422, "invalid_field"},
		{"bad time", "duty", "PUT", "/api/v1/findings/f2", jsonCT, findingJSON("f2", "site-01", func(m map[string]any) { m["deadline"] = "tomorrow" }), 400, "bad_request"},
		{"id mismatch", "duty", "PUT", "/api/v1/findings/f2", jsonCT, findingJSON("f3", "site-01", nil), 400, "bad_request"},
		{"a field the relay keeps", "duty", "PUT", "/api/v1/findings/f2", jsonCT, findingJSON("f2", "site-01", func(m map[string]any) { m["status"] = "open" }), 400, "unknown_field"},
		{"not JSON", "duty", "PUT", "/api/v1/findings/f2", jsonCT, []byte("{"), 400, "bad_request"},
		{"wrong content type", "duty", "PUT", "/api/v1/findings/f2", map[string]string{"Content-Type": "text/plain"}, findingJSON("f2", "site-01", nil), 415, "bad_content_type"},
		{"oversized finding", "duty", "PUT", "/api/v1/findings/f2", jsonCT, findingJSON("f2", "site-01", func(m map[string]any) { m["note"] = strings.Repeat("x", 70<<10) }), 413, "body_too_large"},
		{"site manager files", "mgr1", "PUT", "/api/v1/findings/f2", jsonCT, findingJSON("f2", "site-01", nil), 403, "forbidden"},
		{"same id, other content", "duty", "PUT", "/api/v1/findings/f1", jsonCT, findingJSON("f1", "site-01", func(m map[string]any) { m["note"] = "different" }), 409, "conflict"},
		{"digest mismatch", "duty", "PUT", "/api/v1/findings/f1/evidence/snapshot", evidence("image/jpeg", digest([]byte("other"))), jpg, 400, "digest_mismatch"},
		{"evidence content type", "duty", "PUT", "/api/v1/findings/f1/evidence/snapshot", evidence("image/gif", digest(jpg)), jpg, 415, "bad_content_type"},
		{"oversized snapshot", "duty", "PUT", "/api/v1/findings/f1/evidence/snapshot", evidence("image/jpeg", digest(jpg)), append(jpg, make([]byte, 2<<20)...), 413, "body_too_large"},
		{"unknown evidence kind", "duty", "PUT", "/api/v1/findings/f1/evidence/audio", evidence("image/jpeg", digest(jpg)), jpg, 404, "unknown_evidence"},
		{"evidence of unknown finding", "duty", "PUT", "/api/v1/findings/nope/evidence/snapshot", evidence("image/jpeg", digest(jpg)), jpg, 404, "unknown_finding"},
		{"bad transition", "duty", "POST", "/api/v1/findings/f1/actions", jsonCT, act(`{"action_id":"a1","action":"verify"}`), 409, "bad_transition"},
		{"manager may not withdraw", "mgr1", "POST", "/api/v1/findings/f1/actions", jsonCT, act(`{"action_id":"a2","action":"withdraw"}`), 403, "forbidden"},
		{"duty may not acknowledge", "duty", "POST", "/api/v1/findings/f1/actions", jsonCT, act(`{"action_id":"a3","action":"acknowledge"}`), 403, "forbidden"},
		{"another site's manager", "mgr2", "POST", "/api/v1/findings/f1/actions", jsonCT, act(`{"action_id":"a4","action":"acknowledge"}`), 404, "unknown_finding"},
		{"unknown action", "duty", "POST", "/api/v1/findings/f1/actions", jsonCT, act(`{"action_id":"a5","action":"delete"}`), 422, "invalid_field"},
		{"no action id", "duty", "POST", "/api/v1/findings/f1/actions", jsonCT, act(`{"action":"withdraw"}`), 422, "invalid_field"},
		{"unknown action field", "duty", "POST", "/api/v1/findings/f1/actions", jsonCT, act(`{"action_id":"a6","action":"withdraw","why":"x"}`), 400, "unknown_field"},
		{"edit to bad severity", "duty", "POST", "/api/v1/findings/f1/actions", jsonCT, act(`{"action_id":"a7","action":"edit","severity":"huge"}`), 422, "invalid_field"},
		{"manager changes severity", "mgr1", "POST", "/api/v1/findings/f1/actions", jsonCT, act(`{"action_id":"a8","action":"acknowledge","severity":"minor"}`), 422, "invalid_field"},
		{"another site's finding", "mgr2", "GET", "/api/v1/findings/f1", nil, nil, 404, "unknown_finding"},
		{"another site's evidence", "mgr2", "GET", "/api/v1/evidence/f1/snapshot", nil, nil, 404, "unknown_finding"},
		{"bad status filter", "duty", "GET", "/api/v1/findings?status=closed", nil, nil, 400, "bad_request"},
		{"bad overdue filter", "duty", "GET", "/api/v1/findings?overdue=maybe", nil, nil, 400, "bad_request"},
		{"bad cursor", "duty", "GET", "/api/v1/findings/changes?after=-1", nil, nil, 400, "bad_request"},
		{"bad wait", "duty", "GET", "/api/v1/findings/changes?wait=soon", nil, nil, 400, "bad_request"},
		{"manager follows changes", "mgr1", "GET", "/api/v1/findings/changes", nil, nil, 403, "forbidden"},
		{"method", "duty", "DELETE", "/api/v1/findings/f1", nil, nil, 405, "method_not_allowed"},
		{"filing at the changes feed", "duty", "PUT", "/api/v1/findings/changes", jsonCT, findingJSON("changes", "site-01", nil), 405, "method_not_allowed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := fs.do(t, c.user, c.method, c.path, c.header, c.body)
			if r.status != c.status || r.code() != c.code {
				t.Fatalf("%d %s, want %d %s", r.status, r.body, c.status, c.code)
			}
		})
	}
	if after := fs.cursor(t); after != before {
		t.Errorf("bad input changed something: cursor %d -> %d", before, after)
	}
	r := fs.do(t, "duty", "GET", "/api/v1/findings/f1", nil, nil)
	var f findings.Finding
	if err := json.Unmarshal(r.body, &f); err != nil || f.Status != findings.StatusOpen || f.Note != "" || f.Evidence.Snapshot != nil || len(f.Events) != 1 {
		t.Errorf("finding after bad input: %s", r.body)
	}
}

func TestFindingsAPIFlow(t *testing.T) {
	fs := newFindingServer(t)
	body := findingJSON("f1", "site-01", nil)
	for i, want := range []int{201, 200} {
		if r := fs.do(t, "duty", "PUT", "/api/v1/findings/f1", jsonCT, body); r.status != want {
			t.Fatalf("put %d: %d %s", i, r.status, r.body)
		}
	}
	if r := fs.do(t, "duty", "PUT", "/api/v1/findings/g1", jsonCT, findingJSON("g1", "site-02", nil)); r.status != 201 {
		t.Fatalf("put g1: %d %s", r.status, r.body)
	}
	jpg := testJPEG(t)
	hdr := map[string]string{"Content-Type": "image/jpeg", "X-Content-SHA256": digest(jpg)}
	for i, want := range []int{201, 200} {
		if r := fs.do(t, "duty", "PUT", "/api/v1/findings/f1/evidence/snapshot", hdr, jpg); r.status != want {
			t.Fatalf("snapshot %d: %d %s", i, r.status, r.body)
		}
	}
	// A site manager sees their site's finding and its snapshot, with Range.
	r := fs.do(t, "mgr1", "GET", "/api/v1/findings", nil, nil)
	var list struct{ Findings []findings.Finding }
	if err := json.Unmarshal(r.body, &list); err != nil || len(list.Findings) != 1 || list.Findings[0].ID != "f1" {
		t.Fatalf("manager's list: %s", r.body)
	}
	snap := list.Findings[0].Evidence.Snapshot
	if snap == nil || snap.SHA256 != digest(jpg) {
		t.Fatalf("snapshot evidence %+v", snap)
	}
	if r := fs.do(t, "mgr1", "GET", snap.URL, map[string]string{"Range": "bytes=0-9"}, nil); r.status != 206 || !bytes.Equal(r.body, jpg[:10]) {
		t.Fatalf("range of the snapshot: %d %d bytes", r.status, len(r.body))
	}
	r = fs.do(t, "duty", "GET", "/api/v1/findings", nil, nil)
	if json.Unmarshal(r.body, &list); len(list.Findings) != 2 {
		t.Fatalf("duty's list: %s", r.body)
	}

	// A console follows from its cursor: a long poll wakes on the next change.
	cur := fs.cursor(t)
	waiting := make(chan reply, 1)
	go func() {
		req, _ := http.NewRequest("GET", fs.url+"/api/v1/findings/changes?after="+fmt.Sprint(cur)+"&wait=25", nil)
		req.Header.Set("Authorization", "Bearer "+fs.tokens["sup"])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			waiting <- reply{}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		waiting <- reply{resp.StatusCode, b}
	}()
	time.Sleep(200 * time.Millisecond) // let it wait (if it has not yet, it finds the change at once)
	if r := fs.do(t, "mgr1", "POST", "/api/v1/findings/f1/actions", jsonCT, []byte(`{"action_id":"ack-1","action":"acknowledge","note":"seen"}`)); r.status != 200 {
		t.Fatalf("acknowledge: %d %s", r.status, r.body)
	}
	select {
	case r := <-waiting:
		var out struct {
			Cursor  int64
			Changes []findings.Change
		}
		if err := json.Unmarshal(r.body, &out); err != nil || len(out.Changes) != 1 || out.Cursor != cur+1 ||
			out.Changes[0].Event.Action != "acknowledge" || out.Changes[0].Event.Actor != "mgr1" || out.Changes[0].Finding.Status != findings.StatusAcknowledged {
			t.Fatalf("woken poll: %d %s", r.status, r.body)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the waiting poll was not woken within 5 s of a change")
	}
	// A poll with nothing new answers after its wait, longer than the
	// server's ReadTimeout, with no changes and the same cursor.
	start := time.Now()
	r = fs.do(t, "duty", "GET", "/api/v1/findings/changes?after="+fmt.Sprint(cur+1)+"&wait=1", nil, nil)
	var empty struct {
		Cursor  int64
		Changes []findings.Change
	}
	if err := json.Unmarshal(r.body, &empty); err != nil || r.status != 200 || empty.Cursor != cur+1 || empty.Changes == nil || len(empty.Changes) != 0 || time.Since(start) < time.Second {
		t.Fatalf("empty poll: %d %s after %v", r.status, r.body, time.Since(start))
	}
	// The same action again: 200, nothing new.
	if r := fs.do(t, "mgr1", "POST", "/api/v1/findings/f1/actions", jsonCT, []byte(`{"action_id":"ack-1","action":"acknowledge","note":"seen"}`)); r.status != 200 || fs.cursor(t) != cur+1 {
		t.Fatalf("repeated action: %d %s", r.status, r.body)
	}
	// A poll with nothing new ends at shutdown.
	go func() {
		req, _ := http.NewRequest("GET", fs.url+"/api/v1/findings/changes?after="+fmt.Sprint(cur+1)+"&wait=30", nil)
		req.Header.Set("Authorization", "Bearer "+fs.tokens["duty"])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			waiting <- reply{}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		waiting <- reply{resp.StatusCode, b}
	}()
	time.Sleep(100 * time.Millisecond)
	close(fs.stopping)
	select {
	case r := <-waiting:
		if r.status != 200 || !strings.Contains(string(r.body), `"changes":[]`) {
			t.Fatalf("poll at shutdown: %d %s", r.status, r.body)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a waiting poll did not end within 5 s of shutdown")
	}
}
