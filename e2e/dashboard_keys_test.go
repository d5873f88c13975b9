package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// focusedChart is the chart the keyboard is on (empty when none) and the
// item its arrows chose.
type focusedChart struct {
	Chart  string `json:"chart"`
	Focus  string `json:"focus"`
	Chosen string `json:"chosen"`
}

const focusedChartJS = `(() => {
  const c = document.activeElement?.closest('[data-chart]');
  return c ? { chart: c.dataset.chart, focus: c.dataset.focus, chosen: c.querySelector('[data-chosen]')?.textContent.trim() ?? '' }
           : { chart: '', focus: '', chosen: (document.activeElement?.tagName ?? '') + '.' + (document.activeElement?.className ?? '') };
})()`

// TestDashboardKeyboardDrill is the dashboard by keyboard alone, as hour
// seven of a night shift is: on the seeded relay the supervisor opens the
// statistics with 2, tabs into the charts, goes down with ↓ to the
// findings by district, chooses its second district with → → (said aloud
// as the district and its count), and Enter lands on the review list with
// that district's filter, whose total is the chart's number.
func TestDashboardKeyboardDrill(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	room := startSeededRoom(t, ctx, 10000)
	b, _ := openWorkspace(t, ctx, room)

	keys := func(k string) {
		t.Helper()
		if err := chromedp.Do(b, chromedp.KeyEvent(k)); err != nil {
			t.Fatalf("pressing %q: %v", k, err)
		}
	}
	keys("2")
	var district chartState
	waitFor(t, "the findings by district drawn", time.Minute, func() (bool, string) {
		district = readChart(t, b, "district")
		return district.Loading == "0" && len(district.Items) > 2, fmt.Sprintf("%+v", district)
	})

	// Tab through the header and the filters to the first chart.
	var at focusedChart
	for i := 0; i < 80 && at.Chart == ""; i++ {
		keys(kb.Tab)
		at = eval[focusedChart](t, b, focusedChartJS)
	}
	if at.Chart != "activity-over-time" {
		t.Fatalf("Tab reached %+v, want the first chart (findings over time by activity)", at)
	}
	for at.Chart != "district" {
		prev := at.Chart
		keys(kb.ArrowDown)
		waitFor(t, "↓ moving to the next chart", 10*time.Second, func() (bool, string) {
			at = eval[focusedChart](t, b, focusedChartJS)
			return at.Chart != prev, fmt.Sprintf("%+v", at)
		})
		if at.Chart == "" || at.Chart == "site" {
			t.Fatalf("↓ went from %s to %+v, past the districts", prev, at)
		}
	}

	keys(kb.ArrowRight)
	keys(kb.ArrowRight)
	want := district.Items[1]
	waitFor(t, "→ → choosing the second district, said aloud", 10*time.Second, func() (bool, string) {
		at = eval[focusedChart](t, b, focusedChartJS)
		return at.Focus == "1" && strings.HasSuffix(at.Chosen, ": "+want.Count), fmt.Sprintf("%+v, want item 1 (%s: %s)", at, want.Key, want.Count)
	})
	keys(kb.Enter)
	waitFor(t, "Enter landing on the district's review list", time.Minute, func() (bool, string) {
		s := readList(t, b)
		return strings.HasPrefix(s.Hash, "#/review") && strings.Contains(s.Hash, "district=") && s.Loading == "false" && s.Total == want.Count,
			fmt.Sprintf("%+v, want district %s with %s findings (drill %s)", s, want.Key, want.Count, want.Drill)
	})
	if got := eval[string](t, b, `new URLSearchParams(location.hash.split('?')[1] ?? '').get('district') ?? ''`); got != want.Key {
		t.Errorf("the list's address has the district %q, the chosen bar is %q", got, want.Key)
	}
}
