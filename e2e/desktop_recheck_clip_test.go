package e2e

import (
	"context"
	"fmt"
	"image"
	"strings"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/relay/wire"
)

// TestDesktopWindowPlaysRecheckClip is issue 10's last check: a re-check
// clip opened in the real window (WebKitGTK under Xvfb), zh-CN and English.
// Officer A's finding, which the site reported rectified, is verified in
// the window by officer B on its camera (r, Enter, v, Enter), so B's console
// records the clip around the verify. B clicks ▶ beside the re-check's
// snapshot in the finding: the clip opens full size with a frame of it
// drawn, plays on Space, and Esc closes it back to the finding, a second
// Esc the finding. The window's <video> could not load the clip from the
// wails:// page; it plays through ClipPlayer (WebCodecs). With
// QLY_SCREENSHOT_DIR it keeps desktop-recheck-clip-{zh,en}.png.
func TestDesktopWindowPlaysRecheckClip(t *testing.T) {
	inEachLanguage(t, 10*time.Minute, func(t *testing.T, ctx context.Context, lang string) {
		room := startDutyRoom(t, ctx, incomingRoom)
		const id = "recheck-clip-window"
		room.fileAtRelay(t, id, "脱卸顺序错误", 5*time.Minute, 24*time.Hour)
		// The site's side through the relay's API: no photo, so that the
		// re-check's snapshot is the one picture in the finding.
		mgr := relayLogin(t, room.relay.URL(), room.creds.Managers[0], room.creds.ManagerPassword)
		for _, a := range []wire.ActionRequest{
			{ActionID: "ack-" + id, Action: wire.ActAcknowledge, Note: "收到"},
			{ActionID: "fix-" + id, Action: wire.ActRectify, Note: "已重新培训脱卸顺序"},
		} {
			if status, b := mgr.do("POST", "/api/v1/findings/"+id+"/actions", a, nil); status/100 != 2 {
				t.Fatalf("the site's %s: %d %s", a.Action, status, b)
			}
		}

		display := startScreen(t, ctx)
		// Clips as long as the finding clip test's: time for several
		// screenshots while it plays on a loaded machine.
		w := openWindow(t, ctx, &city{relay: room.relay, user: incoming, password: incomingPassword}, display,
			desktopOptions{lang: lang, args: []string{"--clip-before", "8s", "--clip-after", "12s"}})
		w.waitPlaying("site-01/doff1 playing on the window's wall", playing{quadrants: 1})
		// The wall plays on beside the panel and under the finding's
		// dimming, so each screen is waited for where it stands still:
		// the panel at the window's right, the finding in its middle
		// (over the live tile, which it hides).
		r := w.geometry().rect()
		body := image.Rect(r.Min.X, r.Min.Y+r.Dy()/10, r.Max.X, r.Max.Y)
		panel := image.Rect(r.Max.X-r.Dx()/4, body.Min.Y, r.Max.X, r.Max.Y)
		middle := image.Rect(r.Min.X+r.Dx()/6, body.Min.Y, r.Max.X-r.Dx()/6, r.Min.Y+r.Dy()*3/4)

		before := w.last
		w.press("r")
		w.settled("the findings panel", panel, before)
		before = w.last
		w.press("Return")
		w.settled("the finding awaiting re-check", middle, before)
		before = w.last
		w.press("v")
		w.settled("the verification's note", middle, before)
		w.press("Return")
		var rf sharedFinding
		waitFor(t, "verified by B at the relay, with the re-check's clip", 2*time.Minute, func() (bool, string) {
			status, raw := room.duty.do("GET", "/api/v1/findings/"+id, nil, &rf)
			return status == 200 && rf.Status == "verified" && len(rf.Evidence.RecheckClips) == 1, string(raw)
		})
		if verifiedBy := lastActor(rf, "verify"); verifiedBy != incoming {
			t.Fatalf("verified by %q, want %s (the window's officer)", verifiedBy, incoming)
		}

		// The re-check's snapshot is the one camera picture in the
		// finding, left in the dialog; ▶ stands right of it, at its top,
		// in the accent colour once the console has the clip (grey
		// "recording" before).
		dialog := image.Rect(r.Min.X+r.Dx()/6, r.Min.Y+r.Dy()/10, r.Min.X+r.Dx()/2, r.Max.Y)
		var snap image.Rectangle
		link := func() image.Rectangle {
			return image.Rect(snap.Max.X+2, snap.Min.Y, snap.Max.X+160, snap.Min.Y+24)
		}
		waitFor(t, "the re-check's snapshot in the finding, ▶ beside it", time.Minute, func() (bool, string) {
			var ok bool
			snap, ok = pictureIn(w.shot(), dialog)
			if !ok {
				return false, fmt.Sprintf("no picture in %v (colour %.3f)", dialog, colourShare(w.last, dialog))
			}
			share := accentShare(w.last, link())
			return share > 0.02, fmt.Sprintf("snapshot at %v, %.3f of %v in the accent colour", snap, share, link())
		})
		l := link()
		w.click(l.Min.X+24, l.Min.Y+l.Dy()/2)

		// Full size the clip is a picture of the camera more than half the
		// window wide, which only it can be: the finding's own evidence
		// is text, and the re-check's snapshot a thumbnail.
		var clip image.Rectangle
		waitFor(t, "a frame of the re-check clip drawn full size", time.Minute, func() (bool, string) {
			var ok bool
			clip, ok = pictureIn(w.shot(), body)
			return ok && clip.Dx() > body.Dx()/2, fmt.Sprintf("largest picture %v", clip)
		})
		w.keep("desktop-recheck-clip-" + strings.TrimSuffix(lang, "-CN") + ".png")
		// The keys are the clip's: Space plays it. Three changes, not
		// necessarily in a row (see TestDesktopWindowPlaysFindingClip).
		inner := clip.Inset(4)
		first := w.last
		w.press("space")
		moving := 0
		waitFor(t, "the re-check clip playing on Space", 90*time.Second, func() (bool, string) {
			prev := w.last
			s := w.shot()
			share := changedShare(prev, s, inner)
			if share > 0.002 && colourShare(s, inner) > 0.25 {
				moving++
			}
			return moving >= 3, fmt.Sprintf("%.4f changed, %d changes", share, moving)
		})
		if changedShare(first, w.last, inner) == 0 {
			t.Fatal("the re-check clip played but shows its first frame again")
		}

		// Esc closes the clip back to the finding, as it was; Esc again
		// closes the finding.
		w.press("Escape")
		waitFor(t, "Esc: the clip closed, back to the finding", time.Minute, func() (bool, string) {
			got, ok := pictureIn(w.shot(), dialog)
			return ok && got == snap, fmt.Sprintf("picture %v (the snapshot was at %v)", got, snap)
		})
		w.press("Escape")
		waitFor(t, "Esc again: the finding closed", time.Minute, func() (bool, string) {
			got, ok := pictureIn(w.shot(), dialog)
			return !ok || got != snap, fmt.Sprintf("picture %v", got)
		})
	})
}

// lastActor is who last took action on a finding at the relay.
func lastActor(f sharedFinding, action string) string {
	actor := ""
	for _, e := range f.Events {
		if e.Action == action {
			actor = e.Actor
		}
	}
	return actor
}

// accentShare is the share of pixels in rect in the view's accent blue
// (#6b9bc3, links): blue well over red, as none of the console's greys are.
func accentShare(img image.Image, rect image.Rectangle) float64 {
	n, total := 0, 0
	for y := rect.Min.Y; y < rect.Max.Y; y++ {
		for x := rect.Min.X; x < rect.Max.X; x++ {
			r, _, b, _ := img.At(x, y).RGBA()
			if b>>8 > 140 && b>>8 > r>>8+50 {
				n++
			}
			total++
		}
	}
	if total == 0 {
		return 0
	}
	return float64(n) / float64(total)
}
