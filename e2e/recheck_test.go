package e2e

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// qlyFinding is an entry of window.__qly.findings, in the panel's order.
type qlyFinding struct {
	ID       string `json:"id"`
	Camera   string `json:"camera"`
	Severity string `json:"severity"`
	Status   string `json:"status"`
	Deadline string `json:"deadline"`
	Clip     string `json:"clip"`
	Forward  string `json:"forward"`
}

const qlyFindingsJS = `JSON.parse(JSON.stringify((window.__qly && window.__qly.findings) || []))`

// findingsEventsJS counts the backend's findings events the view handled.
const findingsEventsJS = `((window.__qly && window.__qly.findingsEvents) || {events: 0}).events`

// reopenHours is what the view offers a reopened finding by severity
// (frontend/src/findings/recheck.ts).
var reopenHours = map[string]time.Duration{"critical": 24 * time.Hour, "major": 48 * time.Hour, "minor": 72 * time.Hour}

// verifyNotes are the notes the view offers a verification, in zh-CN and
// English (the browser's language chooses); reopenNote is typed.
var verifyNotes = []string{"视频复查：已整改到位", "Re-checked on video: put right"}

const reopenNote = "still no mirror in doffing room 1"

// TestRecheckLoop is the console's half of the re-check (回头看) in headless
// Chromium over the real relay, simulator and console: a finding flagged
// with f and Enter reaches the relay; the site's manager acknowledges and
// reports it rectified through the relay's API; the open findings panel
// shows it under "awaiting re-check" by itself, from the backend's findings
// event, without a reload; the officer verifies it with Enter, v and Enter,
// and the relay has it verified. Then a second one: its camera opened with
// o (enlarged, main stream), reopened with x, a note and the deadline the
// view offers; the relay has it reopened with that deadline.
func TestRecheckLoop(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	const clipBefore, clipAfter = 2 * time.Second, time.Second
	s := startSiteStack(t, ctx, 1, clipBefore, clipAfter)
	mgr := relayLogin(t, s.relay.URL(), "mgr1", managerPassword)
	bctx := newBrowser(t, ctx)
	findings := func(t *testing.T) []qlyFinding { return eval[[]qlyFinding](t, bctx, qlyFindingsJS) }

	if err := chromedp.Do(bctx, chromedp.Navigate(s.pageURL), chromedp.WaitVisible(chromedp.CSS(`[data-grid]`))); err != nil {
		t.Fatalf("opening the console's view: %v", err)
	}
	eval[bool](t, bctx, `window.__notReloaded = true`)

	var tile string
	step(t, "site-01/doff1 plays on the wall for longer than the pre-roll", func(t *testing.T) {
		tile = liveTile(t, bctx, "site-01/doff1")
		drawnFor(t, bctx, tile, clipBefore)
		if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-tile-id=%q]`, tile)))); err != nil {
			t.Fatalf("selecting %s: %v", tile, err)
		}
	})

	// flag files a finding on the selected tile with f and Enter and waits
	// until the relay has it with its clip.
	flag := func(t *testing.T) string {
		t.Helper()
		var before []string
		for _, f := range findings(t) {
			before = append(before, f.ID)
		}
		pressKeys(t, bctx, "flagging", "f")
		visible(t, bctx, "the flag picker", `[data-overlay="flag"]`)
		pressKeys(t, bctx, "saving the flag", kb.Enter)
		var id string
		waitFor(t, "the new finding forwarded with its clip", 30*time.Second, func() (bool, string) {
			fs := findings(t)
			for _, f := range fs {
				if !slices.Contains(before, f.ID) {
					id = f.ID
				}
			}
			if id == "" {
				return false, fmt.Sprintf("%+v", fs)
			}
			f := s.console.consoleFinding(id)
			var rf relayFinding
			s.duty.do("GET", "/api/v1/findings/"+id, nil, &rf)
			return f.Clip != nil && f.Clip.State == "complete" && f.Forward != nil && f.Forward.State == "forwarded" && rf.Evidence.Clip != nil, f.String()
		})
		return id
	}
	// rectify is the site's side, through the relay's API as its manager.
	rectify := func(t *testing.T, id, note string) {
		t.Helper()
		for _, a := range []map[string]string{
			{"action_id": "ack-" + id, "action": "acknowledge", "note": "收到"},
			{"action_id": "fix-" + id, "action": "rectify", "note": note},
		} {
			if status, b := mgr.do("POST", "/api/v1/findings/"+id+"/actions", a, nil); status != 200 {
				t.Fatalf("site manager's %s: %d %s", a["action"], status, b)
			}
		}
	}
	// awaitingRecheck waits for the open panel to list id under "awaiting
	// re-check" with the site's note, from a findings event and without a
	// reload.
	awaitingRecheck := func(t *testing.T, id, note string, eventsBefore int) {
		t.Helper()
		row := fmt.Sprintf(`[data-panel="findings"] [data-section="recheck"] [data-finding-id=%q][data-status="rectified"]`, id)
		jsTrue(t, bctx, "the finding awaiting re-check in the open panel, without a reload", 15*time.Second,
			fmt.Sprintf(`(() => { const r = document.querySelector(%q); return !!r && r.textContent.includes(%q) && window.__notReloaded === true; })()`, row, note))
		if n := eval[int](t, bctx, findingsEventsJS); n <= eventsBefore {
			t.Fatalf("%d findings events handled, %d before the site acted: the change did not come as an event", n, eventsBefore)
		}
	}

	var first string
	const firstNote = "已重新培训脱卸顺序 / doffing order retrained"
	step(t, "a flagged finding, rectified at the site, shows as awaiting re-check by itself", func(t *testing.T) {
		first = flag(t)
		pressKeys(t, bctx, "opening the findings panel", "r")
		visible(t, bctx, "the findings panel", `[data-panel="findings"]`)
		events := eval[int](t, bctx, findingsEventsJS)
		rectify(t, first, firstNote)
		awaitingRecheck(t, first, firstNote, events)
	})

	step(t, "the officer verifies it with the keyboard; the relay has it verified", func(t *testing.T) {
		pressKeys(t, bctx, "opening the finding", kb.Enter)
		visible(t, bctx, "the finding", fmt.Sprintf(`[data-overlay="finding"] [data-finding-id=%q][data-status="rectified"]`, first))
		pressKeys(t, bctx, "verifying", "v")
		visible(t, bctx, "the verification's note", `form[data-form="verify"] input[name="recheck-note"]`)
		pressKeys(t, bctx, "confirming", kb.Enter)
		waitFor(t, "verified at the relay", 15*time.Second, func() (bool, string) {
			var rf relayFinding
			status, b := s.duty.do("GET", "/api/v1/findings/"+first, nil, &rf)
			return status == 200 && rf.Status == "verified", string(b)
		})
		visible(t, bctx, "verified in the open finding", fmt.Sprintf(`[data-overlay="finding"] [data-finding-id=%q][data-status="verified"]`, first))
		// The note the form offers, as it was: the v pressed is not typed into it.
		if f := s.console.consoleFinding(first); !slices.Contains(verifyNotes, f.StatusNote) {
			t.Errorf("the verification's note %q, want one of %q", f.StatusNote, verifyNotes)
		}
		pressKeys(t, bctx, "closing the finding and the panel", kb.Escape, kb.Escape)
		if err := chromedp.Do(bctx, chromedp.WaitNotPresent(chromedp.CSS(`[data-panel="findings"]`))); err != nil {
			t.Fatal(err)
		}
	})

	var second string
	const secondNote = "镜子已安装 / mirror put up"
	step(t, "a second one awaits re-check; o opens its camera enlarged on the main stream", func(t *testing.T) {
		second = flag(t)
		events := eval[int](t, bctx, findingsEventsJS)
		pressKeys(t, bctx, "opening the findings panel", "r")
		visible(t, bctx, "the findings panel", `[data-panel="findings"]`)
		rectify(t, second, secondNote)
		awaitingRecheck(t, second, secondNote, events)
		pressKeys(t, bctx, "opening the finding", kb.Enter)
		visible(t, bctx, "the finding", fmt.Sprintf(`[data-overlay="finding"] [data-finding-id=%q]`, second))
		pressKeys(t, bctx, "opening the camera", "o")
		waitFor(t, "the camera in the focus view on the main stream", 15*time.Second, func() (bool, string) {
			w := eval[wallState](t, bctx, wallJS)
			if w.Focused == nil {
				return false, "no tile focused"
			}
			stream := eval[string](t, bctx, fmt.Sprintf(`(window.__qly.tiles[%q] || {}).stream || ''`, *w.Focused))
			cam := eval[string](t, bctx, fmt.Sprintf(`(document.querySelector('[data-tile-id=%q]') || {dataset: {}}).dataset.camera || ''`, *w.Focused))
			open := eval[bool](t, bctx, `!!document.querySelector('[data-overlay="finding"]')`)
			return cam == "site-01/doff1" && stream == "main" && !open, fmt.Sprintf("focused %q camera %q stream %q dialog open %v", *w.Focused, cam, stream, open)
		})
	})

	step(t, "x reopens it with a note and the offered deadline; the relay has that deadline", func(t *testing.T) {
		pressKeys(t, bctx, "back to the panel", "r")
		visible(t, bctx, "the findings panel", `[data-panel="findings"]`)
		pressKeys(t, bctx, "opening the finding", kb.Enter)
		visible(t, bctx, "the finding", fmt.Sprintf(`[data-overlay="finding"] [data-finding-id=%q][data-status="rectified"]`, second))
		pressKeys(t, bctx, "reopening", "x")
		visible(t, bctx, "the reopening's note", `form[data-form="reopen"] input[name="recheck-note"]`)
		offered := eval[string](t, bctx, `document.querySelector('form[data-form="reopen"] input[name="recheck-deadline"]').value`)
		asked := time.Now()
		pressKeys(t, bctx, "typing the note", reopenNote, kb.Enter)
		var rf struct {
			Status   string    `json:"status"`
			Deadline time.Time `json:"deadline"`
		}
		waitFor(t, "reopened at the relay", 15*time.Second, func() (bool, string) {
			status, b := s.duty.do("GET", "/api/v1/findings/"+second, nil, &rf)
			return status == 200 && rf.Status == "reopened", string(b)
		})
		var sev string
		for _, f := range findings(t) {
			if f.ID == second {
				sev = f.Severity
			}
		}
		want, ok := reopenHours[sev]
		if !ok {
			t.Fatalf("severity %q", sev)
		}
		// The form offers site time to the minute, in the one format: Asia/Shanghai for the demo sites.
		site, err := time.LoadLocation("Asia/Shanghai")
		if err != nil {
			t.Fatal(err)
		}
		if got := rf.Deadline.In(site).Format("2006-01-02 15:04"); got != offered {
			t.Errorf("the relay's deadline %s (site time), the form offered %s", got, offered)
		}
		if d := rf.Deadline.Sub(asked); d < want-2*time.Minute || d > want {
			t.Errorf("the deadline is %v after the reopening, want about %v for a %s finding", d, want, sev)
		}
		if f := s.console.consoleFinding(second); f.Status != "reopened" || f.StatusNote != reopenNote {
			t.Errorf("the console has %s", f)
		}
		visible(t, bctx, "reopened in the open finding", fmt.Sprintf(`[data-overlay="finding"] [data-finding-id=%q][data-status="reopened"]`, second))
		if !eval[bool](t, bctx, `window.__notReloaded === true`) {
			t.Error("the view reloaded")
		}
	})
}
