package sitepage_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/relay/api/apitest"
	"github.com/qianliyan/qianliyan/relay/relaytest"
)

// What the page says of where a finding stands: a countdown only while the
// site has to act, when its part was done once it is, and, where there is
// no form, why: the manager who reported the fix is told it awaits the
// re-check, not that the page is read-only to them (issue 10.9).
func TestStandingFollowsTheStatus(t *testing.T) {
	r := relaytest.ServeSites(t, password, nil)
	// Overdue by the time it is rectified: a late fix must not count on.
	r.File("f-fixed", "site-01", time.Now().Add(time.Second))
	r.File("f-open", "site-01", time.Now().Add(3*time.Hour))
	time.Sleep(1100 * time.Millisecond)
	mgr := signIn(t, r, "mgr1")

	_, page := mgr.get("/site/findings/f-fixed")
	mgr.post("/site/findings/f-fixed/acknowledge", url.Values{"csrf": {field(page, "csrf")}, "action_id": {field(page, "action_id")}})
	_, page = mgr.get("/site/findings/f-fixed")
	if status, body := mgr.multipart("/site/findings/f-fixed/rectify",
		map[string]string{"csrf": field(page, "csrf"), "action_id": field(page, "action_id"), "note": "已更换手套"}, nil); status != 200 {
		t.Fatalf("rectify: %d %.300s", status, body)
	}
	var rectifiedAt string
	for _, e := range r.Duty.Finding("f-fixed").Events {
		if e.Action == "rectify" {
			rectifiedAt = e.At.In(shanghai(t)).Format("2006-01-02 15:04")
		}
	}

	sup := signIn(t, r, "sup")
	for _, c := range []struct {
		name, path string
		by         *pageClient
		has, lacks []string
	}{
		{"the manager's rectified finding", "/site/findings/f-fixed", mgr,
			[]string{"已报告整改，等待值班人员回头看核实", `id="done"`},
			[]string{`class="countdown"`, "只读", `id="overdue"`}},
		{"the manager's list", "/site/", mgr,
			[]string{`data-id="f-open"`, `data-id="f-fixed"`, "已整改 "},
			[]string{`class="finding status-rectified overdue"`}},
		{"an open finding counts down", "/site/findings/f-open", mgr,
			[]string{`class="countdown"`, `id="acknowledge"`},
			[]string{"只读", "等待值班人员"}},
		{"a supervisor looks on", "/site/findings/f-open", sup,
			[]string{"只读：整改由场所负责人报告", `class="countdown"`},
			[]string{`id="acknowledge"`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, page := c.by.get(c.path)
			if status != 200 {
				t.Fatalf("%d", status)
			}
			for _, s := range c.has {
				if !strings.Contains(page, s) {
					t.Errorf("no %q on the page", s)
				}
			}
			for _, s := range c.lacks {
				if strings.Contains(page, s) {
					t.Errorf("%q on the page", s)
				}
			}
		})
	}
	_, page = mgr.get("/site/findings/f-fixed")
	if n := strings.Count(page, "countdown"); n != 0 {
		t.Errorf("the rectified finding still has %d countdowns", n)
	}
	// The list's row of the rectified finding: when it was fixed, no countdown.
	_, list := mgr.get("/site/")
	row := list[strings.Index(list, `data-id="f-fixed"`):]
	row = row[:strings.Index(row, "</li>")]
	if strings.Contains(row, "countdown") || !strings.Contains(row, "已整改 "+rectifiedAt) {
		t.Errorf("the list's rectified row: %s", row)
	}

	// Verified: when it was verified, still no countdown.
	if status, b := r.Duty.Do("POST", "/api/v1/findings/f-fixed/actions", apitest.JSON,
		[]byte(`{"action_id":"verify-1","action":"verify","note":"seen on camera"}`)); status != 200 {
		t.Fatalf("verify: %d %s", status, b)
	}
	_, page = mgr.get("/site/findings/f-fixed")
	if strings.Contains(page, "countdown") || !strings.Contains(page, "已核实 ") || strings.Contains(page, "等待值班人员") {
		t.Errorf("the verified finding's page: %.2000s", page[strings.Index(page, "<article"):])
	}
}

// shanghai is the demo sites' time zone, the one the page writes times in.
func shanghai(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
