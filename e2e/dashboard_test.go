package e2e

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/qianliyan/qianliyan/internal/sqlitedb"
)

// chartItem is one item of a dashboard chart as the view lists it beside
// the canvas: its key, count, drill and where its column is on the card.
type chartItem struct {
	Key   string `json:"key"`
	Count string `json:"count"`
	Drill string `json:"drill"`
	X, Y  string
}

type chartState struct {
	Loading string      `json:"loading"`
	Total   string      `json:"total"`
	Items   []chartItem `json:"items"`
	Left    float64     `json:"left"`
	Top     float64     `json:"top"`
}

func readChart(t testing.TB, b context.Context, id string) chartState {
	t.Helper()
	js := fmt.Sprintf(`(() => {
  const d = document.querySelector('[data-dashboard]');
  const c = document.querySelector('[data-chart=%q]');
  if (!d || !c) return { loading: 'none', total: '', items: [], left: 0, top: 0 };
  const r = c.getBoundingClientRect();
  return { loading: d.dataset.loading, total: c.dataset.total ?? '', left: r.left, top: r.top,
    items: [...c.querySelectorAll('ol.items li')].map((li) => ({ key: li.dataset.key, count: li.dataset.count, drill: li.dataset.drill, X: li.dataset.x ?? '', Y: li.dataset.y ?? '' })) };
})()`, id)
	s, err := chromedp.Run(b, chromedp.Evaluate[chartState](js))
	if err != nil {
		t.Fatalf("reading chart %s: %v", id, err)
	}
	return s
}

// TestDashboardCounts is issue 13's browser test of the statistics: on
// the seeded relay (10,000 findings over 90 days at 119 sites) the
// dashboard under a district's filter shows, in three charts, counts equal
// to the seeded database's SQL counts for the same filter (findings by
// site, by severity over time summed, overdue now); a click in the
// busiest site's column lands on the review list filtered to that site
// and district, whose total is the bar's count.
func TestDashboardCounts(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	room := startSeededRoom(t, ctx, 10000)
	var district string
	if err := room.db.QueryRow(`SELECT s.district_zh FROM findings f JOIN sites s ON s.id = f.site_id GROUP BY 1 ORDER BY count(*) DESC LIMIT 1`).Scan(&district); err != nil {
		t.Fatal(err)
	}
	inDistrict := `FROM findings f JOIN sites s ON s.id = f.site_id WHERE s.district_zh = ?`
	want := count(t, room.db, `SELECT count(*) `+inDistrict, district)
	bySite := map[string]int{}
	rows, err := room.db.Query(`SELECT f.site_id, count(*) `+inDistrict+` GROUP BY 1`, district)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var site string
		var n int
		if err := rows.Scan(&site, &n); err != nil {
			t.Fatal(err)
		}
		bySite[site] = n
	}
	rows.Close()
	overdue := count(t, room.db, `SELECT count(*) `+inDistrict+` AND f.status NOT IN ('verified', 'withdrawn') AND f.deadline < ?`, district, sqlitedb.FormatTime(room.now))
	if want == 0 || len(bySite) < 2 || overdue == 0 {
		t.Fatalf("district %s: %d findings at %d sites, %d overdue: not a test of the filter", district, want, len(bySite), overdue)
	}

	b, pageURL := openWorkspace(t, ctx, room)
	dash := pageURL + "#/dashboard?district=" + url.QueryEscape(district)
	if _, err := chromedp.Run(b, chromedp.Evaluate[string](fmt.Sprintf(`location.hash = %q`, dash[strings.Index(dash, "#"):]))); err != nil {
		t.Fatal(err)
	}
	loaded := func(id string) chartState {
		var s chartState
		waitFor(t, "the chart "+id+" drawn for the district", time.Minute, func() (bool, string) {
			s = readChart(t, b, id)
			return s.Loading == "0" && s.Total != "" && len(s.Items) > 0, fmt.Sprintf("%+v", s)
		})
		return s
	}

	site := loaded("site")
	if site.Total != strconv.Itoa(want) {
		t.Errorf("findings by site: total %s, SQL %d", site.Total, want)
	}
	for _, it := range site.Items {
		if it.Count != strconv.Itoa(bySite[it.Key]) {
			t.Errorf("site %s: the chart counts %s, SQL %d", it.Key, it.Count, bySite[it.Key])
		}
	}
	sev := loaded("severity-over-time")
	sum := 0
	for _, it := range sev.Items {
		n, _ := strconv.Atoi(it.Count)
		sum += n
	}
	if sev.Total != strconv.Itoa(want) || sum != want {
		t.Errorf("severity over time: total %s, Σ %d, SQL %d", sev.Total, sum, want)
	}
	if od := loaded("overdue"); od.Total != strconv.Itoa(overdue) {
		t.Errorf("overdue now: %s, SQL %d", od.Total, overdue)
	}

	// The busiest site's column, clicked where the view says it is, once
	// the chart is scrolled into sight.
	if _, err := chromedp.Run(b, chromedp.Evaluate[bool](`(() => { document.querySelector('[data-chart="site"]').scrollIntoView({ block: 'center' }); return true })()`)); err != nil {
		t.Fatal(err)
	}
	var top chartItem
	waitFor(t, "the site chart's columns placed", time.Minute, func() (bool, string) {
		site = readChart(t, b, "site")
		top = site.Items[0]
		return top.X != "" && top.Y != "", fmt.Sprintf("%+v", top)
	})
	x, _ := strconv.ParseFloat(top.X, 64)
	y, _ := strconv.ParseFloat(top.Y, 64)
	if err := chromedp.Do(b, chromedp.MouseClickXY(site.Left+x+2, site.Top+y)); err != nil {
		t.Fatal(err)
	}
	under, _ := chromedp.Run(b, chromedp.Evaluate[string](fmt.Sprintf(`(() => { const e = document.elementFromPoint(%f, %f); return e ? e.tagName + '.' + e.className + ' in ' + (e.closest('[data-chart]')?.dataset.chart ?? 'no chart') : 'nothing' })()`, site.Left+x+2, site.Top+y)))
	waitFor(t, "the review list of the clicked site", time.Minute, func() (bool, string) {
		s := readList(t, b)
		return strings.Contains(s.Hash, "site="+top.Key) && strings.Contains(s.Hash, "district=") && s.Loading == "false" && s.Total == top.Count,
			fmt.Sprintf("%+v, want site %s with %s findings (clicked %s at %+v on the card at %.0f,%.0f)", s, top.Key, top.Count, under, top, site.Left, site.Top)
	})

	// A day is typed in the one format, not a native date field (which
	// WebKitGTK shows as today's date when empty): an impossible day is
	// marked and changes nothing, a real one bounds the list.
	from := `[data-filter="from"]`
	if got := eval[string](t, b, `(() => { const e = document.querySelector('`+from+`'); return e.type + '|' + e.value })()`); got != "text|" {
		t.Errorf("the list's from field with no bound: %q, want an empty text field", got)
	}
	day := room.now.In(time.FixedZone("CST", 8*3600)).Format("2006-01-02")
	if err := chromedp.Do(b, chromedp.SendKeys(chromedp.CSS(from), "2026-02-30"+kb.Enter)); err != nil {
		t.Fatal(err)
	}
	jsTrue(t, b, "an impossible day marked, the address without it", 10*time.Second,
		`document.querySelector('`+from+`').getAttribute('aria-invalid') === 'true' && !location.hash.includes('from=')`)
	eval[bool](t, b, `(() => { const e = document.querySelector('`+from+`'); e.value = ''; e.dispatchEvent(new Event('input')); return true })()`)
	if err := chromedp.Do(b, chromedp.SendKeys(chromedp.CSS(from), day+kb.Enter)); err != nil {
		t.Fatal(err)
	}
	jsTrue(t, b, "the day typed in the address", 10*time.Second, fmt.Sprintf(`location.hash.includes('from=%s')`, day))
}
