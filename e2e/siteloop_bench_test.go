package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gorilla/websocket"
)

// followBridge keeps the console pulling camera (as a tile of the view
// does) and returns the PTS of the newest access unit it sent.
func followBridge(b *testing.B, ctx context.Context, s *siteStack, camera string) func() int64 {
	b.Helper()
	u, _ := url.Parse(s.console.base)
	ws, _, err := websocket.DefaultDialer.DialContext(ctx,
		fmt.Sprintf("ws://%s/ws/video?camera=%s&stream=main&token=%s", u.Host, url.QueryEscape(camera), s.console.token),
		http.Header{"Origin": {s.console.base}})
	if err != nil {
		b.Fatalf("opening the video bridge: %v", err)
	}
	b.Cleanup(func() { ws.Close() })
	var pts atomic.Int64
	pts.Store(-1)
	go func() {
		for {
			kind, msg, err := ws.ReadMessage()
			if err != nil {
				return
			}
			if kind == websocket.BinaryMessage && len(msg) > 9 {
				pts.Store(int64(binary.BigEndian.Uint64(msg[1:9])))
			}
		}
	}()
	return pts.Load
}

// snapshotJPEG is a 320x180 JPEG, as the view sends of a sub-sized frame.
func snapshotJPEG(b *testing.B) string {
	img := image.NewRGBA(image.Rect(0, 0, 320, 180))
	for y := range 180 {
		for x := range 320 {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), uint8(x ^ y), 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		b.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

// watchRelay follows the relay's changes feed as a second console would
// and records when each finding was created there.
func watchRelay(b *testing.B, ctx context.Context, duty *apiClient) func(id string) (time.Time, bool) {
	var mu sync.Mutex
	created := map[string]time.Time{}
	var after int64
	var first struct{ Cursor int64 }
	duty.do("GET", "/api/v1/findings/changes?wait=0", nil, &first)
	after = first.Cursor
	go func() {
		for ctx.Err() == nil {
			var out struct {
				Cursor  int64
				Changes []struct {
					Finding struct{ ID string }
					Event   struct{ Action string }
				}
			}
			req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/api/v1/findings/changes?after=%d&wait=25", duty.base, after), nil)
			req.Header.Set("Authorization", "Bearer "+duty.token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return
			}
			err = decodeJSON(resp.Body, &out)
			resp.Body.Close()
			if err != nil {
				return
			}
			now := time.Now()
			mu.Lock()
			for _, c := range out.Changes {
				if c.Event.Action == "created" {
					created[c.Finding.ID] = now
				}
			}
			mu.Unlock()
			after = out.Cursor
		}
	}()
	return func(id string) (time.Time, bool) {
		mu.Lock()
		defer mu.Unlock()
		t, ok := created[id]
		return t, ok
	}
}

// seenJS records, in the manager's open list page, when each finding's row
// first enters the DOM (the page replaces its main's content in place).
const seenJS = `(() => {
  window.__seen = window.__seen || {};
  performance.setResourceTimingBufferSize(100000);
  const note = () => {
    const at = performance.timeOrigin + performance.now();
    for (const li of document.querySelectorAll('li.finding[data-id]')) {
      if (!(li.dataset.id in window.__seen)) window.__seen[li.dataset.id] = at;
    }
  };
  note();
  new MutationObserver(note).observe(document.querySelector('main'), {childList: true, subtree: true});
  return true;
})()`

// BenchmarkFlagToSitePage: from the console's POST /api/v1/findings (with
// its snapshot) to the finding's row in the DOM of the site manager's list
// page, open in headless Chromium and updating itself; the real relay,
// simulator and console backend on loopback. A flag every half second or
// so (each records a 2 s clip, forwarded after it). Run it with
// -benchtime 100x; p50 and p99 are reported, and the time to the relay's
// changes feed on the way.
func BenchmarkFlagToSitePage(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := startSiteStack(b, ctx, 1, time.Second, time.Second)
	pts := followBridge(b, ctx, s, "site-01/doff1")
	createdAt := watchRelay(b, ctx, s.duty)
	bctx := newBrowser(b, ctx)
	if err := chromedp.Do(bctx, chromedp.Navigate("about:blank")); err != nil {
		b.Fatal(err)
	}
	site := openSitePage(b, bctx, s.relay.URL(), "mgr1")
	if _, err := chromedp.Run(site, chromedp.Evaluate[bool](seenJS)); err != nil {
		b.Fatal(err)
	}
	snapshot := snapshotJPEG(b)
	// The stream's buffer must hold a clip's pre-roll.
	start := time.Now()
	for pts() < 0 || time.Since(start) < 2*time.Second {
		if time.Since(start) > 30*time.Second {
			b.Fatal("no video from the console's bridge within 30 s")
		}
		time.Sleep(100 * time.Millisecond)
	}

	var total, toCommit, toRelay []time.Duration
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		time.Sleep(500 * time.Millisecond)
		b.StartTimer()
		t0 := time.Now()
		var f consoleFinding
		status, body := s.console.do("POST", "/api/v1/findings", map[string]any{
			"camera": "site-01/doff1", "stream": "main", "pts_us": pts(),
			"deviation_text": fmt.Sprintf("bench %d", i), "severity": "major",
			"deadline": time.Now().Add(2 * time.Hour).Format(time.RFC3339),
			"snapshot": snapshot, "snapshot_width": 320, "snapshot_height": 180,
		}, &f)
		if status != http.StatusCreated {
			b.Fatalf("flag %d: %d %s", i, status, body)
		}
		committed := time.Since(t0)
		js := fmt.Sprintf(`new Promise(res => { const id = %q; const look = () => window.__seen[id] ? res(window.__seen[id]) : setTimeout(look, 2); look(); })`, f.ID)
		wait, stop := context.WithTimeout(site, 30*time.Second)
		seen, err := chromedp.Run(wait, chromedp.Evaluate[float64](js, chromedp.EvalAwaitPromise))
		stop()
		if err != nil {
			b.Fatalf("flag %d: its row on the site page: %v", i, err)
		}
		b.StopTimer()
		shown := time.UnixMicro(int64(seen * 1000))
		total = append(total, shown.Sub(t0))
		toCommit = append(toCommit, committed)
		if at, ok := createdAt(f.ID); ok {
			toRelay = append(toRelay, at.Sub(t0))
		}
		b.StartTimer()
	}
	b.StopTimer()
	pct := func(d []time.Duration, p float64) float64 {
		if len(d) == 0 {
			return 0
		}
		d = slices.Clone(d)
		slices.Sort(d)
		return float64(d[min(len(d)-1, int(p*float64(len(d))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(total, 0.5), "p50-ms")
	b.ReportMetric(pct(total, 0.99), "p99-ms")
	b.ReportMetric(pct(toCommit, 0.5), "commit-p50-ms")
	b.ReportMetric(pct(toRelay, 0.5), "at-relay-p50-ms")
	b.ReportMetric(pct(toRelay, 0.99), "at-relay-p99-ms")
	if n := len(total); n >= 20 {
		b.Logf("p50 of the first %d flags %.1f ms, of the last %d (the list %d rows long) %.1f ms",
			n/4, pct(total[:n/4], 0.5), n/4, n, pct(total[n-n/4:], 0.5))
	}
	// The page's own reads of itself, as the browser timed them.
	reads, err := chromedp.Run(site, chromedp.Evaluate[[]float64](
		`performance.getEntriesByType('resource').filter(e => new URL(e.name).pathname === '/site/').map(e => e.duration)`))
	if err == nil && len(reads) > 0 {
		slices.Sort(reads)
		b.ReportMetric(reads[len(reads)/2], "page-read-p50-ms")
	}
	// What one refresh of the page costs the relay with the list as long as it got.
	pc := signInSitePage(b, s.relay.URL(), "mgr1", managerPassword)
	t0 := time.Now()
	const renders = 20
	for range renders {
		if status, _ := pc.get("/site/"); status != 200 {
			b.Fatalf("GET /site/: %d", status)
		}
	}
	b.ReportMetric(float64(time.Since(t0).Microseconds())/1000/renders, "list-render-ms")
}
