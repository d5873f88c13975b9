package testmedia

import (
	"testing"

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
