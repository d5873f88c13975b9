package seed

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4/seekablebuffer"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"

	"github.com/qianliyan/qianliyan/internal/testmedia"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// clipSpec is the evidence every seeded finding shares: a sub stream's
// size, a GOP a second, four seconds, enough to step frames and change
// speed in the view's clip player.
var clipSpec = testmedia.Spec{Width: 320, Height: 180, FPS: 15, GOP: 15, Seconds: 4}

// clipTimeScale is the clip's track time scale, the console's (console/clip).
const clipTimeScale = 90000

// evidence is the snapshot and clip every seeded finding refers to, stored
// once in the evidence directory under their SHA-256 as relay/findings
// keeps uploads.
type evidence struct {
	snapshot, clip wire.File
}

// writeEvidence encodes the snapshot and the clip (ffmpeg through
// internal/testmedia, as the relay's and console's tests make theirs) and
// stores them in dir.
func writeEvidence(dir string) (evidence, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return evidence{}, fmt.Errorf("creating the evidence directory: %w", err)
	}
	jpeg, err := testmedia.JPEG(clipSpec.Width, clipSpec.Height)
	if err != nil {
		return evidence{}, fmt.Errorf("making the snapshot: %w", err)
	}
	mp4, err := fragmentedClip()
	if err != nil {
		return evidence{}, err
	}
	var ev evidence
	if ev.snapshot, err = keep(dir, jpeg, "image/jpeg"); err != nil {
		return evidence{}, err
	}
	if ev.clip, err = keep(dir, mp4, "video/mp4"); err != nil {
		return evidence{}, err
	}
	return ev, nil
}

// fragmentedClip is the clip as the console files it: an fMP4 of one H.264
// track, a fragment per GOP (the layout console/clip writes and the view's
// clipMp4.ts reads).
func fragmentedClip() ([]byte, error) {
	units, err := testmedia.Units(clipSpec)
	if err != nil {
		return nil, fmt.Errorf("encoding the clip: %w", err)
	}
	if len(units) == 0 || !units[0].Keyframe {
		return nil, fmt.Errorf("the clip's video does not start at a keyframe")
	}
	sps, pps := units[0].ParamSets()
	if sps == nil || pps == nil {
		return nil, fmt.Errorf("the clip's first keyframe carries no SPS and PPS")
	}
	var buf seekablebuffer.Buffer
	init := fmp4.Init{Tracks: []*fmp4.InitTrack{{ID: 1, TimeScale: clipTimeScale, Codec: &codecs.H264{SPS: sps, PPS: pps}}}}
	if err := init.Marshal(&buf); err != nil {
		return nil, fmt.Errorf("writing the clip's header: %w", err)
	}
	frame := time.Second / time.Duration(clipSpec.FPS)
	ticks := func(d time.Duration) int64 { return int64(d) * clipTimeScale / int64(time.Second) }
	seq := uint32(0)
	for start := 0; start < len(units); {
		end := start + 1
		for end < len(units) && !units[end].Keyframe {
			end++
		}
		samples := make([]*fmp4.Sample, 0, end-start)
		for _, au := range units[start:end] {
			s, err := fmp4.NewSampleH264(0, au.NALUs)
			if err != nil {
				return nil, fmt.Errorf("encoding a clip sample: %w", err)
			}
			s.Duration = uint32(ticks(frame))
			s.IsNonSyncSample = !au.Keyframe
			samples = append(samples, s)
		}
		seq++
		part := fmp4.Part{SequenceNumber: seq, Tracks: []*fmp4.PartTrack{{ID: 1, BaseTime: uint64(ticks(units[start].PTS)), Samples: samples}}}
		if err := part.Marshal(&buf); err != nil {
			return nil, fmt.Errorf("writing a clip fragment: %w", err)
		}
		start = end
	}
	return buf.Bytes(), nil
}

// keep writes data to dir named by its SHA-256, as relay/findings does.
func keep(dir string, data []byte, contentType string) (wire.File, error) {
	sum := sha256.Sum256(data)
	name := hex.EncodeToString(sum[:])
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
		return wire.File{}, fmt.Errorf("storing evidence: %w", err)
	}
	return wire.File{SHA256: name, Bytes: int64(len(data)), ContentType: contentType}, nil
}
