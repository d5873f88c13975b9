package e2e

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/qianliyan/qianliyan/console"
)

// xInput types into an X display as a keyboard would, through the XTEST
// extension that Xvfb has: the real window gets real key events, in the
// order a person would press them. It speaks the X protocol itself (a
// connection, three requests), so the tests need no xdotool.
type xInput struct {
	conn       net.Conn
	root       uint32
	xtest      byte
	minKey     byte
	perKey     int
	keysyms    []uint32 // perKey per keycode from minKey
	seq        uint16
	shiftKeyID byte
}

func openXInput(t *testing.T, display string) *xInput {
	t.Helper()
	n, err := strconv.Atoi(strings.TrimPrefix(display, ":"))
	if err != nil {
		t.Fatalf("display %q: %v", display, err)
	}
	conn, err := net.Dial("unix", fmt.Sprintf("/tmp/.X11-unix/X%d", n))
	if err != nil {
		t.Fatalf("connecting to X display %s: %v", display, err)
	}
	t.Cleanup(func() { conn.Close() })
	x := &xInput{conn: conn}
	if err := x.setup(); err != nil {
		t.Fatalf("X display %s: %v", display, err)
	}
	return x
}

var le = binary.LittleEndian

func pad4(n int) int { return (n + 3) &^ 3 }

func (x *xInput) setup() error {
	// Little-endian, protocol 11.0, no authorisation (Xvfb as the tests start it).
	if _, err := x.conn.Write([]byte{'l', 0, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0}); err != nil {
		return err
	}
	head := make([]byte, 8)
	if _, err := io.ReadFull(x.conn, head); err != nil {
		return fmt.Errorf("reading the connection setup: %w", err)
	}
	data := make([]byte, int(le.Uint16(head[6:]))*4)
	if _, err := io.ReadFull(x.conn, data); err != nil {
		return fmt.Errorf("reading the connection setup: %w", err)
	}
	if head[0] != 1 {
		return fmt.Errorf("connection refused: %s", data)
	}
	vendor := int(le.Uint16(data[16:]))
	formats := int(data[21])
	x.minKey = data[26]
	maxKey := data[27]
	x.root = le.Uint32(data[32+pad4(vendor)+8*formats:])

	name := "XTEST"
	req := make([]byte, 8+pad4(len(name)))
	req[0] = 98 // QueryExtension
	le.PutUint16(req[2:], uint16(len(req)/4))
	le.PutUint16(req[4:], uint16(len(name)))
	copy(req[8:], name)
	reply, err := x.roundTrip(req)
	if err != nil {
		return fmt.Errorf("QueryExtension XTEST: %w", err)
	}
	if reply[8] == 0 {
		return errors.New("the display has no XTEST extension")
	}
	x.xtest = reply[9]

	count := int(maxKey) - int(x.minKey) + 1
	reply, err = x.roundTrip([]byte{101, 0, 2, 0, x.minKey, byte(count), 0, 0}) // GetKeyboardMapping
	if err != nil {
		return fmt.Errorf("GetKeyboardMapping: %w", err)
	}
	x.perKey = int(reply[1])
	for i := 32; i+4 <= len(reply); i += 4 {
		x.keysyms = append(x.keysyms, le.Uint32(reply[i:]))
	}
	shift, _, ok := x.keycode(0xffe1) // Shift_L
	if !ok {
		return errors.New("no Shift key in the keyboard map")
	}
	x.shiftKeyID = shift
	return nil
}

// roundTrip sends a request that has a reply and returns the reply whole.
func (x *xInput) roundTrip(req []byte) ([]byte, error) {
	if _, err := x.conn.Write(req); err != nil {
		return nil, err
	}
	x.seq++
	for {
		head := make([]byte, 32)
		if _, err := io.ReadFull(x.conn, head); err != nil {
			return nil, err
		}
		switch head[0] {
		case 0:
			return nil, fmt.Errorf("X error %d on request %d", head[1], head[10])
		case 1:
			extra := make([]byte, int(le.Uint32(head[4:]))*4)
			if _, err := io.ReadFull(x.conn, extra); err != nil {
				return nil, err
			}
			if le.Uint16(head[2:]) != x.seq {
				continue
			}
			return append(head, extra...), nil
		}
		// An event: none is asked for, but skip it.
	}
}

// keycode finds the key and whether Shift gives the keysym.
func (x *xInput) keycode(keysym uint32) (code byte, shifted, ok bool) {
	for i := 0; i+x.perKey <= len(x.keysyms); i += x.perKey {
		for col := 0; col < 2 && col < x.perKey; col++ {
			if x.keysyms[i+col] == keysym {
				return x.minKey + byte(i/x.perKey), col == 1, true
			}
		}
	}
	return 0, false, false
}

func (x *xInput) fake(kind, detail byte) error {
	req := make([]byte, 36)
	req[0], req[1] = x.xtest, 2 // XTestFakeInput
	le.PutUint16(req[2:], 9)
	req[4], req[5] = kind, detail
	le.PutUint32(req[12:], x.root)
	_, err := x.conn.Write(req)
	x.seq++
	return err
}

// keysyms of the named keys the tests press; a single character is its own.
var namedKeys = map[string]uint32{"Enter": 0xff0d, "Escape": 0xff1b, "Tab": 0xff09, "Space": 0x20}

// press presses and releases each key in turn ("Enter", "f", "<"), and
// waits until the server has taken them.
func (x *xInput) press(t *testing.T, keys ...string) {
	t.Helper()
	for _, k := range keys {
		sym, ok := namedKeys[k]
		if !ok {
			r := []rune(k)
			if len(r) != 1 || r[0] < 0x20 || r[0] > 0x7e {
				t.Fatalf("no keysym for key %q", k)
			}
			sym = uint32(r[0])
		}
		code, shifted, ok := x.keycode(sym)
		if !ok {
			t.Fatalf("key %q is not on the keyboard map", k)
		}
		const keyPress, keyRelease = 2, 3
		steps := [][2]byte{{keyPress, code}, {keyRelease, code}}
		if shifted {
			steps = [][2]byte{{keyPress, x.shiftKeyID}, {keyPress, code}, {keyRelease, code}, {keyRelease, x.shiftKeyID}}
		}
		for _, s := range steps {
			if err := x.fake(s[0], s[1]); err != nil {
				t.Fatalf("pressing %q: %v", k, err)
			}
		}
		// GetInputFocus: its reply comes after the keys are in.
		if _, err := x.roundTrip([]byte{43, 0, 1, 0}); err != nil {
			t.Fatalf("pressing %q: %v", k, err)
		}
		// The view handles one key before the next comes, as from a hand.
		time.Sleep(150 * time.Millisecond)
	}
}

// click moves the pointer to (x, y) on the screen and clicks the left button there.
func (x *xInput) click(t *testing.T, px, py int) {
	t.Helper()
	const motion, buttonPress, buttonRelease = 6, 4, 5
	req := make([]byte, 36)
	req[0], req[1] = x.xtest, 2
	le.PutUint16(req[2:], 9)
	req[4] = motion
	le.PutUint32(req[12:], x.root)
	le.PutUint16(req[24:], uint16(px))
	le.PutUint16(req[26:], uint16(py))
	if _, err := x.conn.Write(req); err != nil {
		t.Fatalf("moving the pointer: %v", err)
	}
	x.seq++
	for _, kind := range []byte{buttonPress, buttonRelease} {
		if err := x.fake(kind, 1); err != nil {
			t.Fatalf("clicking: %v", err)
		}
	}
	if _, err := x.roundTrip([]byte{43, 0, 1, 0}); err != nil {
		t.Fatalf("clicking: %v", err)
	}
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
	return float64(n) / float64(total)
}

// consoleFindingClip is the state of the clip of the newest finding in the
// console's SQLite file, "" while there is none.
func consoleFindingClip(t *testing.T, data string) (id, state string) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(data, "console.db")+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.QueryRow(`SELECT f.id, c.state FROM findings f JOIN evidence c ON c.finding_id = f.id AND c.kind = 'clip'
		ORDER BY f.rowid DESC LIMIT 1`).Scan(&id, &state)
	if err != nil && !errors.Is(err, sql.ErrNoRows) && !strings.Contains(err.Error(), "no such table") {
		t.Fatalf("reading the console's findings: %v", err)
	}
	return id, state
}

// TestDesktopWindowPlaysFindingClip flags a finding in the real window
// (WebKitGTK under Xvfb), opens it from the findings list and plays its
// clip: the clip's picture must be drawn, and move while it plays, stop
// when paused and step back a frame with the , key. The window's <video> could
// not load the clip from the wails:// page and showed WebKit's "cannot
// play" icon; the clip is now decoded by WebCodecs, as the wall is.
func TestDesktopWindowPlaysFindingClip(t *testing.T) {
	bin := requireBuilt(t, "bin/qianliyan")
	ctx, cancel := context.WithTimeout(context.Background(), 7*time.Minute)
	defer cancel()
	c := startCity(t, ctx, 1, 4)
	display := startXvfb(t, ctx)
	// The window opens maximised, which takes a window manager.
	startOpenbox(t, ctx, display)
	data := t.TempDir()

	var logs bytes.Buffer
	app := exec.CommandContext(ctx, bin, "--relay", c.relay.URL(), "--user", c.user,
		"--data", data, "--log-level", "info", "--clip-before", "8s", "--clip-after", "12s")
	home := t.TempDir()
	app.Env = append(os.Environ(), "DISPLAY="+display, "QLY_PASSWORD="+c.password, "HOME="+home,
		"XDG_DATA_HOME="+filepath.Join(home, "data"), "XDG_CONFIG_HOME="+filepath.Join(home, "config"), "XDG_CACHE_HOME="+filepath.Join(home, "cache"))
	app.Stdout, app.Stderr = &logs, &logs
	if err := app.Start(); err != nil {
		t.Fatal(err)
	}
	var last image.Image
	defer func() {
		app.Process.Kill()
		app.Wait()
		if t.Failed() {
			if last != nil {
				saveScreenshot(t, last, filepath.Join(os.TempDir(), "qianliyan-desktop-clip-last.png"))
			}
			t.Logf("console output:\n%s", logs.String())
		}
	}()
	shot := func() image.Image {
		last = screenshot(t, display)
		return last
	}
	keys := openXInput(t, display)
	screen := shot().Bounds()

	// A modal dialog dims the wall behind it: most of the picture's colour goes.
	var wallColour float64
	waitFor(t, "live video on the window's wall", 150*time.Second, func() (bool, string) {
		prev := last
		s := shot()
		wallColour = colourShare(s, screen)
		ok := prev != nil && wallColour > 0.2 && quadrantsChanged(prev, s) == 4
		return ok, fmt.Sprintf("colour %.3f", wallColour)
	})
	dimmed := func(what string, want bool) {
		t.Helper()
		waitFor(t, what, 30*time.Second, func() (bool, string) {
			share := colourShare(shot(), screen)
			return (share < wallColour/2) == want, fmt.Sprintf("colour %.3f, wall's %.3f", share, wallColour)
		})
	}

	keys.press(t, "1", "f")
	dimmed("the flag picker", true)
	keys.press(t, "Enter")
	dimmed("the flag picker closed", false)
	waitFor(t, "the finding's clip cut", 60*time.Second, func() (bool, string) {
		id, state := consoleFindingClip(t, data)
		return id != "" && state == "complete", fmt.Sprintf("finding %q, clip %q", id, state)
	})

	// The dialog shows the snapshot (the picture at the flag) left of the
	// centre and the clip beside it, at the same height. The snapshot is the
	// picture there that stands still; the wall's pictures move. Enter opens
	// the list's first finding once the list has it: pressed again if the
	// dialog did not open (the list was still loading).
	var snap image.Rectangle
	left := image.Rect(screen.Dx()/8, screen.Dy()/10, screen.Dx()/2-4, screen.Max.Y)
	dialog := func() bool {
		prev := snap
		var ok bool
		snap, ok = pictureIn(shot(), left)
		return ok && snap == prev && changedShare(last, screenshot(t, display), snap.Inset(4)) == 0
	}
	keys.press(t, "r")
	opened := false
	for try := 0; try < 3 && !opened; try++ {
		keys.press(t, "Enter")
		for end := time.Now().Add(15 * time.Second); !opened && time.Now().Before(end); {
			opened = dialog()
		}
	}
	if !opened {
		t.Fatalf("the finding's dialog with its snapshot did not open (picture left of the centre: %v)", snap)
	}
	var clip image.Rectangle
	waitFor(t, "the clip's first frame drawn beside the snapshot", 60*time.Second, func() (bool, string) {
		var ok bool
		beside := image.Rect(screen.Dx()/2+4, snap.Min.Y-8, screen.Max.X, snap.Max.Y+8)
		clip, ok = pictureIn(shot(), beside)
		return ok, fmt.Sprintf("no picture beside the snapshot at %v (colour %.3f there)", snap, colourShare(last, beside))
	})
	if dir := os.Getenv("QLY_SCREENSHOT_DIR"); dir != "" {
		saveScreenshot(t, last, filepath.Join(dir, "desktop-finding-clip.png"))
	}
	// Inside the picture's edge, clear of anti-aliasing.
	inner := clip.Inset(4)
	still := func(what string) image.Image {
		t.Helper()
		var a image.Image
		waitFor(t, what, 30*time.Second, func() (bool, string) {
			prev := a
			a = shot()
			share := 1.0
			if prev != nil {
				share = changedShare(prev, a, inner)
			}
			return share == 0, fmt.Sprintf("%.4f of the clip changed", share)
		})
		return a
	}
	before := still("the clip standing on its first frame")

	keys.click(t, clip.Min.X+clip.Dx()/2, clip.Min.Y+clip.Dy()/2)
	// Each screenshot of a playing clip shows another frame, unless the
	// machine is so busy that the decoder falls behind for a while: three
	// changes, not necessarily in a row (a clip that cannot play never
	// changes at all).
	moving := 0
	waitFor(t, "the clip playing: its picture changing between screenshots, three times", 90*time.Second, func() (bool, string) {
		prev := last
		s := shot()
		share := changedShare(prev, s, inner)
		colour := colourShare(s, inner)
		if share > 0.002 && colour > 0.25 {
			moving++
		}
		return moving >= 3, fmt.Sprintf("%.4f changed, colour %.3f, %d changes", share, colour, moving)
	})
	if changedShare(before, last, inner) == 0 {
		t.Fatal("the clip played but shows its first frame again")
	}

	// Paused while it plays (the clip runs 12 s on from the flag), it stands
	// still; , steps back one frame and stands again.
	keys.press(t, "Space")
	paused := still("the clip paused by Space")
	keys.press(t, ",")
	waitFor(t, "one frame back after ,", 30*time.Second, func() (bool, string) {
		share := changedShare(paused, shot(), inner)
		return share > 0, fmt.Sprintf("%.4f changed", share)
	})
	still("the clip standing on the frame before")
}

// clipJS is the clip player's state in the open finding's dialog, and what
// its canvas shows: the share of pixels in the test pattern's strong
// colours, and a hash of them.
const clipJS = `(() => {
  const p = document.querySelector('[data-overlay="finding"] [data-clip-player]')
  if (!p) return { frame: -2 }
  const c = p.querySelector('canvas')
  let colour = 0, hash = 0
  if (c.width > 0) {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data
    let n = 0
    for (let i = 0; i < d.length; i += 4 * 7) {
      n++
      if (Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]) > 90) colour++
      hash = (hash * 31 + d[i] + d[i + 1] * 7 + d[i + 2] * 13) >>> 0
    }
    colour /= n
  }
  return { frame: Number(p.dataset.clipFrame), playing: p.dataset.clipPlaying === 'true', colour, hash,
    speed: (p.querySelector('[data-action="clip-speed"]') || {}).textContent || '' }
})()`

type clipView struct {
	Frame   int     `json:"frame"`
	Playing bool    `json:"playing"`
	Colour  float64 `json:"colour"`
	Hash    uint32  `json:"hash"`
	Speed   string  `json:"speed"`
}

// TestFindingClipPlaysInChromium is the window test's counterpart in the
// browser: the same player, checked by its state and its canvas.
func TestFindingClipPlaysInChromium(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	st := startStack(t, ctx, 1, 1)
	_, pageURL := serveConsole(t, ctx, console.Options{
		RelayURL: st.relay.URL(), User: st.creds.User, Password: st.creds.Password,
		Camera: "site-01/doff1", DataDir: t.TempDir(), Log: testLogger(t), ClipBefore: 2 * time.Second, ClipAfter: 6 * time.Second,
	})
	bctx := newBrowser(t, ctx)
	if err := chromedp.Do(bctx, chromedp.Navigate(pageURL), chromedp.WaitVisible(chromedp.CSS(`[data-grid]`))); err != nil {
		t.Fatalf("opening the console: %v", err)
	}
	tile := liveTile(t, bctx, "site-01/doff1")
	drawnFor(t, bctx, tile, 2*time.Second)
	if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-tile-id=%q]`, tile)))); err != nil {
		t.Fatalf("selecting %s: %v", tile, err)
	}
	pressKeys(t, bctx, "flagging", "f")
	if err := chromedp.Do(bctx, chromedp.WaitVisible(chromedp.CSS(`[data-overlay="flag"]`))); err != nil {
		t.Fatal(err)
	}
	pressKeys(t, bctx, "saving the flag", kb.Enter)
	if err := chromedp.Do(bctx, chromedp.WaitNotPresent(chromedp.CSS(`[data-overlay="flag"]`))); err != nil {
		t.Fatal(err)
	}
	pressKeys(t, bctx, "opening the findings list", "r")
	if err := chromedp.Do(bctx, chromedp.WaitVisible(chromedp.CSS(`[data-panel="findings"] [data-finding-id]`))); err != nil {
		t.Fatal(err)
	}
	pressKeys(t, bctx, "opening the finding", kb.Enter)

	var v clipView
	look := func(what string, cond func() bool) {
		t.Helper()
		waitFor(t, what, 45*time.Second, func() (bool, string) {
			v = eval[clipView](t, bctx, clipJS)
			return cond(), fmt.Sprintf("%+v", v)
		})
	}
	look("the clip's first frame drawn once it is cut", func() bool { return v.Frame == 0 && v.Colour > 0.25 })
	first := v.Hash
	if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS(`[data-overlay="finding"] [data-clip-player] canvas`))); err != nil {
		t.Fatalf("clicking the clip: %v", err)
	}
	look("the clip playing on", func() bool { return v.Playing && v.Frame >= 5 && v.Hash != first && v.Colour > 0.25 })
	pressKeys(t, bctx, "pausing", " ")
	look("the clip paused", func() bool { return !v.Playing })
	at := v.Frame
	pressKeys(t, bctx, "a frame back", ",")
	look("one frame back", func() bool { return v.Frame == at-1 })
	pressKeys(t, bctx, "a frame on, twice", ".", ".")
	look("two frames on", func() bool { return v.Frame == at+1 })
	pressKeys(t, bctx, "faster", "]")
	look("twice the speed", func() bool { return strings.HasPrefix(strings.TrimSpace(v.Speed), "2×") })
}
