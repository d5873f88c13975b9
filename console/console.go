// Package console is the desktop console's backend without its window: it
// signs in to a relay (from the command line at start, or from the view),
// keeps the sign-in renewed, pulls cameras over WHEP, relays the relay's
// camera health and events, keeps the user's layouts and tours, and serves
// the view its API and the video bridge. main.go puts a Wails window over
// it; --serve and the end-to-end tests put a browser over it instead.
package console

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/console/bridge"
	"github.com/qianliyan/qianliyan/console/events"
	"github.com/qianliyan/qianliyan/console/media"
	"github.com/qianliyan/qianliyan/console/relayclient"
	"github.com/qianliyan/qianliyan/console/secret"
	"github.com/qianliyan/qianliyan/console/server"
	"github.com/qianliyan/qianliyan/console/store"
)

// Options configures a Backend.
type Options struct {
	// RelayURL, User and Password, when all given, are signed in with at
	// Start; otherwise the backend starts signed out and the view signs in.
	// RelayURL alone is offered to the sign-in form.
	RelayURL, User, Password string
	Camera                   string // "site/camera" shown first; "" = first camera of the list
	DataDir                  string
	Assets                   fs.FS // the built frontend (dist root, containing index.html)
	Log                      zerolog.Logger
	// SignInTimeout bounds one sign-in attempt (10 s).
	SignInTimeout time.Duration
	// RetryMin and RetryMax bound the wait between attempts of the start's
	// sign-in while the relay cannot be reached (1 s, 30 s).
	RetryMin, RetryMax time.Duration
	// ClipBefore and ClipAfter bound a finding's clip around the observed
	// frame (20 s, 10 s); every pulled stream buffers ClipBefore and a
	// margin. Templates is the supervisors' checklist folder
	// (DataDir/templates).
	ClipBefore, ClipAfter time.Duration
	Templates             string
}

// WailsOrigin is the origin of pages in the Wails window.
const WailsOrigin = "wails://wails"

// settingRelay is the store setting with the relay last signed in to.
const settingRelay = store.SettingRelay

// Backend is one running console backend.
type Backend struct {
	opts    Options
	log     zerolog.Logger
	secret  string
	trusted http.Handler
	hub     *events.Hub
	finds   *findingsSide

	ready    chan struct{} // closed when Start has finished, well or not
	mu       sync.Mutex
	started  bool
	closed   bool
	startErr error
	runCtx   context.Context // the backend's life: Start's ctx, until Close
	cancel   context.CancelFunc
	store    *store.Store
	bridge   string // the loopback bridge's ws:// URL
	bridges  []*bridge.Handler
	servers  []*http.Server
	serveWG  sync.WaitGroup

	// The sign-in, under mu; switchMu serialises its changes, which tear
	// down pulls and may take a while.
	switchMu  sync.Mutex
	sess      *session // nil while signed out
	out       signedOut
	relayURL  string             // the relay signed in to, or last used
	stopRetry context.CancelFunc // ends the start's sign-in retries; nil if none
	wg        sync.WaitGroup     // session and retry goroutines
}

// New checks opts and prepares a backend; nothing runs until Start.
func New(opts Options) (*Backend, error) {
	var problems []string
	if opts.RelayURL != "" {
		if _, err := relayclient.New(opts.RelayURL, relayclient.Options{}); err != nil {
			problems = append(problems, err.Error())
		}
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
	if err := checkClipBounds(opts.ClipBefore, opts.ClipAfter); err != nil {
		problems = append(problems, err.Error())
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("console options: %s", strings.Join(problems, "; "))
	}
	if opts.SignInTimeout <= 0 {
		opts.SignInTimeout = 10 * time.Second
	}
	if opts.RetryMin <= 0 {
		opts.RetryMin = time.Second
	}
	if opts.RetryMax < opts.RetryMin {
		opts.RetryMax = max(30*time.Second, opts.RetryMin)
	}
	sec, err := secret.New()
	if err != nil {
		return nil, err
	}
	b := &Backend{
		opts:     opts,
		log:      opts.Log.With().Str("component", "console").Logger(),
		secret:   sec,
		hub:      events.New(events.Options{Log: opts.Log.With().Str("component", "events").Logger()}),
		ready:    make(chan struct{}),
		relayURL: opts.RelayURL,
		finds:    newFindingsSide(opts),
	}
	b.trusted = server.New(server.Options{
		Assets: opts.Assets, Console: b, Wall: b, Secret: sec, Trusted: true, Findings: b.finds.service, Shifts: b.shifts,
		Coverage: b.coverage, Watching: b,
		Log: opts.Log.With().Str("component", "server").Logger(),
	})
	return b, nil
}

// Start opens the console's store, starts the loopback bridge listener on
// 127.0.0.1:0 and, if Options carry a relay, user and password, signs in:
// a relay that cannot be reached is retried in the background with backoff
// while the view shows why; a refused password leaves the backend signed
// out. The backend runs until ctx is cancelled or Close is called.
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

	st, err := store.Open(runCtx, b.opts.DataDir)
	if err != nil {
		return fmt.Errorf("opening the console's store: %w", err)
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		st.Close()
		return errors.New("console backend closed while starting")
	}
	b.store = st
	b.mu.Unlock()
	st.OnDisk(b.diskChanged)
	b.wg.Add(1)
	go func() { defer b.wg.Done(); b.watchDisk(runCtx, st) }()
	if err := b.finds.start(runCtx, st, liveSources{b}, findingsSession{b}); err != nil {
		return err
	}
	if b.opts.RelayURL == "" {
		last, _, err := st.Setting(runCtx, settingRelay)
		if err != nil {
			b.log.Warn().Err(err).Msg("reading the last relay used")
		}
		b.mu.Lock()
		b.relayURL = last
		b.mu.Unlock()
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listening for the video bridge: %w", err)
	}
	b.mu.Lock()
	b.bridge = "ws://" + ln.Addr().String() + "/ws/video"
	b.mu.Unlock()
	if err := b.serve(context.Background(), ln, []string{WailsOrigin}); err != nil {
		return err
	}

	if b.opts.RelayURL != "" && b.opts.User != "" && b.opts.Password != "" {
		b.startSignIn(runCtx, server.SignIn{Relay: b.opts.RelayURL, User: b.opts.User, Password: b.opts.Password})
	}
	s := b.Session(runCtx)
	b.log.Info().Str("bridge", ln.Addr().String()).Bool("signed_in", s.SignedIn).Str("relay", s.Relay).Msg("console backend started")
	return nil
}

// serve runs the guarded handler, with a bridge allowing origins, on ln
// until ctx is cancelled or the backend stops.
func (b *Backend) serve(ctx context.Context, ln net.Listener, origins []string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed || b.runCtx == nil {
		ln.Close()
		return errors.New("console backend is not running")
	}
	ctx, cancel := context.WithCancel(ctx)
	context.AfterFunc(b.runCtx, cancel)
	br := bridge.New(bridge.Options{
		Sources: liveSources{b}, Secret: b.secret, Origins: origins,
		Log: b.opts.Log.With().Str("component", "bridge").Logger(),
	})
	srv := &http.Server{
		Handler: server.New(server.Options{
			Assets: b.opts.Assets, Console: b, Wall: b, Secret: b.secret, Bridge: br, Origins: origins, Findings: b.finds.service, Shifts: b.shifts,
			Coverage: b.coverage, Watching: b,
			Log: b.opts.Log.With().Str("component", "server").Logger(),
		}),
		ReadHeaderTimeout: 10 * time.Second,
		// Cancelling the base context ends the event streams, which
		// Shutdown would otherwise wait for.
		BaseContext: func(net.Listener) context.Context { return ctx },
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

// diskCheckEvery is how often a full data disk is tried for room again.
const diskCheckEvery = 5 * time.Second

// watchDisk tries a full data disk for room every diskCheckEvery, so that
// the officer hears when it has room again without having to try a flag.
func (b *Backend) watchDisk(ctx context.Context, st *store.Store) {
	t := time.NewTicker(diskCheckEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if st.Disk().Full {
			st.CheckSpace()
		}
	}
}

// diskChanged tells the views and the log the data disk filled or has
// room again.
func (b *Backend) diskChanged(d store.Disk) {
	if d.Full {
		b.log.Error().Str("write", d.Reason).Str("data_dir", b.opts.DataDir).Msg("the data disk is full: nothing can be saved until space is freed")
	} else {
		b.log.Info().Str("data_dir", b.opts.DataDir).Msg("the data disk has room again")
	}
	b.hub.Publish(events.DiskState(d.Full, d.Since))
}

// liveSources gives the bridge the signed-in session's camera streams.
type liveSources struct{ b *Backend }

func (l liveSources) Subscribe(key media.Key, sub media.Subscriber) (func(), error) {
	s, _ := l.b.current()
	if s == nil {
		return nil, errors.New("not signed in to a relay")
	}
	return s.sources.Subscribe(key, sub)
}

// AssetHandler is the handler for Wails' AssetServer: the frontend and the
// API, trusted without the secret because only the webview reaches it.
// It may be used before Start; the bootstrap call waits for it.
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
	boot := server.Bootstrap{Bridge: b.bridge, Relay: b.relayURL}
	if s := b.sess; s != nil {
		u := s.user
		boot.User, boot.DefaultCamera = &u, s.camera
	}
	return boot, nil
}

// Events subscribes a view to the event stream.
func (b *Backend) Events() *events.Subscription { return b.hub.Subscribe() }

// Close signs out locally, stops the servers and every camera pull (ending
// their WHEP sessions) and closes the store.
func (b *Backend) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	servers, bridges, cancel, stopRetry := b.servers, b.bridges, b.cancel, b.stopRetry
	b.mu.Unlock()

	// Cancelling the backend's context aborts a sign-in in progress; the
	// servers are shut down here as well so that Close reports their
	// errors.
	if cancel != nil {
		cancel()
	}
	if stopRetry != nil {
		stopRetry()
	}
	b.switchMu.Lock()
	if s, _ := b.current(); s != nil {
		b.endLocked(s, "console_closed", "")
	}
	b.switchMu.Unlock()
	b.hub.Close()
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
	b.serveWG.Wait()
	b.wg.Wait()
	b.finds.close()
	b.mu.Lock()
	st := b.store
	b.mu.Unlock()
	if st != nil {
		if err := st.Close(); err != nil {
			errs = append(errs, fmt.Errorf("closing the console's store: %w", err))
		}
	}
	b.log.Info().Msg("console backend stopped")
	return errors.Join(errs...)
}
