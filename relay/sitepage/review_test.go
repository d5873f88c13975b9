package sitepage_test

import (
	"encoding/json"
	"fmt"
	"html"
	"strings"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/relay/api/apitest"
	"github.com/qianliyan/qianliyan/relay/relaytest"
)

// The supervisors' review of a finding (a reviewed mark, a comment, an
// outcome: events in its history) is not the site's: the site manager's
// page shows the history without them, and its follow does not wake for
// them, while the duty room reads them in the history.
func TestSitePageLeavesOutTheReview(t *testing.T) {
	r := relaytest.ServeSites(t, password, nil)
	r.File("f1", "site-01", time.Now().Add(3*time.Hour))
	mgr := signIn(t, r, "mgr1")
	_, before := mgr.get("/site/findings/f1")
	entries := strings.Count(before, "<li><time>")
	if entries == 0 {
		t.Fatalf("the finding's page shows no history:\n%s", before)
	}
	cursor := follow(t, mgr, 0)

	sup := apitest.SignIn(t, r.URL(), "sup", password)
	const comment = "内部意见：该机构需回头看"
	for _, c := range []struct{ method, path, body string }{
		{"PUT", "/api/v1/review/findings/f1/reviewed", `{"reviewed": true}`},
		{"POST", "/api/v1/review/findings/f1/comments", fmt.Sprintf(`{"text": %q}`, comment)},
		{"POST", "/api/v1/review/findings/f1/outcomes", `{"kind": "rectify_order", "doc_number": "责改〔2026〕7号", "note": "限期整改"}`},
	} {
		if status, b := sup.Do(c.method, c.path, apitest.JSON, []byte(c.body)); status/100 != 2 {
			t.Fatalf("%s %s: %d %s", c.method, c.path, status, b)
		}
	}
	var f struct{ Events []struct{ Action string } }
	status, b := r.Duty.Do("GET", "/api/v1/findings/f1", nil, nil)
	if err := json.Unmarshal(b, &f); status != 200 || err != nil {
		t.Fatalf("the duty room's finding: %d %s", status, b)
	}
	var actions []string
	for _, e := range f.Events {
		actions = append(actions, e.Action)
	}
	if got := strings.Join(actions, " "); !strings.Contains(got, "reviewed commented outcome") {
		t.Errorf("the duty room reads the history %q, want the review's events in it", got)
	}

	_, after := mgr.get("/site/findings/f1")
	if n := strings.Count(after, "<li><time>"); n != entries {
		t.Errorf("the site's page shows %d history entries after the review, %d before", n, entries)
	}
	for _, secret := range []string{comment, "责改〔2026〕7号", "限期整改", "<strong>sup</strong>"} {
		if strings.Contains(html.UnescapeString(after), secret) {
			t.Errorf("the site's page shows %q of the review", secret)
		}
	}
	if status, b := mgr.getJSON(fmt.Sprintf("/site/changes?after=%d&wait=0", cursor)); status != 200 || strings.Contains(b, `"finding"`) {
		t.Errorf("the site's follow after the review: %d %s, want no change", status, b)
	}
}

// follow returns the cursor the site page's follow answers after.
func follow(t *testing.T, pc *pageClient, after int64) int64 {
	t.Helper()
	status, b := pc.getJSON(fmt.Sprintf("/site/changes?after=%d&wait=0", after))
	var out struct{ Cursor int64 }
	if err := json.Unmarshal([]byte(b), &out); status != 200 || err != nil {
		t.Fatalf("the site page's follow: %d %s", status, b)
	}
	return out.Cursor
}

func (pc *pageClient) getJSON(path string) (int, string) { return pc.get(path) }
