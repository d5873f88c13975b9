// Command qianliyan is the desktop console of 千里眼: a Wails window over the
// console backend (package console). With --serve it opens no window and
// serves the same view to a browser on a loopback address instead.
//
// With --relay, --user and $QLY_PASSWORD it signs in at start, waiting for
// a relay that is not up yet; without them the view shows the sign-in
// form, filled in with --relay or the relay last used.
//
// Build: go build -tags desktop,production,webkit2_40 -o bin/qianliyan .
//
// webkit2_40 (WebKitGTK 2.40 or later, as on Debian 12) lets Wails' asset
// server hand the page HTTP statuses, headers and request bodies; without it
// every answer that is not 200 OK, such as a refused sign-in's 401, reaches
// the view as a bare network failure.
package main

import (
	"context"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/console"
	"github.com/qianliyan/qianliyan/internal/logging"
)

// The frontend engineer's `npm run build` writes frontend/dist.
//
//go:embed all:frontend/dist
var dist embed.FS

func init() {
	// GTK must run on the process's main thread; main() then stays on it.
	runtime.LockOSThread()
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// usageError is a bad flag or environment variable: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// run is the whole command; it returns the exit status.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "qianliyan: %v\n", err)
		if errors.As(err, new(usageError)) {
			return 2
		}
		return 1
	}
	root, err := logging.New(cfg.logLevel, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "qianliyan: %v\n", err)
		return 2
	}
	log := root.With().Str("component", "qianliyan").Logger()
	if cfg.serve == "" && getenv("DISPLAY") == "" && getenv("WAYLAND_DISPLAY") == "" {
		fmt.Fprintln(stderr, "qianliyan: no display to open the window on (DISPLAY and WAYLAND_DISPLAY are unset).\n"+
			"Run it in a desktop session, or add --serve 127.0.0.1:8090 and open the printed address in a browser.")
		return 1
	}
	assets, err := fs.Sub(dist, "frontend/dist")
	if err == nil {
		_, err = fs.Stat(assets, "index.html")
	}
	if err != nil {
		fmt.Fprintln(stderr, "qianliyan: this binary was built without the frontend (frontend/dist/index.html): run `make build`")
		return 1
	}
	backend, err := console.New(console.Options{
		RelayURL: cfg.relay, User: cfg.user, Password: cfg.password,
		Camera: cfg.camera, DataDir: cfg.dataDir, Assets: assets, Log: root,
		ClipBefore: cfg.clipBefore, ClipAfter: cfg.clipAfter, Templates: cfg.templates,
	})
	if err != nil {
		fmt.Fprintf(stderr, "qianliyan: %v\n", err)
		return 2
	}
	if cfg.serve != "" {
		return serveBrowser(ctx, backend, cfg.serve, log, stdout, stderr)
	}
	if err := runWindow(backend, root, cfg.dataDir); err != nil {
		fmt.Fprintf(stderr, "qianliyan: %v\n", err)
		return 1
	}
	return 0
}

type config struct {
	relay, user, password, camera, dataDir, logLevel, serve string
	templates                                               string
	clipBefore, clipAfter                                   time.Duration
}

func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	var cfg config
	fl := flag.NewFlagSet("qianliyan", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.StringVar(&cfg.relay, "relay", getenv("QLY_RELAY"), "relay `URL`, e.g. http://127.0.0.1:8080 (default $QLY_RELAY)")
	fl.StringVar(&cfg.user, "user", getenv("QLY_USER"), "relay user `NAME` (default $QLY_USER); the password comes from $QLY_PASSWORD")
	fl.StringVar(&cfg.camera, "camera", "", "`SITE/CAMERA` shown first (default: the first camera of the list)")
	fl.StringVar(&cfg.dataDir, "data", defaultDataDir(getenv), "`DIR` for the console's local data")
	fl.StringVar(&cfg.logLevel, "log-level", "info", "log `LEVEL`: debug, info, warn or error")
	fl.StringVar(&cfg.serve, "serve", "", "open no window; serve the view to a browser on `127.0.0.1:PORT` and print its address")
	fl.DurationVar(&cfg.clipBefore, "clip-before", 20*time.Second, "a finding's clip starts this `LONG` before the observed frame (at the keyframe before)")
	fl.DurationVar(&cfg.clipAfter, "clip-after", 10*time.Second, "a finding's clip ends this `LONG` after the observed frame")
	fl.StringVar(&cfg.templates, "templates", "", "`DIR` of supervisors' checklist templates (*.yaml) beside the built-in ones (default DATA/templates)")
	fl.Usage = func() {
		fmt.Fprintln(stderr, "Usage: [QLY_PASSWORD=…] qianliyan [--relay URL [--user NAME]] [--camera SITE/CAMERA] [--data DIR] [--serve 127.0.0.1:PORT]")
		fmt.Fprintln(stderr, "With --relay, --user and QLY_PASSWORD it signs in at start; otherwise the window asks.")
		fl.PrintDefaults()
	}
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cfg, err
		}
		return cfg, usageError{err.Error()}
	}
	if fl.NArg() > 0 {
		return cfg, usagef("unexpected argument %q (the password goes in $QLY_PASSWORD, never on the command line)", fl.Arg(0))
	}
	// The password is only for a sign-in at start, which needs all three.
	if cfg.relay != "" && cfg.user != "" {
		cfg.password = getenv("QLY_PASSWORD")
	}
	if cfg.serve != "" {
		if err := console.CheckServeAddress(cfg.serve); err != nil {
			return cfg, usageError{err.Error()}
		}
	}
	if cfg.clipBefore <= 0 || cfg.clipAfter <= 0 {
		return cfg, usagef("--clip-before and --clip-after must be longer than zero, such as 20s and 10s")
	}
	if cfg.templates == "" {
		cfg.templates = filepath.Join(cfg.dataDir, "templates")
	}
	return cfg, nil
}

// defaultDataDir follows the XDG base directories.
func defaultDataDir(getenv func(string) string) string {
	if d := getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "qianliyan")
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".local", "share", "qianliyan")
	}
	return "qianliyan-data"
}

// serveBrowser runs the backend without a window until ctx is cancelled
// (SIGINT, SIGTERM). GTK is never initialised, so no display is needed.
func serveBrowser(ctx context.Context, backend *console.Backend, addr string, log zerolog.Logger, stdout, stderr io.Writer) int {
	defer backend.Close()
	if err := backend.Start(ctx); err != nil {
		fmt.Fprintf(stderr, "qianliyan: %v\n", err)
		return 1
	}
	pageURL, err := backend.Serve(ctx, addr)
	if err != nil {
		fmt.Fprintf(stderr, "qianliyan: %v\n", err)
		return 1
	}
	// The address carries the secret: it goes to stdout for the operator or
	// a script, never into the log.
	fmt.Fprintln(stdout, pageURL)
	<-ctx.Done()
	log.Info().Msg("stopping")
	return 0
}
