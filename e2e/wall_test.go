package e2e

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"gopkg.in/yaml.v3"

	"github.com/qianliyan/qianliyan/console"
	"github.com/qianliyan/qianliyan/console/wall"
	"github.com/qianliyan/qianliyan/internal/demosite"
	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/internal/sitesim"
	"github.com/qianliyan/qianliyan/relay"
	"github.com/qianliyan/qianliyan/relay/auth"
)

// city is a relay configured as a city runs one, with sixteen cameras on
// four sites that a simulator publishes.
type city struct {
	relay                *relay.Relay
	sim                  *sitesim.Sim
	addr, dir, config    string
	user, password, site string
}

// startCity writes the relay's configuration (users and sites with their
// publish token, loopback-only ICE) and starts the relay and the simulator,
// whose small pictures tune may change (the view's benchmarks take the
// demo's).
func startCity(t testing.TB, ctx context.Context, sites, cameras int, tune ...func(*sitesim.Options)) *city {
	t.Helper()
	dir := t.TempDir()
	const user, password, token = "duty", "correct horse battery", "e2e-publish-token"
	hash, err := auth.HashPasswordCost(password, 4)
	if err != nil {
		t.Fatal(err)
	}
	catalogue, err := demosite.Sites(sites, cameras)
	if err != nil {
		t.Fatal(err)
	}
	var siteList []map[string]any
	for _, s := range catalogue {
		var cams []map[string]any
		for _, c := range s.Cameras {
			cams = append(cams, map[string]any{"id": c.ID, "zone": c.Zone, "name": c.Name})
		}
		siteList = append(siteList, map[string]any{
			"id": s.ID, "district": s.District, "name": s.Name, "time_zone": s.TimeZone,
			"publish_token_sha256": []string{hex.EncodeToString(auth.HashPublishToken(token))},
			"cameras":              cams,
		})
	}
	cfg, err := yaml.Marshal(map[string]any{
		"webrtc": map[string]any{"loopback_only": true},
		"users":  []map[string]any{{"name": user, "role": "duty", "password_hash": hash}},
		"sites":  siteList,
	})
	if err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(dir, "relay.yaml")
	if err := os.WriteFile(config, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	c := &city{dir: filepath.Join(dir, "data"), config: config, user: user, password: password}
	c.relay, err = relay.Start(ctx, relay.Options{Listen: "127.0.0.1:0", DataDir: c.dir, ConfigFile: config, Log: testLogger(t)})
	if err != nil {
		t.Fatalf("starting relay: %v", err)
	}
	c.addr = strings.TrimPrefix(c.relay.URL(), "http://")
	t.Cleanup(func() { c.relay.Close() })
	// Small pictures at a modest rate: sixteen encoders share two cores
	// with the relay, the console and the browser.
	simOpts := sitesim.Options{
		RelayURL: c.relay.URL(), Token: token, Sites: sites, Cameras: cameras,
		FPS: 10, GOP: time.Second, Width: 320, Height: 180, SubWidth: 160, SubHeight: 90,
		Log: testLogger(t),
	}
	for _, f := range tune {
		f(&simOpts)
	}
	c.sim, err = sitesim.Start(ctx, simOpts)
	if err != nil {
		t.Fatalf("starting sitesim: %v", err)
	}
	t.Cleanup(func() { c.sim.Close() })
	return c
}

// openConsole serves a console signed in to the city as its duty officer
// and logging to the test (o adds to that; the data directory is the
// test's own unless o names one), and opens it in a new Chromium once its
// wall is up.
func (c *city) openConsole(t *testing.T, ctx context.Context, o console.Options) (bctx context.Context, pageURL string) {
	t.Helper()
	o.RelayURL, o.User, o.Password, o.Log = c.relay.URL(), c.user, c.password, testLogger(t)
	if o.DataDir == "" {
		o.DataDir = t.TempDir()
	}
	_, pageURL = serveConsole(t, ctx, o)
	bctx = newBrowser(t, ctx)
	if err := chromedp.Do(bctx, chromedp.Navigate(pageURL), chromedp.WaitVisible(chromedp.CSS(`[data-grid]`))); err != nil {
		t.Fatalf("opening %s: %v", pageURL, err)
	}
	return bctx, pageURL
}

// restartRelay stops the relay and starts it again on its address with its
// data, as an operator restarting the service does.
func (c *city) restartRelay(t *testing.T, ctx context.Context) {
	t.Helper()
	if err := c.relay.Close(); err != nil {
		t.Fatalf("stopping relay: %v", err)
	}
	r, err := relay.Start(ctx, relay.Options{Listen: c.addr, DataDir: c.dir, ConfigFile: c.config, Log: testLogger(t)})
	if err != nil {
		t.Fatalf("restarting relay: %v", err)
	}
	c.relay = r
}

// tileSample is one tile as the page shows it.
type tileSample struct {
	Camera   string  `json:"camera"`
	State    string  `json:"state"`
	Stream   string  `json:"stream"`
	Width    int     `json:"w"`
	Height   int     `json:"h"`
	Variance float64 `json:"variance"`
	Hash     int64   `json:"hash"`
	// From window.__qly.tiles: the decoder's counters.
	Decoded      int    `json:"framesDecoded"`
	DecodedW     int    `json:"decodedWidth"`
	DecodedH     int    `json:"decodedHeight"`
	StatsStream  string `json:"statsStream"`
	StatsCamera  string `json:"statsCamera"`
	StatsPresent bool   `json:"stats"`
}

// sampleTilesJS samples every tile's canvas on a small copy (luma
// variance: a blank canvas has none; a hash of the pixels: a frozen
// picture keeps it) and reads its counters.
const sampleTilesJS = `(() => {
  const out = {};
  const stats = (window.__qly && window.__qly.tiles) || {};
  for (const el of document.querySelectorAll('[data-tile-id]')) {
    const id = el.dataset.tileId, st = stats[id];
    const s = {camera: el.dataset.camera || '', state: el.dataset.state || '', stream: el.dataset.stream || '',
      w: 0, h: 0, variance: 0, hash: 0, framesDecoded: 0, decodedWidth: 0, decodedHeight: 0,
      statsStream: '', statsCamera: '', stats: !!st};
    if (st) {
      s.framesDecoded = st.framesDecoded || 0; s.decodedWidth = st.width || 0; s.decodedHeight = st.height || 0;
      s.statsStream = st.stream || ''; s.statsCamera = st.camera || '';
    }
    const c = el.querySelector('canvas');
    if (c && c.width && c.height) {
      s.w = c.width; s.h = c.height;
      const o = document.createElement('canvas'); o.width = 96; o.height = 54;
      const g = o.getContext('2d'); g.drawImage(c, 0, 0, o.width, o.height);
      const d = g.getImageData(0, 0, o.width, o.height).data;
      let sum = 0, sum2 = 0, hash = 0;
      for (let i = 0; i < d.length; i += 4) {
        const v = (d[i] + d[i+1] + d[i+2]) / 3; sum += v; sum2 += v * v;
        hash = (Math.imul(hash, 31) + d[i] + d[i+1] * 7 + d[i+2] * 13) | 0;
      }
      const n = d.length / 4, mean = sum / n;
      s.variance = sum2 / n - mean * mean; s.hash = hash;
    }
    out[id] = s;
  }
  return out;
})()`

func sampleTiles(t *testing.T, ctx context.Context) map[string]tileSample {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]tileSample](sampleTilesJS))
	if err != nil {
		t.Fatalf("sampling tiles: %v", err)
	}
	return s
}

// eval runs a JavaScript expression and decodes its value.
func eval[T any](t testing.TB, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluating %s: %v", js, err)
	}
	return v
}

// waitFor polls cond until it holds or within passes, and says what it last saw.
// A wait shorter than eventually.Ceiling is raised to it: within says how
// long the thing takes on an idle machine, and the ceiling only catches a
// hang, so a busy machine (make test beside other work) does not fail it.
func waitFor(t testing.TB, what string, within time.Duration, cond func() (bool, string)) time.Duration {
	t.Helper()
	within = max(within, eventually.Ceiling)
	start := time.Now()
	for {
		ok, seen := cond()
		if ok {
			return time.Since(start)
		}
		if time.Since(start) > within {
			t.Fatalf("%s: not within %v; last saw %s", what, within, seen)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitPlaying waits until each of the tiles has shown a picture that is not
// blank and differs from the one it showed at the start.
func waitPlaying(t *testing.T, ctx context.Context, what string, within time.Duration, tiles []string) {
	t.Helper()
	before := sampleTiles(t, ctx)
	moved := map[string]bool{}
	waitFor(t, what, within, func() (bool, string) {
		now := sampleTiles(t, ctx)
		var stuck []string
		for _, id := range tiles {
			s := now[id]
			if s.Variance > 50 && s.Hash != before[id].Hash {
				moved[id] = true
			}
			if !moved[id] {
				stuck = append(stuck, fmt.Sprintf("%s(%s %s %dx%d var %.0f decoded %d)", id, s.Camera, s.State, s.Width, s.Height, s.Variance, s.Decoded))
			}
		}
		return len(stuck) == 0, "not moving: " + strings.Join(stuck, " ")
	})
}

// tourState is window.__qly.tour, in part.
type tourState struct {
	Tour     string `json:"tour"`
	Index    int    `json:"index"`
	Status   string `json:"status"`
	PausedBy string `json:"pausedBy"`
	Advances int    `json:"advances"`
	DwellMs  int    `json:"dwellMs"`
}

const tourJS = `(() => { const s = window.__qly && window.__qly.tour; return s ? JSON.parse(JSON.stringify(s)) : {}; })()`

// wallState is window.__qly.wall, in part.
type wallState struct {
	Layout struct {
		Grid  int       `json:"grid"`
		Tiles []*string `json:"tiles"`
	} `json:"layout"`
	Selected string  `json:"selected"`
	Focused  *string `json:"focused"`
	Source   string  `json:"source"`
}

const wallJS = `(() => { const s = window.__qly && window.__qly.wall; return s ? JSON.parse(JSON.stringify(s)) : {}; })()`

// TestWall drives the duty officer's video wall in headless Chromium over
// the real relay, simulator and console backend: sign-in through the form,
// a 16-tile wall of live video, the focus view on the main stream, a tour,
// a camera dying and returning, and a relay restart, all without a reload.
func TestWall(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	c := startCity(t, ctx, 4, 4)

	// The console starts signed out: the officer signs in from the view.
	backend, pageURL := serveConsole(t, ctx, console.Options{DataDir: t.TempDir(), Log: testLogger(t)})
	bctx := newBrowser(t, ctx)
	if err := chromedp.Do(bctx, chromedp.Navigate(pageURL)); err != nil {
		t.Fatalf("opening %s: %v", pageURL, err)
	}

	step(t, "sign in through the form", func(t *testing.T) {
		err := chromedp.Do(bctx,
			chromedp.WaitVisible(chromedp.CSS(`form[data-form="sign-in"]`)),
			chromedp.SendKeys(chromedp.CSS(`input[name="relay"]`), c.relay.URL()),
			chromedp.SendKeys(chromedp.CSS(`input[name="user"]`), c.user),
			chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "wrong password"),
			chromedp.Click(chromedp.CSS(`form[data-form="sign-in"] button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-sign-in-message]`)),
		)
		if err != nil {
			t.Fatalf("signing in with a wrong password: %v", err)
		}
		if s := backend.Session(ctx); s.SignedIn {
			t.Fatal("signed in with a wrong password")
		}
		err = chromedp.Do(bctx,
			chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), c.password),
			chromedp.Click(chromedp.CSS(`form[data-form="sign-in"] button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-grid]`)),
		)
		if err != nil {
			t.Fatalf("signing in: %v", err)
		}
		if s := backend.Session(ctx); !s.SignedIn || s.User.Name != c.user {
			t.Fatalf("backend session %+v", s)
		}
	})

	var tiles []string // tile-1 … tile-16
	step(t, "sixteen tiles play", func(t *testing.T) {
		// A new console's first wall: every camera, on the smallest grid
		// that holds them.
		waitFor(t, "a 16-tile wall of cameras", 20*time.Second, func() (bool, string) {
			w := eval[wallState](t, bctx, wallJS)
			n := 0
			for _, cam := range w.Layout.Tiles {
				if cam != nil {
					n++
				}
			}
			return w.Layout.Grid == 16 && n == 16, fmt.Sprintf("%+v", w.Layout)
		})
		for i := 1; i <= 16; i++ {
			tiles = append(tiles, fmt.Sprintf("tile-%d", i))
		}
		waitPlaying(t, bctx, "16 canvases with moving pictures", 60*time.Second, tiles)
		s := sampleTiles(t, bctx)
		cams := map[string]bool{}
		for _, id := range tiles {
			cams[s[id].Camera] = true
			if s[id].State != "live" || s[id].Stream != "sub" || s[id].DecodedW != 160 {
				t.Errorf("%s: %+v, want live on the 160x90 sub stream", id, s[id])
			}
		}
		if len(cams) != 16 {
			t.Fatalf("%d distinct cameras on the wall, want 16", len(cams))
		}
	})

	step(t, "the focus view plays the main stream", func(t *testing.T) {
		if err := chromedp.Do(bctx, chromedp.DoubleClick(chromedp.CSS(`[data-tile-id="tile-6"]`))); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "tile-6 focused on its main stream, decoded larger", 20*time.Second, func() (bool, string) {
			w := eval[wallState](t, bctx, wallJS)
			s := sampleTiles(t, bctx)["tile-6"]
			return w.Focused != nil && *w.Focused == "tile-6" && s.StatsStream == "main" && s.DecodedW == 320 && s.DecodedH == 180,
				fmt.Sprintf("focused %v, tile %+v", w.Focused, s)
		})
		waitPlaying(t, bctx, "the focused picture moves", 10*time.Second, []string{"tile-6"})
		if err := chromedp.Do(bctx, chromedp.KeyEvent(kb.Escape)); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "back to the wall on the sub stream", 20*time.Second, func() (bool, string) {
			w := eval[wallState](t, bctx, wallJS)
			s := sampleTiles(t, bctx)["tile-6"]
			return w.Focused == nil && s.StatsStream == "sub" && s.DecodedW == 160, fmt.Sprintf("focused %v, tile %+v", w.Focused, s)
		})
	})

	step(t, "a tour advances on its dwell time and pauses on interaction", func(t *testing.T) {
		// Saved through the backend, as the tour editor does.
		tour := wall.Tour{Name: "e2e-rounds", Steps: []wall.Step{
			{Camera: "site-01/doff1", DwellS: 3}, {Camera: "site-02/doff2", DwellS: 3}, {Camera: "site-03/waste", DwellS: 3},
		}}
		if _, err := backend.PutTour(ctx, tour); err != nil {
			t.Fatal(err)
		}
		err := chromedp.Do(bctx,
			chromedp.Focus(chromedp.CSS(`[data-scope="wall"]`)),
			chromedp.KeyEvent("t"),
			chromedp.WaitVisible(chromedp.CSS(`[data-overlay="tours"] [data-item="e2e-rounds"]`)),
			chromedp.Click(chromedp.CSS(`[data-overlay="tours"] [data-item="e2e-rounds"]`)),
		)
		if err != nil {
			t.Fatalf("starting the tour: %v", err)
		}
		var first tourState
		waitFor(t, "the tour playing", 10*time.Second, func() (bool, string) {
			first = eval[tourState](t, bctx, tourJS)
			return first.Tour == "e2e-rounds" && first.Status == "playing", fmt.Sprintf("%+v", first)
		})
		if first.DwellMs != 3000 {
			t.Fatalf("step dwell %d ms, want 3000", first.DwellMs)
		}
		// A camera step shows that camera alone, full size.
		waitFor(t, "the step's camera alone on the main stream", 15*time.Second, func() (bool, string) {
			w := eval[wallState](t, bctx, wallJS)
			st := eval[tourState](t, bctx, tourJS)
			want := tour.Steps[st.Index].Camera
			s := sampleTiles(t, bctx)["tile-1"]
			return w.Source == "tour" && w.Layout.Grid == 1 && s.Camera == want && s.StatsStream == "main",
				fmt.Sprintf("wall %+v, step %d, tile %+v", w, st.Index, s)
		})
		var advanced tourState
		waitFor(t, "two steps on", 15*time.Second, func() (bool, string) {
			advanced = eval[tourState](t, bctx, tourJS)
			return advanced.Advances >= first.Advances+2, fmt.Sprintf("%+v", advanced)
		})
		// The officer clicks the tile: the tour holds still.
		if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS(`[data-tile-id="tile-1"]`))); err != nil {
			t.Fatal(err)
		}
		var paused tourState
		waitFor(t, "paused by the click", 5*time.Second, func() (bool, string) {
			paused = eval[tourState](t, bctx, tourJS)
			return paused.Status == "paused" && paused.PausedBy == "interaction", fmt.Sprintf("%+v", paused)
		})
		time.Sleep(5 * time.Second) // longer than a step
		if now := eval[tourState](t, bctx, tourJS); now.Advances != paused.Advances || now.Index != paused.Index || now.Status != "paused" {
			t.Fatalf("the paused tour moved on: %+v, paused at %+v", now, paused)
		}
		if err := chromedp.Do(bctx, chromedp.Focus(chromedp.CSS(`[data-scope="wall"]`)), chromedp.KeyEvent("x")); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the officer's wall back", 10*time.Second, func() (bool, string) {
			w := eval[wallState](t, bctx, wallJS)
			st := eval[tourState](t, bctx, tourJS)
			return st.Status == "stopped" && w.Layout.Grid == 16 && w.Source != "tour", fmt.Sprintf("wall %+v tour %+v", w, st)
		})
		waitPlaying(t, bctx, "the 16 tiles again", 30*time.Second, tiles)
	})

	step(t, "a dead camera's tile says so within 3 s and recovers", func(t *testing.T) {
		s := sampleTiles(t, bctx)
		var victim string
		for _, id := range tiles {
			if s[id].Camera == "site-03/gate" {
				victim = id
			}
		}
		if victim == "" {
			t.Fatal("site-03/gate is not on the wall")
		}
		if err := c.sim.StopCamera("site-03", "gate"); err != nil {
			t.Fatal(err)
		}
		took := waitFor(t, "the tile stalled or offline", 3*time.Second, func() (bool, string) {
			st := sampleTiles(t, bctx)[victim].State
			return st == "stalled" || st == "offline", st
		})
		t.Logf("%s said so after %v", victim, took.Round(10*time.Millisecond))
		// The others play on.
		others := slices.DeleteFunc(slices.Clone(tiles), func(id string) bool { return id == victim })
		waitPlaying(t, bctx, "the other tiles", 10*time.Second, others)
		if err := c.sim.StartCamera("site-03", "gate"); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the tile live again", 30*time.Second, func() (bool, string) {
			st := sampleTiles(t, bctx)[victim]
			return st.State == "live", fmt.Sprintf("%+v", st)
		})
		waitPlaying(t, bctx, "its picture moving again", 10*time.Second, []string{victim})
	})

	step(t, "a relay restart is survived without a reload", func(t *testing.T) {
		if _, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`window.__e2eSamePage = true`)); err != nil {
			t.Fatal(err)
		}
		c.restartRelay(t, ctx)
		waitPlaying(t, bctx, "all 16 tiles playing after the restart", 90*time.Second, tiles)
		// The pictures come through the relay's new process. A viewer who
		// asked before the camera's sub stream was back is served its main
		// one (docs/PROTOCOLS.md), so either stream counts.
		waitFor(t, "every camera watched on the new relay", 20*time.Second, func() (bool, string) {
			cams, err := backend.Cameras(ctx)
			if err != nil {
				return false, err.Error()
			}
			var unwatched []string
			for _, cam := range cams {
				if cam.Streams["sub"].Viewers+cam.Streams["main"].Viewers < 1 {
					unwatched = append(unwatched, fmt.Sprintf("%s(%s)", cam.Path(), cam.State))
				}
			}
			return len(cams) == 16 && len(unwatched) == 0, fmt.Sprintf("%d cameras, unwatched %v", len(cams), unwatched)
		})
		if !eval[bool](t, bctx, `window.__e2eSamePage === true`) {
			t.Fatal("the page was reloaded")
		}
		if s := backend.Session(ctx); !s.SignedIn {
			t.Fatalf("signed out by the restart: %+v", s)
		}
		waitFor(t, "the live indicator back on the event stream", 20*time.Second, func() (bool, string) {
			live := eval[string](t, bctx, `(document.querySelector('[data-live]') || {dataset: {}}).dataset.live || ''`)
			return live == "open", live
		})
	})
}
