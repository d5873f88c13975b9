package relay

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/internal/avc"
	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/internal/sitesim/rtspcam"
	"github.com/qianliyan/qianliyan/internal/sitesim/rtspcam/rtspcamtest"
	"github.com/qianliyan/qianliyan/internal/testlog"
	"github.com/qianliyan/qianliyan/internal/testmedia"
	"github.com/qianliyan/qianliyan/relay/hub"
	"github.com/qianliyan/qianliyan/relay/store"
)

// shoot writes units to a camera stream at fps, looping, until ctx ends.
func shoot(ctx context.Context, st *rtspcam.Stream, units []avc.AccessUnit, fps int) {
	tick := time.NewTicker(time.Second / time.Duration(fps))
	defer tick.Stop()
	for i := 0; ; i++ {
		au := units[i%len(units)]
		au.PTS = time.Duration(i) * time.Second / time.Duration(fps)
		if err := st.Write(au); err != nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// rtspConfig declares site test-01 with one RTSP camera, cam1, whose main
// stream is url.
func rtspConfig(url, transport string) string {
	return fmt.Sprintf(`sites:
  - id: test-01
    district: {zh-CN: 测试区, en: Test district}
    name: {zh-CN: 测试点, en: Test site}
    time_zone: Asia/Shanghai
    cameras:
      - id: cam1
        zone: doffing_room_1
        name: {zh-CN: 一脱间, en: Doffing room 1}
        main: {url: '%s', transport: %s}
`, url, transport)
}

func TestRTSPCameraReachesWHEPViewer(t *testing.T) {
	cases := []struct {
		name      string
		transport string
		digest    bool
	}{
		{"tcp with digest", "tcp", true},
		{"udp with basic", "udp", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			const password = "pa55-w0rd!"
			opts := rtspcam.Options{User: "admin", Password: password, DigestOnly: c.digest}
			if c.transport == "udp" {
				opts.UDPRTPAddr, opts.UDPRTCPAddr = rtspcamtest.FreeUDPPair(t)
			}
			// Its RTP payloads are 1450 bytes, as ffmpeg's and IP cameras'
			// are: more than WebRTC allows.
			cam := rtspcamtest.Start(t, opts)
			st, err := cam.AddStream("ch1/main", nil, nil) // parameter sets in band only
			if err != nil {
				t.Fatal(err)
			}
			go shoot(ctx, st, testUnits, testFPS)

			var logs testlog.Buffer
			r := startRelay(t, Options{Demo: true, ConfigFile: writeConfig(t, rtspConfig(cam.URL("ch1/main"), c.transport)),
				Log: zerolog.New(&logs).Level(zerolog.DebugLevel)})
			token := login(t, r, "duty", r.Demo().Password)
			waitFor(t, "camera online", func() bool {
				on := onlineCameras(t, r, token)
				return len(on) == 1 && on[0] == "test-01/cam1"
			})

			v := watch(t, r, token, "test-01", "cam1", "main")
			au := v.next(t)
			if sps, pps := au.ParamSets(); !au.Keyframe || sps == nil || pps == nil {
				t.Fatalf("first unit: keyframe=%v, sps %x, pps %x", au.Keyframe, sps, pps)
			}
			if size := len(idr(au)); size <= 1450 {
				t.Fatalf("the IDR slice is %d bytes: too small to need fragmenting", size)
			}
			for range 10 {
				v.next(t)
			}
			// The camera's 1450-byte payloads were cut to WebRTC's size.
			if got := v.maxPayload.Load(); got > 1200 || got < 1000 {
				t.Fatalf("largest RTP payload to the viewer: %d bytes, want 1000 to 1200", got)
			}
			if strings.Contains(logs.String(), password) {
				t.Fatal("the camera's password is in the relay's log")
			}
		})
	}
}

func TestRTSPCameraRestartIsRecovered(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cam := rtspcamtest.Start(t, rtspcam.Options{})
	st, err := cam.AddStream("live", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	camCtx, camStop := context.WithCancel(ctx)
	go shoot(camCtx, st, testUnits, testFPS)

	r := startDemo(t, writeConfig(t, rtspConfig(cam.URL("live"), "tcp")))
	token := login(t, r, "duty", r.Demo().Password)
	key := hub.Key{Site: "test-01", Camera: "cam1", Stream: hub.StreamMain}
	waitFor(t, "camera online", func() bool { return r.hub.Online(key) })
	v := watch(t, r, token, "test-01", "cam1", "main")
	if au := v.next(t); !au.Keyframe {
		t.Fatal("first unit is not a keyframe")
	}

	// The camera reboots: its stream goes away, then comes back.
	camStop()
	st.Close()
	waitFor(t, "the camera offline once its stream went away", func() bool { return !r.hub.Online(key) })
	if cams := cameras(t, r, token); cams[len(cams)-1].State != "offline" {
		t.Fatalf("camera state %q while its stream is gone", cams[len(cams)-1].State)
	}
	for drained := false; !drained; { // what was in flight before the reboot
		select {
		case <-v.units:
		case <-time.After(200 * time.Millisecond):
			drained = true
		}
	}
	st2, err := cam.AddStream("live", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	go shoot(ctx, st2, testUnits, testFPS)

	// The same viewer session picks the camera up again at a keyframe.
	select {
	case au := <-v.units:
		if sps, pps := au.ParamSets(); !au.Keyframe || sps == nil || pps == nil {
			t.Fatalf("after the restart the viewer's first unit is not a keyframe with its parameter sets (keyframe=%v)", au.Keyframe)
		}
	case <-time.After(eventually.Ceiling):
		t.Fatal("no picture after the camera's return")
	}
	if n := gathered(t, r, "qianliyan_relay_source_reconnects_total"); n < 1 {
		t.Fatalf("%v reconnects counted", n)
	}
}

func TestLongGOPCameraViewerStartsFromCachedKeyframe(t *testing.T) {
	// One keyframe every 4 s: a viewer that had to wait for the next one
	// would wait seconds.
	units, err := testmedia.Units(testmedia.Spec{Width: 320, Height: 240, FPS: 15, GOP: 60, Seconds: 4})
	if err != nil {
		t.Fatal(err)
	}
	cam := rtspcamtest.Start(t, rtspcam.Options{})
	st, err := cam.AddStream("live", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := startDemo(t, writeConfig(t, rtspConfig(cam.URL("live"), "tcp")))
	token := login(t, r, "duty", r.Demo().Password)
	key := hub.Key{Site: "test-01", Camera: "cam1", Stream: hub.StreamMain}

	// The relay connects to the camera; the camera sends the start of a
	// GOP and then nothing more (the puller reads until the 10 s timeout).
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	const sent = 12
	connected := make(chan struct{})
	go func() {
		defer close(connected)
		for ctx.Err() == nil {
			if hs, _ := r.hub.State(key); hs.Frames > 0 {
				return
			}
			st.Write(units[0]) // until the puller is playing, and publishes
			time.Sleep(20 * time.Millisecond)
		}
	}()
	<-connected
	// The keyframe may have been written more than once before the relay
	// was seen to have it; a repeated keyframe starts the cached GOP anew
	// with the same picture.
	first, _ := r.hub.State(key)
	if first.Frames < 1 {
		t.Fatalf("the relay did not get the camera's keyframe within 10 s: %+v", first)
	}
	for i := 1; i < sent; i++ {
		if err := st.Write(units[i]); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "relay has the units", func() bool {
		hs, _ := r.hub.State(key)
		return hs.Frames >= first.Frames+sent-1
	})
	// The camera goes on with its GOP while the viewer joins: the cache of
	// a stream silent for long is not handed out as live.
	go func() {
		for i := sent; i < len(units) && ctx.Err() == nil; i++ {
			if st.Write(units[i]) != nil {
				return
			}
			time.Sleep(time.Second / 15)
		}
	}()

	v := watch(t, r, token, "test-01", "cam1", "main")
	au := v.next(t)
	if !au.Keyframe || !bytes.Equal(idr(au), idr(units[0])) {
		t.Fatalf("the viewer's first unit is not the cached keyframe, which predates it (keyframe=%v)", au.Keyframe)
	}
	for i := 1; i < sent; i++ {
		got := v.next(t)
		if last := got.NALUs[len(got.NALUs)-1]; !bytes.Equal(last, units[i].NALUs[len(units[i].NALUs)-1]) {
			t.Fatalf("cached unit %d differs", i)
		}
	}
	if n := gathered(t, r, "qianliyan_relay_first_keyframe_seconds"); n != 1 {
		t.Fatalf("first-keyframe latencies recorded: %v, want 1", n)
	}
}

func TestRTSPSourcesFollowTheDatabase(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cam := rtspcamtest.Start(t, rtspcam.Options{})
	st, err := cam.AddStream("live", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	go shoot(ctx, st, testUnits, testFPS)
	r := startDemo(t, "")
	key := hub.Key{Site: "site-02", Camera: "waste", Stream: hub.StreamSub}

	// What "relay camera add" does while the relay runs.
	c, err := r.store.Camera(ctx, key.Site, key.Camera)
	if err != nil {
		t.Fatal(err)
	}
	c.Sources = []store.Source{{Stream: key.Stream, URL: cam.URL("live"), Transport: "tcp"}}
	if err := r.store.PutCamera(ctx, c); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the added RTSP source pulled", func() bool { return r.hub.Online(key) })
	// And removing it stops the pull.
	c.Sources = nil
	if err := r.store.PutCamera(ctx, c); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the removed RTSP source no longer pulled", func() bool { return !r.hub.Online(key) })
}
