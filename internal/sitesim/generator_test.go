package sitesim

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"maps"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/internal/avc"
	"github.com/qianliyan/qianliyan/internal/eventually"
)

func testFont(t testing.TB) string {
	t.Helper()
	font, err := FindFont()
	if err != nil {
		t.Fatal(err)
	}
	return font
}

// collect runs a generator and returns the first n units of each of its
// streams, with the time each arrived since the generator started, by stream
// name.
func collect(t testing.TB, cfg CameraConfig, n int) (units map[string][]avc.AccessUnit, arrived map[string][]time.Duration) {
	t.Helper()
	g, err := NewGenerator(cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	subs := map[string]*Subscription{}
	for _, name := range g.Streams() {
		subs[name] = g.Output(name).Subscribe(n)
	}
	started := time.Now()
	go func() { done <- g.Run(ctx) }()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(eventually.Ceiling):
			t.Errorf("generator did not stop within %v of cancel", eventually.Ceiling)
		}
	}()
	type result struct {
		name    string
		units   []avc.AccessUnit
		arrived []time.Duration
		err     error
	}
	results := make(chan result, len(subs))
	// The stream's own length, and a hang's ceiling on top for ffmpeg to
	// start and keep up on a busy machine.
	deadline := started.Add(time.Duration(n)*time.Second/time.Duration(cfg.FPS) + eventually.Ceiling)
	for name, sub := range subs {
		go func() {
			r := result{name: name}
			timeout := time.NewTimer(time.Until(deadline))
			defer timeout.Stop()
			for len(r.units) < n {
				select {
				case au, ok := <-sub.Units():
					if !ok {
						r.err = fmt.Errorf("%s: subscription closed after %d units", name, len(r.units))
						results <- r
						return
					}
					r.units = append(r.units, au)
					r.arrived = append(r.arrived, time.Since(started))
				case <-timeout.C:
					r.err = fmt.Errorf("%s: got %d of %d units in time", name, len(r.units), n)
					results <- r
					return
				}
			}
			results <- r
		}()
	}
	units, arrived = map[string][]avc.AccessUnit{}, map[string][]time.Duration{}
	for range subs {
		r := <-results
		if r.err != nil {
			t.Fatal(r.err)
		}
		units[r.name], arrived[r.name] = r.units, r.arrived
	}
	return units, arrived
}

func TestGeneratorStreams(t *testing.T) {
	// 100 and 50 are not multiples of 16: the SPS crops.
	cfg := CameraConfig{Site: "site-01", Camera: "doff1", FPS: 10, GOP: 500 * time.Millisecond,
		Width: 176, Height: 100, SubWidth: 96, SubHeight: 50, FontFile: testFont(t)}
	const gopFrames = 5
	units, arrived := collect(t, cfg, 3*gopFrames+1)
	if len(units) != 2 {
		t.Fatalf("streams %v, want main and sub", slices.Collect(maps.Keys(units)))
	}

	sizes := map[string][2]int{StreamMain: {176, 100}, StreamSub: {96, 50}}
	for name, size := range sizes {
		for i, au := range units[name] {
			if want := i%gopFrames == 0; au.Keyframe != want {
				t.Fatalf("%s unit %d: keyframe=%v, want %v (keyframes every %d units from the first)", name, i, au.Keyframe, want, gopFrames)
			}
			if want := time.Duration(i) * 100 * time.Millisecond; au.PTS != want {
				t.Fatalf("%s unit %d: PTS %v, want %v at 10 fps", name, i, au.PTS, want)
			}
			for _, nalu := range au.NALUs {
				if nalu[0]&0x1f == 9 {
					t.Fatalf("%s unit %d still holds its access unit delimiter", name, i)
				}
			}
			if !au.Keyframe {
				continue
			}
			sps, pps := au.ParamSets()
			if sps == nil || pps == nil {
				t.Fatalf("%s keyframe %d lacks SPS or PPS", name, i)
			}
			info, err := avc.ParseSPS(sps)
			if err != nil {
				t.Fatal(err)
			}
			if info.Width != size[0] || info.Height != size[1] || !strings.HasPrefix(info.Codec, "avc1.42") {
				t.Fatalf("%s keyframe %d: SPS says %+v, want constrained baseline %dx%d", name, i, info, size[0], size[1])
			}
		}
	}
	// -re paces ffmpeg: it reads frame 15 of the test pattern no sooner than
	// 1.5 s after it starts. A busy machine can only make that later; the
	// rate it keeps is measured by BenchmarkGeneratorPace.
	main := arrived[StreamMain]
	if last := main[len(main)-1]; last < 1400*time.Millisecond {
		t.Fatalf("unit 15 arrived %v after the generator started; ffmpeg runs ahead of real time", last)
	}

	// The units decode: ffmpeg turns each stream back into pictures of its size.
	var pictures []image.Image
	for _, name := range []string{StreamMain, StreamSub} {
		var stream bytes.Buffer
		for _, au := range units[name] {
			b, err := au.AnnexB()
			if err != nil {
				t.Fatal(err)
			}
			stream.Write(b)
		}
		frames := decodeFrames(t, stream.Bytes(), 0, 10)
		for i, img := range frames {
			if b := img.Bounds(); b.Dx() != sizes[name][0] || b.Dy() != sizes[name][1] {
				t.Fatalf("decoded %s frame %d is %v, want %dx%d", name, i, b, sizes[name][0], sizes[name][1])
			}
		}
		// A second apart, the picture (clock, pattern) has changed.
		if samePixels(frames[0], frames[1]) {
			t.Fatalf("%s frames 0 and 10, a second apart, are identical", name)
		}
		pictures = append(pictures, frames...)
	}
	// The sub stream is the main picture scaled down, as a camera's is: its
	// first picture is close to the main one's and further from its own a
	// second later.
	// Compared coarsely, so that scaling filters and coding noise at these
	// tiny sizes do not count.
	coarse := func(img image.Image) image.Image { return scaleDown(img, 24, 12) }
	mainFirst := coarse(pictures[0])
	same, later := meanDifference(mainFirst, coarse(pictures[2])), meanDifference(mainFirst, coarse(pictures[3]))
	t.Logf("sub vs scaled main: %.1f for the same picture, %.1f a second later", same, later)
	if same > 8 || same*3 > later {
		t.Fatalf("sub picture 0 differs from the scaled-down main picture 0 by %.1f a channel on average, and sub picture 10 by %.1f", same, later)
	}
}

// TestGeneratorMainOnly: with no sub size, the camera has one stream.
func TestGeneratorMainOnly(t *testing.T) {
	cfg := CameraConfig{Site: "site-01", Camera: "doff2", FPS: 10, GOP: time.Second, Width: 96, Height: 54, FontFile: testFont(t)}
	g, err := NewGenerator(cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	if got := g.Streams(); !slices.Equal(got, []string{StreamMain}) || g.Output(StreamSub) != nil {
		t.Fatalf("streams %v, want main only", got)
	}
	units, _ := collect(t, cfg, 2)
	if !units[StreamMain][0].Keyframe {
		t.Fatal("the first unit is not a keyframe")
	}
}

// BenchmarkGeneratorPace measures how closely the generator keeps real
// time, which tests cannot claim on a machine busy with other work: the rate
// the main stream's units arrive at (10 fps configured) and the longest gap
// between two of them. An op is a frame.
func BenchmarkGeneratorPace(b *testing.B) {
	cfg := CameraConfig{Site: "site-01", Camera: "doff1", FPS: 10, GOP: time.Second, Width: 176, Height: 100, FontFile: testFont(b)}
	_, arrived := collect(b, cfg, b.N+1)
	main := arrived[StreamMain]
	var gap time.Duration
	for i := 1; i < len(main); i++ {
		gap = max(gap, main[i]-main[i-1])
	}
	b.ReportMetric(float64(b.N)/(main[b.N]-main[0]).Seconds(), "fps")
	b.ReportMetric(float64(gap)/float64(time.Millisecond), "max-gap-ms")
}

// scaleDown resizes img to w×h by averaging the pixels each target pixel covers.
func scaleDown(img image.Image, w, h int) image.Image {
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			x0, x1 := b.Min.X+x*b.Dx()/w, b.Min.X+(x+1)*b.Dx()/w
			y0, y1 := b.Min.Y+y*b.Dy()/h, b.Min.Y+(y+1)*b.Dy()/h
			var r, g, bl, n uint32
			for yy := y0; yy < max(y1, y0+1); yy++ {
				for xx := x0; xx < max(x1, x0+1); xx++ {
					cr, cg, cb, _ := img.At(xx, yy).RGBA()
					r, g, bl, n = r+cr>>8, g+cg>>8, bl+cb>>8, n+1
				}
			}
			out.Set(x, y, color.RGBA{uint8(r / n), uint8(g / n), uint8(bl / n), 255})
		}
	}
	return out
}

// meanDifference is the mean absolute difference of two same-size pictures,
// over the R, G and B channels, from 0 to 255.
func meanDifference(a, b image.Image) float64 {
	r := a.Bounds()
	var sum, n float64
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			ar, ag, ab, _ := a.At(x, y).RGBA()
			br, bg, bb, _ := b.At(x-r.Min.X+b.Bounds().Min.X, y-r.Min.Y+b.Bounds().Min.Y).RGBA()
			for _, d := range []float64{float64(ar>>8) - float64(br>>8), float64(ag>>8) - float64(bg>>8), float64(ab>>8) - float64(bb>>8)} {
				sum += math.Abs(d)
				n++
			}
		}
	}
	return sum / n
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
	cfg := CameraConfig{Site: "site-02", Camera: "waste", FPS: 10, GOP: time.Second, Width: 320, Height: 180, FontFile: testFont(t)}
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
func renderFrame(t *testing.T, filter string, cfg CameraConfig, n int) []byte {
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
