package review_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/relay/api/apitest"
	"github.com/qianliyan/qianliyan/relay/relaytest"
	"github.com/qianliyan/qianliyan/relay/wire"
)

const password = "review-test-password"

// The review over HTTP on a real relay: who may read and write it, what
// the list, the detail and the writes answer, and bad input refused 4xx
// naming what was wrong.
func TestReviewAPI(t *testing.T) {
	r := relaytest.ServeSites(t, password, nil)
	deadline := time.Now().Add(3 * time.Hour)
	for i := range 5 {
		r.File(fmt.Sprintf("f%d", i), "site-0"+fmt.Sprint(1+i%2), deadline)
	}
	sup := apitest.SignIn(t, r.URL(), "sup", password)
	duty := r.Duty
	mgr := apitest.SignIn(t, r.URL(), "mgr1", password)

	var page wire.ReviewPage
	call(t, duty, "GET", "/api/v1/review/findings?site=site-01&limit=2", "", 200, &page)
	if page.Total != 3 || len(page.Items) != 2 || page.Next == "" {
		t.Fatalf("site-01's first page: total %d, %d items, next %q", page.Total, len(page.Items), page.Next)
	}
	it := page.Items[0]
	if it.SiteName["zh-CN"] == "" || it.District["zh-CN"] == "" || it.SiteType == "" || it.Evidence.Snapshot == nil || it.Events != nil || it.Outcomes == nil {
		t.Errorf("an item lacks what the list shows: %+v", it)
	}
	var rest wire.ReviewPage
	call(t, duty, "GET", "/api/v1/review/findings?site=site-01&limit=2&after="+page.Next, "", 200, &rest)
	if rest.Total != 3 || len(rest.Items) != 1 || rest.Next != "" {
		t.Errorf("site-01's last page: total %d, %d items, next %q", rest.Total, len(rest.Items), rest.Next)
	}
	// A page past the end is an empty page: the cursor after f1 (newest
	// first: f4 f3 f2 f1 | f0) in the list of site-02 (f3 f1).
	var all wire.ReviewPage
	call(t, duty, "GET", "/api/v1/review/findings?limit=4", "", 200, &all)
	var past wire.ReviewPage
	call(t, duty, "GET", "/api/v1/review/findings?site=site-02&after="+all.Next, "", 200, &past)
	if all.Items[3].ID != "f1" || len(past.Items) != 0 || past.Next != "" || past.Total != 2 {
		t.Errorf("past the end: %+v", past)
	}

	// Supervisors write; every write is in the history.
	var d wire.ReviewDetail
	call(t, sup, "PUT", "/api/v1/review/findings/f0/reviewed", `{"reviewed": true}`, 200, &d)
	if !d.Review.Reviewed || d.Review.ReviewedBy != "sup" || d.Review.ReviewedAt == nil {
		t.Errorf("marked reviewed: %+v", d.Review)
	}
	call(t, sup, "POST", "/api/v1/review/findings/f0/comments", `{"text": "请区疾控回头看 check again"}`, 201, &d)
	if len(d.Comments) != 1 || d.Comments[0].By != "sup" || d.Review.Comments != 1 {
		t.Errorf("commented: %+v %+v", d.Comments, d.Review)
	}
	for range 2 { // the same outcome twice is one
		call(t, sup, "POST", "/api/v1/review/findings/f0/outcomes", `{"kind": "notice_issued", "doc_number": "千监意〔2026〕0001号", "note": ""}`, 201, &d)
	}
	if len(d.Outcomes) != 1 || d.Outcomes[0].DocNumber != "千监意〔2026〕0001号" || d.Outcomes[0].By != "sup" {
		t.Errorf("outcomes: %+v", d.Outcomes)
	}
	var actions []string
	for _, e := range d.Events {
		actions = append(actions, e.Action)
	}
	if got := strings.Join(actions, " "); !strings.HasSuffix(got, "reviewed commented outcome") {
		t.Errorf("history %q, want it to end with the review's events", got)
	}
	call(t, sup, "PUT", "/api/v1/review/findings/f0/reviewed", `{"reviewed": false}`, 200, &d)
	if d.Review.Reviewed {
		t.Errorf("the mark taken back still reads %+v", d.Review)
	}
	// The comment is found by its words, Chinese and English.
	for _, q := range []string{"回头看", "check", "疾控"} {
		var found wire.ReviewPage
		call(t, duty, "GET", "/api/v1/review/findings?q="+url.QueryEscape(q), "", 200, &found)
		if found.Total != 1 || found.Items[0].ID != "f0" {
			t.Errorf("q=%s: %+v", q, found)
		}
	}
	var byOutcome wire.ReviewPage
	call(t, duty, "GET", "/api/v1/review/findings?outcome=notice_issued&reviewed=0", "", 200, &byOutcome)
	if byOutcome.Total != 1 {
		t.Errorf("outcome=notice_issued&reviewed=0: total %d, want 1", byOutcome.Total)
	}
	var facets wire.ReviewFacets
	call(t, duty, "GET", "/api/v1/review/facets", "", 200, &facets)
	if len(facets.Sites) == 0 || len(facets.Districts) == 0 || len(facets.Templates) == 0 || len(facets.Officers) == 0 || len(facets.Outcomes) != 4 {
		t.Errorf("facets: %+v", facets)
	}

	for _, c := range []struct {
		name         string
		who          *apitest.Client
		method, path string
		body         string
		status       int
		code, field  string
	}{
		{"a site manager reads no review", mgr, "GET", "/api/v1/review/findings", "", 403, "forbidden", ""},
		{"not even with a bad filter", mgr, "GET", "/api/v1/review/findings?colour=red", "", 403, "forbidden", ""},
		{"nor a finding of their own site", mgr, "GET", "/api/v1/review/findings/f0", "", 403, "forbidden", ""},
		{"nor the facets", mgr, "GET", "/api/v1/review/facets", "", 403, "forbidden", ""},
		{"a duty officer does not mark", duty, "PUT", "/api/v1/review/findings/f1/reviewed", `{"reviewed": true}`, 403, "forbidden", ""},
		{"nor comment", duty, "POST", "/api/v1/review/findings/f1/comments", `{"text": "x"}`, 403, "forbidden", ""},
		{"nor record an outcome", duty, "POST", "/api/v1/review/findings/f1/outcomes", `{"kind": "case_filed", "doc_number": "1"}`, 403, "forbidden", ""},
		{"unknown parameter", duty, "GET", "/api/v1/review/findings?colour=red", "", 400, "invalid_field", "colour"},
		{"malformed period", duty, "GET", "/api/v1/review/findings?from=2026-02-30", "", 400, "invalid_field", "from"},
		{"period ending before it begins", duty, "GET", "/api/v1/review/findings?from=2026-11-05&to=2026-11-01", "", 400, "invalid_field", "to"},
		{"limit too large", duty, "GET", "/api/v1/review/findings?limit=5000", "", 400, "invalid_field", "limit"},
		{"a cursor not given", duty, "GET", "/api/v1/review/findings?after=xyz", "", 400, "invalid_field", "after"},
		{"unknown sort", duty, "GET", "/api/v1/review/findings?sort=colour", "", 400, "invalid_field", "sort"},
		{"unknown finding", duty, "GET", "/api/v1/review/findings/nope", "", 404, "unknown_finding", ""},
		{"unknown finding marked", sup, "PUT", "/api/v1/review/findings/nope/reviewed", `{"reviewed": true}`, 404, "unknown_finding", ""},
		{"empty comment", sup, "POST", "/api/v1/review/findings/f1/comments", `{"text": "  "}`, 400, "invalid_field", "text"},
		{"long comment", sup, "POST", "/api/v1/review/findings/f1/comments", fmt.Sprintf(`{"text": %q}`, strings.Repeat("长", 2001)), 400, "invalid_field", "text"},
		{"unknown outcome", sup, "POST", "/api/v1/review/findings/f1/outcomes", `{"kind": "fined", "doc_number": "1"}`, 400, "invalid_field", "kind"},
		{"outcome without a number", sup, "POST", "/api/v1/review/findings/f1/outcomes", `{"kind": "case_filed", "doc_number": ""}`, 400, "invalid_field", "doc_number"},
		{"unknown body field", sup, "PUT", "/api/v1/review/findings/f1/reviewed", `{"reviewed": true, "by": "x"}`, 400, "unknown_field", "by"},
		{"wrong method", sup, "DELETE", "/api/v1/review/findings/f1/reviewed", "", 405, "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			var header map[string]string
			if c.body != "" {
				header = apitest.JSON
			}
			status, b := c.who.Do(c.method, c.path, header, []byte(c.body))
			e, ok := apitest.Refusal(b)
			if status != c.status || !ok || (c.code != "" && e.Code != c.code) || e.Field != c.field {
				t.Errorf("%d %s, want %d %s naming %q", status, b, c.status, c.code, c.field)
			}
		})
	}
	// The refused writes changed nothing.
	call(t, sup, "GET", "/api/v1/review/findings/f1", "", 200, &d)
	if d.Review.Reviewed || len(d.Comments) != 0 || len(d.Outcomes) != 0 {
		t.Errorf("f1 after refused writes: %+v %+v %+v", d.Review, d.Comments, d.Outcomes)
	}
}

// call makes a request and decodes the answer into out, failing the test
// on another status than want.
func call(t *testing.T, c *apitest.Client, method, path, body string, want int, out any) {
	t.Helper()
	var header map[string]string
	if body != "" {
		header = apitest.JSON
	}
	status, b := c.Do(method, path, header, []byte(body))
	if status != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, status, b, want)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("%s %s: %v in %s", method, path, err, b)
	}
}
