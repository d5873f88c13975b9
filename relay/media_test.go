package relay

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v3"
	"github.com/pion/webrtc/v3/pkg/media"

	"github.com/qianliyan/qianliyan/internal/avc"
	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/internal/webrtcavc"
	"github.com/qianliyan/qianliyan/relay/api/apitest"
	"github.com/qianliyan/qianliyan/relay/hub"
	"github.com/qianliyan/qianliyan/relay/peer"
	"github.com/qianliyan/qianliyan/relay/peer/peertest"
)

func TestAudioAndVideoOffersAreAccepted(t *testing.T) {
	r := startDemo(t, "")
	token := login(t, r, "duty", r.Demo().Password)

	// A gateway publishing audio and video: the video is forwarded, the
	// audio dropped.
	pc := peertest.NewPC(t)
	video, _ := webrtc.NewTrackLocalStaticRTP(webrtcavc.H264Codec.RTPCodecCapability, "video", "cam")
	audio, _ := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", "cam")
	for _, tr := range []webrtc.TrackLocal{audio, video} {
		if _, err := pc.AddTransceiverFromTrack(tr, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
			t.Fatal(err)
		}
	}
	loc := negotiate(t, pc, r.URL()+"/whip/site-01/doff1", r.Demo().PublishToken)
	if !strings.HasPrefix(loc, "/whip/site-01/doff1/") {
		t.Fatalf("Location %q", loc)
	}
	waitConnected(t, pc)
	pz, _ := webrtcavc.NewPacketizer(uint8(webrtcavc.H264Codec.PayloadType))
	p := &publisher{pc: pc, track: video, pz: pz, location: loc}
	feeding, stop := context.WithCancel(context.Background())
	fed := pace(feeding, p, testUnits, testFPS, new(atomic.Int64))
	defer func() { stop(); <-fed }()
	go func() { // some Opus frames (silence) alongside
		for range 50 {
			if err := audio.WriteSample(media.Sample{Data: []byte{0xf8, 0xff, 0xfe}, Duration: 20 * time.Millisecond}); err != nil {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()

	// A viewer offering to receive audio and video gets the video.
	vpc := peertest.NewPC(t)
	for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeAudio, webrtc.RTPCodecTypeVideo} {
		if _, err := vpc.AddTransceiverFromKind(kind, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			t.Fatal(err)
		}
	}
	units := make(chan avc.AccessUnit, 100)
	vpc.OnTrack(func(track *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		if track.Kind() != webrtc.RTPCodecTypeVideo {
			t.Errorf("the relay sent a %s track", track.Kind())
			return
		}
		go webrtcavc.ReadTrack(context.Background(), track, func(au avc.AccessUnit) {
			select {
			case units <- au:
			default:
			}
		})
	})
	negotiate(t, vpc, r.URL()+"/whep/site-01/doff1", token)
	select {
	case au := <-units:
		if !au.Keyframe {
			t.Fatal("first unit is not a keyframe")
		}
	case <-time.After(eventually.Ceiling):
		t.Fatal("no video")
	}
}

func TestViewersKeyframeRequestsReachThePublisher(t *testing.T) {
	clock := newClock()
	r := startRelay(t, Options{Demo: true, Now: clock.Now})
	token := login(t, r, "duty", r.Demo().Password)

	// A publisher that counts the keyframe requests it gets.
	pc := peertest.NewPC(t)
	track, _ := webrtc.NewTrackLocalStaticRTP(webrtcavc.H264Codec.RTPCodecCapability, "video", "cam")
	sender, err := pc.AddTransceiverFromTrack(track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		t.Fatal(err)
	}
	var plis atomic.Int64
	go func() {
		for {
			pkts, _, err := sender.Sender().ReadRTCP()
			if err != nil {
				return
			}
			for _, p := range pkts {
				if _, ok := p.(*rtcp.PictureLossIndication); ok {
					plis.Add(1)
				}
			}
		}
	}()
	pz, _ := webrtcavc.NewPacketizer(uint8(webrtcavc.H264Codec.PayloadType))
	p := &publisher{pc: pc, track: track, pz: pz}
	p.location = negotiate(t, pc, r.URL()+"/whip/site-01/doff1", r.Demo().PublishToken)
	waitConnected(t, pc)
	p.send(t, testUnits[0])
	waitFor(t, "the relay's own keyframe request when the video starts", func() bool { return plis.Load() == 1 })
	key := hub.Key{Site: "site-01", Camera: "doff1", Stream: hub.StreamMain}
	waitFor(t, "keyframe cached", func() bool { st, _ := r.hub.State(key); return st.Frames == 1 })

	v := watch(t, r, token, "site-01", "doff1", "main")
	v.next(t) // the cached keyframe: joining asked the publisher nothing
	pli := func() {
		t.Helper()
		if err := v.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: v.ssrc.Load()}}); err != nil {
			t.Fatal(err)
		}
	}
	pli()
	waitFor(t, "the viewer's PLI reaches the publisher", func() bool { return plis.Load() == 2 })

	// More within the second are held back (the relay's clock stands still).
	for range 5 {
		pli()
	}
	waitFor(t, "the requests are held back", func() bool { st, _ := r.hub.State(key); return st.KeyframeRequestsLimited == 5 })
	if n := plis.Load(); n != 2 {
		t.Fatalf("publisher got %d keyframe requests, want 2", n)
	}
	clock.Advance(time.Second)
	pli()
	waitFor(t, "a request a second later reaches the publisher", func() bool { return plis.Load() == 3 })
}

func TestVanishedViewerIsRemovedAndRecorded(t *testing.T) {
	// Short ICE timeouts keep the test short; the defaults remove a
	// vanished viewer after 8 s.
	r := startDemo(t, writeConfig(t, shortICE))
	token := login(t, r, "duty", r.Demo().Password)
	p := publish(t, r, "site-03", "gate", "main")
	p.send(t, testUnits[0])
	v := watch(t, r, token, "site-03", "gate", "main")
	v.next(t)
	sessions := r.Viewers()
	if len(sessions) != 1 || sessions[0].User != "duty" || sessions[0].Remote == "" {
		t.Fatalf("sessions %+v", sessions)
	}
	v.pc.Close() // the console crashed: no DELETE
	waitFor(t, "the vanished viewer's session closed", func() bool { return r.whep.Count() == 0 })
	recs, err := r.store.WHEPSessions(context.Background(), 1)
	// Nothing told the relay: ICE consent ran out.
	if err != nil || len(recs) != 1 || recs[0].Ended.IsZero() || recs[0].EndReason != peer.ReasonFailed {
		t.Fatalf("session record %+v, %v", recs, err)
	}
	if st, _ := r.hub.State(hub.Key{Site: "site-03", Camera: "gate", Stream: hub.StreamMain}); st.Readers != 0 {
		t.Fatalf("%d readers left on the stream", st.Readers)
	}
}

func TestMetricsEndpoint(t *testing.T) {
	r := startDemo(t, "")
	token := login(t, r, "duty", r.Demo().Password)
	p := publish(t, r, "site-01", "doff1", "main")
	p.send(t, testUnits[0])
	v := watch(t, r, token, "site-01", "doff1", "main")
	v.next(t)

	// The viewer may hold its keyframe a moment before the relay records the
	// first-keyframe time: read the metrics until it is there.
	var resp *http.Response
	var text string
	waitFor(t, "the first-keyframe metric", func() bool {
		var b []byte
		resp, b = apitest.Call(t, "GET", r.URL()+"/metrics", "", nil, nil)
		text = string(b)
		return strings.Contains(text, "\nqianliyan_relay_first_keyframe_seconds_count 1\n")
	})
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("metrics: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{
		`qianliyan_relay_streams{state="online"} 1`,
		`qianliyan_relay_viewers 1`,
		`qianliyan_relay_first_keyframe_seconds_count 1`,
		`qianliyan_relay_stream_viewers{camera="doff1",site="site-01",stream="main"} 1`,
		`qianliyan_relay_logins_total{result="ok"} 1`,
	} {
		if !strings.Contains(text, "\n"+want+"\n") {
			t.Errorf("metrics lack %s", want)
		}
	}
	for _, name := range []string{"qianliyan_relay_packets_in_total", "qianliyan_relay_packets_out_total", "qianliyan_relay_bytes_out_total"} {
		if gathered(t, r, name) <= 0 {
			t.Errorf("%s is zero", name)
		}
	}

	off := startRelay(t, Options{ConfigFile: writeConfig(t, "http:\n  metrics: false\n")})
	if resp, _ := apitest.Call(t, "GET", off.URL()+"/metrics", "", nil, nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("metrics switched off: %d", resp.StatusCode)
	}
}
