package relay

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/relay/api/apitest"
	"github.com/qianliyan/qianliyan/relay/hub"
)

type sseEvent struct{ name, data string }

// events opens the relay's event stream and delivers its events; comments
// come as events named ":".
func events(t *testing.T, r *Relay, token string) <-chan sseEvent {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", r.URL()+"/api/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	ch := make(chan sseEvent, 100)
	go func() {
		defer resp.Body.Close()
		defer close(ch)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.name != "" {
					ch <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, ":"):
				ch <- sseEvent{name: ":", data: line}
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.data = strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	return ch
}

// nextEvent returns the next event other than a comment.
func nextEvent(t *testing.T, ch <-chan sseEvent) sseEvent {
	t.Helper()
	deadline := time.After(eventually.Ceiling)
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatal("event stream closed")
			}
			if ev.name != ":" {
				return ev
			}
		case <-deadline:
			t.Fatalf("no event within %v", eventually.Ceiling)
		}
	}
}

// nextCamera returns the next "camera" event's camera.
func nextCamera(t *testing.T, ch <-chan sseEvent) cameraJSON {
	t.Helper()
	for {
		ev := nextEvent(t, ch)
		if ev.name != "camera" {
			continue // a periodic "cameras"
		}
		var c cameraJSON
		if err := json.Unmarshal([]byte(ev.data), &c); err != nil {
			t.Fatalf("camera event %q: %v", ev.data, err)
		}
		return c
	}
}

func siteManagerConfig(t *testing.T, site string) string {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte("mgr-password"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("users:\n  - name: mgr\n    role: site_manager\n    password_hash: %s\n    sites: [%s]\n", hash, site)
}

func TestStreamHealthAndEvents(t *testing.T) {
	clock := newClock()
	r := startRelay(t, Options{Demo: true, Now: clock.Now, ConfigFile: writeConfig(t, siteManagerConfig(t, "site-02"))})
	duty := login(t, r, "duty", r.Demo().Password)
	mgr := login(t, r, "mgr", "mgr-password")

	dutyEvents, mgrEvents := events(t, r, duty), events(t, r, mgr)
	for _, c := range []struct {
		ch   <-chan sseEvent
		want int
	}{{dutyEvents, 12}, {mgrEvents, 4}} {
		ev := nextEvent(t, c.ch)
		var list struct{ Cameras []cameraJSON }
		if err := json.Unmarshal([]byte(ev.data), &list); ev.name != "cameras" || err != nil || len(list.Cameras) != c.want {
			t.Fatalf("first event %s with %d cameras (%v), want cameras with %d", ev.name, len(list.Cameras), err, c.want)
		}
		for _, cam := range list.Cameras {
			if cam.State != "offline" || cam.Online || cam.Streams["main"].State != "offline" || cam.Streams["sub"].State != "offline" {
				t.Fatalf("camera %s/%s before any publisher: %+v", cam.Site, cam.ID, cam)
			}
		}
	}

	// A publisher comes: online.
	p := publish(t, r, "site-01", "doff1", "main")
	c := nextCamera(t, dutyEvents)
	if c.Site != "site-01" || c.ID != "doff1" || c.State != "online" || !c.Online {
		t.Fatalf("camera event %+v, want site-01/doff1 online", c)
	}
	// A GOP and the next keyframe at 15 fps on the relay's clock, each
	// unit in the hub before the clock moves on.
	key := hub.Key{Site: "site-01", Camera: "doff1", Stream: hub.StreamMain}
	for i := 0; i <= testGOP; i++ {
		if i > 0 {
			clock.Advance(time.Second / testFPS)
		}
		p.send(t, testUnits[i])
		waitFor(t, "the unit arrives", func() bool {
			st, _ := r.hub.State(key)
			return st.Frames == uint64(i+1)
		})
	}
	lastFrame := clock.Now()
	// 31 units in 2 s.
	cam := cameras(t, r, duty)[0]
	main := cam.Streams["main"]
	if cam.ID != "doff1" || cam.State != "online" || main.State != "online" || main.Width != 320 || main.Height != 240 ||
		main.FPS == nil || *main.FPS != 15.5 || main.BitrateKbps == nil || *main.BitrateKbps <= 0 ||
		main.KeyframeIntervalMS == nil || *main.KeyframeIntervalMS != 2000 || main.LastFrameAgeMS == nil || *main.LastFrameAgeMS != 0 ||
		main.Viewers == nil || *main.Viewers != 0 || cam.Streams["sub"].State != "offline" {
		b, _ := json.Marshal(cam)
		t.Fatalf("camera health %s", b)
	}

	// No frame for more than 2 s: stalled, since the last frame.
	clock.Advance(2*time.Second + 100*time.Millisecond)
	c = nextCamera(t, dutyEvents)
	if c.ID != "doff1" || c.State != "stalled" || !c.Online || c.Since != lastFrame.UTC().Format(time.RFC3339) {
		t.Fatalf("stall event %+v, want doff1 stalled since %v", c, lastFrame)
	}
	if age := cameras(t, r, duty)[0].Streams["main"].LastFrameAgeMS; age == nil || *age != 2100 {
		t.Fatalf("last frame age %v, want 2100 ms", age)
	}
	p.send(t, testUnits[testGOP+1])
	if c = nextCamera(t, dutyEvents); c.State != "online" {
		t.Fatalf("after a frame: %+v", c)
	}

	// A site manager hears only of their own site: the first camera
	// event they get is site-02's, though site-01's changed before.
	p2 := publish(t, r, "site-02", "gate", "main")
	if c = nextCamera(t, mgrEvents); c.Site != "site-02" || c.ID != "gate" || c.State != "online" {
		t.Fatalf("site manager's first camera event %+v", c)
	}
	if c = nextCamera(t, dutyEvents); c.Site != "site-02" || c.State != "online" {
		t.Fatalf("duty's event for site-02 %+v", c)
	}

	// The publishers leave: offline.
	for _, pub := range []*publisher{p, p2} {
		if resp, b := apitest.Call(t, "DELETE", r.URL()+pub.location, r.Demo().PublishToken, nil, nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("WHIP DELETE: %d %s", resp.StatusCode, b)
		}
	}
	got := map[string]string{}
	for len(got) < 2 {
		c := nextCamera(t, dutyEvents)
		got[c.Site+"/"+c.ID] = c.State
	}
	if got["site-01/doff1"] != "offline" || got["site-02/gate"] != "offline" {
		t.Fatalf("events after the publishers left: %v", got)
	}
}

func TestEventsEndWhenTheRelayStops(t *testing.T) {
	r, err := Start(context.Background(), Options{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Demo: true, Log: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	ch := events(t, r, login(t, r, "duty", r.Demo().Password))
	nextEvent(t, ch)
	start := time.Now()
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Close took %v with an event stream open", d)
	}
	select {
	case _, open := <-ch:
		for open {
			_, open = <-ch
		}
	case <-time.After(eventually.Ceiling):
		t.Fatal("the event stream outlived the relay")
	}
}
