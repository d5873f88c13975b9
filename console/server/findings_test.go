package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/console/findings"
	"github.com/qianliyan/qianliyan/console/findings/findingstest"
	"github.com/qianliyan/qianliyan/console/store"
)

// exchange is an answer of the findings API: status, headers, the body, and
// the error in it if it is one.
type exchange struct {
	status int
	header http.Header
	body   []byte
	err    struct{ Code, Message, Field string }
}

// call sends body with contentType ("" for none) to the server at base.
func call(t *testing.T, base, method, path, contentType, body string, header http.Header) exchange {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	a := exchange{status: resp.StatusCode, header: resp.Header}
	if a.body, err = io.ReadAll(resp.Body); err != nil {
		t.Fatal(err)
	}
	if a.status >= 400 {
		var e struct {
			Error struct{ Code, Message, Field string }
		}
		if err := json.Unmarshal(a.body, &e); err != nil || e.Error.Message == "" {
			t.Fatalf("%s %s: %d, not a JSON error: %q", method, path, a.status, a.body)
		}
		a.err = e.Error
	}
	return a
}

// TestFindingsAPI is the findings core over HTTP: the addresses, bodies,
// statuses and error codes the view relies on (docs/PROTOCOLS.md, rounds 3
// and 5). What the core decides is tested in console/findings.
func TestFindingsAPI(t *testing.T) {
	r := findingstest.New(t, findingstest.Options{MaxSnapshotBytes: 256 << 10})
	var ready atomic.Bool
	srv := httptest.NewServer(New(Options{Trusted: true, Log: zerolog.Nop(), Findings: func() *findings.Service {
		if !ready.Load() {
			return nil
		}
		return r.Findings
	}}))
	defer srv.Close()
	const jsonCT = "application/json"

	// Before the console has opened its store, the view is told to wait.
	if a := call(t, srv.URL, "GET", "/api/v1/findings", "", "", nil); a.status != 503 || a.err.Code != "starting" || a.header.Get("Retry-After") == "" {
		t.Fatalf("before the start: %d %+v", a.status, a.err)
	}
	ready.Store(true)

	v := r.Watch(t, findingstest.Doff1, findingstest.ClipBefore+time.Second)
	pts := v.OnScreen(t).PTS
	jpg := findingstest.Snapshot(t, 320, 240, 1)
	flag := func(change func(map[string]any)) string {
		m := map[string]any{
			"camera": "site-01/doff1", "stream": "main", "pts_us": pts.Microseconds(),
			"template_id": "ppe-doffing", "step": "goggles", "deviation": "wrong_order",
			"deadline": time.Now().Add(time.Hour).Format(time.RFC3339), "snapshot": base64.StdEncoding.EncodeToString(jpg),
		}
		if change != nil {
			change(m)
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	a := call(t, srv.URL, "POST", "/api/v1/findings", jsonCT, flag(nil), nil)
	var f store.Finding
	if err := json.Unmarshal(a.body, &f); a.status != 201 || err != nil || f.Clip == nil || f.Clip.State != "recording" {
		t.Fatalf("flag: %d %s", a.status, a.body)
	}
	if a.header.Get("Location") != "/api/v1/findings/"+f.ID {
		t.Fatalf("Location %q", a.header.Get("Location"))
	}
	clip := r.WaitClip(t, f.ID, findingstest.ClipAfter+findingstest.Within)
	var got struct {
		store.Finding
		Events []store.Event `json:"events"`
	}
	if a := call(t, srv.URL, "GET", "/api/v1/findings/"+f.ID, "", "", nil); a.status != 200 || json.Unmarshal(a.body, &got) != nil ||
		got.ID != f.ID || got.Clip.State != "complete" || len(got.Events) != 2 {
		t.Fatalf("finding: %d %s", a.status, a.body)
	}

	// Both evidence files are served, with Range.
	for _, c := range []struct {
		file, ctype string
		size        int64
	}{{f.Snapshot.File, "image/jpeg", int64(len(jpg))}, {clip.File, "video/mp4", clip.Bytes}} {
		a := call(t, srv.URL, "GET", "/api/v1/evidence/"+c.file, "", "", http.Header{"Range": {"bytes=0-99"}})
		if a.status != 206 || len(a.body) != 100 || a.header.Get("Content-Type") != c.ctype ||
			a.header.Get("Content-Range") != fmt.Sprintf("bytes 0-99/%d", c.size) || !strings.Contains(a.header.Get("Cache-Control"), "immutable") {
			t.Fatalf("%s: %d %q %q, %d bytes", c.file, a.status, a.header.Get("Content-Type"), a.header.Get("Content-Range"), len(a.body))
		}
	}

	// A finding the site has reported rectified, one withdrawn, and a run.
	rectified := r.Create(t, "rectified", time.Hour)
	r.Rectified(t, rectified, 1)
	withdrawn := r.Create(t, "withdrawn", time.Hour)
	if _, err := r.Store.Withdraw(context.Background(), withdrawn.ID, "duty", "wrong camera"); err != nil {
		t.Fatal(err)
	}
	var run struct{ ID string }
	if a := call(t, srv.URL, "POST", "/api/v1/runs", jsonCT, `{"template_id":"ppe-doffing","camera":"site-01/doff1"}`, nil); a.status != 201 || json.Unmarshal(a.body, &run) != nil {
		t.Fatalf("run: %d %s", a.status, a.body)
	}

	finding := "/api/v1/findings/" + f.ID
	big := `{"snapshot":"` + strings.Repeat("A", 256<<10/3*4+64<<10) + `"}`
	cases := []struct {
		name, method, path, ctype, body string
		status                          int
		code, field                     string
	}{
		// Reads.
		{"checklists", "GET", "/api/v1/checklists?zone=doffing_room_1", "", "", 200, "", ""},
		{"list", "GET", "/api/v1/findings", "", "", 200, "", ""},
		{"list by status", "GET", "/api/v1/findings?status=rectified,open&overdue=0", "", "", 200, "", ""},
		{"empty status", "GET", "/api/v1/findings?status=", "", "", 200, "", ""},
		{"unknown status", "GET", "/api/v1/findings?status=rectified,fixed", "", "", 400, "invalid_field", "status"},
		{"bad overdue", "GET", "/api/v1/findings?overdue=maybe", "", "", 400, "invalid_field", "overdue"},
		{"bad since", "GET", "/api/v1/findings?status=open&since=yesterday", "", "", 400, "invalid_field", "since"},
		{"unknown finding", "GET", "/api/v1/findings/nope", "", "", 404, "unknown_finding", ""},
		{"unknown evidence", "GET", "/api/v1/evidence/nope.jpg", "", "", 404, "unknown_evidence", ""},
		{"evidence out of its folder", "GET", "/api/v1/evidence/..%2fconsole.db", "", "", 404, "unknown_evidence", ""},
		{"no evidence named", "GET", "/api/v1/evidence/", "", "", 404, "not_found", ""},

		// The one decoding rule.
		{"no content type", "PATCH", finding, "", `{"note":"x"}`, 415, "bad_content_type", ""},
		{"wrong content type", "POST", "/api/v1/findings", "text/plain", flag(nil), 415, "bad_content_type", ""},
		{"unknown field", "POST", "/api/v1/findings", jsonCT, flag(func(m map[string]any) { m["colour"] = "red" }), 400, "unknown_field", "colour"},
		{"field of the wrong type", "POST", "/api/v1/findings", jsonCT, flag(func(m map[string]any) { m["severity"] = 3 }), 400, "invalid_field", "severity"},
		{"not JSON", "POST", "/api/v1/findings", jsonCT, `{"camera":`, 400, "bad_request", ""},
		{"two JSON values", "POST", "/api/v1/findings", jsonCT, flag(nil) + ` {}`, 400, "bad_request", ""},
		{"flag over its cap", "POST", "/api/v1/findings", jsonCT, big, 413, "body_too_large", ""},
		{"note over its cap", "PATCH", finding, jsonCT, `{"note":"` + strings.Repeat("x", 64<<10) + `"}`, 413, "body_too_large", ""},

		// The core's refusals and the store's, answered.
		{"bad field", "PATCH", finding, jsonCT, `{"severity":"urgent"}`, 400, "invalid_field", "severity"},
		{"camera not pulled", "POST", "/api/v1/findings", jsonCT, flag(func(m map[string]any) { m["camera"] = "site-01/doff2" }), 409, "camera_not_pulled", "camera"},
		{"edit once forwarded", "PATCH", "/api/v1/findings/" + rectified.ID, jsonCT, `{"note":"x"}`, 409, "forwarded", ""},
		{"verify an open finding", "POST", finding + "/verify", jsonCT, `{"note":"fine"}`, 409, "bad_transition", ""},
		{"verify with a deadline", "POST", finding + "/verify", jsonCT, `{"note":"fine","deadline":"2030-01-01T00:00:00Z"}`, 400, "invalid_field", "deadline"},
		{"reopen an unknown finding", "POST", "/api/v1/findings/nope/reopen", jsonCT, `{"note":"x"}`, 404, "unknown_finding", ""},
		{"retry with nothing refused", "POST", finding + "/retry", jsonCT, `{}`, 409, "nothing_failing", ""},
		{"retry takes no body", "POST", "/api/v1/findings/nope/retry", "", "", 404, "unknown_finding", ""},
		{"withdraw twice", "POST", "/api/v1/findings/" + withdrawn.ID + "/withdraw", jsonCT, `{"reason":"again"}`, 409, "not_withdrawable", ""},
		{"mark", "POST", "/api/v1/runs/" + run.ID + "/marks", jsonCT, `{"step":"goggles","mark":"done"}`, 200, "", ""},
		{"mark of an unknown run", "POST", "/api/v1/runs/nope/marks", jsonCT, `{"step":"goggles","mark":"done"}`, 404, "unknown_run", ""},
		{"stop a timer not running", "POST", "/api/v1/runs/" + run.ID + "/timers", jsonCT, `{"step":"hh-gloves","action":"stop"}`, 409, "timer_not_running", "step"},
		{"unknown template", "POST", "/api/v1/runs", jsonCT, `{"template_id":"juggling"}`, 400, "unknown_template", "template_id"},

		// Methods.
		{"checklists take GET", "POST", "/api/v1/checklists", jsonCT, `{}`, 405, "method_not_allowed", ""},
		{"findings take GET and POST", "DELETE", "/api/v1/findings", "", "", 405, "method_not_allowed", ""},
		{"a finding takes GET and PATCH", "PUT", finding, jsonCT, `{}`, 405, "method_not_allowed", ""},
		{"evidence", "HEAD", "/api/v1/evidence/" + f.Snapshot.File, "", "", 200, "", ""},
	}
	allow := map[string]string{"/api/v1/checklists": "GET, HEAD", "/api/v1/findings": "GET, HEAD, POST", finding: "GET, HEAD, PATCH"}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := call(t, srv.URL, c.method, c.path, c.ctype, c.body, nil)
			if a.status != c.status || a.err.Code != c.code || a.err.Field != c.field {
				t.Fatalf("%d %+v, want %d %s on %q", a.status, a.err, c.status, c.code, c.field)
			}
			if a.status == 405 && a.header.Get("Allow") != allow[c.path] {
				t.Fatalf("Allow %q, want %q", a.header.Get("Allow"), allow[c.path])
			}
		})
	}
}
