package api

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/relay/api/apitest"
	"github.com/qianliyan/qianliyan/relay/findings"
	"github.com/qianliyan/qianliyan/relay/store"
)

// A finding is of a camera its site has, and is observed by who filed it.
func TestFilingChecksCameraAndObserver(t *testing.T) {
	fs := newFixture(t, time.Hour)
	// site-02 has a second camera, site-01 not.
	if err := fs.st.PutSite(context.Background(), store.Site{ID: "site-02", TimeZone: "Asia/Shanghai"},
		[]store.Camera{{ID: "doff1", Zone: "doffing_room_1"}, {ID: "doff2", Zone: "doffing_room_2"}}); err != nil {
		t.Fatal(err)
	}
	before := fs.cursor(t)
	for _, c := range []struct {
		name, site, camera string
		status             int
		code               string
	}{
		{"no such camera", "site-01", "doff9", 422, "unknown_camera"},
		{"another site's camera", "site-01", "doff2", 422, "unknown_camera"},
		{"a camera made up in the path's shape", "site-01", "../doff1", 422, "unknown_camera"},
		{"unknown site, its own answer", "nowhere", "doff1", 404, "unknown_site"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := fs.do(t, "duty", "PUT", "/api/v1/findings/f1", apitest.JSON,
				findingJSON("f1", c.site, func(m map[string]any) { m["camera"] = c.camera }))
			e, _ := apitest.Refusal(r.body)
			if r.status != c.status || e.Code != c.code {
				t.Fatalf("%d %s, want %d %s", r.status, r.body, c.status, c.code)
			}
			if c.code == "unknown_camera" && e.Field != "camera" {
				t.Errorf("the refusal names field %q, want camera: %s", e.Field, r.body)
			}
		})
	}
	if after := fs.cursor(t); after != before {
		t.Fatalf("refused findings were filed: cursor %d -> %d", before, after)
	}

	// The draft says another observer: the relay records who signed in.
	observedBy := func(user string) func(map[string]any) {
		return func(m map[string]any) { m["observer"] = user }
	}
	asSup := findingJSON("f2", "site-02", observedBy("sup"))
	r := fs.do(t, "duty", "PUT", "/api/v1/findings/f2", apitest.JSON, asSup)
	var f findings.Finding
	if err := json.Unmarshal(r.body, &f); err != nil || r.status != 201 || f.Observer != "duty" {
		t.Fatalf("filed by duty as sup: %d %s", r.status, r.body)
	}
	// A console sending it again after a change of shift, as the next
	// officer: the same finding, still duty's.
	r = fs.do(t, "sup", "PUT", "/api/v1/findings/f2", apitest.JSON, asSup)
	if err := json.Unmarshal(r.body, &f); err != nil || r.status != 200 || f.Observer != "duty" {
		t.Fatalf("the same draft from sup: %d %s", r.status, r.body)
	}
	// The camera only site-02 has is one of site-02's.
	if r := fs.do(t, "duty", "PUT", "/api/v1/findings/f3", apitest.JSON,
		findingJSON("f3", "site-02", func(m map[string]any) { m["camera"] = "doff2" })); r.status != 201 {
		t.Fatalf("site-02's doff2: %d %s", r.status, r.body)
	}
}

// Evidence is not kept in browsers' caches: a user whose access ends has
// no copy left behind.
func TestEvidenceIsNotCached(t *testing.T) {
	fs := newFixture(t, time.Hour)
	if r := fs.do(t, "duty", "PUT", "/api/v1/findings/f1", apitest.JSON, findingJSON("f1", "site-01", nil)); r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	jpg := testJPEG(t)
	if r := fs.do(t, "duty", "PUT", "/api/v1/findings/f1/evidence/snapshot",
		map[string]string{"Content-Type": "image/jpeg", "X-Content-SHA256": apitest.Digest(jpg)}, jpg); r.status != 201 {
		t.Fatalf("snapshot: %d %s", r.status, r.body)
	}
	resp, _ := apitest.Call(t, "GET", fs.url+"/api/v1/evidence/f1/snapshot", fs.tokens["mgr1"], nil, nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("%d, Cache-Control %q, want no-store", resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
}
