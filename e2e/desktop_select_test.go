package e2e

import (
	"context"
	"fmt"
	"image"
	"testing"
	"time"
)

// TestDesktopWindowDropdownIsDark opens a <select>'s list in the real
// window (WebKitGTK under Xvfb): the flag picker's severity. WebKitGTK
// draws that list as a GTK popup, outside the page, so the page's CSS
// (color-scheme: dark) does not reach it; it was a light GTK menu on the
// dark console. What the popup drew must be dark.
func TestDesktopWindowDropdownIsDark(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	c := startCity(t, ctx, 1, 4)
	display := startScreen(t, ctx)
	w := openWindow(t, ctx, c, display, desktopOptions{})
	shot := w.shot
	screen := shot().Bounds()

	w.waitPlaying("live video on the window's wall", playing{quadrants: 4, colour: 0.2})
	wallColour := colourShare(w.last, screen)
	if wallColour <= 0.2 {
		t.Fatalf("the playing wall has colour %.3f of the screen, want over 0.2", wallColour)
	}
	w.press("1", "f")
	waitFor(t, "the flag picker", 60*time.Second, func() (bool, string) {
		share := colourShare(shot(), screen)
		return share < wallColour/2, fmt.Sprintf("colour %.3f, wall's %.3f", share, wallColour)
	})
	// From the list of deviations, Tab is the severity's <select>; Space
	// opens its list, as on any GTK desktop.
	w.press("Tab")
	// The wall's video goes on under the dimmed dialog: what moves there
	// before the list opens is left out of what the list drew.
	time.Sleep(time.Second)
	before := shot()
	moving := make(map[image.Point]bool)
	for range 6 {
		time.Sleep(300 * time.Millisecond)
		next := shot()
		for p := range changed(before, next) {
			moving[p] = true
		}
		before = next
	}
	w.press("space")
	var popup image.Rectangle
	var luma float64
	waitFor(t, "the severity's list open", 60*time.Second, func() (bool, string) {
		var n int
		popup, luma, n = drawn(before, shot(), moving)
		return n > 2000, fmt.Sprintf("%d pixels changed", n)
	})
	w.keep("desktop-dropdown.png")
	if luma > 90 {
		t.Fatalf("the dropdown's list at %v is light: mean luma %.0f of 255 where it changed the screen, want the console's dark (≤ 90)", popup, luma)
	}
}

// changed lists the pixels that differ between a and b.
func changed(a, b image.Image) map[image.Point]bool {
	out := map[image.Point]bool{}
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			r1, g1, b1, _ := a.At(x, y).RGBA()
			r2, g2, b2, _ := b.At(x, y).RGBA()
			if r1 != r2 || g1 != g2 || b1 != b2 {
				out[image.Pt(x, y)] = true
			}
		}
	}
	return out
}

// drawn is what b drew over a, leaving out the pixels that were moving
// anyway: its bounding box, its mean luma (0–255) and how many pixels.
func drawn(a, b image.Image, moving map[image.Point]bool) (area image.Rectangle, luma float64, n int) {
	var sum float64
	for p := range changed(a, b) {
		if moving[p] {
			continue
		}
		r, g, bl, _ := b.At(p.X, p.Y).RGBA()
		sum += (0.299*float64(r) + 0.587*float64(g) + 0.114*float64(bl)) / 257
		area = area.Union(image.Rect(p.X, p.Y, p.X+1, p.Y+1))
		n++
	}
	if n == 0 {
		return area, 0, 0
	}
	return area, sum / float64(n), n
}
