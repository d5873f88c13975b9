package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/internal/eventually"
)

// The one way the tests drive the real window (Wails, WebKitGTK): a virtual
// screen (Xvfb, 1280x800) with a window manager on it (openbox: the window
// opens maximised, which is the window manager's to do, and without one it
// stays blank), the console started on a home and data of its own in a
// chosen language, keys and clicks typed with xdotool (XTEST, as a keyboard
// does), the screen read with ImageMagick's import. scripts/setup.sh
// installs all of them.

// inEachLanguage runs f in zh-CN and in English, each a subtest with a
// context of its own that ends within: a window test's screens are
// checked, and their screenshots kept, in both of the console's languages.
func inEachLanguage(t *testing.T, within time.Duration, f func(t *testing.T, ctx context.Context, lang string)) {
	for _, lang := range []string{"zh-CN", "en"} {
		t.Run(lang, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), within)
			defer cancel()
			f(t, ctx, lang)
		})
	}
}

// startScreen starts Xvfb on the first free display number, and openbox on it.
func startScreen(t *testing.T, ctx context.Context) string {
	t.Helper()
	display := startXvfb(t, ctx)
	// openbox has been seen to exit at start on a loaded machine (a clean
	// clone's make test): one that exits is started again, and what it said
	// goes into the failure.
	// One writer for both pipes: exec has one goroutine at a time write it,
	// and it is read only once the process is gone.
	var (
		cmd    *exec.Cmd
		exited chan struct{}
		said   strings.Builder
	)
	start := func() {
		c := exec.CommandContext(ctx, "openbox", "--sm-disable")
		c.Env = append(os.Environ(), "DISPLAY="+display)
		c.Stdout, c.Stderr = &said, &said
		if err := c.Start(); err != nil {
			t.Fatalf("starting openbox (scripts/setup.sh installs it): %v", err)
		}
		done := make(chan struct{})
		exited = done
		cmd = c
		go func() { c.Wait(); close(done) }()
	}
	start()
	t.Cleanup(func() { cmd.Process.Kill(); <-exited })
	eventually.True(t, 60*time.Second, "openbox manages the screen", func() bool {
		select {
		case <-exited:
			t.Logf("openbox exited, started again; it said: %s", said.String())
			said.Reset()
			start()
		default:
		}
		out, _ := x11(display, "xprop", "-root", "_NET_SUPPORTING_WM_CHECK")
		return strings.Contains(out, "window id")
	})
	return display
}

// startXvfb starts a virtual screen on the first display number from 90
// with neither a lock nor a socket: other sandboxes share /tmp but not
// the process table, so a lock whose process is not seen here may still be
// a live server's. Stopped with SIGTERM, Xvfb removes its own.
func startXvfb(t *testing.T, ctx context.Context) string {
	t.Helper()
	for n := 90; n < 1000; n++ {
		if displayTaken(n) {
			continue
		}
		if display, ok := tryXvfb(t, ctx, n); ok {
			return display
		}
	}
	t.Fatal("no free X display number")
	return ""
}

func displayTaken(n int) bool {
	for _, p := range []string{fmt.Sprintf("/tmp/.X11-unix/X%d", n), fmt.Sprintf("/tmp/.X%d-lock", n)} {
		if _, err := os.Stat(p); err == nil {
			return true
		}
	}
	return false
}

// tryXvfb starts Xvfb on display n; -displayfd has it say when it accepts
// connections, and it exits instead if another server took n meanwhile.
func tryXvfb(t *testing.T, ctx context.Context, n int) (string, bool) {
	t.Helper()
	r, wr, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd := exec.CommandContext(ctx, "Xvfb", fmt.Sprintf(":%d", n), "-displayfd", "3", "-screen", "0", "1280x800x24", "-nolisten", "tcp")
	cmd.ExtraFiles = []*os.File{wr}
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting Xvfb: %v", err)
	}
	wr.Close()
	got := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		got <- strings.TrimSpace(line)
	}()
	select {
	case line := <-got:
		if line != strconv.Itoa(n) {
			cmd.Wait()
			return "", false
		}
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("Xvfb :%d did not come up within 2 min", n)
	}
	t.Cleanup(func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() })
	return fmt.Sprintf(":%d", n), true
}

// x11 runs an X client on the display.
func x11(display, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	out, err := cmd.CombinedOutput()
	return string(out), err
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

func saveScreenshot(t *testing.T, img image.Image, path string) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err == nil {
		os.WriteFile(path, buf.Bytes(), 0o644)
		t.Logf("screenshot saved to %s", path)
	}
}

// desktopOptions is how one run of the console's window is started.
type desktopOptions struct {
	// lang is the webview's language ("zh-CN", "en"), which follows the
	// process's locale; "" leaves the environment's (the console's default).
	lang string
	// data and home are the console's data directory and the process's home
	// (the webview keeps the last wall in its local storage there); "" is a
	// fresh one. A second run on the same ones sees what the first left.
	data, home string
	args       []string // more of the console's flags
}

// desktopWindow is one run of the console's window on a screen.
type desktopWindow struct {
	t       *testing.T
	display string
	data    string
	id      string // the X window, once it is mapped
	cmd     *exec.Cmd
	logs    *bytes.Buffer
	done    chan error
	last    image.Image // the latest screenshot, kept when the test fails
}

// locales maps the languages the tests run the webview in to their locales.
var locales = map[string]string{"zh-CN": "zh_CN", "en": "en_US"}

// openWindow starts the console on the display and waits for its window
// to be mapped.
func openWindow(t *testing.T, ctx context.Context, c *city, display string, o desktopOptions) *desktopWindow {
	t.Helper()
	if o.data == "" {
		o.data = t.TempDir()
	}
	if o.home == "" {
		o.home = t.TempDir()
	}
	args := append([]string{"--relay", c.relay.URL(), "--user", c.user, "--data", o.data, "--log-level", "info"}, o.args...)
	cmd := exec.CommandContext(ctx, requireBuilt(t, "bin/qianliyan"), args...)
	cmd.Env = append(os.Environ(), "DISPLAY="+display, "QLY_PASSWORD="+c.password, "HOME="+o.home,
		"XDG_DATA_HOME="+filepath.Join(o.home, "data"), "XDG_CONFIG_HOME="+filepath.Join(o.home, "config"), "XDG_CACHE_HOME="+filepath.Join(o.home, "cache"))
	if o.lang != "" {
		cmd.Env = append(cmd.Env, localeEnv(t, ctx, o.lang)...)
	}
	w := &desktopWindow{t: t, display: display, data: o.data, cmd: cmd, logs: &bytes.Buffer{}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = w.logs, w.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { w.done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-w.done
		w.done <- nil
		if t.Failed() {
			if w.last != nil {
				saveScreenshot(t, w.last, filepath.Join(os.TempDir(), "qianliyan-"+strings.ReplaceAll(t.Name(), "/", "-")+"-last.png"))
			}
			t.Logf("console output:\n%s", w.logs.String())
		}
	})
	eventually.True(t, 2*time.Minute, "the console's window mapped", func() bool {
		id, _, ok := consoleWindow(display)
		w.id = id
		return ok
	})
	return w
}

// localeEnv is the environment for the webview to speak lang: its locale,
// compiled for this test (the machine may have only C.UTF-8).
func localeEnv(t *testing.T, ctx context.Context, lang string) []string {
	t.Helper()
	name, ok := locales[lang]
	if !ok {
		t.Fatalf("no locale for the language %q", lang)
	}
	dir := t.TempDir()
	if out, err := exec.CommandContext(ctx, "localedef", "-i", name, "-f", "UTF-8", filepath.Join(dir, name+".UTF-8")).CombinedOutput(); err != nil {
		t.Fatalf("compiling the %s locale (localedef, from the locales package): %v\n%s", name, err, out)
	}
	return []string{"LOCPATH=" + dir, "LANG=" + name + ".UTF-8", "LANGUAGE=" + name, "LC_ALL="}
}

// geometry is a window's place and size on the screen, as xwininfo has it.
type geometry struct{ x, y, w, h int }

func (g geometry) String() string { return fmt.Sprintf("%dx%d+%d+%d", g.w, g.h, g.x, g.y) }

func (g geometry) rect() image.Rectangle { return image.Rect(g.x, g.y, g.x+g.w, g.y+g.h) }

var xwininfoField = regexp.MustCompile(`(?m)^\s*(Absolute upper-left X|Absolute upper-left Y|Width|Height):\s+(-?\d+)`)

// consoleWindow finds the console's top-level window (GTK also makes a
// small hidden one of the same name): the largest.
func consoleWindow(display string) (id string, g geometry, ok bool) {
	out, err := x11(display, "xdotool", "search", "--onlyvisible", "--name", "Qianliyan")
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

// geometry is where the window is now. GTK may replace the first window
// it maps while it starts: the console's window is found again then.
func (w *desktopWindow) geometry() geometry {
	w.t.Helper()
	g, err := windowGeometry(w.display, w.id)
	if err == nil {
		return g
	}
	id, g, ok := consoleWindow(w.display)
	if !ok {
		w.t.Fatalf("the console's window is gone: %v", err)
	}
	w.id = id
	return g
}

// wmState is the window's _NET_WM_STATE, as the window manager set it.
func (w *desktopWindow) wmState() string {
	out, _ := x11(w.display, "xprop", "-id", w.id, "_NET_WM_STATE")
	return out
}

// shot grabs the screen, and keeps it as the last one seen.
func (w *desktopWindow) shot() image.Image {
	w.last = screenshot(w.t, w.display)
	return w.last
}

// keep saves the last screenshot as name in QLY_SCREENSHOT_DIR, if set.
func (w *desktopWindow) keep(name string) {
	if dir := os.Getenv("QLY_SCREENSHOT_DIR"); dir != "" && w.last != nil {
		saveScreenshot(w.t, w.last, filepath.Join(dir, name))
	}
}

// press gives the window the focus and presses each key in turn, named as
// X keysyms ("Return", "space", "comma", "equal", "f", "alt+F4"), a pause
// between them as from a hand: the view handles one before the next comes.
func (w *desktopWindow) press(keys ...string) {
	w.t.Helper()
	args := append([]string{"windowactivate", "--sync", w.id, "key", "--delay", "150"}, keys...)
	if out, err := x11(w.display, "xdotool", args...); err != nil {
		w.t.Fatalf("xdotool key %v: %v: %s", keys, err, out)
	}
}

// click clicks the left button at (x, y) on the screen.
func (w *desktopWindow) click(x, y int) {
	w.t.Helper()
	if out, err := x11(w.display, "xdotool", "mousemove", "--sync", strconv.Itoa(x), strconv.Itoa(y), "click", "1"); err != nil {
		w.t.Fatalf("xdotool click at %d,%d: %v: %s", x, y, err, out)
	}
}

// closeWindow closes the window as the officer does (Alt+F4, the window
// manager's close) and waits for the console to exit.
func (w *desktopWindow) closeWindow() {
	w.t.Helper()
	w.press("alt+F4")
	select {
	case err := <-w.done:
		w.done <- err // for the cleanup's wait
	case <-time.After(2 * time.Minute):
		w.t.Fatal("the console did not exit within 2 min of its window being closed")
	}
}

// wallArea is the wall in the window: right of the camera list, below the
// header.
func (w *desktopWindow) wallArea() image.Rectangle {
	r := w.geometry().rect()
	return image.Rect(r.Min.X+r.Dx()/4, r.Min.Y+r.Dy()/10, r.Max.X, r.Max.Y)
}

// playing is what the pictures playing in an area (none: the window's
// wall) look like between two
// screenshots running: at least quadrants of the area's four quadrants
// changed, at least changed of the area changed, and at least colour of it
// in the test pattern's strong colours.
type playing struct {
	area      image.Rectangle
	quadrants int
	changed   float64
	colour    float64
}

// waitPlaying is the one wait for the window to paint its pictures: until
// three looks (two screenshots running) saw them playing. Not three in a
// row: under load the decoder falls behind for a while and a look catches
// the pictures still; a one-off change (the page loading, a label
// appearing) is one look, not three. A screenshot takes seconds under
// load, so the ceiling is generous.
func (w *desktopWindow) waitPlaying(what string, p playing) {
	w.t.Helper()
	prev, looks := w.shot(), 0
	waitFor(w.t, what, 4*time.Minute, func() (bool, string) {
		s := w.shot()
		area := p.area
		if area.Empty() {
			// The window's wall where the window is now: it may still be
			// growing to maximised.
			area = w.wallArea()
		}
		q, ch, col := quadrantsChanged(prev, s, area), changedShare(prev, s, area), colourShare(s, area)
		prev = s
		if q >= p.quadrants && ch >= p.changed && col >= p.colour {
			looks++
		}
		return looks >= 3, fmt.Sprintf("%d quadrants and %.4f of %v changed, colour %.3f, %d looks playing", q, ch, area, col, looks)
	})
}

// quadrantsChanged reports in how many of area's four quadrants a share of
// pixels changed between a and b.
func quadrantsChanged(a, b image.Image, area image.Rectangle) int {
	n := 0
	for qy := 0; qy < 2; qy++ {
		for qx := 0; qx < 2; qx++ {
			q := image.Rect(area.Min.X+qx*area.Dx()/2, area.Min.Y+qy*area.Dy()/2, area.Min.X+(qx+1)*area.Dx()/2, area.Min.Y+(qy+1)*area.Dy()/2)
			if changedShare(a, b, q) > 0.0005 {
				n++
			}
		}
	}
	return n
}

// changedShare is the share of pixels in rect that differ between a and b.
func changedShare(a, b image.Image, rect image.Rectangle) float64 {
	n, total := 0, 0
	for y := rect.Min.Y; y < rect.Max.Y; y += 2 {
		for x := rect.Min.X; x < rect.Max.X; x += 2 {
			r1, g1, b1, _ := a.At(x, y).RGBA()
			r2, g2, b2, _ := b.At(x, y).RGBA()
			if r1 != r2 || g1 != g2 || b1 != b2 {
				n++
			}
			total++
		}
	}
	if total == 0 {
		return 0
	}
	return float64(n) / float64(total)
}

// colourful reports a pixel of a camera's picture: the test pattern's bars
// are saturated colours, where the console's own face is greys with small
// accents, and a picture under a dialog's dimming loses most of its colour.
func colourful(img image.Image, x, y int) bool {
	r, g, b, _ := img.At(x, y).RGBA()
	hi, lo := max(r, g, b)>>8, min(r, g, b)>>8
	return hi-lo > 90
}

// colourShare is the share of colourful pixels in rect.
func colourShare(img image.Image, rect image.Rectangle) float64 {
	n, total := 0, 0
	for y := rect.Min.Y; y < rect.Max.Y; y += 2 {
		for x := rect.Min.X; x < rect.Max.X; x += 2 {
			if colourful(img, x, y) {
				n++
			}
			total++
		}
	}
	if total == 0 {
		return 0
	}
	return float64(n) / float64(total)
}

// pictureIn finds the largest run of rows and columns inside area that are
// mostly colourful: where a camera's picture is drawn at full strength.
func pictureIn(img image.Image, area image.Rectangle) (image.Rectangle, bool) {
	run := func(from, to int, dense func(i int) bool) (int, int) {
		best0, best1, start := 0, 0, -1
		for i := from; i <= to; i++ {
			if i < to && dense(i) {
				if start < 0 {
					start = i
				}
				continue
			}
			if start >= 0 && i-start > best1-best0 {
				best0, best1 = start, i
			}
			start = -1
		}
		return best0, best1
	}
	y0, y1 := run(area.Min.Y, area.Max.Y, func(y int) bool {
		return colourShare(img, image.Rect(area.Min.X, y, area.Max.X, y+1)) > 0.25
	})
	if y1-y0 < 40 {
		return image.Rectangle{}, false
	}
	x0, x1 := run(area.Min.X, area.Max.X, func(x int) bool {
		return colourShare(img, image.Rect(x, y0, x+1, y1)) > 0.25
	})
	if x1-x0 < 60 {
		return image.Rectangle{}, false
	}
	return image.Rect(x0, y0, x1, y1), true
}
