package reports_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/xuri/excelize/v2"

	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/internal/fakeclock"
	"github.com/qianliyan/qianliyan/internal/testlog"
	"github.com/qianliyan/qianliyan/relay"
	"github.com/qianliyan/qianliyan/relay/api/apitest"
	"github.com/qianliyan/qianliyan/relay/seed"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// The seeded record ends on Wednesday 2 December 2026, 18:30 in Shanghai.
var seededNow = time.Date(2026, 12, 2, 10, 30, 0, 0, time.UTC)

func start(t *testing.T, config string, now func() time.Time) (*relay.Relay, *testlog.Buffer) {
	t.Helper()
	log := &testlog.Buffer{}
	r, err := relay.Start(context.Background(), relay.Options{ConfigFile: config, Listen: "127.0.0.1:0",
		Log: zerolog.New(log), Now: now})
	if err != nil {
		t.Fatalf("starting the relay: %v\n%s", err, log.String())
	}
	t.Cleanup(func() { r.Close() })
	return r, log
}

func getJSON(t *testing.T, c *apitest.Client, path string, v any) {
	t.Helper()
	status, b := c.Do("GET", path, nil, nil)
	if status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, status, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

// The week's report (the ISO week of 2 December: 30 November to 6
// December) as XLSX: its sheets, and totals whose formulas add up to the
// review list's counts and the checks' on the same week; as CSV with the
// BOM and the Chinese intact; in English; every one audited, the record
// readable by supervisors only; and bad requests answered as such.
func TestWeeklyReportAgreesWithTheRelay(t *testing.T) {
	sum, err := seed.Write(context.Background(), t.TempDir(), seed.Options{Sites: 14, Findings: 1200, Days: 20, Seed: 5, Now: seededNow})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := start(t, sum.Config, func() time.Time { return seededNow })
	sup := apitest.SignIn(t, r.URL(), seed.SupervisorName, seed.SupervisorPassword)
	duty := apitest.SignIn(t, r.URL(), seed.DutyName, seed.DutyPassword)
	mgr := apitest.SignIn(t, r.URL(), "manager-001", seed.ManagerPassword)

	status, b := sup.Do("GET", "/api/v1/reports/weekly?date=2026-12-02&format=xlsx", nil, nil)
	if status != http.StatusOK {
		t.Fatalf("the weekly XLSX: %d %s", status, b)
	}
	x, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	want := []string{"汇总", "问题分类", "机构", "检查户次", "值守覆盖"}
	if got := x.GetSheetList(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("sheets %q, want %q", got, want)
	}
	// The totals are the last row of each sheet.
	total := func(sheet, col string) int {
		t.Helper()
		rows, err := x.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		cell := col + strconv.Itoa(len(rows))
		if f, _ := x.GetCellFormula(sheet, cell); !strings.HasPrefix(f, "SUM(") {
			t.Fatalf("%s!%s is %q, not a SUM", sheet, cell, f)
		}
		v, err := x.CalcCellValue(sheet, cell)
		if err != nil {
			t.Fatal(err)
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("%s!%s = %q", sheet, cell, v)
		}
		return n
	}
	count := func(filter string) int {
		t.Helper()
		var page wire.ReviewPage
		getJSON(t, sup, "/api/v1/review/findings?limit=1&"+filter, &page)
		return page.Total
	}
	week := "from=2026-11-30&to=2026-12-06"
	findings := count(week)
	if findings == 0 {
		t.Fatal("the seeded week has no findings: the comparison would prove nothing")
	}
	for _, c := range []struct {
		sheet, col string
		want       int
	}{
		{"问题分类", "C", findings},
		{"机构", "D", findings},
		{"机构", "E", count(week + "&status=open,acknowledged,rectified,verified,reopened")},
		{"机构", "F", count(week + "&status=rectified,verified")},
		{"机构", "G", count(week + "&status=verified")},
		{"机构", "H", count(week + "&overdue=1")},
	} {
		if got := total(c.sheet, c.col); got != c.want {
			t.Errorf("%s column %s totals %d, the review list %d", c.sheet, c.col, got, c.want)
		}
	}
	var checks wire.CheckStats
	from, to := "2026-11-30T00:00:00+08:00", "2026-12-07T00:00:00+08:00"
	getJSON(t, sup, "/api/v1/stats/checks?from="+url.QueryEscape(from)+"&to="+url.QueryEscape(to), &checks)
	runs := 0
	for _, c := range checks.Stats {
		runs += c.Checks
	}
	if runs == 0 {
		t.Fatal("the seeded week has no checks")
	}
	if got := total("检查户次", "B"); got != runs {
		t.Errorf("the checks sheet totals %d, the runs %d", got, runs)
	}
	if got := total("机构", "C"); got != runs {
		t.Errorf("the sites sheet's checks total %d, the runs %d", got, runs)
	}

	status, b = sup.Do("GET", "/api/v1/reports/weekly?date=2026-12-02&format=csv", nil, nil)
	if status != http.StatusOK || !bytes.HasPrefix(b, []byte("\xEF\xBB\xBF")) || !strings.Contains(string(b), "监督周报") ||
		!strings.Contains(string(b), "发现问题数") {
		t.Errorf("the weekly CSV: %d %.200s", status, b)
	}
	var en wire.Report
	getJSON(t, duty, "/api/v1/reports/weekly?date=2026-12-02&lang=en", &en)
	if en.Figures.Findings != findings || en.Label != "2026-W49" || en.Lang != "en" {
		t.Errorf("the English JSON: %+v", en)
	}
	status, b = sup.Do("GET", "/api/v1/reports/weekly?date=2026-12-02&format=xlsx&lang=en", nil, nil)
	if xe, err := excelize.OpenReader(bytes.NewReader(b)); status != http.StatusOK || err != nil || xe.GetSheetList()[2] != "Sites" {
		t.Errorf("the English XLSX: %d %v", status, err)
	}

	// The other periods: their spans, and their counts the list's.
	for _, c := range []struct {
		path, label, from, to, filter string
	}{
		{"daily?date=2026-12-01", "2026-12-01", "2026-12-01T00:00:00+08:00", "2026-12-02T00:00:00+08:00", "from=2026-12-01&to=2026-12-01"},
		{"shift?date=2026-12-01&shift=night", "2026-12-01 night", "2026-12-01T20:00:00+08:00", "2026-12-02T08:00:00+08:00",
			"from=" + url.QueryEscape("2026-12-01T20:00:00+08:00") + "&to=" + url.QueryEscape("2026-12-02T08:00:00+08:00")},
		{"monthly?date=2026-11-17", "2026-11", "2026-11-01T00:00:00+08:00", "2026-12-01T00:00:00+08:00", "from=2026-11-01&to=2026-11-30"},
	} {
		var rep wire.Report
		getJSON(t, sup, "/api/v1/reports/"+c.path, &rep)
		from, _ := time.Parse(time.RFC3339, c.from)
		to, _ := time.Parse(time.RFC3339, c.to)
		if rep.Label != c.label || !rep.From.Equal(from) || !rep.To.Equal(to) {
			t.Errorf("%s: %s %s–%s, want %s %s–%s", c.path, rep.Label, rep.From, rep.To, c.label, from, to)
		}
		if n := count(c.filter); rep.Figures.Findings != n || rep.Figures.Drill["findings"] == "" || count(rep.Figures.Drill["overdue"]) != rep.Figures.Overdue {
			t.Errorf("%s: %d findings, the list %d; drill %v", c.path, rep.Figures.Findings, n, rep.Figures.Drill)
		}
	}
	status, b = sup.Do("GET", "/api/v1/reports/daily?date=2026-12-01&format=pdf", nil, nil)
	if status != http.StatusOK || !bytes.HasPrefix(b, []byte("%PDF-")) {
		t.Errorf("the daily PDF: %d %.40q", status, b)
	}

	// The review list's export: the same rows as the list.
	status, b = sup.Do("GET", "/api/v1/review/export?"+week+"&district="+url.QueryEscape(firstDistrict(t, sup))+"&format=csv", nil, nil)
	if status != http.StatusOK || !bytes.HasPrefix(b, []byte("\xEF\xBB\xBF")) {
		t.Fatalf("the export: %d %.200s", status, b)
	}
	lines := strings.Count(strings.TrimSpace(string(b)), "\n") // the header's line is not counted
	if n := count(week + "&district=" + url.QueryEscape(firstDistrict(t, sup))); n == 0 || lines < n {
		t.Errorf("the export has %d rows, the list %d", lines, n)
	}

	status, b = sup.Do("GET", "/api/v1/review/export?"+week+"&overdue=1&format=xlsx&lang=en", nil, nil)
	if status != http.StatusOK {
		t.Fatalf("the XLSX export: %d %.200s", status, b)
	}
	xe, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := xe.GetRows("Review list")
	if err != nil || len(rows) != count(week+"&overdue=1")+1 || rows[0][0] != "ID" {
		t.Errorf("the XLSX export has %d rows (%v), the list %d; header %v", len(rows), err, count(week+"&overdue=1"), rows[0])
	}

	var audit wire.AuditExports
	getJSON(t, sup, "/api/v1/audit/exports", &audit)
	var reports, exports int
	for _, e := range audit.Exports {
		switch e.What {
		case "report":
			reports++
			if !strings.HasPrefix(e.Filter, "period=") || !strings.Contains(e.Filter, "date=2026-1") || e.At.IsZero() || e.Actor == "" {
				t.Errorf("a report's record: %+v", e)
			}
		case "review_export":
			exports++
			if e.Actor != seed.SupervisorName || !strings.Contains(e.Filter, "from=2026-11-30") || e.Format == "" {
				t.Errorf("the export's record: %+v", e)
			}
		}
	}
	if !strings.Contains(fmtExports(audit.Exports), "period=monthly&date=2026-11-17") {
		t.Errorf("the monthly report's record lacks the day asked: %s", fmtExports(audit.Exports))
	}
	if reports != 8 || exports != 2 {
		t.Errorf("%d reports and %d exports recorded, want 8 and 2: %+v", reports, exports, audit.Exports)
	}
	getJSON(t, sup, "/api/v1/audit/exports?actor="+seed.DutyName, &audit)
	if len(audit.Exports) != 1 || audit.Exports[0].Format != "json" || audit.Exports[0].Role != "duty" {
		t.Errorf("the duty officer's records: %+v", audit.Exports)
	}

	for _, c := range []struct {
		name   string
		client *apitest.Client
		path   string
		status int
		code   string
		field  string
	}{
		{"duty reads the audit", duty, "/api/v1/audit/exports", 403, "forbidden", ""},
		{"a site manager reads the audit", mgr, "/api/v1/audit/exports", 403, "forbidden", ""},
		{"a site manager asks a report", mgr, "/api/v1/reports/daily", 403, "forbidden", ""},
		{"unknown parameter", sup, "/api/v1/reports/daily?district=x", 400, "invalid_field", "district"},
		{"malformed date", sup, "/api/v1/reports/daily?date=2026-13-01", 400, "invalid_field", "date"},
		{"unknown period", sup, "/api/v1/reports/yearly", 400, "invalid_field", "period"},
		{"unknown format", sup, "/api/v1/reports/daily?format=docx", 400, "invalid_field", "format"},
		{"shift without its id", sup, "/api/v1/reports/shift?date=2026-12-01", 400, "invalid_field", "shift"},
		{"unknown shift", sup, "/api/v1/reports/shift?date=2026-12-01&shift=noon", 400, "invalid_field", "shift"},
		{"export's unknown filter", sup, "/api/v1/review/export?colour=red", 400, "invalid_field", "colour"},
		{"export's format", sup, "/api/v1/review/export?format=pdf", 400, "invalid_field", "format"},
	} {
		status, b := c.client.Do("GET", c.path, nil, nil)
		e, ok := apitest.Refusal(b)
		if status != c.status || !ok || e.Code != c.code || e.Field != c.field {
			t.Errorf("%s: %d %s, want %d %s field %q", c.name, status, b, c.status, c.code, c.field)
		}
	}
}

func fmtExports(es []wire.AuditExport) string {
	var b strings.Builder
	for _, e := range es {
		b.WriteString(e.What + " " + e.Filter + "\n")
	}
	return b.String()
}

func firstDistrict(t *testing.T, c *apitest.Client) string {
	t.Helper()
	var facets struct {
		Districts []struct{ Key string } `json:"districts"`
	}
	getJSON(t, c, "/api/v1/review/facets", &facets)
	if len(facets.Districts) == 0 {
		t.Fatal("no districts")
	}
	return facets.Districts[0].Key
}

// robot poses as a WeCom group robot: it keeps what it is sent.
type robot struct {
	mu     sync.Mutex
	bodies []string
}

func (rb *robot) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rb.mu.Lock()
	rb.bodies = append(rb.bodies, string(b))
	rb.mu.Unlock()
	w.Write([]byte(`{"errcode":0,"errmsg":"ok"}`))
}

func (rb *robot) got() []string {
	rb.mu.Lock()
	defer rb.mu.Unlock()
	return append([]string(nil), rb.bodies...)
}

// The daily report goes to the robot once the day after reaches daily_at,
// with the day's figures and the link; once a day however often the relay
// restarts, and the next day's the next day.
func TestScheduledDailyReport(t *testing.T) {
	sum, err := seed.Write(context.Background(), t.TempDir(), seed.Options{Sites: 12, Findings: 400, Days: 10, Seed: 7, Now: seededNow})
	if err != nil {
		t.Fatal(err)
	}
	var rb robot
	srv := httptest.NewServer(&rb)
	defer srv.Close()
	cfg, err := os.ReadFile(sum.Config)
	if err != nil {
		t.Fatal(err)
	}
	cfg = append(cfg, []byte("\nreports:\n  daily_at: \"08:30\"\n  notify:\n    - {kind: wecom, url: '"+srv.URL+"/cgi-bin/webhook/send?key=k'}\n"+
		"  link: https://qly.example.org/#/reports\n")...)
	if err := os.WriteFile(sum.Config, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	// 08:20 in Shanghai on 3 December: the 2nd's report is not due yet,
	// the 1st's is (never sent: the relay was not running then).
	clock := fakeclock.New(time.Date(2026, 12, 3, 0, 20, 0, 0, time.UTC))
	r, _ := start(t, sum.Config, clock.Now)
	eventually.True(t, eventually.Ceiling, "the 1st's report reaches the robot", func() bool { return len(rb.got()) == 1 })
	first := rb.got()[0]

	sup := apitest.SignIn(t, r.URL(), seed.SupervisorName, seed.SupervisorPassword)
	var day wire.Report
	getJSON(t, sup, "/api/v1/reports/daily?date=2026-12-01", &day)
	var msg struct {
		MsgType  string                   `json:"msgtype"`
		Markdown struct{ Content string } `json:"markdown"`
	}
	if err := json.Unmarshal([]byte(first), &msg); err != nil || msg.MsgType != "markdown" {
		t.Fatalf("the robot got %s", first)
	}
	for _, want := range []string{"监督日报", "2026-12-01", "发现问题数 Problems found: " + strconv.Itoa(day.Figures.Findings),
		"检查户次 Checks (户次): " + strconv.Itoa(day.Figures.Checks), "](https://qly.example.org/#/reports)"} {
		if !strings.Contains(msg.Markdown.Content, want) {
			t.Errorf("the message lacks %q:\n%s", want, msg.Markdown.Content)
		}
	}
	if day.Figures.Findings == 0 {
		t.Error("the 1st had no findings: the figures prove nothing")
	}

	// A restart the same morning, and again after 08:30: the 2nd's goes
	// once, the 1st's not again.
	r.Close()
	r, log := start(t, sum.Config, clock.Now)
	upToDate(t, log)
	r.Close()
	clock.Advance(20 * time.Minute)
	r, _ = start(t, sum.Config, clock.Now)
	eventually.True(t, eventually.Ceiling, "the 2nd's report reaches the robot", func() bool { return len(rb.got()) == 2 })
	if !strings.Contains(rb.got()[1], "2026-12-02") {
		t.Errorf("the second message: %s", rb.got()[1])
	}
	r.Close()
	_, log = start(t, sum.Config, clock.Now)
	upToDate(t, log)
	if n := len(rb.got()); n != 2 {
		t.Errorf("%d messages after another restart, want 2", n)
	}
}

// upToDate waits for the relay's daily report to have looked and found
// its day sent.
func upToDate(t *testing.T, log *testlog.Buffer) {
	t.Helper()
	eventually.True(t, eventually.Ceiling, "the daily report finds its day sent", func() bool {
		return strings.Contains(log.String(), "daily report already sent")
	})
}
