package testmedia

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/internal/avc"
)

func TestUnits(t *testing.T) {
	spec := Spec{Width: 160, Height: 96, FPS: 10, GOP: 5, Seconds: 2}
	units, err := Units(spec)
	if err != nil {
		t.Fatal(err)
	}
	if len(units) != 20 {
		t.Fatalf("%d units, want 20", len(units))
	}
	for i, au := range units {
		if au.Keyframe != (i%5 == 0) {
			t.Fatalf("unit %d keyframe=%v", i, au.Keyframe)
		}
		if au.Keyframe {
			sps, pps := au.ParamSets()
			if sps == nil || pps == nil {
				t.Fatalf("keyframe %d lacks SPS/PPS", i)
			}
			info, err := avc.ParseSPS(sps)
			if err != nil || info.Width != 160 || info.Height != 96 {
				t.Fatalf("SPS %+v %v", info, err)
			}
		}
	}
	again, _ := Units(spec)
	if &again[0] != &units[0] {
		t.Fatal("the second call encoded again")
	}
}

func TestUnitsAtBitrate(t *testing.T) {
	for _, kbps := range []int{300, 1200} {
		t.Run(fmt.Sprint(kbps), func(t *testing.T) {
			spec := Spec{Width: 640, Height: 360, FPS: 15, GOP: 30, Seconds: 4, Kbps: kbps}
			units, err := Units(spec)
			if err != nil {
				t.Fatal(err)
			}
			if len(units) != 60 || !units[0].Keyframe || !units[30].Keyframe {
				t.Fatalf("%d units, keyframes at 0 and 30: %v %v", len(units), units[0].Keyframe, len(units) > 30 && units[30].Keyframe)
			}
			bytes := 0
			for _, au := range units {
				bytes += au.Size()
			}
			got := bytes * 8 / 1000 / spec.Seconds
			if got < kbps*3/4 || got > kbps*5/4 {
				t.Fatalf("%d kbit/s, want %d ± 25 %%", got, kbps)
			}
		})
	}
}

func TestProbeFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.mp4")
	out, err := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=176x144:rate=10",
		"-t", "2", "-c:v", "libx264", "-preset", "ultrafast", "-g", "5", "-movflags", "frag_keyframe+empty_moov", good).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, out)
	}
	p, err := ProbeFile(good)
	if err != nil {
		t.Fatal(err)
	}
	if p.Codec != "h264" || p.Width != 176 || p.Height != 144 || p.Frames != 20 || !p.FirstKeyframe ||
		p.Duration < 1900*time.Millisecond || p.Duration > 2100*time.Millisecond {
		t.Fatalf("probe %+v", p)
	}

	bad := filepath.Join(dir, "bad.mp4")
	if err := os.WriteFile(bad, []byte("not a video"), 0o644); err != nil {
		t.Fatal(err)
	}
	if p, err := ProbeFile(bad); err == nil {
		t.Fatalf("probed a text file as %+v", p)
	}
}
