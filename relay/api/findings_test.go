package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/jpeg"
	"strings"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/relay/api/apitest"
	"github.com/qianliyan/qianliyan/relay/findings"
)

// findingJSON is the body filing apitest.Draft's finding id at site, due
// in four hours, as edit changes it (nil: as it is).
func findingJSON(id, site string, edit func(map[string]any)) []byte {
	b, _ := json.Marshal(apitest.Draft(id, site, time.Now().UTC().Add(4*time.Hour)))
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	if edit != nil {
		edit(m)
	}
	b, _ = json.Marshal(m)
	return b
}

func testJPEG(t *testing.T) []byte {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewRGBA(image.Rect(0, 0, 64, 36)), nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// cursor is the newest change's cursor as the changes feed tells it.
func (f *fixture) cursor(t *testing.T) int64 {
	t.Helper()
	r := f.do(t, "duty", "GET", "/api/v1/findings/changes?after=0&wait=0", nil, nil)
	var out struct{ Cursor int64 }
	if err := json.Unmarshal(r.body, &out); err != nil || r.status != 200 {
		t.Fatalf("changes: %d %s", r.status, r.body)
	}
	return out.Cursor
}

func TestFindingsAPIBadInput(t *testing.T) {
	fs := newFixture(t, time.Hour)
	if r := fs.do(t, "duty", "PUT", "/api/v1/findings/f1", apitest.JSON, findingJSON("f1", "site-01", nil)); r.status != 201 {
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
		{"no token", "", "PUT", "/api/v1/findings/f2", apitest.JSON, findingJSON("f2", "site-01", nil), 401, "unauthorized"},
		{"unknown site", "duty", "PUT", "/api/v1/findings/f2", apitest.JSON, findingJSON("f2", "nowhere", nil), 404, "unknown_site"},
		{"bad severity", "duty", "PUT", "/api/v1/findings/f2", apitest.JSON, findingJSON("f2", "site-01", func(m map[string]any) { m["severity"] = "apocalyptic" }), 422, "invalid_field"},
		{"missing camera", "duty", "PUT", "/api/v1/findings/f2", apitest.JSON, findingJSON("f2", "site-01", func(m map[string]any) { delete(m, "camera") }), 422, "invalid_field"},
		{"bad time", "duty", "PUT", "/api/v1/findings/f2", apitest.JSON, findingJSON("f2", "site-01", func(m map[string]any) { m["deadline"] = "tomorrow" }), 400, "bad_request"},
		{"id mismatch", "duty", "PUT", "/api/v1/findings/f2", apitest.JSON, findingJSON("f3", "site-01", nil), 400, "bad_request"},
		{"a field the relay keeps", "duty", "PUT", "/api/v1/findings/f2", apitest.JSON, findingJSON("f2", "site-01", func(m map[string]any) { m["status"] = "open" }), 400, "unknown_field"},
		{"not JSON", "duty", "PUT", "/api/v1/findings/f2", apitest.JSON, []byte("{"), 400, "bad_request"},
		{"wrong content type", "duty", "PUT", "/api/v1/findings/f2", map[string]string{"Content-Type": "text/plain"}, findingJSON("f2", "site-01", nil), 415, "bad_content_type"},
		{"oversized finding", "duty", "PUT", "/api/v1/findings/f2", apitest.JSON, findingJSON("f2", "site-01", func(m map[string]any) { m["note"] = strings.Repeat("x", 70<<10) }), 413, "body_too_large"},
		{"site manager files", "mgr1", "PUT", "/api/v1/findings/f2", apitest.JSON, findingJSON("f2", "site-01", nil), 403, "forbidden"},
		{"same id, other content", "duty", "PUT", "/api/v1/findings/f1", apitest.JSON, findingJSON("f1", "site-01", func(m map[string]any) { m["note"] = "different" }), 409, "conflict"},
		{"digest mismatch", "duty", "PUT", "/api/v1/findings/f1/evidence/snapshot", evidence("image/jpeg", apitest.Digest([]byte("other"))), jpg, 400, "digest_mismatch"},
		{"evidence content type", "duty", "PUT", "/api/v1/findings/f1/evidence/snapshot", evidence("image/gif", apitest.Digest(jpg)), jpg, 415, "bad_content_type"},
		{"oversized snapshot", "duty", "PUT", "/api/v1/findings/f1/evidence/snapshot", evidence("image/jpeg", apitest.Digest(jpg)), append(jpg, make([]byte, 2<<20)...), 413, "body_too_large"},
		{"unknown evidence kind", "duty", "PUT", "/api/v1/findings/f1/evidence/audio", evidence("image/jpeg", apitest.Digest(jpg)), jpg, 404, "unknown_evidence"},
		{"evidence of unknown finding", "duty", "PUT", "/api/v1/findings/nope/evidence/snapshot", evidence("image/jpeg", apitest.Digest(jpg)), jpg, 404, "unknown_finding"},
		{"bad transition", "duty", "POST", "/api/v1/findings/f1/actions", apitest.JSON, act(`{"action_id":"a1","action":"verify"}`), 409, "bad_transition"},
		{"manager may not withdraw", "mgr1", "POST", "/api/v1/findings/f1/actions", apitest.JSON, act(`{"action_id":"a2","action":"withdraw"}`), 403, "forbidden"},
		{"duty may not acknowledge", "duty", "POST", "/api/v1/findings/f1/actions", apitest.JSON, act(`{"action_id":"a3","action":"acknowledge"}`), 403, "forbidden"},
		{"another site's manager", "mgr2", "POST", "/api/v1/findings/f1/actions", apitest.JSON, act(`{"action_id":"a4","action":"acknowledge"}`), 404, "unknown_finding"},
		{"unknown action", "duty", "POST", "/api/v1/findings/f1/actions", apitest.JSON, act(`{"action_id":"a5","action":"delete"}`), 422, "invalid_field"},
		{"no action id", "duty", "POST", "/api/v1/findings/f1/actions", apitest.JSON, act(`{"action":"withdraw"}`), 422, "invalid_field"},
		{"unknown action field", "duty", "POST", "/api/v1/findings/f1/actions", apitest.JSON, act(`{"action_id":"a6","action":"withdraw","why":"x"}`), 400, "unknown_field"},
		{"edit to bad severity", "duty", "POST", "/api/v1/findings/f1/actions", apitest.JSON, act(`{"action_id":"a7","action":"edit","severity":"huge"}`), 422, "invalid_field"},
		{"manager changes severity", "mgr1", "POST", "/api/v1/findings/f1/actions", apitest.JSON, act(`{"action_id":"a8","action":"acknowledge","severity":"minor"}`), 422, "invalid_field"},
		{"another site's finding", "mgr2", "GET", "/api/v1/findings/f1", nil, nil, 404, "unknown_finding"},
		{"another site's evidence", "mgr2", "GET", "/api/v1/evidence/f1/snapshot", nil, nil, 404, "unknown_finding"},
		{"bad status filter", "duty", "GET", "/api/v1/findings?status=closed", nil, nil, 400, "bad_request"},
		{"bad overdue filter", "duty", "GET", "/api/v1/findings?overdue=maybe", nil, nil, 400, "bad_request"},
		{"bad cursor", "duty", "GET", "/api/v1/findings/changes?after=-1", nil, nil, 400, "bad_request"},
		{"bad wait", "duty", "GET", "/api/v1/findings/changes?wait=soon", nil, nil, 400, "bad_request"},
		{"manager follows changes", "mgr1", "GET", "/api/v1/findings/changes", nil, nil, 403, "forbidden"},
		{"method", "duty", "DELETE", "/api/v1/findings/f1", nil, nil, 405, "method_not_allowed"},
		{"filing at the changes feed", "duty", "PUT", "/api/v1/findings/changes", apitest.JSON, findingJSON("changes", "site-01", nil), 405, "method_not_allowed"},
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
	if err := json.Unmarshal(r.body, &f); err != nil || f.Status != findings.StatusOpen || f.Note != "goggles before gown" || f.Evidence.Snapshot != nil || len(f.Events) != 1 {
		t.Errorf("finding after bad input: %s", r.body)
	}
}

func TestFindingsAPIFlow(t *testing.T) {
	fs := newFixture(t, time.Hour)
	body := findingJSON("f1", "site-01", nil)
	for i, want := range []int{201, 200} {
		if r := fs.do(t, "duty", "PUT", "/api/v1/findings/f1", apitest.JSON, body); r.status != want {
			t.Fatalf("put %d: %d %s", i, r.status, r.body)
		}
	}
	if r := fs.do(t, "duty", "PUT", "/api/v1/findings/g1", apitest.JSON, findingJSON("g1", "site-02", nil)); r.status != 201 {
		t.Fatalf("put g1: %d %s", r.status, r.body)
	}
	jpg := testJPEG(t)
	hdr := map[string]string{"Content-Type": "image/jpeg", "X-Content-SHA256": apitest.Digest(jpg)}
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
	if snap == nil || snap.SHA256 != apitest.Digest(jpg) {
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
	waiting := fs.poll("sup", cur, 25)
	time.Sleep(200 * time.Millisecond) // let it wait (if it has not yet, it finds the change at once)
	if r := fs.do(t, "mgr1", "POST", "/api/v1/findings/f1/actions", apitest.JSON, []byte(`{"action_id":"ack-1","action":"acknowledge","note":"seen"}`)); r.status != 200 {
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
	case <-time.After(eventually.Ceiling):
		t.Fatal("the waiting poll was not woken by a change")
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
	if r := fs.do(t, "mgr1", "POST", "/api/v1/findings/f1/actions", apitest.JSON, []byte(`{"action_id":"ack-1","action":"acknowledge","note":"seen"}`)); r.status != 200 || fs.cursor(t) != cur+1 {
		t.Fatalf("repeated action: %d %s", r.status, r.body)
	}
	// A poll with nothing new ends at shutdown.
	waiting = fs.poll("duty", cur+1, 30)
	time.Sleep(100 * time.Millisecond)
	close(fs.stopping)
	select {
	case r := <-waiting:
		if r.status != 200 || !strings.Contains(string(r.body), `"changes":[]`) {
			t.Fatalf("poll at shutdown: %d %s", r.status, r.body)
		}
	case <-time.After(eventually.Ceiling):
		t.Fatal("a waiting poll did not end at shutdown")
	}
}
