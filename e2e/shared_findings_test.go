package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/qianliyan/qianliyan/relay/relaytest"
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
		RecheckClips []struct {
			Name        string `json:"name"`
			SHA256      string `json:"sha256"`
			ContentType string `json:"content_type"`
		} `json:"recheck_clips"`
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
// verified by B with the frame B re-checked on and the clip around it (an
// fMP4 of the camera re-checked on: its pictures are those doff1 sent, none
// doff2's), and so does the site page, where the clip plays.
func TestSharedFindings(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// Two cameras, so that the re-check's clip can be told to be doff1's.
	room := startDutyRoom(t, ctx, dutyRoomOptions{Cameras: 2, Users: []relaytest.User{
		{Name: "mgr1", Role: "site_manager", Sites: []string{"site-01"}, Password: managerPassword},
		{Name: nextShift, Role: "duty", Password: nextShiftPassword},
	}})
	r, creds, duty := room.relay, room.creds, room.duty
	one := room.startConsole(t, creds.User)
	two := room.startConsole(t, nextShift)
	a, b := room.open(one), room.open(two)
	// What each camera sends console 2, from long before B's re-check: the
	// clip's pictures are to be doff1's.
	doff1, doff2 := bridgeSlices(t, two, "site-01/doff1"), bridgeSlices(t, two, "site-01/doff2")

	var id string
	step(t, "officer A flags a deviation on console 1", func(t *testing.T) {
		id = flagForwarded(t, a, one, "site-01/doff1")
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

	step(t, "B verifies it; the relay has it verified by B with B's re-check snapshot and the clip around it", func(t *testing.T) {
		if err := chromedp.Do(b, chromedp.Focus(chromedp.CSS(`[data-overlay="finding"] [role="dialog"]`))); err != nil {
			t.Fatal(err)
		}
		pressKeys(t, b, "verifying", "v")
		visible(t, b, "the verification's note", `form[data-form="verify"] input[name="recheck-note"]`)
		pressKeys(t, b, "confirming", kb.Enter)
		var rf sharedFinding
		waitFor(t, "verified at the relay with a re-check snapshot and clip", 30*time.Second, func() (bool, string) {
			status, raw := duty.do("GET", "/api/v1/findings/"+id, nil, &rf)
			return status == 200 && rf.Status == "verified" && len(rf.Evidence.Rechecks) == 1 && len(rf.Evidence.RecheckClips) == 1, string(raw)
		})
		verifiedBy := ""
		for _, e := range rf.Events {
			if e.Action == "verify" {
				verifiedBy = e.Actor
				if want := fmt.Sprintf("recheck-%d", e.Cursor); rf.Evidence.Rechecks[0].Name != want {
					t.Errorf("the re-check snapshot %s, want %s (of B's verify)", rf.Evidence.Rechecks[0].Name, want)
				}
				if want := fmt.Sprintf("recheck_clip-%d", e.Cursor); rf.Evidence.RecheckClips[0].Name != want {
					t.Errorf("the re-check clip %s, want %s (of B's verify)", rf.Evidence.RecheckClips[0].Name, want)
				}
			}
		}
		clip := rf.Evidence.RecheckClips[0]
		status, mp4 := duty.do("GET", "/api/v1/evidence/"+id+"/"+clip.Name, nil, nil)
		if status != 200 || clip.ContentType != "video/mp4" {
			t.Fatalf("the relay's re-check clip: %d, %s", status, clip.ContentType)
		}
		checkClipOf(t, "the relay's re-check clip", mp4, doff1, map[string]*nalSet{"site-01/doff2": doff2})
		if verifiedBy != nextShift || rf.Observer != creds.User {
			t.Errorf("flagged by %q, verified by %q; want %s and %s", rf.Observer, verifiedBy, creds.User, nextShift)
		}
		visible(t, b, "verified in B's open finding", fmt.Sprintf(`[data-overlay="finding"] [data-finding-id=%q][data-status="verified"]`, id))
		jsTrue(t, b, "B's re-check snapshot in the finding", 20*time.Second,
			`(() => { const i = document.querySelector('[data-rechecks] img'); return !!i && i.complete && i.naturalWidth > 0; })()`)
		// The clip plays through the view's WebCodecs player, as the
		// finding's own does (the window's <video> cannot load it): from
		// beside its snapshot, and from the history entry of B's verify.
		for _, open := range []struct{ what, sel string }{
			{"beside its snapshot", `[data-rechecks] [data-recheck] button[data-evidence="recheck-clip"]`},
			{"from the verify's history entry", `[data-history] [data-action="verified"] [data-history-clip]`},
		} {
			jsTrue(t, b, "the re-check's clip offered "+open.what, 20*time.Second, fmt.Sprintf(`!!document.querySelector(%q)`, open.sel))
			if err := chromedp.Do(b, chromedp.Click(chromedp.CSS(open.sel))); err != nil {
				t.Fatal(err)
			}
			jsTrue(t, b, "the re-check's clip full size, its first picture drawn ("+open.what+")", 20*time.Second,
				`(() => { const p = document.querySelector('[data-clip-large] [data-clip-player]'); const c = p && p.querySelector('canvas'); return !!c && Number(p.dataset.clipFrame) >= 0 && c.width === 320; })()`)
			eval[bool](t, b, `(() => { document.querySelector('[data-clip-large]').click(); return true; })()`)
			if err := chromedp.Do(b, chromedp.WaitNotPresent(chromedp.CSS(`[data-clip-large]`))); err != nil {
				t.Fatal(err)
			}
		}
	})

	step(t, "the site page says verified, by B, with the re-check snapshot and its clip playing", func(t *testing.T) {
		if err := chromedp.Do(site, chromedp.Navigate(r.URL()+"/site/findings/"+id), chromedp.WaitVisible(chromedp.CSS(`#history`))); err != nil {
			t.Fatal(err)
		}
		jsTrue(t, site, "verified, with the re-check snapshot loaded", 10*time.Second,
			`document.querySelector('article[data-id]').classList.contains('status-verified') &&
				(() => { const i = document.querySelector('#rechecks img.recheck'); return !!i && i.complete && i.naturalWidth > 0; })()`)
		if _, err := chromedp.Run(site, chromedp.Evaluate[bool](`document.querySelector('#recheck-clips video.recheck-clip').play().then(() => true)`, chromedp.EvalAwaitPromise)); err != nil {
			t.Fatalf("playing the re-check clip on the site page: %v", err)
		}
		jsTrue(t, site, "the re-check clip playing on the site page", 10*time.Second,
			`(() => { const v = document.querySelector('#recheck-clips video.recheck-clip'); return v.readyState >= 2 && v.videoWidth === 320 && v.currentTime > 0.3; })()`)
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

	step(t, "with the relay gone, console 1 still lists what it last knew, and says so", func(t *testing.T) {
		if err := r.Close(); err != nil {
			t.Logf("closing the relay: %v", err)
		}
		if !eval[bool](t, a, `!!document.querySelector('[data-panel="findings"]')`) {
			pressKeys(t, a, "opening the findings panel", "r")
		}
		waitFor(t, "the last-known line over a list that still has the finding", time.Minute, func() (bool, string) {
			got := eval[string](t, a, fmt.Sprintf(`JSON.stringify({
				panel: !!document.querySelector('[data-panel="findings"]'),
				stale: document.querySelector('[data-panel="findings"] [data-stale]')?.textContent ?? '',
				row: !!document.querySelector('[data-panel="findings"] [data-finding-id=%q][data-status="verified"]'),
				freshness: (window.__qly && window.__qly.findingsFreshness) || null })`, id))
			// The page may be in either language: 最后已知 / last known.
			return (strings.Contains(got, "最后已知") || strings.Contains(got, "last known")) && strings.Contains(got, `"row":true`) &&
				strings.Contains(got, `"reachable":false`), got
		})
	})
}
