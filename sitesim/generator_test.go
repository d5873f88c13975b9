package sitesim

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/internal/avc"
)

func testFont(t *testing.T) string {
	t.Helper()
	font, err := FindFont()
	if err != nil {
		t.Fatal(err)
	}
	return font
}

// collect runs a generator and returns the first n units of a subscription.
func collect(t *testing.T, cfg StreamConfig, n int) (units []avc.AccessUnit, arrived []time.Time) {
	t.Helper()
	g, err := NewGenerator(cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	sub := g.Subscribe(n)
	go func() { done <- g.Run(ctx) }()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("generator did not stop within 5 s of cancel")
		}
	}()
	deadline := time.After(time.Duration(n)*time.Second/time.Duration(cfg.FPS) + 10*time.Second)
	for len(units) < n {
		select {
		case au, ok := <-sub.Units():
			if !ok {
				t.Fatalf("subscription closed after %d units", len(units))
			}
			units = append(units, au)
			arrived = append(arrived, time.Now())
		case <-deadline:
			t.Fatalf("got %d of %d units in time", len(units), n)
		}
	}
	return units, arrived
}

func TestGeneratorUnits(t *testing.T) {
	cfg := StreamConfig{Site: "site-01", Camera: "doff1", FPS: 10, GOP: 500 * time.Millisecond,
		Width: 176, Height: 100, FontFile: testFont(t)} // 100 is not a multiple of 16: the SPS crops
	const gopFrames = 5
	units, arrived := collect(t, cfg, 3*gopFrames+1)

	for i, au := range units {
		if want := i%gopFrames == 0; au.Keyframe != want {
			t.Fatalf("unit %d: keyframe=%v, want %v (keyframes every %d units from the first)", i, au.Keyframe, want, gopFrames)
		}
		if i > 0 {
			if step := au.PTS - units[i-1].PTS; step != 100*time.Millisecond {
				t.Fatalf("unit %d: PTS step %v, want 100ms at 10 fps", i, step)
			}
		}
		for _, nalu := range au.NALUs {
			if nalu[0]&0x1f == 9 {
				t.Fatalf("unit %d still holds its access unit delimiter", i)
			}
		}
		if !au.Keyframe {
			continue
		}
		sps, pps := au.ParamSets()
		if sps == nil || pps == nil {
			t.Fatalf("keyframe %d lacks SPS or PPS", i)
		}
		info, err := avc.ParseSPS(sps)
		if err != nil {
			t.Fatal(err)
		}
		if info.Width != 176 || info.Height != 100 || !strings.HasPrefix(info.Codec, "avc1.42") {
			t.Fatalf("keyframe %d: SPS says %+v, want constrained baseline 176x100", i, info)
		}
	}
	// -re paces ffmpeg: 15 frames at 10 fps take about 1.5 s, not a burst.
	if took := arrived[len(arrived)-1].Sub(arrived[0]); took < 700*time.Millisecond {
		t.Fatalf("15 frame intervals arrived in %v; ffmpeg is not running in real time", took)
	}

	// The units decode: ffmpeg turns the stream back into pictures of the right size.
	var stream bytes.Buffer
	for _, au := range units {
		b, err := au.AnnexB()
		if err != nil {
			t.Fatal(err)
		}
		stream.Write(b)
	}
	frames := decodeFrames(t, stream.Bytes(), 0, 10)
	for i, img := range frames {
		if b := img.Bounds(); b.Dx() != 176 || b.Dy() != 100 {
			t.Fatalf("decoded frame %d is %v, want 176x100", i, b)
		}
	}
	// A second apart, the picture (clock, pattern) has changed.
	if samePixels(frames[0], frames[1]) {
		t.Fatal("frames 0 and 10, a second apart, are identical")
	}
}

// samePixels reports whether two pictures are identical.
func samePixels(a, b image.Image) bool {
	if a.Bounds() != b.Bounds() {
		return false
	}
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if a.At(x, y) != b.At(x, y) {
				return false
			}
		}
	}
	return true
}

// decodeFrames decodes an Annex-B stream with ffmpeg and returns the given
// frames, through PNG files.
func decodeFrames(t *testing.T, stream []byte, indexes ...int) []image.Image {
	t.Helper()
	dir := t.TempDir()
	in := filepath.Join(dir, "in.h264")
	if err := os.WriteFile(in, stream, 0o600); err != nil {
		t.Fatal(err)
	}
	var out []image.Image
	for _, i := range indexes {
		file := filepath.Join(dir, fmt.Sprintf("frame%d.png", i))
		cmd := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-f", "h264", "-i", in,
			"-vf", fmt.Sprintf(`select=eq(n\,%d)`, i), "-frames:v", "1", file)
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("decoding frame %d: %v: %s", i, err, msg)
		}
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("reading frame %d: %v", i, err)
		}
		out = append(out, img)
	}
	return out
}

// TestClockText renders the overlay with the clock expression over frame
// timestamps from a known start, and with the time it should show typed out,
// and expects the same pixels.
func TestClockText(t *testing.T) {
	cfg := StreamConfig{Site: "site-02", Camera: "waste", FPS: 10, GOP: time.Second, Width: 320, Height: 180, FontFile: testFont(t)}
	const frame = 10 // one second in
	cases := []struct {
		start time.Time
		want  string
	}{
		{time.Date(2024, 5, 1, 12, 34, 56, 789e6, time.Local), "12:34:57.789"},
		{time.Date(2024, 5, 1, 8, 0, 0, 0, time.Local), "08:00:01.000"},
		{time.Date(2024, 5, 1, 23, 59, 59, 500e6, time.Local), "00:00:00.500"},
	}
	for _, tc := range cases {
		t.Run(tc.want, func(t *testing.T) {
			// What RTCTIME gives live: microseconds since the epoch, here 100 ms a frame.
			pts := func(start time.Time) string { return fmt.Sprintf("%d+N*100000", start.UnixMicro()) }
			live := renderFrame(t, overlayFilter(cfg, pts(tc.start), clockText), cfg, frame)
			typed := renderFrame(t, overlayFilter(cfg, pts(tc.start), strings.ReplaceAll(tc.want, ":", `\:`)), cfg, frame)
			if !bytes.Equal(live, typed) {
				t.Fatalf("clock at frame %d does not read %s", frame, tc.want)
			}
			// The comparison sees a clock one millisecond off.
			if bytes.Equal(live, renderFrame(t, overlayFilter(cfg, pts(tc.start.Add(time.Millisecond)), clockText), cfg, frame)) {
				t.Fatal("clocks a millisecond apart render the same")
			}
		})
	}
}

// renderFrame draws frame n of the test pattern through filter, uncompressed.
func renderFrame(t *testing.T, filter string, cfg StreamConfig, n int) []byte {
	t.Helper()
	cmd := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin",
		"-f", "lavfi", "-i", fmt.Sprintf("testsrc2=size=%dx%d:rate=%d", cfg.Width, cfg.Height, cfg.FPS),
		"-vf", filter, "-frames:v", fmt.Sprint(n+1), "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("rendering: %v: %s", err, stderr.String())
	}
	size := cfg.Width * cfg.Height * 3
	if len(out) != (n+1)*size {
		t.Fatalf("rendered %d bytes, want %d frames of %d", len(out), n+1, size)
	}
	return out[n*size:]
}
