package sitesim

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"

	"github.com/qianliyan/qianliyan/internal/avc"
)

// maxUnitBytes bounds how much the splitter buffers while looking for the next
// delimiter, so a misconfigured encoder cannot make it grow without limit.
const maxUnitBytes = 4 << 20

// audStart is a 3-byte start code followed by an access unit delimiter header.
// Emulation prevention guarantees 00 00 01 never occurs inside a NAL unit, so
// this marks the start of an access unit and nothing else.
var audStart = []byte{0x00, 0x00, 0x01, byte(h264.NALUTypeAccessUnitDelimiter)}

// unitSplitter cuts an Annex-B byte stream whose access units each begin with
// an access unit delimiter (x264 aud=1) into access units. A unit is complete
// when the delimiter of the next one arrives.
type unitSplitter struct {
	r       io.Reader
	buf     []byte
	scanned int // bytes of buf already searched for a delimiter
	chunk   []byte
}

func newUnitSplitter(r io.Reader) *unitSplitter {
	return &unitSplitter{r: r, chunk: make([]byte, 64<<10)}
}

// Next returns the NAL units of the next access unit, delimiter dropped. It
// returns io.EOF at the end of the stream; an incomplete last unit is dropped
// since the encoder was stopped while writing it.
func (s *unitSplitter) Next() ([][]byte, error) {
	for {
		if start, end, ok := s.nextUnit(); ok {
			// Copy: the buffer is reused, and the units travel to other goroutines.
			unit := append([]byte(nil), s.buf[start:end]...)
			s.buf = s.buf[:copy(s.buf, s.buf[end:])]
			s.scanned = 0
			nalus, err := avc.SplitAnnexB(unit)
			if err != nil {
				return nil, err
			}
			return dropDelimiters(nalus), nil
		}
		if len(s.buf) > maxUnitBytes {
			return nil, fmt.Errorf("no access unit delimiter in %d bytes of encoder output (is aud=1 set?)", len(s.buf))
		}
		n, err := s.r.Read(s.chunk)
		s.buf = append(s.buf, s.chunk[:n]...)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, io.EOF
			}
			return nil, fmt.Errorf("reading encoder output: %w", err)
		}
	}
}

// nextUnit finds the first complete unit in buf: from its delimiter's start
// code to the start code of the following delimiter.
func (s *unitSplitter) nextUnit() (start, end int, ok bool) {
	first := bytes.Index(s.buf, audStart)
	if first < 0 {
		// Keep the last bytes: they may be the beginning of a delimiter.
		if len(s.buf) > len(audStart) {
			s.buf = s.buf[:copy(s.buf, s.buf[len(s.buf)-len(audStart):])]
		}
		return 0, 0, false
	}
	from := max(s.scanned, first+len(audStart))
	i := bytes.Index(s.buf[from:], audStart)
	if i < 0 {
		s.scanned = max(first+len(audStart), len(s.buf)-len(audStart)+1)
		return 0, 0, false
	}
	end = from + i
	// A 4-byte start code's leading zero belongs to the next unit.
	for end > first && s.buf[end-1] == 0 {
		end--
	}
	return first, end, true
}

func dropDelimiters(nalus [][]byte) [][]byte {
	out := nalus[:0]
	for _, n := range nalus {
		if len(n) > 0 && h264.NALUType(n[0]&0x1f) != h264.NALUTypeAccessUnitDelimiter {
			out = append(out, n)
		}
	}
	return out
}
