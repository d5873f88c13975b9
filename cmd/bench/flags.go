package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// mediaFlags describe the camera every publisher imitates.
type mediaFlags struct {
	width, height int
	fps           int
	kbps          int
	gop           time.Duration // keyframe interval
}

// gopFrames is the keyframe interval in frames.
func (m mediaFlags) gopFrames() int {
	return max(1, int(m.gop.Seconds()*float64(m.fps)+0.5))
}

func (m mediaFlags) String() string {
	return fmt.Sprintf("%dx%d %d fps, keyframe every %v, %d kbit/s", m.width, m.height, m.fps, m.gop, m.kbps)
}

// common are the flags of every subcommand.
type common struct {
	relayBin string
	relayLog string
	repeat   int
	json     bool
	media    mediaFlags
}

type firstFrameConfig struct {
	common
	joins       int
	noCache     bool
	joinTimeout time.Duration
}

type fanoutConfig struct {
	common
	cameras, viewers int // viewers of each camera
	duration, warmup time.Duration
	joinConcurrency  int
	joinWithin       time.Duration // the whole join phase
	perfFile         string        // perf record of the relay during the window
	cpuProfile       string        // the bench's own CPU profile during the window
}

// usageError is a bad command line: exit status 2. The flag package has
// printed its own complaints (printed), with the usage.
type usageError struct {
	msg     string
	printed bool
}

func (e usageError) Error() string { return e.msg }

func badf(format string, args ...any) error { return usageError{msg: fmt.Sprintf(format, args...)} }

// parse parses args, turning the flag package's errors into usage errors.
func parse(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return err
	}
	return usageError{msg: err.Error(), printed: true}
}

func newFlagSet(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: bench %s [flags]\n\n%s\n\nFlags:\n", name, usage)
		fs.PrintDefaults()
	}
	return fs
}

type commonVars struct {
	size string
	c    *common
}

func addCommon(fs *flag.FlagSet, c *common, defaultGOP time.Duration) *commonVars {
	v := &commonVars{c: c}
	fs.StringVar(&c.relayBin, "relay-bin", "bin/relay", "relay binary to run (go build -o bin/relay ./cmd/relay)")
	fs.StringVar(&c.relayLog, "relay-log", "", "keep the relay's log (warnings and errors) in this file; each run overwrites it")
	fs.IntVar(&c.repeat, "repeat", 1, "runs, each against a fresh relay; the summary gives their median and range (1 to 20)")
	fs.BoolVar(&c.json, "json", false, "print every run as JSON instead of text")
	fs.StringVar(&v.size, "size", "320x180", "picture size, WxH (sub stream 320x180, main 640x360)")
	fs.IntVar(&c.media.fps, "fps", 15, "frames per second (1 to 60)")
	fs.IntVar(&c.media.kbps, "kbps", 300, "camera bitrate in kbit/s (50 to 20000; sub ≈300, main ≈2000)")
	fs.DurationVar(&c.media.gop, "gop", defaultGOP, "keyframe interval (a frame to 60s)")
	return v
}

// check validates the common flags once parsed.
func (v *commonVars) check(fs *flag.FlagSet) error {
	c := v.c
	if fs.NArg() > 0 {
		return badf("unexpected argument %q (flags start with --)", fs.Arg(0))
	}
	w, h, ok := strings.Cut(v.size, "x")
	var errW, errH error
	c.media.width, errW = strconv.Atoi(w)
	c.media.height, errH = strconv.Atoi(h)
	if !ok || errW != nil || errH != nil || c.media.width < 16 || c.media.height < 16 ||
		c.media.width > 3840 || c.media.height > 2160 || c.media.width%2 != 0 || c.media.height%2 != 0 {
		return badf("--size %q: want WIDTHxHEIGHT, even numbers from 16x16 to 3840x2160, e.g. 640x360", v.size)
	}
	if c.media.fps < 1 || c.media.fps > 60 {
		return badf("--fps %d: want 1 to 60", c.media.fps)
	}
	if c.media.kbps < 50 || c.media.kbps > 20000 {
		return badf("--kbps %d: want 50 to 20000", c.media.kbps)
	}
	if c.media.gop < time.Second/time.Duration(c.media.fps) || c.media.gop > time.Minute {
		return badf("--gop %v: want one frame (%v at %d fps) to 60s", c.media.gop, time.Second/time.Duration(c.media.fps), c.media.fps)
	}
	if c.repeat < 1 || c.repeat > 20 {
		return badf("--repeat %d: want 1 to 20", c.repeat)
	}
	if c.relayBin == "" {
		return badf("--relay-bin must name the relay binary (go build -o bin/relay ./cmd/relay)")
	}
	st, err := os.Stat(c.relayBin)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return badf("--relay-bin %s: no such file (build it: go build -o %s ./cmd/relay)", c.relayBin, c.relayBin)
	case err != nil:
		return badf("--relay-bin %s: %v", c.relayBin, err)
	case !st.Mode().IsRegular() || st.Mode().Perm()&0o111 == 0:
		return badf("--relay-bin %s: not an executable file", c.relayBin)
	}
	return nil
}

const firstFrameUsage = `Measures how long a new viewer waits for its first picture: WHEP POST sent
to the first keyframe complete at the viewer, over --joins joins one after
the other, against one camera publishing at its own pace. With --no-cache
the relay keeps no GOP (max_gop 1) and the viewer waits for the camera's
next keyframe; the camera ignores keyframe requests, as an RTSP camera or
an ffmpeg-fed gateway does.`

func parseFirstFrame(args []string, stderr io.Writer) (firstFrameConfig, error) {
	var c firstFrameConfig
	fs := newFlagSet("firstframe", firstFrameUsage, stderr)
	v := addCommon(fs, &c.common, 4*time.Second)
	fs.IntVar(&c.joins, "joins", 100, "viewers joining one after another (1 to 10000)")
	fs.BoolVar(&c.noCache, "no-cache", false, "run the relay without its GOP cache, for comparison")
	fs.DurationVar(&c.joinTimeout, "join-timeout", 10*time.Second, "longest wait for one viewer's first keyframe (1s to 2m)")
	if err := parse(fs, args); err != nil {
		return c, err
	}
	if err := v.check(fs); err != nil {
		return c, err
	}
	if c.joins < 1 || c.joins > 10000 {
		return c, badf("--joins %d: want 1 to 10000", c.joins)
	}
	if c.joinTimeout < time.Second || c.joinTimeout > 2*time.Minute {
		return c, badf("--join-timeout %v: want 1s to 2m", c.joinTimeout)
	}
	if c.noCache && c.joinTimeout <= c.media.gop {
		return c, badf("--join-timeout %v: without the cache a viewer may wait a whole GOP (%v); give it longer", c.joinTimeout, c.media.gop)
	}
	return c, nil
}

const fanoutUsage = `Measures fan-out: --cameras cameras publishing by WHIP, each watched by
--viewers WHEP viewers, all in this process; the relay runs as its own
process. Over --duration, after everyone has joined and --warmup has
passed, it reports the relay's CPU (% of one core, from /proc/PID/stat),
its memory (RSS), the units and packets the viewers lost, and the time
from a unit written by its publisher to it complete at a viewer.`

func parseFanout(args []string, stderr io.Writer) (fanoutConfig, error) {
	var c fanoutConfig
	fs := newFlagSet("fanout", fanoutUsage, stderr)
	v := addCommon(fs, &c.common, 2*time.Second)
	fs.IntVar(&c.cameras, "cameras", 1, "cameras publishing (1 to 1000)")
	fs.IntVar(&c.viewers, "viewers", 10, "viewers of each camera (1 to 10000; cameras × viewers at most 10000)")
	fs.DurationVar(&c.duration, "duration", 20*time.Second, "measured time (1s to 1h)")
	fs.DurationVar(&c.warmup, "warmup", 3*time.Second, "time between the last join and the measurement (0 to 5m)")
	fs.IntVar(&c.joinConcurrency, "join-concurrency", 8, "viewers joining at once (1 to 1000)")
	fs.DurationVar(&c.joinWithin, "join-within", 2*time.Minute, "time for all viewers to join; those that have not are counted and the rest measured (5s to 30m)")
	fs.StringVar(&c.perfFile, "perf", "", "record the relay with perf during the measurement into this file (perf report -i FILE)")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write the bench's own CPU profile during the measurement to this file (go tool pprof)")
	if err := parse(fs, args); err != nil {
		return c, err
	}
	if err := v.check(fs); err != nil {
		return c, err
	}
	switch {
	case c.cameras < 1 || c.cameras > 1000:
		return c, badf("--cameras %d: want 1 to 1000", c.cameras)
	case c.viewers < 1 || c.viewers > 10000:
		return c, badf("--viewers %d: want 1 to 10000", c.viewers)
	case c.cameras*c.viewers > 10000:
		return c, badf("--cameras %d × --viewers %d = %d viewer streams: at most 10000", c.cameras, c.viewers, c.cameras*c.viewers)
	case c.duration < time.Second || c.duration > time.Hour:
		return c, badf("--duration %v: want 1s to 1h", c.duration)
	case c.warmup < 0 || c.warmup > 5*time.Minute:
		return c, badf("--warmup %v: want 0 to 5m", c.warmup)
	case c.joinConcurrency < 1 || c.joinConcurrency > 1000:
		return c, badf("--join-concurrency %d: want 1 to 1000", c.joinConcurrency)
	case c.joinWithin < 5*time.Second || c.joinWithin > 30*time.Minute:
		return c, badf("--join-within %v: want 5s to 30m", c.joinWithin)
	}
	if c.perfFile != "" {
		if _, err := execLookPath("perf"); err != nil {
			return c, badf("--perf: perf is not installed")
		}
	}
	return c, nil
}
