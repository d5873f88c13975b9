package e2e

import (
	"context"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/relay/seed"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// settled waits until the window is drawn and still in rect: two shots a
// second apart the same but for a ticking clock's few characters (0.05 %
// of the area), and more than a bare background. changedFrom,
// when set, is a shot of what was there before, which must have changed.
func (w *desktopWindow) settled(what string, rect image.Rectangle, changedFrom image.Image) {
	w.t.Helper()
	waitFor(w.t, what, 2*time.Minute, func() (bool, string) {
		prev := w.last
		time.Sleep(time.Second)
		s := w.shot()
		if prev == nil {
			return false, "first shot"
		}
		still, shades := changedShare(prev, s, rect), distinctShades(s, rect)
		moved := 1.0
		if changedFrom != nil {
			moved = changedShare(changedFrom, s, rect)
		}
		return still <= 0.0005 && shades > 8 && moved > 0.002, fmt.Sprintf("%.4f changed in a second, %d shades, %.4f changed since before", still, shades, moved)
	})
}

// TestDesktopNoticesReports: the supervisors' notices and reports tabs in
// the real window (WebKitGTK under Xvfb), zh-CN and English, on the seeded
// relay with three notices issued (one item of one reported by its site).
// 3 shows the notices' list; 4 the reports, which take the keyboard as
// they open: Enter saves today's report through the backend into the
// download folder (the window downloads nothing itself), and Tab to the
// preview and Space shows its figures. With QLY_SCREENSHOT_DIR it keeps
// notices-{zh,en}.png and reports-{zh,en}.png.
func TestDesktopNoticesReports(t *testing.T) {
	inEachLanguage(t, 8*time.Minute, func(t *testing.T, ctx context.Context, lang string) {
		room := startSeededRoom(t, ctx, 10000)
		sup := relayLogin(t, room.relay.URL(), seed.SupervisorName, seed.SupervisorPassword)
		sites := room.column(t, `SELECT site_id FROM findings WHERE status = 'open' GROUP BY 1 HAVING count(*) >= 3 ORDER BY site_id LIMIT 3`)
		var first wire.Notice
		var firstItems []string
		for i, site := range sites {
			ids := room.column(t, `SELECT id FROM findings WHERE site_id = ? AND status = 'open' ORDER BY deadline, id LIMIT 3`, site)
			var n wire.Notice
			if status, b := sup.do("POST", "/api/v1/notices", wire.NoticeRequest{Site: site, Findings: ids, Lang: lang}, &n); status/100 != 2 {
				t.Fatalf("issuing a notice over %s %v: %d %s", site, ids, status, b)
			}
			if i == 0 {
				first, firstItems = n, ids
			}
		}
		if len(sites) < 3 {
			t.Fatalf("the seed has %d sites with 3 open findings", len(sites))
		}
		photo, err := seededJPEG(3)
		if err != nil {
			t.Fatal(err)
		}
		signInPhone(t, room.relay.URL(), "manager-"+strings.TrimPrefix(first.Site, "site-"), seed.ManagerPassword).reportItem(first.ID, firstItems[0], photo)

		display := startScreen(t, ctx)
		home := t.TempDir()
		w := openWindow(t, ctx, &city{relay: room.relay, user: seed.SupervisorName, password: seed.SupervisorPassword}, display, desktopOptions{lang: lang, home: home})
		r := w.geometry().rect()
		body := image.Rect(r.Min.X, r.Min.Y+r.Dy()/10, r.Max.X, r.Max.Y)
		w.settled("the review list drawn and still", body, nil)
		short := strings.TrimSuffix(lang, "-CN")

		before := w.last
		w.press("3")
		w.settled("the notices' list drawn and still", body, before)
		w.keep("notices-" + short + ".png")

		before = w.last
		w.press("4")
		w.settled("the reports drawn and still", body, before)
		beforeSave := w.last
		w.press("Return")
		downloads := filepath.Join(home, "Downloads")
		var saved string
		waitFor(t, "Enter saving today's report in the download folder", 2*time.Minute, func() (bool, string) {
			entries, _ := os.ReadDir(downloads)
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
				if strings.HasPrefix(e.Name(), "report-daily-") && strings.HasSuffix(e.Name(), ".xlsx") {
					saved = e.Name()
				}
			}
			return saved != "", fmt.Sprintf("%q in %s", names, downloads)
		})
		t.Logf("the report saved as %s", saved)
		// Where it went said on screen, and the buttons enabled again
		// (a disabled one is no stop for Tab).
		w.settled("the view saying where the report went", body, beforeSave)

		// Tab from the form to its sixth stop: period, day, language,
		// format, download, preview.
		before = w.last
		w.press("Tab", "Tab", "Tab", "Tab", "Tab", "Tab", "space")
		w.settled("the report's figures shown", body, before)
		w.keep("reports-" + short + ".png")
	})
}
