package e2e

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/qianliyan/qianliyan/console"
)

// TestAssignTakesAWarmSocket: while the camera list has the keys, the sub
// streams of the online cameras off the wall are open already
// (player/warm.ts); a camera put on the wall from the list plays from its
// warm socket, live, and the camera it replaced is the one kept warm
// instead (issue 10.16). Nothing is warm while the wall has the keys. Two
// sites of four cameras on a four-tile wall: the first site's on it.
func TestAssignTakesAWarmSocket(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	c := startCity(t, ctx, 2, 4)
	_, pageURL := serveConsole(t, ctx, console.Options{RelayURL: c.relay.URL(), User: c.user, Password: c.password, DataDir: t.TempDir(), Log: testLogger(t)})
	bctx := newBrowser(t, ctx)
	act(t, bctx, chromedp.Navigate(pageURL+"&grid=4"))
	tile := liveTile(t, bctx, "site-01/doff1")
	warm := func() []string {
		w := eval[[]string](t, bctx, `(window.__qly && window.__qly.warm) || []`)
		slices.Sort(w)
		return w
	}
	waitWarm := func(what string, want ...string) {
		t.Helper()
		slices.Sort(want)
		waitFor(t, what, 30*time.Second, func() (bool, string) {
			w := warm()
			return slices.Equal(w, want), fmt.Sprintf("warm %v, want %v", w, want)
		})
	}
	if w := warm(); len(w) != 0 {
		t.Fatalf("warm %v with the keys on the wall, want none", w)
	}

	act(t, bctx, chromedp.KeyEvent("c"))
	waitWarm("the cameras off the wall warm", "site-02/doff1", "site-02/doff2", "site-02/gate", "site-02/waste")
	// The list's last row is one of the second site's cameras.
	last := eval[string](t, bctx, `[...document.querySelectorAll('[role=option][data-camera]')].at(-1).dataset.camera`)
	act(t, bctx, chromedp.KeyEvent(kb.End), chromedp.KeyEvent(kb.Enter))
	waitFor(t, last+" live on the tile from its warm socket", 30*time.Second, func() (bool, string) {
		st := eval[map[string]any](t, bctx, fmt.Sprintf(`(() => { const s = window.__qly.tiles[%q]; return s ? {camera: s.camera, warm: s.warm, rendered: s.framesRendered, state: s.state} : {}; })()`, tile))
		return st["camera"] == last && st["warm"] == true && st["state"] == "live" && st["rendered"] != nil && st["rendered"] != 0.0, fmt.Sprint(st)
	})
	others := slices.DeleteFunc([]string{"site-02/doff1", "site-02/doff2", "site-02/gate", "site-02/waste"}, func(c string) bool { return c == last })
	waitWarm("the camera replaced warm instead", append(others, "site-01/doff1")...)

	act(t, bctx, chromedp.KeyEvent(kb.Escape))
	waitWarm("nothing warm once the list lets the keys go")
}

// TestOpeningWallTakesItsSockets: the wall a console opens with plays from
// sockets App opened as soon as the camera list came, before the console's
// first render (wall/openingWall.ts): a first wall of the cameras, and the
// wall kept from before, each tile live from its warm socket.
func TestOpeningWallTakesItsSockets(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	// The console's backend knows the cameras once it has signed in: the
	// page opened before that gets an empty list first, and its tiles open
	// their own sockets when the list comes. With nothing kept, a reload
	// opens a first wall.
	bctx, pageURL := startCity(t, ctx, 2, 4).openConsole(t, ctx, console.Options{})
	liveTile(t, bctx, "site-01/doff1")
	tiles := func(what string, want int) []string {
		t.Helper()
		var cams []string
		waitFor(t, what, 60*time.Second, func() (bool, string) {
			type tile struct {
				Camera string
				Warm   bool
				State  string
			}
			got := eval[[]tile](t, bctx, `Object.values((window.__qly && window.__qly.tiles) || {}).filter((s) => s.stream === 'sub').map((s) => ({camera: s.camera, warm: !!s.warm, state: s.state}))`)
			cams = cams[:0]
			ok := len(got) == want
			for _, x := range got {
				ok = ok && x.Warm && x.State == "live"
				cams = append(cams, x.Camera)
			}
			return ok, fmt.Sprintf("%+v, opened ahead %v", got, eval[[]string](t, bctx, `(window.__qly && window.__qly.opening) || []`))
		})
		slices.Sort(cams)
		return cams
	}
	eval[bool](t, bctx, `(localStorage.clear(), true)`)
	act(t, bctx, chromedp.Navigate(pageURL+"&grid=4"))
	first := tiles("the first wall's four tiles live from warm sockets", 4)

	// The tile in use takes another camera; the reload opens the wall kept.
	act(t, bctx, chromedp.KeyEvent("c"), chromedp.KeyEvent(kb.End), chromedp.KeyEvent(kb.Enter))
	var kept []string
	waitFor(t, "a camera of the second site on the wall", 30*time.Second, func() (bool, string) {
		kept = eval[[]string](t, bctx, `(() => { const w = JSON.parse(localStorage.getItem('qly.wall')); return w.cells.slice(0, w.grid).filter(Boolean) })()`)
		return slices.ContainsFunc(kept, func(c string) bool { return c[:7] == "site-02" }), fmt.Sprint(kept)
	})
	slices.Sort(kept)
	if slices.Equal(kept, first) {
		t.Fatalf("the wall kept %v is the first wall's", kept)
	}
	act(t, bctx, chromedp.Reload())
	if got := tiles("the kept wall's four tiles live from warm sockets", 4); !slices.Equal(got, kept) {
		t.Fatalf("after the reload the tiles show %v, want the wall kept %v", got, kept)
	}
}
