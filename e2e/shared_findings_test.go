package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/qianliyan/qianliyan/internal/sitesim"
	"github.com/qianliyan/qianliyan/relay"
	"github.com/qianliyan/qianliyan/relay/auth"
)

// nextShift is the second duty officer, of the next shift, on console 2.
const nextShift, nextShiftPassword = "wang", "next shift e2e"

// sharedFinding is what this test reads of a finding at the relay.
type sharedFinding struct {
	Status   string `json:"status"`
	Observer string `json:"observer"`
	Evidence struct {
		Photos   []struct{ Name string } `json:"photos"`
		Rechecks []struct {
			Name   string `json:"name"`
			SHA256 string `json:"sha256"`
		} `json:"rechecks"`
	} `json:"evidence"`
	Events []struct {
		Cursor int64  `json:"cursor"`
		Actor  string `json:"actor"`
		Action string `json:"action"`
	} `json:"events"`
}

// TestSharedFindings is issue 11's first done-criterion, across one relay
// and two real console processes (bin/qianliyan --serve) signed in as two
// duty officers, each driven in its own Chromium: officer A flags a
// deviation on console 1; the site's manager rectifies it on the site page
// with a photo; officer B on console 2, who never flagged it, finds it in
// 待回头看 with A's name, the other-officer badge and the site's photo,
// re-checks it and verifies it with the keyboard; the relay has it
// verified by B with the frame B re-checked on, and so does the site page.
func TestSharedFindings(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	hash, err := auth.HashPasswordCost(managerPassword, 4)
	if err != nil {
		t.Fatal(err)
	}
	bHash, err := auth.HashPasswordCost(nextShiftPassword, 4)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	config := filepath.Join(dir, "relay.yaml")
	users := fmt.Sprintf("users:\n  - {name: mgr1, role: site_manager, sites: [site-01], password_hash: %q}\n"+
		"  - {name: %s, role: duty, password_hash: %q}\n", hash, nextShift, bHash)
	if err := os.WriteFile(config, []byte(users), 0o600); err != nil {
		t.Fatal(err)
	}
	log := testLogger(t)
	r, err := relay.Start(ctx, relay.Options{Listen: "127.0.0.1:0", DataDir: filepath.Join(dir, "relay"), Demo: true, ConfigFile: config, Log: log})
	if err != nil {
		t.Fatalf("starting relay: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	creds := r.Demo()
	sim, err := sitesim.Start(ctx, sitesim.Options{RelayURL: r.URL(), Token: creds.PublishToken, Sites: 1, Cameras: 1,
		FPS: 15, GOP: time.Second, Width: 320, Height: 180, Log: log})
	if err != nil {
		t.Fatalf("starting sitesim: %v", err)
	}
	t.Cleanup(func() { sim.Close() })

	consoleArgs := func(user string) []string {
		return []string{"--serve", "127.0.0.1:0", "--relay", r.URL(), "--user", user, "--data", filepath.Join(dir, "console-"+user),
			"--log-level", "warn", "--clip-before", "2s", "--clip-after", "1s"}
	}
	one := startConsoleProcess(t, consoleArgs(creds.User), creds.Password)
	two := startConsoleProcess(t, consoleArgs(nextShift), nextShiftPassword)
	duty := relayLogin(t, r.URL(), creds.User, creds.Password)

	open := func(p *consoleProcess) context.Context {
		bctx := newBrowser(t, ctx)
		if err := chromedp.Do(bctx, chromedp.Navigate(p.api.base+"/?token="+p.api.token), chromedp.WaitVisible(chromedp.CSS(`[data-grid]`))); err != nil {
			t.Fatalf("opening a console's view: %v; log:\n%s", err, p.log.String())
		}
		return bctx
	}
	a, b := open(one), open(two)
	visible := func(t *testing.T, bctx context.Context, what, css string) {
		t.Helper()
		wctx, cancel := context.WithTimeout(bctx, 15*time.Second)
		defer cancel()
		if err := chromedp.Do(wctx, chromedp.WaitVisible(chromedp.CSS(css))); err != nil {
			t.Fatalf("%s (%s): %v", what, css, err)
		}
	}

	var id string
	step(t, "officer A flags a deviation on console 1", func(t *testing.T) {
		tile := liveTile(t, a, "site-01/doff1")
		drawnFor(t, a, tile, 2*time.Second)
		if err := chromedp.Do(a, chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-tile-id=%q]`, tile))),
			chromedp.KeyEvent("f"), chromedp.WaitVisible(chromedp.CSS(`[data-overlay="flag"]`)),
			chromedp.KeyEvent(kb.Enter), chromedp.WaitNotPresent(chromedp.CSS(`[data-overlay="flag"]`))); err != nil {
			t.Fatalf("flagging: %v", err)
		}
		waitFor(t, "the finding forwarded from console 1", 30*time.Second, func() (bool, string) {
			var list struct{ Findings []consoleFinding }
			status, raw := one.api.do("GET", "/api/v1/findings", nil, &list)
			if status != 200 || len(list.Findings) != 1 {
				return false, string(raw)
			}
			id = list.Findings[0].ID
			f := list.Findings[0]
			return f.Forward != nil && f.Forward.State == "forwarded", f.String()
		})
	})

	site := openSitePage(t, a, r.URL(), "mgr1")
	step(t, "the site rectifies it on its page, with a photo", func(t *testing.T) {
		if err := chromedp.Do(site, chromedp.Navigate(r.URL()+"/site/findings/"+id), chromedp.WaitVisible(chromedp.CSS(`#acknowledge`)),
			chromedp.Submit(chromedp.CSS(`#acknowledge`))); err != nil {
			t.Fatalf("acknowledging: %v", err)
		}
		jsTrue(t, site, "the rectify form", 10*time.Second, `document.readyState === 'complete' && !!document.getElementById('rectify')`)
		if err := chromedp.Do(site,
			chromedp.SendKeys(chromedp.CSS(`#rectify textarea[name=note]`), "已重新培训"),
			chromedp.SetUploadFiles(chromedp.CSS(`#rectify input[name=photos]`), []string{photoPNG(t)}),
			chromedp.Submit(chromedp.CSS(`#rectify`))); err != nil {
			t.Fatalf("rectifying: %v", err)
		}
		jsTrue(t, site, "the photo on the site's page", 10*time.Second, `document.querySelectorAll('img.photo').length === 1`)
	})

	step(t, "officer B on console 2 finds it in 待回头看 with A's name and the site's photo", func(t *testing.T) {
		tile := liveTile(t, b, "site-01/doff1")
		drawnFor(t, b, tile, time.Second)
		pressKeys(t, b, "opening the findings panel", "r")
		visible(t, b, "the findings panel", `[data-panel="findings"]`)
		row := fmt.Sprintf(`[data-panel="findings"] [data-section="recheck"] [data-finding-id=%q][data-status="rectified"]`, id)
		jsTrue(t, b, "A's finding awaiting re-check on console 2", 30*time.Second, fmt.Sprintf(
			`(() => { const r = document.querySelector(%q); return !!r && !!r.querySelector('[data-origin="relay"]') && r.querySelector('[data-observer]').textContent.includes(%q); })()`,
			row, creds.User))
		pressKeys(t, b, "opening the finding", kb.Enter)
		visible(t, b, "the finding", fmt.Sprintf(`[data-overlay="finding"] [data-finding-id=%q][data-status="rectified"]`, id))
		jsTrue(t, b, "the site's photo and its note in the finding", 20*time.Second,
			`(() => { const i = document.querySelector('[data-photos] img'); const n = document.querySelector('[data-rectify-note]');
				return !!i && i.complete && i.naturalWidth === 160 && !!n && n.textContent.includes('已重新培训'); })()`)
		jsTrue(t, b, "the whole history in the finding", 10*time.Second,
			`['created', 'acknowledge', 'rectify'].every((a) => !!document.querySelector('[data-history] [data-action="' + a + '"]'))`)
		if err := chromedp.Do(b, chromedp.Click(chromedp.CSS(`[data-photos] button`)), chromedp.WaitVisible(chromedp.CSS(`[data-photo-large] img`)),
			chromedp.Click(chromedp.CSS(`[data-photo-large]`)), chromedp.WaitNotPresent(chromedp.CSS(`[data-photo-large]`))); err != nil {
			t.Fatalf("the photo full size: %v", err)
		}
	})

	step(t, "B verifies it; the relay has it verified by B with B's re-check snapshot", func(t *testing.T) {
		if err := chromedp.Do(b, chromedp.Focus(chromedp.CSS(`[data-overlay="finding"] [role="dialog"]`))); err != nil {
			t.Fatal(err)
		}
		pressKeys(t, b, "verifying", "v")
		visible(t, b, "the verification's note", `form[data-form="verify"] input[name="recheck-note"]`)
		pressKeys(t, b, "confirming", kb.Enter)
		var rf sharedFinding
		waitFor(t, "verified at the relay with a re-check snapshot", 30*time.Second, func() (bool, string) {
			status, raw := duty.do("GET", "/api/v1/findings/"+id, nil, &rf)
			return status == 200 && rf.Status == "verified" && len(rf.Evidence.Rechecks) == 1, string(raw)
		})
		verifiedBy := ""
		for _, e := range rf.Events {
			if e.Action == "verify" {
				verifiedBy = e.Actor
				if want := fmt.Sprintf("recheck-%d", e.Cursor); rf.Evidence.Rechecks[0].Name != want {
					t.Errorf("the re-check snapshot %s, want %s (of B's verify)", rf.Evidence.Rechecks[0].Name, want)
				}
			}
		}
		if verifiedBy != nextShift || rf.Observer != creds.User {
			t.Errorf("flagged by %q, verified by %q; want %s and %s", rf.Observer, verifiedBy, creds.User, nextShift)
		}
		visible(t, b, "verified in B's open finding", fmt.Sprintf(`[data-overlay="finding"] [data-finding-id=%q][data-status="verified"]`, id))
		jsTrue(t, b, "B's re-check snapshot in the finding", 20*time.Second,
			`(() => { const i = document.querySelector('[data-rechecks] img'); return !!i && i.complete && i.naturalWidth > 0; })()`)
	})

	step(t, "the site page says verified, by B, with the re-check snapshot", func(t *testing.T) {
		if err := chromedp.Do(site, chromedp.Navigate(r.URL()+"/site/findings/"+id), chromedp.WaitVisible(chromedp.CSS(`#history`))); err != nil {
			t.Fatal(err)
		}
		jsTrue(t, site, "verified, with the re-check snapshot loaded", 10*time.Second,
			`document.querySelector('article[data-id]').classList.contains('status-verified') &&
				(() => { const i = document.querySelector('#rechecks img.recheck'); return !!i && i.complete && i.naturalWidth > 0; })()`)
		history := eval[string](t, site, `document.getElementById('history').textContent`)
		if !strings.Contains(history, nextShift) {
			t.Errorf("the site's history does not name B (%s): %s", nextShift, history)
		}
	})

	step(t, "console 1 sees B's verify of A's finding", func(t *testing.T) {
		waitFor(t, "verified on console 1", 20*time.Second, func() (bool, string) {
			f := one.api.consoleFinding(id)
			return f.Status == "verified", f.String()
		})
	})
}
