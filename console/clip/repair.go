package clip

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"

	"github.com/qianliyan/qianliyan/internal/avc"
)

// Result is how a clip's recording ended, as it is filed.
type Result struct {
	Complete bool
	Reason   string    // why it is incomplete
	StartsAt time.Time // when the console received its first frame
	Duration time.Duration
	Width    int
	Height   int
}

// Info is what a clip file holds.
type Info struct {
	Duration      time.Duration // of the video in its whole fragments
	Width, Height int           // of the picture, from the header's SPS
	Fragments     int
	Frames        int   // in the whole fragments
	KeyframeFirst bool  // the first frame is a keyframe: a player can start the clip
	Bytes         int64 // of the file up to its last whole fragment
	Cut           int64 // bytes after it: a fragment cut short
}

// ErrNotClip is returned for a file that does not start with a whole clip
// header (ftyp and moov).
var ErrNotClip = errors.New("not a clip: no whole fMP4 header")

// Inspect reads the clip at path and says what it holds, changing nothing.
func Inspect(path string) (Info, error) {
	info, _, err := read(path)
	return info, err
}

// InspectData says what a clip's bytes hold (a clip fetched from the
// relay, say), changing nothing.
func InspectData(data []byte) (Info, error) {
	info, n, err := inspect(data)
	if err != nil {
		return Info{}, err
	}
	info.Cut = int64(len(data) - n)
	return info, nil
}

// read reads the clip at path and says what it holds, and where its last
// whole fragment ends (info.Cut bytes follow).
func read(path string) (info Info, whole int64, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Info{}, 0, fmt.Errorf("reading clip: %w", err)
	}
	info, err = InspectData(data)
	if err != nil {
		return Info{}, 0, err
	}
	return info, info.Bytes, nil
}

// Repair reads the clip at path, as the Writer leaves it however it
// stopped, and cuts off what follows its last whole fragment: the part of a
// fragment a crash or a full disk cut short, which players choke on. A file
// that is not a clip is left as it is.
func Repair(path string) (Info, error) {
	info, whole, err := read(path)
	if err != nil {
		return Info{}, err
	}
	if info.Cut > 0 {
		if err := os.Truncate(path, whole); err != nil {
			return Info{}, fmt.Errorf("cutting the clip to its last whole fragment: %w", err)
		}
	}
	return info, nil
}

// inspect reads a clip and returns what it holds and where its last whole
// fragment ends.
func inspect(data []byte) (Info, int, error) {
	var info Info
	// The top-level boxes: ftyp and moov, then a moof and its mdat for
	// each fragment.
	type box struct {
		kind       string
		start, end int
	}
	var boxes []box
	for pos := 0; pos+8 <= len(data); {
		size := int(binary.BigEndian.Uint32(data[pos:]))
		kind := string(data[pos+4 : pos+8])
		switch {
		case size == 1 && pos+16 <= len(data):
			size64 := binary.BigEndian.Uint64(data[pos+8:])
			if size64 > uint64(len(data)-pos) {
				size = -1
			} else {
				size = int(size64)
			}
		case size < 8:
			size = -1 // 0 (to the end) or a broken size: not whole
		}
		if size < 0 || pos+size > len(data) {
			break
		}
		boxes = append(boxes, box{kind, pos, pos + size})
		pos += size
	}
	if len(boxes) < 2 || boxes[0].kind != "ftyp" || boxes[1].kind != "moov" {
		return info, 0, ErrNotClip
	}
	header := boxes[1].end
	var init fmp4.Init
	if err := init.Unmarshal(bytes.NewReader(data[:header])); err != nil {
		return info, 0, fmt.Errorf("%w: %v", ErrNotClip, err)
	}
	if len(init.Tracks) != 1 {
		return info, 0, fmt.Errorf("%w: %d tracks", ErrNotClip, len(init.Tracks))
	}
	track := init.Tracks[0]
	if h264, ok := track.Codec.(*codecs.H264); ok {
		if sps, err := avc.ParseSPS(h264.SPS); err == nil {
			info.Width, info.Height = sps.Width, sps.Height
		}
	}
	whole := header
	for i := 2; i+1 < len(boxes); i += 2 {
		if boxes[i].kind != "moof" || boxes[i+1].kind != "mdat" {
			break
		}
		whole = boxes[i+1].end
		info.Fragments++
	}
	if info.Fragments > 0 {
		var parts fmp4.Parts
		if err := parts.Unmarshal(data[header:whole]); err != nil {
			return info, 0, fmt.Errorf("reading the clip's fragments: %w", err)
		}
		var end uint64
		for _, p := range parts {
			for _, pt := range p.Tracks {
				t := pt.BaseTime
				for _, s := range pt.Samples {
					if info.Frames == 0 {
						info.KeyframeFirst = !s.IsNonSyncSample
					}
					info.Frames++
					t += uint64(s.Duration)
				}
				end = max(end, t)
			}
		}
		if track.TimeScale > 0 {
			info.Duration = time.Duration(end * uint64(time.Second) / uint64(track.TimeScale))
		}
	}
	info.Bytes = int64(whole)
	return info, whole, nil
}
