package e2e

import (
	"context"
	"fmt"
	"image"
	"testing"
	"time"
)

// The real window under Xvfb, in Chinese and in English, as the officer
// works it with the keys: the 16-tile wall, then 25 tiles beside the
// findings, then the checklist beside an enlarged camera (issue 10.9). The
// wall's pictures play throughout; the findings panel takes the right of
// the window without a picture in it; and beside the checklist the video
// is at least 60 % of the window's width. With QLY_SCREENSHOT_DIR set, the
// screens are kept there (docs/screenshots/ has them).
func TestDesktopWallLayouts(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	// Eight cameras: sixteen encoders on two cores shared with the relay,
	// the window and the rest are more than the machine has to spare.
	c := startCity(t, ctx, 2, 4)
	for _, lang := range []string{"zh-CN", "en"} {
		t.Run(lang, func(t *testing.T) {
			display := startScreen(t, ctx)
			// A fresh home: a fresh console opens on every camera (a 9-tile
			// wall), in the language of its environment.
			w := openWindow(t, ctx, c, display, desktopOptions{lang: lang})
			shot := w.shot
			keep := func(name string) { w.keep(name + "-" + lang + ".png") }
			screen := shot().Bounds()
			// Playing: the wall's pictures change.
			play := func(what string, wall image.Rectangle) {
				t.Helper()
				w.waitPlaying(what, playing{area: wall, changed: 0.01, colour: 0.05})
			}
			// Right of the camera list, below the header and the toolbar.
			wall := image.Rect(screen.Dx()/4, screen.Dy()/6, screen.Max.X, screen.Max.Y)
			play("the wall playing", wall)
			w.press("equal")
			play("the 16-tile wall playing", wall)
			keep("wall-16")

			// The findings panel: the window's right quarter, no picture in it.
			panel := image.Rect(screen.Max.X-screen.Dx()/4, screen.Dy()/5, screen.Max.X, screen.Max.Y)
			w.press("equal", "r")
			waitFor(t, "the findings panel at the right", 60*time.Second, func() (bool, string) {
				share := colourShare(shot(), panel)
				return share < 0.01, fmt.Sprintf("colour %.3f there", share)
			})
			play("the 25-tile wall playing beside the findings", image.Rect(wall.Min.X, wall.Min.Y, panel.Min.X, wall.Max.Y))
			keep("wall-25-findings")

			w.press("Escape", "1", "k")
			var picture image.Rectangle
			waitFor(t, "the checklist beside a camera over 60 % of the window wide", 2*time.Minute, func() (bool, string) {
				var ok bool
				picture, ok = pictureIn(shot(), image.Rect(0, screen.Dy()/8, screen.Max.X, screen.Max.Y))
				return ok && picture.Dx() >= screen.Dx()*6/10, fmt.Sprintf("picture %v in %v", picture, screen)
			})
			keep("checklist")
		})
	}
}
