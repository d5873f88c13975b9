package relay

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/pion/webrtc/v3"
	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/internal/avc"
	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/internal/fakeclock"
	"github.com/qianliyan/qianliyan/internal/testmedia"
	"github.com/qianliyan/qianliyan/internal/webrtcavc"
	"github.com/qianliyan/qianliyan/internal/webrtcclient"
	"github.com/qianliyan/qianliyan/relay/api/apitest"
	"github.com/qianliyan/qianliyan/relay/metrics/metricstest"
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

// startDemo starts a demo relay in a fresh data directory, with the
// configuration file when one is named.
func startDemo(t *testing.T, configFile string) *Relay {
	t.Helper()
	return startRelay(t, Options{Demo: true, ConfigFile: configFile})
}

// login signs user in and returns the token.
func login(t *testing.T, r *Relay, user, password string) string {
	t.Helper()
	return apitest.Login(t, r.URL(), user, password)
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
	eventually.True(t, eventually.Ceiling, "the peer connected", func() bool {
		return pc.ConnectionState() == webrtc.PeerConnectionStateConnected
	})
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

// next returns the next unit the viewer got.
func (v *viewer) next(t *testing.T) avc.AccessUnit {
	t.Helper()
	select {
	case au := <-v.units:
		return au
	case <-time.After(eventually.Ceiling):
		t.Fatalf("no access unit within %v", eventually.Ceiling)
		return avc.AccessUnit{}
	}
}

// waitFor waits for cond, which a busy machine may delay but not stop.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	eventually.True(t, eventually.Ceiling, what, cond)
}

// newClock is a hand-set clock for the relay's stream health, tokens and
// sign-in limits, starting at the present (whole seconds, as tokens keep)
// so that token expiry times look sane to clients on the real clock.
func newClock() *fakeclock.Clock {
	return fakeclock.New(time.Now().UTC().Truncate(time.Second))
}

// startRelay starts a relay with opts, on loopback in a fresh data
// directory unless opts say otherwise. It is relaytest.Serve for the
// package's own tests, which cannot import relaytest (it imports relay).
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

// shortICE is a configuration under which a peer that vanishes is noticed
// within a second or two (ICE), not the defaults' seconds.
const shortICE = "webrtc:\n  ice_disconnected_timeout: 1s\n  ice_failed_timeout: 1s\n  ice_keepalive_interval: 200ms\n"

// writeConfig writes a configuration file and returns its path.
func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "relay.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// gathered returns the relay's metric name summed over its series.
func gathered(t *testing.T, r *Relay, name string) float64 {
	t.Helper()
	return metricstest.Value(t, r.Metrics(), name, nil)
}
