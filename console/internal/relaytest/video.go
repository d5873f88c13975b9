package relaytest

import (
	"testing"

	"github.com/qianliyan/qianliyan/internal/avc"
	"github.com/qianliyan/qianliyan/internal/testmedia"
)

// FPS is the frame rate of Video.
const FPS = 15

// Video returns three seconds of real H.264 (320x240, constrained baseline,
// a keyframe every second) made by ffmpeg, as access units.
func Video(t testing.TB) []avc.AccessUnit {
	t.Helper()
	units, err := testmedia.Units(testmedia.Spec{Width: 320, Height: 240, FPS: FPS, GOP: FPS, Seconds: 3})
	if err != nil {
		t.Fatalf("making test video: %v", err)
	}
	return units
}
