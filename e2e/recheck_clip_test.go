package e2e

import (
	"bytes"
	"crypto/sha256"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/gorilla/websocket"

	"github.com/qianliyan/qianliyan/internal/avc"
	"github.com/qianliyan/qianliyan/internal/eventually"
)

// nalSet is the coded pictures a camera sent, by the SHA-256 of each
// picture's slices: the simulator draws each camera's name and clock into
// its picture, so no two cameras ever send the same slice, and a clip's
// slices say which camera it is of.
type nalSet struct {
	mu     sync.Mutex
	hashes map[[32]byte]bool
}

func (s *nalSet) has(h [32]byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hashes[h]
}

func (s *nalSet) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.hashes)
}

// isSlice says whether a NAL unit is a coded slice (IDR or not).
func isSlice(nalu []byte) bool {
	if len(nalu) == 0 {
		return false
	}
	t := h264.NALUType(nalu[0] & 0x1f)
	return t == h264.NALUTypeIDR || t == h264.NALUTypeNonIDR
}

// bridgeSlices opens camera's main stream over a console's video bridge,
// as the view does, and keeps the hash of every slice it sends until the
// test ends.
func bridgeSlices(t *testing.T, p *consoleProcess, camera string) *nalSet {
	t.Helper()
	q := url.Values{"camera": {camera}, "stream": {"main"}, "token": {p.api.token}}
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(p.api.base, "http")+"/ws/video?"+q.Encode(), http.Header{"Origin": {p.api.base}})
	if err != nil {
		t.Fatalf("opening the video bridge for %s: %v", camera, err)
	}
	t.Cleanup(func() { ws.Close() })
	s := &nalSet{hashes: map[[32]byte]bool{}}
	go func() {
		for {
			kind, b, err := ws.ReadMessage()
			if err != nil {
				return
			}
			if kind != websocket.BinaryMessage || len(b) <= 9 {
				continue
			}
			nalus, err := avc.SplitAnnexB(b[9:])
			if err != nil {
				continue
			}
			s.mu.Lock()
			for _, n := range nalus {
				if isSlice(n) {
					s.hashes[sha256.Sum256(n)] = true
				}
			}
			s.mu.Unlock()
		}
	}()
	eventually.True(t, eventually.Ceiling, "pictures of "+camera+" over the bridge", func() bool { return s.len() > 0 })
	return s
}

// clipSlices parses an fMP4 as a browser does (one H.264 track, then
// fragments, the first sample a keyframe) and returns its frames and the
// hash of every slice in them.
func clipSlices(t *testing.T, b []byte) (frames int, slices [][32]byte) {
	t.Helper()
	var init fmp4.Init
	if err := init.Unmarshal(bytes.NewReader(b)); err != nil {
		t.Fatalf("the clip's header: %v", err)
	}
	if len(init.Tracks) != 1 {
		t.Fatalf("the clip has %d tracks", len(init.Tracks))
	}
	var parts fmp4.Parts
	if err := parts.Unmarshal(b); err != nil {
		t.Fatalf("the clip's fragments: %v", err)
	}
	for _, p := range parts {
		for _, tr := range p.Tracks {
			for _, smp := range tr.Samples {
				if frames == 0 && smp.IsNonSyncSample {
					t.Fatal("the clip does not start with a keyframe")
				}
				frames++
				var au h264.AVCC
				if err := au.Unmarshal(smp.Payload); err != nil {
					t.Fatalf("frame %d of the clip: %v", frames, err)
				}
				for _, n := range au {
					if isSlice(n) {
						slices = append(slices, sha256.Sum256(n))
					}
				}
			}
		}
	}
	return frames, slices
}

// checkClipOf fails unless the clip b is of the camera whose slices are
// want and of none of others: none of its slices is another camera's, and
// at least half are want's (the bridge is opened long before the clip's
// pre-roll; a bridge behind the live edge may skip some pictures).
func checkClipOf(t *testing.T, what string, b []byte, want *nalSet, others map[string]*nalSet) {
	t.Helper()
	frames, slices := clipSlices(t, b)
	if frames == 0 || len(slices) == 0 {
		t.Fatalf("%s: %d frames, %d slices", what, frames, len(slices))
	}
	mine := 0
	for _, h := range slices {
		if want.has(h) {
			mine++
		}
		for name, o := range others {
			if o.has(h) {
				t.Fatalf("%s has a picture of %s", what, name)
			}
		}
	}
	if mine*2 < len(slices) {
		t.Fatalf("%s: %d of its %d slices were sent by the camera re-checked on", what, mine, len(slices))
	}
	t.Logf("%s: %d frames, %d of %d slices seen from the camera, %d bytes", what, frames, mine, len(slices), len(b))
}
