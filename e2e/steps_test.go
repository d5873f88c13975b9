package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// step runs one named part of a story as a subtest and stops the story at
// the first part that fails: later parts stand on it.
func step(t *testing.T, name string, f func(t *testing.T)) {
	t.Helper()
	if !t.Run(name, f) {
		t.FailNow()
	}
}

// visible waits until the page in bctx shows css; what names it in the failure.
func visible(t *testing.T, bctx context.Context, what, css string) {
	t.Helper()
	wctx, cancel := context.WithTimeout(bctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(wctx, chromedp.WaitVisible(chromedp.CSS(css))); err != nil {
		t.Fatalf("%s (%s): %v", what, css, err)
	}
}

// pressKeys types ks into the page, the way an officer does.
func pressKeys(t *testing.T, bctx context.Context, what string, ks ...string) {
	t.Helper()
	for _, k := range ks {
		if err := chromedp.Do(bctx, chromedp.KeyEvent(k)); err != nil {
			t.Fatalf("%s: pressing %q: %v", what, k, err)
		}
	}
}

// liveTile waits for camera to play live on the wall and returns its tile.
func liveTile(t *testing.T, bctx context.Context, camera string) string {
	t.Helper()
	var tile string
	waitFor(t, camera+" live on the wall", 30*time.Second, func() (bool, string) {
		tile = eval[string](t, bctx, fmt.Sprintf(`(document.querySelector('[data-camera=%q][data-state="live"]') || {dataset: {}}).dataset.tileId || ''`, camera))
		return tile != "", "no live tile for " + camera
	})
	return tile
}

// drawnFor waits until tile has been drawing for longer than d: the
// stream's rolling buffer then holds a clip's pre-roll of d.
func drawnFor(t *testing.T, bctx context.Context, tile string, d time.Duration) {
	t.Helper()
	var since time.Time
	waitFor(t, "the tile drawing for longer than the pre-roll", 30*time.Second, func() (bool, string) {
		n := eval[int](t, bctx, fmt.Sprintf(`(window.__qly.tiles[%q] || {}).framesRendered || 0`, tile))
		if n == 0 {
			return false, "no frame drawn"
		}
		if since.IsZero() {
			since = time.Now()
		}
		return time.Since(since) > d+time.Second, fmt.Sprintf("%d frames", n)
	})
}
