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

// TestDesktopDutyScreens: the incoming officer's screens in the real
// window (WebKitGTK under Xvfb), zh-CN and English, on a duty room where
// officer A flagged two findings (one overdue, one the site rectified and
// A verified), then handed over with a note while the room's camera went
// offline. Officer B's window opens on the handover screen, which Enter
// confirms (the relay records B's receipt); G shows the coverage panel;
// R and Enter open the newest finding, the verified one, with its whole
// story. With QLY_SCREENSHOT_DIR it keeps handover-, coverage- and
// finding-verified-{zh,en}.png (issues 10 and 11).
func TestDesktopDutyScreens(t *testing.T) {
	inEachLanguage(t, 10*time.Minute, func(t *testing.T, ctx context.Context, lang string) {
		room := startDutyRoom(t, ctx, incomingRoom)
		a := room.duty
		room.fileAtRelay(t, "screens-overdue", "脱卸顺序错误（逾期）", 10*time.Minute, -time.Minute)
		room.fileAtRelay(t, "screens-verified", "脱卸顺序错误", 5*time.Minute, 24*time.Hour)
		photo, err := seededJPEG(11)
		if err != nil {
			t.Fatal(err)
		}
		signInPhone(t, room.relay.URL(), room.creds.Managers[0], room.creds.ManagerPassword).rectify("screens-verified", photo)
		if status, b := a.do("POST", "/api/v1/findings/screens-verified/actions",
			wire.ActionRequest{ActionID: "screens-verify", Action: wire.ActVerify, Note: "回头看：已按顺序脱卸"}, nil); status/100 != 2 {
			t.Fatalf("A verifying: %d %s", status, b)
		}
		if status, b := a.do("POST", "/api/v1/duty/start", struct{}{}, nil); status/100 != 2 {
			t.Fatalf("A on duty: %d %s", status, b)
		}
		const note = "交班：site-01 脱卸间一个问题已逾期，摄像头离线待查"
		if status, b := a.do("POST", "/api/v1/handover", wire.HandoverRequest{ID: "screens-handover", Note: note}, nil); status/100 != 2 {
			t.Fatalf("A handing over: %d %s", status, b)
		}
		// The camera goes offline: the handover lists it, and the
		// window holds still for its screenshots.
		room.sim.Close()

		display := startScreen(t, ctx)
		w := openWindow(t, ctx, &city{relay: room.relay, user: incoming, password: incomingPassword}, display, desktopOptions{lang: lang})
		r := w.geometry().rect()
		body := image.Rect(r.Min.X, r.Min.Y+r.Dy()/10, r.Max.X, r.Max.Y)
		short := strings.TrimSuffix(lang, "-CN")

		// The handover screen dims the window under it: the camera
		// list at the left (white names at 220) goes grey (70). The
		// page loading has no list (its background, under 30); the
		// wall comes first, the screen once the shift is read.
		list := image.Rect(r.Min.X+10, r.Min.Y+130, r.Min.X+190, r.Max.Y-20)
		waitFor(t, "the handover screen over the wall", 2*time.Minute, func() (bool, string) {
			l := brightest(w.shot(), list)
			return l > 45 && l < 128, fmt.Sprintf("the camera list's brightest grey %d", l)
		})
		w.settled("the handover screen drawn and still", body, nil)
		w.keep("handover-" + short + ".png")
		w.press("Return")
		waitFor(t, "B's receipt at the relay", time.Minute, func() (bool, string) {
			var view wire.HandoverView
			relayLogin(t, room.relay.URL(), incoming, incomingPassword).do("GET", "/api/v1/handover/current", nil, &view)
			return len(view.Handovers) == 1 && len(view.Handovers[0].Receipts) == 1 && view.Handovers[0].Receipts[0].By == incoming,
				fmt.Sprintf("%+v", view.Handovers)
		})
		w.settled("the wall after the handover", body, w.last)

		before := w.last
		w.press("g")
		w.settled("the coverage panel", body, before)
		w.keep("coverage-" + short + ".png")

		before = w.last
		w.press("Escape", "r")
		w.settled("the findings panel", body, before)
		before = w.last
		w.press("Return")
		w.settled("the verified finding's detail", body, before)
		w.keep("finding-verified-" + short + ".png")
	})
}

// brightest is the brightest grey level (0–255) in rect, sampled.
func brightest(img image.Image, rect image.Rectangle) int {
	top := 0
	for y := rect.Min.Y; y < rect.Max.Y; y += 2 {
		for x := rect.Min.X; x < rect.Max.X; x += 2 {
			r, g, b, _ := img.At(x, y).RGBA()
			top = max(top, int((r+g+b)/3>>8))
		}
	}
	return top
}
