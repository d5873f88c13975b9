package e2e

import (
	"context"
	"fmt"
	"image"
	"strings"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/relay/seed"
)

// TestDesktopReviewWorkspace: in the real window (WebKitGTK under Xvfb), in
// zh-CN and English, the seed's supervisor signing in lands in the review
// workspace and its list is drawn: once the window is still, J moves the
// row under the keys (a small part of the list changes, not the whole
// screen as the wall would). With QLY_SCREENSHOT_DIR it keeps the window as
// review-{zh,en}.png for docs/screenshots.
func TestDesktopReviewWorkspace(t *testing.T) {
	inEachLanguage(t, 8*time.Minute, func(t *testing.T, ctx context.Context, lang string) {
		room := startSeededRoom(t, ctx, 10000)
		display := startScreen(t, ctx)
		w := openWindow(t, ctx, &city{relay: room.relay, user: seed.SupervisorName, password: seed.SupervisorPassword}, display, desktopOptions{lang: lang})
		r := w.geometry().rect()
		list := image.Rect(r.Min.X, r.Min.Y+r.Dy()*3/10, r.Max.X, r.Max.Y-r.Dy()/10)
		// Drawn and still: two shots a second apart the same, and the
		// list not the bare background.
		waitFor(t, "the workspace drawn and still", 2*time.Minute, func() (bool, string) {
			prev := w.last
			time.Sleep(time.Second)
			s := w.shot()
			if prev == nil {
				return false, "first shot"
			}
			share := changedShare(prev, s, list)
			return share == 0 && distinctShades(s, list) > 8, fmt.Sprintf("%.4f of the list changed, %d shades", share, distinctShades(s, list))
		})
		before := w.last
		w.press("j")
		waitFor(t, "J moving the row under the keys", time.Minute, func() (bool, string) {
			share := changedShare(before, w.shot(), list)
			return share > 0.0005 && share < 0.6, fmt.Sprintf("%.4f of the list changed", share)
		})
		w.keep("review-" + strings.TrimSuffix(lang, "-CN") + ".png")

		// The dashboard's charts (ECharts on a canvas) drawn in the
		// window's WebKitGTK too: coloured bars over a good part of it.
		w.press("2")
		var colour float64
		waitFor(t, "the dashboard's charts drawn and still", 2*time.Minute, func() (bool, string) {
			prev := w.last
			time.Sleep(time.Second)
			s := w.shot()
			colour = colourShare(s, r)
			return prev != nil && changedShare(prev, s, r) == 0 && colour > 0.01, fmt.Sprintf("%.4f of the window coloured, %.4f changed", colour, changedShare(prev, s, r))
		})
		t.Logf("%.1f%% of the window in the charts' colours", 100*colour)
		w.keep("dashboard-" + strings.TrimSuffix(lang, "-CN") + ".png")
	})
}

// distinctShades counts the grey levels (by 16) in rect: a bare panel has
// one or two, a table of text many.
func distinctShades(img image.Image, rect image.Rectangle) int {
	seen := map[uint32]bool{}
	for y := rect.Min.Y; y < rect.Max.Y; y += 3 {
		for x := rect.Min.X; x < rect.Max.X; x += 3 {
			r, g, b, _ := img.At(x, y).RGBA()
			seen[(r+g+b)/3>>12] = true
		}
	}
	return len(seen)
}
