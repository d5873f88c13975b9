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

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/qianliyan/qianliyan/console"
)

// consoleFindingClip is the state of the clip of the newest finding in the
// console's SQLite file, "" while there is none.
func consoleFindingClip(t *testing.T, data string) (id, state string) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(data, "console.db")+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.QueryRow(`SELECT f.id, c.state FROM findings f JOIN evidence c ON c.finding_id = f.id AND c.kind = 'clip'
		ORDER BY f.rowid DESC LIMIT 1`).Scan(&id, &state)
	if err != nil && !errors.Is(err, sql.ErrNoRows) && !strings.Contains(err.Error(), "no such table") {
		t.Fatalf("reading the console's findings: %v", err)
	}
	return id, state
}

// TestDesktopWindowPlaysFindingClip flags a finding in the real window
// (WebKitGTK under Xvfb), opens it from the findings list and plays its
// clip: the clip's picture must be drawn, and move while it plays, stop
// when paused and step back a frame with the , key. The window's <video> could
// not load the clip from the wails:// page and showed WebKit's "cannot
// play" icon; the clip is now decoded by WebCodecs, as the wall is.
func TestDesktopWindowPlaysFindingClip(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	c := startCity(t, ctx, 1, 4)
	display := startScreen(t, ctx)
	w := openWindow(t, ctx, c, display, desktopOptions{args: []string{"--clip-before", "8s", "--clip-after", "12s"}})
	data := w.data
	shot := w.shot
	screen := shot().Bounds()

	// A modal dialog dims the wall behind it: most of the picture's colour goes.
	w.waitPlaying("live video on the window's wall", playing{quadrants: 4, colour: 0.2})
	wallColour := colourShare(w.last, screen)
	if wallColour <= 0.2 {
		t.Fatalf("the playing wall has colour %.3f of the screen, want over 0.2", wallColour)
	}
	dimmed := func(what string, want bool) {
		t.Helper()
		waitFor(t, what, 30*time.Second, func() (bool, string) {
			share := colourShare(shot(), screen)
			return (share < wallColour/2) == want, fmt.Sprintf("colour %.3f, wall's %.3f", share, wallColour)
		})
	}

	w.press("1", "f")
	dimmed("the flag picker", true)
	w.press("Return")
	dimmed("the flag picker closed", false)
	waitFor(t, "the finding's clip cut", 60*time.Second, func() (bool, string) {
		id, state := consoleFindingClip(t, data)
		return id != "" && state == "complete", fmt.Sprintf("finding %q, clip %q", id, state)
	})

	// The dialog shows the snapshot (the picture at the flag) left of the
	// centre and the clip beside it, at the same height. The snapshot is the
	// picture there that stands still; the wall's pictures move. Enter opens
	// the list's first finding once the list has it: pressed again if the
	// dialog did not open (the list was still loading).
	var snap image.Rectangle
	left := image.Rect(screen.Dx()/8, screen.Dy()/10, screen.Dx()/2-4, screen.Max.Y)
	dialog := func() bool {
		prev := snap
		var ok bool
		snap, ok = pictureIn(shot(), left)
		return ok && snap == prev && changedShare(w.last, screenshot(t, display), snap.Inset(4)) == 0
	}
	w.press("r")
	opened := false
	for try := 0; try < 3 && !opened; try++ {
		w.press("Return")
		for end := time.Now().Add(40 * time.Second); !opened && time.Now().Before(end); {
			opened = dialog()
		}
	}
	if !opened {
		t.Fatalf("the finding's dialog with its snapshot did not open (picture left of the centre: %v)", snap)
	}
	var clip image.Rectangle
	waitFor(t, "the clip's first frame drawn beside the snapshot", 60*time.Second, func() (bool, string) {
		var ok bool
		beside := image.Rect(screen.Dx()/2+4, snap.Min.Y-8, screen.Max.X, snap.Max.Y+8)
		clip, ok = pictureIn(shot(), beside)
		return ok, fmt.Sprintf("no picture beside the snapshot at %v (colour %.3f there)", snap, colourShare(w.last, beside))
	})
	w.keep("desktop-finding-clip.png")
	// Inside the picture's edge, clear of anti-aliasing.
	inner := clip.Inset(4)
	still := func(what string) image.Image {
		t.Helper()
		var a image.Image
		waitFor(t, what, 30*time.Second, func() (bool, string) {
			prev := a
			a = shot()
			share := 1.0
			if prev != nil {
				share = changedShare(prev, a, inner)
			}
			return share == 0, fmt.Sprintf("%.4f of the clip changed", share)
		})
		return a
	}
	before := still("the clip standing on its first frame")

	w.click(clip.Min.X+clip.Dx()/2, clip.Min.Y+clip.Dy()/2)
	// Each screenshot of a playing clip shows another frame, unless the
	// machine is so busy that the decoder falls behind for a while: three
	// changes, not necessarily in a row (a clip that cannot play never
	// changes at all).
	moving := 0
	waitFor(t, "the clip playing: its picture changing between screenshots, three times", 90*time.Second, func() (bool, string) {
		prev := w.last
		s := shot()
		share := changedShare(prev, s, inner)
		colour := colourShare(s, inner)
		if share > 0.002 && colour > 0.25 {
			moving++
		}
		return moving >= 3, fmt.Sprintf("%.4f changed, colour %.3f, %d changes", share, colour, moving)
	})
	if changedShare(before, w.last, inner) == 0 {
		t.Fatal("the clip played but shows its first frame again")
	}

	// Paused while it plays (the clip runs 12 s on from the flag), it stands
	// still; , steps back one frame and stands again.
	w.press("space")
	paused := still("the clip paused by Space")
	w.press("comma")
	waitFor(t, "one frame back after ,", 30*time.Second, func() (bool, string) {
		share := changedShare(paused, shot(), inner)
		return share > 0, fmt.Sprintf("%.4f changed", share)
	})
	still("the clip standing on the frame before")
}

// clipJS is the clip player's state in the open finding's dialog, and what
// its canvas shows: the share of pixels in the test pattern's strong
// colours, and a hash of them.
const clipJS = `(() => {
  const p = document.querySelector('[data-overlay="finding"] [data-clip-player]')
  if (!p) return { frame: -2 }
  const c = p.querySelector('canvas')
  let colour = 0, hash = 0
  if (c.width > 0) {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data
    let n = 0
    for (let i = 0; i < d.length; i += 4 * 7) {
      n++
      if (Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]) > 90) colour++
      hash = (hash * 31 + d[i] + d[i + 1] * 7 + d[i + 2] * 13) >>> 0
    }
    colour /= n
  }
  return { frame: Number(p.dataset.clipFrame), playing: p.dataset.clipPlaying === 'true', colour, hash,
    speed: (p.querySelector('[data-action="clip-speed"]') || {}).textContent || '' }
})()`

type clipView struct {
	Frame   int     `json:"frame"`
	Playing bool    `json:"playing"`
	Colour  float64 `json:"colour"`
	Hash    uint32  `json:"hash"`
	Speed   string  `json:"speed"`
}

// TestFindingClipPlaysInChromium is the window test's counterpart in the
// browser: the same player, checked by its state and its canvas.
func TestFindingClipPlaysInChromium(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	st := startStack(t, ctx, 1, 1)
	_, pageURL := serveConsole(t, ctx, console.Options{
		RelayURL: st.relay.URL(), User: st.creds.User, Password: st.creds.Password,
		Camera: "site-01/doff1", DataDir: t.TempDir(), Log: testLogger(t), ClipBefore: 2 * time.Second, ClipAfter: 6 * time.Second,
	})
	bctx := newBrowser(t, ctx)
	if err := chromedp.Do(bctx, chromedp.Navigate(pageURL), chromedp.WaitVisible(chromedp.CSS(`[data-grid]`))); err != nil {
		t.Fatalf("opening the console: %v", err)
	}
	tile := liveTile(t, bctx, "site-01/doff1")
	drawnFor(t, bctx, tile, 2*time.Second)
	if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-tile-id=%q]`, tile)))); err != nil {
		t.Fatalf("selecting %s: %v", tile, err)
	}
	pressKeys(t, bctx, "flagging", "f")
	if err := chromedp.Do(bctx, chromedp.WaitVisible(chromedp.CSS(`[data-overlay="flag"]`))); err != nil {
		t.Fatal(err)
	}
	pressKeys(t, bctx, "saving the flag", kb.Enter)
	if err := chromedp.Do(bctx, chromedp.WaitNotPresent(chromedp.CSS(`[data-overlay="flag"]`))); err != nil {
		t.Fatal(err)
	}
	pressKeys(t, bctx, "opening the findings list", "r")
	if err := chromedp.Do(bctx, chromedp.WaitVisible(chromedp.CSS(`[data-panel="findings"] [data-finding-id]`))); err != nil {
		t.Fatal(err)
	}
	pressKeys(t, bctx, "opening the finding", kb.Enter)

	var v clipView
	look := func(what string, cond func() bool) {
		t.Helper()
		waitFor(t, what, 45*time.Second, func() (bool, string) {
			v = eval[clipView](t, bctx, clipJS)
			return cond(), fmt.Sprintf("%+v", v)
		})
	}
	look("the clip's first frame drawn once it is cut", func() bool { return v.Frame == 0 && v.Colour > 0.25 })
	first := v.Hash
	if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS(`[data-overlay="finding"] [data-clip-player] canvas`))); err != nil {
		t.Fatalf("clicking the clip: %v", err)
	}
	look("the clip playing on", func() bool { return v.Playing && v.Frame >= 5 && v.Hash != first && v.Colour > 0.25 })
	pressKeys(t, bctx, "pausing", " ")
	look("the clip paused", func() bool { return !v.Playing })
	at := v.Frame
	pressKeys(t, bctx, "a frame back", ",")
	look("one frame back", func() bool { return v.Frame == at-1 })
	pressKeys(t, bctx, "a frame on, twice", ".", ".")
	look("two frames on", func() bool { return v.Frame == at+1 })
	pressKeys(t, bctx, "faster", "]")
	look("twice the speed", func() bool { return strings.HasPrefix(strings.TrimSpace(v.Speed), "2×") })
}
