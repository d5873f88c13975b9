// Package e2e runs the whole product on loopback: a real relay, simulated
// cameras publishing over WHIP, the console backend pulling over WHEP, and the
// view in headless Chromium or in the real Wails window under Xvfb.
package e2e

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/console"
	"github.com/qianliyan/qianliyan/internal/sitesim"
	"github.com/qianliyan/qianliyan/relay"
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
	log := testLogger(t)
	r, err := relay.Start(ctx, relay.Options{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Demo: true, Log: log})
	if err != nil {
		t.Fatalf("starting relay: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	creds := r.Demo()
	sim, err := sitesim.Start(ctx, sitesim.Options{
		RelayURL: r.URL(), Token: creds.PublishToken,
		Sites: sites, Cameras: cameras, FPS: 15, GOP: time.Second,
		Width: 320, Height: 180, Log: log,
	})
	if err != nil {
		t.Fatalf("starting sitesim: %v", err)
	}
	t.Cleanup(func() { sim.Close() })
	return &stack{relay: r, sim: sim, creds: creds}
}

func decodeJSON(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }
