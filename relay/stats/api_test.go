package stats_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/relay/api/apitest"
	"github.com/qianliyan/qianliyan/relay/relaytest"
	"github.com/qianliyan/qianliyan/relay/wire"
)

const password = "a long test password"

// TestOverHTTP asks a real relay for the statistics as a console does:
// the counts agree with the review list, the follow-up list is written by
// supervisors only, and every refusal is a JSON fault naming its field.
func TestOverHTTP(t *testing.T) {
	r := relaytest.Start(t, relaytest.Options{
		Config: relaytest.UsersConfig(t, relaytest.User{Name: "sup", Role: "supervisor", Password: password})})
	duty := apitest.SignIn(t, r.URL(), r.Demo().User, r.Demo().Password)
	sup := apitest.SignIn(t, r.URL(), "sup", password)
	mgr := apitest.SignIn(t, r.URL(), r.Demo().Managers[0], r.Demo().ManagerPassword)

	for i, site := range []string{"site-01", "site-01", "site-02"} {
		d := apitest.Draft(fmt.Sprintf("h%d", i), site, time.Now().Add(time.Duration(2*i-1)*time.Hour))
		d.ObservedAt, d.FlaggedAt = time.Now().Add(-3*time.Hour), time.Now().Add(-3*time.Hour)
		if i == 2 {
			d.Severity = "critical"
		}
		duty.File(d, nil, nil)
	}
	get := func(c *apitest.Client, path string, into any) {
		t.Helper()
		status, b := c.Do("GET", path, nil, nil)
		if status != http.StatusOK || json.Unmarshal(b, into) != nil {
			t.Fatalf("GET %s: %d %s", path, status, b)
		}
	}
	var list wire.ReviewPage
	get(sup, "/api/v1/review/findings?site=site-01", &list)
	var bySeverity wire.FindingStats
	get(duty, "/api/v1/stats/findings?site=site-01&group=severity&split=site", &bySeverity)
	if bySeverity.Total != 2 || list.Total != 2 || bySeverity.Groups[1].Key != "major" || bySeverity.Groups[1].Count != 2 ||
		bySeverity.Groups[1].Split["site-01"] != 2 || bySeverity.Groups[1].Drill != "severity=major&site=site-01" {
		t.Errorf("findings of site-01 by severity: %+v, the review list has %d", bySeverity, list.Total)
	}
	var overdue wire.OverdueStats
	get(sup, "/api/v1/stats/overdue", &overdue)
	if overdue.Total != 1 || overdue.Buckets[0].Key != wire.OverdueUnderDay || overdue.Buckets[0].Count != 1 {
		t.Errorf("overdue: %+v", overdue)
	}
	var ranked []wire.RankedSite
	get(sup, "/api/v1/stats/sites?limit=1", &ranked)
	// site-01: two major (4), one overdue (2), two repeating the same
	// deviation (2); site-02: one critical (3).
	if len(ranked) != 1 || ranked[0].Site != "site-01" || ranked[0].Score != 8 {
		t.Errorf("the top site: %+v", ranked)
	}
	var rect wire.RectificationStats
	get(duty, "/api/v1/stats/rectification?group=site", &rect)
	if rect.Total != 3 || rect.Rectified != 0 || rect.Rate == nil || *rect.Rate != 0 || len(rect.Groups) != 2 {
		t.Errorf("rectification: %+v", rect)
	}
	var reps []wire.RepeatSite
	get(duty, "/api/v1/stats/repeats?days=1", &reps)
	if len(reps) != 1 || reps[0].Site != "site-01" || reps[0].Count != 2 {
		t.Errorf("repeats: %+v", reps)
	}
	day := time.Now().Format(time.DateOnly)
	var cov []wire.ShiftCoverage
	get(duty, "/api/v1/stats/coverage?from="+day+"&to="+day, &cov)
	if len(cov) == 0 {
		t.Errorf("no shift's coverage today")
	}

	// The follow-up list.
	body, _ := json.Marshal(wire.FollowupRequest{Reason: "问题较多", Filter: "site=site-01&overdue=1"})
	status, b := sup.Do("PUT", "/api/v1/followups/site-01", apitest.JSON, body)
	var f wire.Followup
	if status != http.StatusCreated || json.Unmarshal(b, &f) != nil || f.Site != "site-01" || f.AddedBy != "sup" {
		t.Fatalf("PUT follow-up: %d %s", status, b)
	}
	if status, b := sup.Do("PUT", "/api/v1/followups/site-01", apitest.JSON, body); status != http.StatusOK {
		t.Fatalf("PUT it again: %d %s", status, b)
	}
	var follows []wire.Followup
	get(duty, "/api/v1/followups", &follows)
	if len(follows) != 1 || follows[0].Filter != "site=site-01&overdue=1" {
		t.Errorf("the list: %+v", follows)
	}
	get(sup, "/api/v1/stats/sites", &ranked)
	if len(ranked) != 2 || !ranked[0].Following || ranked[1].Following {
		t.Errorf("the ranking's following: %+v", ranked)
	}

	for _, c := range []struct {
		name         string
		client       *apitest.Client
		method, path string
		body         []byte
		status       int
		code, field  string
	}{
		{"unknown parameter", duty, "GET", "/api/v1/stats/findings?group=site&colour=red", nil, 400, "invalid_field", "colour"},
		{"malformed period", duty, "GET", "/api/v1/stats/overdue?from=2026-02-30", nil, 400, "invalid_field", "from"},
		{"no group", duty, "GET", "/api/v1/stats/findings", nil, 400, "invalid_field", "group"},
		{"ranking too long", duty, "GET", "/api/v1/stats/sites?limit=100000", nil, 400, "invalid_field", "limit"},
		{"coverage without to", duty, "GET", "/api/v1/stats/coverage?from=" + day, nil, 400, "invalid_field", "to"},
		{"bad escape", duty, "GET", "/api/v1/stats/findings?group=%zz", nil, 400, "bad_request", ""},
		{"a site manager's statistics", mgr, "GET", "/api/v1/stats/findings?group=site&colour=red", nil, 403, "forbidden", ""},
		{"a site manager's follow-ups", mgr, "GET", "/api/v1/followups", nil, 403, "forbidden", ""},
		{"duty follows", duty, "PUT", "/api/v1/followups/site-02", body, 403, "forbidden", ""},
		{"duty unfollows", duty, "DELETE", "/api/v1/followups/site-01", nil, 403, "forbidden", ""},
		{"unknown field", sup, "PUT", "/api/v1/followups/site-02", []byte(`{"reason":"x","colour":"red"}`), 400, "unknown_field", "colour"},
		{"unknown site", sup, "PUT", "/api/v1/followups/site-99", body, 404, "unknown_site", ""},
		{"a filter the list refuses", sup, "PUT", "/api/v1/followups/site-02", []byte(`{"filter":"overdue=maybe"}`), 400, "invalid_field", "filter"},
		{"nobody", &apitest.Client{T: t, Base: r.URL()}, "GET", "/api/v1/stats/sites", nil, 401, "", ""},
		{"POST a statistic", duty, "POST", "/api/v1/stats/sites", nil, 405, "", ""},
	} {
		var header map[string]string
		if c.body != nil {
			header = apitest.JSON
		}
		status, b := c.client.Do(c.method, c.path, header, c.body)
		e, ok := apitest.Refusal(b)
		if status != c.status || !ok || (c.code != "" && e.Code != c.code) || e.Field != c.field {
			t.Errorf("%s: %d %s, want %d %s field %q", c.name, status, b, c.status, c.code, c.field)
		}
	}

	if status, b := sup.Do("DELETE", "/api/v1/followups/site-01", nil, nil); status != http.StatusNoContent {
		t.Fatalf("DELETE: %d %s", status, b)
	}
	get(sup, "/api/v1/followups", &follows)
	if len(follows) != 0 {
		t.Errorf("after DELETE: %+v", follows)
	}
}
