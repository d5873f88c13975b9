package webrtcavc_test

import (
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v3"

	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/internal/webrtcavc"
)

// TestRetransmitsRecentPacketsOnly: a lost packet within NACKHistory is
// sent again when the receiver asks; an older one is not.
func TestRetransmitsRecentPacketsOnly(t *testing.T) {
	api, err := webrtcavc.NewAPI(webrtcavc.Settings(true))
	if err != nil {
		t.Fatal(err)
	}
	sender, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer sender.Close()
	// Every packet arrives here; the receiver asks for some again anyway,
	// and takes the copies rather than drop them as SRTP replays.
	settings := webrtcavc.Settings(true)
	settings.DisableSRTPReplayProtection(true)
	rapi, err := webrtcavc.NewAPI(settings)
	if err != nil {
		t.Fatal(err)
	}
	receiver, err := rapi.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer receiver.Close()

	local, err := webrtc.NewTrackLocalStaticRTP(webrtcavc.H264Codec.RTPCodecCapability, "video", "test")
	if err != nil {
		t.Fatal(err)
	}
	tr, err := sender.AddTransceiverFromTrack(local, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		t.Fatal(err)
	}
	go func() { // the responder sees NACKs only while RTCP is read
		for {
			if _, _, err := tr.Sender().ReadRTCP(); err != nil {
				return
			}
		}
	}()
	tracks := make(chan *webrtc.TrackRemote, 1)
	receiver.OnTrack(func(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) { tracks <- t })

	offer, err := sender.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(sender)
	if err := sender.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	if err := receiver.SetRemoteDescription(*sender.LocalDescription()); err != nil {
		t.Fatal(err)
	}
	answer, err := receiver.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered = webrtc.GatheringCompletePromise(receiver)
	if err := receiver.SetLocalDescription(answer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	if err := sender.SetRemoteDescription(*receiver.LocalDescription()); err != nil {
		t.Fatal(err)
	}

	// Packets first..last, a little at a time so that none is lost.
	const first, last = 1000, 1000 + 2*webrtcavc.NACKHistory
	send := func(seq uint16) error {
		return local.WriteRTP(&rtp.Packet{
			Header:  rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(seq) * 3000, Marker: true},
			Payload: []byte{0x41, byte(seq), byte(seq >> 8)},
		})
	}
	// A packet brings the track to the receiver once SRTP is up.
	var track *webrtc.TrackRemote
	deadline := time.Now().Add(eventually.Ceiling)
	for track == nil {
		if time.Now().After(deadline) {
			t.Fatalf("no track within %v (%s)", eventually.Ceiling, sender.ConnectionState())
		}
		if err := send(first - 1); err != nil {
			t.Fatal(err)
		}
		select {
		case track = <-tracks:
		case <-time.After(20 * time.Millisecond):
		}
	}
	go func() {
		for seq := first; seq <= last; seq++ {
			if send(uint16(seq)) != nil {
				return
			}
			if seq%32 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
	}()
	read := func() uint16 {
		t.Helper()
		if err := track.SetReadDeadline(time.Now().Add(eventually.Ceiling)); err != nil {
			t.Fatal(err)
		}
		pkt, _, err := track.ReadRTP()
		if err != nil {
			t.Fatalf("reading: %v", err)
		}
		return pkt.SequenceNumber
	}
	for read() != last {
	}

	// The receiver reports two packets lost, the older first: one from the
	// start, 2×NACKHistory back, and one ten packets back.
	old, recent := uint16(first), uint16(last-10)
	if err := receiver.WriteRTCP([]rtcp.Packet{&rtcp.TransportLayerNack{
		MediaSSRC: uint32(track.SSRC()),
		Nacks:     []rtcp.NackPair{{PacketID: old}, {PacketID: recent}},
	}}); err != nil {
		t.Fatal(err)
	}
	// Resent in the order asked, the old one would come first.
	for {
		switch seq := read(); seq {
		case old:
			t.Fatalf("packet %d, %d packets back, was sent again", old, last-first)
		case recent:
			return
		}
	}
}
