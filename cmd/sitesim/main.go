// Command sitesim publishes simulated site cameras to a Qianliyan relay by
// WHIP, so the demo runs without real cameras.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/qianliyan/qianliyan/internal/logging"
	"github.com/qianliyan/qianliyan/sitesim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stderr))
}

// run returns the exit status: 2 for a bad command line, 1 for a failure.
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) int {
	opts, level, err := parseFlags(args, getenv, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "sitesim: %v\n", err)
		return 2
	}
	log, err := logging.New(level, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "sitesim: %v\n", err)
		return 2
	}
	opts.Log = log
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		fmt.Fprintln(stderr, "sitesim: ffmpeg not found on PATH: install ffmpeg (Debian: apt-get install ffmpeg)")
		return 1
	}
	sim, err := sitesim.Start(ctx, opts)
	if err != nil {
		fmt.Fprintf(stderr, "sitesim: %v\n", err)
		return 1
	}
	<-ctx.Done()
	log.Info().Str("component", "sitesim").Msg("signal received; stopping")
	if err := sim.Close(); err != nil {
		fmt.Fprintf(stderr, "sitesim: %v\n", err)
		return 1
	}
	return 0
}

func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (sitesim.Options, string, error) {
	fs := flag.NewFlagSet("sitesim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	relay := fs.String("relay", "http://127.0.0.1:8080", "relay base URL")
	token := fs.String("token", getenv("QLY_PUBLISH_TOKEN"), "WHIP publish token (default: $QLY_PUBLISH_TOKEN)")
	sites := fs.Int("sites", 3, "number of simulated sites (1-99)")
	cameras := fs.Int("cameras", 4, "cameras per site (1-12)")
	fps := fs.Int("fps", 15, "frames per second (1-60)")
	gop := fs.Float64("gop", 2, "keyframe interval in seconds")
	size := fs.String("size", "640x360", "picture size WIDTHxHEIGHT")
	level := fs.String("log-level", "info", "log level: debug, info, warn, error")
	if err := fs.Parse(args); err != nil {
		return sitesim.Options{}, "", err
	}
	if fs.NArg() > 0 {
		return sitesim.Options{}, "", fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	opts := sitesim.Options{RelayURL: *relay, Token: *token, Sites: *sites, Cameras: *cameras, FPS: *fps}
	var err error
	if opts.Width, opts.Height, err = parseSize(*size); err != nil {
		return opts, "", err
	}
	switch {
	case *token == "":
		return opts, "", errors.New("no publish token: pass --token or set QLY_PUBLISH_TOKEN")
	case *sites < 1 || *sites > 99:
		return opts, "", fmt.Errorf("--sites %d: want 1 to 99", *sites)
	case *cameras < 1 || *cameras > 12:
		return opts, "", fmt.Errorf("--cameras %d: want 1 to 12", *cameras)
	case *fps < 1 || *fps > 60:
		return opts, "", fmt.Errorf("--fps %d: want 1 to 60", *fps)
	case math.IsNaN(*gop) || *gop*float64(*fps) < 1 || *gop > 60:
		return opts, "", fmt.Errorf("--gop %g: want at least one frame (1/fps) and at most 60 seconds", *gop)
	}
	opts.GOP = time.Duration(*gop * float64(time.Second))
	if !strings.HasPrefix(*relay, "http://") && !strings.HasPrefix(*relay, "https://") {
		return opts, "", fmt.Errorf("--relay %q: want http://HOST:PORT or https://…", *relay)
	}
	return opts, *level, nil
}

// parseSize reads WIDTHxHEIGHT; x264 with 4:2:0 wants both even.
func parseSize(s string) (w, h int, err error) {
	bad := func() (int, int, error) {
		return 0, 0, fmt.Errorf("--size %q: want WIDTHxHEIGHT with even numbers from 16x16 to 3840x2160, e.g. 640x360", s)
	}
	ws, hs, ok := strings.Cut(strings.ToLower(s), "x")
	if !ok {
		return bad()
	}
	if w, err = strconv.Atoi(ws); err != nil {
		return bad()
	}
	if h, err = strconv.Atoi(hs); err != nil {
		return bad()
	}
	if w < 16 || h < 16 || w > 3840 || h > 2160 || w%2 != 0 || h%2 != 0 {
		return bad()
	}
	return w, h, nil
}
