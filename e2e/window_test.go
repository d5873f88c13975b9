package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/internal/eventually"
)

func readKeptGeometry(t *testing.T, data string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(data, "window.json"))
	if err != nil {
		t.Fatalf("the window's geometry was not kept: %v", err)
	}
	var g map[string]any
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatalf("window.json: %v: %s", err, b)
	}
	return g
}

func TestDesktopWindowMaximisedFullScreenAndRemembered(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	c := startCity(t, ctx, 1, 1)
	display := startScreen(t, ctx) // 1280x800
	data, home := t.TempDir(), t.TempDir()

	// First run: no geometry kept, so the wall has the whole screen.
	w := openWindow(t, ctx, c, display, desktopOptions{data: data, home: home})
	var g geometry
	eventually.True(t, 2*time.Minute, "the window opens maximised", func() bool {
		var ok bool
		w.id, g, ok = consoleWindow(display)
		s := w.wmState()
		if !ok {
			return false
		}
		return strings.Contains(s, "_NET_WM_STATE_MAXIMIZED_HORZ") && strings.Contains(s, "_NET_WM_STATE_MAXIMIZED_VERT")
	})
	eventually.True(t, 30*time.Second, "the maximised window is as wide as the screen", func() bool {
		g = w.geometry()
		return g.w == 1280 && g.h > 700
	})

	// F11 is the view's key: it works once the console is signed in and
	// its wall is up, which the picture moving on the screen shows.
	liveWall(w, "window-toolbar-zh.png")
	findingsShot(w, "window-keys-findings-zh.png")
	w.press("F11")
	eventually.True(t, 60*time.Second, "F11 makes the window full screen", func() bool {
		g = w.geometry()
		return strings.Contains(w.wmState(), "_NET_WM_STATE_FULLSCREEN") && g == (geometry{0, 0, 1280, 800})
	})
	w.press("F11")
	eventually.True(t, 60*time.Second, "F11 again leaves full screen, back to maximised", func() bool {
		g = w.geometry()
		s := w.wmState()
		return !strings.Contains(s, "_NET_WM_STATE_FULLSCREEN") && strings.Contains(s, "_NET_WM_STATE_MAXIMIZED_HORZ") && g.h < 800
	})
	w.closeWindow()
	if kept := readKeptGeometry(t, data); kept["maximised"] != true {
		t.Fatalf("closed maximised, the window kept %v", kept)
	}

	// A window the officer made smaller and moved comes back as it was left.
	if err := os.WriteFile(filepath.Join(data, "window.json"), []byte(`{"x":100,"y":80,"width":1000,"height":640,"maximised":false}`), 0o600); err != nil {
		t.Fatal(err)
	}
	// In English this time, for the screenshot of the toolbar in both
	// languages.
	w = openWindow(t, ctx, c, display, desktopOptions{data: data, home: home, lang: "en"})
	near := func(a, b int) bool { return a-b <= 40 && b-a <= 40 }
	eventually.True(t, 2*time.Minute, "the window opens at its kept size and place", func() bool {
		var ok bool
		w.id, g, ok = consoleWindow(display)
		return ok && g.w == 1000 && g.h == 640 && near(g.x, 100) && near(g.y, 80) && !strings.Contains(w.wmState(), "MAXIMIZED")
	})
	if os.Getenv("QLY_SCREENSHOT_DIR") != "" {
		liveWall(w, "window-toolbar-en.png")
		findingsShot(w, "window-keys-findings-en.png")
	}
	if out, err := x11(display, "xdotool", "windowmove", "--sync", w.id, "200", "150"); err != nil {
		t.Fatalf("xdotool windowmove: %v: %s", err, out)
	}
	eventually.True(t, 30*time.Second, "the window moved", func() bool {
		g = w.geometry()
		return near(g.x, 200) && near(g.y, 150)
	})
	w.closeWindow()
	kept := readKeptGeometry(t, data)
	if kept["maximised"] != false || kept["width"] != float64(1000) || kept["height"] != float64(640) || !near(int(kept["x"].(float64)), 200) || !near(int(kept["y"].(float64)), 150) {
		t.Fatalf("closed at 1000x640 near +200+150, the window kept %v (last seen at %v)", kept, g)
	}
}

// liveWall waits until the picture in the window moves (the console signed
// in, its wall playing) and, with QLY_SCREENSHOT_DIR set, keeps the screen
// as name there.
func liveWall(w *desktopWindow, name string) {
	w.t.Helper()
	w.waitPlaying("the wall shows live video", playing{quadrants: 1})
	w.keep(name)
}

// findingsShot, with QLY_SCREENSHOT_DIR set, opens the findings list (r),
// keeps the screen with the list ringed as the region with the keys, and
// closes it again (Esc).
func findingsShot(w *desktopWindow, name string) {
	w.t.Helper()
	if os.Getenv("QLY_SCREENSHOT_DIR") == "" {
		return
	}
	// The list takes the window's right quarter, where the picture was.
	r := w.geometry().rect()
	panel := image.Rect(r.Max.X-r.Dx()/4, r.Min.Y+r.Dy()/5, r.Max.X, r.Max.Y)
	w.press("r")
	waitFor(w.t, "the findings list at the right", 60*time.Second, func() (bool, string) {
		share := colourShare(w.shot(), panel)
		return share < 0.01, fmt.Sprintf("colour %.3f there", share)
	})
	w.keep(name)
	open := w.last
	w.press("Escape")
	waitFor(w.t, "the findings list closed", 60*time.Second, func() (bool, string) {
		share := changedShare(open, w.shot(), panel)
		return share > 0.05, fmt.Sprintf("%.3f of it changed", share)
	})
}
