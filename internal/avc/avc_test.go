package avc

import (
	"bytes"
	"testing"
)

// An SPS for 640x360 constrained baseline level 3.1, as x264 writes it.
var testSPS = []byte{0x67, 0x42, 0xc0, 0x1f, 0xd9, 0x00, 0xa0, 0x2f, 0xf9, 0x70, 0x11, 0x00, 0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x03, 0x00, 0x3c, 0x8f, 0x18, 0x32, 0x48}
var testPPS = []byte{0x68, 0xcb, 0x83, 0xcb, 0x20}

func TestParseSPS(t *testing.T) {
	info, err := ParseSPS(testSPS)
	if err != nil {
		t.Fatal(err)
	}
	if info.Codec != "avc1.42c01f" || info.Width != 640 || info.Height != 360 {
		t.Fatalf("got %+v", info)
	}
	if _, err := ParseSPS([]byte{0x68, 1}); err == nil {
		t.Fatal("a PPS parsed as SPS")
	}
}

func TestWithParamSets(t *testing.T) {
	idr := []byte{0x65, 0x88, 0x84}
	cases := []struct {
		name string
		in   [][]byte
		want int
	}{
		{"bare IDR gets both", [][]byte{idr}, 3},
		{"already complete", [][]byte{testSPS, testPPS, idr}, 3},
		{"only SPS present", [][]byte{testSPS, idr}, 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			au := NewAccessUnit(c.in, 0).WithParamSets(testSPS, testPPS)
			if len(au.NALUs) != c.want {
				t.Fatalf("got %d NAL units", len(au.NALUs))
			}
			if !bytes.Equal(au.NALUs[0], testSPS) || !au.Keyframe {
				t.Fatalf("got %x keyframe=%v", au.NALUs[0], au.Keyframe)
			}
		})
	}
}

func TestAnnexBRoundTrip(t *testing.T) {
	au := NewAccessUnit([][]byte{testSPS, testPPS, {0x65, 1, 2, 3}}, 0)
	b, err := au.AnnexB()
	if err != nil {
		t.Fatal(err)
	}
	nalus, err := SplitAnnexB(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(nalus) != 3 || !bytes.Equal(nalus[2], []byte{0x65, 1, 2, 3}) {
		t.Fatalf("got %x", nalus)
	}
	if _, err := SplitAnnexB([]byte{1, 2, 3}); err == nil {
		t.Fatal("garbage split without error")
	}
}
