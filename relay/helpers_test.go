package relay

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v3"
	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/internal/avc"
	"github.com/qianliyan/qianliyan/internal/testmedia"
	"github.com/qianliyan/qianliyan/internal/webrtcavc"
	"github.com/qianliyan/qianliyan/internal/webrtcclient"
)

// testUnits is a real H.264 stream from ffmpeg (internal/testmedia): 4 s
// of 320x240 at 15 fps, a keyframe every 30 units.
var testUnits []avc.AccessUnit

const (
	testFPS = 15
	testGOP = 30
)

func TestMain(m *testing.M) {
	units, err := testmedia.Units(testmedia.Spec{Width: 320, Height: 240, FPS: testFPS, GOP: testGOP, Seconds: 4})
	if err == nil && (len(units) != 4*testFPS || !units[0].Keyframe || units[1].Keyframe || !units[testGOP].Keyframe) {
		err = fmt.Errorf("unexpected stream of %d units", len(units))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "making the test H.264 stream:", err)
		os.Exit(1)
	}
	testUnits = units
	os.Exit(m.Run())
}

// idr returns the IDR slice of a keyframe, to recognise it after the trip.
func idr(au avc.AccessUnit) []byte {
	for _, n := range au.NALUs {
		if len(n) > 0 && n[0]&0x1f == 5 {
			return n
		}
	}
	return nil
}

func testLogger(t *testing.T) zerolog.Logger {
	return zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
}

// startDemo starts a demo relay in a fresh data directory.
func startDemo(t *testing.T, configFile string) *Relay {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r, err := Start(ctx, Options{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Demo: true, ConfigFile: configFile, Log: testLogger(t)})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		if err := r.Close(); err != nil {
			t.Errorf("closing relay: %v", err)
		}
	})
	return r
}

type apiErr struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// call makes one HTTP request and returns the response with its body read.
func call(t *testing.T, method, url, token, contentType string, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func login(t *testing.T, r *Relay, user, password string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"user": user, "password": password})
	resp, b := call(t, "POST", r.URL()+"/api/v1/login", "", "application/json", body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login %s: %d %s", user, resp.StatusCode, b)
	}
	var out struct {
		Token     string `json:"token"`
		ExpiresAt string `json:"expires_at"`
		User      struct{ Name, Role string }
	}
	if err := json.Unmarshal(b, &out); err != nil || out.Token == "" || out.User.Name != user {
		t.Fatalf("login answer %s: %v", b, err)
	}
	if exp, err := time.Parse(time.RFC3339, out.ExpiresAt); err != nil || time.Until(exp) < 50*time.Minute {
		t.Fatalf("expires_at %q", out.ExpiresAt)
	}
	return out.Token
}

func newPeer(t *testing.T) *webrtc.PeerConnection {
	t.Helper()
	api, err := webrtcavc.NewAPI(webrtcavc.Settings(true))
	if err != nil {
		t.Fatal(err)
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc
}

// negotiate posts pc's complete offer to url and applies the answer,
// returning the session's Location.
func negotiate(t *testing.T, pc *webrtc.PeerConnection, url, token string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := webrtcclient.Exchange(ctx, pc, url, webrtcclient.Config{Token: token})
	if err != nil {
		t.Fatal(err)
	}
	return s.Location
}

func waitConnected(t *testing.T, pc *webrtc.PeerConnection) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for pc.ConnectionState() != webrtc.PeerConnectionStateConnected {
		if time.Now().After(deadline) {
			t.Fatalf("peer not connected within 10 s: %s", pc.ConnectionState())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// publisher is a site gateway pushing one camera by WHIP. Tests that need
// a peer of their own (audio, counting PLIs) fill it themselves.
type publisher struct {
	pc       *webrtc.PeerConnection
	track    *webrtc.TrackLocalStaticRTP
	pz       *webrtcavc.Packetizer
	location string
}

func publish(t *testing.T, r *Relay, site, camera, stream string) *publisher {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	url := fmt.Sprintf("%s/whip/%s/%s?stream=%s", r.URL(), site, camera, stream)
	c, err := webrtcclient.Publish(ctx, url, webrtcclient.Config{Token: r.Demo().PublishToken})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.PC.Close() })
	return &publisher{pc: c.PC, track: c.Track, pz: c.Packetizer, location: c.Session.Location}
}

func (p *publisher) send(t *testing.T, au avc.AccessUnit) {
	t.Helper()
	pkts, err := p.pz.Packetize(au)
	if err != nil {
		t.Fatal(err)
	}
	for _, pkt := range pkts {
		if err := p.track.WriteRTP(pkt); err != nil {
			t.Fatal(err)
		}
	}
}

// viewer is a console watching one camera by WHEP.
type viewer struct {
	*webrtcclient.Viewer
	pc       *webrtc.PeerConnection
	units    chan avc.AccessUnit
	location string
	// maxPayload is the largest RTP payload received, ssrc the track's.
	maxPayload loader[int64]
	ssrc       loader[uint32]
}

// loader reads a value the client keeps, as the tests' Load calls want.
type loader[T any] func() T

func (f loader[T]) Load() T { return f() }

func watch(t *testing.T, r *Relay, token, site, camera, stream string) *viewer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	url := fmt.Sprintf("%s/whep/%s/%s?stream=%s", r.URL(), site, camera, stream)
	c, err := webrtcclient.Play(ctx, url, webrtcclient.Config{Token: token})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.PC.Close() })
	v := &viewer{
		Viewer: c, pc: c.PC, units: make(chan avc.AccessUnit, 1000), location: c.Session.Location,
		maxPayload: func() int64 { return int64(c.Stats().MaxPayload) },
		ssrc:       c.SSRC,
	}
	// Closing the peer (cleanup, or the test dropping it) ends the read.
	go c.Read(context.Background(), func(au avc.AccessUnit) {
		select {
		case v.units <- au:
		default:
		}
	})
	return v
}

// next returns the next unit the viewer got, failing after 5 s.
func (v *viewer) next(t *testing.T) avc.AccessUnit {
	t.Helper()
	select {
	case au := <-v.units:
		return au
	case <-time.After(5 * time.Second):
		t.Fatal("no access unit within 5 s")
		return avc.AccessUnit{}
	}
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 5 s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// fakeClock is a settable clock for the relay's stream health, tokens and
// sign-in limits.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

// newFakeClock starts at the present (whole seconds, as tokens keep), so
// that token expiry times look sane to clients on the real clock.
func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Now().UTC().Truncate(time.Second)}
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// startRelay starts a relay with opts, on loopback in a fresh data
// directory unless opts say otherwise.
func startRelay(t *testing.T, opts Options) *Relay {
	t.Helper()
	if opts.Listen == "" {
		opts.Listen = "127.0.0.1:0"
	}
	if opts.DataDir == "" {
		opts.DataDir = t.TempDir()
	}
	if reflect.ValueOf(opts.Log).IsZero() {
		opts.Log = testLogger(t)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r, err := Start(ctx, opts)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		if err := r.Close(); err != nil {
			t.Errorf("closing relay: %v", err)
		}
	})
	return r
}

// writeConfig writes a configuration file and returns its path.
func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "relay.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// gathered returns a metric of the relay's: a counter's or gauge's value
// summed over its labels, or a histogram's sample count.
func gathered(t *testing.T, r *Relay, name string) float64 {
	t.Helper()
	families, err := r.Metrics().Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			switch {
			case m.Counter != nil:
				sum += m.Counter.GetValue()
			case m.Gauge != nil:
				sum += m.Gauge.GetValue()
			case m.Histogram != nil:
				sum += float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return sum
}
