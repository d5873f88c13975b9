// Package console is the desktop console's backend without its window: it
// signs in to the relay, pulls cameras over WHEP and serves the view its API
// and the video bridge. main.go puts a Wails window over it; --serve and the
// end-to-end tests put a browser over it instead.
package console

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/console/bridge"
	"github.com/qianliyan/qianliyan/console/media"
	"github.com/qianliyan/qianliyan/console/relayclient"
	"github.com/qianliyan/qianliyan/console/secret"
	"github.com/qianliyan/qianliyan/console/server"
)

// Options configures a Backend.
type Options struct {
	RelayURL, User, Password string
	Camera                   string // "site/camera" shown first; "" = first camera of the list
	DataDir                  string
	Assets                   fs.FS // the built frontend (dist root, containing index.html)
	Log                      zerolog.Logger
}

// WailsOrigin is the origin of pages in the Wails window.
const WailsOrigin = "wails://wails"

// Backend is one running console backend.
type Backend struct {
	opts    Options
	log     zerolog.Logger
	secret  string
	relay   *relayclient.Client
	trusted http.Handler

	ready    chan struct{} // closed when Start has finished, well or not
	mu       sync.Mutex
	started  bool
	closed   bool
	startErr error
	boot     server.Bootstrap
	runCtx   context.Context // the backend's life: Start's ctx, until Close
	cancel   context.CancelFunc
	sources  *media.Sources
	bridges  []*bridge.Handler
	servers  []*http.Server
	serveWG  sync.WaitGroup
}

// New checks opts and prepares a backend; nothing runs until Start.
func New(opts Options) (*Backend, error) {
	var problems []string
	if opts.RelayURL == "" {
		problems = append(problems, "the relay URL is required")
	}
	if opts.User == "" {
		problems = append(problems, "the user is required")
	}
	if opts.Password == "" {
		problems = append(problems, "the password is required")
	}
	if opts.Camera != "" {
		if site, cam, ok := strings.Cut(opts.Camera, "/"); !ok || site == "" || cam == "" || strings.Contains(cam, "/") {
			problems = append(problems, fmt.Sprintf("camera %q: want SITE/CAMERA", opts.Camera))
		}
	}
	if opts.DataDir == "" {
		problems = append(problems, "the data directory is required")
	}
	if opts.Assets == nil {
		problems = append(problems, "the frontend assets are required")
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("console options: %s", strings.Join(problems, "; "))
	}
	rc, err := relayclient.New(opts.RelayURL, relayclient.Options{Log: opts.Log.With().Str("component", "relayclient").Logger()})
	if err != nil {
		return nil, fmt.Errorf("console options: %w", err)
	}
	sec, err := secret.New()
	if err != nil {
		return nil, err
	}
	b := &Backend{
		opts:   opts,
		log:    opts.Log.With().Str("component", "console").Logger(),
		secret: sec,
		relay:  rc,
		ready:  make(chan struct{}),
	}
	b.trusted = server.New(server.Options{
		Assets: opts.Assets, Console: b, Secret: sec, Trusted: true,
		Log: opts.Log.With().Str("component", "server").Logger(),
	})
	return b, nil
}

// Start signs in, picks the camera shown first and starts the loopback
// bridge listener on 127.0.0.1:0. The backend runs until ctx is cancelled
// or Close is called.
func (b *Backend) Start(ctx context.Context) (err error) {
	b.mu.Lock()
	if b.started || b.closed {
		b.mu.Unlock()
		return errors.New("console backend already started or closed")
	}
	b.started = true
	runCtx, cancel := context.WithCancel(ctx)
	b.runCtx, b.cancel = runCtx, cancel
	b.mu.Unlock()

	defer func() {
		b.mu.Lock()
		b.startErr = err
		b.mu.Unlock()
		close(b.ready)
	}()

	if err := os.MkdirAll(b.opts.DataDir, 0o700); err != nil {
		return fmt.Errorf("creating data directory: %w", err)
	}
	session, err := b.relay.Login(runCtx, b.opts.User, b.opts.Password)
	if err != nil {
		return err
	}
	cams, err := b.relay.Cameras(runCtx)
	if err != nil {
		return err
	}
	first, err := firstCamera(b.opts.Camera, cams)
	if err != nil {
		return err
	}

	puller, err := media.NewWHEP(b.relay.BaseURL(), b.relay, b.opts.Log.With().Str("component", "whep").Logger())
	if err != nil {
		return err
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return errors.New("console backend closed while starting")
	}
	b.sources = media.NewSources(runCtx, puller, media.Options{Log: b.opts.Log.With().Str("component", "media").Logger()})
	b.mu.Unlock()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listening for the video bridge: %w", err)
	}
	if err := b.serve(context.Background(), ln, []string{WailsOrigin}); err != nil {
		return err
	}
	b.mu.Lock()
	b.boot = server.Bootstrap{
		Bridge:        "ws://" + ln.Addr().String() + "/ws/video",
		Relay:         b.relay.BaseURL(),
		User:          session.User,
		DefaultCamera: first,
	}
	b.mu.Unlock()
	b.log.Info().Str("user", session.User.Name).Str("bridge", ln.Addr().String()).Str("camera", first).Int("cameras", len(cams)).Msg("console backend started")
	return nil
}

// firstCamera is the camera to show first: the one asked for, which must
// exist, or the first of the list.
func firstCamera(want string, cams []relayclient.Camera) (string, error) {
	if want == "" {
		if len(cams) == 0 {
			return "", nil
		}
		return cams[0].Path(), nil
	}
	for _, c := range cams {
		if c.Path() == want {
			return want, nil
		}
	}
	return "", fmt.Errorf("camera %s is not in the relay's list of %d cameras", want, len(cams))
}

// serve runs the guarded handler, with a bridge allowing origins, on ln
// until ctx is cancelled or the backend stops.
func (b *Backend) serve(ctx context.Context, ln net.Listener, origins []string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed || b.sources == nil {
		ln.Close()
		return errors.New("console backend is not running")
	}
	ctx, cancel := context.WithCancel(ctx)
	context.AfterFunc(b.runCtx, cancel)
	br := bridge.New(bridge.Options{
		Sources: b.sources, Secret: b.secret, Origins: origins,
		Log: b.opts.Log.With().Str("component", "bridge").Logger(),
	})
	srv := &http.Server{
		Handler: server.New(server.Options{
			Assets: b.opts.Assets, Console: b, Secret: b.secret, Bridge: br,
			Log: b.opts.Log.With().Str("component", "server").Logger(),
		}),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	// Shutdown does not touch hijacked connections: end the bridge's.
	srv.RegisterOnShutdown(br.Close)
	b.bridges = append(b.bridges, br)
	b.servers = append(b.servers, srv)
	b.serveWG.Add(2)
	go func() {
		defer b.serveWG.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			b.log.Error().Err(err).Str("addr", ln.Addr().String()).Msg("HTTP server stopped")
		}
	}()
	go func() {
		defer b.serveWG.Done()
		<-ctx.Done()
		sctx, stop := context.WithTimeout(context.Background(), 5*time.Second)
		defer stop()
		_ = srv.Shutdown(sctx)
		br.Close()
	}()
	return nil
}

// AssetHandler is the handler for Wails' AssetServer: the frontend and the
// API, trusted without the secret because only the webview reaches it.
// It may be used before Start; the bootstrap call waits for the sign-in.
func (b *Backend) AssetHandler() http.Handler { return b.trusted }

// Serve serves the view to a browser on addr, a loopback address
// ("127.0.0.1:0" picks a port), until ctx is cancelled or Close. It returns
// the address to open, which carries the secret.
func (b *Backend) Serve(ctx context.Context, addr string) (pageURL string, err error) {
	if err := CheckServeAddress(addr); err != nil {
		return "", err
	}
	select {
	case <-b.ready:
	default:
		return "", errors.New("serve: the backend is not started")
	}
	b.mu.Lock()
	startErr := b.startErr
	b.mu.Unlock()
	if startErr != nil {
		return "", fmt.Errorf("serve: the backend did not start: %w", startErr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("listening on %s: %w", addr, err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	hostport := ln.Addr().String()
	origins := []string{"http://" + hostport, fmt.Sprintf("http://localhost:%d", port)}
	if err := b.serve(ctx, ln, origins); err != nil {
		return "", err
	}
	b.log.Info().Str("addr", hostport).Msg("serving the console to a browser")
	return "http://" + hostport + "/?token=" + b.secret, nil
}

// CheckServeAddress accepts the loopback HOST:PORT addresses Serve takes.
func CheckServeAddress(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("serve address %q: want 127.0.0.1:PORT: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("serve address %q: must be a loopback address such as 127.0.0.1:8090; the console serves only this machine", addr)
	}
	return nil
}

// Bootstrap waits for Start and tells the view where things are.
func (b *Backend) Bootstrap(ctx context.Context) (server.Bootstrap, error) {
	select {
	case <-b.ready:
	case <-ctx.Done():
		return server.Bootstrap{}, ctx.Err()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.startErr != nil {
		return server.Bootstrap{}, b.startErr
	}
	return b.boot, nil
}

// Cameras is the relay's camera list, fetched afresh for online status.
func (b *Backend) Cameras(ctx context.Context) ([]relayclient.Camera, error) {
	return b.relay.Cameras(ctx)
}

// Close stops the servers and every camera pull, ending WHEP sessions.
func (b *Backend) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	servers, bridges, sources, cancel := b.servers, b.bridges, b.sources, b.cancel
	b.mu.Unlock()

	// Cancelling the backend's context aborts a sign-in in progress and
	// stops the pulls; the servers are shut down here as well so that
	// Close reports their errors.
	if cancel != nil {
		cancel()
	}
	var errs []error
	ctx, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	for _, srv := range servers {
		if err := srv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stopping HTTP server: %w", err))
		}
	}
	for _, br := range bridges {
		br.Close()
	}
	if sources != nil {
		sources.Close()
	}
	b.serveWG.Wait()
	b.log.Info().Msg("console backend stopped")
	return errors.Join(errs...)
}
