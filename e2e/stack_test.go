// Package e2e runs the whole product on loopback: a real relay, simulated
// cameras publishing over WHIP, the console backend pulling over WHEP, and the
// view in headless Chromium or in the real Wails window under Xvfb.
package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/console"
	"github.com/qianliyan/qianliyan/internal/sitesim"
	"github.com/qianliyan/qianliyan/relay"
	"github.com/qianliyan/qianliyan/relay/relaytest"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// repoRoot is the checkout this test file lives in.
func repoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(file))
}

// requireBuilt fails with the command to run when a build output is missing:
// `make test` builds them before running the tests.
func requireBuilt(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(repoRoot(t), rel)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s is missing: run `make build` first (make test does)", rel)
	}
	return p
}

// serveConsole starts a console backend on opts with the built view as its
// assets, serves it on loopback for the rest of the test, and returns it
// with the page's address (its launch token included).
func serveConsole(t testing.TB, ctx context.Context, opts console.Options) (*console.Backend, string) {
	t.Helper()
	if opts.Assets == nil {
		opts.Assets = os.DirFS(filepath.Dir(requireBuilt(t, "frontend/dist/index.html")))
	}
	backend, err := console.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := backend.Start(ctx); err != nil {
		t.Fatalf("starting console backend: %v", err)
	}
	t.Cleanup(func() { backend.Close() })
	pageURL, err := backend.Serve(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return backend, pageURL
}

func testLogger(t testing.TB) zerolog.Logger {
	return zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel).With().Timestamp().Logger()
}

// stack is a demo relay with simulated cameras publishing to it.
type stack struct {
	relay *relay.Relay
	sim   *sitesim.Sim
	creds relay.DemoCredentials
}

func startStack(t *testing.T, ctx context.Context, sites, cameras int) *stack {
	t.Helper()
	room := startDutyRoom(t, ctx, dutyRoomOptions{Sites: sites, Cameras: cameras})
	return &stack{relay: room.relay, sim: room.sim, creds: room.creds}
}

type dutyRoomOptions struct {
	// Users the duty room's relay knows besides the demo's duty officer: a
	// second duty officer, a site manager of Sites, a supervisor.
	Users   []relaytest.User
	Sites   int // published by the simulator, from site-01; 1 when 0
	Cameras int // of each of those sites
}

// dutyRoom is a demo relay (sites site-01…03, the demo's duty officer) with
// more users from its relay.yaml and a simulator publishing the first
// sites' first cameras: the shared record several consoles and site pages
// work on.
type dutyRoom struct {
	t         testing.TB
	ctx       context.Context
	dir       string
	log       zerolog.Logger
	relay     *relay.Relay
	sim       *sitesim.Sim
	creds     relay.DemoCredentials
	duty      *apiClient // the relay's API as the demo's duty officer
	passwords map[string]string
}

func startDutyRoom(t testing.TB, ctx context.Context, opts dutyRoomOptions) *dutyRoom {
	t.Helper()
	dir := t.TempDir()
	passwords := map[string]string{}
	config := "" // the demo's users alone
	if len(opts.Users) > 0 {
		for _, u := range opts.Users {
			passwords[u.Name] = u.Password
		}
		config = filepath.Join(dir, "relay.yaml")
		if err := os.WriteFile(config, []byte(relaytest.UsersConfig(t, opts.Users...)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	sites := max(opts.Sites, 1)
	log := testLogger(t)
	// A demo relay keeps its peers on loopback.
	r, err := relay.Start(ctx, relay.Options{Listen: "127.0.0.1:0", DataDir: filepath.Join(dir, "relay"), Demo: true, ConfigFile: config, Log: log})
	if err != nil {
		t.Fatalf("starting relay: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	creds := r.Demo()
	passwords[creds.User] = creds.Password
	sim, err := sitesim.Start(ctx, sitesim.Options{RelayURL: r.URL(), Token: creds.PublishToken, Sites: sites, Cameras: opts.Cameras,
		FPS: 15, GOP: time.Second, Width: 320, Height: 180, Log: log})
	if err != nil {
		t.Fatalf("starting sitesim: %v", err)
	}
	t.Cleanup(func() { sim.Close() })
	return &dutyRoom{t: t, ctx: ctx, dir: dir, log: log, relay: r, sim: sim, creds: creds, passwords: passwords,
		duty: relayLogin(t, r.URL(), creds.User, creds.Password)}
}

// startConsole starts a console process (bin/qianliyan --serve) signed in
// as user, one of the room's, with its own data.
func (d *dutyRoom) startConsole(t *testing.T, user string) *consoleProcess {
	t.Helper()
	password, ok := d.passwords[user]
	if !ok {
		t.Fatalf("%s is not a user of the duty room", user)
	}
	return startConsoleProcess(t, []string{"--serve", "127.0.0.1:0", "--relay", d.relay.URL(), "--user", user,
		"--data", filepath.Join(d.dir, "console-"+user),
		"--log-level", "warn", "--clip-before", "2s", "--clip-after", "1s"}, password)
}

// open opens a console process's view in a new Chromium, once its wall is up.
func (d *dutyRoom) open(p *consoleProcess) context.Context {
	d.t.Helper()
	bctx := newBrowser(d.t, d.ctx)
	if err := chromedp.Do(bctx, chromedp.Navigate(p.api.base+"/?token="+p.api.token), chromedp.WaitVisible(chromedp.CSS(`[data-grid]`))); err != nil {
		d.t.Fatalf("opening a console's view: %v; log:\n%s", err, p.log.String())
	}
	return bctx
}

// fileAtRelay files a major finding of site-01/doff1 at the relay as the
// room's duty officer (officer A), as A's console forwards a flag: seen ago,
// due in due (an overdue one when due is negative).
func (d *dutyRoom) fileAtRelay(t *testing.T, id, text string, ago, due time.Duration) {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Second)
	f := wire.Draft{ID: id, Site: "site-01", Camera: "doff1", Zone: "doffing_room_1", Deviation: "wrong_order",
		DeviationText: text, Severity: "major", Observer: d.creds.User, ObservedAt: now.Add(-ago), FlaggedAt: now.Add(-ago), Deadline: now.Add(due)}
	if status, b := d.duty.do("PUT", "/api/v1/findings/"+id, f, nil); status != 201 {
		t.Fatalf("filing %s at the relay: %d %s", id, status, b)
	}
}

// flagForwarded flags a deviation on camera's tile in a console process's
// view (bctx) with the keyboard, its first finding, and returns the
// finding's id once the console has forwarded it to the relay.
func flagForwarded(t *testing.T, bctx context.Context, p *consoleProcess, camera string) string {
	t.Helper()
	tile := liveTile(t, bctx, camera)
	drawnFor(t, bctx, tile, 2*time.Second)
	if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-tile-id=%q]`, tile))),
		chromedp.KeyEvent("f"), chromedp.WaitVisible(chromedp.CSS(`[data-overlay="flag"]`)),
		chromedp.KeyEvent(kb.Enter), chromedp.WaitNotPresent(chromedp.CSS(`[data-overlay="flag"]`))); err != nil {
		t.Fatalf("flagging: %v", err)
	}
	var id string
	waitFor(t, "the finding forwarded from the console", 30*time.Second, func() (bool, string) {
		var list struct{ Findings []consoleFinding }
		status, raw := p.api.do("GET", "/api/v1/findings", nil, &list)
		if status != 200 || len(list.Findings) != 1 {
			return false, string(raw)
		}
		f := list.Findings[0]
		id = f.ID
		return f.Forward != nil && f.Forward.State == "forwarded", f.String()
	})
	return id
}

func decodeJSON(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }
