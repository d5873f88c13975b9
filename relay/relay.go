// Package relay is the embeddable Qianliyan relay: the server sites publish
// cameras to (WHIP) or that pulls them (RTSP), and consoles watch them from
// (WHEP), with its users, roles and tokens, camera health and metrics.
// cmd/relay runs it; end-to-end tests and benchmarks start it in-process.
package relay

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/internal/webrtcavc"
	"github.com/qianliyan/qianliyan/relay/api"
	"github.com/qianliyan/qianliyan/relay/audit"
	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/config"
	"github.com/qianliyan/qianliyan/relay/findings"
	"github.com/qianliyan/qianliyan/relay/health"
	"github.com/qianliyan/qianliyan/relay/hub"
	"github.com/qianliyan/qianliyan/relay/metrics"
	"github.com/qianliyan/qianliyan/relay/notices"
	"github.com/qianliyan/qianliyan/relay/notify"
	"github.com/qianliyan/qianliyan/relay/review"
	"github.com/qianliyan/qianliyan/relay/runs"
	"github.com/qianliyan/qianliyan/relay/sitepage"
	statistics "github.com/qianliyan/qianliyan/relay/stats"
	"github.com/qianliyan/qianliyan/relay/store"
	"github.com/qianliyan/qianliyan/relay/whep"
	"github.com/qianliyan/qianliyan/relay/whip"
)

// Options says how to run a relay. Listen and DataDir, when set, override
// the configuration file.
type Options struct {
	Listen     string // e.g. "127.0.0.1:0"
	DataDir    string
	Demo       bool   // create demo sites/users/tokens on first run (demosite.Sites(3, 4)), reuse them later
	ConfigFile string // optional
	Log        zerolog.Logger
	// Now is the clock of stream health (stalls) and token expiry; tests
	// inject one. time.Now when nil.
	Now func() time.Time
}

// DemoCredentials are what a demo relay lets scripts sign in and publish with.
type DemoCredentials struct {
	User, Password, PublishToken string
	// Managers are the demo sites' managers, in site order; they share
	// ManagerPassword.
	Managers        []string
	ManagerPassword string
}

// Files in the data directory.
const (
	DatabaseFile        = "relay.db"
	SigningKeyFile      = "token-signing.key"
	DemoCredentialsFile = "demo-credentials.env"
	EvidenceDir         = "evidence" // findings' evidence files, named by SHA-256
)

// Relay is a running relay.
type Relay struct {
	url  string
	demo DemoCredentials
	log  zerolog.Logger

	srv     *http.Server
	db      *sql.DB // the relay database, shared by its tables' owners (see package store)
	store   *store.Store
	hub     *hub.Hub
	whip    *whip.Server
	whep    *whep.Server
	metrics *metrics.Metrics
	cancel  context.CancelFunc // ends the WHIP and WHEP sessions, the RTSP pulls and the health watcher
	workers sync.WaitGroup     // the RTSP pullers and the health watcher

	serveErr  chan error
	closeOnce sync.Once
	closeErr  error
	closed    chan struct{}
}

// Start starts a relay; it is listening when Start returns. The relay stops
// when ctx is cancelled or Close is called.
func Start(ctx context.Context, opts Options) (*Relay, error) {
	cfg := config.Default()
	if opts.ConfigFile != "" {
		var err error
		if cfg, err = config.Load(opts.ConfigFile); err != nil {
			return nil, err
		}
	}
	if opts.Listen != "" {
		cfg.Listen = opts.Listen
	}
	if opts.DataDir != "" {
		cfg.DataDir = opts.DataDir
	}
	lg := opts.Log.With().Str("component", "relay").Logger()
	now := opts.Now
	if now == nil {
		now = time.Now
	}

	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating data directory: %w", err)
	}
	// One database, one schema history (relay/store's); each package that
	// keeps records there is handed it below and touches its own tables only.
	db, err := store.OpenDatabase(ctx, filepath.Join(cfg.DataDir, DatabaseFile))
	if err != nil {
		return nil, err
	}
	st := store.New(db)
	r := &Relay{log: lg, db: db, store: st, serveErr: make(chan error, 1), closed: make(chan struct{})}
	ok := false
	defer func() {
		if !ok {
			db.Close()
		}
	}()

	if n, err := st.EndOpenWHEPSessions(ctx, now(), "relay_restarted"); err != nil {
		return nil, err
	} else if n > 0 {
		lg.Info().Int64("sessions", n).Msg("closed the records of sessions left open by the last run")
	}
	if opts.Demo {
		if err := putDemoSites(ctx, st); err != nil {
			return nil, err
		}
	}
	if err := applyConfig(ctx, st, &cfg); err != nil {
		return nil, err
	}
	if opts.Demo {
		if r.demo, err = demoCredentials(ctx, st, cfg.DataDir); err != nil {
			return nil, err
		}
	}

	finds, err := findings.New(findings.Config{DB: db, Sites: st, EvidenceDir: filepath.Join(cfg.DataDir, EvidenceDir), Now: now})
	if err != nil {
		return nil, err
	}
	duty, watched, err := dutyRoom(&cfg, db, st, finds, now)
	if err != nil {
		return nil, err
	}
	// The duty room's days: the supervisors' filters and reports count in them.
	zone, err := time.LoadLocation(cfg.Shifts.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("shifts: %w", err)
	}
	reviews, err := review.New(review.Config{DB: db, Findings: finds, Runs: runs.New(db), Now: now,
		Log: opts.Log.With().Str("component", "review").Logger()})
	if err != nil {
		return nil, err
	}
	// The 监督意见书: each recorded as an outcome on its findings and in
	// the record of documents made.
	audits := audit.New(db, now)
	notes := notices.New(notices.Config{DB: db, Findings: finds, Sites: st, Outcomes: reviews, Audit: audits, Zone: zone, Now: now,
		Log: opts.Log.With().Str("component", "notices").Logger()})
	sched, err := schedule(&cfg)
	if err != nil {
		return nil, err
	}
	supervision, err := statistics.New(statistics.Config{DB: db, Review: reviews, Catalogue: st, Coverage: watched, Schedule: sched, Now: now})
	if err != nil {
		return nil, err
	}
	reporter, err := reportBuilder(supervision, db, st, &cfg, now)
	if err != nil {
		return nil, err
	}
	key, err := auth.LoadOrCreateKey(filepath.Join(cfg.DataDir, SigningKeyFile))
	if err != nil {
		return nil, err
	}
	signer, err := auth.NewSigner(key, cfg.Auth.TokenTTL.D(), cfg.Auth.MaxSession.D(), now)
	if err != nil {
		return nil, err
	}
	logins := auth.NewLoginLimiter(cfg.Auth.LoginFailuresPerUser, cfg.Auth.LoginFailuresPerAddress, cfg.Auth.LoginWindow.D(), now)
	leases := auth.NewLeases(auth.LeasesConfig{Users: st, Now: now, Log: opts.Log.With().Str("component", "auth").Logger(),
		Limits: auth.Limits{WHEPSessions: cfg.Limits.WHEPSessionsPerUser, EventStreams: cfg.Limits.EventStreamsPerUser, LongPolls: cfg.Limits.LongPollsPerUser}})
	// Closed at shutdown: ends the event streams and the long polls of open pages.
	stopping := make(chan struct{})
	site, err := sitepage.New(sitepage.Config{Findings: finds, Users: st, Signer: signer, TokenTTL: cfg.Auth.TokenTTL.D(), Logins: logins, Leases: leases, Now: now,
		Stopping: stopping, Log: opts.Log.With().Str("component", "sitepage").Logger(), Notices: notes})
	if err != nil {
		return nil, fmt.Errorf("building the site page: %w", err)
	}
	sources, err := st.CameraSources(ctx)
	if err != nil {
		return nil, err
	}
	// The demo runs on one machine: its peers must stay on loopback.
	loopback := cfg.WebRTC.LoopbackOnly || opts.Demo
	settings := webrtcavc.Settings(loopback)
	settings.SetICETimeouts(cfg.WebRTC.ICEDisconnectedTimeout.D(), cfg.WebRTC.ICEFailedTimeout.D(), cfg.WebRTC.ICEKeepaliveInterval.D())
	rtc, err := webrtcavc.NewAPI(settings)
	if err != nil {
		return nil, err
	}

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", cfg.Listen, err)
	}
	r.url = "http://" + dialable(ln.Addr().(*net.TCPAddr))
	if opts.Demo {
		if err := writeDemoCredentials(filepath.Join(cfg.DataDir, DemoCredentialsFile), r.url, r.demo); err != nil {
			ln.Close()
			return nil, err
		}
	}

	r.hub = hub.New(hub.Config{ReaderQueue: cfg.Hub.ReaderQueue, MaxLag: cfg.Hub.MaxLag.D(), MaxGOP: cfg.Hub.MaxGOP, Now: now})
	var background context.Context
	background, r.cancel = context.WithCancel(context.Background())
	connectTimeout := cfg.WebRTC.ConnectTimeout.D()
	// The metrics count the WHEP sessions, which report to the metrics.
	r.metrics = metrics.New(r.hub, viewerCount(func() int { return r.whep.Count() }))
	r.whep = whep.New(background, whep.Config{API: rtc, Hub: r.hub, Recorder: st, ConnectTimeout: connectTimeout,
		Observer: r.metrics, Log: opts.Log.With().Str("component", "whep").Logger(), Now: now})
	r.whip = whip.New(background, whip.Config{API: rtc, Hub: r.hub, ConnectTimeout: connectTimeout, Observer: r.metrics.In("whip"),
		Log: opts.Log.With().Str("component", "whip").Logger()})

	// What revoked users hold open ends within a second of the revocation,
	// made here or by the command line beside the relay.
	r.workers.Add(1)
	go func() {
		defer r.workers.Done()
		leases.Run(background, leaseCheckInterval)
	}()

	watcher := health.NewWatcher(r.hub)
	r.workers.Add(1)
	go func() {
		defer r.workers.Done()
		watcher.Run(background, healthInterval)
	}()
	// The cameras' state changes, for the outages a handover reports.
	r.workers.Add(1)
	go func() {
		defer r.workers.Done()
		duty.FollowCameras(background, r.hub, watcher, opts.Log.With().Str("component", "shifts").Logger())
	}()
	pulls := &pullers{hub: r.hub, metrics: r.metrics, log: opts.Log}
	r.workers.Add(1)
	go func() {
		defer r.workers.Done()
		pulls.follow(background, st, sources)
	}()

	r.workers.Add(1)
	go func() {
		defer r.workers.Done()
		reviews.Run(background, reviewIndexInterval)
	}()

	r.workers.Add(1)
	go func() {
		defer r.workers.Done()
		finds.RunSweeper(background, evidenceSweepInterval, opts.Log.With().Str("component", "findings").Logger())
	}()

	// What issuing a notice left unrecorded when the relay last stopped.
	r.workers.Add(1)
	go func() {
		defer r.workers.Done()
		if err := notes.Resume(background); err != nil {
			lg.Error().Err(err).Msg("recording the outcomes and audit of notices issued before the restart")
		}
	}()

	notifier := notify.New(notify.Config{DB: db, Findings: finds, Now: now, Targets: notifyTargets(cfg.Sites),
		Zones: siteZones(cfg.Sites), Log: opts.Log.With().Str("component", "notify").Logger()})
	r.workers.Add(1)
	go func() {
		defer r.workers.Done()
		_ = notifier.Run(background) // logs its own failures and retries
	}()

	if daily := dailyReport(&cfg, db, reporter, nil, opts.Log.With().Str("component", "reports").Logger()); daily != nil {
		r.workers.Add(1)
		go func() {
			defer r.workers.Done()
			daily.Run(background)
		}()
	}

	apiLog := opts.Log.With().Str("component", "api").Logger()
	var served api.Metrics
	if cfg.HTTP.Metrics {
		served = r.metrics
	}
	r.srv = &http.Server{
		Handler: api.New(api.Config{
			Store: st, Signer: signer, Streams: r.hub, Changes: watcher, WHIP: r.whip, WHEP: r.whep,
			Logins: logins, Leases: leases,
			Metrics: served, MaxSDPBytes: int64(cfg.HTTP.MaxSDPBytes),
			Started: now(), Now: now, Stopping: stopping, Log: apiLog,
			Findings: finds, SitePage: site, Runs: runs.New(db), Shifts: duty, Coverage: watched,
			Review: reviews, ReportZone: zone,
			Stats: supervision, Reports: reporter, Audit: audits, ReviewList: reviews, Notices: notes,
		}),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          log.New(zerologWriter{apiLog}, "", 0),
	}
	// Event streams last until told to stop; Shutdown would wait for them.
	r.srv.RegisterOnShutdown(func() { close(stopping) })
	go func() { r.serveErr <- r.srv.Serve(ln) }()
	go func() {
		select {
		case <-ctx.Done():
			r.Close()
		case <-r.closed:
		}
	}()
	ok = true
	lg.Info().Str("url", r.url).Str("data", cfg.DataDir).Bool("demo", opts.Demo).Bool("loopback_only", loopback).
		Int("rtsp_sources", len(sources)).Msg("relay listening")
	return r, nil
}

type viewerCount func() int

func (f viewerCount) Count() int { return f() }

// healthInterval is how often camera states are checked for changes (a
// stall is noticed at most this long after it begins).
const healthInterval = 250 * time.Millisecond

// leaseCheckInterval is how often the sessions, event streams and long
// polls users hold open are checked against revocations and expiry.
const leaseCheckInterval = time.Second

// reviewIndexInterval is how often the review's search index is brought
// up to date besides at every change of a finding.
const reviewIndexInterval = time.Minute

// evidenceSweepInterval is how often evidence files no finding refers to
// are removed (findings.Store.Sweep); also once at start.
const evidenceSweepInterval = time.Hour

// dialable turns a listening address into one a client on this machine can
// dial: an unspecified host (0.0.0.0, ::) becomes 127.0.0.1.
func dialable(a *net.TCPAddr) string {
	ip := a.IP
	if ip == nil || ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
	}
	return net.JoinHostPort(ip.String(), fmt.Sprint(a.Port))
}

// URL returns the relay's base URL, e.g. "http://127.0.0.1:8080".
func (r *Relay) URL() string { return r.url }

// Demo returns the demo credentials; zero unless started with Demo.
func (r *Relay) Demo() DemoCredentials { return r.demo }

// Metrics returns the relay's metrics, for benchmarks in the same process
// (Metrics().Gatherer()); they are also served at /metrics.
func (r *Relay) Metrics() *metrics.Metrics { return r.metrics }

// Viewers lists the open WHEP sessions.
func (r *Relay) Viewers() []whep.SessionInfo { return r.whep.Sessions() }

// Close stops the relay: no new requests, every WHIP and WHEP session ended
// and recorded, the database closed. Close is idempotent.
func (r *Relay) Close() error {
	r.closeOnce.Do(func() {
		close(r.closed)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var errs []error
		if err := r.srv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("shutting down HTTP: %w", err))
		}
		if err := <-r.serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, fmt.Errorf("serving HTTP: %w", err))
		}
		r.cancel()
		r.whip.Wait()
		r.whep.Wait()
		r.workers.Wait()
		r.hub.Close()
		if err := r.db.Close(); err != nil {
			errs = append(errs, fmt.Errorf("closing database: %w", err))
		}
		r.closeErr = errors.Join(errs...)
		r.log.Info().Msg("relay stopped")
	})
	return r.closeErr
}

// applyConfig brings the database in line with the sites and users the
// configuration declares.
func applyConfig(ctx context.Context, st *store.Store, cfg *config.Config) error {
	for _, s := range cfg.Sites {
		cams := make([]store.Camera, len(s.Cameras))
		for i, c := range s.Cameras {
			cams[i] = store.Camera{Site: s.ID, ID: c.ID, Zone: c.Zone, Name: c.Name}
			for _, src := range c.Sources() {
				cams[i].Sources = append(cams[i].Sources, store.Source{Stream: src.Stream, URL: src.URL, Transport: src.PullTransport()})
			}
		}
		site := store.Site{ID: s.ID, District: s.District, Name: s.Name, TimeZone: s.TimeZone, Kind: s.Type}
		if err := st.PutSite(ctx, site, cams); err != nil {
			return err
		}
		hashes := make([][]byte, len(s.PublishTokenSHA256))
		for i, h := range s.PublishTokenSHA256 {
			hashes[i], _ = hex.DecodeString(h) // checked by config
		}
		if err := st.SetPublishTokens(ctx, s.ID, "config", hashes); err != nil {
			return err
		}
	}
	sites, err := st.Sites(ctx)
	if err != nil {
		return err
	}
	known := make(map[string]bool, len(sites))
	for _, s := range sites {
		known[s.ID] = true
	}
	for _, u := range cfg.Users {
		for _, s := range u.Sites {
			if !known[s] {
				return cfg.Errorf(u.Line, "user %q: unknown site %q", u.Name, s)
			}
		}
		hash := u.PasswordHash
		if hash == "" { // keep the password the database has
			prev, err := st.User(ctx, u.Name)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			hash = prev.PasswordHash
		}
		if err := st.PutUser(ctx, store.User{Name: u.Name, Role: u.Role, PasswordHash: hash, Disabled: u.Disabled, Sites: u.Sites}); err != nil {
			return err
		}
	}
	return nil
}

// notifyTargets are the configured sites' notification targets.
func notifyTargets(sites []config.Site) map[string][]notify.Target {
	out := map[string][]notify.Target{}
	for _, s := range sites {
		for _, n := range s.Notify {
			out[s.ID] = append(out[s.ID], notify.Target{Kind: n.Kind, URL: n.URL, Secret: n.Secret})
		}
	}
	return out
}

// siteZones are the configured sites' time zones (checked by config).
func siteZones(sites []config.Site) map[string]*time.Location {
	out := map[string]*time.Location{}
	for _, s := range sites {
		if loc, err := time.LoadLocation(s.TimeZone); err == nil {
			out[s.ID] = loc
		}
	}
	return out
}

// zerologWriter carries net/http's own complaints (TLS probes, bad
// requests it rejects itself) into the structured log.
type zerologWriter struct{ log zerolog.Logger }

func (w zerologWriter) Write(p []byte) (int, error) {
	w.log.Warn().Msg(string(trimNewline(p)))
	return len(p), nil
}

func trimNewline(p []byte) []byte {
	if n := len(p); n > 0 && p[n-1] == '\n' {
		return p[:n-1]
	}
	return p
}
