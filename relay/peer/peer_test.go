package peer

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v3"

	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/internal/webrtcavc"
	"github.com/qianliyan/qianliyan/relay/peer/peertest"
)

// publisherOffer returns a client sending one H.264 track and its complete offer.
func publisherOffer(t *testing.T, withAudio bool) (*webrtc.PeerConnection, string) {
	t.Helper()
	pc := peertest.NewPC(t)
	track, err := webrtc.NewTrackLocalStaticRTP(webrtcavc.H264Codec.RTPCodecCapability, "video", "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pc.AddTransceiverFromTrack(track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
		t.Fatal(err)
	}
	if withAudio {
		if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
			t.Fatal(err)
		}
	}
	return pc, peertest.Offer(t, pc)
}

func TestCheckOffer(t *testing.T) {
	_, good := publisherOffer(t, false)
	cases := []struct {
		name  string
		offer string
		ok    bool
	}{
		{"pion offer", good, true},
		{"garbage", "hello", false},
		{"empty", "", false},
		{"audio only", "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=rtpmap:111 opus/48000/2\r\n", false},
		{"VP8 only", strings.ReplaceAll(good, "H264/90000", "VP8/90000"), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := CheckOffer(c.offer)
			if c.ok != (err == nil) {
				t.Fatalf("CheckOffer: %v, want ok=%v", err, c.ok)
			}
			if err != nil && !errors.Is(err, ErrBadOffer) {
				t.Fatalf("%v is not ErrBadOffer", err)
			}
		})
	}
}

// connect answers the client's offer on a new relay-side peer and
// completes the exchange, returning the relay side's lifecycle and answer.
func connect(t *testing.T, client *webrtc.PeerConnection, offer string, timeout time.Duration) (*Lifecycle, string) {
	t.Helper()
	relay := peertest.NewQuickPC(t)
	lc := Watch(relay, timeout, true)
	answer, err := Answer(context.Background(), relay, offer)
	if err != nil {
		t.Fatalf("Answer: %v", err)
	}
	if err := client.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		t.Fatalf("client rejected the answer: %v", err)
	}
	return lc, answer
}

func waitConnected(t *testing.T, lc *Lifecycle) {
	t.Helper()
	select {
	case <-lc.Connected():
	case <-lc.Ended():
		t.Fatalf("ended before connecting: %s", lc.Reason())
	case <-time.After(eventually.Ceiling):
		t.Fatal("not connected")
	}
}

func TestAnswerIsCompleteAndConnects(t *testing.T) {
	client, offer := publisherOffer(t, true)
	lc, answer := connect(t, client, offer, 10*time.Second)
	if !strings.Contains(answer, "a=candidate:") || !strings.Contains(answer, "a=group:BUNDLE") {
		t.Fatalf("answer lacks candidates or BUNDLE:\n%s", answer)
	}
	if strings.Contains(answer, "m=video 0 ") {
		t.Fatalf("video rejected:\n%s", answer)
	}
	waitConnected(t, lc)
	if lc.Reason() != "" {
		t.Fatalf("reason %q before the end", lc.Reason())
	}
	client.Close()
	select {
	case <-lc.Ended():
	case <-time.After(eventually.Ceiling):
		t.Fatal("relay side did not notice the client leaving")
	}
	if r := lc.Reason(); r != ReasonClosed && r != ReasonDisconnected && r != ReasonFailed {
		t.Fatalf("ended for %q", r)
	}
}

func TestAnswerBundlesASingleUnbundledSection(t *testing.T) {
	client, offer := publisherOffer(t, false)
	unbundled := removeLines(offer, "a=group:BUNDLE")
	if unbundled == offer {
		t.Fatal("pion's offer had no BUNDLE group to remove")
	}
	lc, answer := connect(t, client, unbundled, 10*time.Second)
	if strings.Contains(answer, "a=group:BUNDLE") {
		t.Fatalf("answer bundles what the offer did not:\n%s", answer)
	}
	if strings.Contains(answer, "m=video 0 ") {
		t.Fatalf("video rejected:\n%s", answer)
	}
	waitConnected(t, lc)
}

func TestAnswerRefusesSeveralUnbundledSections(t *testing.T) {
	_, offer := publisherOffer(t, true)
	relay := peertest.NewPC(t)
	_, err := Answer(context.Background(), relay, removeLines(offer, "a=group:BUNDLE"))
	if !errors.Is(err, ErrBadOffer) || !strings.Contains(err.Error(), "2 media sections") {
		t.Fatalf("Answer: %v", err)
	}
}

func TestConnectTimeoutEnds(t *testing.T) {
	_, offer := publisherOffer(t, false)
	relay := peertest.NewPC(t)
	lc := Watch(relay, 200*time.Millisecond, false)
	if _, err := Answer(context.Background(), relay, offer); err != nil {
		t.Fatal(err)
	}
	// The client never takes the answer.
	select {
	case <-lc.Ended():
	case <-time.After(eventually.Ceiling):
		t.Fatal("no connect timeout")
	}
	if lc.Reason() != ReasonConnectTimeout {
		t.Fatalf("reason %q", lc.Reason())
	}
	lc.End(ReasonDeleted) // later reasons do not replace the first
	if lc.Reason() != ReasonConnectTimeout {
		t.Fatalf("reason changed to %q", lc.Reason())
	}
}

func TestNewSessionID(t *testing.T) {
	a, b := NewSessionID(), NewSessionID()
	if a == b || len(a) != 32 {
		t.Fatalf("ids %q %q", a, b)
	}
}
