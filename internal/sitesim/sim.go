// Package sitesim simulates site cameras so the demo and the tests run without
// real ones. Each camera is an ffmpeg test pattern showing its site, its name
// and the wall clock to the millisecond, encoded as H.264 constrained
// baseline in a full-size main stream and a small sub stream (Generator), as
// IP cameras do. The streams are published to the relay by WHIP, served over
// RTSP like a camera's (package rtspcam), or both.
package sitesim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"os/exec"
	"strconv"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/internal/demosite"
	"github.com/qianliyan/qianliyan/internal/sitesim/rtspcam"
)

// Options configures a simulation. Zero values take the defaults.
type Options struct {
	// RelayURL is the relay every stream is published to by WHIP, at
	// RelayURL/whip/{site}/{camera}?stream={main|sub}. Empty publishes
	// nothing, for a simulation that only serves RTSP.
	RelayURL string
	Token    string // WHIP bearer token
	Sites    int    // default 3
	Cameras  int    // cameras per site, default 4
	FPS      int    // default 15
	// GOP is the keyframe interval, default 2s.
	GOP           time.Duration
	Width, Height int // the main stream, default 640x360
	// SubWidth and SubHeight size the sub stream. The default fits the
	// main picture into 320x180 without enlarging it.
	SubWidth, SubHeight int
	// NoSub leaves the sub stream out: cameras have a main stream only.
	NoSub bool

	// RTSPAddr, when set, serves every stream over RTSP on this host:port
	// at /{site}/{camera}/{main|sub}, TCP interleaved; see RTSPURL.
	RTSPAddr string
	// RTSPUDPAddr adds UDP transport: RTP on this address, whose port must
	// be even, and RTCP on the next port.
	RTSPUDPAddr string
	// RTSPUser and RTSPPassword, when set, are asked of every RTSP reader,
	// by Basic or Digest authentication.
	RTSPUser, RTSPPassword string
	// RTSPDigestOnly refuses Basic authentication, as many NVRs do.
	RTSPDigestOnly bool

	Log zerolog.Logger
}

var (
	// ErrUnknownCamera is returned for a site/camera pair the simulation lacks.
	ErrUnknownCamera = errors.New("unknown camera")
	// ErrCameraRunning is returned by StartCamera for a running camera.
	ErrCameraRunning = errors.New("camera already running")
	// ErrCameraStopped is returned by StopCamera for a stopped camera.
	ErrCameraStopped = errors.New("camera already stopped")
	// ErrClosed is returned once the simulation is closed.
	ErrClosed = errors.New("simulation closed")
)

func (o *Options) setDefaults() {
	if o.Sites == 0 {
		o.Sites = 3
	}
	if o.Cameras == 0 {
		o.Cameras = 4
	}
	if o.FPS == 0 {
		o.FPS = 15
	}
	if o.GOP == 0 {
		o.GOP = 2 * time.Second
	}
	if o.Width == 0 && o.Height == 0 {
		o.Width, o.Height = 640, 360
	}
	if !o.NoSub && o.SubWidth == 0 && o.SubHeight == 0 && o.Width > 0 && o.Height > 0 {
		o.SubWidth, o.SubHeight = defaultSubSize(o.Width, o.Height)
	}
}

// defaultSubSize fits a main picture into 320x180, the usual size of a
// camera's sub stream, keeping its shape and never enlarging it.
func defaultSubSize(w, h int) (int, int) {
	scale := min(1, 320/float64(w), 180/float64(h))
	even := func(v float64) int { return max(int(math.Round(v/2))*2, 16) }
	return even(float64(w) * scale), even(float64(h) * scale)
}

func (o Options) validate() error {
	if o.RelayURL == "" && o.RTSPAddr == "" {
		return errors.New("nothing to do: no relay URL to publish to and no RTSP address to serve on")
	}
	if o.RelayURL != "" {
		u, err := url.Parse(o.RelayURL)
		if err != nil {
			return fmt.Errorf("relay URL %q: %w", o.RelayURL, err)
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("relay URL %q: want http://HOST[:PORT] or https://…", o.RelayURL)
		}
		if o.Token == "" {
			return errors.New("no WHIP publish token")
		}
	}
	if o.NoSub && (o.SubWidth != 0 || o.SubHeight != 0) {
		return fmt.Errorf("sub stream size %dx%d given with no sub stream", o.SubWidth, o.SubHeight)
	}
	if o.RTSPAddr == "" {
		if o.RTSPUDPAddr != "" || o.RTSPUser != "" || o.RTSPPassword != "" || o.RTSPDigestOnly {
			return errors.New("RTSP options given without an RTSP address")
		}
		return nil
	}
	if _, err := splitAddr(o.RTSPAddr); err != nil {
		return fmt.Errorf("RTSP address: %w", err)
	}
	if o.RTSPUDPAddr != "" {
		port, err := splitAddr(o.RTSPUDPAddr)
		if err != nil {
			return fmt.Errorf("RTSP UDP address: %w", err)
		}
		if port == 0 || port%2 != 0 || port == 65535 {
			return fmt.Errorf("RTSP UDP address %q: want an even port below 65535 for RTP (RTCP takes the next one)", o.RTSPUDPAddr)
		}
	}
	if (o.RTSPUser == "") != (o.RTSPPassword == "") {
		return errors.New("RTSP user and password: give both or neither")
	}
	if o.RTSPDigestOnly && o.RTSPUser == "" {
		return errors.New("RTSP Digest authentication asked for without a user and password")
	}
	return nil
}

// splitAddr checks a host:port and returns the port.
func splitAddr(addr string) (int, error) {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, fmt.Errorf("%q: want HOST:PORT, e.g. 127.0.0.1:8554: %w", addr, err)
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return 0, fmt.Errorf("%q: port %q is not a number from 0 to 65535", addr, p)
	}
	return port, nil
}

// Sim is a running simulation.
type Sim struct {
	ctx    context.Context
	cancel context.CancelFunc
	opts   Options
	font   string
	log    zerolog.Logger
	rtsp   *rtspcam.Server // nil without RTSP

	mu      sync.Mutex
	closed  bool
	cameras map[string]*camera // by "site/camera"
	order   []string
}

type camera struct {
	site, id string
	cancel   context.CancelFunc
	pubs     []*whipPublisher // one a stream, when publishing by WHIP
	done     chan struct{}    // closed when the generator, publishers and RTSP streams have stopped
}

// Start checks opts, then starts every camera of demosite.Sites(Sites,
// Cameras). Cameras run until ctx is cancelled or Close is called; a camera
// the relay refuses keeps retrying.
func Start(ctx context.Context, opts Options) (*Sim, error) {
	opts.setDefaults()
	if err := opts.validate(); err != nil {
		return nil, fmt.Errorf("starting site simulator: %w", err)
	}
	sites, err := demosite.Sites(opts.Sites, opts.Cameras)
	if err != nil {
		return nil, fmt.Errorf("starting site simulator: %w", err)
	}
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		return nil, fmt.Errorf("starting site simulator: ffmpeg not found on PATH: %w", err)
	}
	font, err := FindFont()
	if err != nil {
		return nil, fmt.Errorf("starting site simulator: %w", err)
	}
	s := &Sim{opts: opts, font: font, cameras: map[string]*camera{},
		log: opts.Log.With().Str("component", "sitesim").Logger()}
	for _, site := range sites {
		for _, c := range site.Cameras {
			key := site.ID + "/" + c.ID
			s.cameras[key] = &camera{site: site.ID, id: c.ID}
			s.order = append(s.order, key)
		}
	}
	// Check every camera before starting any, so a bad option fails Start
	// rather than leaving some cameras running.
	for _, key := range s.order {
		if _, err := NewGenerator(s.cameraConfig(s.cameras[key]), s.log); err != nil {
			return nil, fmt.Errorf("starting site simulator: %w", err)
		}
	}
	if opts.RTSPAddr != "" {
		ro := rtspcam.Options{Addr: opts.RTSPAddr, User: opts.RTSPUser, Password: opts.RTSPPassword, DigestOnly: opts.RTSPDigestOnly}
		if opts.RTSPUDPAddr != "" {
			host, port, _ := net.SplitHostPort(opts.RTSPUDPAddr)
			p, _ := strconv.Atoi(port)
			ro.UDPRTPAddr, ro.UDPRTCPAddr = opts.RTSPUDPAddr, net.JoinHostPort(host, strconv.Itoa(p+1))
		}
		if s.rtsp, err = rtspcam.Start(ro); err != nil {
			return nil, fmt.Errorf("starting site simulator: %w", err)
		}
	}
	s.ctx, s.cancel = context.WithCancel(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, key := range s.order {
		if err := s.startLocked(s.cameras[key]); err != nil {
			s.stopAllLocked()
			return nil, fmt.Errorf("starting site simulator: %w", err)
		}
	}
	ev := s.log.Info().Int("cameras", len(s.order)).Int("fps", opts.FPS).Dur("gop", opts.GOP).
		Str("main", fmt.Sprintf("%dx%d", opts.Width, opts.Height))
	if !opts.NoSub {
		ev = ev.Str("sub", fmt.Sprintf("%dx%d", opts.SubWidth, opts.SubHeight))
	}
	if opts.RelayURL != "" {
		ev = ev.Str("whip", redactURL(opts.RelayURL))
	}
	if s.rtsp != nil {
		streams := "{main|sub}"
		if opts.NoSub {
			streams = "main"
		}
		ev = ev.Str("rtsp", "rtsp://"+s.rtsp.Addr()+"/{site}/{camera}/"+streams)
		if opts.RTSPUDPAddr != "" {
			ev = ev.Str("rtsp_udp", opts.RTSPUDPAddr)
		}
	}
	ev.Msg("site simulator started")
	return s, nil
}

func (s *Sim) cameraConfig(c *camera) CameraConfig {
	cfg := CameraConfig{Site: c.site, Camera: c.id, FPS: s.opts.FPS, GOP: s.opts.GOP,
		Width: s.opts.Width, Height: s.opts.Height, FontFile: s.font}
	if !s.opts.NoSub {
		cfg.SubWidth, cfg.SubHeight = s.opts.SubWidth, s.opts.SubHeight
	}
	return cfg
}

// rtspPath is where a stream is served: {site}/{camera}/{stream}.
func rtspPath(site, camera, stream string) string { return site + "/" + camera + "/" + stream }

// RTSPURL returns the rtsp:// URL a stream is served at, with the RTSP
// credentials in it, or "" when the simulation serves no RTSP or has no
// such stream. stream is StreamMain or StreamSub.
func (s *Sim) RTSPURL(site, camera, stream string) string {
	if s.rtsp == nil || (stream != StreamMain && (stream != StreamSub || s.opts.NoSub)) {
		return ""
	}
	if _, ok := s.cameras[site+"/"+camera]; !ok { // never written after Start
		return ""
	}
	return s.rtsp.URL(rtspPath(site, camera, stream))
}

// startLocked starts a camera's generator, publishers and RTSP streams; s.mu
// is held.
func (s *Sim) startLocked(c *camera) error {
	log := s.log.With().Str("site", c.site).Str("camera", c.id).Logger()
	gen, err := NewGenerator(s.cameraConfig(c), log)
	if err != nil {
		return err
	}
	var pubs []*whipPublisher
	if s.opts.RelayURL != "" {
		for _, name := range gen.Streams() {
			pub, err := newWHIPPublisher(s.opts.RelayURL, c.site, c.id, name, s.opts.Token, gen.Output(name),
				log.With().Str("stream", name).Logger())
			if err != nil {
				return err
			}
			pubs = append(pubs, pub)
		}
	}
	ctx, cancel := context.WithCancel(s.ctx)
	var wg sync.WaitGroup
	goRun := func(f func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f()
		}()
	}
	goRun(func() {
		if err := gen.Run(ctx); err != nil {
			log.Error().Err(err).Msg("encoder stopped")
		}
	})
	for _, pub := range pubs {
		goRun(func() { pub.Run(ctx) })
	}
	if s.rtsp != nil {
		for _, name := range gen.Streams() {
			out := gen.Output(name)
			path := rtspPath(c.site, c.id, name)
			slog := log.With().Str("stream", name).Logger()
			goRun(func() { s.serveRTSP(ctx, path, out, slog) })
		}
	}
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	c.cancel, c.pubs, c.done = cancel, pubs, done
	return nil
}

// serveRTSP serves one stream over RTSP from its first keyframe, whose
// parameter sets go into the SDP, until ctx is cancelled or the encoder
// stops for good; then the stream is closed and its readers disconnected,
// as when a camera loses power. Should the parameter sets change, the
// stream is served anew with them, as a camera does when reconfigured.
func (s *Sim) serveRTSP(ctx context.Context, path string, out *Output, log zerolog.Logger) {
	sub := out.Subscribe(2 * 60) // a few seconds at most frame rates
	defer sub.Close()
	var st *rtspcam.Stream
	var sps, pps []byte // announced in the SDP
	defer func() {
		if st != nil {
			st.Close()
			log.Info().Msg("RTSP stream closed")
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case au, ok := <-sub.Units():
			if !ok {
				return
			}
			if au.Keyframe {
				if nsps, npps := au.ParamSets(); st == nil || !bytes.Equal(nsps, sps) || !bytes.Equal(npps, pps) {
					// AddStream replaces, and so disconnects, the stream of
					// the same path.
					next, err := s.rtsp.AddStream(path, nsps, npps)
					if err != nil {
						log.Error().Err(err).Msg("cannot serve the stream over RTSP; trying again at the next keyframe")
						continue
					}
					st, sps, pps = next, nsps, npps
					log.Info().Str("path", "/"+path).Msg("serving over RTSP")
				}
			}
			if st == nil {
				continue
			}
			if err := st.Write(au); err != nil {
				log.Warn().Err(err).Msg("writing to RTSP readers")
			}
		}
	}
}

func (s *Sim) lookup(site, camera string) (*camera, error) {
	if s.closed {
		return nil, ErrClosed
	}
	c, ok := s.cameras[site+"/"+camera]
	if !ok {
		return nil, fmt.Errorf("%w %s/%s", ErrUnknownCamera, site, camera)
	}
	return c, nil
}

// StopCamera simulates the camera dying: its ffmpeg is killed, its WHIP
// sessions are dropped without DELETE, so the relay notices the way it would
// notice a real camera losing power, and its RTSP streams are closed, which
// disconnects their readers. It returns once ffmpeg has exited.
func (s *Sim) StopCamera(site, camera string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.lookup(site, camera)
	if err != nil {
		return fmt.Errorf("stopping camera: %w", err)
	}
	if c.cancel == nil {
		return fmt.Errorf("stopping camera %s/%s: %w", site, camera, ErrCameraStopped)
	}
	for _, pub := range c.pubs {
		pub.abandon.Store(true)
	}
	c.cancel()
	<-c.done
	c.cancel, c.pubs, c.done = nil, nil, nil
	s.log.Info().Str("site", site).Str("camera", camera).Msg("camera stopped")
	return nil
}

// StartCamera brings a stopped camera back with a fresh encoder, WHIP
// sessions and RTSP streams.
func (s *Sim) StartCamera(site, camera string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.lookup(site, camera)
	if err != nil {
		return fmt.Errorf("starting camera: %w", err)
	}
	if c.cancel != nil {
		return fmt.Errorf("starting camera %s/%s: %w", site, camera, ErrCameraRunning)
	}
	if err := s.startLocked(c); err != nil {
		return fmt.Errorf("starting camera %s/%s: %w", site, camera, err)
	}
	s.log.Info().Str("site", site).Str("camera", camera).Msg("camera started")
	return nil
}

// Close stops every camera, DELETEs their sessions at the relay, stops the
// RTSP server and waits for every ffmpeg to exit. It is safe to call more
// than once.
func (s *Sim) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.stopAllLocked()
	s.log.Info().Msg("site simulator stopped")
	return nil
}

// stopAllLocked cancels every camera and waits for them; s.mu is held.
func (s *Sim) stopAllLocked() {
	s.closed = true
	s.cancel()
	for _, key := range s.order {
		if c := s.cameras[key]; c.done != nil {
			<-c.done
			c.cancel, c.pubs, c.done = nil, nil, nil
		}
	}
	if s.rtsp != nil {
		s.rtsp.Close()
	}
}

// redactURL hides a password in a URL before it is logged.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable)"
	}
	return u.Redacted()
}
