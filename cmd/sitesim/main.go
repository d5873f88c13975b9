// Command sitesim simulates site cameras, each with a main and a sub stream,
// so the demo runs without real ones: it publishes them to a Qianliyan relay
// by WHIP, serves them over RTSP like IP cameras, or both.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/qianliyan/qianliyan/internal/logging"
	"github.com/qianliyan/qianliyan/internal/sitesim"
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
	relay := fs.String("relay", "http://127.0.0.1:8080", `relay base URL to publish to by WHIP; "" publishes nothing`)
	token := fs.String("token", getenv("QLY_PUBLISH_TOKEN"), "WHIP publish token (default: $QLY_PUBLISH_TOKEN)")
	sites := fs.Int("sites", 3, "number of simulated sites (1-99)")
	cameras := fs.Int("cameras", 4, "cameras per site (1-12)")
	fps := fs.Int("fps", 15, "frames per second (1-60)")
	gop := fs.Float64("gop", 2, "keyframe interval in seconds")
	size := fs.String("size", "640x360", "main stream size WIDTHxHEIGHT")
	subSize := fs.String("sub-size", "", "sub stream size WIDTHxHEIGHT, or 0 or none for no sub stream\n(default: the main picture fitted into 320x180, so 320x180 for 640x360)")
	rtsp := fs.String("rtsp", "", "serve every stream over RTSP on HOST:PORT, e.g. 127.0.0.1:8554,\nat rtsp://HOST:PORT/{site}/{camera}/{main|sub}")
	rtspUDP := fs.String("rtsp-udp", "", "also offer RTSP over UDP: RTP on HOST:PORT (even port), RTCP on the next port")
	rtspUser := fs.String("rtsp-user", "", "user RTSP readers must give")
	rtspPassword := fs.String("rtsp-password", getenv("QLY_RTSP_PASSWORD"), "password RTSP readers must give (default: $QLY_RTSP_PASSWORD)")
	rtspDigest := fs.Bool("rtsp-digest-only", false, "refuse RTSP Basic authentication, as many NVRs do")
	level := fs.String("log-level", "info", "log level: debug, info, warn, error")
	if err := fs.Parse(args); err != nil {
		return sitesim.Options{}, "", err
	}
	if fs.NArg() > 0 {
		return sitesim.Options{}, "", fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	opts := sitesim.Options{RelayURL: *relay, Sites: *sites, Cameras: *cameras, FPS: *fps,
		RTSPAddr: *rtsp, RTSPUDPAddr: *rtspUDP, RTSPUser: *rtspUser, RTSPDigestOnly: *rtspDigest}
	if *relay != "" {
		opts.Token = *token
	}
	if *rtspUser != "" {
		opts.RTSPPassword = *rtspPassword
	} else if given(fs, "rtsp-password") {
		return opts, "", errors.New("--rtsp-password without --rtsp-user")
	}
	var err error
	if opts.Width, opts.Height, err = parseSize("--size", *size); err != nil {
		return opts, "", err
	}
	switch strings.ToLower(*subSize) {
	case "":
	case "0", "none":
		opts.NoSub = true
	default:
		if opts.SubWidth, opts.SubHeight, err = parseSize("--sub-size", *subSize); err != nil {
			return opts, "", err
		}
		if opts.SubWidth > opts.Width || opts.SubHeight > opts.Height {
			return opts, "", fmt.Errorf("--sub-size %s is larger than --size %s", *subSize, *size)
		}
	}
	switch {
	case *relay == "" && *rtsp == "":
		return opts, "", errors.New(`nothing to do: --relay "" publishes nothing and no --rtsp address is given`)
	case *relay != "" && !strings.HasPrefix(*relay, "http://") && !strings.HasPrefix(*relay, "https://"):
		return opts, "", fmt.Errorf("--relay %q: want http://HOST:PORT or https://…", *relay)
	case *relay != "" && *token == "":
		return opts, "", errors.New(`no publish token: pass --token or set QLY_PUBLISH_TOKEN (or --relay "" to serve RTSP only)`)
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
	if err := checkRTSPFlags(opts); err != nil {
		return opts, "", err
	}
	return opts, *level, nil
}

// given reports whether the flag was on the command line.
func given(fs *flag.FlagSet, name string) bool {
	found := false
	fs.Visit(func(f *flag.Flag) { found = found || f.Name == name })
	return found
}

// checkRTSPFlags checks the --rtsp* flags, naming them.
func checkRTSPFlags(o sitesim.Options) error {
	if o.RTSPAddr == "" {
		if o.RTSPUDPAddr != "" || o.RTSPUser != "" || o.RTSPDigestOnly {
			return errors.New("--rtsp-udp, --rtsp-user and --rtsp-digest-only need --rtsp HOST:PORT")
		}
		return nil
	}
	if _, err := parsePort("--rtsp", o.RTSPAddr); err != nil {
		return err
	}
	if o.RTSPUDPAddr != "" {
		port, err := parsePort("--rtsp-udp", o.RTSPUDPAddr)
		if err != nil {
			return err
		}
		if port == 0 || port%2 != 0 || port == 65535 {
			return fmt.Errorf("--rtsp-udp %q: want an even port below 65535 for RTP; RTCP takes the next one", o.RTSPUDPAddr)
		}
	}
	switch {
	case o.RTSPUser != "" && o.RTSPPassword == "":
		return errors.New("--rtsp-user without a password: pass --rtsp-password or set QLY_RTSP_PASSWORD")
	case o.RTSPDigestOnly && o.RTSPUser == "":
		return errors.New("--rtsp-digest-only needs --rtsp-user and a password")
	}
	return nil
}

// parsePort reads HOST:PORT and returns the port.
func parsePort(flagName, addr string) (int, error) {
	_, p, err := net.SplitHostPort(addr)
	if err == nil {
		port, perr := strconv.Atoi(p)
		if perr == nil && port >= 0 && port <= 65535 {
			return port, nil
		}
	}
	return 0, fmt.Errorf("%s %q: want HOST:PORT, e.g. 127.0.0.1:8554", flagName, addr)
}

// parseSize reads WIDTHxHEIGHT; x264 with 4:2:0 wants both even.
func parseSize(flagName, s string) (w, h int, err error) {
	bad := func() (int, int, error) {
		return 0, 0, fmt.Errorf("%s %q: want WIDTHxHEIGHT with even numbers from 16x16 to 3840x2160, e.g. 640x360", flagName, s)
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
