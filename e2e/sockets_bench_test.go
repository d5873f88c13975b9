package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gorilla/websocket"

	"github.com/qianliyan/qianliyan/console"
)

// Where a 16-tile wall's cold start waits (docs/PERFORMANCE.md, "The
// sixteen sockets"): the console's bridge answers sixteen sockets at once,
// while the browser opens them one after another.
//
//	go test -run '^$' -bench 'BenchmarkBridgeSixteen|BenchmarkBrowserOpensSockets' -benchtime 1x ./e2e/

// BenchmarkBridgeSixteen opens the sixteen sub streams of a city of four
// sites of four cameras at the console's bridge at once, from Go, with
// nothing pulling before: the upgrade and the first unit of each, from the
// moment they were asked for. Each round waits for the console to let the
// streams go (nobody watching) before the next.
func BenchmarkBridgeSixteen(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	c := startCity(b, ctx, 4, 4, demoPictures)
	backend, pageURL := serveConsole(b, ctx, console.Options{RelayURL: c.relay.URL(), User: c.user, Password: c.password, DataDir: b.TempDir(), Log: testLogger(b)})
	u, err := url.Parse(pageURL)
	if err != nil {
		b.Fatal(err)
	}
	token := u.Query().Get("token")
	var cams []string
	waitFor(b, "the console signed in with the city's cameras", 60*time.Second, func() (bool, string) {
		list, err := backend.Cameras(ctx)
		cams = cams[:0]
		for _, c := range list {
			cams = append(cams, c.Site+"/"+c.ID)
		}
		return len(cams) == 16, fmt.Sprintf("%d cameras (%v)", len(cams), err)
	})
	var upgraded, first []float64
	for round := 0; round < benchRounds(3); round++ {
		start := time.Now()
		var mu sync.Mutex
		var wg sync.WaitGroup
		var conns []*websocket.Conn
		for _, cam := range cams {
			wg.Add(1)
			go func() {
				defer wg.Done()
				q := url.Values{"camera": {cam}, "stream": {"sub"}, "token": {token}}
				ws, _, err := websocket.DefaultDialer.DialContext(ctx, "ws://"+u.Host+"/ws/video?"+q.Encode(), http.Header{"Origin": {"http://" + u.Host}})
				if err != nil {
					b.Error(err)
					return
				}
				up := time.Since(start)
				for {
					kind, _, err := ws.ReadMessage()
					if err != nil {
						b.Error(err)
						return
					}
					if kind == websocket.BinaryMessage {
						break
					}
				}
				mu.Lock()
				defer mu.Unlock()
				upgraded = append(upgraded, float64(up.Microseconds())/1000)
				first = append(first, float64(time.Since(start).Microseconds())/1000)
				conns = append(conns, ws)
			}()
		}
		wg.Wait()
		b.Logf("round %d: last upgraded %.0f ms, last first unit %.0f ms (load %s)", round+1, upgraded[len(upgraded)-1], first[len(first)-1], loadAverage())
		for _, ws := range conns {
			ws.Close()
		}
		time.Sleep(4 * time.Second) // the console ends the streams nobody watches
	}
	percentiles(b, "upgraded", upgraded)
	percentiles(b, "first-unit", first)
}

// BenchmarkBrowserOpensSockets opens sixteen WebSockets from a Chromium
// page at once to a loopback server that answers at once, first all to one
// address (as the view opens its tiles' sockets to the bridge), then four
// to each of four: the times at which each opened. Chromium lets one
// handshake to an address be in flight at a time (RFC 6455, 4.1) and
// delays further connections when many are pending.
func BenchmarkBrowserOpensSockets(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	var addrs []string
	for range 4 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !websocket.IsWebSocketUpgrade(r) {
				fmt.Fprint(w, "<!doctype html><title>sockets</title>")
				return
			}
			ws, err := up.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			defer ws.Close()
			ws.ReadMessage() // until the page closes it
		})}
		go srv.Serve(ln)
		b.Cleanup(func() { srv.Close() })
		addrs = append(addrs, ln.Addr().String())
	}
	browser := newBrowser(b, ctx)
	if err := chromedp.Do(browser, chromedp.Navigate("http://"+addrs[0]+"/")); err != nil {
		b.Fatal(err)
	}
	last := map[int][]float64{}
	for round := 0; round < 2*benchRounds(3); round++ {
		n := []int{1, 4}[round%2]
		opened, err := chromedp.Run(browser, chromedp.Evaluate[[]float64](fmt.Sprintf(`new Promise((resolve) => {
  const addrs = ['%s'], t0 = performance.now(), opened = []
  for (let i = 0; i < 16; i++) {
    const ws = new WebSocket('ws://' + addrs[i %% addrs.length] + '/')
    ws.onopen = () => {
      opened.push(performance.now() - t0)
      if (opened.length === 16) resolve(opened)
      setTimeout(() => ws.close(), 50)
    }
  }
})`, strings.Join(addrs[:n], "','")), chromedp.EvalAwaitPromise))
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("round %d, %d address(es): opened at %.0f ms (load %s)", round/2+1, n, opened, loadAverage())
		last[n] = append(last[n], opened[len(opened)-1])
		time.Sleep(2 * time.Second)
	}
	percentiles(b, "one-address-last", last[1])
	percentiles(b, "four-addresses-last", last[4])
}
