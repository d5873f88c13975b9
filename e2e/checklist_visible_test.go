package e2e

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/qianliyan/qianliyan/console"
)

// wholeOnScreenJS reports whether the element css selects is laid out and
// wholly inside the window and every box that clips it (a scrolling panel,
// a dialog): nothing of it, down to its last line, cut off or out of sight.
const wholeOnScreenJS = `((css) => {
	const el = document.querySelector(css);
	if (!el) return false;
	const r = el.getBoundingClientRect();
	if (r.height <= 0 || r.width <= 0) return false;
	const inside = (c) => r.top >= c.top - 0.5 && r.bottom <= c.bottom + 0.5 && r.left >= c.left - 0.5 && r.right <= c.right + 0.5;
	if (!inside({top: 0, left: 0, bottom: window.innerHeight, right: window.innerWidth})) return false;
	for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
		const s = getComputedStyle(a);
		if ((s.overflowY !== 'visible' || s.overflowX !== 'visible') && !inside(a.getBoundingClientRect())) return false;
	}
	return true;
})(%q)`

func wholeOnScreen(t *testing.T, bctx context.Context, css string) bool {
	t.Helper()
	return eval[bool](t, bctx, fmt.Sprintf(wholeOnScreenJS, css))
}

// TestChecklistSuggestionSeen drives the doffing checklist in Chromium at
// 1280×800 as in issue 10: a first proposal confirmed, then a second one
// (步骤间漏做手卫生) raised while the first's "saved" box is still there.
// The new one is wholly on screen by itself and the saved box gone; with
// the panel scrolled away from it, Enter does not confirm it but brings it
// into view, and the next Enter confirms it. A hand rub stopped short is
// drawn done-with-deviation, not a plain ✓.
func TestChecklistSuggestionSeen(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	c := startCity(t, ctx, 1, 4)
	bctx, _ := c.openConsole(t, ctx, console.Options{ClipBefore: time.Second, ClipAfter: time.Second})
	flags := func(t *testing.T) map[string]string {
		out := map[string]string{}
		for _, f := range eval[checklistState](t, bctx, checklistJS).Flags {
			out[f.Step+":"+f.Deviation] = f.State
		}
		return out
	}
	const first, second = `goggles:missed_hand_hygiene`, `coverall:missed_hand_hygiene`
	proposal := func(key string) string { return fmt.Sprintf(`[data-panel="checklist"] [data-proposal=%q]`, key) }

	step(t, "the doffing checklist beside the enlarged camera, its picture drawn", func(t *testing.T) {
		tile := liveTile(t, bctx, "site-01/doff1")
		if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-tile-id=%q]`, tile)))); err != nil {
			t.Fatalf("selecting %s: %v", tile, err)
		}
		pressKeys(t, bctx, "opening the checklist", "k")
		waitFor(t, "the ppe-doffing run", 10*time.Second, func() (bool, string) {
			s := eval[checklistState](t, bctx, checklistJS)
			return s.TemplateID == "ppe-doffing" && s.RunID != "", fmt.Sprintf("%+v", s)
		})
		drawnFor(t, bctx, tile, 0)
	})

	step(t, "a first proposal confirmed: its saved box stays", func(t *testing.T) {
		// The goggles before the hand hygiene that must come first.
		pressKeys(t, bctx, "marking goggles done", kb.ArrowDown, "d")
		waitFor(t, "the proposal on screen", 10*time.Second, func() (bool, string) {
			return flags(t)[first] == "proposed" && wholeOnScreen(t, bctx, proposal(first)), fmt.Sprint(flags(t))
		})
		pressKeys(t, bctx, "confirming", kb.Enter)
		waitFor(t, "the proposal filed", 10*time.Second, func() (bool, string) { return flags(t)[first] == "confirmed", fmt.Sprint(flags(t)) })
	})

	step(t, "a second proposal comes wholly into view by itself, the saved box gone", func(t *testing.T) {
		// The cursor is on the hand hygiene after the goggles; the coverall
		// comes next, marked done before that hand hygiene.
		pressKeys(t, bctx, "marking the coverall done", kb.ArrowDown, "d")
		waitFor(t, "the second proposal", 10*time.Second, func() (bool, string) { return flags(t)[second] == "proposed", fmt.Sprint(flags(t)) })
		waitFor(t, "the second proposal wholly on screen, its key hint too", 10*time.Second, func() (bool, string) {
			return wholeOnScreen(t, bctx, proposal(second)) && wholeOnScreen(t, bctx, proposal(second)+` [data-proposal-keys]`), "not wholly on screen"
		})
		if eval[bool](t, bctx, fmt.Sprintf(`!!document.querySelector(%q)`, proposal(first))) {
			t.Error(`the first proposal's "saved" box is still shown above the new one`)
		}
		shot(t, bctx, "checklist-proposal.png")
	})

	step(t, "scrolled out of sight, Enter brings it into view instead of confirming it", func(t *testing.T) {
		// The officer scrolls the panel (a long checklist): the proposal goes
		// out of sight, below the fold or above the top, whichever its place
		// allows; if the panel at this size cannot scroll past it, it is made
		// as short as a smaller window's would be.
		where := eval[string](t, bctx, fmt.Sprintf(`(() => {
			const p = document.querySelector('[data-panel="checklist"]');
			const b = document.querySelector(%q);
			p.focus();
			p.scrollTop = 0;
			const top = b.getBoundingClientRect().top - p.getBoundingClientRect().top;
			const bottom = top + b.offsetHeight;
			if (bottom > p.clientHeight) return 'below the fold';
			if (p.scrollHeight - p.clientHeight < bottom + 1) p.style.height = (p.scrollHeight - bottom - 1) + 'px';
			p.scrollTop = bottom + 1;
			return 'above the top';
		})()`, proposal(second)))
		if wholeOnScreen(t, bctx, proposal(second)) {
			t.Fatalf("could not scroll the proposal out of sight (%s)", where)
		}
		pressKeys(t, bctx, "Enter with the proposal out of sight", kb.Enter)
		// A confirmation starts in the key's handler (saving): the state read
		// after the key is what the key did.
		if s := flags(t)[second]; s != "proposed" {
			t.Fatalf("Enter on a proposal out of sight made it %q", s)
		}
		if !wholeOnScreen(t, bctx, proposal(second)) {
			t.Fatal("Enter did not bring the proposal into view")
		}
		pressKeys(t, bctx, "Enter again, the proposal seen", kb.Enter)
		waitFor(t, "the proposal filed", 10*time.Second, func() (bool, string) { return flags(t)[second] == "confirmed", fmt.Sprint(flags(t)) })
		eval[bool](t, bctx, `(() => { document.querySelector('[data-panel="checklist"]').style.height = ''; return true; })()`)
	})

	step(t, "a hand rub stopped short is done with a deviation, not a plain tick", func(t *testing.T) {
		// The cursor moved on to the hand hygiene after the coverall: a
		// timed step, started and stopped at once.
		pressKeys(t, bctx, "timing the hand rub", " ")
		waitFor(t, "the timer running", 10*time.Second, func() (bool, string) {
			return eval[bool](t, bctx, `!!document.querySelector('[data-step-id="hh-after-coverall"] .timer.running')`), "not running"
		})
		pressKeys(t, bctx, "stopping it", " ")
		row := `[data-panel="checklist"] [data-step-id="hh-after-coverall"]`
		waitFor(t, "the step marked done by the backend", 10*time.Second, func() (bool, string) {
			m := eval[string](t, bctx, fmt.Sprintf(`(document.querySelector(%q) || {dataset: {}}).dataset.mark || ''`, row))
			return m == "done", m
		})
		shown := eval[string](t, bctx, fmt.Sprintf(`document.querySelector(%q).dataset.shownMark || ''`, row))
		mark := eval[string](t, bctx, fmt.Sprintf(`document.querySelector(%q + ' .mark').textContent.trim()`, row))
		if shown != "done_deviation" || mark == "✓" {
			t.Errorf("a rub stopped short shows %q (%q), want done_deviation, not a plain ✓", mark, shown)
		}
	})

	step(t, "e opens a note and a deadline in place; Enter confirms the proposal with them", func(t *testing.T) {
		// The short rub's proposal (and any order rule's) waits: the first.
		var key string
		waitFor(t, "a proposal waiting, on screen", 10*time.Second, func() (bool, string) {
			for _, f := range eval[checklistState](t, bctx, checklistJS).Flags {
				if f.State == "proposed" {
					key = f.Step + ":" + f.Deviation
					return wholeOnScreen(t, bctx, proposal(key)), key + " not wholly on screen"
				}
			}
			return false, fmt.Sprint(flags(t))
		})
		pressKeys(t, bctx, "adding to it", "e")
		jsTrue(t, bctx, "the note's field, with the keyboard", 10*time.Second, `(document.activeElement || {}).name === 'proposal-note'`)
		pressKeys(t, bctx, "typing the note", "touched the mask strap")
		shot(t, bctx, "checklist-proposal-details.png")
		if note := eval[string](t, bctx, fmt.Sprintf(`document.querySelector(%q).value`, proposal(key)+` input[name="proposal-note"]`)); note != "touched the mask strap" {
			t.Errorf("the note reads %q: the e that opened it went into it", note)
		}
		// The officer selects the deadline offered and types another over it.
		eval[bool](t, bctx, fmt.Sprintf(`(() => { const i = document.querySelector(%q); i.focus(); i.select(); return true; })()`, proposal(key)+` input[name="proposal-deadline"]`))
		pressKeys(t, bctx, "typing the deadline", "2099-01-02 08:30", kb.Enter)
		waitFor(t, "the proposal filed", 10*time.Second, func() (bool, string) { return flags(t)[key] == "confirmed", fmt.Sprint(flags(t)) })
		var id string
		for _, f := range eval[checklistState](t, bctx, checklistJS).Flags {
			if f.Step+":"+f.Deviation == key {
				id = f.FindingID
			}
		}
		// 08:30 at the Shanghai site.
		deadline := eval[string](t, bctx, fmt.Sprintf(`((window.__qly.findings || []).find(f => f.id === %q) || {}).deadline || ''`, id))
		if deadline != "2099-01-02T00:30:00.000Z" {
			t.Errorf("finding %s filed with deadline %q, want the one typed, 2099-01-02 08:30 at the site", id, deadline)
		}
	})
}

// TestFindingDetailByState follows two findings through the re-check in
// Chromium at 1280×800. The first is verified in its dialog: the dialog
// then offers no note, severity, deadline, save or withdrawal, and says
// "verified" whole, not cut at its edge. The second is re-checked from its
// camera opened with o: the bar over the camera shows its keys, and x
// reopens it there without going back to the list and the finding.
func TestFindingDetailByState(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	s := startSiteStack(t, ctx, 1, time.Second, time.Second)
	mgr := relayLogin(t, s.relay.URL(), "mgr1", managerPassword)
	bctx := newBrowser(t, ctx)
	if err := chromedp.Do(bctx, chromedp.Navigate(s.pageURL), chromedp.WaitVisible(chromedp.CSS(`[data-grid]`))); err != nil {
		t.Fatalf("opening the console's view: %v", err)
	}
	present := func(css string) bool { return eval[bool](t, bctx, fmt.Sprintf(`!!document.querySelector(%q)`, css)) }
	relayStatus := func(t *testing.T, id, want string) {
		t.Helper()
		waitFor(t, want+" at the relay", 15*time.Second, func() (bool, string) {
			var rf relayFinding
			status, b := s.duty.do("GET", "/api/v1/findings/"+id, nil, &rf)
			return status == 200 && rf.Status == want, string(b)
		})
	}
	// flagRectified files a finding on the selected tile with f and Enter
	// and has the site's manager acknowledge it and report it rectified.
	flagRectified := func(t *testing.T) string {
		t.Helper()
		var before []string
		for _, f := range eval[[]qlyFinding](t, bctx, qlyFindingsJS) {
			before = append(before, f.ID)
		}
		pressKeys(t, bctx, "flagging", "f")
		visible(t, bctx, "the flag picker", `[data-overlay="flag"]`)
		pressKeys(t, bctx, "saving the flag", kb.Enter)
		var id string
		waitFor(t, "the new finding at the relay", 30*time.Second, func() (bool, string) {
			for _, f := range eval[[]qlyFinding](t, bctx, qlyFindingsJS) {
				if !slices.Contains(before, f.ID) {
					id = f.ID
				}
			}
			if id == "" {
				return false, "not listed"
			}
			f := s.console.consoleFinding(id)
			return f.Forward != nil && f.Forward.State == "forwarded", f.String()
		})
		for _, a := range []map[string]string{
			{"action_id": "ack-" + id, "action": "acknowledge", "note": "收到"},
			{"action_id": "fix-" + id, "action": "rectify", "note": "已整改"},
		} {
			if status, b := mgr.do("POST", "/api/v1/findings/"+id+"/actions", a, nil); status != 200 {
				t.Fatalf("site manager's %s: %d %s", a["action"], status, b)
			}
		}
		return id
	}
	// openFromPanel opens the findings panel and the finding awaiting re-check.
	openFromPanel := func(t *testing.T, id string) {
		t.Helper()
		pressKeys(t, bctx, "opening the findings panel", "r")
		row := fmt.Sprintf(`[data-panel="findings"] [data-section="recheck"] [data-finding-id=%q][data-status="rectified"]`, id)
		visible(t, bctx, "the finding awaiting re-check", row)
		// The queue's first, the one waiting longest, is chosen.
		pressKeys(t, bctx, "opening the finding", kb.Enter)
		visible(t, bctx, "the finding", fmt.Sprintf(`[data-overlay="finding"] [data-finding-id=%q][data-status="rectified"]`, id))
	}

	step(t, "site-01/doff1 on the wall, selected", func(t *testing.T) {
		tile := liveTile(t, bctx, "site-01/doff1")
		drawnFor(t, bctx, tile, time.Second)
		if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-tile-id=%q]`, tile)))); err != nil {
			t.Fatalf("selecting %s: %v", tile, err)
		}
	})

	step(t, "verified in its dialog, the finding offers nothing more to change, and says so whole", func(t *testing.T) {
		id := flagRectified(t)
		openFromPanel(t, id)
		pressKeys(t, bctx, "verifying", "v")
		visible(t, bctx, "the verification's note", `form[data-form="verify"] input[name="recheck-note"]`)
		pressKeys(t, bctx, "confirming", kb.Enter)
		relayStatus(t, id, "verified")
		dialog := fmt.Sprintf(`[data-overlay="finding"] [data-finding-id=%q]`, id)
		visible(t, bctx, "verified in the open finding", dialog+`[data-status="verified"]`)
		for _, css := range []string{`form[data-form="edit"]`, `input[name="note"]`, `select[name="severity"]`, `input[name="deadline"]`, `[data-action="finding-save"]`, `form[data-form="withdraw"]`, `[data-action="finding-withdraw"]`, `[data-edit-refused]`} {
			if present(dialog + " " + css) {
				t.Errorf("a verified finding's dialog still offers %s", css)
			}
		}
		waitFor(t, `"verified" whole on screen`, 5*time.Second, func() (bool, string) {
			return wholeOnScreen(t, bctx, dialog+` [data-message]`), eval[string](t, bctx, fmt.Sprintf(`(document.querySelector(%q) || {}).textContent || ''`, dialog+` [data-message]`))
		})
		shot(t, bctx, "finding-verified.png")
		pressKeys(t, bctx, "closing the finding", kb.Escape)
		if err := chromedp.Do(bctx, chromedp.WaitNotPresent(chromedp.CSS(`[data-overlay="finding"]`))); err != nil {
			t.Fatal(err)
		}
		pressKeys(t, bctx, "closing the panel", kb.Escape)
		if err := chromedp.Do(bctx, chromedp.WaitNotPresent(chromedp.CSS(`[data-panel="findings"]`))); err != nil {
			t.Fatal(err)
		}
	})

	step(t, "reopened with x from the camera opened for its re-check", func(t *testing.T) {
		id := flagRectified(t)
		openFromPanel(t, id)
		pressKeys(t, bctx, "opening the camera", "o")
		bar := fmt.Sprintf(`[data-recheck-bar][data-finding-id=%q]`, id)
		visible(t, bctx, "the re-check bar over the camera, with its keys", bar+` [data-bar-keys]`)
		if present(`[data-overlay="finding"]`) {
			t.Fatal("the finding's dialog is still open over the camera")
		}
		shot(t, bctx, "recheck-bar.png")
		pressKeys(t, bctx, "reopening from the camera", "x")
		visible(t, bctx, "the reopening's note in the bar", bar+` form[data-form="reopen"] input[name="recheck-note"]`)
		shot(t, bctx, "recheck-bar-reopen.png")
		pressKeys(t, bctx, "typing the note", reopenNote, kb.Enter)
		relayStatus(t, id, "reopened")
		if f := s.console.consoleFinding(id); f.Status != "reopened" || f.StatusNote != reopenNote {
			t.Errorf("the console has %s", f)
		}
		visible(t, bctx, "the reopening said in the bar", bar+` [data-message]`)
	})
}
