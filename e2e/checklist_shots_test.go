package e2e

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"image"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// consoleRun is the console's newest checklist run and whether goggles
// were marked on it, as its SQLite file holds them.
func consoleRun(t *testing.T, data string) (template string, marked bool) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(data, "console.db")+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	err = db.QueryRow(`SELECT r.template_id, (SELECT count(*) FROM run_events e WHERE e.run_id = r.id AND e.kind = 'marked' AND e.step = 'goggles')
		FROM runs r ORDER BY r.rowid DESC LIMIT 1`).Scan(&template, &n)
	if err != nil && !errors.Is(err, sql.ErrNoRows) && !strings.Contains(err.Error(), "no such table") {
		t.Fatalf("reading the console's runs: %v", err)
	}
	return template, n > 0
}

// TestDesktopChecklistProposalShots opens the doffing checklist in the real
// window (WebKitGTK under Xvfb), in zh-CN and English, marks the goggles
// done before the hand hygiene that must come first, and waits for the
// proposed finding to be drawn: with QLY_SCREENSHOT_DIR it keeps the
// window as checklist-proposal-{zh,en}.png for docs/screenshots.
func TestDesktopChecklistProposalShots(t *testing.T) {
	inEachLanguage(t, 8*time.Minute, func(t *testing.T, ctx context.Context, lang string) {
		c := startCity(t, ctx, 1, 4)
		display := startScreen(t, ctx)
		w := openWindow(t, ctx, c, display, desktopOptions{lang: lang})
		w.waitPlaying("live video on the window's wall", playing{area: w.wallArea(), quadrants: 4, colour: 0.2})

		// The doffing room's tile: the checklist on another zone's camera is another template.
		found := false
		for tile := 1; tile <= 4 && !found; tile++ {
			w.press(fmt.Sprint(tile), "k")
			waitFor(t, "a run on the tile's camera", time.Minute, func() (bool, string) {
				tpl, _ := consoleRun(t, w.data)
				return tpl != "", "no run yet"
			})
			if tpl, _ := consoleRun(t, w.data); tpl == "ppe-doffing" {
				found = true
				break
			}
			w.press("Escape", "Escape")
		}
		if !found {
			t.Fatal("no tile shows a doffing room")
		}
		// The goggles before the hand hygiene that must come first: a proposed finding.
		w.press("Down", "d")
		waitFor(t, "the goggles marked", time.Minute, func() (bool, string) {
			_, marked := consoleRun(t, w.data)
			return marked, "not yet"
		})
		screen := w.shot().Bounds()
		panel := image.Rect(screen.Dx()*67/100, 0, screen.Max.X, screen.Max.Y)
		// The proposal's box is drawn with an amber edge; the panel is otherwise grey on dark.
		waitFor(t, "the proposal drawn in the panel, and still", 2*time.Minute, func() (bool, string) {
			prev := w.last
			s := w.shot()
			share, edge := changedShare(prev, s, panel), amber(s, panel)
			return share < 0.002 && edge > 200, fmt.Sprintf("%.4f of the panel changed, %d amber pixels", share, edge)
		})
		w.keep("checklist-proposal-" + strings.TrimSuffix(lang, "-CN") + ".png")
	})
}

// amber counts the pixels in rect of a proposal's edge colour.
func amber(img image.Image, rect image.Rectangle) int {
	n := 0
	for y := rect.Min.Y; y < rect.Max.Y; y++ {
		for x := rect.Min.X; x < rect.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			if r>>8 > 180 && g>>8 > 120 && g>>8 < 210 && b>>8 < 90 {
				n++
			}
		}
	}
	return n
}
