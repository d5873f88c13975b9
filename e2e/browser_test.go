package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/qianliyan/qianliyan/console"
	"github.com/qianliyan/qianliyan/internal/chromium"
)

// canvasSample summarises the pixels of the first video canvas on the page.
type canvasSample struct {
	Width    int     `json:"w"`
	Height   int     `json:"h"`
	Variance float64 `json:"variance"`
	Hash     int64   `json:"hash"`
}

// sampleCanvasJS copies the canvas into a 2D canvas (whatever context drew it)
// and returns its size, luma variance (a blank canvas has none) and a hash of
// every pixel (a frozen picture keeps it).
const sampleCanvasJS = `(() => {
  const c = document.querySelector('[data-tile-id="tile-1"] canvas');
  if (!c || !c.width || !c.height) return null;
  const o = document.createElement('canvas'); o.width = c.width; o.height = c.height;
  const g = o.getContext('2d'); g.drawImage(c, 0, 0);
  const d = g.getImageData(0, 0, o.width, o.height).data;
  let sum = 0, sum2 = 0, hash = 0;
  for (let i = 0; i < d.length; i += 4) {
    const v = (d[i] + d[i+1] + d[i+2]) / 3; sum += v; sum2 += v * v;
    hash = (Math.imul(hash, 31) + d[i] + d[i+1] * 7 + d[i+2] * 13) | 0;
  }
  const n = d.length / 4, mean = sum / n;
  return {w: c.width, h: c.height, variance: sum2 / n - mean * mean, hash};
})()`

// newBrowser starts headless Chromium in a desktop-sized window.
func newBrowser(t testing.TB, ctx context.Context) context.Context {
	t.Helper()
	return chromium.New(t, ctx, chromedp.WindowSize(1280, 800))
}

// waitForVideo polls the page until its canvas shows a non-blank picture.
func waitForVideo(t *testing.T, ctx context.Context, within time.Duration) canvasSample {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		s, err := chromedp.Run(ctx, chromedp.Evaluate[*canvasSample](sampleCanvasJS))
		if err != nil {
			t.Fatalf("sampling canvas: %v", err)
		}
		if s != nil && s.Variance > 50 {
			return *s
		}
		if time.Now().After(deadline) {
			t.Fatalf("no picture on the canvas within %v (last sample %+v)", within, s)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func TestBrowserShowsLiveVideo(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st := startStack(t, ctx, 1, 1)

	bctx := openConsole(t, ctx, st, "site-01/doff1")
	first := waitForVideo(t, bctx, 30*time.Second)
	if first.Width != 320 || first.Height != 180 {
		t.Errorf("canvas is %dx%d, want the camera's 320x180", first.Width, first.Height)
	}
	time.Sleep(time.Second)
	second := waitForVideo(t, bctx, 5*time.Second)
	if second.Hash == first.Hash {
		t.Fatalf("the picture did not change in a second: video is frozen")
	}
}

// openConsole serves a console signed in to st's relay as its duty officer,
// showing camera first, and opens it in a new headless Chromium.
func openConsole(t *testing.T, ctx context.Context, st *stack, camera string) context.Context {
	t.Helper()
	_, pageURL := serveConsole(t, ctx, console.Options{
		RelayURL: st.relay.URL(), User: st.creds.User, Password: st.creds.Password,
		Camera: camera, DataDir: t.TempDir(), Log: testLogger(t),
	})
	bctx := newBrowser(t, ctx)
	if _, err := chromedp.Run(bctx, chromedp.Navigate(pageURL)); err != nil {
		t.Fatalf("opening %s: %v", pageURL, err)
	}
	return bctx
}
