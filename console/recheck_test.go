package console

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/qianliyan/qianliyan/console/clip"
	"github.com/qianliyan/qianliyan/console/relayclient"
	"github.com/qianliyan/qianliyan/console/store"
	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/relay"
	"github.com/qianliyan/qianliyan/relay/relaytest"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// TestFindingsEventsReachTheView: the views hear of a finding reaching the
// relay and of the site's answer from the relay's changes, as a findings
// event naming it, once the console's copy has the change.
func TestFindingsEventsReachTheView(t *testing.T) {
	ctx := context.Background()
	opts := options(t, nil)
	r := relaytest.Start(t, relaytest.Options{})
	creds := r.Demo()
	b, v := signedIn(t, opts, r)
	events := v.events()

	// next waits for a findings event naming id.
	next := func(what, id string) {
		t.Helper()
		for {
			var ev struct{ IDs []string }
			if err := json.Unmarshal(events.next("findings"), &ev); err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			if slices.Contains(ev.IDs, id) {
				return
			}
		}
	}
	at := time.Now().Add(-time.Minute)
	f, err := b.store.Create(ctx, store.Flag{Site: "site-01", Camera: "doff1", Zone: "doffing_room_1",
		DeviationText: "漏做手卫生", Severity: "major", Observer: creds.User, ObservedAt: at, Deadline: at.Add(48 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	next("the finding forwarded", f.ID)
	var got store.Finding
	if status, raw := v.call(http.MethodGet, "/api/v1/findings/"+f.ID, nil, &got); status != http.StatusOK || got.Forward.State != store.ForwardForwarded {
		t.Fatalf("after the event: %d %s", status, raw)
	}

	mgr, err := relayclient.New(r.URL(), relayclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mgr.Login(ctx, relay.DemoManager("site-01"), creds.ManagerPassword); err != nil {
		t.Fatal(err)
	}
	token, err := mgr.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]string{"action_id": "ack-1", "action": "acknowledge", "note": "收到"})
	req, _ := http.NewRequest(http.MethodPost, r.URL()+"/api/v1/findings/"+f.ID+"/actions", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the site's acknowledgement: %d", resp.StatusCode)
	}
	next("the site's acknowledgement", f.ID)
	if status, raw := v.call(http.MethodGet, "/api/v1/findings/"+f.ID, nil, &got); status != http.StatusOK || got.Status != "acknowledged" {
		t.Fatalf("after the event: %d %s", status, raw)
	}
}

// siteActs has a site's manager act on a finding through the relay's API.
func siteActs(t *testing.T, r *relaytest.Relay, id string, acts ...map[string]string) {
	t.Helper()
	mgr, err := relayclient.New(r.URL(), relayclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mgr.Login(context.Background(), relay.DemoManager("site-01"), r.Demo().ManagerPassword); err != nil {
		t.Fatal(err)
	}
	for _, a := range acts {
		if _, err := mgr.Act(context.Background(), id, wire.ActionRequest{ActionID: a["action_id"], Action: wire.Action(a["action"]), Note: a["note"]}); err != nil {
			t.Fatalf("the site's %s: %v", a["action"], err)
		}
	}
}

// onScreen reads the bridge until span of video has come and returns the
// presentation time of the last picture: the frame on screen.
func (v *video) onScreen(span time.Duration) int64 {
	v.t.Helper()
	var first, pts uint64
	pictures := 0
	for pictures == 0 || time.Duration(pts-first)*time.Microsecond < span {
		_ = v.ws.SetReadDeadline(time.Now().Add(within))
		kind, b, err := v.ws.ReadMessage()
		if err != nil {
			v.t.Fatalf("reading the video bridge: %v", err)
		}
		if kind == websocket.BinaryMessage && len(b) >= 9 {
			pts = binary.BigEndian.Uint64(b[1:9])
			if pictures == 0 {
				first = pts
			}
			pictures++
		}
	}
	// Keep reading, as the view does, so the bridge never backs up.
	go func() {
		for {
			if _, _, err := v.ws.ReadMessage(); err != nil {
				return
			}
		}
	}()
	return int64(pts)
}

// TestRecheckClipReachesRelayAfterItReturns: an officer verifies a
// rectified finding on its camera; the relay goes away right after, so
// the clip around the re-check is filed while the relay is down (cut
// short where the video stopped: the relay carries the video too) and
// waits in the outbox; once the relay is back the verify, then the clip,
// reach it: the relay lists recheck_clip-CURSOR of that verify, a
// playable fMP4 from the pre-roll on.
func TestRecheckClipReachesRelayAfterItReturns(t *testing.T) {
	ctx := context.Background()
	r := relaytest.Start(t, doff1)
	opts := options(t, nil)
	opts.ClipBefore, opts.ClipAfter = 2*time.Second, 4*time.Second
	b, v := signedIn(t, opts, r)
	creds := r.Demo()
	pts := v.video("site-01/doff1", "main").onScreen(3 * time.Second)

	at := time.Now().Add(-time.Minute)
	f, err := b.store.Create(ctx, store.Flag{Site: "site-01", Camera: "doff1", Zone: "doffing_room_1",
		DeviationText: "漏做手卫生", Severity: "major", Observer: creds.User, ObservedAt: at, Deadline: at.Add(48 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	eventually.True(t, within, "the finding forwarded", func() bool {
		got, err := b.store.Get(ctx, f.ID)
		return err == nil && got.Forward != nil && got.Forward.State == store.ForwardForwarded
	})
	siteActs(t, r, f.ID, map[string]string{"action_id": "ack-1", "action": "acknowledge", "note": "收到"},
		map[string]string{"action_id": "fix-1", "action": "rectify", "note": "已整改"})
	eventually.True(t, within, "the console told the site rectified it", func() bool {
		got, err := b.store.Get(ctx, f.ID)
		return err == nil && got.Status == "rectified"
	})

	var got store.Finding
	body := map[string]any{"note": "复核无误", "camera": "site-01/doff1", "stream": "main", "pts_us": pts}
	if status, raw := v.call(http.MethodPost, "/api/v1/findings/"+f.ID+"/verify", body, &got); status != http.StatusOK {
		t.Fatalf("verify: %d %s", status, raw)
	}
	if len(got.Rechecks) != 1 || got.Rechecks[0].Clip == nil || got.Rechecks[0].Clip.State != "recording" {
		t.Fatalf("verified: re-checks %+v, want one with its clip recording", got.Rechecks)
	}
	r.Stop(t)

	// The clip is filed with the relay away, and waits for it.
	var filed *store.Evidence
	eventually.True(t, opts.ClipAfter+within, "the re-check's clip filed", func() bool {
		if status, raw := v.call(http.MethodGet, "/api/v1/findings/"+f.ID, nil, &got); status != http.StatusOK {
			t.Fatalf("reading the finding: %d %s", status, raw)
		}
		filed = got.Rechecks[0].Clip
		return filed.State != "recording"
	})
	if filed.File == "" {
		t.Fatalf("the re-check's clip %+v has no video", filed)
	}
	pending := func() int {
		es, err := b.store.Outbox(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range es {
			if e.FindingID == f.ID && e.Kind == store.OutboxRecheckClip {
				n++
			}
		}
		return n
	}
	if n := pending(); n != 1 {
		t.Fatalf("%d re-check clips waiting for the relay, want 1", n)
	}
	t.Logf("re-check clip filed with the relay down: %s, %v, %d bytes", filed.State, filed.Duration, filed.Bytes)

	r.Resume(t)
	duty, err := relayclient.New(r.URL(), relayclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := duty.Login(ctx, creds.User, creds.Password); err != nil {
		t.Fatal(err)
	}
	var rf wire.Finding
	eventually.True(t, within+time.Minute, "the re-check's clip at the relay", func() bool {
		if rf, err = duty.Finding(ctx, f.ID); err != nil {
			return false
		}
		return len(rf.Evidence.RecheckClips) == 1
	})
	var verify int64
	for _, e := range rf.Events {
		if e.Action == string(wire.ActVerify) {
			verify = e.Cursor
		}
	}
	file := rf.Evidence.RecheckClips[0]
	if rf.Status != wire.StatusVerified || file.Name != wire.RecheckClipName(verify) || file.SHA256 != filed.SHA256 || file.ContentType != "video/mp4" {
		t.Fatalf("the relay has %s with the clip %+v, want verified with %s of the console's %s", rf.Status, file, wire.RecheckClipName(verify), filed.SHA256)
	}
	// The relay holds the clip before the console hears its answer and
	// takes the clip off its queue.
	eventually.True(t, within, "the re-check's clip off the console's queue", func() bool { return pending() == 0 })
	data, err := duty.EvidenceFile(ctx, f.ID, file.Name, file.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	info, err := clip.InspectData(data)
	if err != nil || info.Cut != 0 || !info.KeyframeFirst {
		t.Fatalf("the relay's re-check clip: %+v, %v; want whole fragments from a keyframe", info, err)
	}
	frames := info.Frames
	// The pre-roll at 15 fps at least: it was in the buffer when the
	// officer verified.
	if min := int(opts.ClipBefore.Seconds()) * relaytest.FPS; frames < min {
		t.Fatalf("the relay's re-check clip has %d frames, want at least the pre-roll's %d", frames, min)
	}
	t.Log(fmt.Sprintf("the relay's re-check clip: %d frames, %d bytes", frames, len(data)))
}
