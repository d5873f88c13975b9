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
	"github.com/qianliyan/qianliyan/relay/wire"
)

// The incoming officer of TestHandover, on console 2.
const incoming, incomingPassword = "zhao", "incoming officer e2e"

// incomingRoom is a duty room of one camera where the incoming officer is
// a user beside the demo's (officer A).
var incomingRoom = dutyRoomOptions{Cameras: 1, Users: []relaytest.User{{Name: incoming, Role: "duty", Password: incomingPassword}}}

// TestHandover is issue 11's handover done-criterion, across one relay and
// two real console processes (bin/qianliyan --serve) signed in as two duty
// officers, each driven in its own Chromium: officer A flags a deviation
// on console 1 (and has an overdue finding at the relay, and the demo's
// cameras but one never publish: offline), presses H, writes a note and
// hands over with Ctrl+Enter; officer B opening console 2 first sees the
// handover screen with the note, A's finding, the overdue one and an
// offline camera; Esc does not skip it, a finding opens its detail and
// comes back; Enter confirms; the relay's handover has A's note and B's
// receipt with names and times.
func TestHandover(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	room := startDutyRoom(t, ctx, incomingRoom)
	r, creds, duty := room.relay, room.creds, room.duty
	one := room.startConsole(t, creds.User)
	two := room.startConsole(t, incoming)
	a := room.open(one)

	var flagged string
	step(t, "officer A flags a deviation on console 1", func(t *testing.T) {
		flagged = flagForwarded(t, a, one, "site-01/doff1")
	})

	// An earlier finding of A's whose deadline has passed, filed at the relay.
	const overdue = "handover-e2e-overdue"
	room.fileAtRelay(t, overdue, "脱卸顺序错误（逾期）", 10*time.Minute, -time.Minute)
	// A camera of the demo's catalogue no one publishes: offline since the relay started.
	var cams struct {
		Cameras []struct{ Site, ID, State string }
	}
	duty.do("GET", "/api/v1/cameras", nil, &cams)
	offline := ""
	for _, c := range cams.Cameras {
		if c.State == "offline" && offline == "" {
			offline = c.Site + "/" + c.ID
		}
	}
	if offline == "" {
		t.Fatalf("no offline camera in %+v", cams.Cameras)
	}

	const note = "交班：site-01 脱卸间问题待整改，一个已逾期"
	step(t, "officer A presses H, writes a note and hands over", func(t *testing.T) {
		visible(t, a, "the shift in the header", `[data-shift]`)
		if err := chromedp.Do(a, chromedp.KeyEvent("H")); err != nil {
			t.Fatal(err)
		}
		visible(t, a, "the handover's suggested checklist", `[data-overlay="handover"] [data-item="overdue"]`)
		jsTrue(t, a, "counts of A's flagged and overdue findings", 10*time.Second,
			`Number(document.querySelector('[data-item="flagged_open"] .count').textContent) >= 2 && Number(document.querySelector('[data-item="overdue"] .count').textContent) >= 1`)
		if err := chromedp.Do(a,
			chromedp.Click(chromedp.CSS(`[data-item="overdue"] input`)),
			chromedp.SendKeys(chromedp.CSS(`textarea[name="handover-note"]`), note),
			chromedp.KeyEvent(kb.Enter, chromedp.KeyModifiers(2)), // Ctrl
			chromedp.WaitNotPresent(chromedp.CSS(`[data-overlay="handover"]`))); err != nil {
			t.Fatalf("handing over: %v", err)
		}
	})

	b := room.open(two)
	step(t, "officer B on console 2 first sees the handover: the note, A's findings, the overdue one and an offline camera", func(t *testing.T) {
		visible(t, b, "the handover screen", `[data-overlay="handover-screen"]`)
		visible(t, b, "A's flagged finding", fmt.Sprintf(`[data-handover-list="flagged"] [data-finding=%q]`, flagged))
		visible(t, b, "the overdue finding", fmt.Sprintf(`[data-handover-list="overdue"] [data-finding=%q]`, overdue))
		visible(t, b, "the offline camera", fmt.Sprintf(`[data-handover-list="cameras"] [data-camera=%q]`, offline))
		text, err := chromedp.Run(b, chromedp.Text(chromedp.CSS(`[data-handover-note]`)))
		if err != nil || !strings.Contains(text, note) {
			t.Fatalf("the note shown: %q, %v", text, err)
		}
		if err := chromedp.Do(b, chromedp.KeyEvent(kb.Escape), chromedp.Sleep(300*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		visible(t, b, "the handover screen after Esc", `[data-overlay="handover-screen"]`)
	})

	step(t, "a finding opens its detail and Esc comes back to the handover", func(t *testing.T) {
		if err := chromedp.Do(b, chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-handover-list="flagged"] [data-finding=%q]`, flagged)))); err != nil {
			t.Fatal(err)
		}
		visible(t, b, "the finding's detail", `[data-overlay="finding"]`)
		if err := chromedp.Do(b, chromedp.KeyEvent(kb.Escape), chromedp.WaitNotPresent(chromedp.CSS(`[data-overlay="finding"]`))); err != nil {
			t.Fatal(err)
		}
		visible(t, b, "the handover screen again", `[data-overlay="handover-screen"] [data-action="handover-confirm"]`)
	})

	step(t, "B confirms with Enter and the relay records both", func(t *testing.T) {
		if err := chromedp.Do(b, chromedp.Focus(chromedp.CSS(`[data-overlay="handover-screen"] [role="dialog"]`)), chromedp.KeyEvent(kb.Enter),
			chromedp.WaitNotPresent(chromedp.CSS(`[data-overlay="handover-screen"]`))); err != nil {
			t.Fatalf("confirming: %v", err)
		}
		// The keys back with the wall, and the toolbar saying so (it went
		// on saying "dialog" once the screen was gone).
		jsTrue(t, b, "the toolbar naming the wall as where the keys are", 10*time.Second,
			`document.querySelector('[data-keys-in]')?.dataset.keysRegion === 'wall'`)
		var view wire.HandoverView
		if status, raw := relayLogin(t, r.URL(), incoming, incomingPassword).do("GET", "/api/v1/handover/current", nil, &view); status != 200 {
			t.Fatalf("the relay's handover: %d %s", status, raw)
		}
		if len(view.Handovers) != 1 {
			t.Fatalf("the relay's handovers: %+v", view.Handovers)
		}
		h := view.Handovers[0]
		if h.By != creds.User || h.Note != note || h.At.IsZero() || len(h.Receipts) != 1 || h.Receipts[0].By != incoming ||
			h.Receipts[0].At.Before(h.At) || !view.Received {
			t.Fatalf("the relay's handover: %+v, received %v", h, view.Received)
		}
		for _, item := range h.Checklist {
			if item.Key == wire.ItemOverdue && !item.Checked {
				t.Fatalf("A's tick of the overdue item was not kept: %+v", h.Checklist)
			}
		}
	})
}
