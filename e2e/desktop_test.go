package e2e

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// startXvfb starts a virtual screen on the first free display number.
func startXvfb(t *testing.T, ctx context.Context) string {
	t.Helper()
	for n := 90; n < 140; n++ {
		if _, err := os.Stat(fmt.Sprintf("/tmp/.X11-unix/X%d", n)); err == nil {
			continue
		}
		if _, err := os.Stat(fmt.Sprintf("/tmp/.X%d-lock", n)); err == nil {
			continue
		}
		display := fmt.Sprintf(":%d", n)
		cmd := exec.CommandContext(ctx, "Xvfb", display, "-screen", "0", "1280x800x24", "-nolisten", "tcp")
		if err := cmd.Start(); err != nil {
			t.Fatalf("starting Xvfb: %v", err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		for i := 0; i < 50; i++ {
			if _, err := os.Stat(fmt.Sprintf("/tmp/.X11-unix/X%d", n)); err == nil {
				return display
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("Xvfb %s did not come up", display)
	}
	t.Fatal("no free X display number")
	return ""
}

// screenshot grabs the whole virtual screen.
func screenshot(t *testing.T, display string) image.Image {
	t.Helper()
	out, err := exec.Command("import", "-display", display, "-window", "root", "png:-").Output()
	if err != nil {
		t.Fatalf("screenshot of %s: %v", display, err)
	}
	img, err := png.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("decoding screenshot: %v", err)
	}
	return img
}

// lumaStats returns the variance of the luma over the image, and the share
// of pixels that differ from other (nil: none compared).
func lumaStats(img, other image.Image) (variance float64, changed float64) {
	b := img.Bounds()
	var sum, sum2 float64
	var n, diff int
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			v := float64(r+g+bl) / 3 / 257
			sum, sum2, n = sum+v, sum2+v*v, n+1
			if other != nil {
				r2, g2, b2, _ := other.At(x, y).RGBA()
				if r != r2 || g != g2 || bl != b2 {
					diff++
				}
			}
		}
	}
	mean := sum / float64(n)
	return sum2/float64(n) - mean*mean, float64(diff) / float64(n)
}

// quadrantsChanged reports in how many of the four quadrants of the wall area
// (right of the site tree, below the header) a share of pixels changed.
func quadrantsChanged(a, b image.Image) int {
	r := a.Bounds()
	wall := image.Rect(r.Min.X+r.Dx()/4, r.Min.Y+r.Dy()/10, r.Max.X, r.Max.Y)
	n := 0
	for qy := 0; qy < 2; qy++ {
		for qx := 0; qx < 2; qx++ {
			q := image.Rect(wall.Min.X+qx*wall.Dx()/2, wall.Min.Y+qy*wall.Dy()/2, wall.Min.X+(qx+1)*wall.Dx()/2, wall.Min.Y+(qy+1)*wall.Dy()/2)
			diff, total := 0, 0
			for y := q.Min.Y; y < q.Max.Y; y += 2 {
				for x := q.Min.X; x < q.Max.X; x += 2 {
					r1, g1, b1, _ := a.At(x, y).RGBA()
					r2, g2, b2, _ := b.At(x, y).RGBA()
					if r1 != r2 || g1 != g2 || b1 != b2 {
						diff++
					}
					total++
				}
			}
			if float64(diff)/float64(total) > 0.0005 {
				n++
			}
		}
	}
	return n
}

func TestDesktopWindowShowsLiveVideo(t *testing.T) {
	bin := requireBuilt(t, "bin/qianliyan")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// One site of four cameras: the wall opens on its 2x2 default layout.
	c := startCity(t, ctx, 1, 4)
	display := startXvfb(t, ctx)

	var logs bytes.Buffer
	app := exec.CommandContext(ctx, bin, "--relay", c.relay.URL(), "--user", c.user,
		"--data", t.TempDir(), "--log-level", "info")
	// A home of its own: the webview keeps the last wall in its local
	// storage, and a wall left by another run would not be the default one.
	home := t.TempDir()
	app.Env = append(os.Environ(), "DISPLAY="+display, "QLY_PASSWORD="+c.password, "HOME="+home,
		"XDG_DATA_HOME="+filepath.Join(home, "data"), "XDG_CONFIG_HOME="+filepath.Join(home, "config"), "XDG_CACHE_HOME="+filepath.Join(home, "cache"))
	app.Stdout, app.Stderr = &logs, &logs
	if err := app.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		app.Process.Kill()
		app.Wait()
		if t.Failed() {
			t.Logf("console output:\n%s", logs.String())
		}
	}()

	// The window is up and shows a picture when the screen is no longer flat;
	// the video is live when all four tiles change between screenshots, three
	// times running (a state label appearing changes a tile once).
	deadline := time.Now().Add(60 * time.Second)
	var prev image.Image
	live := 0
	for {
		shot := screenshot(t, display)
		variance, changed := lumaStats(shot, prev)
		if prev != nil && variance > 100 && changed > 0.0005 && quadrantsChanged(prev, shot) == 4 {
			live++
		} else {
			live = 0
		}
		if live == 3 {
			if dir := os.Getenv("QLY_SCREENSHOT_DIR"); dir != "" {
				saveScreenshot(t, shot, filepath.Join(dir, "desktop-live.png"))
			}
			return
		}
		if time.Now().After(deadline) {
			saveScreenshot(t, shot, filepath.Join(os.TempDir(), "qianliyan-desktop-last.png"))
			t.Fatalf("no live video in all four tiles of the window within 60 s (variance %.1f, changed %.4f, live quadrants %d)", variance, changed, quadrantsChanged(prev, shot))
		}
		prev = shot
		time.Sleep(time.Second)
	}
}

func saveScreenshot(t *testing.T, img image.Image, path string) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err == nil {
		os.WriteFile(path, buf.Bytes(), 0o644)
		t.Logf("screenshot saved to %s", path)
	}
}
