// Package testmedia makes real H.264 for tests: ffmpeg encodes a moving test
// pattern once per size, GOP and length, and the result is handed out as
// access units. Tests of the relay, the console and the evidence clips use it
// so that every test sees what a camera sends, not hand-made bytes.
package testmedia

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/qianliyan/qianliyan/internal/avc"
)

// Spec describes the clip to encode.
type Spec struct {
	Width, Height int
	FPS           int
	GOP           int // frames from one keyframe to the next
	Seconds       int
	// Kbps, when set, is the target bitrate (ffmpeg -b:v, capped by a
	// two-second VBV as a camera's CBR setting would be); otherwise x264
	// picks its own quality. Benchmarks need the bitrates of real sub
	// (≈300 kbit/s) and main (≈2 Mbit/s) streams.
	Kbps int
}

var (
	mu    sync.Mutex
	cache = map[Spec][]avc.AccessUnit{}
)

// Units returns the access units of a clip made to spec, with PTS from the
// frame rate. Keyframes carry SPS and PPS. The encode runs once per spec per
// process; the result is shared, so callers must not modify the NAL units.
func Units(spec Spec) ([]avc.AccessUnit, error) {
	mu.Lock()
	defer mu.Unlock()
	if units, ok := cache[spec]; ok {
		return units, nil
	}
	data, err := encode(spec)
	if err != nil {
		return nil, err
	}
	// x264's aud=1 starts every access unit with a delimiter.
	r := avc.NewUnitReader(bytes.NewReader(data))
	var units []avc.AccessUnit
	for {
		nalus, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading test media %+v: %w", spec, err)
		}
		pts := time.Duration(len(units)) * time.Second / time.Duration(spec.FPS)
		units = append(units, avc.NewAccessUnit(nalus, pts))
	}
	cache[spec] = units
	return units, nil
}

// encode runs ffmpeg, keeping the output in the temp directory so that
// repeated test runs skip the encode.
func encode(spec Spec) ([]byte, error) {
	key := fmt.Sprintf("%dx%d-%dfps-g%d-%ds", spec.Width, spec.Height, spec.FPS, spec.GOP, spec.Seconds)
	var rate []string
	if spec.Kbps > 0 {
		key += fmt.Sprintf("-%dk", spec.Kbps)
		rate = []string{"-b:v", fmt.Sprintf("%dk", spec.Kbps), "-maxrate", fmt.Sprintf("%dk", spec.Kbps), "-bufsize", fmt.Sprintf("%dk", 2*spec.Kbps)}
	}
	args := append(x264Args(spec), rate...)
	args = append(args, "-x264-params", "aud=1:repeat-headers=1", "-f", "h264")
	return made(key+".h264", args...)
}

// x264Args encode ffmpeg's moving test pattern made to spec as a camera's
// H.264 (baseline, a fixed GOP).
func x264Args(spec Spec) []string {
	return []string{"-f", "lavfi", "-i", fmt.Sprintf("testsrc2=size=%dx%d:rate=%d", spec.Width, spec.Height, spec.FPS),
		"-t", fmt.Sprint(spec.Seconds),
		"-c:v", "libx264", "-preset", "ultrafast", "-profile:v", "baseline", "-pix_fmt", "yuv420p",
		"-g", fmt.Sprint(spec.GOP), "-keyint_min", fmt.Sprint(spec.GOP), "-sc_threshold", "0"}
}

// made returns the file ffmpeg makes with args (its output file last),
// named name in the temp directory: repeated test runs reuse it.
func made(name string, args ...string) ([]byte, error) {
	sum := sha256.Sum256([]byte(strings.Join(args, " ")))
	dir := filepath.Join(os.TempDir(), "qianliyan-testmedia")
	ext := filepath.Ext(name)
	path := filepath.Join(dir, strings.TrimSuffix(name, ext)+"-"+hex.EncodeToString(sum[:4])+ext)
	if data, err := os.ReadFile(path); err == nil && len(data) > 0 {
		return data, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("making test media folder: %w", err)
	}
	// The extension stays last: ffmpeg picks the format of a still by it.
	tmp := strings.TrimSuffix(path, ext) + fmt.Sprintf(".%d.tmp", os.Getpid()) + ext
	cmd := exec.Command("ffmpeg", append(append([]string{"-hide_banner", "-loglevel", "error", "-y"}, args...), tmp)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("making test media %s with ffmpeg: %w: %s", name, err, out)
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, fmt.Errorf("keeping test media: %w", err)
	}
	return os.ReadFile(path)
}
