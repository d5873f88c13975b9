// Package relaytest runs the real relay in-process for the tests of its
// clients: on 127.0.0.1 in a fresh data directory, with the demo's sites and
// users, and cameras published to it over WHIP from the test's own process
// (real H.264 from internal/testmedia, sent at its frame rate; no encoder
// runs). A test acts on real parts: a camera goes offline when its publisher
// leaves and comes back when it publishes again, a paused camera stays
// connected but sends nothing, a restart drops every session and event
// stream, and a restart with a new signing key makes every token issued
// before worthless; a stopped relay is down (its address refuses
// connections) until resumed, with a configuration the test may change
// meanwhile. What the relay did is read from its own records: the WHEP
// sessions and everything else in its database, and the sign-ins in its
// metrics.
package relaytest

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v3"
	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/internal/avc"
	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/internal/testmedia"
	"github.com/qianliyan/qianliyan/internal/webrtcavc"
	"github.com/qianliyan/qianliyan/internal/webrtcclient"
	"github.com/qianliyan/qianliyan/relay"
	"github.com/qianliyan/qianliyan/relay/metrics"
	"github.com/qianliyan/qianliyan/relay/store"
)

// The published cameras' video: 320x240 at 15 fps, a keyframe every second.
const (
	Width, Height = 320, 240
	FPS           = 15
)

// Options says which cameras publish.
type Options struct {
	// Cameras publish their main stream from the start, named
	// "site/camera" as in the demo (demosite.Sites(3, 4): site-01/doff1,
	// …); the others are offline until SetOnline.
	Cameras []string
	// Config is YAML for the relay's configuration file, on top of the
	// demo's sites and users: more users and sites, the auth section's
	// token_ttl… SetConfig changes it for the next start.
	Config string
	// Now is the relay's clock (token expiry, stream health); time.Now
	// when nil.
	Now func() time.Time
}

// Relay is a real relay with cameras publishing to it.
type Relay struct {
	dataDir string
	config  string // the configuration file's path
	now     func() time.Time
	log     zerolog.Logger
	video   []avc.AccessUnit
	api     *webrtc.API // the publishers'
	records *store.Store

	url  string // kept across restarts
	demo relay.DemoCredentials

	mu      sync.Mutex
	relay   *relay.Relay       // nil while stopped
	listen  string             // the address, kept across restarts
	stopped map[*camera]int    // the cameras' sessions when the relay stopped
	logins  int                // sign-ins accepted by the relays restarted since
	cameras map[string]*camera // by "site/camera"; publishing while running
}

// Start starts a relay and publishes opts.Cameras; it returns once each of
// them is online. Everything stops when the test ends.
func Start(t testing.TB, opts Options) *Relay {
	t.Helper()
	video, err := testmedia.Units(testmedia.Spec{Width: Width, Height: Height, FPS: FPS, GOP: FPS, Seconds: 3})
	if err != nil {
		t.Fatalf("making the cameras' video: %v", err)
	}
	settings := webrtcavc.Settings(true)
	// A publisher notices within seconds that the relay went away (a
	// restart), as a site gateway does, and publishes again.
	settings.SetICETimeouts(2*time.Second, 4*time.Second, 500*time.Millisecond)
	api, err := webrtcavc.NewAPI(settings)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	r := &Relay{
		dataDir: filepath.Join(dir, "data"),
		config:  filepath.Join(dir, "relay.yaml"),
		now:     opts.Now,
		log:     zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel),
		video:   video,
		api:     api,
		listen:  "127.0.0.1:0",
		cameras: make(map[string]*camera),
	}
	r.SetConfig(t, opts.Config)
	if err := r.start(); err != nil {
		t.Fatal(err)
	}
	r.url, r.demo = r.relay.URL(), r.relay.Demo()
	t.Cleanup(r.close)
	if r.records, err = store.Open(context.Background(), filepath.Join(r.dataDir, relay.DatabaseFile)); err != nil {
		t.Fatalf("opening the relay's records: %v", err)
	}
	for _, c := range opts.Cameras {
		r.SetOnline(t, c, true)
	}
	return r
}

func (r *Relay) start() error {
	rl, err := relay.Start(context.Background(), relay.Options{Listen: r.listen, DataDir: r.dataDir, ConfigFile: r.config,
		Demo: true, Log: r.log, Now: r.now})
	if err != nil {
		return fmt.Errorf("starting the relay: %w", err)
	}
	u, err := url.Parse(rl.URL())
	if err != nil {
		rl.Close()
		return err
	}
	r.mu.Lock()
	r.relay, r.listen = rl, u.Host
	r.mu.Unlock()
	return nil
}

// close stops the cameras, then the relay.
func (r *Relay) close() {
	r.mu.Lock()
	cams := r.cameras
	r.cameras = nil
	rl := r.relay
	r.mu.Unlock()
	for _, c := range cams {
		c.stop()
	}
	if rl != nil {
		rl.Close()
	}
	if r.records != nil {
		r.records.Close()
	}
}

// current is the running relay; the test fails if it is stopped.
func (r *Relay) current(t testing.TB) *relay.Relay {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.relay == nil {
		t.Fatal("relaytest: the relay is stopped")
	}
	return r.relay
}

// URL is the relay's base URL; it stays the same across restarts.
func (r *Relay) URL() string { return r.url }

// Demo returns the demo's credentials (the duty officer, the site managers,
// the publish token); they stay the same across restarts.
func (r *Relay) Demo() relay.DemoCredentials { return r.demo }

// SetConfig writes yaml as the relay's configuration file (Options.Config),
// read when the relay next starts (Restart, Resume).
func (r *Relay) SetConfig(t testing.TB, yaml string) {
	t.Helper()
	if err := os.WriteFile(r.config, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
}

// SetOnline brings camera ("site-01/doff1") online, returning once its
// publisher's session is up, or takes it offline, returning once its
// publisher has left (WHIP DELETE). The relay keeps the camera's viewers'
// sessions open for its return, silent meanwhile; an offer made while it is
// offline is refused 409 camera_offline. The relay announces a camera's
// changes on its event streams by looking at its cameras every 250 ms: a
// camera taken offline before the relay looked since it came (right after
// Start, say) is offline only in the next camera list. A test that wants
// the event waits for the one of the camera coming before taking it away.
func (r *Relay) SetOnline(t testing.TB, camera string, online bool) {
	t.Helper()
	r.mu.Lock()
	if r.cameras == nil {
		r.mu.Unlock()
		t.Fatal("relaytest: the relay is closed")
	}
	c := r.cameras[camera]
	switch {
	case online && c == nil:
		site, id, ok := strings.Cut(camera, "/")
		if !ok {
			r.mu.Unlock()
			t.Fatalf("relaytest: camera %q: want site/camera", camera)
		}
		c = r.publish(site, id)
		r.cameras[camera] = c
	case !online && c != nil:
		delete(r.cameras, camera)
	}
	r.mu.Unlock()
	if !online {
		if c != nil {
			c.stop()
		}
		return
	}
	c.waitSessions(t, 1)
}

// Pause stops camera's publisher sending frames, its session kept (the
// relay then reports the camera stalled), or lets it send again. Once Pause
// returns, the publisher sends nothing more until resumed.
func (r *Relay) Pause(t testing.TB, camera string, paused bool) {
	t.Helper()
	r.mu.Lock()
	c := r.cameras[camera]
	r.mu.Unlock()
	if c == nil {
		t.Fatalf("relaytest: camera %s is not publishing", camera)
	}
	c.mu.Lock()
	c.paused = paused
	c.mu.Unlock()
}

// WaitStalled waits until the relay has gone its stall time without a frame
// of camera's main stream (its metrics give the stream no frame rate): all
// that the camera sent before it paused has long been passed on.
func (r *Relay) WaitStalled(t testing.TB, camera string) {
	t.Helper()
	site, id, _ := strings.Cut(camera, "/")
	eventually.True(t, eventually.Ceiling, camera+" stalled at the relay", func() bool {
		fps, ok := gathered(t, r.current(t).Metrics(), "qianliyan_relay_stream_fps",
			map[string]string{"site": site, "camera": id, "stream": "main"})
		return ok && fps == 0
	})
}

// Restart closes the relay and starts it again on the same address and
// data: every WHIP and WHEP session and every event stream drops, as when
// the relay crashes or is upgraded, and the tokens it issued stay good. It
// returns once the online cameras publish again.
func (r *Relay) Restart(t testing.TB) {
	t.Helper()
	r.restart(t, false)
}

// RestartWithNewKey restarts the relay with a new token signing key: on top
// of what Restart drops, every token issued before is refused, so a client
// can neither use nor refresh its sign-in.
func (r *Relay) RestartWithNewKey(t testing.TB) {
	t.Helper()
	r.restart(t, true)
}

func (r *Relay) restart(t testing.TB, newKey bool) {
	t.Helper()
	r.Stop(t)
	if newKey {
		if err := os.Remove(filepath.Join(r.dataDir, relay.SigningKeyFile)); err != nil {
			t.Fatal(err)
		}
	}
	r.Resume(t)
}

// Stop closes the relay, as when it crashes or its machine goes away: its
// address refuses connections until Resume, every session and event stream
// has dropped, and the cameras keep trying to publish.
func (r *Relay) Stop(t testing.TB) {
	t.Helper()
	old := r.current(t)
	r.mu.Lock()
	sessions := make(map[*camera]int, len(r.cameras))
	for _, c := range r.cameras {
		sessions[c] = c.sessionCount()
	}
	r.mu.Unlock()
	n := logins(t, old.Metrics())
	if err := old.Close(); err != nil {
		t.Fatalf("closing the relay: %v", err)
	}
	r.mu.Lock()
	r.relay, r.stopped = nil, sessions
	r.logins += n
	r.mu.Unlock()
}

// Resume starts a stopped relay again on its address with its data and
// configuration (SetConfig), and returns once the online cameras publish
// again.
func (r *Relay) Resume(t testing.TB) {
	t.Helper()
	r.mu.Lock()
	running, sessions := r.relay != nil, r.stopped
	r.mu.Unlock()
	if running {
		t.Fatal("relaytest: Resume of a running relay")
	}
	if err := r.start(); err != nil {
		t.Fatal(err)
	}
	for c, n := range sessions {
		c.waitSessions(t, n+1)
	}
}

// DB opens the relay's database read-only, to see what reached the relay
// (findings, their events and evidence…); it is closed when the test ends.
func (r *Relay) DB(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(r.dataDir, relay.DatabaseFile)+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Sessions returns the relay's records of the WHEP sessions it answered,
// oldest first, across restarts: who watched which stream (RequestedStream
// is what the viewer asked for), and when and why each ended (EndReason
// "deleted" for the viewer's DELETE, "shutdown" for a restart; Ended is zero
// while it runs). Offers the relay refused leave no record.
func (r *Relay) Sessions(t testing.TB) []store.WHEPSession {
	t.Helper()
	recs, err := r.records.WHEPSessions(context.Background(), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	for i, j := 0, len(recs)-1; i < j; i, j = i+1, j-1 {
		recs[i], recs[j] = recs[j], recs[i]
	}
	return recs
}

// WaitEnded waits until the n-th session the relay answered (from 0, in
// the order of Sessions) has ended, and returns its record.
func (r *Relay) WaitEnded(t testing.TB, n int) store.WHEPSession {
	t.Helper()
	var rec store.WHEPSession
	eventually.True(t, eventually.Ceiling, fmt.Sprintf("WHEP session #%d ended", n), func() bool {
		recs := r.Sessions(t)
		if len(recs) <= n {
			return false
		}
		rec = recs[n]
		return !rec.Ended.IsZero()
	})
	return rec
}

// Logins counts the sign-ins the relay accepted, across restarts.
func (r *Relay) Logins(t testing.TB) int {
	t.Helper()
	r.mu.Lock()
	before, rl := r.logins, r.relay
	r.mu.Unlock()
	if rl == nil {
		return before
	}
	return before + logins(t, rl.Metrics())
}

func logins(t testing.TB, m *metrics.Metrics) int {
	t.Helper()
	n, _ := gathered(t, m, "qianliyan_relay_logins_total", map[string]string{"result": metrics.LoginOK})
	return int(n)
}

// gathered reads the value of one counter or gauge of the relay's metrics:
// the one of name whose labels include labels.
func gathered(t testing.TB, m *metrics.Metrics, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	families, err := m.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	next:
		for _, m := range f.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue next
				}
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue(), true
			case m.Gauge != nil:
				return m.Gauge.GetValue(), true
			}
		}
	}
	return 0, false
}

// camera is one camera's publisher: it keeps the main stream published,
// publishing again whenever the session drops, until stopped.
type camera struct {
	endpoint string
	cfg      webrtcclient.Config
	video    []avc.AccessUnit
	cancel   context.CancelFunc
	done     chan struct{}

	mu       sync.Mutex // held while a unit is written, so that Pause waits for it
	paused   bool
	sessions int // sessions that came up
}

// publish starts camera site/id publishing; r.mu must be held.
func (r *Relay) publish(site, id string) *camera {
	ctx, cancel := context.WithCancel(context.Background())
	c := &camera{
		endpoint: fmt.Sprintf("http://%s/whip/%s/%s?stream=main", r.listen, site, id),
		cfg:      webrtcclient.Config{Token: r.demo.PublishToken, API: r.api},
		video:    r.video,
		cancel:   cancel,
		done:     make(chan struct{}),
	}
	go c.run(ctx)
	return c
}

func (c *camera) stop() {
	c.cancel()
	<-c.done
}

func (c *camera) sessionCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sessions
}

func (c *camera) waitSessions(t testing.TB, n int) {
	t.Helper()
	eventually.True(t, eventually.Ceiling, c.endpoint+" published", func() bool { return c.sessionCount() >= n })
}

// run publishes until ctx ends. An offer the relay refuses (it is
// restarting, or has not yet noticed the last session gone) is made again
// shortly.
func (c *camera) run(ctx context.Context) {
	defer close(c.done)
	for ctx.Err() == nil {
		p, err := webrtcclient.Publish(ctx, c.endpoint, c.cfg)
		if err != nil {
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		c.mu.Lock()
		c.sessions++
		c.mu.Unlock()
		c.send(ctx, p)
		// The relay may be gone already; the DELETE then fails, harmlessly.
		dctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = p.Close(dctx)
		cancel()
	}
}

// send loops the video until ctx ends or the connection drops, each unit
// stamped and sent when the camera's clock says: a publisher that fell
// behind (a busy machine) sends what is due at once, so that media time
// keeps to the clock, as a camera's does. While paused, units are not sent
// but the clock runs on.
func (c *camera) send(ctx context.Context, p *webrtcclient.Publisher) {
	tick := time.NewTicker(time.Second / FPS)
	defer tick.Stop()
	start := time.Now()
	for i := 0; ; {
		switch p.PC.ConnectionState() {
		case webrtc.PeerConnectionStateDisconnected, webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
			return
		}
		due := int(time.Since(start)*FPS/time.Second) + 1
		c.mu.Lock()
		var err error
		for ; i < due && err == nil; i++ {
			if !c.paused {
				au := c.video[i%len(c.video)]
				au.PTS = time.Duration(i) * time.Second / FPS
				err = p.Write(au)
			}
		}
		c.mu.Unlock()
		if err != nil {
			return // the track is closed: publish anew
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
