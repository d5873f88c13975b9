// Package peertest is the other end of the relay's WebRTC sessions for
// tests: a pion peer set up as the relay's own (H.264, NACK), and the
// complete offer a WHIP or WHEP client posts, every candidate gathered.
package peertest

import (
	"testing"
	"time"

	"github.com/pion/webrtc/v3"

	"github.com/qianliyan/qianliyan/internal/webrtcavc"
)

// NewPC returns a peer connection closed when the test ends.
func NewPC(t testing.TB) *webrtc.PeerConnection {
	t.Helper()
	return newPC(t, webrtcavc.Settings(true))
}

// NewQuickPC is NewPC noticing within about a second that the other side
// has gone (ICE disconnected after 1 s), where pion's defaults take 5 s:
// for tests of a peer vanishing.
func NewQuickPC(t testing.TB) *webrtc.PeerConnection {
	t.Helper()
	s := webrtcavc.Settings(true)
	s.SetICETimeouts(time.Second, 2*time.Second, 200*time.Millisecond)
	return newPC(t, s)
}

func newPC(t testing.TB, s webrtc.SettingEngine) *webrtc.PeerConnection {
	t.Helper()
	api, err := webrtcavc.NewAPI(s)
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

// Offer makes pc's offer, its transceivers added by the caller, and
// returns it once ICE gathering is complete, as the relay wants it (no
// trickle ICE).
func Offer(t testing.TB, pc *webrtc.PeerConnection) string {
	t.Helper()
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	return pc.LocalDescription().SDP
}

// ViewerOffer returns the complete offer of a WHEP viewer receiving H.264
// video, from a peer of its own.
func ViewerOffer(t testing.TB) string {
	t.Helper()
	pc := NewPC(t)
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		t.Fatal(err)
	}
	return Offer(t, pc)
}
