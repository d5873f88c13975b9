package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/qianliyan/qianliyan/console"
)

// tileLayoutJS measures what a tile lays over or beside its picture, for
// every tile on screen: the title bar, the state badge and, on the hovered
// tile, the statistics pill and the action bar. The picture's own label
// (sitesim draws the camera's name and clock in its top left: two lines
// from h/30 down, fontsize h/14, about 15 characters) is taken as the top
// 40 % × 25 % of the drawn picture, which the canvas letterboxes inside
// its box (object-fit: contain).
const tileLayoutJS = `(() => {
  const box = (e) => { if (!e) return null; const r = e.getBoundingClientRect(); return r.width && r.height ? {l: r.left, t: r.top, r: r.right, b: r.bottom} : null; };
  const meet = (a, b) => !!a && !!b && Math.min(a.r, b.r) - Math.max(a.l, b.l) > 0.5 && Math.min(a.b, b.b) - Math.max(a.t, b.t) > 0.5;
  const out = [];
  for (const tile of document.querySelectorAll('[data-tile-id]')) {
    if (!tile.dataset.camera || !tile.getClientRects().length) continue;
    const c = tile.querySelector('canvas'), cb = c.getBoundingClientRect();
    if (!c.width || !c.height) { out.push({tile: tile.dataset.tileId, problem: 'no picture yet'}); continue; }
    const s = Math.min(cb.width / c.width, cb.height / c.height), w = c.width * s, h = c.height * s;
    const pic = {l: cb.left + (cb.width - w) / 2, t: cb.top + (cb.height - h) / 2};
    pic.r = pic.l + w; pic.b = pic.t + h;
    const label = {l: pic.l, t: pic.t, r: pic.l + 0.4 * w, b: pic.t + 0.25 * h};
    const title = box(tile.querySelector('.caption')), badge = box(tile.querySelector('.status'));
    const meters = tile.querySelector('.meters'), bar = tile.querySelector('.tile-actions');
    const cut = [];
    for (const e of tile.querySelectorAll('.caption, .caption *, .status, .status *, .meters, .meters *')) {
      if (e.scrollWidth > e.clientWidth + 1) {
        const cs = getComputedStyle(e);
        if (cs.textOverflow !== 'ellipsis' || !(e.closest('[title]') && e.closest('[title]').title)) cut.push((e.className || e.tagName) + ': ' + e.textContent.trim());
      }
    }
    const r = {tile: tile.dataset.tileId, state: tile.dataset.state, picture: pic, title, titleOverLabel: meet(title, label),
      badge, badgeOverLabel: meet(badge, label), cut, hovered: tile.matches(':hover')};
    if (r.hovered) {
      const mb = box(meters);
      r.meters = mb;
      if (mb) {
        const lh = parseFloat(getComputedStyle(meters).lineHeight) || parseFloat(getComputedStyle(meters).fontSize) * 1.4;
        const tops = new Set([...meters.children].filter((e) => e.getClientRects().length).map((e) => Math.round(e.getBoundingClientRect().top)));
        r.metersRows = tops.size;
        r.metersWrapped = tops.size > 1 || meters.clientHeight > 2 * lh;
        r.metersOverBadge = meet(mb, badge);
      }
      r.bar = bar && getComputedStyle(bar).visibility === 'visible' ? box(bar) : null;
      r.barKeys = bar ? [...bar.querySelectorAll('kbd')].map((k) => k.textContent.trim()) : [];
      r.barActions = bar ? [...bar.querySelectorAll('button[data-action]')].map((b) => b.dataset.action) : [];
    }
    out.push(r);
  }
  return JSON.stringify(out);
})()`

type tileLayout struct {
	Tile           string          `json:"tile"`
	Problem        string          `json:"problem"`
	State          string          `json:"state"`
	Picture        json.RawMessage `json:"picture"`
	Title          json.RawMessage `json:"title"`
	TitleOverLabel bool            `json:"titleOverLabel"`
	BadgeOverLabel bool            `json:"badgeOverLabel"`
	Cut            []string        `json:"cut"`
	Hovered        bool            `json:"hovered"`
	Meters         json.RawMessage `json:"meters"`
	MetersWrapped  bool            `json:"metersWrapped"`
	MetersRows     int             `json:"metersRows"`
	MetersOver     bool            `json:"metersOverBadge"`
	Bar            json.RawMessage `json:"bar"`
	BarKeys        []string        `json:"barKeys"`
	BarActions     []string        `json:"barActions"`
}

func measureTiles(t *testing.T, ctx context.Context) []tileLayout {
	t.Helper()
	var out []tileLayout
	if err := json.Unmarshal([]byte(eval[string](t, ctx, tileLayoutJS)), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// hover moves the mouse over the middle of an element, as a hand does.
func hover(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	var at struct{ X, Y float64 }
	raw := eval[string](t, ctx, fmt.Sprintf(`(() => { const r = document.querySelector(%q).getBoundingClientRect(); return JSON.stringify({X: r.left + r.width / 2, Y: r.top + r.height / 2}); })()`, sel))
	if err := json.Unmarshal([]byte(raw), &at); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.MouseEvent("mouseMoved", at.X, at.Y)); err != nil {
		t.Fatal(err)
	}
}

// The wall at 16 and 25 tiles with the findings panel open, in a 1280×800
// window (issue 10.9): a tile's title bar and state badge never cover the
// camera's own label in the picture's top left; a name cut short ends in an
// ellipsis and is whole in a tooltip; the hovered tile's statistics stay
// on one line clear of its state badge; and its action bar shows each
// action's key and does what the key does (10.10). Then the checklist
// beside a focused camera leaves the video the room there is.
func TestTileLayout(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	c := startCity(t, ctx, 2, 4)
	bctx, _ := c.openConsole(t, ctx, console.Options{})

	// Eight cameras over 25 tiles, each tile a camera: the wall kept from
	// an earlier session, as useWall reads it.
	var cells []string
	for i := range 25 {
		cells = append(cells, fmt.Sprintf(`"site-%02d/%s"`, i%2+1, []string{"doff1", "doff2", "waste", "gate"}[i/2%4]))
	}
	act(t, bctx,
		evalVoid(`localStorage.setItem('qly.wall', JSON.stringify({grid: 16, cells: [`+strings.Join(cells, ",")+`]}))`),
		chromedp.Reload(),
		waitJS(`!!document.querySelector('[data-grid="16"]')`),
	)

	for _, c := range []struct {
		grid     int
		findings bool
	}{{16, false}, {16, true}, {25, true}, {25, false}} {
		name := fmt.Sprintf("%d tiles", c.grid)
		if c.findings {
			name += " beside the findings"
		}
		t.Run(name, func(t *testing.T) {
			if want := fmt.Sprintf(`[data-grid="%d"]`, c.grid); !eval[bool](t, bctx, `!!document.querySelector('`+want+`')`) {
				act(t, bctx, chromedp.Focus(chromedp.CSS(`[data-scope="wall"]`)), chromedp.KeyEvent("="), waitJS(`!!document.querySelector('`+want+`')`))
			}
			if open := eval[bool](t, bctx, `!!document.querySelector('[data-panel="findings"]')`); open != c.findings {
				act(t, bctx, chromedp.Focus(chromedp.CSS(`[data-scope="wall"]`)), chromedp.KeyEvent("r"))
				if !c.findings {
					act(t, bctx, chromedp.Focus(chromedp.CSS(`[data-panel="findings"]`)), chromedp.KeyEvent(kb.Escape))
				}
				act(t, bctx, waitJS(fmt.Sprintf(`!!document.querySelector('[data-panel="findings"]') === %v`, c.findings)))
			}
			var tiles []string
			for i := 1; i <= c.grid; i++ {
				tiles = append(tiles, fmt.Sprintf("tile-%d", i))
			}
			waitPlaying(t, bctx, "every tile playing", 90*time.Second, tiles)
			// The hovered tile's statistics show while it is live.
			waitFor(t, "tile-7 live", 30*time.Second, func() (bool, string) {
				s := sampleTiles(t, bctx)["tile-7"]
				return s.State == "live", s.State
			})
			hover(t, bctx, `[data-tile-id="tile-7"] canvas`)
			waitFor(t, "tile-7 hovered", 10*time.Second, func() (bool, string) {
				return eval[bool](t, bctx, `document.querySelector('[data-tile-id="tile-7"]').matches(':hover')`), ""
			})
			shot(t, bctx, strings.ReplaceAll(name, " ", "-")+"-chromium.png")
			got := measureTiles(t, bctx)
			if len(got) != c.grid {
				t.Fatalf("%d tiles measured, want %d", len(got), c.grid)
			}
			hovered := 0
			for _, m := range got {
				if m.Problem != "" || m.TitleOverLabel || m.BadgeOverLabel || len(m.Cut) > 0 {
					t.Errorf("%s: %s title over the picture's label %v (title %s, picture %s), badge over it %v, cut without an ellipsis or tooltip %q",
						m.Tile, m.Problem, m.TitleOverLabel, m.Title, m.Picture, m.BadgeOverLabel, m.Cut)
				}
				if !m.Hovered {
					continue
				}
				hovered++
				if m.Meters == nil || m.MetersWrapped || m.MetersOver {
					t.Errorf("%s hovered: statistics %s on %d rows (wrapped %v), over the state badge %v", m.Tile, m.Meters, m.MetersRows, m.MetersWrapped, m.MetersOver)
				}
				if m.Bar == nil || strings.Join(m.BarActions, ",") != "tile.focus,flag.open,tile.snapshot,checklist.open" || strings.Join(m.BarKeys, ",") != "Enter,F,I,K" {
					t.Errorf("%s hovered: action bar %s with actions %v and keys %v, want tile.focus, flag.open, tile.snapshot, checklist.open with Enter, F, I, K", m.Tile, m.Bar, m.BarActions, m.BarKeys)
				}
			}
			if hovered != 1 {
				t.Errorf("%d tiles hovered, want tile-7", hovered)
			}
		})
	}

	t.Run("the hover bar's flag opens the flag picker on its tile", func(t *testing.T) {
		hover(t, bctx, `[data-tile-id="tile-9"] canvas`)
		present(t, bctx, `[data-tile-id="tile-9"] .tile-actions [data-action="flag.open"]`)
		act(t, bctx, chromedp.Click(chromedp.CSS(`[data-tile-id="tile-9"] .tile-actions [data-action="flag.open"]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-overlay="flag"]`)))
		if w := eval[wallState](t, bctx, wallJS); w.Selected != "tile-9" {
			t.Errorf("flagged with %s selected, want tile-9", w.Selected)
		}
		act(t, bctx, chromedp.KeyEvent(kb.Escape), waitJS(`!document.querySelector('[data-overlay="flag"]')`))
	})

	t.Run("the hover bar's still is kept as a JPEG in the download folder", func(t *testing.T) {
		dir := t.TempDir()
		t.Setenv("XDG_DOWNLOAD_DIR", dir)
		hover(t, bctx, `[data-tile-id="tile-9"] canvas`)
		present(t, bctx, `[data-tile-id="tile-9"] .tile-actions [data-action="tile.snapshot"]`)
		camera := eval[string](t, bctx, `document.querySelector('[data-tile-id="tile-9"]').dataset.camera`)
		act(t, bctx, chromedp.Click(chromedp.CSS(`[data-tile-id="tile-9"] .tile-actions [data-action="tile.snapshot"]`)))
		waitFor(t, "the still in the download folder", 30*time.Second, func() (bool, string) {
			files, _ := filepath.Glob(filepath.Join(dir, strings.ReplaceAll(camera, "/", "_")+"_*.jpg"))
			if len(files) != 1 {
				return false, fmt.Sprintf("%d stills of %s in %s", len(files), camera, dir)
			}
			b, err := os.ReadFile(files[0])
			return err == nil && len(b) > 100 && b[0] == 0xff && b[1] == 0xd8, fmt.Sprintf("%s: %d bytes, %v", files[0], len(b), err)
		})
	})

	t.Run("the checklist beside a focused camera", func(t *testing.T) {
		hover(t, bctx, `[data-tile-id="tile-3"] canvas`)
		present(t, bctx, `[data-tile-id="tile-3"] .tile-actions [data-action="checklist.open"]`)
		act(t, bctx, chromedp.Click(chromedp.CSS(`[data-tile-id="tile-3"] .tile-actions [data-action="checklist.open"]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-panel="checklist"]`)))
		waitFor(t, "tile-3 focused on its main stream", 30*time.Second, func() (bool, string) {
			w := eval[wallState](t, bctx, wallJS)
			s := sampleTiles(t, bctx)["tile-3"]
			return w.Focused != nil && *w.Focused == "tile-3" && s.DecodedW == 320, fmt.Sprintf("focused %v, %+v", w.Focused, s)
		})
		shot(t, bctx, "checklist-chromium.png")
		// The video against the room the window has beside the panels.
		var size struct{ W, H, StageW, StageH, WinW, WinH float64 }
		raw := eval[string](t, bctx, `(() => {
		  const c = document.querySelector('[data-tile-id="tile-3"] canvas'), cb = c.getBoundingClientRect();
		  const s = Math.min(cb.width / c.width, cb.height / c.height);
		  const st = document.querySelector('main.stage').getBoundingClientRect();
		  return JSON.stringify({W: c.width * s, H: c.height * s, StageW: st.width, StageH: st.height, WinW: innerWidth, WinH: innerHeight});
		})()`)
		if err := json.Unmarshal([]byte(raw), &size); err != nil {
			t.Fatal(err)
		}
		t.Logf("video %.0f×%.0f in a stage of %.0f×%.0f, window %.0f×%.0f", size.W, size.H, size.StageW, size.StageH, size.WinW, size.WinH)
		// The stage beside the checklist: the video fills its width or its
		// height, and the stage is not a narrow column beside the panels.
		if size.W < 0.9*size.StageW && size.H < 0.9*size.StageH {
			t.Errorf("video %.0f×%.0f fills neither the stage's width nor its height (%.0f×%.0f)", size.W, size.H, size.StageW, size.StageH)
		}
		if size.W < 0.6*size.WinW && size.H < 0.6*size.WinH {
			t.Errorf("video %.0f×%.0f is under 60%% of the window's width and height (%.0f×%.0f)", size.W, size.H, size.WinW, size.WinH)
		}
	})
}

// shot saves the page as a PNG for a look after the run.
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Logf("screenshot: %v", err)
		return
	}
	dir := os.Getenv("QLY_SCREENSHOT_DIR")
	if dir == "" {
		dir = os.TempDir()
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err == nil {
		t.Logf("screenshot %s", filepath.Join(dir, name))
	}
}

// evalVoid runs a statement in the page.
func evalVoid(js string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Evaluate[any](js+"; null")(ctx, tg)
		return err
	})
}

// present fails the test unless sel is on the page and shown, rather than
// leave a click waiting for it.
func present(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	waitFor(t, sel+" shown", 10*time.Second, func() (bool, string) {
		return eval[bool](t, ctx, fmt.Sprintf(`(() => { const e = document.querySelector(%q); return !!e && getComputedStyle(e).visibility === 'visible' && e.getClientRects().length > 0; })()`, sel)), ""
	})
}
