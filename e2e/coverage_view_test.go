package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/qianliyan/qianliyan/console"
	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/relay"
)

// TestCoverageView (issue 11 §4, the view's part, in real time): the
// console in Chromium tells its backend what is on screen, which keeps it
// in its store: every camera of the wall in a tile; only the enlarged one
// in focus view; none while a modal dialog (the keys' help) covers the
// wall. The coverage panel (G) shows the sites on screen as watched now,
// and leaves that when the dialog covers the wall or a tile is enlarged
// (the time taken is logged, not asserted: docs/PERFORMANCE.md).
func TestCoverageView(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	st := startStack(t, ctx, 2, 2)
	dir := t.TempDir()
	_, pageURL := serveConsole(t, ctx, console.Options{
		RelayURL: st.relay.URL(), User: st.creds.User, Password: st.creds.Password,
		DataDir: dir, Log: testLogger(t),
	})
	b := newBrowser(t, ctx)
	if err := chromedp.Do(b, chromedp.Navigate(pageURL), chromedp.WaitVisible(chromedp.CSS(`[data-scope="wall"]`))); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, "console.db")+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	open := func() string {
		rows, err := db.Query(`SELECT camera, mode FROM watch_open ORDER BY camera`)
		if err != nil {
			return "error: " + err.Error()
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var c, m string
			_ = rows.Scan(&c, &m)
			out = append(out, c+":"+m)
		}
		return strings.Join(out, ",")
	}
	var tiles []string
	eventually.True(t, time.Minute, "the wall's cameras watched in their tiles", func() bool {
		shown, err := chromedp.Run(b, chromedp.Evaluate[[]*string](`(window.__qly?.wall?.layout?.tiles ?? [])`))
		if err != nil {
			return false
		}
		seen := map[string]bool{}
		tiles = tiles[:0]
		for _, c := range shown {
			if c != nil && !seen[*c] {
				seen[*c] = true
				tiles = append(tiles, *c+":tile")
			}
		}
		sort.Strings(tiles)
		return len(tiles) > 0 && open() == strings.Join(tiles, ",")
	})
	t.Logf("on the wall: %v", tiles)

	pressKeys(t, b, "enlarging the selected tile", kb.Enter)
	focused, err := chromedp.Run(b, chromedp.Evaluate[string](`window.__qly.wall.layout.tiles[Number(window.__qly.wall.focused.slice(5)) - 1]`))
	if err != nil {
		t.Fatal(err)
	}
	eventually.True(t, 30*time.Second, "only the enlarged camera watched", func() bool { return open() == focused+":focus" })
	pressKeys(t, b, "back to the wall", kb.Escape)
	eventually.True(t, 30*time.Second, "the tiles watched again", func() bool { return open() == strings.Join(tiles, ",") })

	// The panel: the sites on screen are watched now.
	if err := chromedp.Do(b, chromedp.KeyEvent("g"), chromedp.WaitVisible(chromedp.CSS(`[data-panel="coverage"] [data-tone="now"]`))); err != nil {
		t.Fatalf("the coverage panel with a site watched now: %v", err)
	}
	// The help covers the wall: nothing is watched, and the panel says so.
	ms, err := chromedp.Run(b, chromedp.Evaluate[float64](`new Promise((resolve) => {
		const t0 = performance.now()
		document.querySelector('[data-scope="wall"]').dispatchEvent(new KeyboardEvent('keydown', { key: '?', bubbles: true }))
		const check = () => document.querySelector('[data-panel="coverage"] [data-tone="now"]') ? requestAnimationFrame(check) : resolve(performance.now() - t0)
		requestAnimationFrame(check)
	})`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("coverage panel updated %.0f ms after the wall was covered", ms)
	eventually.True(t, 30*time.Second, "nothing watched behind the dialog", func() bool { return open() == "" })
	pressKeys(t, b, "back to the wall", kb.Escape)
	eventually.True(t, 30*time.Second, "the tiles watched once the dialog closed", func() bool { return open() == strings.Join(tiles, ",") })

	// A tile change: the first tile enlarged, the other sites leave the
	// screen; the panel shows it.
	focusMS, err := chromedp.Run(b, chromedp.Evaluate[float64](`new Promise((resolve) => {
		const site = window.__qly.wall.layout.tiles[0].split('/')[0]
		const others = () => [...document.querySelectorAll('[data-panel="coverage"] [data-site]')].filter((e) => e.dataset.site !== site && e.dataset.tone === 'now')
		const wait = () => others().length ? start() : requestAnimationFrame(wait)
		const start = () => {
			const t0 = performance.now()
			document.querySelector('[data-scope="wall"]').dispatchEvent(new KeyboardEvent('keydown', { key: '1', bubbles: true }))
			document.querySelector('[data-scope="wall"]').dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }))
			const check = () => others().length ? requestAnimationFrame(check) : resolve(performance.now() - t0)
			requestAnimationFrame(check)
		}
		wait()
	})`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("coverage panel updated %.0f ms after a tile was enlarged", focusMS)
	eventually.True(t, 30*time.Second, "the enlarged camera alone watched", func() bool { return strings.HasSuffix(open(), ":focus") && !strings.Contains(open(), ",") })
}

// TestCoverageKeyMomentView: a key moment due now at site-02 (configured at
// the present minute) while site-01's camera is enlarged: the console shows
// the calm banner naming it; J puts the moment's camera on screen, enlarged,
// which the backend keeps as watched, and the banner goes.
func TestCoverageKeyMomentView(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "relay.yaml")
	yaml := fmt.Sprintf("coverage:\n  key_moments:\n    - {id: disinfection, name: {zh-CN: 消杀巡查, en: Disinfection round}, times: [%q], zones: [doffing_room_2], sites: [site-02], window: 10m}\n",
		time.Now().In(shanghai).Format("15:04"))
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := relay.Start(ctx, relay.Options{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Demo: true, ConfigFile: cfg, Log: testLogger(t)})
	if err != nil {
		t.Fatalf("starting relay: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	dir := t.TempDir()
	_, pageURL := serveConsole(t, ctx, console.Options{RelayURL: r.URL(), User: r.Demo().User, Password: r.Demo().Password, DataDir: dir, Log: testLogger(t)})
	b := newBrowser(t, ctx)
	if err := chromedp.Do(b, chromedp.Navigate(pageURL), chromedp.WaitVisible(chromedp.CSS(`[data-scope="wall"]`))); err != nil {
		t.Fatal(err)
	}
	eventually.True(t, time.Minute, "a first wall", func() bool {
		n, err := chromedp.Run(b, chromedp.Evaluate[int](`(window.__qly?.wall?.layout?.tiles ?? []).filter((c) => c).length`))
		return err == nil && n > 0
	})
	pressKeys(t, b, "enlarging the first tile", "1", kb.Enter)
	if err := chromedp.Do(b, chromedp.WaitVisible(chromedp.CSS(`[data-moment-id]`))); err != nil {
		t.Fatalf("the key moment's banner: %v", err)
	}
	text, err := chromedp.Run(b, chromedp.Evaluate[string](`document.querySelector('[data-moment]').textContent`))
	if err != nil || !strings.Contains(text, "Disinfection round") || !strings.Contains(text, "Xishan") {
		t.Errorf("the banner says %q, %v; want the moment's and the site's names (the browser reads English)", text, err)
	}
	pressKeys(t, b, "going to the moment", "j")
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, "console.db")+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	eventually.True(t, 30*time.Second, "the moment's camera enlarged and watched", func() bool {
		var c, m string
		err := db.QueryRow(`SELECT camera, mode FROM watch_open`).Scan(&c, &m)
		return err == nil && c == "site-02/doff2" && m == "focus"
	})
	if err := chromedp.Do(b, chromedp.WaitNotPresent(chromedp.CSS(`[data-moment-id]`))); err != nil {
		t.Fatalf("the banner stays: %v", err)
	}
}
