package avc

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

func TestUnitReader(t *testing.T) {
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
		name        string
		stream      []byte
		discardTail bool
		want        [][][]byte
		wantErr     error // what ends the stream; io.EOF when nil
	}{
		{
			name:   "4-byte start codes, the last unit ends the stream",
			stream: join(sc4, aud, sc4, sps, sc4, pps, sc3, idr, sc4, aud, sc3, p1, sc4, aud, sc3, p2),
			want:   [][][]byte{{sps, pps, idr}, {p1}, {p2}},
		},
		{
			name:        "a live pipe's last unit may be cut short: discarded",
			stream:      join(sc4, aud, sc4, sps, sc4, pps, sc3, idr, sc4, aud, sc3, p1, sc4, aud, sc3, p2),
			discardTail: true,
			want:        [][][]byte{{sps, pps, idr}, {p1}},
		},
		{
			name:   "3-byte start codes, a lone delimiter at the end is no unit",
			stream: join(sc3, aud, sc3, idr, sc3, aud, sc3, p1, sc3, aud, sc3, p2, sc3, aud),
			want:   [][][]byte{{idr}, {p1}, {p2}},
		},
		{
			name:   "empty delimited units are skipped",
			stream: join(sc4, aud, sc4, aud, sc3, idr, sc4, aud, sc4, aud, sc3, p1),
			want:   [][][]byte{{idr}, {p1}},
		},
		{
			name:   "trailing zero bytes between units are dropped",
			stream: join(sc4, aud, sc3, idr, []byte{0, 0}, sc4, aud, sc3, p1),
			want:   [][][]byte{{idr}, {p1}},
		},
		{
			name:   "bytes before the first delimiter are dropped",
			stream: join([]byte{0x12, 0x34}, sc3, p1, sc4, aud, sc3, idr, sc4, aud),
			want:   [][][]byte{{idr}},
		},
		{
			name:    "no delimiter at all",
			stream:  join(sc4, idr, sc4, p1),
			wantErr: ErrNoDelimiter,
		},
		{
			name:   "empty stream",
			stream: nil,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// One byte at a time puts every start code across a read boundary.
			r := NewUnitReader(iotest.OneByteReader(bytes.NewReader(tc.stream)))
			r.DiscardTail = tc.discardTail
			got, err := readAll(r)
			want := tc.wantErr
			if want == nil {
				want = io.EOF
			}
			if !errors.Is(err, want) {
				t.Fatalf("stream ended with %v, want %v", err, want)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("units:\n got %x\nwant %x", got, tc.want)
			}
			// The end is sticky.
			if _, again := r.Next(); !errors.Is(again, want) {
				t.Fatalf("Next after the end = %v, want %v again", again, want)
			}
		})
	}
}

func readAll(r *UnitReader) ([][][]byte, error) {
	var units [][][]byte
	for {
		nalus, err := r.Next()
		if err != nil {
			return units, err
		}
		if len(nalus) == 0 {
			return units, errors.New("Next returned an empty unit")
		}
		units = append(units, nalus)
	}
}

// TestUnitReaderUnitsAreTheCallers: the reader reuses its buffer, so a unit
// it returned must not change when the next one is read.
func TestUnitReaderUnitsAreTheCallers(t *testing.T) {
	stream := []byte{0, 0, 1, 9, 0xf0, 0, 0, 1, 0x65, 1, 2, 0, 0, 1, 9, 0xf0, 0, 0, 1, 0x41, 3, 4, 0, 0, 1, 9, 0xf0}
	r := NewUnitReader(bytes.NewReader(stream))
	first, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first[0], []byte{0x65, 1, 2}) {
		t.Fatalf("the first unit changed to %x", first[0])
	}
}

func TestUnitReaderRefusesEndlessUnit(t *testing.T) {
	cases := []struct {
		name   string
		stream []byte
	}{
		{"a delimiter, then no other", append([]byte{0, 0, 1, 0x09, 0xf0, 0, 0, 1, 0x65}, bytes.Repeat([]byte{0xaa}, MaxUnitBytes+1)...)},
		{"never a delimiter", append([]byte{0, 0, 1, 0x65}, bytes.Repeat([]byte{0xaa}, MaxUnitBytes+1)...)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// An endless stream: the reader must give up on its own.
			r := NewUnitReader(io.MultiReader(bytes.NewReader(tc.stream), endless{}))
			if _, err := r.Next(); !errors.Is(err, ErrNoDelimiter) {
				t.Fatalf("Next = %v, want ErrNoDelimiter", err)
			}
		})
	}
}

type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 0xbb
	}
	return len(p), nil
}

// TestUnitReaderReadError: units complete before a read error are returned,
// then the error, wrapped.
func TestUnitReaderReadError(t *testing.T) {
	broken := errors.New("pipe broke")
	stream := []byte{0, 0, 1, 9, 0xf0, 0, 0, 1, 0x65, 1, 0, 0, 1, 9, 0xf0, 0, 0, 1, 0x41, 3}
	r := NewUnitReader(io.MultiReader(bytes.NewReader(stream), iotest.ErrReader(broken)))
	got, err := readAll(r)
	if !errors.Is(err, broken) || !strings.Contains(err.Error(), "reading H.264 stream") {
		t.Fatalf("stream ended with %v, want the read error wrapped", err)
	}
	// The unit cut off by the error is not trusted.
	if want := [][][]byte{{{0x65, 1}}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("units %x, want %x", got, want)
	}
}
