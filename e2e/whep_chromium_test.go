package e2e

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/qianliyan/qianliyan/internal/chromium"
	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/internal/testmedia"
	"github.com/qianliyan/qianliyan/internal/webrtcclient"
	"github.com/qianliyan/qianliyan/relay"
	"github.com/qianliyan/qianliyan/relay/api/apitest"
	"github.com/qianliyan/qianliyan/relay/metrics/metricstest"
	"github.com/qianliyan/qianliyan/relay/relaytest"
)

// playerPage is a WHEP player as a web page writes one: Chromium's own
// RTCPeerConnection makes a complete offer, in which Chromium hides its
// addresses behind mDNS names the relay cannot resolve, posts it, and
// applies the answer. stats() reports what the page's video element shows.
const playerPage = `<!doctype html><meta charset="utf-8"><title>WHEP player</title>
<video id="v" autoplay muted playsinline></video>
<script>
let pc, shown = null;
window.play = async (url, token) => {
  pc = new RTCPeerConnection();
  pc.addTransceiver('video', {direction: 'recvonly'});
  pc.ontrack = (e) => {
    const v = document.getElementById('v');
    v.srcObject = new MediaStream([e.track]);
    // How far the picture on screen is behind the newest packet, in RTP
    // time: a player replaying a burst at its pace stays behind.
    const frame = (now, md) => {
      const src = e.receiver.getSynchronizationSources()[0];
      if (src) shown = {lagMs: ((src.rtpTimestamp - md.rtpTimestamp) >>> 0) / 90, presented: md.presentedFrames};
      v.requestVideoFrameCallback(frame);
    };
    v.requestVideoFrameCallback(frame);
  };
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') return resolve();
    pc.addEventListener('icegatheringstatechange', () => { if (pc.iceGatheringState === 'complete') resolve(); });
  });
  const offer = pc.localDescription.sdp;
  const resp = await fetch(url, {method: 'POST', headers: {'Content-Type': 'application/sdp', 'Authorization': 'Bearer ' + token}, body: offer});
  if (resp.status !== 201) throw new Error('WHEP ' + resp.status + ' ' + await resp.text());
  await pc.setRemoteDescription({type: 'answer', sdp: await resp.text()});
  return {offer, location: resp.headers.get('Location')};
};
window.stats = async () => {
  const out = {framesDecoded: 0, state: pc ? pc.connectionState : 'none', lagMs: -1};
  if (!pc) return out;
  (await pc.getStats()).forEach((s) => {
    if (s.type === 'inbound-rtp' && s.kind === 'video') out.framesDecoded = s.framesDecoded || 0;
  });
  if (shown) out.lagMs = shown.lagMs;
  return out;
};
</script>`

type playResult struct {
	Offer    string `json:"offer"`
	Location string `json:"location"`
}

type pageStats struct {
	FramesDecoded int     `json:"framesDecoded"`
	State         string  `json:"state"`
	LagMs         float64 `json:"lagMs"`
}

var candidateAddr = regexp.MustCompile(`(?m)^a=candidate:\S+ \d+ \S+ \d+ (\S+) `)

// TestChromiumPlaysWHEP: Chromium's own RTCPeerConnection, not pion, plays
// a camera from the relay in this process, joining in the middle of a long
// GOP.
func TestChromiumPlaysWHEP(t *testing.T) {
	// A camera with a keyframe every 4 s: the viewer joins 3 s into a GOP,
	// so it starts with a burst of 45 cached units.
	units, err := testmedia.Units(testmedia.Spec{Width: 320, Height: 240, FPS: 15, GOP: 60, Seconds: 8})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r := relaytest.Serve(t, relay.Options{Demo: true})
	token := apitest.Login(t, r.URL(), "duty", r.Demo().Password)
	p, err := webrtcclient.Publish(ctx, r.URL()+"/whip/site-01/doff1?stream=main", webrtcclient.Config{Token: r.Demo().PublishToken})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.PC.Close() })
	const cached = 45
	for i := range cached {
		if err := p.Write(units[i]); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	stream := map[string]string{"site": "site-01", "camera": "doff1", "stream": "main"}
	eventually.True(t, eventually.Ceiling, "the relay has the GOP", func() bool {
		return metricstest.Value(t, r.Metrics(), "qianliyan_relay_stream_frames_in_total", stream) == cached
	})
	liveCtx, stopLive := context.WithCancel(ctx)
	defer stopLive()
	go func() { // then live, at the camera's pace
		tick := time.NewTicker(time.Second / 15)
		defer tick.Stop()
		for i := cached; liveCtx.Err() == nil; i++ {
			<-tick.C
			au := units[i%len(units)]
			au.PTS = time.Duration(i) * time.Second / 15
			if p.Write(au) != nil {
				return
			}
		}
	}()

	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(playerPage))
	}))
	defer page.Close()
	// No flag touches Chromium's mDNS hiding of host addresses: the relay
	// must cope with it.
	bctx := chromium.New(t, ctx)
	if _, err := chromedp.Run(bctx, chromedp.Navigate(page.URL)); err != nil {
		t.Fatalf("opening the player page: %v", err)
	}
	res, err := chromedp.Run(bctx, chromedp.Evaluate[playResult](`play(`+jsString(r.URL()+"/whep/site-01/doff1")+`, `+jsString(token)+`)`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("playing: %v", err)
	}
	if !strings.HasPrefix(res.Location, "/whep/site-01/doff1/") {
		t.Fatalf("Location %q", res.Location)
	}
	// The offer gives the relay no address to reach: only mDNS names.
	for _, m := range candidateAddr.FindAllStringSubmatch(res.Offer, -1) {
		if net.ParseIP(m[1]) != nil {
			t.Fatalf("Chromium offered an IP address (%s): the test does not exercise mDNS hiding", m[1])
		}
	}

	stats := func() pageStats {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Evaluate[pageStats](`stats()`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("reading stats: %v", err)
		}
		return s
	}
	deadline := time.Now().Add(15 * time.Second)
	var first pageStats
	for first = stats(); first.FramesDecoded < cached; first = stats() {
		if time.Now().After(deadline) {
			t.Fatalf("Chromium did not decode the cached GOP within 15 s: %+v", first)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// ICE learnt the browser's address from its connectivity checks.
	if v := r.Viewers(); len(v) != 1 || !strings.HasSuffix(v[0].Remote, " prflx") {
		t.Fatalf("viewer sessions %+v, want one whose address was learnt (prflx)", v)
	}
	// After the burst the browser shows the present, not the GOP replayed
	// at its pace (which would keep it up to 3 s behind).
	deadline = time.Now().Add(5 * time.Second)
	var last pageStats
	for last = stats(); last.LagMs < 0 || last.LagMs > 1000; last = stats() {
		if time.Now().After(deadline) {
			t.Fatalf("the picture shown stays %v ms behind the newest frame", last.LagMs)
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	if later := stats(); later.FramesDecoded <= first.FramesDecoded || later.State != "connected" {
		t.Fatalf("decoding stopped: %+v, then %+v", first, later)
	}
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, c := range s {
		switch c {
		case '"', '\\':
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	b.WriteByte('"')
	return b.String()
}
