package sitesim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/internal/avc"
)

// StreamConfig describes one generated camera picture.
type StreamConfig struct {
	Site, Camera  string // drawn on the picture; letters, digits, '-' and '_' only
	FPS           int
	GOP           time.Duration // keyframe interval
	Width, Height int
	FontFile      string // a TrueType font for the overlay; see FindFont
}

// safeID is what the overlay accepts without escaping for ffmpeg's filter
// graph, option and text-expansion levels; the demo ids all match it.
var safeID = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func (c StreamConfig) validate() error {
	switch {
	case !safeID.MatchString(c.Site):
		return fmt.Errorf("site id %q: want letters, digits, '-' or '_'", c.Site)
	case !safeID.MatchString(c.Camera):
		return fmt.Errorf("camera id %q: want letters, digits, '-' or '_'", c.Camera)
	case c.FPS < 1 || c.FPS > 60:
		return fmt.Errorf("frame rate %d: want 1 to 60", c.FPS)
	case c.gopFrames() < 1 || c.GOP > time.Minute:
		return fmt.Errorf("GOP %v at %d fps: want at least one frame and at most a minute", c.GOP, c.FPS)
	case c.Width < 16 || c.Height < 16 || c.Width > 3840 || c.Height > 2160:
		return fmt.Errorf("size %dx%d: want 16x16 to 3840x2160", c.Width, c.Height)
	case c.Width%2 != 0 || c.Height%2 != 0:
		return fmt.Errorf("size %dx%d: width and height must be even for 4:2:0", c.Width, c.Height)
	case c.FontFile == "":
		return errors.New("no font file for the overlay")
	}
	return nil
}

func (c StreamConfig) gopFrames() int {
	return int((c.GOP*time.Duration(c.FPS) + time.Second/2) / time.Second)
}

// frameDuration is the PTS step between units.
func (c StreamConfig) frameDuration() time.Duration { return time.Second / time.Duration(c.FPS) }

// defaultFont is where Debian's fonts-dejavu-core puts its sans face.
const defaultFont = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

// FindFont returns a TrueType font for the overlay: DejaVu Sans at its Debian
// path, else whatever fontconfig offers for it.
func FindFont() (string, error) {
	if _, err := os.Stat(defaultFont); err == nil {
		return defaultFont, nil
	}
	out, err := exec.Command("fc-match", "-f", "%{file}", "DejaVu Sans").Output()
	if err == nil && len(out) > 0 {
		if _, err := os.Stat(string(out)); err == nil {
			return string(out), nil
		}
	}
	return "", fmt.Errorf("no font for the overlay: %s is missing and fontconfig offers none (install fonts-dejavu-core)", defaultFont)
}

// ffmpegArgs builds the encoder command line. -re paces the test pattern in
// real time; the overlay shows the wall clock at the moment each frame is
// drawn, so a viewer comparing it with their own clock sees the latency from
// here to their screen.
func ffmpegArgs(c StreamConfig) []string {
	gop := strconv.Itoa(c.gopFrames())
	// Rate: about 0.1 bit a pixel, enough for the test pattern to stay legible.
	kbps := strconv.Itoa(max(c.Width*c.Height*c.FPS/10000, 50)) + "k"
	return []string{
		"-hide_banner", "-nostdin", "-nostats", "-loglevel", "error",
		"-re", "-f", "lavfi", "-i", fmt.Sprintf("testsrc2=size=%dx%d:rate=%d", c.Width, c.Height, c.FPS),
		"-vf", overlayFilter(c, wallClock, clockText),
		"-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency",
		"-profile:v", "baseline", "-level:v", "3.1", "-pix_fmt", "yuv420p",
		// One thread: many cameras share two cores, and sliced threads would
		// only add overhead and slices.
		"-threads", "1",
		"-g", gop, "-keyint_min", gop, "-sc_threshold", "0",
		"-b:v", kbps, "-maxrate", kbps, "-bufsize", kbps,
		// aud=1 marks where each access unit starts; repeat-headers puts SPS
		// and PPS in front of every keyframe.
		"-x264-params", "aud=1:repeat-headers=1",
		"-flush_packets", "1", "-f", "h264", "pipe:1",
	}
}

// wallClock is the setpts expression for the wall-clock time when a frame
// passes the filter, in microseconds since the epoch. Taking it per frame,
// rather than adding frame time to a start time, keeps ffmpeg's start-up
// delay out of the clock.
const wallClock = "RTCTIME"

// clockText draws the frame's timestamp as local HH:MM:SS.mmm. localtime
// handles midnight and time-zone rules; the milliseconds come from t, the
// same timestamp in seconds.
const clockText = `%{pts\:localtime\:0\:%H\\\:%M\\\:%S}.%{eif\:mod(t*1000\,1000)\:d\:3}`

// overlayFilter draws the camera's name and, under it, clock: the text
// clockText with frame timestamps set by the setpts expression clockPTS (in
// microseconds since the epoch). The box hides testsrc2's own counter, which
// starts at zero. The frames leave with timestamps counted from frame zero,
// which is what the encoder paces its rate control by.
func overlayFilter(c StreamConfig, clockPTS, clockText string) string {
	fontSize := max(c.Height/14, 8)
	draw := func(text, y string) string {
		return fmt.Sprintf("drawtext=fontfile=%s:text='%s':x=w/40:y=%s:fontsize=%d:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=%d",
			c.FontFile, text, y, fontSize, max(fontSize/5, 1))
	}
	return "settb=AVTB,setpts=" + clockPTS + "," +
		draw(c.Site+" / "+c.Camera, "h/30") + "," +
		draw(clockText, fmt.Sprintf("h/30+%d", fontSize*3/2)) +
		fmt.Sprintf(",settb=1/%d,setpts=N", c.FPS)
}

// Generator runs ffmpeg for one camera and hands its access units to any
// number of subscribers (the WHIP publisher now, an RTSP server later). It
// restarts ffmpeg if it dies, and keeps PTS counting across restarts.
type Generator struct {
	cfg StreamConfig
	log zerolog.Logger

	mu       sync.Mutex
	subs     map[*Subscription]struct{}
	finished bool
	sps, pps []byte
	frames   int64
}

// NewGenerator checks cfg and returns a generator; Run starts it.
func NewGenerator(cfg StreamConfig, log zerolog.Logger) (*Generator, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("configuring generator: %w", err)
	}
	return &Generator{cfg: cfg, log: log, subs: map[*Subscription]struct{}{}}, nil
}

// Subscription receives access units starting at a keyframe. A subscriber
// that falls behind loses units and resumes at the next keyframe, so what it
// receives always decodes; ffmpeg is never held up by it.
type Subscription struct {
	g       *Generator
	ch      chan avc.AccessUnit
	waitKey bool
}

// Units delivers the access units; it is closed when the subscription or the
// generator ends.
func (s *Subscription) Units() <-chan avc.AccessUnit { return s.ch }

// Close ends the subscription.
func (s *Subscription) Close() {
	s.g.mu.Lock()
	defer s.g.mu.Unlock()
	if _, ok := s.g.subs[s]; ok {
		delete(s.g.subs, s)
		close(s.ch)
	}
}

// Subscribe returns a subscription buffering up to buffer units.
func (g *Generator) Subscribe(buffer int) *Subscription {
	s := &Subscription{g: g, ch: make(chan avc.AccessUnit, max(buffer, 1)), waitKey: true}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.finished {
		close(s.ch)
		return s
	}
	g.subs[s] = struct{}{}
	return s
}

func (g *Generator) deliver(nalus [][]byte) {
	g.mu.Lock()
	defer g.mu.Unlock()
	au := avc.NewAccessUnit(nalus, time.Duration(g.frames)*g.cfg.frameDuration())
	g.frames++
	if sps, pps := au.ParamSets(); sps != nil && pps != nil {
		g.sps, g.pps = sps, pps
	}
	if au.Keyframe {
		au = au.WithParamSets(g.sps, g.pps)
	}
	for s := range g.subs {
		if s.waitKey && !au.Keyframe {
			continue
		}
		select {
		case s.ch <- au:
			s.waitKey = false
		default:
			s.waitKey = true
		}
	}
}

// Run runs ffmpeg until ctx is cancelled, restarting it with backoff when it
// exits on its own. It returns when ffmpeg has exited; subscriptions are
// closed then.
func (g *Generator) Run(ctx context.Context) error {
	defer func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		g.finished = true
		for s := range g.subs {
			delete(g.subs, s)
			close(s.ch)
		}
	}()
	b := backoff{min: 500 * time.Millisecond, max: 10 * time.Second}
	for {
		started := time.Now()
		err := g.runOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if time.Since(started) > 30*time.Second {
			b.reset()
		}
		wait := b.next()
		g.log.Error().Err(err).Dur("retry_in", wait).Msg("encoder stopped; restarting")
		if !sleep(ctx, wait) {
			return nil
		}
	}
}

func (g *Generator) runOnce(ctx context.Context) error {
	cmd := exec.CommandContext(ctx, "ffmpeg", ffmpegArgs(g.cfg)...)
	// If ffmpeg ignores the kill or a grandchild holds the pipes, do not wait forever.
	cmd.WaitDelay = 2 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("connecting to ffmpeg's output: %w", err)
	}
	// exec copies stderr in its own goroutine and Wait waits for it, so the
	// last message is in when Wait returns.
	msgs := &lineLogger{log: g.log}
	cmd.Stderr = msgs
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting ffmpeg: %w", err)
	}
	g.log.Debug().Int("pid", cmd.Process.Pid).Msg("encoder started")

	units := avc.NewUnitReader(stdout)
	// The pipe ends when ffmpeg dies, perhaps halfway through a unit.
	units.DiscardTail = true
	var readErr error
	for {
		nalus, err := units.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				readErr = err
				// Stop ffmpeg: its output is no longer read.
				_ = cmd.Process.Kill()
			}
			break
		}
		g.deliver(nalus)
	}
	waitErr := cmd.Wait()
	last := msgs.Last()
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case readErr != nil:
		return readErr
	case waitErr != nil:
		return fmt.Errorf("ffmpeg: %w (last message: %q)", waitErr, last)
	default:
		return fmt.Errorf("ffmpeg ended its output (last message: %q)", last)
	}
}

// lineLogger logs what ffmpeg writes to stderr, a line at a time, and keeps the
// last line for the error that explains why it stopped.
type lineLogger struct {
	log     zerolog.Logger
	mu      sync.Mutex
	partial []byte
	last    string
}

func (l *lineLogger) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		if line := strings.TrimSpace(string(l.partial[:i])); line != "" {
			l.last = line
			l.log.Warn().Str("ffmpeg", line).Msg("encoder message")
		}
		l.partial = l.partial[i+1:]
	}
	// A runaway line without newline must not grow without bound.
	if len(l.partial) > 4096 {
		l.partial = l.partial[:0]
	}
	return len(p), nil
}

// Last returns the last complete line written.
func (l *lineLogger) Last() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}
