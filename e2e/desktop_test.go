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

func TestDesktopWindowShowsLiveVideo(t *testing.T) {
	bin := requireBuilt(t, "bin/qianliyan")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	st := startStack(t, ctx, 1, 1)
	display := startXvfb(t, ctx)

	var logs bytes.Buffer
	app := exec.CommandContext(ctx, bin, "--relay", st.relay.URL(), "--user", st.creds.User,
		"--camera", "site-01/doff1", "--data", t.TempDir(), "--log-level", "info")
	app.Env = append(os.Environ(), "DISPLAY="+display, "QLY_PASSWORD="+st.creds.Password)
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
	// the video is live when successive screenshots differ.
	deadline := time.Now().Add(60 * time.Second)
	var prev image.Image
	for {
		shot := screenshot(t, display)
		variance, changed := lumaStats(shot, prev)
		if prev != nil && variance > 100 && changed > 0.0005 {
			if dir := os.Getenv("QLY_SCREENSHOT_DIR"); dir != "" {
				saveScreenshot(t, shot, filepath.Join(dir, "desktop-live.png"))
			}
			return
		}
		if time.Now().After(deadline) {
			saveScreenshot(t, shot, filepath.Join(t.TempDir(), "last.png"))
			t.Fatalf("no live video in the window within 60 s (variance %.1f, changed %.4f)", variance, changed)
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
