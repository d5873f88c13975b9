package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/qianliyan/qianliyan/console"
)

// TestKeysGoWhereTheScreenSays drives the console in Chromium as an officer
// does with the keys and with the mouse: the region the toolbar names as
// having the keys is the one that gets them, Esc walks back one level at a
// time, the camera list follows the tile in use, and each toolbar button
// shows its key and does what the key does (issue 10.6, 10.10).
func TestKeysGoWhereTheScreenSays(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	c := startCity(t, ctx, 1, 4)
	bctx, _ := c.openConsole(t, ctx, console.Options{ClipBefore: time.Second, ClipAfter: time.Second})
	// keysIn waits until the toolbar names region as having the keys and
	// the focus, which routes them, is in that region.
	keysIn := func(t *testing.T, region string) {
		t.Helper()
		waitFor(t, "the keys in "+region, 10*time.Second, func() (bool, string) {
			seen := eval[string](t, bctx, `(() => {
				const named = document.querySelector('[data-keys-in]')?.dataset.keysRegion;
				const a = document.activeElement;
				const holder = a?.closest('[role="dialog"]') ? 'dialog' : (a?.closest('[data-region]')?.dataset.region ?? 'wall');
				const ringed = [...document.querySelectorAll('.region-on')].map((e) => e.dataset.region).join(',');
				return named + '/' + holder + '/' + ringed + ' ' + (a ? a.outerHTML.slice(0, 120) : '');
			})()`)
			want := region + "/" + region + "/" + region + " "
			if region == "dialog" {
				want = "dialog/dialog/ "
			}
			return strings.HasPrefix(seen, want), "named/focused/ringed, the focused element: " + seen
		})
	}
	enlarged := func() bool { return eval[bool](t, bctx, `!!document.querySelector('.wall .cell.focused')`) }
	shown := func(sel string) bool { return eval[bool](t, bctx, fmt.Sprintf(`!!document.querySelector(%q)`, sel)) }

	tile := liveTile(t, bctx, "site-01/doff1")
	if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-tile-id=%q]`, tile)))); err != nil {
		t.Fatalf("selecting %s: %v", tile, err)
	}
	keysIn(t, "wall")

	step(t, "the camera list's highlight follows the tile in use", func(t *testing.T) {
		for _, n := range []string{"2", "1"} {
			pressKeys(t, bctx, "choosing tile "+n, n)
			waitFor(t, "the list on tile "+n+"'s camera", 10*time.Second, func() (bool, string) {
				seen := eval[string](t, bctx, fmt.Sprintf(`(() => {
					const cam = document.querySelector('[data-tile-id="tile-%s"]')?.dataset.camera;
					const hl = document.querySelector('[data-region="tree"] .option.active')?.dataset.camera;
					return cam + ' ' + hl;
				})()`, n))
				var cam, hl string
				fmt.Sscan(seen, &cam, &hl)
				return cam != "" && cam != "undefined" && cam == hl, "tile's camera, list's highlight: " + seen
			})
		}
	})

	var id string
	step(t, "a flag, then the findings list has the keys", func(t *testing.T) {
		drawnFor(t, bctx, tile, time.Second)
		pressKeys(t, bctx, "flagging", "f")
		keysIn(t, "dialog")
		pressKeys(t, bctx, "saving the flag", kb.Enter)
		keysIn(t, "wall")
		pressKeys(t, bctx, "opening the findings", "r")
		keysIn(t, "findings")
		waitFor(t, "the finding listed", 20*time.Second, func() (bool, string) {
			id = eval[string](t, bctx, `document.querySelector('[data-panel="findings"] li.chosen')?.dataset.findingId ?? ''`)
			return id != "", "no chosen finding"
		})
	})

	step(t, "Esc from a finding gives the keys back to the list: Enter opens the finding again", func(t *testing.T) {
		pressKeys(t, bctx, "opening it", kb.Enter)
		keysIn(t, "dialog")
		pressKeys(t, bctx, "leaving it", kb.Escape)
		keysIn(t, "findings")
		pressKeys(t, bctx, "opening it again", kb.Enter)
		keysIn(t, "dialog")
		if !shown(fmt.Sprintf(`[data-overlay="finding"] [data-finding-id=%q]`, id)) || enlarged() {
			t.Fatal("Enter after Esc did not open the finding, or enlarged a tile")
		}
	})

	step(t, "Esc from the camera opened for the re-check goes back to the finding in the list, then the wall", func(t *testing.T) {
		pressKeys(t, bctx, "opening its camera", "o")
		waitFor(t, "the camera enlarged", 10*time.Second, func() (bool, string) { return enlarged(), "no focus view" })
		keysIn(t, "wall")
		pressKeys(t, bctx, "leaving the camera", kb.Escape)
		keysIn(t, "findings")
		if enlarged() {
			t.Fatal("Esc left the camera enlarged")
		}
		if got := eval[string](t, bctx, `document.querySelector('[data-panel="findings"] li.chosen')?.dataset.findingId ?? ''`); got != id {
			t.Fatalf("the list's cursor is on %q, want the finding %q", got, id)
		}
		pressKeys(t, bctx, "Enter in the list", kb.Enter)
		keysIn(t, "dialog")
		if enlarged() || !shown(fmt.Sprintf(`[data-overlay="finding"] [data-finding-id=%q]`, id)) {
			t.Fatal("Enter went to the wall, not the finding")
		}
		// One level at a time: the dialog, then the list, then the wall.
		pressKeys(t, bctx, "Esc", kb.Escape)
		keysIn(t, "findings")
		pressKeys(t, bctx, "Esc", kb.Escape)
		keysIn(t, "wall")
		if shown(`[data-panel="findings"]`) {
			t.Fatal("the findings list is still open after Esc from it")
		}
	})

	step(t, "the toolbar's buttons show their keys and do what the keys do", func(t *testing.T) {
		for action, key := range map[string]string{
			"grid.fewer": "-", "grid.more": "+", "layout.open": "l", "layout.save": "s", "tour.choose": "t",
			"flag.open": "f", "checklist.open": "k", "findings.open": "r", "window.fullscreen": "F11", "wall.second": "w",
		} {
			sel := fmt.Sprintf(`[role="toolbar"] button[data-action=%q] kbd[data-key=%q]`, action, key)
			if !shown(sel) {
				t.Errorf("no toolbar button for %s showing the key %s (%s)", action, key, sel)
			}
		}
		grid := func() string { return eval[string](t, bctx, `document.querySelector('.wall').dataset.grid`) }
		click := func(action string) {
			t.Helper()
			if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`[role="toolbar"] button[data-action=%q]`, action)))); err != nil {
				t.Fatalf("clicking %s: %v", action, err)
			}
		}
		click("grid.more")
		waitFor(t, "nine tiles", 10*time.Second, func() (bool, string) { g := grid(); return g == "9", g })
		click("grid.fewer")
		waitFor(t, "four tiles", 10*time.Second, func() (bool, string) { g := grid(); return g == "4", g })
		// A click leaves the keys where they were, as a key does.
		keysIn(t, "wall")
		click("findings.open")
		keysIn(t, "findings")
		click("flag.open")
		keysIn(t, "dialog")
		if !shown(`[data-overlay="flag"]`) {
			t.Fatal("the flag button did not open the flag picker")
		}
		// The picker was opened from the list: Esc goes back there, not to the wall.
		pressKeys(t, bctx, "cancelling the flag", kb.Escape)
		keysIn(t, "findings")
		click("layout.open")
		keysIn(t, "dialog")
		if !shown(`[data-overlay="layouts"]`) {
			t.Fatal("the layouts button did not open the layouts menu")
		}
		pressKeys(t, bctx, "closing the menu", kb.Escape)
		keysIn(t, "findings")
	})

	step(t, "the second wall opens in a window of its own on this wall's grid", func(t *testing.T) {
		opened := chromedp.WaitNewTarget(bctx, func(i *target.Info) bool { return strings.Contains(i.URL, "grid=4") })
		if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS(`[role="toolbar"] button[data-action="wall.second"]`))); err != nil {
			t.Fatalf("clicking the second wall: %v", err)
		}
		var id target.ID
		select {
		case id = <-opened:
		case <-time.After(20 * time.Second):
			t.Fatal("no second window within 20 s")
		}
		second, cancel := chromedp.NewContext(bctx, chromedp.WithTargetID(id))
		defer cancel()
		wctx, stop := context.WithTimeout(second, 30*time.Second)
		defer stop()
		// Signed in with the same secret, on a wall of its own.
		if err := chromedp.Do(wctx, chromedp.WaitVisible(chromedp.CSS(`.wall[data-grid="4"]`))); err != nil {
			t.Fatalf("the second wall's page: %v", err)
		}
	})
}
