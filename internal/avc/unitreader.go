package avc

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
)

// MaxUnitBytes bounds how much a UnitReader buffers while looking for the
// next delimiter, so a misconfigured encoder cannot make it grow without
// limit. A 4K keyframe at a generous rate stays well below it.
const MaxUnitBytes = 4 << 20

// ErrNoDelimiter is returned by UnitReader.Next for a stream that does not
// mark its access units with delimiters.
var ErrNoDelimiter = errors.New("no access unit delimiter")

// audStart is a 3-byte start code followed by an access unit delimiter header.
// Emulation prevention guarantees 00 00 01 never occurs inside a NAL unit, so
// this marks the start of an access unit and nothing else.
var audStart = []byte{0x00, 0x00, 0x01, byte(h264.NALUTypeAccessUnitDelimiter)}

// UnitReader cuts an Annex-B byte stream whose access units each begin with
// an access unit delimiter (x264's aud=1, ffmpeg's h264 muxer) into access
// units. Without delimiters the end of a unit can only be guessed from slice
// headers; with them a unit is complete when the next delimiter arrives, so
// a live encoder's units come out as soon as the following one starts.
type UnitReader struct {
	// DiscardTail drops the bytes after the last delimiter at the end of
	// the stream instead of returning them as a final unit. Set it for a
	// live encoder's pipe, where the end means the encoder died, possibly
	// in the middle of writing a unit; leave it unset for a file, which
	// ends with a whole unit.
	DiscardTail bool

	r       io.Reader
	buf     []byte
	scanned int   // bytes of buf already searched for the next delimiter
	skipped int   // bytes dropped so far while looking for the first delimiter
	found   bool  // a delimiter has been seen
	err     error // the read error that ended the stream, returned once buf is used up
	chunk   []byte
}

// NewUnitReader returns a reader of the access units in r.
func NewUnitReader(r io.Reader) *UnitReader {
	return &UnitReader{r: r, chunk: make([]byte, 64<<10)}
}

// Next returns the NAL units of the next access unit, without start codes
// and with the delimiter dropped; it never returns an empty unit. The slices are the caller's: the reader
// never touches them again. Bytes before the first delimiter are dropped.
// At the end of the stream Next returns io.EOF; a stream that ends without
// a single delimiter gives ErrNoDelimiter instead, as does one in which
// MaxUnitBytes pass without one.
func (u *UnitReader) Next() ([][]byte, error) {
	for {
		if start, end, ok := u.nextUnit(); ok {
			nalus, err := u.take(start, end)
			if err != nil || len(nalus) > 0 {
				return nalus, err
			}
			continue // a delimiter with nothing behind it is no unit
		}
		if u.err != nil {
			return u.finish()
		}
		if len(u.buf) > MaxUnitBytes || u.skipped > MaxUnitBytes {
			return nil, fmt.Errorf("%w in %d bytes of H.264 (is the encoder writing them, x264 aud=1?)",
				ErrNoDelimiter, max(len(u.buf), u.skipped))
		}
		n, err := u.r.Read(u.chunk)
		u.buf = append(u.buf, u.chunk[:n]...)
		if err != nil {
			if errors.Is(err, io.EOF) {
				u.err = io.EOF
			} else {
				u.err = fmt.Errorf("reading H.264 stream: %w", err)
			}
		}
	}
}

// finish handles what is left in the buffer once the stream has ended.
func (u *UnitReader) finish() ([][]byte, error) {
	if u.err != io.EOF {
		return nil, u.err
	}
	if !u.found {
		if u.skipped+len(u.buf) > 0 {
			return nil, fmt.Errorf("%w in %d bytes of H.264 (is the encoder writing them, x264 aud=1?)",
				ErrNoDelimiter, u.skipped+len(u.buf))
		}
		return nil, io.EOF
	}
	first := bytes.Index(u.buf, audStart)
	if first < 0 || u.DiscardTail {
		u.buf = u.buf[:0]
		return nil, io.EOF
	}
	nalus, err := u.take(first, len(u.buf))
	if err == nil && len(nalus) == 0 {
		return nil, io.EOF
	}
	return nalus, err
}

// take splits buf[start:end] into NAL units and drops it from the buffer.
func (u *UnitReader) take(start, end int) ([][]byte, error) {
	// Copy: the buffer is reused, and units travel to other goroutines.
	unit := append([]byte(nil), u.buf[start:end]...)
	u.buf = u.buf[:copy(u.buf, u.buf[end:])]
	u.scanned = 0
	nalus, err := SplitAnnexB(unit)
	if err != nil {
		return nil, err
	}
	out := nalus[:0]
	for _, n := range nalus {
		if len(n) > 0 && h264.NALUType(n[0]&0x1f) != h264.NALUTypeAccessUnitDelimiter {
			out = append(out, n)
		}
	}
	return out, nil
}

// nextUnit finds the first complete unit in buf: from its delimiter's start
// code to the start code of the following delimiter.
func (u *UnitReader) nextUnit() (start, end int, ok bool) {
	first := bytes.Index(u.buf, audStart)
	if first < 0 {
		// Keep the last bytes: they may be the beginning of a delimiter.
		if keep := len(audStart) - 1; len(u.buf) > keep {
			if !u.found {
				u.skipped += len(u.buf) - keep
			}
			u.buf = u.buf[:copy(u.buf, u.buf[len(u.buf)-keep:])]
		}
		return 0, 0, false
	}
	if !u.found {
		u.found = true
		u.skipped += first
	}
	from := max(u.scanned, first+len(audStart))
	i := bytes.Index(u.buf[from:], audStart)
	if i < 0 {
		u.scanned = max(first+len(audStart), len(u.buf)-len(audStart)+1)
		return 0, 0, false
	}
	end = from + i
	// A 4-byte start code's leading zero belongs to the next unit.
	for end > first && u.buf[end-1] == 0 {
		end--
	}
	return first, end, true
}
