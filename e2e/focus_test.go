package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// focusWatchJS samples tile-1 every animation frame from the first key
// press on: its canvas's mean brightness (on a 16x9 copy), the state the
// tile shows, and the PTS of the frame its stream last drew, per stream
// (each player has its own counters). It keeps the worst it saw.
const focusWatchJS = `(() => {
  const w = window.__focusWatch = {armed: false, frames: 0, darkest: 999, notLive: [], backwards: [], streams: []};
  document.addEventListener('keydown', () => { w.armed = true; }, true);
  const o = document.createElement('canvas'); o.width = 16; o.height = 9;
  const g = o.getContext('2d', {willReadFrequently: true});
  const last = new Map();
  const loop = () => {
    requestAnimationFrame(loop);
    if (!w.armed) return;
    const tile = document.querySelector('[data-tile-id="tile-1"]');
    const c = tile && tile.querySelector('canvas');
    const st = window.__qly && window.__qly.tiles['tile-1'];
    if (!c || !st) return;
    w.frames++;
    g.drawImage(c, 0, 0, 16, 9);
    const d = g.getImageData(0, 0, 16, 9).data;
    let sum = 0;
    for (let i = 0; i < d.length; i += 4) sum += (d[i] + d[i+1] + d[i+2]) / 3;
    w.darkest = Math.min(w.darkest, sum / (d.length / 4));
    if (tile.dataset.state !== 'live' && w.notLive.length < 5) w.notLive.push(tile.dataset.state + ' at frame ' + w.frames);
    if (!last.has(st)) { last.set(st, -1); w.streams.push(st.stream); }
    if (st.drawnPts < last.get(st) && w.backwards.length < 5) w.backwards.push(st.stream + ' ' + last.get(st) + ' -> ' + st.drawnPts);
    last.set(st, st.drawnPts);
  };
  requestAnimationFrame(loop);
  return true;
})()`

type focusWatch struct {
	Frames    int      `json:"frames"`
	Darkest   float64  `json:"darkest"`
	NotLive   []string `json:"notLive"`
	Backwards []string `json:"backwards"`
	Streams   []string `json:"streams"`
}

// Enlarging a tile hands its picture from the sub stream to the main one
// without a black or dimmed picture between (issue 10.16: the sub frame
// stays up, live, scaled to the focus view, until main's first frame is
// drawn), and no stream's shown frame ever goes back in time.
func TestFocusHandsOverWithoutAGap(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	// Two cameras: a first wall of four tiles, each on its sub stream.
	st := startStack(t, ctx, 1, 2)
	bctx := openConsole(t, ctx, st, "site-01/doff1")
	tile := liveTile(t, bctx, "site-01/doff1")
	if tile != "tile-1" {
		t.Fatalf("the camera is on %s, want tile-1", tile)
	}
	waitFor(t, "tile-1 drawing its sub stream", time.Minute, func() (bool, string) {
		n := eval[int](t, bctx, `(() => { const s = window.__qly.tiles['tile-1']; return s && s.stream === 'sub' ? s.framesRendered : 0 })()`)
		return n > 3, "no frames"
	})
	eval[bool](t, bctx, focusWatchJS)

	if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS(`[data-index="0"]`))); err != nil {
		t.Fatal(err)
	}
	if eval[string](t, bctx, `document.querySelector('[data-tile-id="tile-1"]').dataset.stream`) != "sub" {
		t.Fatal("tile-1 does not play its sub stream before the focus")
	}
	pressKeys(t, bctx, "enlarging tile 1", kb.Enter)
	waitFor(t, "tile-1 drawing its main stream for a second", time.Minute, func() (bool, string) {
		n := eval[int](t, bctx, `(() => { const s = window.__qly.tiles['tile-1']; return s && s.stream === 'main' ? s.framesRendered : 0 })()`)
		return n > 15, "main frames drawn: " + time.Now().Format("15:04:05")
	})
	w := eval[focusWatch](t, bctx, `window.__focusWatch`)
	t.Logf("%d animation frames sampled; streams %v; darkest mean luma %.1f", w.Frames, w.Streams, w.Darkest)
	if w.Frames < 10 {
		t.Fatalf("only %d animation frames sampled", w.Frames)
	}
	if w.Darkest < 20 {
		t.Errorf("the canvas went dark during the hand-over: mean luma %.1f", w.Darkest)
	}
	if len(w.NotLive) > 0 {
		t.Errorf("the tile did not show live throughout the hand-over: %v", w.NotLive)
	}
	if len(w.Backwards) > 0 {
		t.Errorf("a shown frame went back in time: %v", w.Backwards)
	}
}
