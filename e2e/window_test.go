package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/internal/eventually"
)

// The window on a screen with a window manager (openbox: maximising and
// full screen are the window manager's to do), driven with xdotool and
// measured with xwininfo and xprop, as the officer's desktop would.

// startOpenbox runs a window manager on the display.
func startOpenbox(t *testing.T, ctx context.Context, display string) {
	t.Helper()
	cmd := exec.CommandContext(ctx, "openbox", "--sm-disable")
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting openbox (scripts/setup.sh installs it): %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	eventually.True(t, 30*time.Second, "openbox manages the screen", func() bool {
		out, _ := x11(display, "xprop", "-root", "_NET_SUPPORTING_WM_CHECK")
		return strings.Contains(out, "window id")
	})
}

// x11 runs an X client on the display.
func x11(display, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// desktopApp is one run of the console's window.
type desktopApp struct {
	cmd  *exec.Cmd
	logs *bytes.Buffer
	done chan error
}

func startDesktopApp(t *testing.T, ctx context.Context, c *city, display, data, home string, env ...string) *desktopApp {
	t.Helper()
	app := exec.CommandContext(ctx, requireBuilt(t, "bin/qianliyan"), "--relay", c.relay.URL(), "--user", c.user, "--data", data, "--log-level", "info")
	app.Env = append(os.Environ(), "DISPLAY="+display, "QLY_PASSWORD="+c.password, "HOME="+home,
		"XDG_DATA_HOME="+filepath.Join(home, "data"), "XDG_CONFIG_HOME="+filepath.Join(home, "config"), "XDG_CACHE_HOME="+filepath.Join(home, "cache"))
	app.Env = append(app.Env, env...)
	a := &desktopApp{cmd: app, logs: &bytes.Buffer{}, done: make(chan error, 1)}
	app.Stdout, app.Stderr = a.logs, a.logs
	if err := app.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { a.done <- app.Wait() }()
	t.Cleanup(func() {
		app.Process.Kill()
		<-a.done
		if t.Failed() {
			t.Logf("console output:\n%s", a.logs.String())
		}
	})
	return a
}

// geometry is a window's place and size on the screen, as xwininfo has it.
type geometry struct{ x, y, w, h int }

func (g geometry) String() string { return fmt.Sprintf("%dx%d+%d+%d", g.w, g.h, g.x, g.y) }

var xwininfoField = regexp.MustCompile(`(?m)^\s*(Absolute upper-left X|Absolute upper-left Y|Width|Height):\s+(-?\d+)`)

// consoleWindow finds the console's top-level window (GTK also makes a
// small hidden one of the same name): the largest.
func consoleWindow(display string) (id string, g geometry, ok bool) {
	out, err := x11(display, "xdotool", "search", "--name", "Qianliyan")
	if err != nil {
		return "", g, false
	}
	for _, w := range strings.Fields(out) {
		wg, err := windowGeometry(display, w)
		if err == nil && wg.w*wg.h > g.w*g.h {
			id, g = w, wg
		}
	}
	return id, g, id != "" && g.w > 100
}

func windowGeometry(display, id string) (geometry, error) {
	out, err := x11(display, "xwininfo", "-id", id)
	if err != nil {
		return geometry{}, fmt.Errorf("xwininfo: %v: %s", err, out)
	}
	v := map[string]int{}
	for _, m := range xwininfoField.FindAllStringSubmatch(out, -1) {
		v[m[1]], _ = strconv.Atoi(m[2])
	}
	return geometry{v["Absolute upper-left X"], v["Absolute upper-left Y"], v["Width"], v["Height"]}, nil
}

// wmState is the window's _NET_WM_STATE, as the window manager set it.
func wmState(display, id string) string {
	out, _ := x11(display, "xprop", "-id", id, "_NET_WM_STATE")
	return out
}

// press sends a key to the window as the keyboard would (XTEST), after
// giving it the focus.
func press(t *testing.T, display, id, key string) {
	t.Helper()
	if out, err := x11(display, "xdotool", "windowactivate", "--sync", id, "key", key); err != nil {
		t.Fatalf("xdotool key %s: %v: %s", key, err, out)
	}
}

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

// closeWindow closes the window as the officer does (Alt+F4, the window
// manager's close) and waits for the console to exit.
func (a *desktopApp) closeWindow(t *testing.T, display, id string) {
	t.Helper()
	press(t, display, id, "alt+F4")
	select {
	case <-a.done:
		a.done <- nil // for the cleanup's wait
	case <-time.After(60 * time.Second):
		t.Fatal("the console did not exit within 60 s of its window being closed")
	}
}

func TestDesktopWindowMaximisedFullScreenAndRemembered(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	c := startCity(t, ctx, 1, 1)
	display := startXvfb(t, ctx) // 1280x800
	startOpenbox(t, ctx, display)
	data, home := t.TempDir(), t.TempDir()

	// First run: no geometry kept, so the wall has the whole screen.
	app := startDesktopApp(t, ctx, c, display, data, home)
	var id string
	var g geometry
	eventually.True(t, 60*time.Second, "the window opens maximised", func() bool {
		var ok bool
		id, g, ok = consoleWindow(display)
		return ok && strings.Contains(wmState(display, id), "_NET_WM_STATE_MAXIMIZED_HORZ") && strings.Contains(wmState(display, id), "_NET_WM_STATE_MAXIMIZED_VERT")
	})
	eventually.True(t, 10*time.Second, "the maximised window is as wide as the screen", func() bool {
		g, _ = windowGeometry(display, id)
		return g.w == 1280 && g.h > 700
	})

	// F11 is the view's key: it works once the console is signed in and
	// its wall is up, which the picture moving on the screen shows.
	liveWall(t, display, "window-toolbar-zh.png")
	findingsShot(t, display, id, "window-keys-findings-zh.png")
	press(t, display, id, "F11")
	eventually.True(t, 20*time.Second, "F11 makes the window full screen", func() bool {
		g, _ = windowGeometry(display, id)
		return strings.Contains(wmState(display, id), "_NET_WM_STATE_FULLSCREEN") && g == (geometry{0, 0, 1280, 800})
	})
	press(t, display, id, "F11")
	eventually.True(t, 20*time.Second, "F11 again leaves full screen, back to maximised", func() bool {
		g, _ = windowGeometry(display, id)
		s := wmState(display, id)
		return !strings.Contains(s, "_NET_WM_STATE_FULLSCREEN") && strings.Contains(s, "_NET_WM_STATE_MAXIMIZED_HORZ") && g.h < 800
	})
	app.closeWindow(t, display, id)
	if kept := readKeptGeometry(t, data); kept["maximised"] != true {
		t.Fatalf("closed maximised, the window kept %v", kept)
	}

	// A window the officer made smaller and moved comes back as it was left.
	if err := os.WriteFile(filepath.Join(data, "window.json"), []byte(`{"x":100,"y":80,"width":1000,"height":640,"maximised":false}`), 0o600); err != nil {
		t.Fatal(err)
	}
	// In English this time (the webview's language follows the process's),
	// for the screenshot of the toolbar in both languages.
	app = startDesktopApp(t, ctx, c, display, data, home, "LANG=en_US.UTF-8", "LANGUAGE=en")
	near := func(a, b int) bool { return a-b <= 40 && b-a <= 40 }
	eventually.True(t, 60*time.Second, "the window opens at its kept size and place", func() bool {
		var ok bool
		id, g, ok = consoleWindow(display)
		return ok && g.w == 1000 && g.h == 640 && near(g.x, 100) && near(g.y, 80) && !strings.Contains(wmState(display, id), "MAXIMIZED")
	})
	if os.Getenv("QLY_SCREENSHOT_DIR") != "" {
		liveWall(t, display, "window-toolbar-en.png")
		findingsShot(t, display, id, "window-keys-findings-en.png")
	}
	if out, err := x11(display, "xdotool", "windowmove", "--sync", id, "200", "150"); err != nil {
		t.Fatalf("xdotool windowmove: %v: %s", err, out)
	}
	eventually.True(t, 10*time.Second, "the window moved", func() bool {
		g, _ = windowGeometry(display, id)
		return near(g.x, 200) && near(g.y, 150)
	})
	app.closeWindow(t, display, id)
	kept := readKeptGeometry(t, data)
	if kept["maximised"] != false || kept["width"] != float64(1000) || kept["height"] != float64(640) || !near(int(kept["x"].(float64)), 200) || !near(int(kept["y"].(float64)), 150) {
		t.Fatalf("closed at 1000x640 near +200+150, the window kept %v (last seen at %v)", kept, g)
	}
}

// liveWall waits until the picture on the screen moves (the console signed
// in, its wall playing) and, with QLY_SCREENSHOT_DIR set, keeps the screen
// as name there.
func liveWall(t *testing.T, display, name string) {
	t.Helper()
	// The screen changing once is the page loading or the wall appearing;
	// changing between three shots running is video playing.
	prev := screenshot(t, display)
	live := 0
	eventually.True(t, 90*time.Second, "the wall shows live video", func() bool {
		time.Sleep(500 * time.Millisecond)
		shot := screenshot(t, display)
		if quadrantsChanged(prev, shot) > 0 {
			live++
		} else {
			live = 0
		}
		prev = shot
		return live >= 3
	})
	if dir := os.Getenv("QLY_SCREENSHOT_DIR"); dir != "" {
		saveScreenshot(t, prev, filepath.Join(dir, name))
	}
}

// findingsShot, with QLY_SCREENSHOT_DIR set, opens the findings list (r),
// keeps the screen with the list ringed as the region with the keys, and
// closes it again (Esc).
func findingsShot(t *testing.T, display, id, name string) {
	t.Helper()
	dir := os.Getenv("QLY_SCREENSHOT_DIR")
	if dir == "" {
		return
	}
	press(t, display, id, "r")
	time.Sleep(2 * time.Second)
	saveScreenshot(t, screenshot(t, display), filepath.Join(dir, name))
	press(t, display, id, "Escape")
	time.Sleep(time.Second)
}
