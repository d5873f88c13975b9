package e2e

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/xuri/excelize/v2"

	"github.com/qianliyan/qianliyan/relay/seed"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// downloaded waits for the browser to finish a download into dir whose
// name ends in ext (Chromium writes .crdownload until it is whole, then
// renames), and returns its name and bytes.
func downloaded(t *testing.T, dir, ext string) (string, []byte) {
	t.Helper()
	var name string
	waitFor(t, "a "+ext+" file downloaded", time.Minute, func() (bool, string) {
		entries, _ := os.ReadDir(dir)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
			if strings.HasSuffix(e.Name(), ext) {
				name = e.Name()
			}
		}
		return name != "", fmt.Sprintf("%q in the download folder", names)
	})
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return name, b
}

// TestReportsDownloaded is issue 13's browser test of the reports tab: on
// the seeded relay (10,000 findings over 90 days at 119 sites) a
// supervisor opens 报表 (reports), chooses weekly, types a day of last
// week and presses Enter: the XLSX the browser downloads reads back
// (excelize) with the institute's sheets, and its totals (SUM formulas)
// are the relay's counts of the review list for that week; the same
// report as CSV, chosen and clicked, starts with the UTF-8 BOM and keeps
// its Chinese, and its sites' total row says the same. The relay's audit
// names the supervisor, the format and the week of each.
func TestReportsDownloaded(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	room := startSeededRoom(t, ctx, 10000)

	// Last week, whole: the seed's record covers it whatever today is.
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	day := room.now.In(shanghai).AddDate(0, 0, -7)
	monday := day.AddDate(0, 0, -(int(day.Weekday())+6)%7)
	week := "from=" + monday.Format("2006-01-02") + "&to=" + monday.AddDate(0, 0, 6).Format("2006-01-02")
	sup := relayLogin(t, room.relay.URL(), seed.SupervisorName, seed.SupervisorPassword)
	listed := func(filter string) int {
		t.Helper()
		var page wire.ReviewPage
		if status, b := sup.do("GET", "/api/v1/review/findings?limit=1&"+filter, nil, &page); status != 200 {
			t.Fatalf("the relay's review list %s: %d %s", filter, status, b)
		}
		return page.Total
	}
	findings := listed(week)
	if findings == 0 {
		t.Fatalf("the seeded week %s has no findings: the comparison would prove nothing", week)
	}

	b, _ := openWorkspace(t, ctx, room)
	dir := t.TempDir()
	if err := chromedp.Do(b, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
			Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir})
		return err
	})); err != nil {
		t.Fatalf("letting the browser download into %s: %v", dir, err)
	}
	// The tab by its key, as a supervisor switches.
	if err := chromedp.Do(b, chromedp.KeyEvent("4"), chromedp.WaitVisible(chromedp.CSS(`[data-reports]`))); err != nil {
		t.Fatalf("the reports tab: %v (at %s)", err, location(b))
	}
	choose(t, b, `[data-report="period"]`, "weekly")
	choose(t, b, `[data-report="lang"]`, "zh-CN")
	choose(t, b, `[data-report="format"]`, "xlsx")
	date := `[data-report="date"]`
	eval[bool](t, b, `(() => { const e = document.querySelector('`+date+`'); e.value = ''; e.dispatchEvent(new Event('input')); return true })()`)
	if err := chromedp.Do(b, chromedp.SendKeys(chromedp.CSS(date), day.Format("2006-01-02")+kb.Enter)); err != nil {
		t.Fatal(err)
	}
	name, xb := downloaded(t, dir, ".xlsx")
	jsTrue(t, b, "the view saying the XLSX was downloaded", time.Minute,
		fmt.Sprintf(`document.querySelector('[data-reports] [data-said]')?.textContent.includes(%q) ?? false`, name))

	x, err := excelize.OpenReader(bytes.NewReader(xb))
	if err != nil {
		t.Fatalf("the downloaded %s: %v", name, err)
	}
	defer x.Close()
	want := []string{"汇总", "问题分类", "机构", "检查户次", "值守覆盖"}
	if got := x.GetSheetList(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("%s has the sheets %q, want %q", name, got, want)
	}
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
	for _, c := range []struct {
		sheet, col string
		want       int
	}{
		{"问题分类", "C", findings},
		{"机构", "D", findings},
		{"机构", "F", listed(week + "&status=rectified,verified")},
		{"机构", "G", listed(week + "&status=verified")},
		{"机构", "H", listed(week + "&overdue=1")},
	} {
		if got := total(c.sheet, c.col); got != c.want {
			t.Errorf("%s column %s totals %d, the relay's review list %d", c.sheet, c.col, got, c.want)
		}
	}

	// The CSV: chosen, and the button clicked.
	choose(t, b, `[data-report="format"]`, "csv")
	if err := chromedp.Do(b, chromedp.Click(chromedp.CSS(`[data-action="report-get"]`))); err != nil {
		t.Fatal(err)
	}
	csvName, cb := downloaded(t, dir, ".csv")
	if !bytes.HasPrefix(cb, []byte("\xEF\xBB\xBF")) {
		t.Fatalf("%s does not start with the UTF-8 BOM: %.40q", csvName, cb)
	}
	r := csv.NewReader(bytes.NewReader(cb[3:]))
	r.FieldsPerRecord = -1
	records, err := r.ReadAll()
	if err != nil {
		t.Fatalf("reading %s: %v", csvName, err)
	}
	if len(records) == 0 || records[0][0] != "监督周报" {
		t.Fatalf("%s's first line %q, want its Chinese title 监督周报", csvName, records[0])
	}
	sitesTotal := ""
	for i, rec := range records {
		if len(rec) == 1 && rec[0] == "机构" {
			for _, row := range records[i+1:] {
				if len(row) > 3 && row[0] == "合计" {
					sitesTotal = row[3]
					break
				}
			}
		}
	}
	if sitesTotal != strconv.Itoa(findings) {
		t.Errorf("%s: the sites' total row says %q findings, the relay's review list %d", csvName, sitesTotal, findings)
	}

	// Both downloads audited at the relay: who, in what format, which week.
	var audit wire.AuditExports
	if status, body := sup.do("GET", "/api/v1/audit/exports?actor="+seed.SupervisorName, nil, &audit); status != 200 {
		t.Fatalf("the relay's audit of exports: %d %s", status, body)
	}
	formats := map[string]bool{}
	for _, e := range audit.Exports {
		if e.What == "report" && e.Actor == seed.SupervisorName && e.Role == "supervisor" && !e.At.IsZero() &&
			strings.Contains(e.Filter, "period=weekly") && strings.Contains(e.Filter, "date="+day.Format("2006-01-02")) {
			formats[e.Format] = true
		}
	}
	if !formats["xlsx"] || !formats["csv"] {
		t.Errorf("the relay's audit lacks the supervisor's weekly XLSX and CSV of %s: %+v", day.Format("2006-01-02"), audit.Exports)
	}
}
