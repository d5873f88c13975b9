package sitesim

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/internal/avc"
	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/internal/sitesim/rtspcam/rtspcamtest"
	"github.com/qianliyan/qianliyan/internal/testlog"
	"github.com/qianliyan/qianliyan/relay/hub"
	"github.com/qianliyan/qianliyan/relay/hub/hubtest"
	"github.com/qianliyan/qianliyan/relay/rtsppull"
)

// checkHubKeyframe fails unless au is a keyframe with SPS and PPS whose SPS
// declares width×height.
func checkHubKeyframe(t *testing.T, key hub.Key, au avc.AccessUnit, width, height int) {
	t.Helper()
	sps, pps := au.ParamSets()
	if !au.Keyframe || sps == nil || pps == nil {
		t.Fatalf("%s: first unit keyframe=%v sps=%v pps=%v, want a keyframe with both", key, au.Keyframe, sps != nil, pps != nil)
	}
	info, err := avc.ParseSPS(sps)
	if err != nil {
		t.Fatal(err)
	}
	if info.Width != width || info.Height != height {
		t.Fatalf("%s: SPS says %dx%d, want %dx%d", key, info.Width, info.Height, width, height)
	}
}

// TestRTSPPulledByRelay serves a camera over RTSP only and pulls both its
// streams with the relay's own RTSP ingest into a hub, over TCP without
// credentials and over UDP with Digest; the puller gets keyframes of each
// stream's size and recovers when the camera is stopped and started again.
func TestRTSPPulledByRelay(t *testing.T) {
	cases := []struct {
		name      string
		transport string
		udp       bool
		user, pw  string
	}{
		{name: "tcp, no credentials", transport: "tcp"},
		{name: "udp, digest", transport: "udp", udp: true, user: "admin", pw: "p@ss:w/rd"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Only a hang's guard: each wait below has its own ceiling.
			ctx, cancel := context.WithTimeout(context.Background(), 5*eventually.Ceiling)
			defer cancel()
			opts := Options{Sites: 1, Cameras: 1, FPS: 10, GOP: time.Second,
				Width: 192, Height: 108, SubWidth: 96, SubHeight: 54,
				RTSPAddr: "127.0.0.1:0", RTSPUser: tc.user, RTSPPassword: tc.pw, RTSPDigestOnly: tc.user != "",
				Log: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)}
			if tc.udp {
				opts.RTSPUDPAddr, _ = rtspcamtest.FreeUDPPair(t)
			}
			sim, err := Start(ctx, opts)
			if err != nil {
				t.Fatal(err)
			}
			defer sim.Close()

			h := hub.New(hub.Config{})
			defer h.Close()
			var logs testlog.Buffer
			pullOpts := rtsppull.Options{MinBackoff: 100 * time.Millisecond, MaxBackoff: 400 * time.Millisecond,
				ReadTimeout: 3 * time.Second, Log: zerolog.New(&logs)}
			keys := map[string]hub.Key{}
			pullers := make(chan error, 2)
			for _, stream := range []string{StreamMain, StreamSub} {
				url := sim.RTSPURL("site-01", "doff1", stream)
				if tc.user != "" && !strings.Contains(url, "admin:") {
					t.Fatalf("RTSPURL %s lacks the credentials", url)
				}
				key := hub.Key{Site: "site-01", Camera: "doff1", Stream: stream}
				keys[stream] = key
				go func() {
					pullers <- rtsppull.Run(ctx, h, rtsppull.Source{Key: key, URL: url, Transport: tc.transport}, pullOpts)
				}()
			}
			for stream, key := range keys {
				size := testSizes[stream]
				checkHubKeyframe(t, key, hubtest.FirstUnit(t, ctx, h, key, eventually.Ceiling), size[0], size[1])
			}
			if want := `"transport":"` + strings.ToUpper(tc.transport) + `"`; !strings.Contains(logs.String(), want) {
				t.Fatalf("the puller did not play over %s:\n%s", tc.transport, logs.String())
			}

			// The camera dies: its readers are cut off and the streams go
			// offline in the hub; back, the puller finds it again.
			if err := sim.StopCamera("site-01", "doff1"); err != nil {
				t.Fatal(err)
			}
			eventually.True(t, eventually.Ceiling, "both streams offline after StopCamera", func() bool {
				return !h.Online(keys[StreamMain]) && !h.Online(keys[StreamSub])
			})
			if err := sim.StartCamera("site-01", "doff1"); err != nil {
				t.Fatal(err)
			}
			for stream, key := range keys {
				size := testSizes[stream]
				checkHubKeyframe(t, key, hubtest.FirstUnit(t, ctx, h, key, eventually.Ceiling), size[0], size[1])
			}
			if tc.pw != "" && strings.Contains(logs.String(), tc.pw) {
				t.Fatal("the RTSP password reached the puller's log")
			}
			cancel()
			for range keys {
				select {
				case <-pullers:
				case <-time.After(eventually.Ceiling):
					t.Fatalf("a puller did not stop within %v of cancel", eventually.Ceiling)
				}
			}
		})
	}
}

// TestRTSPRefusesWrongPassword: a reader with the wrong password gets no
// picture, and is told so.
func TestRTSPRefusesWrongPassword(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*eventually.Ceiling)
	defer cancel()
	sim, err := Start(ctx, Options{Sites: 1, Cameras: 1, FPS: 10, GOP: time.Second, Width: 96, Height: 54, NoSub: true,
		RTSPAddr: "127.0.0.1:0", RTSPUser: "admin", RTSPPassword: "right", Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	h := hub.New(hub.Config{})
	defer h.Close()
	key := hub.Key{Site: "site-01", Camera: "doff1", Stream: StreamMain}
	url := strings.Replace(sim.RTSPURL("site-01", "doff1", StreamMain), "admin:right@", "admin:wrong@", 1)
	ended := make(chan error, 8)
	go rtsppull.Run(ctx, h, rtsppull.Source{Key: key, URL: url, Transport: "tcp"}, rtsppull.Options{
		MinBackoff: 200 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, Log: zerolog.Nop(),
		OnReconnect: func(_ hub.Key, err error) {
			select {
			case ended <- err:
			default:
			}
		},
	})
	// The camera needs a moment to serve; until then the path is unknown.
	deadline := time.After(eventually.Ceiling)
	for {
		select {
		case err := <-ended:
			if strings.Contains(err.Error(), "401") {
				if h.Online(key) {
					t.Fatal("online with the wrong password")
				}
				return
			}
		case <-deadline:
			t.Fatalf("no 401 for the wrong password within %v", eventually.Ceiling)
		}
	}
}

func TestRTSPURL(t *testing.T) {
	sim, err := Start(context.Background(), Options{Sites: 1, Cameras: 2, FPS: 5, Width: 96, Height: 54, NoSub: true,
		RTSPAddr: "127.0.0.1:0", RTSPUser: "cam", RTSPPassword: "a b", Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	main := sim.RTSPURL("site-01", "doff2", StreamMain)
	if !strings.HasPrefix(main, "rtsp://cam:a%20b@127.0.0.1:") || !strings.HasSuffix(main, "/site-01/doff2/main") {
		t.Fatalf("RTSPURL = %q", main)
	}
	for _, c := range [][3]string{
		{"site-01", "doff2", StreamSub}, // no sub stream
		{"site-01", "nope", StreamMain},
		{"site-01", "doff1", "third"},
	} {
		if got := sim.RTSPURL(c[0], c[1], c[2]); got != "" {
			t.Errorf("RTSPURL%v = %q, want none", c, got)
		}
	}

	whipOnly, err := Start(context.Background(), Options{RelayURL: "http://127.0.0.1:9", Token: "t", Sites: 1, Cameras: 1,
		FPS: 5, Width: 96, Height: 54, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	defer whipOnly.Close()
	if got := whipOnly.RTSPURL("site-01", "doff1", StreamMain); got != "" {
		t.Fatalf("RTSPURL without RTSP = %q", got)
	}
}
