package sitesim

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"
	"testing/iotest"
)

func TestUnitSplitter(t *testing.T) {
	aud := []byte{0x09, 0xf0}
	sps := []byte{0x67, 0x42, 0xc0, 0x1f}
	pps := []byte{0x68, 0xce, 0x3c, 0x80}
	idr := []byte{0x65, 0x88, 0x84, 0x21}
	p1 := []byte{0x41, 0x9a, 0x02}
	p2 := []byte{0x41, 0x9a, 0x04, 0x03} // ends in an emulation-prevention byte, not a zero
	sc3 := []byte{0, 0, 1}
	sc4 := []byte{0, 0, 0, 1}
	join := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

	cases := []struct {
		name   string
		stream []byte
		want   [][][]byte
	}{
		{
			name:   "4-byte start codes, last unit incomplete",
			stream: join(sc4, aud, sc4, sps, sc4, pps, sc3, idr, sc4, aud, sc3, p1, sc4, aud, sc3, p2),
			want:   [][][]byte{{sps, pps, idr}, {p1}},
		},
		{
			name:   "3-byte start codes",
			stream: join(sc3, aud, sc3, idr, sc3, aud, sc3, p1, sc3, aud, sc3, p2, sc3, aud),
			want:   [][][]byte{{idr}, {p1}, {p2}},
		},
		{
			name:   "bytes before the first delimiter are dropped",
			stream: join([]byte{0x12, 0x34}, sc3, p1, sc4, aud, sc3, idr, sc4, aud),
			want:   [][][]byte{{idr}},
		},
		{
			name:   "no delimiter",
			stream: join(sc4, idr, sc4, p1),
			want:   nil,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// One byte at a time puts every start code across a read boundary.
			s := newUnitSplitter(iotest.OneByteReader(bytes.NewReader(tc.stream)))
			var got [][][]byte
			for {
				nalus, err := s.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatalf("Next: %v", err)
				}
				got = append(got, nalus)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("units:\n got %x\nwant %x", got, tc.want)
			}
		})
	}
}

func TestUnitSplitterRefusesEndlessUnit(t *testing.T) {
	stream := append([]byte{0, 0, 1, 0x09, 0xf0, 0, 0, 1, 0x65}, bytes.Repeat([]byte{0xaa}, maxUnitBytes+1)...)
	s := newUnitSplitter(bytes.NewReader(stream))
	if _, err := s.Next(); err == nil || errors.Is(err, io.EOF) {
		t.Fatalf("Next = %v, want an error about the missing delimiter", err)
	}
}
