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

// Stream names, as the relay and the console call a camera's two streams.
const (
	StreamMain = "main"
	StreamSub  = "sub"
)

// CameraConfig describes one generated camera: its picture and the streams
// it is encoded to.
type CameraConfig struct {
	Site, Camera  string // drawn on the picture; letters, digits, '-' and '_' only
	FPS           int
	GOP           time.Duration // keyframe interval
	Width, Height int           // the main stream
	// SubWidth and SubHeight size the sub stream, the same picture scaled
	// down; 0x0 encodes the main stream only.
	SubWidth, SubHeight int
	FontFile            string // a TrueType font for the overlay; see FindFont
}

// safeID is what the overlay accepts without escaping for ffmpeg's filter
// graph, option and text-expansion levels; the demo ids all match it.
var safeID = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func (c CameraConfig) validate() error {
	switch {
	case !safeID.MatchString(c.Site):
		return fmt.Errorf("site id %q: want letters, digits, '-' or '_'", c.Site)
	case !safeID.MatchString(c.Camera):
		return fmt.Errorf("camera id %q: want letters, digits, '-' or '_'", c.Camera)
	case c.FPS < 1 || c.FPS > 60:
		return fmt.Errorf("frame rate %d: want 1 to 60", c.FPS)
	case c.gopFrames() < 1 || c.GOP > time.Minute:
		return fmt.Errorf("GOP %v at %d fps: want at least one frame and at most a minute", c.GOP, c.FPS)
	case c.FontFile == "":
		return errors.New("no font file for the overlay")
	}
	if err := checkSize("main stream", c.Width, c.Height); err != nil {
		return err
	}
	if c.SubWidth == 0 && c.SubHeight == 0 {
		return nil
	}
	if err := checkSize("sub stream", c.SubWidth, c.SubHeight); err != nil {
		return err
	}
	if c.SubWidth > c.Width || c.SubHeight > c.Height {
		return fmt.Errorf("sub stream %dx%d is larger than the main stream %dx%d", c.SubWidth, c.SubHeight, c.Width, c.Height)
	}
	return nil
}

func checkSize(what string, w, h int) error {
	switch {
	case w < 16 || h < 16 || w > 3840 || h > 2160:
		return fmt.Errorf("%s size %dx%d: want 16x16 to 3840x2160", what, w, h)
	case w%2 != 0 || h%2 != 0:
		return fmt.Errorf("%s size %dx%d: width and height must be even for 4:2:0", what, w, h)
	}
	return nil
}

func (c CameraConfig) gopFrames() int {
	return int((c.GOP*time.Duration(c.FPS) + time.Second/2) / time.Second)
}

// streams lists the camera's streams, main first.
func (c CameraConfig) streams() []streamSpec {
	out := []streamSpec{{name: StreamMain, width: c.Width, height: c.Height}}
	if c.SubWidth > 0 {
		out = append(out, streamSpec{name: StreamSub, width: c.SubWidth, height: c.SubHeight})
	}
	return out
}

type streamSpec struct {
	name          string
	width, height int
}

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

// firstExtraFD is the descriptor the child sees its first exec.Cmd.ExtraFiles
// entry as; the sub stream leaves ffmpeg through it.
const firstExtraFD = 3

// ffmpegArgs builds the encoder command line. -re paces the test pattern in
// real time; the overlay shows the wall clock at the moment each frame is
// drawn, so a viewer comparing it with their own clock sees the latency from
// here to their screen.
//
// One ffmpeg draws the picture once and encodes it for every stream, as a
// camera does: measured with 12 cameras, it costs about a tenth less CPU than
// a process a stream, and both streams show the same clock and stop together.
// The main stream goes to stdout, the sub stream to descriptor 3.
func ffmpegArgs(c CameraConfig) []string {
	streams := c.streams()
	graph := "[0:v]" + overlayFilter(c, wallClock, clockText)
	if len(streams) == 1 {
		graph += "[main]"
	} else {
		graph += fmt.Sprintf(",split=2[main][full];[full]scale=%d:%d[sub]", c.SubWidth, c.SubHeight)
	}
	args := []string{
		"-hide_banner", "-nostdin", "-nostats", "-loglevel", "error",
		"-re", "-f", "lavfi", "-i", fmt.Sprintf("testsrc2=size=%dx%d:rate=%d", c.Width, c.Height, c.FPS),
		"-filter_complex", graph,
	}
	gop := strconv.Itoa(c.gopFrames())
	for i, st := range streams {
		// Rate: about 0.1 bit a pixel, enough for the test pattern to stay legible.
		kbps := strconv.Itoa(max(st.width*st.height*c.FPS/10000, 50)) + "k"
		out := "pipe:1"
		if i > 0 {
			out = fmt.Sprintf("pipe:%d", firstExtraFD+i-1)
		}
		args = append(args,
			"-map", "["+st.name+"]",
			"-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency",
			"-profile:v", "baseline", "-level:v", "3.1", "-pix_fmt", "yuv420p",
			// One thread: many cameras share two cores, and sliced threads
			// would only add overhead and slices.
			"-threads", "1",
			"-g", gop, "-keyint_min", gop, "-sc_threshold", "0",
			"-b:v", kbps, "-maxrate", kbps, "-bufsize", kbps,
			// aud=1 marks where each access unit starts; repeat-headers
			// puts SPS and PPS in front of every keyframe.
			"-x264-params", "aud=1:repeat-headers=1",
			"-flush_packets", "1", "-f", "h264", out,
		)
	}
	return args
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
// microseconds since the epoch). testsrc2 prints its own stream-time counter
// in a fixed 104x40 corner whatever the size; a solid box covers it, since a
// second, wrong clock on the picture would mislead the officer. The frames leave with timestamps counted from frame zero,
// which is what the encoder paces its rate control by.
func overlayFilter(c CameraConfig, clockPTS, clockText string) string {
	fontSize := max(c.Height/14, 8)
	draw := func(text, y string) string {
		return fmt.Sprintf("drawtext=fontfile=%s:text='%s':x=w/40:y=%s:fontsize=%d:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=%d",
			c.FontFile, text, y, fontSize, max(fontSize/5, 1))
	}
	return "settb=AVTB,setpts=" + clockPTS + "," +
		"drawbox=x=0:y=0:w=104:h=40:color=black:t=fill," +
		draw(c.Site+" / "+c.Camera, "h/30") + "," +
		draw(clockText, fmt.Sprintf("h/30+%d", fontSize*3/2)) +
		fmt.Sprintf(",settb=1/%d,setpts=N", c.FPS)
}

// Generator runs ffmpeg for one camera and hands each of its streams' access
// units to any number of subscribers (WHIP publishers, RTSP streams). It
// restarts ffmpeg if it dies, and keeps PTS counting across restarts.
type Generator struct {
	cfg     CameraConfig
	log     zerolog.Logger
	outputs []*Output // main first
}

// NewGenerator checks cfg and returns a generator; Run starts it.
func NewGenerator(cfg CameraConfig, log zerolog.Logger) (*Generator, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("configuring generator: %w", err)
	}
	g := &Generator{cfg: cfg, log: log}
	for _, st := range cfg.streams() {
		g.outputs = append(g.outputs, &Output{name: st.name, fps: cfg.FPS, subs: map[*Subscription]struct{}{}})
	}
	return g, nil
}

// Streams returns the names of the camera's streams, main first.
func (g *Generator) Streams() []string {
	names := make([]string, len(g.outputs))
	for i, o := range g.outputs {
		names[i] = o.name
	}
	return names
}

// Output returns the named stream, or nil if the camera has no such stream.
func (g *Generator) Output(stream string) *Output {
	for _, o := range g.outputs {
		if o.name == stream {
			return o
		}
	}
	return nil
}

// Output is one stream of a camera.
type Output struct {
	name string
	fps  int

	mu       sync.Mutex
	subs     map[*Subscription]struct{}
	finished bool
	sps, pps []byte
	frames   int64
}

// Name is the stream's name: StreamMain or StreamSub.
func (o *Output) Name() string { return o.name }

// Subscription receives access units starting at a keyframe. A subscriber
// that falls behind loses units and resumes at the next keyframe, so what it
// receives always decodes; ffmpeg is never held up by it.
type Subscription struct {
	o       *Output
	ch      chan avc.AccessUnit
	waitKey bool
}

// Units delivers the access units; it is closed when the subscription or the
// generator ends.
func (s *Subscription) Units() <-chan avc.AccessUnit { return s.ch }

// Close ends the subscription.
func (s *Subscription) Close() {
	s.o.mu.Lock()
	defer s.o.mu.Unlock()
	if _, ok := s.o.subs[s]; ok {
		delete(s.o.subs, s)
		close(s.ch)
	}
}

// Subscribe returns a subscription buffering up to buffer units.
func (o *Output) Subscribe(buffer int) *Subscription {
	s := &Subscription{o: o, ch: make(chan avc.AccessUnit, max(buffer, 1)), waitKey: true}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.finished {
		close(s.ch)
		return s
	}
	o.subs[s] = struct{}{}
	return s
}

func (o *Output) deliver(nalus [][]byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	// Multiply before dividing: a frame's duration at 15 fps is not a whole
	// number of nanoseconds, and the error would add up.
	au := avc.NewAccessUnit(nalus, time.Duration(o.frames)*time.Second/time.Duration(o.fps))
	o.frames++
	if sps, pps := au.ParamSets(); sps != nil && pps != nil {
		o.sps, o.pps = sps, pps
	}
	if au.Keyframe {
		au = au.WithParamSets(o.sps, o.pps)
	}
	for s := range o.subs {
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

// finish closes every subscription; later ones are born closed.
func (o *Output) finish() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.finished = true
	for s := range o.subs {
		delete(o.subs, s)
		close(s.ch)
	}
}

// Run runs ffmpeg until ctx is cancelled, restarting it with backoff when it
// exits on its own. It returns when ffmpeg has exited; subscriptions are
// closed then.
func (g *Generator) Run(ctx context.Context) error {
	defer func() {
		for _, o := range g.outputs {
			o.finish()
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
	outs := []io.Reader{stdout}
	// The other streams leave by pipes of our own, passed as descriptors 3….
	var theirs []*os.File
	defer func() {
		for _, f := range theirs {
			f.Close()
		}
	}()
	for range g.outputs[1:] {
		r, w, err := os.Pipe()
		if err != nil {
			return fmt.Errorf("making a pipe for ffmpeg's output: %w", err)
		}
		defer r.Close()
		outs = append(outs, r)
		theirs = append(theirs, w)
	}
	cmd.ExtraFiles = theirs
	// exec copies stderr in its own goroutine and Wait waits for it, so the
	// last message is in when Wait returns.
	msgs := &lineLogger{log: g.log}
	cmd.Stderr = msgs
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting ffmpeg: %w", err)
	}
	// Only ffmpeg may hold the write ends, or the reads never see it exit.
	for _, f := range theirs {
		f.Close()
	}
	theirs = nil
	g.log.Debug().Int("pid", cmd.Process.Pid).Msg("encoder started")

	readErrs := make([]error, len(outs))
	var wg sync.WaitGroup
	for i, r := range outs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := g.read(r, g.outputs[i]); err != nil {
				readErrs[i] = err
				// Stop ffmpeg: its output is no longer read.
				_ = cmd.Process.Kill()
			}
		}()
	}
	// Every read must end before Wait, which closes stdout.
	wg.Wait()
	waitErr := cmd.Wait()
	last := msgs.Last()
	switch readErr := errors.Join(readErrs...); {
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

// read hands the units of one of ffmpeg's outputs to the stream until the
// output ends.
func (g *Generator) read(r io.Reader, o *Output) error {
	units := avc.NewUnitReader(r)
	// The pipe ends when ffmpeg dies, perhaps halfway through a unit.
	units.DiscardTail = true
	for {
		nalus, err := units.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s stream: %w", o.name, err)
		}
		o.deliver(nalus)
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
