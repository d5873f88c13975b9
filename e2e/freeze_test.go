package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// encoderPID finds the ffmpeg this test process started for camera
// ("site-01 / doff1", as sitesim draws it on the picture).
func encoderPID(t *testing.T, site, camera string) int {
	t.Helper()
	label := []byte("text='" + site + " / " + camera + "'")
	dirs, err := filepath.Glob("/proc/[0-9]*")
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range dirs {
		pid, err := strconv.Atoi(filepath.Base(dir))
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join(dir, "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid …; comm may hold spaces, not ')'.
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(fields) < 2 || fields[1] != strconv.Itoa(os.Getpid()) {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join(dir, "cmdline"))
		if err != nil {
			continue
		}
		if args := bytes.Split(cmdline, []byte{0}); strings.HasSuffix(string(args[0]), "ffmpeg") && bytes.Contains(cmdline, label) {
			return pid
		}
	}
	t.Fatalf("no ffmpeg of this process draws %s / %s", site, camera)
	return 0
}

// frozenTile is what the test reads of tile-1 while its camera is frozen.
type frozenTile struct {
	State    string `json:"state"`
	Text     string `json:"text"`     // the state as the tile words it, its "since" time included
	Received int    `json:"received"` // access units the view got from the bridge
}

const frozenTileJS = `(() => {
  const el = document.querySelector('[data-tile-id="tile-1"]');
  const st = (window.__qly && window.__qly.tiles && window.__qly.tiles['tile-1']) || {};
  const text = el && el.querySelector('.trouble-state, .state');
  return {state: el ? el.dataset.state : '', text: text ? text.textContent : '', received: st.framesReceived || 0};
})()`

// TestFrozenEncoderNeverShownLive stops a camera's encoder (SIGSTOP on its
// ffmpeg; the publisher stays connected, so the relay calls the camera
// stalled) and watches its tile while the console, hearing nothing, asks
// the relay for the stream again and again: the tile must never say live,
// its "since" must stay when the picture froze, and no frame may reach the
// view, until the encoder runs again (issue 10.1).
func TestFrozenEncoderNeverShownLive(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	st := startStack(t, ctx, 1, 1)
	bctx := openConsole(t, ctx, st, "site-01/doff1")
	waitForVideo(t, bctx, time.Minute)
	waitFor(t, "the tile live", time.Minute, func() (bool, string) {
		s := eval[frozenTile](t, bctx, frozenTileJS)
		return s.State == "live", fmt.Sprintf("%+v", s)
	})

	pid := encoderPID(t, "site-01", "doff1")
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	// A stopped ffmpeg would not hear the simulator stop it.
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGCONT) })

	var frozen frozenTile
	waitFor(t, "the tile stalled", time.Minute, func() (bool, string) {
		frozen = eval[frozenTile](t, bctx, frozenTileJS)
		return frozen.State == "stalled", fmt.Sprintf("%+v", frozen)
	})
	// The console ends a session silent for 6 s and asks again: watch the
	// tile until the relay has answered two such new asks.
	asks := map[string]bool{}
	for _, v := range st.relay.Viewers() {
		asks[v.ID] = true
	}
	before := len(asks)
	samples := 0
	waitFor(t, "two new sessions asked for while frozen", 2*time.Minute, func() (bool, string) {
		s := eval[frozenTile](t, bctx, frozenTileJS)
		samples++
		if s.State != "stalled" || s.Text != frozen.Text || s.Received != frozen.Received {
			t.Fatalf("sample %d while frozen: %+v, want it as when it stalled: %+v", samples, s, frozen)
		}
		for _, v := range st.relay.Viewers() {
			asks[v.ID] = true
		}
		return len(asks) >= before+2, fmt.Sprintf("%d sessions", len(asks))
	})
	t.Logf("%d samples of the frozen tile, all %q", samples, frozen.Text)

	if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the tile live again", time.Minute, func() (bool, string) {
		s := eval[frozenTile](t, bctx, frozenTileJS)
		return s.State == "live" && s.Received > frozen.Received, fmt.Sprintf("%+v", s)
	})
	waitPlaying(t, bctx, "its picture moving again", time.Minute, []string{"tile-1"})
}
