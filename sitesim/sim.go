// Package sitesim simulates site cameras so the demo and the tests run without
// real ones. Each camera is an ffmpeg test pattern showing its site, its name
// and the wall clock to the millisecond, encoded as H.264 constrained
// baseline (Generator) and published to the relay by WHIP.
package sitesim

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os/exec"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/internal/demosite"
)

// Options configures a simulation. Zero values take the defaults.
type Options struct {
	RelayURL      string
	Token         string        // WHIP bearer token
	Sites         int           // default 3
	Cameras       int           // cameras per site, default 4
	FPS           int           // default 15
	GOP           time.Duration // default 2s
	Width, Height int           // default 640x360
	Log           zerolog.Logger
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
}

func (o Options) validate() error {
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
	return nil
}

// Sim is a running simulation.
type Sim struct {
	ctx    context.Context
	cancel context.CancelFunc
	opts   Options
	font   string
	log    zerolog.Logger

	mu      sync.Mutex
	closed  bool
	cameras map[string]*camera // by "site/camera"
	order   []string
}

type camera struct {
	site, id string
	cancel   context.CancelFunc
	pub      *whipPublisher
	done     chan struct{} // closed when the generator and publisher have stopped
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
	ctx, cancel := context.WithCancel(ctx)
	s := &Sim{ctx: ctx, cancel: cancel, opts: opts, font: font, cameras: map[string]*camera{},
		log: opts.Log.With().Str("component", "sitesim").Logger()}
	for _, site := range sites {
		for _, c := range site.Cameras {
			key := site.ID + "/" + c.ID
			s.cameras[key] = &camera{site: site.ID, id: c.ID}
			s.order = append(s.order, key)
		}
	}
	// Check every stream before starting any, so a bad option fails Start
	// rather than leaving some cameras running.
	for _, key := range s.order {
		if _, err := NewGenerator(s.streamConfig(s.cameras[key]), s.log); err != nil {
			cancel()
			return nil, fmt.Errorf("starting site simulator: %w", err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, key := range s.order {
		if err := s.startLocked(s.cameras[key]); err != nil {
			s.stopAllLocked()
			return nil, fmt.Errorf("starting site simulator: %w", err)
		}
	}
	s.log.Info().Int("cameras", len(s.order)).Str("relay", redactURL(opts.RelayURL)).Int("fps", opts.FPS).
		Dur("gop", opts.GOP).Str("size", fmt.Sprintf("%dx%d", opts.Width, opts.Height)).Msg("site simulator started")
	return s, nil
}

func (s *Sim) streamConfig(c *camera) StreamConfig {
	return StreamConfig{Site: c.site, Camera: c.id, FPS: s.opts.FPS, GOP: s.opts.GOP,
		Width: s.opts.Width, Height: s.opts.Height, FontFile: s.font}
}

// startLocked starts a camera's generator and publisher; s.mu is held.
func (s *Sim) startLocked(c *camera) error {
	log := s.log.With().Str("site", c.site).Str("camera", c.id).Logger()
	gen, err := NewGenerator(s.streamConfig(c), log)
	if err != nil {
		return err
	}
	pub, err := newWHIPPublisher(s.opts.RelayURL, c.site, c.id, s.opts.Token, gen, log)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(s.ctx)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := gen.Run(ctx); err != nil {
			log.Error().Err(err).Msg("encoder stopped")
		}
	}()
	go func() {
		defer wg.Done()
		pub.Run(ctx)
	}()
	go func() {
		wg.Wait()
		close(done)
	}()
	c.cancel, c.pub, c.done = cancel, pub, done
	return nil
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

// StopCamera simulates the camera dying: its ffmpeg is killed and its WHIP
// session dropped without DELETE, so the relay notices the way it would
// notice a real camera losing power. It returns once ffmpeg has exited.
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
	c.pub.abandon.Store(true)
	c.cancel()
	<-c.done
	c.cancel, c.pub, c.done = nil, nil, nil
	s.log.Info().Str("site", site).Str("camera", camera).Msg("camera stopped")
	return nil
}

// StartCamera brings a stopped camera back with a fresh encoder and session.
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

// Close stops every camera, DELETEs their sessions at the relay and waits for
// every ffmpeg to exit. It is safe to call more than once.
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
			c.cancel, c.pub, c.done = nil, nil, nil
		}
	}
}

// redactURL hides a password in the relay URL before it is logged.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable)"
	}
	return u.Redacted()
}
