package e2e

import (
	"context"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/qianliyan/qianliyan/console"
	"github.com/qianliyan/qianliyan/internal/sitesim"
	"github.com/qianliyan/qianliyan/relay"
)

// The speed the officer feels, measured in the view: from a key's keydown
// (its event time) to the animation frame that shows the result, with the
// demo's twelve cameras (three sites of four, 640x360 main and 320x180 sub
// at 15 fps, a keyframe every 2 s: sitesim's defaults, as `make demo` runs
// them). The times are the page's own (performance.now()): the renderer
// records when a stream's first frame was drawn (window.__qly.tiles[id].
// firstDrawnAt), and viewHooksJS records the key and every animation frame.
// Run them alone (docs/PERFORMANCE.md), with QLY_VIEW_DIST naming another
// build of the view (a frontend/dist) to measure that one:
//
//	go test -run '^$' -bench 'BenchmarkView' -benchtime 1x ./e2e/

// viewHooksJS watches the page each animation frame: the last key's time,
// the first frame after it that shows the focus view with a picture not
// dimmed (its tile says live), and the draws of the watched tile's stream
// (framesRendered going up), for the longest gap between pictures.
const viewHooksJS = `(() => {
  if (window.__bench) return true;
  const b = window.__bench = {key: 0, enlargedAt: 0, watch: '', stats: null, count: 0, draws: []};
  document.addEventListener('keydown', (e) => { b.key = e.timeStamp; b.enlargedAt = 0; }, true);
  const loop = (now) => {
    const cell = document.querySelector('.cell.focused');
    if (b.key && !b.enlargedAt && cell) {
      const tile = cell.querySelector('[data-tile-id]'), c = cell.querySelector('canvas');
      if (tile && c && c.width > 0 && tile.dataset.state === 'live') b.enlargedAt = now;
    }
    const st = b.watch && window.__qly && window.__qly.tiles[b.watch];
    if (st) {
      if (st !== b.stats) { b.stats = st; b.count = 0; b.draws = []; }
      if (st.framesRendered > b.count) { b.count = st.framesRendered; b.draws.push(now); }
    }
    requestAnimationFrame(loop);
  };
  requestAnimationFrame(loop);
  return true;
})()`

// benchStep is what one key press came to, in milliseconds from its keydown.
type benchStep struct {
	// Shown: the tile shows the new picture (the focus view enlarged with
	// a live picture; an assigned camera's first frame).
	Shown float64 `json:"shown"`
	// Drawn: the new stream's first frame drawn.
	Drawn float64 `json:"drawn"`
	// Gap: the longest time between two pictures of the new stream in the
	// two seconds after its first.
	Gap float64 `json:"gap"`
	// The steps to the first picture, from the keydown: the new stream's
	// player started, its socket open, its first unit in, its first frame
	// out of the decoder (TileStats' timeline).
	Started float64 `json:"started"`
	Opened  float64 `json:"opened"`
	Unit    float64 `json:"unit"`
	Decoded float64 `json:"decoded"`
	// Warm: the socket was open before the key (player/warm.ts).
	Warm bool `json:"warm"`
	// Behind: how far the first picture was behind the newest unit received
	// then, in ms of stream time (0: the first picture was the newest).
	Behind float64 `json:"behind"`
	// Old: how far the first picture was behind the live stream, in ms: the
	// stream time from it to the picture drawn two seconds on, less the two
	// seconds (a first picture from a GOP's start, fast-forwarded after, is
	// old by as much as it was fast-forwarded).
	Old float64 `json:"old"`
}

// String says where a step's time went.
func (s benchStep) String() string {
	warm := "cold"
	if s.Warm {
		warm = "warm"
	}
	return fmt.Sprintf("drawn %.0f ms, %.0f ms old (%s socket: player %.0f, open %.0f, first unit %.0f, decoded %.0f), longest gap %.0f ms",
		s.Drawn, s.Old, warm, s.Started, s.Opened, s.Unit, s.Decoded, s.Gap)
}

// stepJS reads a key press's outcome on tile once its stream (camera and
// stream) has drawn a frame after the key and two seconds have passed, or
// null before.
const stepJS = `((tile, camera, stream, focus) => {
  const b = window.__bench, st = window.__qly && window.__qly.tiles[tile];
  if (!st || st.camera !== camera || st.stream !== stream || !(st.firstDrawnAt > b.key)) return null;
  if (focus && !b.enlargedAt) return null;
  // A draw is seen at the start of its animation frame, up to a frame before firstDrawnAt.
  const first = st.firstDrawnAt;
  if (performance.now() - first < 2000) return null;
  const seen = b.draws.filter((t) => t >= first - 20 && t <= first + 2000);
  let gap = 0;
  for (let i = 1; i < seen.length; i++) gap = Math.max(gap, seen[i] - seen[i - 1]);
  const drawn = st.firstDrawnAt - b.key, since = (t) => (t ? t - b.key : -1);
  return {shown: focus ? b.enlargedAt - b.key : drawn, drawn, gap, started: since(st.startedAt), opened: since(st.openedAt),
    unit: since(st.firstUnitAt), decoded: since(st.firstDecodedAt), warm: !!st.warm, behind: st.firstBehindMs ?? -1,
    old: st.firstDrawnPts >= 0 ? (st.drawnPts - st.firstDrawnPts) / 1000 - (performance.now() - first) : -1};
})`

// startDemo starts the demo relay and sitesim as `make demo` does (its
// defaults) and a console backend signed in to it, and returns the page's
// address.
func startDemo(tb testing.TB, ctx context.Context, sites, cameras int) string {
	tb.Helper()
	log := testLogger(tb)
	r, err := relay.Start(ctx, relay.Options{Listen: "127.0.0.1:0", DataDir: tb.TempDir(), Demo: true, Log: log})
	if err != nil {
		tb.Fatalf("starting relay: %v", err)
	}
	tb.Cleanup(func() { r.Close() })
	creds := r.Demo()
	sim, err := sitesim.Start(ctx, sitesim.Options{RelayURL: r.URL(), Token: creds.PublishToken, Sites: sites, Cameras: cameras, Log: log})
	if err != nil {
		tb.Fatalf("starting sitesim: %v", err)
	}
	tb.Cleanup(func() { sim.Close() })
	// Another build of the view, to measure it against this one (docs/PERFORMANCE.md).
	_, pageURL := serveConsole(tb, ctx, viewConsole(tb, console.Options{RelayURL: r.URL(), User: creds.User, Password: creds.Password, DataDir: tb.TempDir(), Log: testLogger(tb)}))
	return pageURL
}

// openWall opens the page on a grid, waits until every tile with a camera
// draws (or, on a machine too busy for that, three minutes and half of
// them), installs the hooks and returns the cameras of the tiles that draw
// ("" for the others).
func openWall(b *testing.B, bctx context.Context, pageURL string, grid int) []string {
	b.Helper()
	if err := chromedp.Do(bctx, chromedp.Navigate(fmt.Sprintf("%s&grid=%d", pageURL, grid))); err != nil {
		b.Fatal(err)
	}
	const drawingJS = `[...document.querySelectorAll('[data-tile-id]')].map((t) => {
	  const st = window.__qly && window.__qly.tiles[t.dataset.tileId];
	  return st && st.framesRendered > 0 && st.camera === t.dataset.camera ? t.dataset.camera : '';
	})`
	start := time.Now()
	var cams []string
	waitFor(b, "every tile drawing", 4*time.Minute, func() (bool, string) {
		cams = eval[[]string](b, bctx, drawingJS)
		want := eval[int](b, bctx, `[...document.querySelectorAll('[data-tile-id]')].filter((t) => t.dataset.camera).length`)
		n := drawing(cams)
		return want > 0 && (n == want || time.Since(start) > 3*time.Minute && 2*n >= want), fmt.Sprintf("%d of %d tiles drawing", n, want)
	})
	b.Logf("%d tiles drawing after %v", drawing(cams), time.Since(start).Round(time.Second))
	eval[bool](b, bctx, viewHooksJS)
	return cams
}

func drawing(cams []string) int {
	n := 0
	for _, c := range cams {
		if c != "" {
			n++
		}
	}
	return n
}

// awaitStep waits for a key press's outcome on tile.
func awaitStep(b *testing.B, bctx context.Context, tile, camera, stream string, focus bool) benchStep {
	b.Helper()
	var s *benchStep
	js := fmt.Sprintf(`%s(%q, %q, %q, %v)`, stepJS, tile, camera, stream, focus)
	eval[bool](b, bctx, fmt.Sprintf(`(window.__bench.watch = %q, true)`, tile))
	waitFor(b, camera+" "+stream+" drawn on "+tile, 90*time.Second, func() (bool, string) {
		s = eval[*benchStep](b, bctx, js)
		return s != nil, "not yet"
	})
	return *s
}

// percentiles reports p50, p95 and max of ms under name.
func percentiles(b *testing.B, name string, ms []float64) {
	b.Helper()
	if len(ms) == 0 {
		return
	}
	s := slices.Clone(ms)
	slices.Sort(s)
	at := func(p float64) float64 { return s[int(math.Ceil(p*float64(len(s))))-1] }
	b.ReportMetric(at(0.5), name+"-p50-ms")
	b.ReportMetric(at(0.95), name+"-p95-ms")
	b.ReportMetric(s[len(s)-1], name+"-max-ms")
}

// BenchmarkViewFocus enlarges each of the twelve tiles of the demo's wall
// in turn (a click selects it, Enter enlarges it: Enter is timed) and puts
// it back with Esc, once round (QLY_BENCH_ROUNDS for more). shown: the focus view with a live picture;
// main: the main stream's first frame; gap: the longest wait between two
// pictures of the main stream in its first two seconds.
func BenchmarkViewFocus(b *testing.B) {
	for i := 0; i < b.N; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
		pageURL := startDemo(b, ctx, 3, 4)
		bctx := newBrowser(b, ctx)
		cams := openWall(b, bctx, pageURL, 16)
		var shown, drawn, gaps []float64
		for round := 0; round < benchRounds(1); round++ {
			for t, cam := range cams {
				if cam == "" {
					continue
				}
				tile := fmt.Sprintf("tile-%d", t+1)
				sel := fmt.Sprintf(`[data-index="%d"]`, t)
				if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS(sel)), chromedp.KeyEvent(kb.Enter)); err != nil {
					b.Fatal(err)
				}
				s := awaitStep(b, bctx, tile, cam, "main", true)
				b.Logf("%s %s: shown %.0f ms, main %v (load %s)", tile, cam, s.Shown, s, loadAverage())
				shown, drawn, gaps = append(shown, s.Shown), append(drawn, s.Drawn), append(gaps, s.Gap)
				if err := chromedp.Do(bctx, chromedp.KeyEvent(kb.Escape)); err != nil {
					b.Fatal(err)
				}
				awaitStep(b, bctx, tile, cam, "sub", false)
			}
		}
		b.Logf("load %s; shown %v; main drawn %v; gaps %v", loadAverage(), shown, drawn, gaps)
		percentiles(b, "shown", shown)
		percentiles(b, "main", drawn)
		percentiles(b, "gap", gaps)
		cancel()
	}
}

// BenchmarkViewAssign puts a camera that is not on the wall into the
// selected tile of a four-tile wall: the camera list (c), the camera's row
// (arrows), Enter, which is timed. Each of the eight cameras off the wall,
// once round (QLY_BENCH_ROUNDS for more).
func BenchmarkViewAssign(b *testing.B) {
	for i := 0; i < b.N; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		pageURL := startDemo(b, ctx, 3, 4)
		bctx := newBrowser(b, ctx)
		openWall(b, bctx, pageURL, 4)
		// A camera whose socket the camera list had opened ahead (warm), and
		// one it had not (cold: the first ones after the list took the keys).
		var drawn, gaps, warm, cold []float64
		for round := 0; round < benchRounds(1); round++ {
			rows := eval[[]string](b, bctx, `[...document.querySelectorAll('[role=option][data-camera]')].map((r) => r.dataset.camera)`)
			for _, cam := range rows {
				onWall := eval[[]string](b, bctx, `[...document.querySelectorAll('[data-tile-id]')].map((t) => t.dataset.camera || '')`)
				if slices.Contains(onWall, cam) {
					continue
				}
				row := slices.Index(rows, cam)
				if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS(`[data-index="0"]`)), chromedp.KeyEvent("c"), chromedp.KeyEvent(kb.Home)); err != nil {
					b.Fatal(err)
				}
				for range row {
					if err := chromedp.Do(bctx, chromedp.KeyEvent(kb.ArrowDown)); err != nil {
						b.Fatal(err)
					}
				}
				if err := chromedp.Do(bctx, chromedp.KeyEvent(kb.Enter)); err != nil {
					b.Fatal(err)
				}
				s := awaitStep(b, bctx, "tile-1", cam, "sub", false)
				b.Logf("%s: %v (load %s)", cam, s, loadAverage())
				drawn, gaps = append(drawn, s.Drawn), append(gaps, s.Gap)
				if s.Warm {
					warm = append(warm, s.Drawn)
				} else {
					cold = append(cold, s.Drawn)
				}
			}
		}
		b.Logf("load %s; drawn %v; gaps %v", loadAverage(), drawn, gaps)
		percentiles(b, "assign", drawn)
		percentiles(b, "assign-warm", warm)
		percentiles(b, "assign-cold", cold)
		percentiles(b, "gap", gaps)
		cancel()
	}
}

// BenchmarkViewColdStart opens the console in a new tab with nothing saved
// (a first wall of every camera on 16 tiles) and times from the page's
// start (performance.timeOrigin) to the last tile's first frame; the tab
// is closed and the console's streams stop before the next round. Sixteen
// cameras (four sites of four, a relay configured as a city runs one) at
// the demo's pictures (sitesim's defaults, as for the other two). Where the
// time went: the first tile's player started (the wall up: the page's
// script, the bootstrap, the sign-in and the camera list before it), the
// first socket open, the first unit in, and the last tile's first frame.
func BenchmarkViewColdStart(b *testing.B) {
	const tiles = 16
	for i := 0; i < b.N; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		c := startCity(b, ctx, 4, 4, demoPictures)
		_, pageURL := serveConsole(b, ctx, viewConsole(b, console.Options{RelayURL: c.relay.URL(), User: c.user, Password: c.password, DataDir: b.TempDir(), Log: testLogger(b)}))
		browser := newBrowser(b, ctx)
		if err := chromedp.Do(browser); err != nil {
			b.Fatal(err)
		}
		var cold, wallUp, opened, unit []float64
		for round := 0; round < benchRounds(3); round++ {
			tab, closeTab := chromedp.NewContext(browser)
			// Where the page's main thread went: a socket's open event waits
			// for the frame before it to end.
			if _, err := chromedp.Call(tab, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: longFramesScript}); err != nil {
				b.Fatal(err)
			}
			if err := chromedp.Do(tab, chromedp.Navigate(pageURL+"&grid=16")); err != nil {
				b.Fatal(err)
			}
			type timeline struct{ Started, Opened, Unit, Drawn float64 }
			var t []timeline
			waitFor(b, "sixteen tiles drawing", 90*time.Second, func() (bool, string) {
				t = eval[[]timeline](b, tab, `Object.values((window.__qly && window.__qly.tiles) || {}).map((s) => ({started: s.startedAt, opened: s.openedAt, unit: s.firstUnitAt, drawn: s.firstDrawnAt || 0}))`)
				n := 0
				for _, x := range t {
					if x.Drawn > 0 {
						n++
					}
				}
				return n >= tiles, fmt.Sprintf("%d tiles drawing", n)
			})
			first := func(f func(timeline) float64) float64 {
				m := math.Inf(1)
				for _, x := range t {
					if v := f(x); v > 0 {
						m = min(m, v)
					}
				}
				return m
			}
			last, lastOpen := 0.0, 0.0
			for _, x := range t {
				last, lastOpen = max(last, x.Drawn), max(lastOpen, x.Opened)
			}
			cold = append(cold, last)
			wallUp = append(wallUp, first(func(x timeline) float64 { return x.Started }))
			opened = append(opened, first(func(x timeline) float64 { return x.Opened }))
			unit = append(unit, first(func(x timeline) float64 { return x.Unit }))
			b.Logf("round %d: wall up %.0f ms, first socket open %.0f ms (last %.0f ms), first unit %.0f ms, last tile drawn %.0f ms (load %s)",
				round+1, wallUp[round], opened[round], lastOpen, unit[round], last, loadAverage())
			b.Logf("round %d: tiles by first frame drawn (unit, decoded, drawn ms; frames not drawn; behind ms):\n%s", round+1,
				eval[string](b, tab, `Object.values(window.__qly.tiles).sort((a, b) => a.firstDrawnAt - b.firstDrawnAt).map((s) => '  ' + s.camera + ' ' + [s.firstUnitAt, s.firstDecodedAt, s.firstDrawnAt].map(Math.round).join(' / ') + '; ' + s.framesNotDrawn + '; ' + Math.round(s.firstBehindMs)).join('\n')`))
			b.Logf("round %d: frames over 50 ms:\n%s\nrequests (start+duration ms): %s", round+1, strings.Join(eval[[]string](b, tab, `window.__longFrames`), "\n"),
				eval[string](b, tab, `performance.getEntriesByType('resource').map((e) => e.name.replace(/^.*\//, '').slice(0, 40) + ' ' + Math.round(e.startTime) + '+' + Math.round(e.duration)).join('; ')`))
			eval[bool](b, tab, `(localStorage.clear(), true)`)
			closeTab()
			time.Sleep(3 * time.Second) // the console ends the streams nobody watches
		}
		b.Logf("load %s; cold start %v", loadAverage(), cold)
		percentiles(b, "cold", cold)
		percentiles(b, "wall-up", wallUp)
		percentiles(b, "first-unit", unit)
		cancel()
	}
}

// demoPictures gives a simulator the demo's pictures (sitesim's defaults:
// 640x360 main, 320x180 sub, 15 fps, a keyframe every 2 s).
func demoPictures(o *sitesim.Options) {
	o.FPS, o.GOP, o.Width, o.Height, o.SubWidth, o.SubHeight = 0, 0, 0, 0, 0, 0
}

// viewConsole serves QLY_VIEW_DIST, another build of the view, when set.
func viewConsole(tb testing.TB, opts console.Options) console.Options {
	tb.Helper()
	if dist := os.Getenv("QLY_VIEW_DIST"); dist != "" {
		opts.Assets = os.DirFS(dist)
	}
	return opts
}

// benchRounds is QLY_BENCH_ROUNDS, or n: more rounds on a quiet machine.
func benchRounds(n int) int {
	if r, err := strconv.Atoi(os.Getenv("QLY_BENCH_ROUNDS")); err == nil && r > 0 {
		return r
	}
	return n
}

// loadAverage is the machine's load over the last minute, as /proc says.
func loadAverage() string {
	b, _ := os.ReadFile("/proc/loadavg")
	return strings.Fields(string(b) + " ?")[0]
}

// longFramesScript keeps the page's long animation frames (Chromium's
// long-animation-frame entries: over 50 ms) as lines of their start and
// length, the scripts run in them with what invoked them and their forced
// layout, and when rendering began.
const longFramesScript = `window.__longFrames = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const scripts = e.scripts.map((x) => x.invoker.slice(0, 40) + '@' + x.sourceCharPosition + ' ' + Math.round(x.duration) + ' ms (layout ' + Math.round(x.forcedStyleAndLayoutDuration) + ')')
    window.__longFrames.push('  ' + Math.round(e.startTime) + '+' + Math.round(e.duration) + ' ms: ' + (scripts.join(', ') || 'no script') + '; rendering from ' + Math.round(e.renderStart))
  }
}).observe({ type: 'long-animation-frame', buffered: true })`
