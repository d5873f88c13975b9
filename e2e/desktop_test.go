package e2e

import (
	"context"
	"image"
	"testing"
	"time"
)

// lumaStats returns the variance of the luma over the image.
func lumaStats(img image.Image) (variance float64) {
	b := img.Bounds()
	var sum, sum2 float64
	var n int
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			v := float64(r+g+bl) / 3 / 257
			sum, sum2, n = sum+v, sum2+v*v, n+1
		}
	}
	mean := sum / float64(n)
	return sum2/float64(n) - mean*mean
}

// TestDesktopWindowShowsLiveVideo opens the real window on a screen with a
// window manager (it opens maximised: without one it stays blank) and
// waits for live video in all four tiles of the default wall.
func TestDesktopWindowShowsLiveVideo(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	// One site of four cameras: the wall opens on its 2x2 default layout.
	c := startCity(t, ctx, 1, 4)
	display := startScreen(t, ctx)
	// A fresh home: the webview keeps the last wall in its local storage,
	// and a wall left by another run would not be the default one.
	w := openWindow(t, ctx, c, display, desktopOptions{})

	// The window shows a picture when the screen is no longer flat; the
	// video is live when all four tiles change between screenshots.
	w.waitPlaying("live video in all four tiles of the window", playing{quadrants: 4, colour: 0.2})
	if v := lumaStats(w.last); v <= 100 {
		t.Fatalf("the window's screen is flat (luma variance %.1f) though its tiles change", v)
	}
	w.keep("desktop-live.png")
}
