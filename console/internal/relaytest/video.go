package relaytest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"

	"github.com/qianliyan/qianliyan/internal/avc"
)

// FPS is the frame rate of Video.
const FPS = 15

var (
	videoOnce  sync.Once
	videoUnits []avc.AccessUnit
	videoErr   error
)

// Video returns three seconds of real H.264 (320x240, constrained baseline,
// a keyframe every second) made by ffmpeg, as access units with presentation
// times. ffmpeg runs once per test binary.
func Video(t testing.TB) []avc.AccessUnit {
	t.Helper()
	videoOnce.Do(func() {
		dir, err := os.MkdirTemp("", "relaytest-video")
		if err != nil {
			videoErr = err
			return
		}
		defer os.RemoveAll(dir)
		out := filepath.Join(dir, "out.h264")
		cmd := exec.Command("ffmpeg", "-nostdin", "-loglevel", "error",
			"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=15", "-t", "3",
			"-c:v", "libx264", "-profile:v", "baseline", "-pix_fmt", "yuv420p", "-g", "15",
			"-x264-params", "aud=1", "-f", "h264", out)
		if b, err := cmd.CombinedOutput(); err != nil {
			videoErr = fmt.Errorf("ffmpeg: %w: %s", err, b)
			return
		}
		b, err := os.ReadFile(out)
		if err != nil {
			videoErr = err
			return
		}
		videoUnits, videoErr = splitUnits(b)
	})
	if videoErr != nil {
		t.Fatalf("making test video: %v", videoErr)
	}
	return videoUnits
}

// splitUnits cuts an Annex-B stream at its access unit delimiters, which it
// drops: WebRTC does not carry them.
func splitUnits(b []byte) ([]avc.AccessUnit, error) {
	var starts []int
	for i := 0; i+3 < len(b); i++ {
		if b[i] == 0 && b[i+1] == 0 && b[i+2] == 1 && h264.NALUType(b[i+3]&0x1f) == h264.NALUTypeAccessUnitDelimiter {
			starts = append(starts, i)
		}
	}
	starts = append(starts, len(b))
	var units []avc.AccessUnit
	for i := 0; i+1 < len(starts); i++ {
		nalus, err := avc.SplitAnnexB(b[starts[i]:starts[i+1]])
		if err != nil {
			return nil, fmt.Errorf("access unit %d: %w", i, err)
		}
		var keep [][]byte
		for _, n := range nalus {
			if len(n) > 0 && h264.NALUType(n[0]&0x1f) != h264.NALUTypeAccessUnitDelimiter {
				keep = append(keep, n)
			}
		}
		if len(keep) > 0 {
			units = append(units, avc.NewAccessUnit(keep, time.Duration(len(units))*time.Second/FPS))
		}
	}
	if len(units) == 0 || !units[0].Keyframe {
		return nil, fmt.Errorf("test video: %d units, first not a keyframe", len(units))
	}
	return units, nil
}
