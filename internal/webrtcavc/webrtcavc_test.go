package webrtcavc

import (
	"bytes"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/internal/avc"
)

func TestPacketizeDepacketizeRoundTrip(t *testing.T) {
	big := bytes.Repeat([]byte{0xab}, 5000) // must be fragmented (FU-A)
	big[0] = 0x65
	units := []avc.AccessUnit{
		avc.NewAccessUnit([][]byte{{0x67, 0x42, 0xc0, 0x1f}, {0x68, 0xce}, big}, 10*time.Second),
		avc.NewAccessUnit([][]byte{{0x41, 1, 2, 3}}, 10*time.Second+66*time.Millisecond),
		avc.NewAccessUnit([][]byte{{0x41, 4, 5, 6}}, 10*time.Second+133*time.Millisecond),
	}
	p, err := NewPacketizer(uint8(H264Codec.PayloadType))
	if err != nil {
		t.Fatal(err)
	}
	d := &Depacketizer{}
	var got []avc.AccessUnit
	for _, au := range units {
		pkts, err := p.Packetize(au)
		if err != nil {
			t.Fatal(err)
		}
		for _, pkt := range pkts {
			if len(pkt.Payload) > MaxPayload {
				t.Fatalf("payload %d over %d", len(pkt.Payload), MaxPayload)
			}
			if out, ok := d.Push(pkt); ok {
				got = append(got, out)
			}
		}
	}
	if len(got) != 3 {
		t.Fatalf("got %d access units, want 3", len(got))
	}
	if !got[0].Keyframe || got[1].Keyframe || !bytes.Equal(got[0].NALUs[2], big) {
		t.Fatalf("first unit mangled: keyframe=%v", got[0].Keyframe)
	}
	if d := got[2].PTS - got[1].PTS; d < 60*time.Millisecond || d > 70*time.Millisecond {
		t.Fatalf("PTS step %v, want ~66ms", d)
	}
	if _, err := p.Packetize(avc.AccessUnit{}); err == nil {
		t.Fatal("empty unit packetized")
	}
}

func TestIsLoopbackURL(t *testing.T) {
	cases := map[string]bool{
		"http://127.0.0.1:8080":  true,
		"http://localhost:8080/": true,
		"http://[::1]:80":        true,
		"http://10.0.0.5:8080":   false,
		"https://relay.example":  false,
		"::not a url":            false,
	}
	for in, want := range cases {
		if got := IsLoopbackURL(in); got != want {
			t.Errorf("IsLoopbackURL(%q) = %v, want %v", in, got, want)
		}
	}
}
